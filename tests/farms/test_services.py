"""Rules of farms services: verification audit trail, publishing, suspension, certificate expiry."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from farms import services
from farms.models import (
    CertificationStatus,
    Farm,
    FarmAction,
    FarmStatus,
    ProductStatus,
)
from farms.selectors import (
    badge_certifications,
    farm_verification_queue,
    farms_for_official,
    products_public,
)
from farms.tasks import expire_certifications
from marketplace.accounts.models import Role
from marketplace.accounts.services import user_anonymise
from marketplace.errors import Conflict
from marketplace.notifications.models import Notification

from .factories import make_certification, make_farm, make_product, next_cccd, ward

pytestmark = pytest.mark.django_db
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def _today():
    from django.utils import timezone

    return timezone.localdate()


def test_verification_audit_trail_records_who_when_what_why(
    make_user, sms_outbox, django_capture_on_commit_callbacks
):
    official = make_user(Role.OFFICIAL, full_name="Lê Minh Tâm")
    farm = make_farm(make_user, verified=False)
    with pytest.raises(ValidationError) as missing_reason:
        services.farm_decide(farm=farm, by=official, decision="reject")
    assert "reason" in missing_reason.value.message_dict

    with django_capture_on_commit_callbacks(execute=True):
        services.farm_decide(farm=farm, by=official, decision="reject", reason="Ảnh CCCD mờ")
        services.farm_resubmit(farm=farm, by=farm.owner)
        services.farm_decide(farm=farm, by=official, decision="approve")
        services.farm_suspend(farm=farm, by=official, reason="Bán hàng không đúng mô tả")
        farm = services.farm_reinstate(farm=farm, by=official, reason="Đã khắc phục")

    trail = list(
        farm.decisions.order_by("at", "id").values_list("action", "from_status", "to_status", "by", "reason")
    )
    assert trail == [
        (FarmAction.SUBMITTED, "", FarmStatus.PENDING, farm.owner_id, ""),
        (FarmAction.REJECTED, FarmStatus.PENDING, FarmStatus.REJECTED, official.pk, "Ảnh CCCD mờ"),
        (FarmAction.RESUBMITTED, FarmStatus.REJECTED, FarmStatus.PENDING, farm.owner_id, ""),
        (FarmAction.APPROVED, FarmStatus.PENDING, FarmStatus.VERIFIED, official.pk, ""),
        (
            FarmAction.SUSPENDED,
            FarmStatus.VERIFIED,
            FarmStatus.SUSPENDED,
            official.pk,
            "Bán hàng không đúng mô tả",
        ),
        (FarmAction.REINSTATED, FarmStatus.SUSPENDED, FarmStatus.VERIFIED, official.pk, "Đã khắc phục"),
    ]
    assert farm.status == FarmStatus.VERIFIED and farm.verified_at is not None
    assert all(decision.at is not None for decision in farm.decisions.all())

    # The household is told of each official decision, in the app and by SMS, with the reason.
    notes = list(Notification.objects.filter(user=farm.owner).order_by("id").values_list("body", flat=True))
    assert len(notes) == 4
    assert "Ảnh CCCD mờ" in notes[0] and "Bán hàng không đúng mô tả" in notes[2]
    assert [m["to"] for m in sms_outbox.messages()] == [farm.owner.phone] * 4


def test_decisions_only_follow_the_state_machine(make_user):
    official = make_user(Role.OFFICIAL)
    farm = make_farm(make_user, verified=False)
    with pytest.raises(Conflict) as not_verified:
        services.farm_suspend(farm=farm, by=official, reason="x")
    assert not_verified.value.code == "invalid_status"
    services.farm_decide(farm=farm, by=official, decision="approve")
    with pytest.raises(Conflict):
        services.farm_decide(farm=farm, by=official, decision="approve")
    with pytest.raises(Conflict):
        services.farm_resubmit(farm=farm, by=farm.owner)
    with pytest.raises(ValidationError):
        services.farm_decide(farm=farm, by=official, decision="maybe")
    assert Farm.objects.get(pk=farm.pk).decisions.count() == 2


def test_an_unverified_household_cannot_publish(make_user):
    farm = make_farm(make_user, verified=False)
    draft = make_product(farm)
    assert draft.status == ProductStatus.DRAFT
    with pytest.raises(Conflict) as refused:
        services.product_update(product=draft, status=ProductStatus.ACTIVE)
    assert refused.value.code == "farm_not_verified"
    with pytest.raises(Conflict):
        make_product(farm, status=ProductStatus.ACTIVE)
    draft.refresh_from_db()
    assert draft.status == ProductStatus.DRAFT
    assert not products_public().exists()


def test_suspension_removes_listings_from_the_catalogue_at_once(make_user):
    official = make_user(Role.OFFICIAL)
    farm = make_farm(make_user, official=official)
    kept = make_product(make_farm(make_user), name="Gạo ST25", category=101, status="active")
    product = make_product(farm, status="active")
    assert set(products_public()) == {kept, product}

    services.farm_suspend(farm=farm, by=official, reason="Kiểm tra chất lượng")
    assert list(products_public()) == [kept]
    product.refresh_from_db()
    assert product.status == ProductStatus.ACTIVE  # the listing itself is untouched, only hidden

    services.farm_reinstate(farm=farm, by=official)
    assert set(products_public()) == {kept, product}


def test_changing_identity_sends_a_verified_household_back_to_review(make_user):
    farm = make_farm(make_user)
    make_product(farm, status="active")
    farm = services.farm_update(farm=farm, by=farm.owner, area_m2=8000, main_crops="sầu riêng")
    assert farm.status == FarmStatus.VERIFIED
    farm = services.farm_update(farm=farm, by=farm.owner, name="Vườn Út Hiền")
    assert farm.status == FarmStatus.PENDING
    assert farm.decisions.first().action == FarmAction.IDENTITY_CHANGED
    assert not products_public().exists()


def test_one_household_per_account_and_one_household_per_cccd(make_user):
    farm = make_farm(make_user)
    with pytest.raises(Conflict) as second:
        make_farm(make_user, owner=farm.owner)
    assert second.value.code == "farm_exists"
    cccd = next_cccd()
    make_farm(make_user, cccd=cccd)
    with pytest.raises(Conflict) as duplicate:
        make_farm(make_user, cccd=cccd)
    assert duplicate.value.code == "cccd_in_use"
    assert duplicate.value.extra == {"field": "cccd"}


def test_only_farmer_accounts_register_households(make_user):
    with pytest.raises(ValidationError):
        make_farm(make_user, owner=make_user(Role.BUYER), verified=False)


def test_officials_see_only_households_of_their_wards(make_user):
    here, there = ward(0), ward(1)
    local = make_user(Role.OFFICIAL, city_wide=False, wards=[here])
    near = make_farm(make_user, verified=False, ward_index=0)
    far = make_farm(make_user, verified=False, ward_index=1)
    assert list(farm_verification_queue(user=local)) == [near]
    assert set(farms_for_official(user=make_user(Role.OFFICIAL))) == {near, far}
    assert list(farms_for_official(user=make_user(Role.BUYER))) == []
    assert there not in local.wards.all()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"unit": "trai"}, "unit_weight_kg"),
        ({"unit": "trai", "unit_weight_kg": "1.5", "stock": "2.5"}, "stock"),
        ({"unit": "kg", "min_order": "0.0005"}, "min_order"),
        ({"price": 0}, "price"),
        ({"stock": "-1"}, "stock"),
        ({"category": 999999}, "category"),
        ({"available_from": "2026-12-10", "available_until": "2026-12-01"}, "available_until"),
    ],
)
def test_listing_rules_name_the_field(make_user, fields, field):
    farm = make_farm(make_user)
    if "available_from" in fields:
        from datetime import date

        fields = {k: date.fromisoformat(v) for k, v in fields.items()}
    with pytest.raises(ValidationError) as refused:
        make_product(farm, **fields)
    assert field in refused.value.message_dict


def test_counted_units_take_whole_numbers_and_weights_convert(make_user):
    farm = make_farm(make_user)
    pomelo = make_product(
        farm, name="Bưởi da xanh", category=202, unit="trai", unit_weight_kg="1.6", stock="40"
    )
    pomelo.refresh_from_db()
    assert pomelo.unit_weight_kg == Decimal("1.6")
    rice = make_product(farm, name="Gạo ST25", category=101, unit="kg", stock="12.5", min_order="0.5")
    rice.refresh_from_db()
    assert (rice.stock, rice.min_order) == (Decimal("12.5"), Decimal("0.5"))


def test_no_stock_publishes_as_sold_out_and_restock_puts_it_back_on_sale(make_user):
    farm = make_farm(make_user)
    product = make_product(farm, stock="0", status="active")
    assert product.status == ProductStatus.SOLD_OUT
    product = services.product_update(product=product, stock="30")
    assert product.status == ProductStatus.ACTIVE
    product = services.product_update(product=product, price=52000)
    assert product.price == 52000 and product.status == ProductStatus.ACTIVE


def test_archive_keeps_the_row_and_hides_it(make_user):
    product = make_product(make_farm(make_user), status="active")
    services.product_archive(product=product)
    product.refresh_from_db()
    assert product.status == ProductStatus.ARCHIVED
    assert not products_public().exists()


def _at(day, hour=8):
    return datetime(day.year, day.month, day.day, hour, tzinfo=HCM)


def test_certificate_badge_expiry_and_30_day_notice_with_frozen_time(
    make_user, sms_outbox, django_capture_on_commit_callbacks
):
    official = make_user(Role.OFFICIAL)
    start = datetime(2026, 3, 1, 9, tzinfo=HCM)
    with time_machine.travel(start, tick=False):
        farm = make_farm(make_user, official=official)
        cert = make_certification(farm, kind="ocop", ocop_stars=4, number="OCOP-4-77", days_left=45)
        assert list(badge_certifications()) == []  # pending: no badge yet
        services.certification_decide(certification=cert, by=official, decision="approve")
        assert list(badge_certifications()) == [cert]
        assert expire_certifications.delay().get() == {"expired": 0, "warned": 0}

    expires_on = cert.expires_on
    notice_day = expires_on - timedelta(days=30)
    with time_machine.travel(_at(notice_day - timedelta(days=1)), tick=False):
        assert services.certifications_expire() == {"expired": 0, "warned": 0}
    with time_machine.travel(_at(notice_day), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert services.certifications_expire() == {"expired": 0, "warned": 1}
        assert services.certifications_expire() == {"expired": 0, "warned": 0}  # told once
        warning = Notification.objects.filter(user=farm.owner).latest("id")
        assert "OCOP 4★" in warning.subject and "OCOP-4-77" in warning.body
    with time_machine.travel(_at(expires_on, hour=23), tick=False):
        assert list(badge_certifications()) == [cert]  # valid through its last day
        assert services.certifications_expire() == {"expired": 0, "warned": 0}
    with time_machine.travel(_at(expires_on + timedelta(days=1), hour=0), tick=False):
        # The badge goes at midnight, even before the daily task runs.
        assert list(badge_certifications()) == []
        assert services.certifications_expire() == {"expired": 1, "warned": 0}
        assert services.certifications_expire() == {"expired": 0, "warned": 0}
    cert.refresh_from_db()
    assert cert.status == CertificationStatus.EXPIRED
    subjects = list(Notification.objects.filter(user=farm.owner).values_list("subject", flat=True))
    assert sum("OCOP 4★" in s for s in subjects) == 3  # verified, expires soon, expired
    # The 30-day notice went out by SMS too, once.
    assert [m["body"].count("OCOP-4-77") for m in sms_outbox.messages()] == [1]


def test_expired_or_decided_certificates_cannot_be_verified(make_user):
    official = make_user(Role.OFFICIAL)
    farm = make_farm(make_user, official=official)
    old = make_certification(farm, issued_days_ago=900, days_left=-5)
    with pytest.raises(Conflict) as expired:
        services.certification_decide(certification=old, by=official, decision="approve")
    assert expired.value.code == "certificate_expired"
    cert = make_certification(farm)
    with pytest.raises(ValidationError):
        services.certification_decide(certification=cert, by=official, decision="reject")
    services.certification_decide(certification=cert, by=official, decision="reject", reason="Số không khớp")
    with pytest.raises(Conflict):
        services.certification_decide(certification=cert, by=official, decision="approve")


def test_ocop_needs_three_to_five_stars(make_user):
    farm = make_farm(make_user)
    with pytest.raises(ValidationError) as refused:
        make_certification(farm, kind="ocop", ocop_stars=6)
    assert "ocop_stars" in refused.value.message_dict
    assert make_certification(farm, kind="vietgap", ocop_stars=4).ocop_stars is None


def test_lots_get_unique_readable_codes_and_only_own_products(make_user):
    farm = make_farm(make_user)
    product = make_product(farm)
    other = make_product(make_farm(make_user))
    codes = {
        services.lot_create(
            farm=farm, product=product, harvest_date=product.created_at.date(), quantity="50"
        ).code
        for _ in range(20)
    }
    assert len(codes) == 20
    assert all(len(code) == 8 and not set(code) & set("01ILO") for code in codes)
    with pytest.raises(ValidationError) as refused:
        services.lot_create(farm=farm, product=other, harvest_date=product.created_at.date(), quantity="5")
    assert "product" in refused.value.message_dict


def test_deleting_the_farmer_account_stops_sales_and_wipes_the_household(make_user):
    farm = make_farm(make_user)
    make_product(farm, status="active")
    user_anonymise(user=farm.owner)
    farm.refresh_from_db()
    assert farm.status == FarmStatus.SUSPENDED
    assert (farm.representative_name, farm.phone, farm.address, farm.cccd_hash, farm.cccd_last4) == ("",) * 5
    assert not products_public().exists()
    assert farm.products.get().status == ProductStatus.ARCHIVED
    assert farm.decisions.first().action == FarmAction.ACCOUNT_DELETED


def test_an_unknown_ward_is_a_field_error(make_user):
    with pytest.raises(ValidationError) as refused:
        make_farm(make_user, ward="99999", verified=False)
    assert "ward" in refused.value.message_dict
    farm = make_farm(make_user, ward=ward(2).code, verified=False)
    assert farm.ward == ward(2)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"stock": "1e20"}, "stock"),
        ({"stock": "1e999999"}, "stock"),
        ({"min_order": "1000000000"}, "min_order"),
        ({"unit": "trai", "unit_weight_kg": "100000"}, "unit_weight_kg"),
        ({"price": 10**12}, "price"),
        ({"price": "48000"}, "price"),  # the front ends parse; a string is a caller's bug, not a 500
        ({"name": "Măng cụt " * 20}, "name"),
    ],
)
def test_numbers_and_text_beyond_the_columns_are_field_errors(make_user, fields, field):
    with pytest.raises(ValidationError) as refused:
        make_product(make_farm(make_user), **fields)
    assert field in refused.value.message_dict


def test_household_fields_beyond_the_columns_are_field_errors(make_user):
    with pytest.raises(ValidationError) as refused:
        make_farm(make_user, area_m2=10**12, name="Hộ " * 100, verified=False)
    assert {"area_m2", "name"} <= set(refused.value.message_dict)


def test_lot_quantity_beyond_the_column_is_a_field_error(make_user):
    product = make_product(make_farm(make_user))
    with pytest.raises(ValidationError) as refused:
        services.lot_create(farm=product.farm, product=product, harvest_date=_today(), quantity="1e999999")
    assert "quantity" in refused.value.message_dict


def test_a_suspended_household_cannot_change_its_identity(make_user):
    official = make_user(Role.OFFICIAL)
    farm = make_farm(make_user, official=official)
    services.farm_suspend(farm=farm, by=official, reason="Kiểm tra")
    with pytest.raises(Conflict):
        services.farm_update(farm=farm, by=farm.owner, ward=ward(3))
    with pytest.raises(Conflict):
        services.farm_update(farm=farm, by=farm.owner, cccd=next_cccd())
    farm.refresh_from_db()
    assert farm.ward == ward(0) and farm.status == FarmStatus.SUSPENDED
    assert services.farm_update(farm=farm, by=farm.owner, area_m2=7000).area_m2 == 7000


def test_identity_changes_while_pending_are_recorded(make_user):
    farm = make_farm(make_user, verified=False)
    services.farm_update(farm=farm, by=farm.owner, representative_name="Nguyễn Thị Hai")
    latest = farm.decisions.first()
    assert (latest.action, latest.from_status, latest.to_status) == (
        FarmAction.IDENTITY_CHANGED,
        FarmStatus.PENDING,
        FarmStatus.PENDING,
    )


def test_restocking_cannot_publish_for_an_unverified_household(make_user):
    official = make_user(Role.OFFICIAL)
    farm = make_farm(make_user, verified=False)
    with pytest.raises(Conflict):
        make_product(farm, stock="0", status="sold_out")
    product = make_product(farm, stock="0")
    services.farm_decide(farm=farm, by=official, decision="approve")
    product = services.product_update(product=product, status="active")
    assert product.status == ProductStatus.SOLD_OUT
    services.farm_update(farm=farm, by=farm.owner, name="Tên mới")  # back to review
    product = services.product_update(product=product, stock="10")
    assert product.status == ProductStatus.SOLD_OUT  # not re-published while pending


def test_moving_a_lot_clears_the_old_listing(make_user):
    farm = make_farm(make_user)
    first, second = make_product(farm), make_product(farm, name="Chôm chôm")
    lot = services.lot_create(farm=farm, product=first, harvest_date=_today(), quantity="10")
    services.product_update(product=first, lot=lot.pk)
    services.lot_update(lot=lot, product=second)
    first.refresh_from_db()
    assert first.lot is None


def test_trace_pages_vouch_only_for_households_that_sell(make_user):
    from farms.selectors import lot_for_trace

    official = make_user(Role.OFFICIAL)
    farm = make_farm(make_user, official=official)
    lot = services.lot_create(farm=farm, product=make_product(farm), harvest_date=_today(), quantity="10")
    assert lot_for_trace(code=lot.code.lower()) == lot
    services.farm_suspend(farm=farm, by=official, reason="Kiểm tra")
    assert lot_for_trace(code=lot.code) is None


def test_an_undecodable_photo_is_marked_failed(make_user):
    from django.core.files.base import ContentFile

    from farms.models import ImageStatus, ProductImage

    product = make_product(make_farm(make_user))
    image = ProductImage(product=product)
    image.original.save("broken.jpg", ContentFile(b"\xff\xd8 not really a jpeg"), save=False)
    image.save()
    services.product_image_process(image=image)
    image.refresh_from_db()
    assert image.status == ImageStatus.FAILED


def test_the_database_refuses_a_second_household_with_one_cccd(make_user):
    from django.db import IntegrityError, transaction

    first = make_farm(make_user)
    other = make_user(Role.FARMER)
    with pytest.raises(IntegrityError), transaction.atomic():
        Farm.objects.create(
            owner=other,
            name="x",
            representative_name="x",
            phone=other.phone,
            ward=first.ward,
            address="x",
            area_m2=1,
            main_crops="x",
            cccd_hash=first.cccd_hash,
            cccd_last4="0000",
        )
    # Wiped households (deleted accounts) all hold "" and do not collide.
    Farm.objects.filter(pk=first.pk).update(cccd_hash="")
    Farm.objects.create(
        owner=other,
        name="x",
        representative_name="x",
        phone=other.phone,
        ward=first.ward,
        address="x",
        area_m2=1,
        main_crops="x",
        cccd_hash="",
        cccd_last4="",
    )
