"""Demo sales history for `manage.py load_demo`: months of orders, so the officials' dashboard has trends.

Unlike the two live demo orders (`orders.demo`, placed through the services), the history is
written straight into the tables with `bulk_create` — thousands of orders through the services
would take minutes — and then rolled up with the real rebuilds. It is made to look like what
the services would have left behind, so the periodic tasks started by `make run` find nothing
to do with it:
- every order is finished: its parts delivered (the order completed once its problem-report
  window passed), or cancelled, rejected, not answered in time, returned after a failed delivery;
  an online order never paid expired; nothing waits for a household, a courier or a provider;
- status changes are recorded as the transition functions record them (the order's status
  follows its parts through `orders.states.order_status_from`), at plausible times, so lead
  times, late and failed deliveries are real;
- payments are settled: cash collected on delivery, transfers and cards paid, shares that left
  an order refunded (refunds already sent), a few problems reported after delivery refunded;
- every delivered part has its sale in the settlement ledger (the same rule as
  `orders.services.ledger.settlement_figures`), refunds reverse it, and weekly payouts leave
  each household the balance of its last days;
- stock is not taken: listings keep what they have for sale today.

Households join over the months (their registrations and approvals are moved back in time, so
the registration facts have history too) and sell only once verified. Prices follow each
produce's season around today's listing price; one listing (Khoai lang tím Nhật) has a glut in
the last two weeks, so the dashboard's price-drop warning shows on the first run.

Buyers are ~150 plain accounts with unusable passwords and numbers in the retired 0199 prefix,
which `normalize_phone` refuses: no real or demo account can ever have one. The history exists
when the first of them does (all of it is written in one transaction); loading again does
nothing. Deterministic for a seed, except the unusable password hashes.
"""

import math
import random
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from farms.demo import PRODUCE, demo_phones
from farms.models import Farm, FarmAction, FarmDecision, FarmStatus, Product, ProductStatus
from farms.units import kg_per_unit
from marketplace.accounts.models import Role, User
from marketplace.geo.models import Ward
from orders.models import (
    FarmOrder,
    FarmOrderStatus,
    LedgerEntry,
    LedgerKind,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentRecordStatus,
    PaymentStatus,
    Problem,
    ProblemKind,
    ProblemStatus,
    Refund,
    RefundStatus,
    StatusChange,
)
from orders.services.checkout import PLACED_NOTE
from orders.services.fulfilment import NO_ANSWER_NOTE
from orders.services.ledger import round_dong
from orders.services.orders import ROLL_UP_NOTE
from orders.services.payments import EXPIRED_NOTE, PAID_NOTE
from orders.services.problems import COMPLETED_NOTE, REFUND_REASON
from orders.states import LIVE_FARM_ORDER_STATUSES, order_status_from

from .operations import fulfilment_rebuild, registrations_rebuild
from .rollups import rollups_rebuild

SEED = 20251130
BUYERS = 150
BATCH = 1000
# 0199 was a Gmobile prefix, retired in 2018: `normalize_phone` refuses these numbers, so no
# sign-up can ever take one, and they cannot be a demo household's or a demo account's.
PHONE_PREFIX = "+84199"
GLUT_PRODUCE = "khoai_lang"
F = FarmOrderStatus

# Month (1–12) of each produce's peak: more sold and cheaper then, less and dearer off season.
SEASON_PEAK = {
    "mangcut": 6.5,
    "chomchom": 7,
    "dau_ha_chau": 7,
    "ri6": 7,
    "monthong": 7.5,
    "nhan": 8,
    "xoai": 5,
    "buoi_da_xanh": 10.5,
    "buoi_nam_roi": 10.5,
    "cam_sanh": 11,
    "quyt_duong": 12,
    "st25": 3,
    "st25_shrimp": 3,
    "jasmine": 8,
    "nep": 8,
    "ca_tra": 9,
    "ca_loc": 10,
    "tom_cang": 10,
    "hanh_tim": 2,
    "khom": 4,
    "dua_luoi": 1,
    "banh_pia": 9,  # the mid-autumn festival
}
# How much each top-level category sells (1 rice, 2 fruit, 3 vegetables, 4 fish, 5 poultry, 6 processed).
CATEGORY_WEIGHT = {1: 3.0, 2: 1.7, 3: 2.4, 4: 2.0, 5: 1.3, 6: 0.9}
PAYMENT_MIX = {
    "household": ((PaymentMethod.COD, 74), (PaymentMethod.VIETQR, 15), (PaymentMethod.STRIPE, 11)),
    "business": ((PaymentMethod.COD, 55), (PaymentMethod.VIETQR, 35), (PaymentMethod.STRIPE, 10)),
}

FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Huỳnh",
    "Hoàng",
    "Phan",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
]
MIDDLE_F = ["Thị", "Ngọc", "Thu", "Kim", "Thanh", "Mỹ", "Bích"]
MIDDLE_M = ["Văn", "Minh", "Quốc", "Hoàng", "Thanh", "Hữu", "Công"]
GIVEN_F = [
    "Lan",
    "Hoa",
    "Mai",
    "Hạnh",
    "Thảo",
    "Trang",
    "Uyên",
    "Vy",
    "Yến",
    "Nhung",
    "Linh",
    "Tuyết",
    "Diễm",
    "Ngân",
]
GIVEN_M = [
    "Anh",
    "Bình",
    "Dũng",
    "Hiếu",
    "Khoa",
    "Nam",
    "Phúc",
    "Quân",
    "Sang",
    "Tài",
    "Tuấn",
    "Lộc",
    "Trí",
    "Hậu",
]
BUSINESS = [
    "Quán cơm",
    "Quán bún",
    "Nhà hàng",
    "Tiệm tạp hóa",
    "Bếp ăn",
    "Quán hủ tiếu",
    "Cà phê",
    "Quán lẩu",
]
STREETS = [
    "đường 30 Tháng 4",
    "đường Mậu Thân",
    "đường 3 Tháng 2",
    "đường Trần Hưng Đạo",
    "đường Nguyễn Văn Cừ",
    "đường Hùng Vương",
    "đường Lý Tự Trọng",
    "đường Cách Mạng Tháng 8",
    "đường Nguyễn Văn Linh",
    "đường Trần Phú",
    "đường Võ Văn Kiệt",
    "đường Phạm Ngũ Lão",
]
REJECT_REASONS = [
    "Mưa lớn, chưa thu hoạch kịp.",
    "Hàng đợt này không đạt loại 1, xin lỗi anh/chị.",
    "Đã bán hết cho thương lái sáng nay.",
    "Nhà có việc, không giao được mấy ngày tới.",
]
CANCEL_REASONS = ["Đặt nhầm số lượng.", "Không cần nữa.", "Đổi địa chỉ nhận hàng.", ""]
FAILED_NOTES = ["Khách không nghe máy.", "Không có người nhận ở nhà.", "Sai địa chỉ, đang liên hệ lại."]
PROBLEM_TEXT = {
    ProblemKind.MISSING: "Thiếu khoảng nửa ký so với đơn.",
    ProblemKind.DAMAGED: "Vài trái bị dập khi giao.",
    ProblemKind.NOT_FRESH: "Hàng không còn tươi như hình.",
    ProblemKind.WRONG_ITEM: "Giao nhầm loại.",
}
PROBLEM_ANSWER = "Xin lỗi anh/chị, vườn hoàn lại phần hàng bị lỗi."
DECLINE_ANSWER = "Hàng đã được kiểm trước khi giao, ảnh chụp lúc đóng gói có gửi kèm."
PAYOUT_NOTE = "Chuyển khoản hằng tuần"


def history_phone(number: int) -> str:
    """Return the canonical phone of demo history buyer `number` (from 1)."""
    return f"{PHONE_PREFIX}{number:06d}"


def demo_history_exists() -> bool:
    """Return whether the demo history was loaded (one indexed lookup)."""
    return User.objects.filter(phone=history_phone(1)).exists()


@dataclass
class _Listing:
    product: Product
    produce: str
    kg: Decimal | None  # kg per unit, None when unknown
    weight: float
    processed: bool
    owner_id: int


@dataclass
class _Buyer:
    user: User
    kind: str  # "household" or "business"
    weight: float
    ward: str
    address: str
    joined: date


@dataclass
class _Part:
    farm_order: FarmOrder
    lines: list[OrderLine]
    events: list[tuple] = field(default_factory=list)  # (at, from, to, by, note)
    refunds: int = 0


class _Clock:
    """Local (Cần Thơ) times made aware."""

    def __init__(self):
        self.zone = ZoneInfo(settings.TIME_ZONE)

    def at(self, day: date, hours: float) -> datetime:
        return datetime.combine(day, time.min, self.zone) + timedelta(hours=hours)


@contextmanager
def _raw_times(*models):
    """Let bulk_create keep the given created_at/updated_at (auto_now fields would overwrite them)."""
    saved = []
    for model in models:
        for fld in model._meta.concrete_fields:
            if getattr(fld, "auto_now", False) or getattr(fld, "auto_now_add", False):
                saved.append((fld, fld.auto_now, fld.auto_now_add))
                fld.auto_now = fld.auto_now_add = False
    try:
        yield
    finally:
        for fld, auto_now, auto_now_add in saved:
            fld.auto_now, fld.auto_now_add = auto_now, auto_now_add


def _round(amount: float, step: int = 500) -> int:
    return max(step, round(amount / step) * step)


def _produce_of(name: str) -> str:
    """The produce key a listing was made from: the longest produce name it starts with."""
    best, length = "", 0
    for key, produce in PRODUCE.items():
        if name.startswith(produce.name) and len(produce.name) > length:
            best, length = key, len(produce.name)
    return best


def _season(produce: str, day: date) -> float:
    """cos of the distance to the produce's peak month: 1 at the peak, −1 half a year away."""
    peak = SEASON_PEAK.get(produce)
    if peak is None:
        return 0.0
    month = day.month + (day.day - 1) / 31
    return math.cos(2 * math.pi * (month - peak) / 12)


