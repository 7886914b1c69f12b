"""An upload past UPLOAD_MAX_BYTES is counted, not stored."""
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import RequestFactory

from marketplace.uploads import OversizedUpload, UploadLimitMiddleware


def _files_seen(settings, size: int):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    request = RequestFactory().post(
        "/anywhere/", {"note": "xin chào", "image": SimpleUploadedFile("big.jpg", b"\xff" * size)}
    )
    seen = {}

    def view(req):
        seen["files"], seen["post"] = req.FILES, req.POST
        return HttpResponse()

    UploadLimitMiddleware(view)(request)
    return seen


def test_a_file_over_the_cap_arrives_empty_with_its_real_size(settings):
    seen = _files_seen(settings, 3 * 1024 * 1024 + 5)
    upload = seen["files"]["image"]
    assert isinstance(upload, OversizedUpload)
    assert upload.size == 3 * 1024 * 1024 + 5
    assert upload.read() == b""
    assert seen["post"]["note"] == "xin chào"  # the other fields still arrive


def test_a_file_under_the_cap_is_kept_whole(settings):
    seen = _files_seen(settings, 1000)
    upload = seen["files"]["image"]
    assert not isinstance(upload, OversizedUpload)
    assert upload.read() == b"\xff" * 1000
