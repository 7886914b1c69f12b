"""Certificate files leave private storage only through here, after the caller's checks."""
from django.http import FileResponse

from marketplace.storage import private_file_response


def certification_file_response(certification, *, inline: bool = False) -> FileResponse:
    """Return the certificate's file as a download (or inline), or raise Http404 if it is gone."""
    extension = certification.document.name.rsplit(".", 1)[-1].lower()
    return private_file_response(
        certification.document,
        filename=f"certificate-{certification.pk}.{extension}",
        content_type=certification.document_type or "application/octet-stream",
        inline=inline,
    )
