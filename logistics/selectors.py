"""Reads of logistics: a run's stops in route order, a courier's shipments and cash in hand."""

from django.db.models import Sum

from .models import CashHandover, Run, Shipment, ShipmentEvent, ShipmentStatus

#: Pickups follow the zone's route, then the household (its name), then the booking.
PICKUP_ORDER = ("pickup_ward__zone_place__position", "pickup_name", "pickup_address", "pk")
#: Drop-offs follow the route order of the buyers' wards: their zone's place, then the ward's.
DROPOFF_ORDER = (
    "dropoff_ward__zone_place__zone__position",
    "dropoff_ward__zone_place__position",
    "dropoff_address",
    "pk",
)


def run_shipments(run: Run):
    return Shipment.objects.filter(run=run).select_related("pickup_ward", "dropoff_ward")


def run_stops(run: Run) -> tuple[list[Shipment], list[Shipment]]:
    """Return a run's pickups and drop-offs, each in route order (two queries).

    A shipment carried over from an earlier day's run (its first delivery failed) is only a
    drop-off: the courier already has the goods.
    """
    from datetime import datetime, time

    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    run_start = timezone.make_aware(datetime.combine(run.date, time.min))
    picked_before = ShipmentEvent.objects.filter(
        shipment=OuterRef("pk"), type=ShipmentStatus.PICKED_UP, at__lt=run_start
    )
    shipments = run_shipments(run)
    pickups = shipments.exclude(Exists(picked_before)).order_by(*PICKUP_ORDER)
    return list(pickups), list(shipments.order_by(*DROPOFF_ORDER))


def shipments_of_courier(user):
    """Return the shipments on the runs of a courier (staff: all)."""
    from .runs import sees_all

    qs = Shipment.objects.select_related("pickup_ward", "dropoff_ward", "run")
    if sees_all(user):
        return qs
    return qs.filter(run__courier=user)


def courier_cash(user) -> dict[str, int]:
    """Return what a courier collected in cash, handed in, and still holds.

    Collected is counted from the deliveries the courier recorded, not from whose run the
    shipment is on now: reassigning a run later does not move cash between couriers.
    """
    collected = (
        ShipmentEvent.objects.filter(by=user, type=ShipmentStatus.DELIVERED).aggregate(
            t=Sum("cash_collected")
        )["t"]
        or 0
    )
    handed_in = CashHandover.objects.filter(courier=user).aggregate(t=Sum("amount"))["t"] or 0
    return {"collected": collected, "handed_in": handed_in, "holding": collected - handed_in}