class _History:
    def __init__(self, *, rng: random.Random, first: date, last: date, now: datetime):
        self.rng = rng
        self.first, self.last, self.now = first, last, now
        self.clock = _Clock()
        self.orders: list[Order] = []
        self.parts: list[tuple[Order, list[_Part], list[tuple]]] = []
        self.payments: list[Payment] = []
        self.drift: dict[int, float] = {}
        self.refunds: list[tuple] = []

    # --- prices and volumes ---------------------------------------------------------------------

    def price_factor(self, listing: _Listing, day: date) -> float:
        """Price relative to today's listing price on `day` (1.0 today)."""
        if listing.produce == GLUT_PRODUCE:
            # A glut: steady and dear, a slide, then a collapse in the last week to today's price.
            ago = (self.last - day).days + 1
            if ago > 14:
                return 1.5 + 0.04 * math.sin(day.toordinal() / 9)
            if ago > 7:
                return 1.5 - 0.015 * (14 - ago)
            return 1.0 + 0.02 * (ago - 1) / 6
        amplitude = 0.07 if listing.produce in SEASON_PEAK else 0.0
        phase = self.drift.setdefault(listing.product.pk, self.rng.uniform(0, 2 * math.pi))
        wobble = 0.025 * math.sin(day.toordinal() / 23 + phase)
        today = self.last + timedelta(days=1)
        wobble_today = 0.025 * math.sin(today.toordinal() / 23 + phase)
        return (1 - amplitude * _season(listing.produce, day) + wobble) / (
            1 - amplitude * _season(listing.produce, today) + wobble_today
        )

    def volume(self, listing: _Listing, day: date) -> float:
        if listing.produce == GLUT_PRODUCE:
            return listing.weight * (2.5 if (self.last - day).days < 14 else 1.0)
        if listing.produce in SEASON_PEAK:
            return listing.weight * (0.55 + 0.45 * _season(listing.produce, day))
        return listing.weight

    def quantity(self, listing: _Listing, kind: str) -> Decimal:
        product = listing.product
        unit_value = product.price
        if unit_value >= 150_000:
            choices = [1, 1, 2]
        elif unit_value >= 50_000:
            choices = [1, 2, 2, 3]
        elif unit_value >= 15_000:
            choices = [2, 3, 5, 5]
        else:
            choices = [3, 5, 10]
        amount = Decimal(self.rng.choice(choices))
        if (
            kind == "business"
            and product.category_id // 100 in (1, 3, 4, 5)
            and product.unit not in ("yen", "ta")
        ):
            amount *= self.rng.choice([2, 3, 5])
        if product.unit in ("yen", "ta"):
            amount = Decimal(self.rng.choice([1, 1, 2, 3] if kind == "business" else [1]))
        if product.min_order < 1 and self.rng.random() < 0.4:
            amount -= Decimal("0.5")
        return max(amount, product.min_order)

    # --- one order ------------------------------------------------------------------------------

    def order(self, *, number: str, buyer: _Buyer, day: date, baskets: list[list[_Listing]]) -> None:
        rng, clock = self.rng, self.clock
        hour = rng.choices(range(6, 23), weights=[2, 4, 6, 7, 6, 5, 4, 3, 3, 4, 5, 6, 7, 6, 4, 3, 2])[0]
        placed = clock.at(day, hour + rng.random())
        method = rng.choices(*zip(*PAYMENT_MIX[buyer.kind], strict=True))[0]
        parts: list[_Part] = []
        weight = Decimal(0)
        for basket in baskets:
            lines = []
            for listing in basket:
                product = listing.product
                noise = 1 + rng.uniform(-0.03, 0.03)
                step = 1000 if product.price >= 200_000 else 500
                price = _round(product.price * self.price_factor(listing, day) * noise, step)
                quantity = self.quantity(listing, buyer.kind)
                lines.append(
                    OrderLine(
                        product=product,
                        product_name=product.name,
                        unit=product.unit,
                        unit_price=price,
                        quantity=quantity,
                        line_total=round_dong(price * quantity),
                    )
                )
                if listing.kg is not None:
                    weight += quantity * listing.kg
            subtotal = sum(line.line_total for line in lines)
            farm_order = FarmOrder(
                farm_id=basket[0].product.farm_id,
                status=F.AWAITING_PAYMENT,
                subtotal=subtotal,
                created_at=placed,
                updated_at=placed,
            )
            parts.append(_Part(farm_order, lines))
        subtotal = sum(part.farm_order.subtotal for part in parts)
        fee = min(15_000 + 3_000 * math.ceil(max(float(weight) - 3, 0) / 5), 45_000)
        asked = day + timedelta(days=rng.choice([1, 1, 2])) if rng.random() < 0.2 else None
        order = Order(
            buyer=buyer.user,
            number=number,
            status=OrderStatus.PENDING_PAYMENT,
            payment_status=PaymentStatus.UNPAID,
            payment_method=method,
            subtotal=subtotal,
            delivery_fee=fee,
            total=subtotal + fee,
            delivery_name=buyer.user.full_name,
            delivery_phone=buyer.user.phone,
            delivery_address=buyer.address,
            delivery_ward_id=buyer.ward,
            delivery_date=asked,
            weight_kg=weight.quantize(Decimal("0.001")),
            created_at=placed,
            updated_at=placed,
        )
        order_changes = [(placed, "", OrderStatus.PENDING_PAYMENT, buyer.user.pk, PLACED_NOTE)]
        payment = Payment(
            order=order,
            method=method,
            amount=order.total,
            status=PaymentRecordStatus.PENDING,
            created_at=placed,
            updated_at=placed,
        )
        if method != PaymentMethod.COD and rng.random() < 0.03:
            # Never paid: the hold ran out, the order and its parts were let go.
            expired = placed + timedelta(minutes=settings.PAYMENT_HOLD_MINUTES + rng.uniform(0, 1))
            payment.status = PaymentRecordStatus.CANCELLED
            payment.updated_at = expired
            order_changes.append(
                (expired, OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED, None, EXPIRED_NOTE)
            )
            for part in parts:
                part.events.append((expired, F.AWAITING_PAYMENT, F.CANCELLED, None, EXPIRED_NOTE))
                part.farm_order.status = F.CANCELLED
            order.status = OrderStatus.CANCELLED
            order.subtotal = order.delivery_fee = order.total = 0
            order.updated_at = expired
            self._keep(order, parts, order_changes, payment)
            return
        if method == PaymentMethod.COD:
            confirmed = placed + timedelta(seconds=1)
            order_changes.append((confirmed, OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED, None, ""))
        else:
            confirmed = placed + timedelta(minutes=rng.uniform(1, 25))
            order_changes.append(
                (confirmed, OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED, None, PAID_NOTE)
            )
            payment.status = PaymentRecordStatus.PAID
            payment.paid_amount = order.total
            payment.paid_at = confirmed
            payment.reference = f"{'cs' if method == PaymentMethod.STRIPE else 'QR'}_demo_{number}"
            order.payment_status = PaymentStatus.PAID
        for part in parts:
            self._fulfil(part, buyer=buyer, released=confirmed, asked=asked)
        # The last orders would end in the future: their steps are squeezed into the time until now.
        limit = self.now - timedelta(minutes=10)
        end = max(event[0] for part in parts for event in part.events)
        if end > limit:
            ratio = (limit - placed) / (end - placed)

            def squeeze(at: datetime) -> datetime:
                return placed + (at - placed) * ratio

            order_changes = [(squeeze(at), *rest) for at, *rest in order_changes]
            for part in parts:
                part.events = [(squeeze(at), *rest) for at, *rest in part.events]
                part.farm_order.released_at = squeeze(part.farm_order.released_at)
            if payment.paid_at is not None:
                payment.paid_at = squeeze(payment.paid_at)
        self._roll_up(order, parts, order_changes)
        self._settle(order, parts, payment)
        self._keep(order, parts, order_changes, payment)

    def _fulfil(self, part: _Part, *, buyer: _Buyer, released: datetime, asked: date | None) -> None:
        """Walk one part through the households' and the courier's steps to its end."""
        rng = self.rng
        owner = part.lines[0].product.farm.owner_id
        fo = part.farm_order
        fo.released_at = released
        events = part.events
        events.append((released, F.AWAITING_PAYMENT, F.NEW, None, ""))
        roll = rng.random()
        hours = timedelta(hours=1)
        if roll < 0.03:
            events.append(
                (released + hours * rng.uniform(0.3, 8), F.NEW, F.REJECTED, owner, rng.choice(REJECT_REASONS))
            )
            return
        if roll < 0.045:
            late = hours * settings.FARM_ORDER_ANSWER_HOURS + timedelta(minutes=rng.uniform(0, 5))
            events.append((released + late, F.NEW, F.CANCELLED, None, NO_ANSWER_NOTE))
            return

        def buyer_cancels(after: datetime, status: str, within: float) -> None:
            at = after + hours * rng.uniform(0.1, within)
            events.append((at, status, F.CANCELLED, buyer.user.pk, rng.choice(CANCEL_REASONS)))

        if roll < 0.07:
            buyer_cancels(released, F.NEW, 3)
            return
        accepted = released + hours * min(
            rng.lognormvariate(0.2, 0.9), settings.FARM_ORDER_ANSWER_HOURS - 0.5
        )
        events.append((accepted, F.NEW, F.ACCEPTED, owner, ""))
        if roll < 0.08:
            buyer_cancels(accepted, F.ACCEPTED, 4)
            return
        ready = accepted + hours * rng.uniform(1, 16)
        if rng.random() < 0.06:
            ready += hours * rng.uniform(24, 48)  # a slow household: this one will be late
        events.append((ready, F.ACCEPTED, F.READY, owner, ""))
        picked = ready + hours * rng.uniform(0.5, 14)
        courier = None
        events.append((picked, F.READY, F.PICKED_UP, courier, ""))
        if roll > 0.965:
            failed = picked + hours * rng.uniform(2, 6)
            events.append((failed, F.PICKED_UP, F.FAILED_DELIVERY, courier, rng.choice(FAILED_NOTES)))
            if roll > 0.985:
                events.append(
                    (failed + hours * rng.uniform(6, 30), F.FAILED_DELIVERY, F.RETURNED, courier, "")
                )
                return
            picked = failed + hours * rng.uniform(14, 26)
            events.append((picked, F.FAILED_DELIVERY, F.PICKED_UP, courier, ""))
        delivered = picked + hours * rng.uniform(0.7, 6)
        if asked is not None:
            # A buyer who asked for a day mostly gets it: the courier goes that day.
            wanted = self.clock.at(asked, rng.uniform(8, 17))
            if delivered < wanted and rng.random() < 0.9:
                delivered = wanted
        events.append((delivered, F.PICKED_UP, F.DELIVERED, courier, ""))

    def _roll_up(self, order: Order, parts: list[_Part], changes: list[tuple]) -> None:
        """Apply the parts' moves in time order; the order follows them as the services make it."""
        moves = sorted(((event, part) for part in parts for event in part.events), key=lambda m: m[0][0])
        statuses = {id(part): F.AWAITING_PAYMENT for part in parts}
        current = OrderStatus.CONFIRMED
        for (at, _frm, to, by, _note), part in moves:
            statuses[id(part)] = to
            part.farm_order.status = to
            part.farm_order.updated_at = at
            target = order_status_from(statuses.values(), current=current)
            if target != current:
                changes.append((at, current, target, by, ROLL_UP_NOTE))
                current = target
        order.status = current
        order.updated_at = max(at for at, *_rest in changes)

    def _settle(self, order: Order, parts: list[_Part], payment: Payment) -> None:
        """Shrink the order to its live parts, refund what left, collect the cash, complete."""
        live = [part for part in parts if part.farm_order.status in LIVE_FARM_ORDER_STATUSES]
        order.subtotal = sum(part.farm_order.subtotal for part in live)
        order.delivery_fee = order.delivery_fee if live else 0
        order.total = order.subtotal + order.delivery_fee
        if payment.status == PaymentRecordStatus.PAID:
            for part in parts:
                if part not in live:
                    left_at = part.events[-1][0]
                    part.refunds = part.farm_order.subtotal
                    self._refund(payment, part.farm_order.subtotal, "farm-order-{fo}", left_at, part, "")
            if not live:
                self._refund(
                    payment,
                    payment.paid_amount - payment.refunded_amount,
                    "order-{order}-delivery",
                    order.updated_at,
                    None,
                    "",
                )
        elif live:
            delivered_at = max(part.events[-1][0] for part in live)
            payment.amount = order.total
            payment.status = PaymentRecordStatus.PAID
            payment.paid_amount = order.total
            payment.paid_at = delivered_at
            order.payment_status = PaymentStatus.PAID
        else:
            payment.status = PaymentRecordStatus.CANCELLED
        payment.updated_at = order.updated_at
        if payment.refunded_amount:
            order.payment_status = (
                PaymentStatus.REFUNDED
                if payment.refunded_amount >= payment.paid_amount
                else PaymentStatus.PARTIALLY_REFUNDED
            )

    def _refund(self, payment, amount, key, at, part, reason) -> None:
        if amount <= 0:
            return
        payment.refunded_amount += amount
        self.refunds.append((payment, amount, key, at, part, reason))

    def _keep(self, order, parts, changes, payment) -> None:
        self.orders.append(order)
        self.parts.append((order, parts, changes))
        self.payments.append(payment)


