"""A small seeded world for the security tests: two users of every role and what each owns.

`build_world(make_user)` makes everything through the project's own services (sign-up,
household registration and verification, listings, checkout, fulfilment, couriers' steps,
problem reports, settlement, exports), so what the tests read is what the site would hold.

Who is who (viewer keys): `anonymous`, and `<role>_<name>` for every role of
`marketplace.accounts.models.Role` and the names `alice` and `bob`: `buyer_alice`,
`farmer_bob`, `official_alice`, `courier_bob`, `staff_alice`, …

- Farmer alice's household is in ward A (in the courier zone "Nội thành"), farmer bob's in
  ward B ("Ven đô"); both verified, each with an active listing (with a photo), a draft, a
  verified and a pending certificate and a harvest lot.
- Official alice looks after ward A only, official bob ward B only. Each ward also has a
  pending household (owned by a farmer outside the matrix), and each official has a finished
  statistics export job.
- Courier alice works "Nội thành", courier bob "Ven đô"; each has today's collection run.
- Staff alice and bob are superusers (the admin is their desk).
- Every buyer has a cart line and orders to both households: `new` (both parts), `accepted`
  (both parts), `delivered_a` (household A only, delivered by courier alice, settled in the
  ledger, a problem reported with a photo) and `delivered_b` (household B, courier bob, a
  problem without photo). Buyer alice also has `open`: a part of a third household in a zone
  no courier works, ready on a run nobody has claimed yet.
- Each order has its own recipient name, phone and street address, so the personal-data
  sweep can tell which order leaked; the `new` order uses the buyer's account phone.

`world.ids[viewer][kind]` holds the ids (or codes) each user owns; `world.sensitive` lists
the personal values with the viewers allowed to see each.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

ROLES = ("buyer", "farmer", "official", "courier", "staff")
NAMES = ("alice", "bob")
VIEWERS = ("anonymous", *(f"{role}_{name}" for role in ROLES for name in NAMES))

# Distinctive numbers (valid Vietnamese mobiles) so that a match in a page is never a coincidence.
_ACCOUNT_PHONES = {
    "buyer_alice": "0386 114 271",
    "buyer_bob": "0386 114 272",
    "farmer_alice": "0386 114 281",
    "farmer_bob": "0386 114 282",
    "official_alice": "0386 114 291",
    "official_bob": "0386 114 292",
    "courier_alice": "0386 114 301",
    "courier_bob": "0386 114 302",
    "staff_alice": "0386 114 311",
    "staff_bob": "0386 114 312",
}
_FULL_NAMES = {
    "buyer_alice": "Lâm Thị Ánh Tuyết",
    "buyer_bob": "Quách Văn Bửu",
    "farmer_alice": "Nguyễn Văn Tư",
    "farmer_bob": "Trần Thị Năm",
    "official_alice": "Cán bộ Huỳnh An",
    "official_bob": "Cán bộ Lê Bình",
    "courier_alice": "Anh Ba Giao",
    "courier_bob": "Anh Sáu Giao",
    "staff_alice": "Nhân viên Mai",
    "staff_bob": "Nhân viên Đào",
}
# Citizen IDs: Cần Thơ (092), born 1985 (century digit 0, year 85), distinctive serials.
_CCCD = {
    "farmer_alice": "092085731101",
    "farmer_bob": "092085731202",
    "pending_alice": "092085731303",
    "pending_bob": "092085731404",
    "open": "092085731505",
}
STAFF_VIEWERS = frozenset({"staff_alice", "staff_bob"})
# Issue #9 would let the household of an order see its buyer's contact; the site is stricter:
# a household's parts carry no buyer's name, phone or address (docs/api.md, "Households"), the
# courier carries the goods. Set True if households ever need them (and say so in docs/api.md).
HOUSEHOLDS_SEE_BUYERS = False


@dataclass(frozen=True)
class Sensitive:
    """A personal value (`value` as stored or typed) and the viewers who may see it."""

    value: str
    kind: str  # "cccd", "phone", "address", "name"
    about: str  # what it is, for failure messages: "buyer_alice's order delivered_a: phone"
    allowed: frozenset[str]


@dataclass
class World:
    users: dict  # viewer key -> User (no "anonymous")
    tokens: dict  # viewer key -> API token
    ids: dict  # viewer key -> {kind: id or code}
    sensitive: list[Sensitive] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # objects outside the matrix's users

    def user(self, key):
        return self.users.get(key)

    def other(self, key: str) -> str:
        """The second user of the same role: buyer_alice → buyer_bob."""
        role, name = key.rsplit("_", 1)
        return f"{role}_{'bob' if name == 'alice' else 'alice'}"


def _ward(index: int):
    from marketplace.geo.models import Ward

    return Ward.objects.order_by("code")[index]


def _ward_index_in(zone) -> int:
    from marketplace.geo.models import Ward

    codes = list(Ward.objects.order_by("code").values_list("pk", flat=True))
    return codes.index(zone.route.order_by("position", "ward").first().ward_id)


def build_world(make_user) -> World:
    """Build the world described in the module docstring; `make_user` is the conftest fixture.

    What the services leave to `transaction.on_commit` (notices, photo sizes, sales rollups)
    runs too, as after a real request: inside a test's transaction it is captured and run here.
    """
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks() as callbacks:
        world = _populate(make_user)
    _run_committed(callbacks)
    _finish(world)
    return world


def _run_committed(callbacks: list) -> None:
    """Run the work left for after commit, as a worker would; each order's rollups once.

    Every change of an order asks for its rollup cells again (about fifty times here, half a
    second each); the last answer is all that counts, so each order is refreshed once, at the end.
    """
    from django.test import TestCase

    from marketplace.reports.tasks import refresh_order

    orders: set[int] = set()
    while callbacks:
        with TestCase.captureOnCommitCallbacks() as more:
            for callback in callbacks:
                cells = [cell.cell_contents for cell in getattr(callback, "__closure__", None) or ()]
                if getattr(callback, "__name__", "") == "enqueue_rollup_refresh" and cells == [
                    cell for cell in cells if isinstance(cell, int)
                ]:
                    orders.update(cells)
                else:
                    callback()
        callbacks = more
    with TestCase.captureOnCommitCallbacks(execute=True):
        for order_id in sorted(orders):
            refresh_order(order_id)


def _populate(make_user) -> World:
    from farms import services as farm_services
    from logistics.models import Run, Zone
    from logistics.runs import runs_build
    from logistics.services import shipment_step
    from marketplace.accounts.models import Role
    from marketplace.accounts.services import token_for
    from orders import services as order_services
    from orders.models import Cart, FarmOrder
    from orders.services.ledger import farm_order_settle
    from orders.services.problems import problem_report
    from tests.farms.factories import jpeg_upload

    today = timezone.localdate()
    inner = Zone.objects.get(name="Nội thành")
    outer = Zone.objects.get(name="Ven đô")
    open_zone = Zone.objects.get(name="Ngoại thành Cần Thơ")
    ward_a, ward_b = _ward(_ward_index_in(inner)), _ward(_ward_index_in(outer))
    ward_open = _ward(_ward_index_in(open_zone))
    dropoff = _ward(3)

    users, tokens = {}, {}
    for role in ROLES:
        for name in NAMES:
            key = f"{role}_{name}"
            fields = {"phone": _ACCOUNT_PHONES[key], "full_name": _FULL_NAMES[key]}
            if role == "official":
                fields.update(wards=[ward_a if name == "alice" else ward_b], city_wide=False)
            users[key] = make_user(role, **fields)
            tokens[key] = token_for(user=users[key])
    ids: dict = {key: {} for key in VIEWERS}
    ids["anonymous"] = {}
    inner.couriers.add(users["courier_alice"])
    outer.couriers.add(users["courier_bob"])

    # A city-wide official outside the matrix verifies the household of the open zone.
    verifier = make_user(Role.OFFICIAL, full_name="Cán bộ thành phố", city_wide=True)

    def household(owner, *, name, ward, cccd, address, verify_by):
        farm = farm_services.farm_register(
            owner=owner,
            name=name,
            representative_name=owner.full_name,
            phone=owner.phone,
            ward=ward,
            address=address,
            area_m2=5000,
            main_crops="măng cụt, chôm chôm",
            cccd=cccd,
        )
        if verify_by is not None:
            farm = farm_services.farm_decide(farm=farm, by=verify_by, decision="approve")
        return farm

    farms, products = {}, {}
    farm_addresses = {
        "farmer_alice": "Ấp Nhơn Lộc Alpha 17",
        "farmer_bob": "Ấp Mỹ Phước Beta 29",
    }
    for name, ward in (("alice", ward_a), ("bob", ward_b)):
        key = f"farmer_{name}"
        official = users[f"official_{name}"]
        farm = household(
            users[key],
            name=f"Vườn {name.title()} Cần Thơ",
            ward=ward,
            cccd=_CCCD[key],
            address=farm_addresses[key],
            verify_by=official,
        )
        farms[key] = farm
        product = farm_services.product_create(
            farm=farm,
            name=f"Măng cụt {name.title()}",
            category=203,
            unit="kg",
            price=20000,
            stock="500",
            status="active",
        )
        products[key] = product
        image = farm_services.product_image_add(product=product, upload=jpeg_upload(size=(64, 48)))
        draft = farm_services.product_create(
            farm=farm, name=f"Chôm chôm nháp {name.title()}", category=204, unit="kg", price=30000, stock="5"
        )
        certificate = farm_services.certification_create(
            farm=farm,
            kind="vietgap",
            number=f"VG-092-{name.upper()}",
            issuer="Trung tâm Chứng nhận Cần Thơ",
            issued_on=today - timedelta(days=300),
            expires_on=today + timedelta(days=400),
            document=jpeg_upload("cert.jpg", size=(64, 48)),
        )
        certificate = farm_services.certification_decide(
            certification=certificate, by=official, decision="approve"
        )
        pending_certificate = farm_services.certification_create(
            farm=farm,
            kind="organic",
            number=f"HC-092-{name.upper()}",
            issuer="Trung tâm Chứng nhận Cần Thơ",
            issued_on=today - timedelta(days=10),
            expires_on=today + timedelta(days=700),
            document=jpeg_upload("organic.jpg", size=(64, 48)),
        )
        lot = farm_services.lot_create(
            farm=farm, product=product, harvest_date=today - timedelta(days=2), quantity="50"
        )
        ids[key].update(
            farm=farm.pk,
            product=product.pk,
            product_name=product.name,
            farm_name=farm.name,
            draft=draft.pk,
            image=image.pk,
            certification=certificate.pk,
            certification_pending=pending_certificate.pk,
            lot=lot.pk,
            lot_code=lot.code,
            lot_codes=[lot.code],
            product_names=[product.name, draft.name],
            certification_numbers=[certificate.number, pending_certificate.number],
            month=today.strftime("%Y-%m"),
        )
        # A pending household in the official's ward, by a farmer outside the matrix.
        pending_owner = make_user(Role.FARMER, full_name=f"Chờ duyệt {name.title()}")
        pending = household(
            pending_owner,
            name=f"Hộ chờ duyệt {name.title()}",
            ward=ward,
            cccd=_CCCD[f"pending_{name}"],
            address=f"Ấp Chờ Duyệt {name.title()} 5",
            verify_by=None,
        )
        ids[f"official_{name}"].update(
            ward=ward.pk,
            farm=farm.pk,
            farm_pending=pending.pk,
            farm_pending_name=pending.name,
            pending_farm_names=[pending.name],
            certification_pending=pending_certificate.pk,
            certification_numbers=[pending_certificate.number],
        )

    open_owner = make_user(Role.FARMER, full_name="Chủ vườn ngoại thành")
    open_farm = household(
        open_owner,
        name="Vườn Ngoại Thành",
        ward=ward_open,
        cccd=_CCCD["open"],
        address="Ấp Ngoại Thành Gamma 3",
        verify_by=verifier,
    )
    open_product = farm_services.product_create(
        farm=open_farm,
        name="Bưởi da xanh ngoại thành",
        category=203,
        unit="kg",
        price=20000,
        stock="100",
        status="active",
    )

    # --- Orders -----------------------------------------------------------------------
    phones = itertools.count(1)

    def contact(buyer_key: str, label: str, *, account_phone=False) -> dict:
        number = next(phones)
        return {
            "name": f"Người nhận {label} {buyer_key[-3:]}",
            "phone": _ACCOUNT_PHONES[buyer_key] if account_phone else f"0387 225 {number:03d}",
            "address": f"{100 + number} hẻm Zeta {buyer_key[-3:]} {label}",
            "ward": dropoff,
        }

    def place(buyer, items, delivery) -> object:
        cart = order_services.cart_get_or_create(user=buyer)
        for product, quantity in items:
            order_services.cart_add(cart=cart, product=product, quantity=Decimal(quantity))
        return order_services.checkout_place(
            buyer=buyer, delivery=order_services.delivery_parse(**delivery), payment_method="cod"
        ).order

    orders: dict = {}  # (buyer key, label) -> (order, contact, farm keys)
    pa, pb = products["farmer_alice"], products["farmer_bob"]
    for name in NAMES:
        key = f"buyer_{name}"
        buyer = users[key]
        plan = (
            ("new", [(pa, "1"), (pb, "1")], True),
            ("accepted", [(pa, "1"), (pb, "1")], False),
            ("delivered_a", [(pa, "2")], False),
            ("delivered_b", [(pb, "2")], False),
        )
        for label, items, account_phone in plan:
            delivery = contact(key, label, account_phone=account_phone)
            orders[(key, label)] = (place(buyer, items, delivery), delivery)
        if name == "alice":
            delivery = contact(key, "open")
            orders[(key, "open")] = (place(buyer, [(open_product, "1")], delivery), delivery)

    def parts(order):
        return list(order.farm_orders.select_related("farm__owner").order_by("pk"))

    for (_key, label), (order, _delivery) in orders.items():
        if label == "new":
            continue
        for part in parts(order):
            order_services.farm_order_accept(farm_order=part, by=part.farm.owner)
            if label != "accepted":
                order_services.farm_order_ready(farm_order=part, by=part.farm.owner)
    runs_build(day=today)
    for (key, label), (order, _delivery) in orders.items():
        if not label.startswith("delivered"):
            continue
        for part in parts(order):
            part.refresh_from_db()
            shipment = part.shipment
            courier = shipment.run.courier
            shipment_step(shipment=shipment, type="picked_up", by=courier)
            shipment_step(
                shipment=shipment, type="delivered", by=courier, cash_collected=shipment.cash_to_collect
            )
            part.refresh_from_db()
            farm_order_settle(farm_order=part)
            line = part.lines.order_by("pk").first()
            problem = problem_report(
                order=order,
                line_id=line.pk,
                by=users[key],
                kind="damaged",
                quantity="1",
                description="Dập một ít",
                photo=jpeg_upload("problem.jpg", size=(64, 48)) if label == "delivered_a" else None,
            )
            ids[key][f"problem_{label}"] = problem.pk
            farm_key = "farmer_alice" if part.farm_id == farms["farmer_alice"].pk else "farmer_bob"
            ids[farm_key].setdefault("problems", []).append(problem.pk)
            ids[farm_key]["problem"] = ids[farm_key]["problems"][0]

    # --- Ids per owner -----------------------------------------------------------------
    farm_key_of = {farm.pk: key for key, farm in farms.items()}
    courier_key_of = {users["courier_alice"].pk: "courier_alice", users["courier_bob"].pk: "courier_bob"}
    sensitive: list[Sensitive] = []
    for (key, label), (order, delivery) in orders.items():
        ids[key][f"order_{label}"] = order.pk
        ids[key][f"number_{label}"] = order.number
        ids[key].setdefault("numbers", []).append(order.number)
        viewers = {key} | STAFF_VIEWERS
        for part in parts(order):
            farm_key = farm_key_of.get(part.farm_id)
            if farm_key:
                if HOUSEHOLDS_SEE_BUYERS:
                    viewers.add(farm_key)
                ids[farm_key].setdefault("farm_orders", []).append(part.pk)
                ids[farm_key].setdefault(f"farm_order_{label.split('_')[0]}", part.pk)
                ids[farm_key].setdefault("order_numbers", []).append(order.number)
            shipment = getattr(part, "shipment", None)
            if shipment is not None and shipment.run_id:
                courier_key = courier_key_of.get(shipment.run.courier_id)
                if courier_key:
                    viewers.add(courier_key)
                    ids[courier_key].setdefault("shipments", []).append(shipment.pk)
                    ids[courier_key].setdefault("references", []).append(shipment.reference)
                    ids[courier_key]["shipment"] = ids[courier_key]["shipments"][0]
                    ids[courier_key]["run"] = shipment.run_id
        about = f"{key}'s order {label} ({order.number})"
        for kind in ("phone", "address", "name"):
            sensitive.append(
                Sensitive(delivery[kind], kind, f"{about}: recipient's {kind}", frozenset(viewers))
            )
    ids["buyer_alice"]["open_run"] = Run.objects.get(zone=open_zone, date=today).pk
    for name in NAMES:
        buyer, farmer, official = f"buyer_{name}", f"farmer_{name}", f"official_{name}"
        ids[buyer]["problem_ids"] = [ids[buyer]["problem_delivered_a"], ids[buyer]["problem_delivered_b"]]
        ids[buyer]["cart_products"] = [products[farmer].name]
        ids[farmer]["farm_name_list"] = [farms[farmer].name]
        ids[farmer]["ledger_numbers"] = [
            order.number
            for (_key, label), (order, _delivery) in orders.items()
            if label.startswith("delivered") and order.farm_orders.filter(farm=farms[farmer]).exists()
        ]
        ids[official]["farm_pending_ids"] = [ids[official]["farm_pending"]]
        ids[official]["farm_name_sold"] = [farms[farmer].name]
        ids[f"courier_{name}"]["runs"] = [ids[f"courier_{name}"]["run"]]
    for name in NAMES:
        key = f"buyer_{name}"
        cart = Cart.objects.get(user=users[key])
        line = order_services.cart_add(cart=cart, product=products[f"farmer_{name}"], quantity=Decimal("1"))
        ids[key].update(cart=cart.pk, cart_line=line.pk)

    # The buyers' own account data: their phone (also the `new` order's) and name.
    for name in NAMES:
        key = f"buyer_{name}"
        new_viewers = next(s.allowed for s in sensitive if s.about.startswith(f"{key}'s order new"))
        sensitive.append(Sensitive(_ACCOUNT_PHONES[key], "phone", f"{key}'s account phone", new_viewers))
        sensitive.append(
            Sensitive(_FULL_NAMES[key], "name", f"{key}'s account name", frozenset({key}) | STAFF_VIEWERS)
        )
    for key, number in _CCCD.items():
        sensitive.append(Sensitive(number, "cccd", f"household {key}: CCCD", frozenset()))
    # A household's contact: its owner, the officials of its ward, the courier who picks up there.
    for name in NAMES:
        key = f"farmer_{name}"
        viewers = frozenset({key, f"official_{name}", f"courier_{name}"}) | STAFF_VIEWERS
        for kind, value in (
            ("address", farm_addresses[key]),
            ("phone", _ACCOUNT_PHONES[key]),
            ("name", _FULL_NAMES[key]),
        ):
            sensitive.append(Sensitive(value, kind, f"household {key}: {kind}", viewers))
        sensitive.append(
            Sensitive(
                f"Ấp Chờ Duyệt {name.title()} 5",
                "address",
                f"pending household of official_{name}'s ward: address",
                frozenset({f"official_{name}"}) | STAFF_VIEWERS,
            )
        )
    sensitive.append(
        Sensitive("Ấp Ngoại Thành Gamma 3", "address", "household of the open zone", STAFF_VIEWERS)
    )

    assert all(ids[f"courier_{n}"].get("run") for n in NAMES)
    assert FarmOrder.objects.filter(status="delivered").count() == 4

    extra = {
        "verifier": verifier,
        "open_farm": open_farm.pk,
        "open_owner": open_owner,
        "ward_a": ward_a.pk,
        "ward_b": ward_b.pk,
        "ward_open": ward_open.pk,
        "dropoff": dropoff.pk,
    }
    extra["farms"] = farms
    return World(users=users, tokens=tokens, ids=ids, sensitive=sensitive, extra=extra)


def _finish(world: World) -> None:
    """Add what needs the committed work: export jobs (of the rollups) and notifications."""
    from marketplace.notifications.models import Notification
    from marketplace.reports.exports import export_job_run, params_from_filters
    from marketplace.reports.models import ExportJob
    from marketplace.reports.selectors import Filters
    from orders.models import LedgerEntry

    today = timezone.localdate()
    users, ids, farms = world.users, world.ids, world.extra["farms"]
    # Exports: one finished job per official, of their wards.
    for name in NAMES:
        key = f"official_{name}"
        filters = Filters(first=today - timedelta(days=200), last=today, wards=frozenset({ids[key]["ward"]}))
        job = ExportJob.objects.create(
            user=users[key],
            kind="sales",
            file_format="xlsx",
            params=params_from_filters(filters, group_by="household"),
        )
        export_job_run(job=job)
        ids[key]["export_job"] = job.pk

    for key in ("staff_alice", "staff_bob"):
        # Staff use the admin, as the demo's staff do.
        users[key].is_superuser = True
        users[key].save(update_fields=["is_superuser"])
    for key, user in users.items():
        ids[key]["notifications"] = list(
            Notification.objects.filter(user=user).order_by("pk").values_list("pk", flat=True)
        )
        if ids[key]["notifications"]:
            ids[key]["notification"] = ids[key]["notifications"][0]
        if key.startswith("farmer_"):
            ids[key]["ledger_entries"] = list(
                LedgerEntry.objects.filter(farm=farms[key]).values_list("pk", flat=True)
            )
    assert all(ids[f"farmer_{n}"]["ledger_entries"] for n in NAMES)
