"""Bulk seed of a realistic catalogue for the benchmarks, fast and deterministic.

Rows are written with `bulk_create`, not through the services: the services' checks cost
seconds per household and the benchmark measures reads. The values still keep the rules the
services enforce (units, stock and minimum orders, OCOP stars, certificate dates), and every
random choice comes from `random.Random(seed)`, so every run seeds the same rows. Dates and
times are offsets from the moment of seeding: badges show while unexpired, so a fixed calendar
would age out.
"""

import hashlib
import random
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from farms.demo import PRODUCE
from farms.models import (
    Certification,
    CertificationKind,
    CertificationStatus,
    Farm,
    FarmStatus,
    HarvestLot,
    ImageStatus,
    Product,
    ProductImage,
    ProductStatus,
)
from farms.services.lots import CODE_ALPHABET, CODE_LENGTH
from farms.units import KG_PER_UNIT, Unit
from marketplace.accounts.models import Role, User
from marketplace.geo.models import Ward

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Trương", "Đặng", "Bùi", "Đỗ", "Lâm"]
MIDDLE = ["Văn", "Thị", "Minh", "Thanh", "Hoàng", "Ngọc", "Hữu", "Kim"]
GIVEN = ["Tư", "Năm", "Sáu", "Bảy", "Tám", "Hai", "Ba", "Út", "Hùng", "Lan", "Cúc", "Đức", "Hòa", "Phúc"]
HAMLETS = ["Ấp Nhơn Lộc 1", "Ấp Mỹ Ái", "Ấp Thới Hòa", "Ấp Trường Thọ", "Khu vực 4", "Ấp Tân Lợi"]
GRADES = ["", "", " loại 1", " vườn nhà", " hái trong ngày", " sạch"]
IMAGE_SIZES = [(1080, 810), (1080, 1080), (810, 1080)]
#: Price per kg (or per piece for counted units), đồng, by category family.
PRICES = {1: (18_000, 40_000), 2: (20_000, 85_000), 3: (8_000, 40_000), 4: (20_000, 250_000)}
DEFAULT_PRICE = (15_000, 180_000)


@dataclass
class SeedSize:
    """How many rows the seed wrote (verified households and active listings are what sells)."""

    farmers: int = 0
    households_verified: int = 0
    households_other: int = 0
    listings_active: int = 0
    listings_other: int = 0
    images: int = 0
    certifications_badge: int = 0
    certifications_other: int = 0
    lots: int = 0

    def as_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        return (
            f"{self.households_verified} verified households (+{self.households_other} pending or "
            f"suspended), {self.listings_active} active listings (+{self.listings_other} draft, paused, "
            f"sold out or archived, or of unverified households), {self.images} photos, "
            f"{self.certifications_badge} badge certificates (+{self.certifications_other} expired, "
            f"pending or rejected), {self.lots} harvest lots"
        )


def _moment(now: datetime, rng: random.Random, *, days_back: int) -> datetime:
    """Return a moment in the last `days_back` days; one in five on a whole second."""
    moment = now - timedelta(seconds=rng.randrange(60, days_back * 86400))
    return moment.replace(microsecond=0 if rng.random() < 0.2 else rng.randrange(1, 1_000_000))


def _quantity(rng: random.Random, unit: str, low: int, high: int) -> Decimal:
    if unit in KG_PER_UNIT:  # fractional units: up to 3 places
        return Decimal(rng.randrange(low * 1000, high * 1000, 250)) / 1000
    return Decimal(rng.randrange(low, high))


