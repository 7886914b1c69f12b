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

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from ..models import FarmOrder, FarmOrderStatus, LedgerEntry, LedgerKind, ProblemStatus


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
