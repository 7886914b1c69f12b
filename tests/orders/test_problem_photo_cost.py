"""A problem report's photo is judged by what decoding it costs, as listing photos are (issue #21)."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from orders.models import Problem
from tests.orders.test_problems import delivered_at, lines_of, order, report  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def test_a_small_png_that_decodes_huge_is_refused_with_a_field_message(order, settings):  # noqa: F811
    buffer = io.BytesIO()
    Image.new("RGBA", (6300, 6300), (120, 60, 0, 255)).save(buffer, "PNG")
    assert len(buffer.getvalue()) < 200 * 1024
    first, _second = lines_of(order)
    with pytest.raises(ValidationError) as refused:
        report(order, first, photo=SimpleUploadedFile("dap.png", buffer.getvalue(), content_type="image/png"))
    (message,) = refused.value.message_dict["photo"]
    assert "6300 × 6300" in message
    assert not Problem.objects.exists()
    assert not any(path.is_file() for path in settings.PRIVATE_MEDIA_ROOT.rglob("*"))
