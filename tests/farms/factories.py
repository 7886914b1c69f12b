"""Builders for farms tests: a household, a listing, photos and certificates made through services."""

import io
import itertools
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from farms import services
from farms.models import Farm
from marketplace.accounts.models import Role
from marketplace.geo.models import Ward

_cccd = itertools.count(100001)


def next_cccd() -> str:
    """Return a fresh valid citizen ID: Cần Thơ (092), man born 1985, six serial digits."""
    return f"092085{next(_cccd):06d}"


def jpeg_upload(name="photo.jpg", size=(640, 480), color="green", **save_kwargs) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", **save_kwargs)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def ward(index=0) -> Ward:
    return Ward.objects.order_by("code")[index]


def make_farm(make_user, *, verified=True, official=None, ward_index=0, **fields) -> Farm:
    owner = fields.pop("owner", None) or make_user(Role.FARMER)
    data = {
        "name": "Hộ ông Tư",
        "representative_name": "Nguyễn Văn Tư",
        "phone": owner.phone,
        "ward": ward(ward_index),
        "address": "Ấp Nhơn Lộc 1",
        "area_m2": 5000,
        "main_crops": "măng cụt, chôm chôm",
        "cccd": next_cccd(),
    }
    data.update(fields)
    farm = services.farm_register(owner=owner, **data)
    if verified:
        official = official or make_user(Role.OFFICIAL)
        farm = services.farm_decide(farm=farm, by=official, decision="approve")
    return farm


def make_product(farm, **fields):
    data = {"name": "Măng cụt Phong Điền", "category": 203, "unit": "kg", "price": 48000, "stock": "120"}
    data.update(fields)
    return services.product_create(farm=farm, **data)


def make_certification(farm, *, kind="vietgap", days_left=400, issued_days_ago=300, **fields):
    today = timezone.localdate()
    data = {
        "kind": kind,
        "number": "VG-092-0001",
        "issuer": "Trung tâm Chứng nhận Cần Thơ",
        "issued_on": today - timedelta(days=issued_days_ago),
        "expires_on": today + timedelta(days=days_left),
        "document": jpeg_upload("cert.jpg"),
    }
    data.update(fields)
    return services.certification_create(farm=farm, **data)
