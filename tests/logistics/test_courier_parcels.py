"""A courier reads a parcel by its order number and household, taps its steps in the order the
work goes, and can read the printed run sheet on a phone (issue #22, item 14)."""

import importlib
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import translation

from logistics.models import Shipment
from logistics.runs import runs_build
from logistics.services import shipment_step
from tests.farms.test_pages import assert_fits_a_phone
from tests.logistics.conftest import shipments_of

pytestmark = pytest.mark.django_db

FORM = re.compile(r'<form method="post" action="[^"]+" class="([^"]*)">.*?</form>', re.DOTALL)
STEP = re.compile(r'name="type" value="([a-z_]+)"')


def vi(message: str) -> str:
    with translation.override("vi"):
        return translation.gettext(message)


@pytest.fixture
def browser(client, courier):
    client.force_login(courier)
    return client


@pytest.fixture
def shipment(my_run):
    return my_run.shipments.get()


def stop(html: str, anchor: str) -> str:
    """The HTML of one stop of the run page (`p<pk>` a pickup, `s<pk>` a drop-off)."""
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</li>", start)]


def steps_in(html: str) -> list[str]:
    return STEP.findall(html)


def test_the_run_names_each_parcel_by_order_number_and_household(ship, browser):
    order = ship(farms=[("Hộ chị Hai", 0), ("Hộ anh Ba", 1)], address="7 Lý Tự Trọng")
    (run,) = runs_build()
    first, second = shipments_of(order)
    assert first.reference.startswith("farm-order-")  # still the booking's key...
    assert (first.label, second.label) == (order.number, order.number)  # ...and a label to read
    for url in (reverse("logistics:run", args=[run.pk]), reverse("logistics:run_print", args=[run.pk])):
        html = browser.get(url).content.decode()
        assert "farm-order-" not in html, url
        assert_fits_a_phone(url, html)
        assert html.count(order.number) == 4, url  # on both pickups and both drop-offs
    html = browser.get(reverse("logistics:run", args=[run.pk])).content.decode()
    order_line = vi("Order %(number)s") % {"number": order.number}
    for shipment, household in ((first, "Hộ chị Hai"), (second, "Hộ anh Ba")):
        assert order_line in stop(html, f"p{shipment.pk}")
        # At the buyer's door two parcels of one order: each says which household it comes from.
        assert f"{order_line} · {household}" in stop(html, f"s{shipment.pk}")
    csv = browser.get(reverse("logistics:run_print", args=[run.pk]) + "?format=csv").content.decode()
    assert "farm-order-" not in csv
    assert csv.count(order.number) == 4


def test_a_parcel_booked_before_labels_shows_its_household_and_is_labelled_by_the_migration(ship, browser):
    order = ship(farms=[("Hộ Cũ", 0)])
    (run,) = runs_build()
    (shipment,) = shipments_of(order)
    Shipment.objects.filter(pk=shipment.pk).update(label="")
    html = browser.get(reverse("logistics:run", args=[run.pk])).content.decode()
    assert "farm-order-" not in html
    assert "Hộ Cũ" in stop(html, f"s{shipment.pk}")
    assert order.number not in html
    # The data migration gives old shipments their order's number; one booked by no order stays.
    orphan = Shipment.objects.create(
        carrier="own", reference="someone-else-1", pickup_ward=shipment.pickup_ward, pickup_address="a",
        pickup_name="b", pickup_phone="+84912345678", dropoff_ward=shipment.dropoff_ward,
        dropoff_address="c", dropoff_name="d", dropoff_phone="+84912345679", weight_kg=1,
    )  # fmt: skip
    migration = importlib.import_module("orders.migrations.0010_shipment_labels")
    migration.label_shipments(apps, None)
    shipment.refresh_from_db()
    orphan.refresh_from_db()
    assert (shipment.label, orphan.label) == (order.number, "")
    html = browser.get(reverse("logistics:run", args=[run.pk])).content.decode()
    assert f"{vi('Order %(number)s') % {'number': order.number}} · Hộ Cũ" in stop(html, f"s{shipment.pk}")


