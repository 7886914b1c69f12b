"""Certificate files leave private storage only through here, after the caller's checks."""
from django.http import FileResponse, Http404


def certification_file_response(certification, *, inline: bool = False) -> FileResponse:
    """Return the certificate's file as a download (or inline), or raise Http404 if it is gone."""
    try:
        handle = certification.document.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    extension = certification.document.name.rsplit(".", 1)[-1].lower()
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=f"certificate-{certification.pk}.{extension}",
        content_type=certification.document_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    # An image opened in the browser can run nothing and load nothing.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
