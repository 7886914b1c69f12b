"""Couriers' pages: the day's runs, a run with one tap per step, the printable sheet and CSV, cash held."""

import csv
import io

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation

from logistics.models import CashHandover, Run
from logistics.runs import runs_build
from logistics.selectors import courier_cash
from logistics.services import cash_handover_record, shipment_step
from marketplace.accounts.models import Role
from tests.logistics.conftest import ward_index_in

pytestmark = pytest.mark.django_db


def vi(message: str) -> str:
    with translation.override("vi"):
        return translation.gettext(message)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def step_url(shipment) -> str:
    return reverse("logistics:shipment_step", args=[shipment.pk])


def one_run(ship, *, farm: str, address: str):
    """Today's run of one household's part, delivered to `address`; return it and its shipment."""
    ship(farms=[(farm, 0)], address=address)
    (run,) = runs_build()
    return run, run.shipments.get()


@pytest.fixture
def browser(client, courier):
    client.force_login(courier)
    return client


@pytest.fixture
def shipment(my_run):
    return my_run.shipments.get()


def test_home_lists_my_runs_and_the_runs_i_may_claim(ship, courier, make_courier, inner, outer, browser):
    ship(farms=[("Hộ A", 0), ("Hộ B", 1)])
    (mine,) = runs_build()
    make_courier(inner)  # a second courier in my zone
    other = make_courier(outer)
    ship(farms=[("Hộ Ven đô", 4)])
    (theirs,) = runs_build()
    ship(farms=[("Hộ chưa ai nhận", 0)])
    (open_run,) = runs_build()
    Run.objects.filter(pk=open_run.pk).update(courier=None)
    response = browser.get("/courier/")
    assert response.status_code == 200
    assert [(run.pk, run.shipment_count) for run in response.context["mine"]] == [(mine.pk, 2)]
    assert [run.pk for run in response.context["claimable"]] == [open_run.pk]
    body = response.content.decode()
    assert reverse("logistics:run", args=[mine.pk]) in body
    assert reverse("logistics:run_print", args=[mine.pk]) in body
    assert reverse("logistics:run_claim", args=[open_run.pk]) in body
    assert reverse("logistics:run", args=[theirs.pk]) not in body
    assert theirs.courier == other