def test_step_buttons_come_in_the_order_the_work_goes(my_run, courier, browser):
    (shipment,) = my_run.shipments.all()
    url = reverse("logistics:run", args=[my_run.pk])
    html = browser.get(url).content.decode()
    assert steps_in(stop(html, f"p{shipment.pk}")) == ["picked_up"]
    assert steps_in(stop(html, f"s{shipment.pk}")) == []  # nothing to deliver before the pickup
    shipment_step(shipment=shipment, type="picked_up", by=courier)
    dropoff = stop(browser.get(url).content.decode(), f"s{shipment.pk}")
    # On the way, delivered; then, apart, what went wrong.
    assert steps_in(dropoff) == ["in_transit", "delivered", "failed_attempt"]
    happy, problems = dropoff.split('class="steps steps-problem"')
    assert steps_in(happy) == ["in_transit", "delivered"]
    assert steps_in(problems) == ["failed_attempt"]
    assert vi("If it cannot be delivered:") in problems
    shipment_step(shipment=shipment, type="failed_attempt", by=courier, note="vắng nhà")
    dropoff = stop(browser.get(url).content.decode(), f"s{shipment.pk}")
    assert steps_in(dropoff) == ["in_transit", "returned"]
    assert steps_in(dropoff.split('class="steps steps-problem"')[1]) == ["returned"]


def test_each_step_is_its_own_form_so_the_delivered_button_stands_apart_from_the_reason(
    shipment, courier, browser
):
    shipment_step(shipment=shipment, type="picked_up", by=courier)
    html = browser.get(reverse("logistics:run", args=[shipment.run_id])).content.decode()
    dropoff = stop(html, f"s{shipment.pk}")
    forms = {
        STEP.search(form.group(0)).group(1): (form.group(1), form.group(0)) for form in FORM.finditer(dropoff)
    }
    assert list(forms) == ["in_transit", "delivered", "failed_attempt"]
    delivered_class, delivered = forms["delivered"]
    failed_class, failed = forms["failed_attempt"]
    # The cash and its note belong to "delivered", the reason to the failed attempt, each boxed.
    assert 'name="cash_collected"' in delivered and 'id="why' not in delivered
    assert 'id="why' in failed and 'name="cash_collected"' not in failed
    assert "step-with-fields" in delivered_class.split() and "step-with-fields" in failed_class.split()
    assert delivered.rstrip().endswith(f"{vi('Delivered')}</button>\n      </form>")
    css = Path(finders.find("logistics/courier.css")).read_text()
    assert re.search(r"\.steps \{[^}]*gap: 1\dpx", css)  # room between the forms
    assert re.search(r"\.step-with-fields \{[^}]*padding: 1\dpx", css)
    assert "logistics/courier.css" in html


def test_the_printed_sheet_has_a_phone_layout_and_keeps_its_tables_on_paper(my_run, browser):
    html = browser.get(reverse("logistics:run_print", args=[my_run.pk])).content.decode()
    assert '<meta name="viewport" content="width=device-width' in html
    assert "logistics/run_print.css" in html
    css = Path(finders.find("logistics/run_print.css")).read_text()
    phone = re.search(r"@media screen and \(max-width:\s*(\d+)px\)\s*\{(.*)\}\s*$", css, re.DOTALL)
    assert phone, "no phone layout in run_print.css"
    assert 360 <= int(phone.group(1)) < 794  # a phone, never an A4 page (794 px wide at 96 dpi)
    rules = phone.group(2)
    # Rows become blocks, the header goes (each cell says its column), nothing is wider than 360 px.
    assert re.search(r"table\.sheet,\.sheet tbody,\.sheet tr,\.sheet td\{display:block", rules)
    assert ".sheet thead{display:none}" in rules
    assert "attr(data-label)" in rules
    assert all(int(w) <= 360 for w in re.findall(r"width:\s*(\d+)px", rules))
    # Paper keeps the tables: the table rules are outside any media query.
    before = css[: phone.start()]
    assert "table{border-collapse:collapse;width:100%" in before
    assert "@media print" in before
    labels = re.findall(r'data-label="([^"]+)"', html)
    assert {vi("Address"), vi("Phone"), vi("Cash to collect")} <= set(labels)
