"""Collection runs: shipments grouped by pickup zone, numbered, given to a courier, stops in route order."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from logistics.models import Run, Shipment, ZoneWard
from logistics.runs import runs_build, shipments_waiting
from logistics.selectors import run_stops
from logistics.services import shipment_step
from tests.farms.factories import ward
from tests.logistics.conftest import shipments_of

pytestmark = pytest.mark.django_db


def names(stops, side="pickup"):
    return [getattr(shipment, f"{side}_name") for shipment in stops]


def test_shipments_are_grouped_into_runs_by_the_zone_they_are_picked_up_in(ship, inner, outer):
    order = ship(farms=[("Hộ Nội 1", 0), ("Hộ Ven đô", 4), ("Hộ Nội 2", 1)])
    inner_one, outer_one, inner_two = shipments_of(order)
    runs = runs_build()
    assert [(run.zone, run.number, run.date) for run in runs] == [
        (inner, 1, timezone.localdate()),
        (outer, 1, timezone.localdate()),
    ]
    assert set(runs[0].shipments.all()) == {inner_one, inner_two}  # the drop-off is the same for all
    assert list(runs[1].shipments.all()) == [outer_one]
    # A zone nobody works: the run waits to be claimed.
    assert [(run.courier, run.assigned_at) for run in runs] == [(None, None), (None, None)]
    assert not shipments_waiting(day=timezone.localdate()).exists()


def test_a_shipment_for_a_later_day_waits_for_that_days_run(ship):
    today = timezone.localdate()
    later = shipments_of(ship(delivery_date=today + timedelta(days=2)))[0]
    now = shipments_of(ship(delivery_date=today))[0]
    (run,) = runs_build()
    assert list(run.shipments.all()) == [now]
    assert runs_build(day=today + timedelta(days=1)) == []
    (then,) = runs_build(day=today + timedelta(days=2))
    assert (then.date, list(then.shipments.all())) == (today + timedelta(days=2), [later])


def test_building_twice_builds_nothing_new_and_a_later_build_counts_on(ship):
    first = shipments_of(ship())[0]
    (run,) = runs_build()
    assert runs_build() == []
    assert Run.objects.count() == 1
    second = shipments_of(ship())[0]
    (again,) = runs_build()
    assert (again.zone_id, again.date, again.number) == (run.zone_id, run.date, 2)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.run, second.run) == (run, again)  # the first run keeps its shipment


def test_a_shipment_picked_up_in_a_ward_of_no_zone_waits_and_does_not_stop_the_others(ship, caplog):
    lost = shipments_of(ship(farms=[("Hộ không vùng", 1)]))[0]
    ZoneWard.objects.filter(ward=ward(1)).delete()
    found = shipments_of(ship(farms=[("Hộ có vùng", 0)]))[0]
    (run,) = runs_build()
    assert list(run.shipments.all()) == [found]
    assert list(shipments_waiting(day=run.date)) == [lost]
    assert f"shipment {lost.pk} is picked up in ward {ward(1).pk}, which is in no zone" in caplog.text


def test_a_failed_delivery_of_an_earlier_day_joins_todays_run_once(ship, courier):
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    shipment = shipments_of(ship())[0]
    (first,) = runs_build(day=yesterday)
    shipment_step(shipment=shipment, type="picked_up", by=courier)
    shipment_step(shipment=shipment, type="failed_attempt", by=courier)
    assert runs_build(day=yesterday) == []  # not again the same day
    (retry,) = runs_build(day=today)
    shipment.refresh_from_db()
    assert (shipment.run, shipment.status, retry.number, retry.courier) == (
        retry,
        "failed_attempt",
        1,
        courier,
    )
    assert first.shipments.count() == 0
    shipment_step(shipment=shipment, type="in_transit", by=courier)
    shipment_step(shipment=shipment, type="failed_attempt", by=courier)
    # Tried twice: it goes back to the household, on no further run.
    assert runs_build(day=today + timedelta(days=1)) == []


def test_a_carried_over_shipment_is_a_drop_off_only_on_its_new_run(ship, courier):
    import time_machine

    yesterday_noon = timezone.localtime().replace(hour=12, minute=0, second=0) - timedelta(days=1)
    with time_machine.travel(yesterday_noon, tick=False):
        shipment = shipments_of(ship())[0]
        (first,) = runs_build()
        shipment_step(shipment=shipment, type="picked_up", by=courier)
        shipment_step(shipment=shipment, type="failed_attempt", by=courier)
        # On its own day's run it was a pickup, and a drop-off.
        assert [len(stops) for stops in run_stops(first)] == [1, 1]
    (retry,) = runs_build()
    pickups, dropoffs = run_stops(retry)
    assert (pickups, [s.pk for s in dropoffs]) == ([], [shipment.pk])  # the courier has the goods


def test_a_run_goes_to_the_least_busy_active_courier_of_its_zone(ship, make_courier, inner, outer):
    make_courier(inner, is_active=False)  # first in line, but gone
    first, second = make_courier(inner), make_courier(inner)
    make_courier(outer)  # idle, but in another zone
    ship()
    (one,) = runs_build()
    assert one.courier == first and one.assigned_at is not None  # a tie: the first courier
    ship(farms=[("Hộ A", 0), ("Hộ B", 1)])
    (two,) = runs_build()
    assert two.courier == second  # first carries 1, second 0
    ship()
    (three,) = runs_build()
    assert three.courier == first  # first carries 1, second 2
    # Another day's load does not count.
    ship(farms=[("Hộ C", 0), ("Hộ D", 0), ("Hộ E", 0)])
    (tomorrow,) = runs_build(day=timezone.localdate() + timedelta(days=1))
    assert tomorrow.courier == first


def test_pickups_follow_the_route_then_the_household_and_drop_offs_the_buyers_wards(ship, inner, outer):
    near, far = ward(0), ward(1)
    ship(farms=[("Hộ Bảy", 0)], dropoff=3, address="C")
    ship(farms=[("Hộ An", 0)], dropoff=4, address="B")  # a drop-off in "Ven đô"
    ship(farms=[("Hộ Ba", 1)], dropoff=7, address="A")
    (run,) = runs_build()

    def place(ward_, position):
        ZoneWard.objects.filter(ward=ward_).update(position=position)

    place(near, 1)
    place(far, 2)
    pickups, _ = run_stops(run)
    assert names(pickups) == ["Hộ An", "Hộ Bảy", "Hộ Ba"]
    place(near, 3)  # staff move the ward later on the route: the run follows
    pickups, _ = run_stops(run)
    assert names(pickups) == ["Hộ Ba", "Hộ An", "Hộ Bảy"]

    # Drop-offs: the buyers' wards by their zone's place, then their place on its route.
    place(ward(3), 1)
    place(ward(7), 2)
    assert [s.dropoff_address for s in run_stops(run)[1]] == ["C", "A", "B"]
    place(ward(3), 5)
    assert [s.dropoff_address for s in run_stops(run)[1]] == ["A", "C", "B"]
    assert inner.position < outer.position


def test_the_command_builds_the_runs_of_a_day(ship, courier, capsys):
    ship()
    day = timezone.localdate() + timedelta(days=1)
    call_command("build_collection_runs", "--date", day.isoformat())
    out = capsys.readouterr().out
    run = Run.objects.get()
    assert run.date == day
    assert f"{day} Nội thành #1: 1 shipments, {courier.phone}" in out
    assert "1 run(s) built" in out
    call_command("build_collection_runs", "--date", day.isoformat())
    assert "0 run(s) built" in capsys.readouterr().out


def test_the_command_refuses_a_bad_date(ship):
    ship()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("build_collection_runs", "--date", "31/12/2026")
    assert not Run.objects.exists()
    assert Shipment.objects.filter(run__isnull=True).count() == 1


def test_the_scheduler_builds_the_runs_at_the_cut_off_hour(ship):
    from logistics.tasks import build_collection_runs
    from marketplace.celery import app

    entry = app.conf.beat_schedule["build-collection-runs"]
    assert entry["task"] == build_collection_runs.name == "logistics.build_collection_runs"
    assert entry["schedule"].hour == {settings.COLLECTION_CUTOFF_HOUR}
    assert entry["schedule"].minute == {0}
    assert app.conf.timezone == "Asia/Ho_Chi_Minh"  # the cut-off is Cần Thơ's hour
    ship()
    ids = build_collection_runs.delay().get()
    assert ids == list(Run.objects.values_list("pk", flat=True))
    assert len(ids) == 1
