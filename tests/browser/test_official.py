"""The agricultural official's journey on a desktop (issue #11, journey 3), in Vietnamese and English.

An official of one ward approves a household waiting in their queue, opens the sales dashboard
(this month's figures come from orders seeded through the real checkout and delivered), widens
the period to their own dates to take in an older order, and downloads the XLSX of that period,
which is read back with openpyxl.
"""

import importlib
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone, translation
from openpyxl import load_workbook
from playwright.sync_api import expect

from farms.models import Farm, FarmStatus
from logistics.models import Zone
from marketplace.accounts.models import Role
from marketplace.geo.models import Ward, WardAlias
from marketplace.money import format_vnd
from marketplace.reports.rollups import rollups_rebuild
from orders.models import Order
from tests.farms.factories import make_farm, make_product, ward
from tests.orders.factories import deliver, place

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.slow]

POMELO, RAMBUTAN = 202, 204  # "Bưởi" and "Chôm chôm" in the seeded categories
# A seeded category's English name keeps the specialty's own name: "Berries (dâu Hạ Châu)".
SPECIALTY = "dâu Hạ Châu"


def tr(language: str, message) -> str:
    """`message` (a msgid or a lazy label) as the page shows it in `language`."""
    with translation.override(language):
        return str(translation.gettext(message) if isinstance(message, str) else message)


def place_names() -> list[str]:
    """Names of places that stay Vietnamese in English: the city, its wards and former districts."""
    wards = Ward.objects.values_list("full_name", "name")
    return ["Cần Thơ", *(name for pair in wards for name in pair),
            *WardAlias.objects.values_list("label", flat=True)]


def seed_zones() -> None:
    """Put back the delivery zones a migration seeds, if an earlier transactional test flushed them."""
    if not Zone.objects.exists():
        importlib.import_module("logistics.migrations.0002_seed_zones").seed(apps, None)


@pytest.fixture
def sales(site, make_user):
    """Two households of ward 1 with three delivered orders today and one placed 40 days ago.

    Today: 2 kg of pomelo (2 × 30,000) and 1 kg (30,000) from chú Chín, 3 kg of rambutan
    (3 × 45,000) from cô Mười: 3 orders, 225,000 đồng. 40 days ago: 4 kg of pomelo, 120,000.
    """
    seed_zones()
    courier = make_user(Role.COURIER)
    chin = make_farm(make_user, name="Hộ chú Chín", ward_index=1, representative_name="Đỗ Văn Chín")
    muoi = make_farm(make_user, name="Hộ cô Mười", ward_index=1, representative_name="Ngô Thị Mười")
    pomelo = make_product(
        chin, name="Bưởi da xanh", category=POMELO, price=30000, stock="50", status="active"
    )
    rambutan = make_product(
        muoi, name="Chôm chôm Thái", category=RAMBUTAN, price=45000, stock="50", status="active"
    )
    buyers = [make_user(Role.BUYER) for _ in range(3)]
    for buyer, items in zip(buyers, ([(pomelo, 2)], [(rambutan, 3)], [(pomelo, 1)]), strict=True):
        order = place(buyer, items)
        for part in order.farm_orders.all():
            deliver(part, courier)
    older = place(buyers[0], [(pomelo, 4)])
    today = timezone.localdate()
    Order.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=40))
    rollups_rebuild(first=today - timedelta(days=60), last=today)
    return {"farms": [chin, muoi], "products": [pomelo, rambutan], "today": today}


def total(page, key: str):
    return page.locator(f"#totals [data-total={key}] .big")


@pytest.mark.parametrize("language", ["vi", "en"])
def test_official_approves_a_household_reads_the_dashboard_and_downloads_xlsx(
    journey, site, make_user, sales, tmp_path, language
):
    here = ward(1)
    official = make_user(Role.OFFICIAL, city_wide=False, wards=[here], full_name="Cán bộ Hòa")
    waiting = make_farm(
        make_user, verified=False, ward_index=1, name="Hộ bà Tám", representative_name="Võ Thị Tám",
        address="Ấp Thới Bình", main_crops="bưởi, cam sành",
    )
    farms = [*sales["farms"], waiting]
    trip = journey(
        "official", device="desktop", language=language,
        data_strings=[
            *place_names(), SPECIALTY, official.full_name,
            *(value for farm in farms
              for value in (farm.name, farm.representative_name, farm.address, farm.main_crops)),
            *(product.name for product in sales["products"]),
        ],
    )
    page = trip.page
    trip.login(official.phone, site.password)

    # The queue: one household waiting in the official's ward; approve it.
    trip.goto("/official/")
    trip.step("official-home")
    trip.click(page.get_by_role("link", name=tr(language, "Households to verify"), exact=True))
    expect(page).to_have_url(re.compile(r"/official/households/$"))
    trip.step("queue")
    trip.click(page.get_by_role("link", name=waiting.name))
    expect(page.get_by_role("heading", level=1)).to_contain_text(waiting.name)
    trip.step("household")
    trip.click(page.get_by_role("button", name=tr(language, "Approve"), exact=True))
    expect(page.get_by_role("heading", level=1)).to_contain_text(tr(language, FarmStatus.VERIFIED.label))
    assert Farm.objects.get(pk=waiting.pk).status == FarmStatus.VERIFIED
    trip.step("approved")

    # The dashboard opens on this month: today's three orders.
    trip.goto("/official/")
    trip.click(page.get_by_role("link", name=tr(language, "Sales statistics"), exact=True))
    expect(page).to_have_url(re.compile(r"/official/stats/$"))
    expect(total(page, "orders")).to_have_text("3")
    expect(total(page, "gross")).to_have_text(format_vnd(225000))
    by_household = page.locator("#top-households")
    for farm in sales["farms"]:
        expect(by_household).to_contain_text(farm.name)
    trip.step("dashboard")

    # Own dates, 60 days back: the older order joins.
    today = sales["today"]
    page.get_by_label(tr(language, "From – to"), exact=True).check()
    page.get_by_label(tr(language, "From"), exact=True).fill((today - timedelta(days=60)).isoformat())
    page.get_by_label(tr(language, "To"), exact=True).fill(today.isoformat())
    trip.click(page.get_by_role("button", name=tr(language, "Show"), exact=True))
    expect(page).to_have_url(re.compile(r"preset=custom"))
    expect(total(page, "orders")).to_have_text("4")
    expect(total(page, "gross")).to_have_text(format_vnd(345000))
    trip.step("dashboard-range")

    # The XLSX of that period, by household.
    link = page.locator("#exports").get_by_role("link", name="XLSX", exact=True)
    link = link.and_(page.locator("[href*='group_by=household']"))
    with page.expect_download() as download:
        trip.click(link)
    assert download.value.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    sheet = load_workbook(saved).active
    rows = list(sheet.iter_rows(values_only=True))
    by_label = {row[0]: row for row in rows[1:-1]}
    assert by_label["Hộ chú Chín"][1:4] == (3, 7, 210000)  # orders, kg, sales
    assert by_label["Hộ cô Mười"][1:4] == (1, 3, 135000)
    assert rows[-1][3] == 345000
    trip.finish()