def _price(rng: random.Random, category: int, unit: str, unit_weight: Decimal | None) -> int:
    low, high = PRICES.get(category // 100, DEFAULT_PRICE)
    per_kg = rng.randrange(low, high, 500)
    weight = KG_PER_UNIT.get(unit) or unit_weight or Decimal(1)
    return int((per_kg * weight) // 500 * 500) or 500


def _name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def seed_catalogue(*, households: int = 200, listings: int = 2000, seed: int = 4) -> SeedSize:
    """Write the catalogue: households with farmers, listings, photos, certificates and lots."""
    rng = random.Random(seed)
    size = SeedSize()
    today = timezone.localdate()
    now = timezone.now()
    wards = list(Ward.objects.order_by("code"))
    produce = sorted(PRODUCE.items())
    unusable = make_password(None)
    others = max(households // 10, 2)  # pending and suspended households: their listings never show

    with transaction.atomic():
        users = [
            User(
                phone=f"+8490{index:07d}",
                full_name=_name(rng),
                role=Role.FARMER,
                password=unusable,
                privacy_consent_at=now,
                privacy_notice_version="2026-01",
            )
            for index in range(households + others)
        ]
        User.objects.bulk_create(users, batch_size=1000)
        size.farmers = len(users)

        farms = []
        for index, user in enumerate(users):
            verified = index < households
            status = (
                FarmStatus.VERIFIED if verified else rng.choice([FarmStatus.PENDING, FarmStatus.SUSPENDED])
            )
            joined = _moment(now, rng, days_back=400)
            digits = f"092085{index:06d}"
            farms.append(
                Farm(
                    owner=user,
                    name=f"Hộ {user.full_name}",
                    representative_name=user.full_name,
                    phone=user.phone,
                    ward=rng.choice(wards),
                    address=rng.choice(HAMLETS),
                    area_m2=rng.randrange(500, 50_000, 100),
                    main_crops=", ".join(rng.sample([item.name for _key, item in produce], 2)),
                    cccd_hash=hashlib.sha256(digits.encode()).hexdigest(),
                    cccd_last4=digits[-4:],
                    status=status,
                    status_changed_at=joined,
                    verified_at=joined if status != FarmStatus.PENDING else None,
                )
            )
        Farm.objects.bulk_create(farms, batch_size=1000)
        verified_farms = farms[:households]
        size.households_verified, size.households_other = households, others

        products, extra = [], max(listings // 10, 1)
        for index in range(listings + extra):
            _key, item = rng.choice(produce)
            active = index < listings
            farm = rng.choice(verified_farms if active or index % 2 else farms[households:])
            unit = item.unit
            if unit == Unit.KG and item.category // 100 == 1 and rng.random() < 0.2:
                unit = rng.choice([Unit.YEN, Unit.TA])  # rice by the yến or tạ
            unit_weight = None if unit in KG_PER_UNIT else Decimal(item.unit_weight_kg or "1")
            harvest = today + timedelta(days=rng.randrange(-40, 20)) if rng.random() < 0.7 else None
            start = harvest if harvest and rng.random() < 0.5 else None
            status = ProductStatus.ACTIVE
            if not active and index % 2:
                status = rng.choice([ProductStatus.DRAFT, ProductStatus.PAUSED, ProductStatus.ARCHIVED])
            products.append(
                Product(
                    farm=farm,
                    name=item.name + rng.choice(GRADES),
                    category_id=item.category,
                    description=item.description,
                    unit=unit,
                    unit_weight_kg=unit_weight,
                    price=_price(rng, item.category, unit, unit_weight),
                    stock=_quantity(rng, unit, 0, 800) if rng.random() < 0.95 else Decimal(0),
                    min_order=Decimal(item.min_order),
                    harvest_date=harvest,
                    available_from=start,
                    available_until=start + timedelta(days=rng.randrange(7, 60)) if start else None,
                    status=status,
                )
            )
        Product.objects.bulk_create(products, batch_size=1000)
        # created_at is auto_now_add: spread the listings over the last months afterwards.
        for product in products:
            product.created_at = _moment(now, rng, days_back=120)
            product.updated_at = min(now, _moment(product.created_at + timedelta(days=3), rng, days_back=3))
        Product.objects.bulk_update(products, ["created_at", "updated_at"], batch_size=1000)
        size.listings_active = listings
        size.listings_other = extra

        images = []
        for product in products:
            folder = product.created_at.strftime("products/%Y/%m/")
            for position in range(rng.randint(1, 3)):
                stem = f"{folder}p{product.pk}-{position + 1}"
                width, height = rng.choice(IMAGE_SIZES)
                images.append(
                    ProductImage(
                        product=product,
                        position=position,
                        original=f"{stem}.jpg",
                        thumb=f"{stem}_thumb.jpg",
                        display=f"{stem}_display.jpg",
                        width=width,
                        height=height,
                        status=ImageStatus.READY,
                    )
                )
        ProductImage.objects.bulk_create(images, batch_size=2000)
        size.images = len(images)

        certifications = []
        for index, farm in enumerate(verified_farms):
            if index % 3:
                continue
            for number in range(rng.randint(1, 2)):
                kind = rng.choice(list(CertificationKind))
                issued = today - timedelta(days=rng.randrange(30, 700))
                certifications.append(
                    Certification(
                        farm=farm,
                        kind=kind,
                        ocop_stars=rng.randint(3, 5) if kind == CertificationKind.OCOP else None,
                        number=f"{kind.upper()[:3]}-092-{index:04d}{number}",
                        issuer="Trung tâm Chứng nhận Cần Thơ",
                        issued_on=issued,
                        expires_on=today + timedelta(days=rng.randrange(10, 900)),
                        document=f"certificates/{issued:%Y/%m}/c{index}-{number}.pdf",
                        document_type="application/pdf",
                        status=CertificationStatus.VERIFIED,
                        decided_at=now,
                    )
                )
        size.certifications_badge = len(certifications)
        for index, farm in enumerate(verified_farms[1::7]):  # badges that must not show
            status = rng.choice([CertificationStatus.PENDING, CertificationStatus.REJECTED])
            expired = index % 2 == 0
            issued = today - timedelta(days=rng.randrange(400, 1200))
            certifications.append(
                Certification(
                    farm=farm,
                    kind=CertificationKind.VIETGAP,
                    number=f"VIE-092-{index:04d}X",
                    issuer="Trung tâm Chứng nhận Cần Thơ",
                    issued_on=issued,
                    expires_on=today - timedelta(days=1) if expired else today + timedelta(days=200),
                    document=f"certificates/{issued:%Y/%m}/x{index}.pdf",
                    document_type="application/pdf",
                    status=CertificationStatus.EXPIRED if expired else status,
                )
            )
        Certification.objects.bulk_create(certifications, batch_size=1000)
        size.certifications_other = len(certifications) - size.certifications_badge

        lots, codes = [], set()
        for product in products:
            if not product.harvest_date or product.harvest_date > today or rng.random() < 0.5:
                continue
            code = "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if code in codes:
                continue
            codes.add(code)
            lots.append(
                HarvestLot(
                    farm_id=product.farm_id,
                    product=product,
                    code=code,
                    harvest_date=product.harvest_date,
                    quantity=product.stock + 100,
                    practices=PRODUCE_PRACTICES.get(product.category_id // 100, ""),
                )
            )
        HarvestLot.objects.bulk_create(lots, batch_size=1000)
        for lot in lots:
            lot.product.lot = lot
        Product.objects.bulk_update([lot.product for lot in lots], ["lot"], batch_size=1000)
        size.lots = len(lots)

    _refresh_search()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # plan both servers' queries on real statistics
    return size


#: A line of farming practices for a lot, by category family.
PRODUCE_PRACTICES = {
    family: next(
        (item.practices for _key, item in sorted(PRODUCE.items()) if item.category // 100 == family), ""
    )
    for family in range(1, 7)
}


def _refresh_search() -> None:
    """Fill the catalogue search columns, when this version of the app has them."""
    try:
        from farms.search import product_search_refresh
    except ImportError:
        return
    product_search_refresh(products=Product.objects.all())
