"""The settlement ledger: what each household earns from its delivered parts, in whole đồng.

One rule, computed from the truth each time: for a delivered household order,
    gross      = its lines' totals − the refunds resolved on its problems,
    commission = gross × COMMISSION_PERCENT, rounded half-up to the đồng,
    tax        = (the same, on processed goods only) × TAX_WITHHELD_PERCENT, rounded half-up,
    net        = gross − commission − tax.
The sale entry books that when the part is delivered; a later refund books the difference
between the new figures and what is already booked, so the entries of a part always add up
to the rule, to the đồng, whatever the order of events. Each entry has a unique key, so a step
that runs twice books once.
"""

import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from farms.models import Farm
from marketplace.errors import Conflict
from marketplace.money import format_vnd

from ..models import FarmOrder, FarmOrderStatus, LedgerEntry, LedgerKind, ProblemStatus

REFERENCE_MAX_LENGTH = LedgerEntry._meta.get_field("reference").max_length
NOTE_MAX_LENGTH = LedgerEntry._meta.get_field("note").max_length
KEY_MAX_LENGTH = LedgerEntry._meta.get_field("key").max_length


def round_dong(amount: Decimal) -> int:
    """Round a non-negative amount of đồng half-up to a whole đồng."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _percent(name: str) -> Decimal:
    return Decimal(str(getattr(settings, name))) / 100


def settlement_figures(farm_order: FarmOrder) -> dict[str, int]:
    """Return the gross, commission, tax and net the ledger owes for a delivered part now."""
    lines = list(farm_order.lines.select_related("product__category"))
    refunds: dict[int, int] = {}
    for line_id, amount in farm_order.problems.filter(status=ProblemStatus.RESOLVED).values_list(
        "line_id", "refund_amount"
    ):
        refunds[line_id] = refunds.get(line_id, 0) + amount
    gross = taxable = 0
    for line in lines:
        earned = max(line.line_total - refunds.get(line.pk, 0), 0)
        gross += earned
        if line.product.category.processed:
            taxable += earned
    commission = round_dong(gross * _percent("COMMISSION_PERCENT"))
    tax = round_dong(taxable * _percent("TAX_WITHHELD_PERCENT"))
    return {"gross": gross, "commission": commission, "tax": tax, "net": gross - commission - tax}


def _booked(farm_order: FarmOrder) -> dict[str, int]:
    sums = LedgerEntry.objects.filter(farm_order=farm_order).aggregate(
        gross=Sum("gross"), commission=Sum("commission"), tax=Sum("tax"), net=Sum("net")
    )
    return {name: value or 0 for name, value in sums.items()}


@transaction.atomic
def farm_order_settle(*, farm_order: FarmOrder) -> LedgerEntry | None:
    """Book a delivered part's sale in its household's ledger, once; return the entry.

    Return None for a part that is not delivered (nothing is owed for it).
    """
    locked = FarmOrder.objects.select_for_update().get(pk=farm_order.pk)
    if locked.status != FarmOrderStatus.DELIVERED:
        return None
    key = f"sale:{locked.pk}"
    existing = LedgerEntry.objects.filter(key=key).first()
    if existing is not None:
        return existing
    return LedgerEntry.objects.create(
        farm_id=locked.farm_id, farm_order=locked, kind=LedgerKind.SALE, key=key, **settlement_figures(locked)
    )


@transaction.atomic
def ledger_reverse(*, farm_order: FarmOrder, key: str, by=None, note: str = "") -> LedgerEntry | None:
    """Book what a refund takes off a settled part (the difference to the rule), once per key.

    Call after the refund is recorded (a resolved problem's `refund_amount`). Before the part's
    sale is booked there is nothing to reverse: the sale, when booked, already nets the refund.
    """
    locked = FarmOrder.objects.select_for_update().get(pk=farm_order.pk)
    existing = LedgerEntry.objects.filter(key=key).first()
    if existing is not None:
        return existing
    if not LedgerEntry.objects.filter(key=f"sale:{locked.pk}").exists():
        return None
    target, booked = settlement_figures(locked), _booked(locked)
    delta = {name: target[name] - booked[name] for name in ("gross", "commission", "tax", "net")}
    if not any(delta.values()):
        return None
    return LedgerEntry.objects.create(
        farm_id=locked.farm_id,
        farm_order=locked,
        kind=LedgerKind.REFUND,
        key=key,
        by=by,
        note=(note or "")[:300],
        **delta,
    )


def farm_balance(farm) -> int:
    """Return what the marketplace owes the household now, in đồng (the sum of its entries' net)."""
    return LedgerEntry.objects.filter(farm=farm).aggregate(balance=Sum("net"))["balance"] or 0


PAYOUT_KEY_PREFIX = "payout:"


@transaction.atomic
def payout_record(
    *, farm, amount: int, reference: str, by, note: str = "", idempotency_key: str | None = None
) -> LedgerEntry:
    """Record money transferred to a household (staff only: the caller checks); return the entry.

    `amount` is a whole number of đồng, more than 0 and at most the balance; `reference` is the
    bank transfer's. The farm row is locked first, so two payouts at once cannot overdraw. A
    caller's `idempotency_key` books at most one payout: the same key again returns that one.
    """
    reference = (reference or "").strip()
    errors = {}
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        errors["amount"] = _("Enter the amount paid out: a whole number of đồng, more than 0.")
    if not reference:
        errors["reference"] = _("Enter the bank transfer's reference, as the bank shows it.")
    elif len(reference) > REFERENCE_MAX_LENGTH:
        errors["reference"] = _("The reference is at most %(max)d characters.") % {
            "max": REFERENCE_MAX_LENGTH
        }
    key = PAYOUT_KEY_PREFIX + (idempotency_key or str(uuid.uuid4()))
    if len(key) > KEY_MAX_LENGTH:
        errors["idempotency_key"] = _("The idempotency key is at most %(max)d characters.") % {
            "max": KEY_MAX_LENGTH - len(PAYOUT_KEY_PREFIX)
        }
    if errors:
        raise ValidationError(errors)
    Farm.objects.select_for_update().only("pk").get(pk=farm.pk)
    existing = LedgerEntry.objects.filter(key=key).first()
    if existing is not None:
        if (existing.farm_id, existing.kind, existing.net, existing.reference) != (
            farm.pk,
            LedgerKind.PAYOUT,
            -amount,
            reference,
        ):
            raise Conflict(
                _("This idempotency key was already used for another payout."), code="idempotency_key_reused"
            )
        return existing
    balance = farm_balance(farm)
    if amount > balance:
        raise Conflict(
            _("The payout of %(amount)s is more than the household's balance of %(balance)s.")
            % {"amount": format_vnd(amount), "balance": format_vnd(balance)},
            code="over_balance",
            balance=balance,
        )
    return LedgerEntry.objects.create(
        farm_id=farm.pk,
        kind=LedgerKind.PAYOUT,
        key=key,
        net=-amount,
        reference=reference,
        note=(note or "").strip()[:NOTE_MAX_LENGTH],
        by=by,
    )


def farm_orders_settle_missed(*, limit: int = 500) -> int:
    """Book the delivered parts whose settlement task never ran (broker down at the commit, retries
    spent); return how many were booked. The periodic safety net behind `settle_farm_order`."""
    missed = (
        FarmOrder.objects.filter(status=FarmOrderStatus.DELIVERED)
        .exclude(ledger__kind=LedgerKind.SALE)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    booked = 0
    for pk in list(missed):
        booked += farm_order_settle(farm_order=FarmOrder(pk=pk)) is not None
    return booked
