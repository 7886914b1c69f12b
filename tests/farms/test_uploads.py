"""Upload rules for listing photos and certificates: judged by content, capped, cleaned of metadata."""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from farms import services
from farms.models import ImageStatus, ProductImage
from marketplace.accounts.models import Role

from .factories import jpeg_upload, make_certification, make_farm, make_product

pytestmark = pytest.mark.django_db


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def decompression_bomb() -> bytes:
    """Return a 300-byte PNG that claims 60000 × 60000 pixels (3.6 gigapixels) of zeros."""
    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0)
    row = b"\x00" * (60000 + 1)
    data = zlib.compress(row * 4, 9)  # a few rows are enough: the header is what bombs
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def big_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_with_gps(size=(400, 200), orientation=6) -> bytes:
    image = Image.new("RGB", size, "orange")
    exif = image.getexif()
    exif[ExifTags.Base.Make] = "CheapPhone"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (10.0, 2.0, 8.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (105.0, 46.0, 51.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, comment=b"secret farm spot")
    return buffer.getvalue()


@pytest.fixture
def owner_client(make_user, api_as):
    farm = make_farm(make_user)
    product = make_product(farm)
    return api_as(farm.owner), product


def _upload(client, product, name, content, content_type="image/jpeg"):
    return client.post(
        f"/api/v1/products/{product.pk}/images/",
        {"image": SimpleUploadedFile(name, content, content_type=content_type)},
        format="multipart",
    )


@pytest.mark.parametrize(
    ("name", "build", "words"),
    [
        ("bomb.png", decompression_bomb, "megapixels"),
        ("notes.jpg", lambda: "Đây là một tệp văn bản, không phải ảnh.\n".encode() * 50, "JPEG, PNG or WebP"),
        ("huge.jpg", lambda: b"\xff\xd8\xff\xe0" + b"\x00" * (30 * 1024 * 1024), "10 MB"),
        ("wide.png", lambda: big_png(8200, 5000), "41.0 megapixels"),
    ],
)
def test_bad_uploads_are_refused_with_a_clear_message(owner_client, name, build, words):
    client, product = owner_client
    response = client.post(
        f"/api/v1/products/{product.pk}/images/",
        {"image": SimpleUploadedFile(name, build(), content_type="image/jpeg")},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400, response.content[:300]
    messages = response.json()["image"]
    assert any(words in message for message in messages), messages
    assert not ProductImage.objects.exists()


def test_bad_upload_message_is_vietnamese_by_default(owner_client):
    client, product = owner_client
    response = _upload(client, product, "notes.jpg", b"hello, not an image")
    assert response.status_code == 400
    assert "không phải" in response.json()["image"][0]


def test_gps_exif_is_accepted_and_no_stored_size_keeps_metadata(
    owner_client, django_capture_on_commit_callbacks
):
    client, product = owner_client
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, product, "IMG_2041.JPG", original)
    assert response.status_code == 201, response.content
    image = ProductImage.objects.get()
    assert image.status == ImageStatus.READY
    stored = [image.original, image.thumb, image.display]
    assert all(stored)
    for field in stored:
        with field.open("rb") as handle:
            data = handle.read()
        picture = Image.open(io.BytesIO(data))
        assert dict(picture.getexif()) == {}, field.name
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(picture.info), (
            field.name,
            picture.info.keys(),
        )
        assert b"Exif" not in data and b"CheapPhone" not in data and b"secret farm spot" not in data
        # Orientation 6 was applied to the pixels: the 400 × 200 photo now stands upright.
        assert picture.height > picture.width, field.name


def test_png_and_webp_are_accepted_and_sizes_are_webp(owner_client, django_capture_on_commit_callbacks):
    client, product = owner_client
    for fmt, name in (("PNG", "a.png"), ("WEBP", "b.webp")):
        buffer = io.BytesIO()
        Image.new("RGBA", (1600, 1200), (0, 128, 0, 128)).save(buffer, fmt)
        with django_capture_on_commit_callbacks(execute=True):
            response = _upload(client, product, name, buffer.getvalue(), f"image/{fmt.lower()}")
        assert response.status_code == 201, response.content
    for image in ProductImage.objects.all():
        assert Image.open(image.original.path).format == "JPEG"
        thumb, display = Image.open(image.thumb.path), Image.open(image.display.path)
        assert (thumb.format, display.format) == ("WEBP", "WEBP")
        assert max(thumb.size) == 320 and max(display.size) == 1080


def test_a_ninth_photo_is_refused(make_user):
    product = make_product(make_farm(make_user))
    for index in range(8):
        services.product_image_add(product=product, upload=jpeg_upload(f"{index}.jpg"))
    from marketplace.errors import Conflict

    with pytest.raises(Conflict) as refused:
        services.product_image_add(product=product, upload=jpeg_upload("9.jpg"))
    assert refused.value.code == "too_many_images"
    assert product.images.count() == 8


def test_certificate_accepts_pdf_and_images_and_refuses_the_rest(make_user):
    farm = make_farm(make_user)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    cert = make_certification(
        farm, document=SimpleUploadedFile("cert.pdf", pdf, content_type="application/pdf")
    )
    assert cert.document_type == "application/pdf"
    with cert.document.open("rb") as handle:
        assert handle.read() == pdf
    photo = make_certification(farm, document=SimpleUploadedFile("c.jpg", jpeg_with_gps()))
    assert photo.document_type == "image/jpeg"
    with photo.document.open("rb") as handle:
        assert b"Exif" not in handle.read()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        make_certification(farm, document=SimpleUploadedFile("c.pdf", b"<html>not a pdf</html>"))
    assert "document" in refused.value.message_dict
    with pytest.raises(ValidationError):
        make_certification(farm, document=SimpleUploadedFile("c.png", decompression_bomb()))


def test_certificates_are_kept_outside_public_media(make_user, settings):
    cert = make_certification(make_farm(make_user))
    assert str(settings.PRIVATE_MEDIA_ROOT) in cert.document.path
    assert str(settings.MEDIA_ROOT) not in cert.document.path
    with pytest.raises(ValueError):
        cert.document.url  # noqa: B018


def test_only_the_owner_uploads(make_user, api_as):
    product = make_product(make_farm(make_user))
    other = make_farm(make_user)
    response = _upload(api_as(other.owner), product, "a.jpg", jpeg_upload().read())
    assert response.status_code == 404
    response = _upload(api_as(make_user(Role.BUYER)), product, "a.jpg", jpeg_upload().read())
    assert response.status_code == 403
    assert not ProductImage.objects.exists()
