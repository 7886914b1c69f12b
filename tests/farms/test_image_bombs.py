"""Pictures judged by what decoding them costs (issue #21, item 11).

A small file can claim a picture that takes hundreds of MB to decode while staying under the
pixel cap: a 6300 × 6300 PNG of one colour is ~160 KB. Every upload of a picture (listing photo,
certificate, problem report) is judged by its header before a pixel is decoded, by
UPLOAD_MAX_DECODED_BYTES; the photo task judges the stored file again and decodes it in a process
of its own under a memory limit, so a file that reached storage another way fails that photo,
not the worker.
"""

import functools
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from farms import decode
from farms.images import clean_image
from farms.models import ImageStatus, ProductImage
from farms.tasks import process_product_image
from marketplace.notifications.models import Channel, Notification

from .factories import make_certification, make_farm, make_product

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


def picture(mode, size, color, fmt="PNG", **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, fmt, **save)
    return buffer.getvalue()


@functools.cache
def rgba_bomb() -> bytes:
    return picture("RGBA", (6300, 6300), (0, 128, 0, 255))


@functools.cache
def sixteen_bit_bomb() -> bytes:
    return picture("I;16", (6300, 6300), 1000)


@functools.cache
def webp_bomb() -> bytes:
    return picture("RGB", (6300, 6300), (0, 128, 0), "WEBP")


def media_files(settings) -> list:
    roots = (settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT)
    return [path for root in roots for path in root.rglob("*") if path.is_file()]


@pytest.fixture
def owner_client(make_user, api_as):
    farm = make_farm(make_user)
    product = make_product(farm)
    return api_as(farm.owner), product


