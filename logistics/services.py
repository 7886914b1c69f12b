"""Shipment steps: one table of allowed moves, each step recorded and announced (`hooks`)."""

from django.db import transaction
from django.utils.translation import gettext as _

from marketplace.errors import Conflict

from .hooks import shipment_changed, shipment_step_starting
from .models import Shipment, ShipmentEvent
from .models import ShipmentStatus as S

#: A failed delivery is tried once more (in_transit again), then the goods go back.
STEPS: dict[str, frozenset[str]] = {
    S.BOOKED: frozenset({S.PICKED_UP, S.CANCELLED}),
    S.PICKED_UP: frozenset({S.IN_TRANSIT, S.DELIVERED, S.FAILED_ATTEMPT}),
    S.IN_TRANSIT: frozenset({S.DELIVERED, S.FAILED_ATTEMPT}),
    S.FAILED_ATTEMPT: frozenset({S.IN_TRANSIT, S.RETURNED}),
    S.DELIVERED: frozenset(),
    S.RETURNED: frozenset(),
    S.CANCELLED: frozenset(),
}
MAX_FAILED_ATTEMPTS = 2


def steps_allowed(shipment: Shipment) -> frozenset[str]:
    """Return the steps that may follow a shipment's state: after the last failed attempt, only back."""
    if shipment.status == S.FAILED_ATTEMPT and shipment.failed_attempts >= MAX_FAILED_ATTEMPTS:
        return frozenset({S.RETURNED})
    return STEPS.get(shipment.status, frozenset())


def _check_cash_recorded(shipment: Shipment, cash_collected: int | None, note: str) -> None:
    """On a cash-on-delivery drop-off the cash must be recorded, and any shortfall explained."""
    from django.core.exceptions import ValidationError

    if cash_collected is None:
        raise ValidationError(
            {
                "cash_collected": [
                    _("Record the cash collected: there was %(amount)s đồng to collect.")
                    % {"amount": shipment.cash_to_collect}
                ]
            }
        )
    if cash_collected < shipment.cash_to_collect and not (note or "").strip():
        raise ValidationError(
            {"note": [_("Less cash than there was to collect: say why in the note (staff will see it).")]}
        )


@transaction.atomic
def shipment_step(
    *, shipment: Shipment, type: str, by=None, cash_collected: int | None = None, note: str = ""
):
    """Record a shipment's step if the table allows it, and announce it. Return the event.

    After a second failed attempt the only way on is back to the sender. Cash is recorded on
    a delivery (cash on delivery), never more than there was to collect.
    """
    shipment_step_starting.send(sender=Shipment, shipment=shipment)
    locked = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if type not in steps_allowed(locked):
        raise Conflict(
            _("This shipment is “%(current)s” and cannot become “%(to)s”.")
            % {"current": S(locked.status).label, "to": S(type).label if type in S.values else type},
            code="invalid_transition",
            status=locked.status,
            to=type,
        )
    if type == S.DELIVERED and locked.cash_to_collect:
        _check_cash_recorded(locked, cash_collected, note)
    if cash_collected is not None and (
        type != S.DELIVERED or not 0 <= cash_collected <= locked.cash_to_collect
    ):
        raise Conflict(
            _("Record the cash collected on delivery, at most what there was to collect."),
            code="invalid_cash",
        )
    event = ShipmentEvent.objects.create(
        shipment=locked, type=type, by=by, cash_collected=cash_collected, note=(note or "")[:300]
    )
    locked.status = type
    fields = ["status", "updated_at"]
    if type == S.FAILED_ATTEMPT:
        locked.failed_attempts += 1
        fields.append("failed_attempts")
    if cash_collected:
        locked.cash_collected = cash_collected
        fields.append("cash_collected")
    locked.save(update_fields=fields)
    shipment_changed.send(sender=Shipment, shipment=locked, event=event)
    return event


def cash_handover_check(*, courier, amount: int) -> None:
    """Raise a field error unless 0 < amount <= the cash the courier holds."""
    from django.core.exceptions import ValidationError

    from .selectors import courier_cash

    holding = courier_cash(courier)["holding"]
    if not 0 < amount <= holding:
        raise ValidationError(
            {
                "amount": [
                    _("Enter an amount from 1 to %(holding)s đồng, the cash this courier holds.")
                    % {"holding": holding}
                ]
            }
        )


@transaction.atomic
def cash_handover_record(*, courier, amount: int, by, note: str = ""):
    """Record cash a courier hands in to staff: at most what the courier still holds."""
    from marketplace.accounts.models import User

    from .models import CashHandover

    User.objects.select_for_update().filter(pk=courier.pk).first()  # one handover at a time per courier
    cash_handover_check(courier=courier, amount=amount)
    return CashHandover.objects.create(
        courier=courier, amount=amount, received_by=by, note=(note or "")[:200]
    )