@transaction.atomic
def demo_history_load(*, months: int = 6, seed: int = SEED) -> int:
    """Load `months` of demo sales before today once; return how many orders were written.

    Does nothing (returns 0) when the history exists already or there are no demo households.
    """
    if months <= 0 or demo_history_exists():
        return 0
    months = min(months, 11)  # order numbers carry the day and month only: less than a year of days
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible on purpose
    now = timezone.now()
    today = timezone.localdate()
    last = today - timedelta(days=1)
    first = last - timedelta(days=round(months * 30.44) - 1)
    farms = list(
        Farm.objects.filter(owner__phone__in=demo_phones(), status=FarmStatus.VERIFIED).order_by("pk")
    )
    if not farms:
        return 0
    joined = _households_join(farms, rng=rng, first=first, last=last, now=now)
    listings = _listings(farms, rng=rng, today=today)
    if not listings:
        return 0
    buyers = _buyers(rng=rng, first=first, last=last)
    history = _History(rng=rng, first=first, last=last, now=now)
    by_farm: dict[int, list[_Listing]] = defaultdict(list)
    for listing in listings:
        by_farm[listing.product.farm_id].append(listing)
    span = (last - first).days + 1
    day = first
    while day <= last:
        age = (day - first).days / max(span - 1, 1)
        base = 17 + 25 * age  # the marketplace grows
        weekend = 1.35 if day.weekday() >= 5 else 1.0
        count = max(1, round(base * weekend * rng.uniform(0.85, 1.15)))
        open_farms = {farm_pk for farm_pk, since in joined.items() if since <= day}
        candidates = [item for item in listings if item.product.farm_id in open_farms]
        weights = [history.volume(item, day) for item in candidates]
        active = [buyer for buyer in buyers if buyer.joined <= day]
        buyer_weights = [buyer.weight for buyer in active]
        numbers = rng.sample(range(1000, 10000), count)
        for index in range(count):
            buyer = rng.choices(active, weights=buyer_weights)[0]
            parts_n = rng.choices([1, 2, 3], weights=[85, 13, 2])[0]
            baskets, used = [], set()
            for _part in range(parts_n):
                first_pick = rng.choices(candidates, weights=weights)[0]
                if first_pick.product.farm_id in used:
                    continue
                used.add(first_pick.product.farm_id)
                basket = [first_pick]
                same = [item for item in by_farm[first_pick.product.farm_id] if item is not first_pick]
                extra = min(rng.choices([0, 1, 2], weights=[65, 28, 7])[0], len(same))
                basket += rng.sample(same, extra)
                baskets.append(basket)
            number = f"CN-{day:%d%m}-{numbers[index]:04d}"
            history.order(number=number, buyer=buyer, day=day, baskets=baskets)
        day += timedelta(days=1)
    _write(history, rng=rng, buyers=buyers, listings=listings, now=now)
    rollups_rebuild(first=first, last=today)
    fulfilment_rebuild(first=first, last=today)
    registrations_rebuild(first=min(first, min(joined.values()) - timedelta(days=10)), last=today)
    return len(history.orders)