def test_claiming_from_the_page(ship, courier, make_courier, open_zone, browser):
    ship(farms=[("Hộ Ngoại thành", ward_index_in(open_zone))])
    (open_run,) = runs_build()
    assert open_run.courier is None
    response = browser.post(reverse("logistics:run_claim", args=[open_run.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("logistics:run", args=[open_run.pk])
    open_run.refresh_from_db()
    assert open_run.courier == courier
    assert browser.get(reverse("logistics:run_claim", args=[open_run.pk])).status_code == 404  # POST only
    # A courier who still has the old page is told the run is taken, not shown a 404.
    late = browser.__class__()
    late.force_login(make_courier())
    response = late.post(reverse("logistics:run_claim", args=[open_run.pk]))
    assert (response.status_code, response["Location"]) == (302, reverse("courier-home"))
    assert messages_of(response) == [vi("Another courier already has this run.")]
    open_run.refresh_from_db()
    assert open_run.courier == courier


def test_a_run_shows_pickups_then_deliveries_with_their_steps(ship, courier, browser):
    run, shipment = one_run(ship, farm="Hộ Nhận Hàng", address="99 Trần Hưng Đạo")
    url = reverse("logistics:run", args=[run.pk])
    body = browser.get(url).content.decode()
    assert body.index("Hộ Nhận Hàng") < body.index("99 Trần Hưng Đạo")
    assert body.count(f'action="{step_url(shipment)}"') == 1  # only "picked up" while booked
    assert 'name="type" value="picked_up"' in body
    shipment_step(shipment=shipment, type="picked_up", by=courier)
    body = browser.get(url).content.decode()
    assert body.count(f'action="{step_url(shipment)}"') == 3
    for step in ("in_transit", "delivered", "failed_attempt"):
        assert f'name="type" value="{step}"' in body
    assert f'name="cash_collected" value="{shipment.cash_to_collect}"' in body


def test_after_a_second_failure_the_run_page_offers_only_the_return(shipment, courier, browser):
    for step in ("picked_up", "failed_attempt", "in_transit", "failed_attempt"):
        shipment_step(shipment=shipment, type=step, by=courier)
    body = browser.get(reverse("logistics:run", args=[shipment.run_id])).content.decode()
    assert body.count(f'action="{step_url(shipment)}"') == 1
    assert 'name="type" value="returned"' in body


def test_one_tap_records_the_step_and_comes_back_to_the_run(shipment, courier, browser):
    response = browser.post(step_url(shipment), {"type": "picked_up"})
    assert response.status_code == 302
    assert response["Location"] == reverse("logistics:run", args=[shipment.run_id]) + f"#s{shipment.pk}"
    assert messages_of(response) == [vi("Recorded: %(step)s.") % {"step": vi("Picked up")}]
    shipment.refresh_from_db()
    assert shipment.status == "picked_up"
    assert list(shipment.events.values_list("type", "by")) == [("picked_up", courier.pk)]
    browser.get(response["Location"])  # the run page shows (and so uses up) the message
    # A step that does not follow (a stale page) is refused with a message.
    response = browser.post(step_url(shipment), {"type": "returned"})
    assert response.status_code == 302
    stale = "That step does not follow the shipment's state; the page is refreshed."
    assert messages_of(response) == [vi(stale)]
    assert shipment.events.count() == 1
    assert browser.get(step_url(shipment)).status_code == 405


@pytest.mark.parametrize("cash", ["", "abc", "12 nghìn", "-5"])
def test_cash_that_is_not_a_number_is_refused_and_nothing_recorded(cash, shipment, courier, browser):
    shipment_step(shipment=shipment, type="picked_up", by=courier)
    response = browser.post(step_url(shipment), {"type": "delivered", "cash_collected": cash})
    assert response.status_code == 302
    assert messages_of(response) == [vi("Enter the cash collected in đồng, digits only.")]
    shipment.refresh_from_db()
    assert (shipment.status, shipment.cash_collected, shipment.events.count()) == ("picked_up", 0, 1)


def test_cash_above_what_is_owed_is_refused_and_written_amounts_are_read(shipment, courier, browser):
    shipment_step(shipment=shipment, type="picked_up", by=courier)
    owed = shipment.cash_to_collect
    response = browser.post(step_url(shipment), {"type": "delivered", "cash_collected": str(owed + 1)})
    too_much = "Record the cash collected on delivery, at most what there was to collect."
    assert messages_of(response) == [vi(too_much)]
    shipment.refresh_from_db()
    assert shipment.status == "picked_up"
    written = f"{owed:,}".replace(",", ".")  # "115.000", as people write đồng
    browser.post(step_url(shipment), {"type": "delivered", "cash_collected": written})
    shipment.refresh_from_db()
    assert (shipment.status, shipment.cash_collected) == ("delivered", owed)


def test_another_couriers_run_is_a_404(shipment, courier, make_courier, client):
    client.force_login(make_courier())
    run = shipment.run
    for url in (
        reverse("logistics:run", args=[run.pk]),
        reverse("logistics:run_print", args=[run.pk]),
        reverse("logistics:run_print", args=[run.pk]) + "?format=csv",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(step_url(shipment), {"type": "picked_up"}).status_code == 404
    assert client.post(reverse("logistics:run_claim", args=[run.pk])).status_code == 404  # not its zone
    run.refresh_from_db()
    shipment.refresh_from_db()
    assert (run.courier, shipment.status) == (courier, "booked")


def test_anonymous_log_in_and_other_roles_are_refused(shipment, make_user, client):
    run_url = reverse("logistics:run", args=[shipment.run_id])
    for url in ("/courier/", run_url):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login")), url
    assert client.post(step_url(shipment), {"type": "picked_up"}).status_code == 302
    for role in (Role.BUYER, Role.FARMER, Role.STAFF):
        client.force_login(make_user(role))
        assert client.get("/courier/").status_code == 403
        assert client.get(run_url).status_code == 403
        assert client.post(step_url(shipment), {"type": "picked_up"}).status_code == 403
    shipment.refresh_from_db()
    assert shipment.events.count() == 0


def test_the_printed_sheet_and_its_csv(ship, browser):
    run, shipment = one_run(ship, farm="Hộ Bảy Măng Cụt", address="5 Nguyễn Trãi")
    url = reverse("logistics:run_print", args=[run.pk])
    page = browser.get(url).content.decode()
    assert page.index("Hộ Bảy Măng Cụt") < page.index("5 Nguyễn Trãi")
    number = shipment.farm_order.order.number
    assert number in page
    assert shipment.reference not in page  # the booking's key is not for people
    response = browser.get(url + "?format=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="run-{run.date}-{run.pk}.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    farm = shipment.pickup_name
    assert rows == [
        [vi("Stop"), "#", vi("Order"), vi("Household"), vi("Ward"), vi("Address"), vi("Name"), vi("Phone"),
         "kg", vi("Cash to collect")],
        [vi("Pickup"), "1", number, farm, shipment.pickup_ward.name, "Ấp Nhơn Lộc 1", farm,
         shipment.pickup_phone, "2.000", ""],
        [vi("Delivery"), "1", number, farm, shipment.dropoff_ward.name, "5 Nguyễn Trãi", "Chị Lan",
         "+84912345678", "2.000", str(shipment.cash_to_collect)],
    ]  # fmt: skip


def test_cash_held_is_what_was_collected_less_what_was_handed_in(shipment, courier, make_user, browser):
    staff = make_user(Role.STAFF)
    assert courier_cash(courier) == {"collected": 0, "handed_in": 0, "holding": 0}
    shipment_step(shipment=shipment, type="picked_up", by=courier)
    shipment_step(shipment=shipment, type="delivered", by=courier, cash_collected=shipment.cash_to_collect)
    owed = shipment.cash_to_collect
    cash_handover_record(courier=courier, amount=100000, by=staff, note="ca sáng")
    assert courier_cash(courier) == {"collected": owed, "handed_in": 100000, "holding": owed - 100000}
    assert browser.get("/courier/").context["cash"]["holding"] == owed - 100000


@pytest.fixture
def admin_client_staff(client, make_user):
    staff = make_user(Role.STAFF)
    staff.is_staff = staff.is_superuser = True
    staff.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(staff)
    return client, staff


def test_the_admin_takes_in_no_more_cash_than_the_courier_holds(shipment, courier, admin_client_staff):
    client, staff = admin_client_staff
    shipment_step(shipment=shipment, type="picked_up", by=courier)
    shipment_step(shipment=shipment, type="delivered", by=courier, cash_collected=shipment.cash_to_collect)
    holding = shipment.cash_to_collect
    url = reverse("admin:logistics_cashhandover_add")
    response = client.post(url, {"courier": courier.pk, "amount": holding + 1, "note": ""})
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["amount"]
    assert not CashHandover.objects.exists()
    response = client.post(url, {"courier": courier.pk, "amount": holding, "note": "đủ"})
    assert response.status_code == 302
    handover = CashHandover.objects.get()
    assert (handover.amount, handover.received_by, handover.note) == (holding, staff, "đủ")
    assert courier_cash(courier)["holding"] == 0
    response = client.post(url, {"courier": courier.pk, "amount": 1, "note": ""})
    assert response.status_code == 200
    assert CashHandover.objects.count() == 1


def test_cash_stays_with_the_courier_who_collected_it_when_the_run_is_reassigned(
    my_run, courier, make_courier, inner
):
    from logistics.selectors import courier_cash
    from logistics.services import shipment_step

    (shipment,) = my_run.shipments.all()
    shipment_step(shipment=shipment, type="picked_up", by=courier)
    shipment_step(shipment=shipment, type="delivered", by=courier, cash_collected=shipment.cash_to_collect)
    other = make_courier(inner, full_name="Chị Tư")
    my_run.courier = other
    my_run.save(update_fields=["courier"])
    assert courier_cash(courier)["holding"] == shipment.cash_to_collect > 0
    assert courier_cash(other)["holding"] == 0


def test_less_cash_than_owed_needs_a_note_on_the_page(shipment, courier, browser):
    shipment_step(shipment=shipment, type="picked_up", by=courier)
    short = shipment.cash_to_collect - 20000
    response = browser.post(step_url(shipment), {"type": "delivered", "cash_collected": str(short)})
    assert messages_of(response) == [
        vi("Less cash than there was to collect: say why in the note (staff will see it).")
    ]
    shipment.refresh_from_db()
    assert shipment.status == "picked_up"
    browser.post(
        step_url(shipment), {"type": "delivered", "cash_collected": str(short), "note": "Khách thiếu 20.000"}
    )
    shipment.refresh_from_db()
    assert (shipment.status, shipment.cash_collected) == ("delivered", short)
    assert shipment.events.get(type="delivered").note == "Khách thiếu 20.000"


def test_typed_text_in_the_run_csv_is_never_a_formula(ship, browser):
    run, _shipment = one_run(ship, farm="Hộ Bảy", address="=HYPERLINK(\"http://x\";\"bấm\")")
    response = browser.get(reverse("logistics:run_print", args=[run.pk]) + "?format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[2][5] == "'=HYPERLINK(\"http://x\";\"bấm\")"
    assert not any(cell.startswith("=") for row in rows for cell in row)