@pytest.mark.parametrize("build", [rgba_bomb, sixteen_bit_bomb, webp_bomb])
def test_a_small_file_that_decodes_huge_is_refused_at_upload_and_nothing_is_stored(
    owner_client, settings, build
):
    client, product = owner_client
    data = build()
    assert len(data) < 200 * 1024  # small on the wire
    width, height = Image.open(io.BytesIO(data)).size
    assert width * height < settings.UPLOAD_MAX_PIXELS  # under the pixel cap: only its cost gives it away
    response = client.post(
        f"/api/v1/products/{product.pk}/images/",
        {"image": SimpleUploadedFile("IMG_0001.png", data, content_type="image/png")},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400, response.content[:300]
    (message,) = response.json()["image"]
    assert "too large to process" in message and "6300 × 6300" in message, message
    assert f"at most {settings.UPLOAD_MAX_DECODED_BYTES // MIB} MB" in message
    assert not ProductImage.objects.exists()
    assert media_files(settings) == []


def test_the_photos_page_shows_the_refusal_on_its_form(make_user, settings):
    farm = make_farm(make_user)
    product = make_product(farm)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(farm.owner)
    response = client.post(
        f"/farmer/listings/{product.pk}/photos/",
        {"image": SimpleUploadedFile("IMG_0001.png", rgba_bomb(), content_type="image/png")},
    )
    assert response.status_code == 200
    assert "6300 × 6300" in response.content.decode()
    assert not ProductImage.objects.exists() and media_files(settings) == []


def test_a_certificate_picture_is_judged_the_same(make_user, settings):
    farm = make_farm(make_user)
    with pytest.raises(ValidationError) as refused:
        document = SimpleUploadedFile("cert.png", rgba_bomb(), content_type="image/png")
        make_certification(farm, document=document)
    assert "6300 × 6300" in refused.value.message_dict["document"][0]
    assert media_files(settings) == []


def test_phone_photos_pass_and_the_cost_decides_not_the_file_size(settings):
    # A 12 MP phone photo, baseline or progressive (libjpeg keeps its coefficients too): taken.
    for progressive in (False, True):
        data = picture("RGB", (4000, 3000), "orange", "JPEG", quality=90, progressive=progressive)
        cleaned = clean_image(SimpleUploadedFile("IMG.jpg", data))
        assert (cleaned.width, cleaned.height) == (2560, 1920)
    # A 40 MP camera picture: decoded at half scale (JPEG draft), so it costs ~40 MB and is taken...
    baseline = picture("RGB", (7300, 5470), "orange", "JPEG", quality=90, subsampling=0)
    assert clean_image(SimpleUploadedFile("DSC.jpg", baseline)).width == 2560
    # ...but progressive, libjpeg holds every coefficient at full size (~240 MB): refused.
    progressive = picture("RGB", (7300, 5470), "orange", "JPEG", quality=90, subsampling=0, progressive=True)
    with pytest.raises(ValidationError) as refused:
        clean_image(SimpleUploadedFile("DSC.jpg", progressive))
    assert refused.value.code == "too_costly"


def test_an_animated_png_counts_and_is_decoded_by_its_first_frame(settings):
    frames = [Image.new("RGBA", (2000, 2000), color) for color in ("red", "blue", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(buffer.getvalue())).n_frames == 3
    settings.UPLOAD_MAX_DECODED_BYTES = 20 * MIB  # one frame (16 MB) fits; three would not
    cleaned = clean_image(SimpleUploadedFile("anim.png", buffer.getvalue()))
    stored = Image.open(io.BytesIO(cleaned.content))
    assert getattr(stored, "n_frames", 1) == 1
    assert stored.getpixel((1000, 1000))[0] > 200 and stored.getpixel((1000, 1000))[2] < 50  # red: frame 1


def _planted(product, data: bytes, name="p.jpg") -> ProductImage:
    """A photo whose original reached storage without the upload's check."""
    image = ProductImage(product=product)
    image.original.save(name, ContentFile(data), save=False)
    image.save()
    return image


def test_a_bomb_planted_in_storage_fails_in_the_task_and_the_household_is_told(make_user, settings):
    product = make_product(make_farm(make_user))
    told_before = Notification.objects.filter(user=product.farm.owner).count()
    planted = _planted(product, rgba_bomb())
    process_product_image.delay(planted.pk)  # eager in tests: this very process runs it
    planted.refresh_from_db()
    assert planted.status == ImageStatus.FAILED
    assert not planted.thumb and not planted.display
    notice = Notification.objects.filter(user=product.farm.owner).first()  # the newest
    assert Notification.objects.filter(user=product.farm.owner).count() == told_before + 1
    assert product.name in notice.body and notice.url == f"/farmer/listings/{product.pk}/photos/"
    assert notice.channels == Channel.IN_APP  # no SMS for this
    process_product_image.delay(planted.pk)  # run again: told once
    assert Notification.objects.filter(user=product.farm.owner).count() == told_before + 1

    # A normal photo right after it is processed as usual.
    normal = _planted(product, picture("RGB", (2560, 1920), "green", "JPEG"))
    process_product_image.delay(normal.pk)
    normal.refresh_from_db()
    assert normal.status == ImageStatus.READY
    assert Image.open(normal.display.path).size == (1080, 810)
    assert Image.open(normal.thumb.path).format == "WEBP"


def test_a_planted_file_past_the_byte_cap_is_not_even_read_whole(make_user, settings):
    settings.UPLOAD_MAX_BYTES = 64 * 1024
    product = make_product(make_farm(make_user))
    planted = _planted(product, b"\xff\xd8\xff\xe0" + b"\x00" * (200 * 1024))
    process_product_image.delay(planted.pk)
    planted.refresh_from_db()
    assert planted.status == ImageStatus.FAILED


def test_the_decoding_process_memory_limit_stops_what_the_header_check_lets_through():
    data = rgba_bomb()
    generous = {"sizes": {"thumb": 320}, "max_pixels": 10**9, "max_decoded_bytes": 10**12}
    # The check is told to let it through; the process's address-space limit stops the decode,
    # and this process goes on.
    with pytest.raises(decode.Refused) as stopped:
        decode.sizes_in_subprocess(data, memory_limit=decode.CHILD_BASE_MEMORY, **generous)
    assert stopped.value.code == "too_costly"
    # At that limit a normal photo is made: the picture, not the start of the process, hit it.
    normal = picture("RGB", (2560, 1920), "green", "JPEG", progressive=True)
    made = decode.sizes_in_subprocess(normal, memory_limit=decode.CHILD_BASE_MEMORY, **generous)
    assert made["thumb"][1:] == (320, 240)
    # The same picture with memory enough is made: the limit, nothing else, stopped it.
    made = decode.sizes_in_subprocess(data, memory_limit=1024 * MIB, **generous)
    assert made["thumb"][1:] == (320, 320)
    assert Image.open(io.BytesIO(made["thumb"][0])).format == "WEBP"
