"""Stop storing an uploaded file once it passes UPLOAD_MAX_BYTES.

Django writes a whole multipart body to a temporary file before any view runs (the CSRF
check reads `request.POST`), so a size check in the view comes too late to save the disk.
The middleware puts `CappedUploadHandler` first for every request: past the cap it keeps
only a count of the bytes, and hands on an empty file that still reports the full size,
so the usual validation refuses it with the usual "larger than 10 MB" message.
"""
import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class OversizedUpload(UploadedFile):
    """A file that was too big: no content kept, only its name and size."""

    def __init__(self, name, content_type, size):
        super().__init__(io.BytesIO(b""), name, content_type, size)


class CappedUploadHandler(FileUploadHandler):
    def __init__(self, request=None, max_bytes=None):
        super().__init__(request)
        self.max_bytes = max_bytes if max_bytes is not None else settings.UPLOAD_MAX_BYTES
        self.received = 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            return None  # the handlers after this one see no more of this file
        return raw_data

    def file_complete(self, file_size):
        if self.received > self.max_bytes:
            return OversizedUpload(self.file_name, self.content_type, self.received)
        return None  # small enough: the default handlers keep it


class UploadLimitMiddleware:
    """Install `CappedUploadHandler` before anything reads the request body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.upload_handlers.insert(0, CappedUploadHandler(request))
        return self.get_response(request)
