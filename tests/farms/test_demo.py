"""The demo data: households, listings, photos, certificates and lots, all made through the services.

Loading takes seconds (every photo is cleaned and resized), so the module loads it once, twice in a
row, inside a transaction that is rolled back at the end; each test reads from a savepoint.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from farms.cccd import cccd_clean
from farms.demo import HOUSEHOLDS, PRODUCE, demo_cccd, demo_phones
from farms.demo_photos import DRAWERS, certificate_image, produce_photo
from farms.models import (
    Certification,
    CertificationStatus,
    Farm,
    FarmAction,
    FarmDecision,
    FarmStatus,
    HarvestLot,
    ImageStatus,
    Product,
    ProductImage,
    ProductStatus,
)
from farms.selectors import badge_certifications, farm_verification_queue, products_of, products_public
from farms.units import kg_per_unit, needs_unit_weight
from marketplace.accounts.models import Role, User
from marketplace.accounts.phone import normalize_phone, normalize_phone_or_none
from marketplace.management.commands.load_demo import DEMO_PASSWORD
from marketplace.notifications.models import Notification
from marketplace.reports.demo import GLUT_PRODUCE, history_phone
from marketplace.reports.models import FulfilmentFact, OrderLineFact, RegistrationFact, SalesFact
from marketplace.reports.selectors import Filters, price_drops
from marketplace.text import fold
from orders.models import FarmOrder, LedgerEntry, Order, OrderLine, Payment, Problem, Refund, StatusChange
from orders.services.ledger import farm_orders_settle_missed, settlement_figures
from orders.services.problems import orders_complete_delivered

pytestmark = pytest.mark.django_db

SNAPSHOT_MODELS = (
    User,
    Farm,
    FarmDecision,
    Product,
    ProductImage,
    Certification,
    HarvestLot,
    Notification,
    Order,
    FarmOrder,
    OrderLine,
    StatusChange,
    Payment,
    Refund,
    Problem,
    LedgerEntry,
    SalesFact,
    OrderLineFact,
    FulfilmentFact,
    RegistrationFact,
)


@dataclass
class Loaded:
    output: str
    second_output: str
    before: dict
    after: dict
    media_root: Path
    files_before: int
    files_after: int


def snapshot() -> dict:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in SNAPSHOT_MODELS}


def count_files(root: Path) -> int:
    return sum(1 for path in root.rglob("*") if path.is_file())


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """Run load_demo twice on an empty database; roll everything back after the module."""
    root = tmp_path_factory.mktemp("demo")
    with (
        override_settings(
            MEDIA_ROOT=root / "media",
            PRIVATE_MEDIA_ROOT=root / "private",
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        first, second = StringIO(), StringIO()
        call_command("load_demo", stdout=first)
        before, files_before = snapshot(), count_files(root)
        call_command("load_demo", stdout=second)
        yield Loaded(
            output=first.getvalue(),
            second_output=second.getvalue(),
            before=before,
            after=snapshot(),
            media_root=root / "media",
            files_before=files_before,
            files_after=count_files(root),
        )
        transaction.set_rollback(True)


def demo_farms():
    return Farm.objects.filter(owner__phone__in=demo_phones()).select_related("ward", "owner")


def per_kg(product: Product) -> Decimal:
    return Decimal(product.price) / kg_per_unit(product.unit, product.unit_weight_kg)


def test_demo_has_twenty_verified_households_over_twelve_wards(demo):
    verified = demo_farms().filter(status=FarmStatus.VERIFIED)
    assert verified.count() >= 20
    assert verified.values("ward").distinct().count() >= 12
    # Every ward was found by its name, not by the fallback.
    specs = {household.name: household for household in HOUSEHOLDS}
    for farm in demo_farms():
        assert fold(farm.ward.full_name) == fold(specs[farm.name].ward), farm.name
        assert farm.owner.role == Role.FARMER
        assert farm.owner.check_password(DEMO_PASSWORD)
    assert "verified households" in demo.output


def test_the_demo_farmer_account_has_a_household_with_listings(demo):
    hung = User.objects.get(phone="+84901000002")
    assert hung.farm.status == FarmStatus.VERIFIED
    assert hung.farm.representative_name == "Trần Văn Hùng"
    mine = products_of(user=hung)
    assert mine.count() >= 3
    assert mine.filter(status=ProductStatus.ACTIVE).exists()
    assert mine.filter(status=ProductStatus.DRAFT).exists()
    # Its certificate runs out within 30 days: the household was told.
    soon = hung.farm.certifications.get()
    assert soon.expires_on <= timezone.localdate() + timedelta(days=30)
    assert soon.expiry_notice_sent_at is not None
    assert Notification.objects.filter(user=hung, subject__contains="VietGAP").exists()


def test_demo_citizen_ids_are_valid_and_distinct(demo):
    numbers = [demo_cccd(household) for household in HOUSEHOLDS]
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert cccd_clean(number) == number
        assert number.startswith("092") and number[3] in "01"
    assert len(set(demo_farms().values_list("cccd_hash", flat=True))) == len(HOUSEHOLDS)


def test_demo_listings_have_finished_photos(demo):
    products = Product.objects.filter(farm__in=demo_farms())
    assert products.count() >= 60
    for product in products.prefetch_related("images"):
        images = list(product.images.all())
        assert 1 <= len(images) <= 2, product.name
        for image in images:
            assert image.status == ImageStatus.READY
            assert (image.width, image.height) == (800, 600)
            for field in (image.original, image.thumb, image.display):
                assert (demo.media_root / field.name).is_file()
        if needs_unit_weight(product.unit):
            assert product.unit_weight_kg > 0, product.name
    listings = demo_farms().filter(status=FarmStatus.VERIFIED).annotate(listings=Count("products"))
    assert all(2 <= farm.listings <= 4 for farm in listings)


def test_demo_listings_mix_statuses_and_preorders(demo):
    products = Product.objects.filter(farm__in=demo_farms())
    statuses = set(products.values_list("status", flat=True))
    assert {
        ProductStatus.ACTIVE,
        ProductStatus.PAUSED,
        ProductStatus.SOLD_OUT,
        ProductStatus.DRAFT,
    } <= statuses
    assert products.filter(status=ProductStatus.ACTIVE).count() > products.count() * 0.7
    today = timezone.localdate()
    preorders = products.filter(status=ProductStatus.ACTIVE, available_from__gt=today)
    assert preorders.exists()
    assert all(p.harvest_date > today for p in preorders)
    assert products.filter(harvest_date__lt=today).exists()


def test_every_active_listing_is_in_the_catalogue(demo):
    active = set(Product.objects.filter(status=ProductStatus.ACTIVE).values_list("pk", flat=True))
    assert len(active) >= 50
    assert active <= set(products_public().values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("ST25", 23000, 40000),
        ("Măng cụt Phong Điền", 45000, 50000),
        ("Chôm chôm Thái", 45000, 50000),
        ("Sầu riêng Ri6", 62000, 82000),
        ("Cá tra", 20000, 34000),
        ("Bưởi da xanh", 25000, 35000),
    ],
)
def test_demo_prices_per_kg_are_within_the_documented_ranges(demo, name, low, high):
    products = list(Product.objects.filter(farm__in=demo_farms(), name__contains=name))
    assert len(products) >= 2
    for product in products:
        assert low <= per_kg(product) <= high, (product.name, product.unit, product.price)


def test_demo_prices_are_whole_dong_on_round_numbers(demo):
    for price in Product.objects.filter(farm__in=demo_farms()).values_list("price", flat=True):
        assert price > 0 and price % 500 == 0


def test_demo_certifications_come_in_every_state(demo):
    certifications = Certification.objects.filter(farm__in=demo_farms())
    statuses = set(certifications.values_list("status", flat=True))
    assert statuses == set(CertificationStatus.values)
    assert certifications.values("farm").distinct().count() >= 10
    kinds = set(certifications.values_list("kind", "ocop_stars"))
    assert {("vietgap", None), ("globalgap", None), ("organic", None)} <= kinds
    assert {("ocop", 3), ("ocop", 4), ("ocop", 5)} <= kinds
    official = User.objects.get(phone="+84901000003")
    decided = certifications.exclude(status=CertificationStatus.PENDING)
    assert all(c.decided_by_id == official.pk for c in decided)
    expired = certifications.get(status=CertificationStatus.EXPIRED)
    assert expired not in badge_certifications()
    assert expired.expires_on <= timezone.localdate()
    badges = badge_certifications().filter(farm__in=demo_farms())
    assert badges.count() >= 8
    assert badges.filter(expires_on__lte=timezone.localdate() + timedelta(days=30)).exists()
    assert all(c.document_type == "image/jpeg" for c in certifications)


def test_demo_lots_are_linked_to_their_listings(demo):
    lots = HarvestLot.objects.filter(farm__in=demo_farms()).select_related("product")
    assert lots.count() >= 15
    for lot in lots:
        assert lot.product.lot_id == lot.pk
        assert lot.practices
        assert lot.harvest_date <= timezone.localdate()
        assert lot.quantity > 0


def test_the_official_has_pending_and_rejected_households(demo):
    official = User.objects.get(phone="+84901000003")
    queue = farm_verification_queue(user=official).filter(owner__phone__in=demo_phones())
    assert queue.count() >= 3
    rejected = demo_farms().get(status=FarmStatus.REJECTED)
    decision = rejected.decisions.get(action=FarmAction.REJECTED)
    assert decision.by == official
    assert decision.reason
    assert not Product.objects.filter(farm__status__in=[FarmStatus.PENDING, FarmStatus.REJECTED]).exists()


def test_load_demo_twice_changes_nothing(demo):
    assert demo.after == demo.before
    assert demo.files_after == demo.files_before
    assert "(0 households built now)" in demo.second_output


def test_demo_photos_are_deterministic_jpegs_per_kind():
    for kind in PRODUCE.values():
        assert kind.photo in DRAWERS
    first = produce_photo("mangosteen", "seed")
    assert first.startswith(b"\xff\xd8")
    assert produce_photo("mangosteen", "seed") == first
    assert produce_photo("mangosteen", "other") != first
    assert produce_photo("rice", "seed") != first
    assert len(first) < 120_000
    assert certificate_image("ocop", "seed", stars=4) == certificate_image("ocop", "seed", stars=4)


def test_the_demo_buyer_has_orders_and_the_demo_farmer_one_to_answer(demo):

    lan = User.objects.get(phone="+84901000001")
    orders = Order.objects.filter(buyer=lan)
    assert orders.count() == 2
    assert set(orders.values_list("payment_method", flat=True)) == {"cod"}
    hung = "+84901000002"
    assert FarmOrder.objects.filter(order__buyer=lan, farm__owner__phone=hung, status="new").exists()
    packed = FarmOrder.objects.get(order__buyer=lan, status="ready")
    # The packed part rides today's collection run, given to the demo courier.
    assert packed.shipment.run is not None
    assert packed.shipment.run.courier.phone == normalize_phone("0901000004")
    assert "Demo orders placed for the demo buyer: 2" in demo.output
    assert "Demo orders" not in demo.second_output


# --- The demo sales history (marketplace.reports.demo) ------------------------------------------


def history_orders():
    return Order.objects.filter(buyer__phone__startswith="+84199")


def test_the_demo_history_spans_months_of_orders_across_households_wards_and_categories(demo):
    orders = history_orders()
    assert 4000 <= orders.count() <= 8000
    assert "Demo sales history:" in demo.output
    today = timezone.localdate()
    days = {
        created.astimezone(timezone.get_current_timezone()).date()
        for created in orders.values_list("created_at", flat=True)
    }
    assert max(days) == today - timedelta(days=1)
    assert min(days) <= today - timedelta(days=175)
    assert len({(day.year, day.month) for day in days}) >= 6
    lines = OrderLine.objects.filter(farm_order__order__in=orders)
    assert lines.values("farm_order__farm").distinct().count() >= 20
    assert lines.values("farm_order__farm__ward").distinct().count() >= 12
    assert lines.values("product__category").distinct().count() >= 15
    methods = dict(orders.values_list("payment_method").annotate(n=Count("pk")))
    assert methods["cod"] > methods["vietqr"] > methods["stripe"] > 0
    statuses = dict(FarmOrder.objects.filter(order__in=orders).values_list("status").annotate(n=Count("pk")))
    assert statuses["delivered"] > 0.85 * sum(statuses.values())
    assert {"cancelled", "rejected", "returned"} <= set(statuses)
    # Finished business only: nothing waits for a household, a courier or a payment.
    assert set(statuses) <= {"delivered", "cancelled", "rejected", "returned"}
    assert not orders.filter(status__in=["pending_payment", "confirmed", "processing", "shipped"]).exists()
    assert Problem.objects.filter(farm_order__order__in=orders, status="resolved").exists()
    # Stock was not taken: the listings keep what farms.demo gave them.
    assert demo.before["Product"] == demo.after["Product"]


def test_the_demo_history_buyers_can_never_be_real_accounts(demo):
    buyers = User.objects.filter(phone__startswith="+84199")
    assert 100 <= buyers.count() <= 200
    assert buyers.first().phone == history_phone(1)
    for user in buyers:
        assert normalize_phone_or_none(user.phone) is None  # no sign-up can take the number
        assert not user.has_usable_password()
        assert user.role == Role.BUYER
    assert not buyers.filter(phone__in=demo_phones()).exists()


def test_the_demo_history_is_what_the_services_would_have_left(demo):
    """The periodic sweeps of `make run` find nothing to do, and the ledger follows its rule."""
    assert farm_orders_settle_missed() == 0
    assert orders_complete_delivered() == 0
    orders = history_orders()
    for order in orders.order_by("pk")[:200]:
        assert order.total == order.subtotal + order.delivery_fee
    delivered = FarmOrder.objects.filter(order__in=orders, status="delivered").order_by("pk")
    refunded = FarmOrder.objects.filter(problems__status="resolved")
    for part in list(delivered[:30]) + list(refunded):
        booked = LedgerEntry.objects.filter(farm_order=part).exclude(kind="payout")
        sums = {
            name: sum(getattr(entry, name) for entry in booked)
            for name in ("gross", "commission", "tax", "net")
        }
        assert sums == settlement_figures(part), part.pk
    # Lead times are real: parts are delivered a day or so after the order, some late, some failed once.
    fulfilment = FulfilmentFact.objects.all()
    lead = sum(fulfilment.values_list("lead_seconds", flat=True)) / sum(
        fulfilment.values_list("lead_count", flat=True)
    )
    assert 12 * 3600 < lead < 48 * 3600
    assert sum(fulfilment.values_list("late", flat=True)) > 0
    assert sum(fulfilment.values_list("failed", flat=True)) > 0


def test_the_demo_history_is_rolled_up_with_one_glut(demo):
    today = timezone.localdate()
    facts = SalesFact.objects.all()
    months = {(day.year, day.month) for day in facts.values_list("day", flat=True)}
    assert len(months) >= 6
    assert facts.filter(day__lte=today - timedelta(days=170)).exists()
    assert OrderLineFact.objects.count() == OrderLine.objects.count()
    assert RegistrationFact.objects.filter(day__lt=today - timedelta(days=30), verified__gt=0).exists()
    drops = price_drops(filters=Filters(first=today - timedelta(days=90), last=today), percent=25)
    glut = Product.objects.get(farm__in=demo_farms(), name=PRODUCE[GLUT_PRODUCE].name)
    assert [drop["product"] for drop in drops] == [glut.pk]
    assert drops[0]["change_percent"] < -25
    # The glut ends at today's listing price, and the dearer weeks before stay believable.
    assert abs(drops[0]["now"] - glut.price) < glut.price * 0.05