def _households_join(farms: list[Farm], *, rng, first: date, last: date, now: datetime) -> dict[int, date]:
    """Move the demo households' registrations back in time; return the day each may sell from.

    Two in three were verified before the history starts; the others join over its first
    two thirds. Their accounts, registrations, approvals and listings move back with them.
    """
    clock = _Clock()
    span = (last - first).days
    joined = {}
    early = round(len(farms) * 2 / 3)
    for index, farm in enumerate(farms):
        if index < early:
            verified_day = first - timedelta(days=rng.randint(5, 60))
        else:
            verified_day = first + timedelta(days=rng.randint(10, span * 2 // 3))
        verified_at = clock.at(verified_day, rng.uniform(8, 16))
        registered_at = verified_at - timedelta(days=rng.uniform(1, 6))
        joined[farm.pk] = verified_day
        User.objects.filter(pk=farm.owner_id, date_joined__gt=registered_at).update(date_joined=registered_at)
        Farm.objects.filter(pk=farm.pk).update(
            created_at=registered_at, verified_at=verified_at, status_changed_at=verified_at
        )
        FarmDecision.objects.filter(farm=farm, action=FarmAction.SUBMITTED).update(at=registered_at)
        FarmDecision.objects.filter(farm=farm, action=FarmAction.APPROVED).update(at=verified_at)
        Product.objects.filter(farm=farm).update(created_at=verified_at + timedelta(hours=1))
    return joined


def _listings(farms: list[Farm], *, rng, today: date) -> list[_Listing]:
    sellable = (ProductStatus.ACTIVE, ProductStatus.PAUSED, ProductStatus.SOLD_OUT)
    products = (
        Product.objects.filter(farm__in=farms, status__in=sellable)
        .exclude(available_from__gt=today)  # pre-orders of a coming harvest have no past
        .select_related("farm", "category")
        .order_by("pk")
    )
    listings = []
    for product in products:
        produce = _produce_of(product.name)
        top = product.category_id // 100
        weight = CATEGORY_WEIGHT.get(top, 1.0) * rng.uniform(0.6, 1.4)
        if product.category_id == 504:  # eggs sell like vegetables
            weight *= 1.6
        if produce == GLUT_PRODUCE:
            weight *= 1.5
        if product.unit in ("yen", "ta"):  # by the sack: a few shops and kitchens only
            weight *= 0.2
        kg = kg_per_unit(product.unit, product.unit_weight_kg)
        listings.append(
            _Listing(product, produce, kg, weight, product.category.processed, product.farm.owner_id)
        )
    return listings


def _name(rng, kind: str) -> str:
    female = rng.random() < 0.55
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    if kind == "business":
        return f"{rng.choice(BUSINESS)} {rng.choice(['Cô', 'Chú', 'Út', 'Bà', 'Anh'])} {given}"
    middle = rng.choice(MIDDLE_F if female else MIDDLE_M)
    return f"{rng.choice(FAMILY)} {middle} {given}"


def _buyers(*, rng, first: date, last: date) -> list[_Buyer]:
    """Create the history's buyers in bulk: a third there from the start, the rest joining over time."""
    clock = _Clock()
    wards = list(Ward.objects.order_by("code").values_list("code", "type"))
    ward_weights = [4 if kind == "phuong" else 1 for _code, kind in wards]
    span = (last - first).days
    password = make_password(None)
    consent = settings.PRIVACY_NOTICE_VERSION
    buyers, users = [], []
    for number in range(1, BUYERS + 1):
        kind = "business" if rng.random() < 0.22 else "household"
        joined = (
            first - timedelta(days=rng.randint(1, 90))
            if number <= BUYERS // 3
            else first + timedelta(days=rng.randint(0, span - 7))
        )
        if number == 1:
            joined = first - timedelta(days=120)
        joined_at = clock.at(joined, rng.uniform(7, 22))
        user = User(
            phone=history_phone(number),
            full_name=_name(rng, kind),
            role=Role.BUYER,
            password=password,
            date_joined=joined_at,
            privacy_consent_at=joined_at,
            privacy_notice_version=consent,
        )
        users.append(user)
        ward = rng.choices(wards, weights=ward_weights)[0][0]
        address = (
            f"{rng.randint(1, 250)} {rng.choice(STREETS)}"
            if rng.random() < 0.7
            else f"Ấp {rng.randint(1, 9)}"
        )
        activity = rng.lognormvariate(0, 0.8) * (3.0 if kind == "business" else 1.0)
        buyers.append(_Buyer(user, kind, activity, ward, address, joined))
    User.objects.bulk_create(users, batch_size=BATCH)
    return buyers


def _settlement(lines: list[OrderLine], processed: dict[int, bool], refunds: int = 0) -> dict[str, int]:
    """`settlement_figures` of a delivered part, from its lines in memory (a refund off its first line)."""
    gross = taxable = 0
    for index, line in enumerate(lines):
        earned = max(line.line_total - (refunds if index == 0 else 0), 0)
        gross += earned
        if processed[line.product_id]:
            taxable += earned
    commission = round_dong(gross * Decimal(str(settings.COMMISSION_PERCENT)) / 100)
    tax = round_dong(taxable * Decimal(str(settings.TAX_WITHHELD_PERCENT)) / 100)
    return {"gross": gross, "commission": commission, "tax": tax, "net": gross - commission - tax}


def _write(history: _History, *, rng, buyers, listings, now: datetime) -> None:
    """Insert the orders, parts, lines, status changes, payments, refunds, problems and ledger."""
    processed = {listing.product.pk: listing.processed for listing in listings}
    with _raw_times(Order, FarmOrder, Payment, Refund, Problem):
        Order.objects.bulk_create(history.orders, batch_size=BATCH)
        all_parts = [part for _order, parts, _changes in history.parts for part in parts]
        for order, parts, _changes in history.parts:
            for part in parts:
                part.farm_order.order = order
        FarmOrder.objects.bulk_create([part.farm_order for part in all_parts], batch_size=BATCH)
        lines = []
        for part in all_parts:
            for line in part.lines:
                line.farm_order = part.farm_order
                lines.append(line)
        OrderLine.objects.bulk_create(lines, batch_size=BATCH)
        changes = []
        for order, parts, order_changes in history.parts:
            for at, frm, to, by, note in order_changes:
                changes.append(
                    StatusChange(order=order, from_status=frm, to_status=to, by_id=by, at=at, note=note)
                )
            for part in parts:
                for at, frm, to, by, note in part.events:
                    changes.append(
                        StatusChange(
                            order=order,
                            farm_order=part.farm_order,
                            from_status=frm,
                            to_status=to,
                            by_id=by,
                            at=at,
                            note=note,
                        )
                    )
        StatusChange.objects.bulk_create(changes, batch_size=BATCH)

        # Problems reported after delivery: about one delivered part in a hundred.
        ledger: list[LedgerEntry] = []
        problems: list[tuple[Problem, _Part, datetime]] = []
        completed_changes = []
        for order, parts, _changes in history.parts:
            for part in parts:
                if part.farm_order.status != F.DELIVERED:
                    continue
                delivered_at = part.events[-1][0]
                ledger.append(
                    LedgerEntry(
                        farm_id=part.farm_order.farm_id,
                        farm_order=part.farm_order,
                        kind=LedgerKind.SALE,
                        key=f"sale:{part.farm_order.pk}",
                        at=delivered_at,
                        **_settlement(part.lines, processed),
                    )
                )
                if rng.random() < 0.012 and delivered_at + timedelta(hours=40) < now:
                    line = part.lines[0]
                    kind = rng.choice(list(PROBLEM_TEXT))
                    reported = delivered_at + timedelta(hours=rng.uniform(1, 20))
                    answered = reported + timedelta(hours=rng.uniform(2, 20))
                    resolved = rng.random() < 0.8
                    refund = _round(line.line_total * rng.uniform(0.2, 0.6), 1000) if resolved else 0
                    refund = min(refund, line.line_total)
                    problem = Problem(
                        farm_order=part.farm_order,
                        line=line,
                        reported_by=order.buyer,
                        kind=kind,
                        quantity=min(line.quantity, max(line.quantity / 2, Decimal("0.5"))).quantize(
                            Decimal("0.001")
                        ),
                        description=PROBLEM_TEXT[kind],
                        status=ProblemStatus.RESOLVED if resolved else ProblemStatus.DECLINED,
                        refund_amount=refund,
                        answer=PROBLEM_ANSWER if resolved else DECLINE_ANSWER,
                        answered_by_id=part.lines[0].product.farm.owner_id,
                        answered_at=answered,
                        created_at=reported,
                    )
                    problems.append((problem, part, answered))
        Problem.objects.bulk_create([problem for problem, _part, _at in problems], batch_size=BATCH)
        payment_of = {payment.order.number: payment for payment in history.payments}
        for problem, part, answered in problems:
            if not problem.refund_amount:
                continue
            booked = _settlement(part.lines, processed)
            after = _settlement(part.lines, processed, refunds=problem.refund_amount)
            ledger.append(
                LedgerEntry(
                    farm_id=part.farm_order.farm_id,
                    farm_order=part.farm_order,
                    kind=LedgerKind.REFUND,
                    key=f"refund:{problem.pk}",
                    at=answered,
                    note=REFUND_REASON,
                    by_id=problem.answered_by_id,
                    **{name: after[name] - booked[name] for name in after},
                )
            )
            order = part.farm_order.order
            payment = payment_of[order.number]
            history._refund(
                payment, problem.refund_amount, f"problem-{problem.pk}", answered, None, REFUND_REASON
            )
            order.payment_status = PaymentStatus.PARTIALLY_REFUNDED
        # Orders past their problem-report window are completed (as the sweep would have).
        window = timedelta(hours=settings.PROBLEM_REPORT_HOURS)
        answered_of = defaultdict(list)
        for _problem, part, answered in problems:
            answered_of[part.farm_order.order_id].append(answered)
        for order, parts, _changes in history.parts:
            if order.status != OrderStatus.DELIVERED:
                continue
            delivered_at = max(part.events[-1][0] for part in parts if part.farm_order.status == F.DELIVERED)
            # As the sweep decides: once the report window has passed (answers come within it).
            if delivered_at + window < now:
                done = max([delivered_at + window, *answered_of[order.pk]])
                done = min(done + timedelta(minutes=rng.uniform(1, 15)), now - timedelta(seconds=1))
                order.status = OrderStatus.COMPLETED
                order.updated_at = done
                completed_changes.append(
                    StatusChange(
                        order=order,
                        from_status=OrderStatus.DELIVERED,
                        to_status=OrderStatus.COMPLETED,
                        at=done,
                        note=COMPLETED_NOTE,
                    )
                )
        StatusChange.objects.bulk_create(completed_changes, batch_size=BATCH)
        changed = {
            order.pk: order
            for order, _parts, _changes in history.parts
            if order.status == OrderStatus.COMPLETED
        }
        changed.update({part.farm_order.order.pk: part.farm_order.order for _problem, part, _at in problems})
        Order.objects.bulk_update(
            list(changed.values()), ["status", "payment_status", "updated_at"], batch_size=BATCH
        )

        Payment.objects.bulk_create(history.payments, batch_size=BATCH)
        refunds = []
        for payment, amount, key, at, part, reason in history.refunds:
            if part is not None:
                key = key.format(fo=part.farm_order.pk)
            else:
                key = key.format(order=payment.order.pk)
            refunds.append(
                Refund(
                    payment=payment,
                    key=key,
                    amount=amount,
                    reason=reason,
                    status=RefundStatus.SUCCEEDED,
                    reference=f"re_demo_{payment.order.number}_{len(refunds)}",
                    attempted_at=at,
                    sent_at=at + timedelta(minutes=5),
                    created_at=at,
                )
            )
        Refund.objects.bulk_create(refunds, batch_size=BATCH)
    ledger += _payouts(ledger, rng=rng, first=history.first, last=history.last)
    LedgerEntry.objects.bulk_create(ledger, batch_size=BATCH)


def _payouts(entries: list[LedgerEntry], *, rng, first: date, last: date) -> list[LedgerEntry]:
    """Pay each household on Mondays what it had earned by the Monday before; the rest stays owed."""
    clock = _Clock()
    by_farm = defaultdict(list)
    for entry in entries:
        by_farm[entry.farm_id].append(entry)
    payouts = []
    monday = first + timedelta(days=(7 - first.weekday()) % 7 + 7)
    while monday <= last:
        cutoff = clock.at(monday - timedelta(days=7), 0)
        at = clock.at(monday, rng.uniform(8.5, 11))
        for farm_id, farm_entries in sorted(by_farm.items()):
            owed = sum(entry.net for entry in farm_entries if entry.at < cutoff)
            paid = -sum(entry.net for entry in payouts if entry.farm_id == farm_id)
            amount = owed - paid
            if amount <= 0:
                continue
            payouts.append(
                LedgerEntry(
                    farm_id=farm_id,
                    kind=LedgerKind.PAYOUT,
                    key=f"payout:demo-{farm_id}-{monday.isoformat()}",
                    net=-amount,
                    reference=f"FT{monday:%y%j}{farm_id:04d}{rng.randint(1000, 9999)}",
                    note=PAYOUT_NOTE,
                    at=at,
                )
            )
        monday += timedelta(days=7)
    return payouts
