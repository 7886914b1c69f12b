"""Collection runs: each day's shipments grouped by the zone they are picked up in, one courier each.

`runs_build` (the `build_collection_runs` command, and the scheduler at COLLECTION_CUTOFF_HOUR)
puts every shipment waiting for a run into a run of its pickup zone for the day:
    - booked shipments not in a run, due that day or earlier (`deliver_on`);
    - shipments whose delivery failed on an earlier day's run (one more try).
A run goes to the zone's courier with the least to carry that day, or waits to be claimed when
the zone has none. The order of stops is read from the zone routes (`run_stops`), so a staff
edit of a route reorders the runs not yet done.
"""

import logging
from collections import defaultdict
from datetime import date

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.accounts.models import Role
from marketplace.errors import Conflict

from .models import Run, Shipment, ShipmentStatus, Zone, ZoneWard
from .services import MAX_FAILED_ATTEMPTS

logger = logging.getLogger(__name__)


def shipments_waiting(*, day: date):
    """Return the shipments that should go out on `day`'s runs and are not on one yet."""
    booked = Q(status=ShipmentStatus.BOOKED, run__isnull=True) & (
        Q(deliver_on__isnull=True) | Q(deliver_on__lte=day)
    )
    retry = Q(
        status=ShipmentStatus.FAILED_ATTEMPT,
        failed_attempts__lt=MAX_FAILED_ATTEMPTS,
        run__date__lt=day,
    )
    return Shipment.objects.filter(booked | retry, carrier="own")


def _least_busy_courier(zone: Zone, day: date):
    """Return the zone's active courier with the fewest shipments on `day`'s runs (then the lowest id)."""
    return (
        zone.couriers.filter(role=Role.COURIER, is_active=True)
        .annotate(load=Count("runs__shipments", filter=Q(runs__date=day)))
        .order_by("load", "pk")
        .first()
    )


@transaction.atomic
def runs_build(*, day: date | None = None) -> list[Run]:
    """Group the shipments waiting for `day` (today by default) into runs by pickup zone; return new runs.

    Safe to run twice: a shipment already on a run of the day is not taken again, and the
    shipments are locked while they are grouped, so two builders cannot both take one.
    """
    day = day or timezone.localdate()
    waiting = list(
        shipments_waiting(day=day).select_for_update(of=("self",)).values_list("pk", "pickup_ward_id")
    )
    if not waiting:
        return []
    zone_of = dict(
        ZoneWard.objects.filter(ward_id__in={ward for _, ward in waiting}).values_list("ward_id", "zone_id")
    )
    by_zone: dict[int, list[int]] = defaultdict(list)
    for pk, ward in waiting:
        if ward not in zone_of:
            # A ward staff took off every route: that shipment waits, the other zones' runs go out.
            logger.warning("shipment %s is picked up in ward %s, which is in no zone", pk, ward)
            continue
        by_zone[zone_of[ward]].append(pk)
    runs = []
    for zone in Zone.objects.filter(pk__in=by_zone).order_by("position", "pk"):
        last = Run.objects.filter(zone=zone, date=day).aggregate(n=Max("number"))["n"] or 0
        courier = _least_busy_courier(zone, day)
        run = Run.objects.create(
            zone=zone,
            date=day,
            number=last + 1,
            courier=courier,
            assigned_at=timezone.now() if courier else None,
        )
        Shipment.objects.filter(pk__in=by_zone[zone.pk]).update(run=run, updated_at=timezone.now())
        runs.append(run)
    return runs


def sees_all(user) -> bool:
    """Staff see every run and shipment."""
    return user.is_staff or user.has_role(Role.STAFF)


def runs_visible_to(user):
    """Return the runs a user may see: staff all; a courier its own and those it may claim."""
    qs = Run.objects.select_related("zone", "courier")
    if sees_all(user):
        return qs
    if user.has_role(Role.COURIER):
        return qs.filter(claimable_by(user) | Q(courier=user))
    return qs.none()


def _claim_zones(user) -> Q:
    """Runs of a zone the courier works, or of a zone no courier works.

    Subqueries, not a join on the zone's couriers: a join gives a run once per courier of its
    zone, and counts over the run's shipments would multiply.
    """
    return Q(zone__in=Zone.objects.filter(couriers=user)) | ~Q(
        zone__in=Zone.objects.filter(couriers__isnull=False)
    )


def claimable_by(user) -> Q:
    """Runs with no courier, in a zone the courier works or a zone no courier works."""
    return Q(courier__isnull=True) & _claim_zones(user)


def runs_to_claim(user):
    """Return the runs a courier may ask to claim: its own and those of the zones it may claim in.

    A run of those zones that another courier took meanwhile is found, so the claim answers
    `run_taken` (the courier was shown it) rather than a 404.
    """
    return Run.objects.filter(Q(courier=user) | _claim_zones(user))


@transaction.atomic
def run_claim(*, run: Run, courier) -> Run:
    """Give an unassigned run to the courier who claims it (claiming one's own run again is a no-op)."""
    locked = Run.objects.select_for_update().get(pk=run.pk)
    if locked.courier_id == courier.pk:
        return locked
    if locked.courier_id is not None:
        raise Conflict(_("Another courier already has this run."), code="run_taken")
    if not Run.objects.filter(claimable_by(courier), pk=locked.pk).exists():
        raise Conflict(_("This run is for the couriers of its zone."), code="not_your_zone")
    locked.courier, locked.assigned_at = courier, timezone.now()
    locked.save(update_fields=["courier", "assigned_at"])
    return locked
