"""Who reaches which orders, household parts, runs, shipments, problems and ledgers (issue #7).

The permission matrix of fulfilment, written as data: every row is one endpoint on one object,
every column one of nine actors, every cell the answer that actor must get. The world has two of
each party, so "someone else of my role" is always a real neighbour:

    buyers      B1 (orders O1, O3, O5) and B2 (O2, O4, O6)
    households  H1 (farm F1, ward of zone "Nội thành") and H2 (F2, zone "Ven đô");
                O1-O4 span both: their parts FO<n>H1 and FO<n>H2 belong to two households
    couriers    C1 (works "Nội thành": run R1) and C2 (works "Ven đô": run R2);
                R3 is a "Nội thành" run nobody took yet, so C1 may claim it and C2 may not
    staff, an official (city-wide), and anonymous

    O1  B1  FO1H1 delivered on R1 (S1H1), open problem P1, in F1's ledger | FO1H2 booked on R2 (S1H2)
    O2  B2  FO2H1 booked on R1 (S2H1) | FO2H2 delivered on R2 (S2H2), open problem P2, in F2's ledger
    O3  B1  FO3H1 new                  | FO3H2 accepted
    O4  B2  FO4H1 accepted             | FO4H2 new
    O5  B1  FO5H1 booked on R3 (S5H1), which has no courier
    O6  B2  FO6H1 awaiting a bank transfer: no household sees it yet

Four sections: API reads, API writes, pages, and the same steps posted from the pages. The
conventions checked (docs/api.md): the owner gets 200/201 (a page's step: a redirect); another
user of the same role a 404 (never a 403, never the data); a role that may not use an endpoint
a 403; anonymous 401 (with `WWW-Authenticate: Token`) in the API and the login page on pages.
A list holds exactly the actor's own ids. Every 2xx body is searched for the names, phones and
addresses of every buyer and household the actor may not see; a refused write is shown to have
changed nothing by reading the rows again.

The world is built once per test through the services the app uses; each cell runs inside a
savepoint that is rolled back, so an allowed write never changes what the next cell sees. Cells
are grouped into one test per (section, actor); a test reports every wrong cell, one line each.
"""

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePosixPath

import pytest
from django.db import transaction
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from logistics.models import Run, Shipment, Zone
from logistics.runs import runs_build
from logistics.services import shipment_step
from marketplace.accounts.models import Role
from marketplace.accounts.phone import format_phone
from marketplace.accounts.services import token_for
from orders import services
from orders.models import FarmOrder, LedgerEntry, LedgerKind, Order, Problem
from orders.services import problems
from orders.services.ledger import farm_order_settle
from tests.farms.factories import jpeg_upload, make_farm, make_product, ward
from tests.orders.conftest import _media_in_tmp  # noqa: F401 (autouse: no file lands in var/)
from tests.orders.factories import place

pytestmark = pytest.mark.django_db

ACTORS = ("B1", "B2", "H1", "H2", "C1", "C2", "staff", "official", "anon")

# --- The people, and what of them is personal --------------------------------------------------

BUYERS = {
    "B1": {"full_name": "Trần Thị Bích", "phone": "0901 111 111", "address": "11 hẻm Bảy Mươi Mốt"},
    "B2": {"full_name": "Lê Văn Cường", "phone": "0902 222 222", "address": "22 hẻm Tám Mươi Hai"},
}
HOUSEHOLDS = {
    "H1": {
        "name": "Hộ Vườn Một",
        "representative_name": "Nguyễn Văn Hòa",
        "phone": "0903 333 333",
        "address": "Ấp Nhơn Lộc Một",
        "ward_index": 0,  # zone "Nội thành"
        "products": ("Măng cụt Vườn Một", "Chôm chôm Vườn Một"),
    },
    "H2": {
        "name": "Hộ Vườn Hai",
        "representative_name": "Phạm Thị Hạnh",
        "phone": "0904 444 444",
        "address": "Ấp Mỹ Khánh Hai",
        "ward_index": 4,  # zone "Ven đô"
        "products": ("Bưởi Vườn Hai", "Sầu riêng Vườn Hai"),
    },
}


def _phone_spellings(phone: str) -> list[str]:
    digits = phone.replace(" ", "")
    e164 = "+84" + digits[1:]
    return [phone, digits, e164, format_phone(e164), digits[1:]]


#: What each party keeps to itself: names, phones, addresses. A household's name is public (it
#: sells under it); its representative, phone and address are not.
PERSONAL = {
    **{
        key: [person["full_name"], person["address"], *_phone_spellings(person["phone"])]
        for key, person in BUYERS.items()
    },
    **{
        key: [farm["representative_name"], farm["address"], *_phone_spellings(farm["phone"])]
        for key, farm in HOUSEHOLDS.items()
    },
}


# --- Expected answers --------------------------------------------------------------------------

LOGIN = "login"  # a page sends an anonymous visitor to the login page


@dataclass(frozen=True)
class Ok:
    """A 2xx answer and what its body must hold.

    `ids`: the exact set of ids a list gives (names of world objects); `fields`: body paths that
    must equal a world id (`{"farm.id": "F1"}`); `has`/`lacks`: text the body must (not) hold,
    with `{name}` placeholders filled from the world; `sees`: the parties besides the actor whose
    personal data may show; `same`: an allowed write that changes nothing (claiming one's own run).
    """

    status: int = 200
    ids: frozenset | None = None
    fields: dict = field(default_factory=dict)
    has: tuple = ()
    lacks: tuple = ()
    sees: tuple = ()
    same: bool = False
    to: str | None = None  # a page's redirect after a step: where it sends the user


def moved(to: str, **more) -> Ok:
    """A page's step done: the browser is sent on to `to`."""
    return Ok(status=302, to=to, **more)


def ids(*names, **more) -> Ok:
    """A list holding exactly these objects."""
    return Ok(ids=frozenset(names), **more)


def one(name, status=200, **more) -> Ok:
    """One object: the body's `id` is this one's."""
    return Ok(status=status, fields={"id": name}, **more)


def page(*has, **more) -> Ok:
    """A page (HTML or CSV) holding `has`."""
    return Ok(has=has, **more)


@dataclass(frozen=True)
class Row:
    method: str
    url: str
    cells: dict
    body: dict | None = None
    watch: tuple | None = None  # (what, object): the state a write may change, read before and after


def row(method_url: str, *, body=None, watch=None, **cells) -> Row:
    missing, unknown = set(ACTORS) - set(cells), set(cells) - set(ACTORS)
    assert not missing and not unknown, f"{method_url}: no cell for {missing}, unknown {unknown}"
    method, url = method_url.split(" ", 1)
    return Row(method, url, cells, body, watch)


NUMBERS = ("{N1}", "{N2}", "{N3}", "{N4}", "{N5}", "{N6}")  # every order's number

# fmt: off
API_READS = [
    row("GET /api/v1/orders/",
        B1=ids("O1", "O3", "O5"), B2=ids("O2", "O4", "O6"), H1=ids(), H2=ids(), C1=ids(), C2=ids(),
        staff=ids(), official=ids(), anon=401),
    row("GET /api/v1/orders/{O1}/",
        B1=one("O1"), B2=404, H1=404, H2=404, C1=404, C2=404, staff=404, official=404, anon=401),
    row("GET /api/v1/orders/{O2}/",
        B1=404, B2=one("O2"), H1=404, H2=404, C1=404, C2=404, staff=404, official=404, anon=401),
    row("GET /api/v1/farm-orders/",
        B1=403, B2=403, H1=ids("FO1H1", "FO2H1", "FO3H1", "FO4H1", "FO5H1"),
        H2=ids("FO1H2", "FO2H2", "FO3H2", "FO4H2"), C1=403, C2=403, staff=403, official=403, anon=401),
    row("GET /api/v1/farm-orders/?order={O1}",
        B1=403, B2=403, H1=ids("FO1H1"), H2=ids("FO1H2"), C1=403, C2=403, staff=403, official=403,
        anon=401),
    row("GET /api/v1/farm-orders/{FO1H1}/",
        B1=403, B2=403, H1=one("FO1H1"), H2=404, C1=403, C2=403, staff=403, official=403, anon=401),
    row("GET /api/v1/farm-orders/{FO1H2}/",
        B1=403, B2=403, H1=404, H2=one("FO1H2"), C1=403, C2=403, staff=403, official=403, anon=401),
    row("GET /api/v1/farm-orders/{FO2H1}/",
        B1=403, B2=403, H1=one("FO2H1"), H2=404, C1=403, C2=403, staff=403, official=403, anon=401),
    row("GET /api/v1/farm-orders/{FO2H2}/",
        B1=403, B2=403, H1=404, H2=one("FO2H2"), C1=403, C2=403, staff=403, official=403, anon=401),
    row("GET /api/v1/farm-orders/{FO6H1}/",
        B1=403, B2=403, H1=404, H2=404, C1=403, C2=403, staff=403, official=403, anon=401),
    row("GET /api/v1/runs/",
        B1=403, B2=403, H1=403, H2=403, C1=ids("R1", "R3"), C2=ids("R2"), staff=ids("R1", "R2", "R3"),
        official=403, anon=401),
    row("GET /api/v1/runs/{R1}/",
        B1=403, B2=403, H1=403, H2=403, C1=one("R1", sees=("B1", "B2", "H1")), C2=404,
        staff=one("R1", sees=("B1", "B2", "H1")), official=403, anon=401),
    row("GET /api/v1/runs/{R2}/",
        B1=403, B2=403, H1=403, H2=403, C1=404, C2=one("R2", sees=("B1", "B2", "H2")),
        staff=one("R2", sees=("B1", "B2", "H2")), official=403, anon=401),
    # Not claimed yet: C1 (of its zone) sees the stops' wards, not who or where; C2 nothing.
    row("GET /api/v1/runs/{R3}/",
        B1=403, B2=403, H1=403, H2=403, C1=one("R3", has=("{S5H1}",)), C2=404,
        staff=one("R3", sees=("B1", "H1")), official=403, anon=401),
    row("GET /api/v1/shipments/{S1H1}/",
        B1=403, B2=403, H1=403, H2=403, C1=one("S1H1", sees=("B1", "H1")), C2=404,
        staff=one("S1H1", sees=("B1", "H1")), official=403, anon=401),
    row("GET /api/v1/shipments/{S2H1}/",
        B1=403, B2=403, H1=403, H2=403, C1=one("S2H1", sees=("B2", "H1")), C2=404,
        staff=one("S2H1", sees=("B2", "H1")), official=403, anon=401),
    row("GET /api/v1/shipments/{S1H2}/",
        B1=403, B2=403, H1=403, H2=403, C1=404, C2=one("S1H2", sees=("B1", "H2")),
        staff=one("S1H2", sees=("B1", "H2")), official=403, anon=401),
    row("GET /api/v1/shipments/{S2H2}/",
        B1=403, B2=403, H1=403, H2=403, C1=404, C2=one("S2H2", sees=("B2", "H2")),
        staff=one("S2H2", sees=("B2", "H2")), official=403, anon=401),
    row("GET /api/v1/shipments/{S5H1}/",
        B1=403, B2=403, H1=403, H2=403, C1=404, C2=404, staff=one("S5H1", sees=("B1", "H1")),
        official=403, anon=401),
    row("GET /api/v1/problems/",
        B1=ids("P1"), B2=ids("P2"), H1=ids("P1"), H2=ids("P2"), C1=ids(), C2=ids(),
        staff=ids("P1", "P2"), official=ids(), anon=401),
    row("GET /api/v1/problems/{P1}/",
        B1=one("P1"), B2=404, H1=one("P1"), H2=404, C1=404, C2=404, staff=one("P1"), official=404,
        anon=401),
    row("GET /api/v1/problems/{P2}/",
        B1=404, B2=one("P2"), H1=404, H2=one("P2"), C1=404, C2=404, staff=one("P2"), official=404,
        anon=401),
    # P1 has the buyer's photo (private storage, served by a checked view); P2 has none.
    row("GET /api/v1/problems/{P1}/photo/",
        B1=Ok(), B2=404, H1=Ok(), H2=404, C1=404, C2=404, staff=Ok(), official=404, anon=401),
    row("GET /api/v1/problems/{P2}/photo/",
        B1=404, B2=404, H1=404, H2=404, C1=404, C2=404, staff=404, official=404, anon=401),
    row("GET /api/v1/ledger/?month={month}",
        B1=403, B2=403, H1=Ok(fields={"farm.id": "F1"}, has=("{N1}",), lacks=("{N2}",)),
        H2=Ok(fields={"farm.id": "F2"}, has=("{N2}",), lacks=("{N1}",)), C1=403, C2=403,
        staff=400, official=403, anon=401),
    row("GET /api/v1/ledger/?month={month}&farm={F1}",
        B1=403, B2=403, H1=Ok(fields={"farm.id": "F1"}, has=("{N1}",), lacks=("{N2}",)), H2=404,
        C1=403, C2=403, staff=Ok(fields={"farm.id": "F1"}, has=("{N1}",), lacks=("{N2}",)),
        official=403, anon=401),
    row("GET /api/v1/ledger/?month={month}&farm={F2}",
        B1=403, B2=403, H1=404, H2=Ok(fields={"farm.id": "F2"}, has=("{N2}",), lacks=("{N1}",)),
        C1=403, C2=403, staff=Ok(fields={"farm.id": "F2"}, has=("{N2}",), lacks=("{N1}",)),
        official=403, anon=401),
]

API_WRITES = [
    row("POST /api/v1/orders/{O3}/cancel/", body={}, watch=("order", "O3"),
        B1=one("O3"), B2=404, H1=404, H2=404, C1=404, C2=404, staff=404, official=404, anon=401),
    row("POST /api/v1/orders/{O4}/cancel/", body={}, watch=("order", "O4"),
        B1=404, B2=one("O4"), H1=404, H2=404, C1=404, C2=404, staff=404, official=404, anon=401),
    row("POST /api/v1/farm-orders/{FO3H1}/accept/", watch=("farm_order", "FO3H1"),
        B1=403, B2=403, H1=one("FO3H1"), H2=404, C1=403, C2=403, staff=403, official=403, anon=401),
    row("POST /api/v1/farm-orders/{FO4H2}/accept/", watch=("farm_order", "FO4H2"),
        B1=403, B2=403, H1=404, H2=one("FO4H2"), C1=403, C2=403, staff=403, official=403, anon=401),
    row("POST /api/v1/farm-orders/{FO6H1}/accept/", watch=("farm_order", "FO6H1"),
        B1=403, B2=403, H1=404, H2=404, C1=403, C2=403, staff=403, official=403, anon=401),
    row("POST /api/v1/farm-orders/{FO4H1}/ready/", body={}, watch=("farm_order", "FO4H1"),
        B1=403, B2=403, H1=one("FO4H1"), H2=404, C1=403, C2=403, staff=403, official=403, anon=401),
    row("POST /api/v1/farm-orders/{FO3H2}/ready/", body={}, watch=("farm_order", "FO3H2"),
        B1=403, B2=403, H1=404, H2=one("FO3H2"), C1=403, C2=403, staff=403, official=403, anon=401),
    row("POST /api/v1/farm-orders/{FO3H1}/reject/", body={"reason": "Mưa dập hết trái"},
        watch=("farm_order", "FO3H1"),
        B1=403, B2=403, H1=one("FO3H1"), H2=404, C1=403, C2=403, staff=403, official=403, anon=401),
    row("POST /api/v1/farm-orders/{FO4H2}/reject/", body={"reason": "Mưa dập hết trái"},
        watch=("farm_order", "FO4H2"),
        B1=403, B2=403, H1=404, H2=one("FO4H2"), C1=403, C2=403, staff=403, official=403, anon=401),
    # Claiming one's own run again is a no-op; another's run, or one of a zone one does not work, a 404.
    row("POST /api/v1/runs/{R1}/claim/", watch=("run", "R1"),
        B1=403, B2=403, H1=403, H2=403, C1=one("R1", sees=("B1", "B2", "H1"), same=True), C2=404,
        staff=403, official=403, anon=401),
    row("POST /api/v1/runs/{R2}/claim/", watch=("run", "R2"),
        B1=403, B2=403, H1=403, H2=403, C1=404, C2=one("R2", sees=("B1", "B2", "H2"), same=True),
        staff=403, official=403, anon=401),
    row("POST /api/v1/runs/{R3}/claim/", watch=("run", "R3"),
        B1=403, B2=403, H1=403, H2=403, C1=one("R3", sees=("B1", "H1")), C2=404, staff=403,
        official=403, anon=401),
    row("POST /api/v1/shipments/{S2H1}/events/", body={"type": "picked_up"}, watch=("shipment", "S2H1"),
        B1=403, B2=403, H1=403, H2=403, C1=one("S2H1", 201, sees=("B2", "H1")), C2=404, staff=403,
        official=403, anon=401),
    row("POST /api/v1/shipments/{S1H2}/events/", body={"type": "picked_up"}, watch=("shipment", "S1H2"),
        B1=403, B2=403, H1=403, H2=403, C1=404, C2=one("S1H2", 201, sees=("B1", "H2")), staff=403,
        official=403, anon=401),
    # On a run nobody has taken: no courier records its steps (staff read it, but record no step).
    row("POST /api/v1/shipments/{S5H1}/events/", body={"type": "picked_up"}, watch=("shipment", "S5H1"),
        B1=403, B2=403, H1=403, H2=403, C1=404, C2=404, staff=403, official=403, anon=401),
    row("POST /api/v1/orders/{O1}/problems/", body={"line": "{L1}", "kind": "damaged", "quantity": "1"},
        watch=("problems", "O1"),
        B1=Ok(201, fields={"order": "O1"}), B2=404, H1=404, H2=404, C1=404, C2=404, staff=404,
        official=404, anon=401),
    row("POST /api/v1/orders/{O2}/problems/", body={"line": "{L2}", "kind": "damaged", "quantity": "1"},
        watch=("problems", "O2"),
        B1=404, B2=Ok(201, fields={"order": "O2"}), H1=404, H2=404, C1=404, C2=404, staff=404,
        official=404, anon=401),
    # The buyer reads the report on its order but does not answer it (403, documented).
    row("POST /api/v1/problems/{P1}/resolve/", body={"refund_amount": 1000}, watch=("problem", "P1"),
        B1=403, B2=404, H1=one("P1"), H2=404, C1=404, C2=404, staff=one("P1"), official=404, anon=401),
    row("POST /api/v1/problems/{P2}/resolve/", body={"refund_amount": 1000}, watch=("problem", "P2"),
        B1=404, B2=403, H1=404, H2=one("P2"), C1=404, C2=404, staff=one("P2"), official=404, anon=401),
    row("POST /api/v1/problems/{P1}/decline/", body={"answer": "Hàng đúng như ảnh"}, watch=("problem", "P1"),
        B1=403, B2=404, H1=one("P1"), H2=404, C1=404, C2=404, staff=one("P1"), official=404, anon=401),
    row("POST /api/v1/problems/{P2}/decline/", body={"answer": "Hàng đúng như ảnh"}, watch=("problem", "P2"),
        B1=404, B2=403, H1=404, H2=one("P2"), C1=404, C2=404, staff=one("P2"), official=404, anon=401),
    row("POST /api/v1/payouts/", body={"farm": "{F1}", "amount": 1000, "reference": "VCB-0001"},
        watch=("ledger", "F1"),
        B1=403, B2=403, H1=403, H2=403, C1=403, C2=403, staff=Ok(201, fields={"farm": "F1"}),
        official=403, anon=401),
    row("POST /api/v1/payouts/", body={"farm": "{F2}", "amount": 1000, "reference": "VCB-0002"},
        watch=("ledger", "F2"),
        B1=403, B2=403, H1=403, H2=403, C1=403, C2=403, staff=Ok(201, fields={"farm": "F2"}),
        official=403, anon=401),
]

# Pages: a household's other household's part never shows (its products, its order numbers);
# a courier's home links its own runs and offers the runs it may claim.
PAGES = [
    row("GET /don-hang/",
        B1=page("{N1}", "{N3}", "{N5}", lacks=("{N2}", "{N4}", "{N6}")),
        B2=page("{N2}", "{N4}", "{N6}", lacks=("{N1}", "{N3}", "{N5}")),
        H1=page(lacks=NUMBERS), H2=page(lacks=NUMBERS), C1=page(lacks=NUMBERS), C2=page(lacks=NUMBERS),
        staff=page(lacks=NUMBERS), official=page(lacks=NUMBERS), anon=LOGIN),
    row("GET /don-hang/{N1}/",
        B1=page("{N1}"), B2=404, H1=404, H2=404, C1=404, C2=404, staff=404, official=404, anon=LOGIN),
    row("GET /don-hang/{N2}/",
        B1=404, B2=page("{N2}"), H1=404, H2=404, C1=404, C2=404, staff=404, official=404, anon=LOGIN),
    row("GET /farmer/orders/",
        B1=403, B2=403,
        H1=page("Măng cụt Vườn Một", "{N5}", lacks=("Bưởi Vườn Hai", "Sầu riêng Vườn Hai", "{N6}")),
        H2=page("Bưởi Vườn Hai", lacks=("Măng cụt Vườn Một", "Chôm chôm Vườn Một", "{N5}")),
        C1=403, C2=403, staff=403, official=403, anon=LOGIN),
    row("GET /farmer/problems/",
        B1=403, B2=403, H1=page("{N1}", lacks=("{N2}",)), H2=page("{N2}", lacks=("{N1}",)),
        C1=403, C2=403, staff=403, official=403, anon=LOGIN),
    # Statements: any other role finds none (404, documented in orders/views_ledger.py).
    row("GET /farmer/statements/",
        B1=404, B2=404, H1=page("/farmer/statements/{month}/"), H2=page("/farmer/statements/{month}/"),
        C1=404, C2=404, staff=404, official=404, anon=LOGIN),
    row("GET /farmer/statements/{month}/",
        B1=404, B2=404, H1=page("{N1}", lacks=("{N2}",)), H2=page("{N2}", lacks=("{N1}",)),
        C1=404, C2=404, staff=404, official=404, anon=LOGIN),
    row("GET /farmer/statements/{month}/?format=csv",
        B1=404, B2=404, H1=page("{N1}", lacks=("{N2}",)), H2=page("{N2}", lacks=("{N1}",)),
        C1=404, C2=404, staff=404, official=404, anon=LOGIN),
    row("GET /courier/",
        B1=403, B2=403, H1=403, H2=403,
        C1=page("/courier/runs/{R1}/", "/courier/runs/{R3}/claim/", lacks=("/courier/runs/{R2}/",)),
        C2=page("/courier/runs/{R2}/", lacks=("/courier/runs/{R1}/", "/courier/runs/{R3}/")),
        staff=403, official=403, anon=LOGIN),
    row("GET /courier/runs/{R1}/",
        B1=403, B2=403, H1=403, H2=403, C1=page("{B1_name}", "{B2_name}", sees=("B1", "B2", "H1")),
        C2=404, staff=403, official=403, anon=LOGIN),
    row("GET /courier/runs/{R2}/",
        B1=403, B2=403, H1=403, H2=403, C1=404,
        C2=page("{B1_name}", "{B2_name}", sees=("B1", "B2", "H2")), staff=403, official=403, anon=LOGIN),
    # Until a courier claims it, a run has no page: its stops are nobody's to read.
    row("GET /courier/runs/{R3}/",
        B1=403, B2=403, H1=403, H2=403, C1=404, C2=404, staff=403, official=403, anon=LOGIN),
    row("GET /courier/runs/{R1}/print/",
        B1=403, B2=403, H1=403, H2=403, C1=page("{B1_name}", "{B2_name}", sees=("B1", "B2", "H1")),
        C2=404, staff=403, official=403, anon=LOGIN),
    row("GET /courier/runs/{R2}/print/",
        B1=403, B2=403, H1=403, H2=403, C1=404,
        C2=page("{B1_name}", "{B2_name}", sees=("B1", "B2", "H2")), staff=403, official=403, anon=LOGIN),
    row("GET /courier/runs/{R3}/print/",
        B1=403, B2=403, H1=403, H2=403, C1=404, C2=404, staff=403, official=403, anon=LOGIN),
    row("GET /courier/runs/{R1}/print/?format=csv",
        B1=403, B2=403, H1=403, H2=403, C1=page("{B1_name}", "{B2_name}", sees=("B1", "B2", "H1")),
        C2=404, staff=403, official=403, anon=LOGIN),
    row("GET /courier/runs/{R3}/print/?format=csv",
        B1=403, B2=403, H1=403, H2=403, C1=404, C2=404, staff=403, official=403, anon=LOGIN),
    # Staff pages: a household's own id is no way in either (404, documented).
    row("GET /staff/statements/{F1}/",
        B1=404, B2=404, H1=404, H2=404, C1=404, C2=404,
        staff=page("/staff/statements/{F1}/{month}/", sees=("H1",)), official=404, anon=LOGIN),
    row("GET /staff/statements/{F2}/",
        B1=404, B2=404, H1=404, H2=404, C1=404, C2=404,
        staff=page("/staff/statements/{F2}/{month}/", sees=("H2",)), official=404, anon=LOGIN),
    row("GET /staff/statements/{F1}/{month}/",
        B1=404, B2=404, H1=404, H2=404, C1=404, C2=404,
        staff=page("{N1}", lacks=("{N2}",), sees=("H1",)), official=404, anon=LOGIN),
    row("GET /staff/statements/{F2}/{month}/",
        B1=404, B2=404, H1=404, H2=404, C1=404, C2=404,
        staff=page("{N2}", lacks=("{N1}",), sees=("H2",)), official=404, anon=LOGIN),
]

# The same steps from the pages (forms post; success sends the browser on, a refusal is a 404).
PAGE_WRITES = [
    row("POST /don-hang/{N3}/huy/", watch=("order", "O3"),
        B1=moved("/don-hang/{N3}/"), B2=404, H1=404, H2=404, C1=404, C2=404, staff=404, official=404,
        anon=LOGIN),
    row("POST /don-hang/{N4}/huy/", watch=("order", "O4"),
        B1=404, B2=moved("/don-hang/{N4}/"), H1=404, H2=404, C1=404, C2=404, staff=404, official=404,
        anon=LOGIN),
    row("POST /don-hang/{N1}/su-co/", body={"line": "{L1}", "kind": "damaged", "quantity": "1"},
        watch=("problems", "O1"),
        B1=moved("/don-hang/{N1}/"), B2=404, H1=404, H2=404, C1=404, C2=404, staff=404, official=404,
        anon=LOGIN),
    row("POST /don-hang/{N2}/su-co/", body={"line": "{L2}", "kind": "damaged", "quantity": "1"},
        watch=("problems", "O2"),
        B1=404, B2=moved("/don-hang/{N2}/"), H1=404, H2=404, C1=404, C2=404, staff=404, official=404,
        anon=LOGIN),
    row("POST /farmer/orders/{FO3H1}/accept/", watch=("farm_order", "FO3H1"),
        B1=403, B2=403, H1=moved("/farmer/orders/"), H2=404, C1=403, C2=403, staff=403, official=403,
        anon=LOGIN),
    row("POST /farmer/orders/{FO4H2}/accept/", watch=("farm_order", "FO4H2"),
        B1=403, B2=403, H1=404, H2=moved("/farmer/orders/"), C1=403, C2=403, staff=403, official=403,
        anon=LOGIN),
    row("POST /farmer/orders/{FO6H1}/accept/", watch=("farm_order", "FO6H1"),
        B1=403, B2=403, H1=404, H2=404, C1=403, C2=403, staff=403, official=403, anon=LOGIN),
    row("POST /farmer/orders/{FO4H1}/ready/", watch=("farm_order", "FO4H1"),
        B1=403, B2=403, H1=moved("/farmer/orders/"), H2=404, C1=403, C2=403, staff=403, official=403,
        anon=LOGIN),
    row("POST /farmer/orders/{FO3H2}/ready/", watch=("farm_order", "FO3H2"),
        B1=403, B2=403, H1=404, H2=moved("/farmer/orders/"), C1=403, C2=403, staff=403, official=403,
        anon=LOGIN),
    row("POST /farmer/orders/{FO3H1}/reject/", body={"reason": "Mưa dập hết trái"},
        watch=("farm_order", "FO3H1"),
        B1=403, B2=403, H1=moved("/farmer/orders/"), H2=404, C1=403, C2=403, staff=403, official=403,
        anon=LOGIN),
    row("POST /farmer/orders/{FO4H2}/reject/", body={"reason": "Mưa dập hết trái"},
        watch=("farm_order", "FO4H2"),
        B1=403, B2=403, H1=404, H2=moved("/farmer/orders/"), C1=403, C2=403, staff=403, official=403,
        anon=LOGIN),
    # Staff answer problems in the admin, not on the household's page.
    row("POST /farmer/problems/{P1}/resolve/", body={"refund_amount": "1000"}, watch=("problem", "P1"),
        B1=403, B2=403, H1=moved("/farmer/problems/"), H2=404, C1=403, C2=403, staff=403, official=403,
        anon=LOGIN),
    row("POST /farmer/problems/{P2}/resolve/", body={"refund_amount": "1000"}, watch=("problem", "P2"),
        B1=403, B2=403, H1=404, H2=moved("/farmer/problems/"), C1=403, C2=403, staff=403, official=403,
        anon=LOGIN),
    row("POST /farmer/problems/{P1}/decline/", body={"answer": "Hàng đúng như ảnh"}, watch=("problem", "P1"),
        B1=403, B2=403, H1=moved("/farmer/problems/"), H2=404, C1=403, C2=403, staff=403, official=403,
        anon=LOGIN),
    row("POST /farmer/problems/{P2}/decline/", body={"answer": "Hàng đúng như ảnh"}, watch=("problem", "P2"),
        B1=403, B2=403, H1=404, H2=moved("/farmer/problems/"), C1=403, C2=403, staff=403, official=403,
        anon=LOGIN),
    row("POST /courier/runs/{R1}/claim/", watch=("run", "R1"),
        B1=403, B2=403, H1=403, H2=403, C1=moved("/courier/runs/{R1}/", same=True), C2=404, staff=403,
        official=403, anon=LOGIN),
    row("POST /courier/runs/{R2}/claim/", watch=("run", "R2"),
        B1=403, B2=403, H1=403, H2=403, C1=404, C2=moved("/courier/runs/{R2}/", same=True), staff=403,
        official=403, anon=LOGIN),
    row("POST /courier/runs/{R3}/claim/", watch=("run", "R3"),
        B1=403, B2=403, H1=403, H2=403, C1=moved("/courier/runs/{R3}/"), C2=404, staff=403,
        official=403, anon=LOGIN),
    row("POST /courier/shipments/{S2H1}/step/", body={"type": "picked_up"}, watch=("shipment", "S2H1"),
        B1=403, B2=403, H1=403, H2=403, C1=moved("/courier/runs/{R1}/#s{S2H1}"), C2=404, staff=403,
        official=403, anon=LOGIN),
    row("POST /courier/shipments/{S1H2}/step/", body={"type": "picked_up"}, watch=("shipment", "S1H2"),
        B1=403, B2=403, H1=403, H2=403, C1=404, C2=moved("/courier/runs/{R2}/#s{S1H2}"), staff=403,
        official=403, anon=LOGIN),
    row("POST /courier/shipments/{S5H1}/step/", body={"type": "picked_up"}, watch=("shipment", "S5H1"),
        B1=403, B2=403, H1=403, H2=403, C1=404, C2=404, staff=403, official=403, anon=LOGIN),
]
# fmt: on

SECTIONS = {"api-read": API_READS, "api-write": API_WRITES, "page": PAGES, "page-write": PAGE_WRITES}


# --- The world ---------------------------------------------------------------------------------


@dataclass
class World:
    users: dict  # actor → user (None for anonymous)
    ref: dict  # placeholder → value: object ids, order numbers, the month, names

    def fill(self, text: str) -> str:
        return text.format(**self.ref)

    def pk(self, name: str) -> int:
        return self.ref[name]


def _part(order: Order, farm) -> FarmOrder:
    return order.farm_orders.get(farm=farm)


def _deliver(part: FarmOrder, courier) -> None:
    shipment = Shipment.objects.get(pk=part.shipment_id)
    shipment_step(shipment=shipment, type="picked_up", by=courier)
    shipment.refresh_from_db()
    shipment_step(shipment=shipment, type="delivered", by=courier, cash_collected=shipment.cash_to_collect)
    part.refresh_from_db()
    assert part.status == "delivered", part.status
    farm_order_settle(farm_order=part)  # what the delivered hook's task does


@pytest.fixture
def world(make_user) -> World:
    official = make_user(Role.OFFICIAL, full_name="Cán bộ Thành phố")
    users = {
        key: make_user(Role.BUYER, full_name=person["full_name"], phone=person["phone"])
        for key, person in BUYERS.items()
    }
    farms, products = {}, {}
    for key, data in HOUSEHOLDS.items():
        owner = make_user(Role.FARMER, full_name=data["representative_name"], phone=data["phone"])
        users[key] = owner
        farms[key] = make_farm(
            make_user,
            owner=owner,
            official=official,
            ward_index=data["ward_index"],
            name=data["name"],
            representative_name=data["representative_name"],
            phone=data["phone"],
            address=data["address"],
        )
        products[key] = [
            make_product(farms[key], name=name, category=category, status="active", stock="100", price=price)
            for name, category, price in zip(data["products"], (203, 204), (20000, 30000), strict=True)
        ]
    users["C1"] = make_user(Role.COURIER, full_name="Anh Tư Giao Hàng")
    users["C2"] = make_user(Role.COURIER, full_name="Anh Năm Giao Hàng")
    Zone.objects.get(name="Nội thành").couriers.add(users["C1"])
    Zone.objects.get(name="Ven đô").couriers.add(users["C2"])
    users["staff"] = make_user(Role.STAFF, full_name="Nhân viên Chợ Nổi")
    users["official"] = official
    users["anon"] = None

    def order(buyer_key, *farm_keys, payment_method="cod"):
        person = BUYERS[buyer_key]
        items = [(product, Decimal(1)) for key in farm_keys for product in products[key]]
        delivery = {"name": person["full_name"], "phone": person["phone"], "address": person["address"]}
        return place(
            users[buyer_key], items, delivery={**delivery, "ward": ward(3).pk}, payment_method=payment_method
        )

    def accept(part, *, ready=False):
        services.farm_order_accept(farm_order=part, by=part.farm.owner)
        if ready:
            services.farm_order_ready(farm_order=part, by=part.farm.owner)
        part.refresh_from_db()
        return part

    f1, f2 = farms["H1"], farms["H2"]
    o1, o2 = order("B1", "H1", "H2"), order("B2", "H1", "H2")
    parts = {
        f"FO{n}{h}": accept(_part(o, farm), ready=True)
        for n, o in ((1, o1), (2, o2))
        for h, farm in (("H1", f1), ("H2", f2))
    }
    r1, r2 = sorted(runs_build(), key=lambda run: run.zone.position)
    assert (r1.courier, r2.courier) == (users["C1"], users["C2"])
    _deliver(parts["FO1H1"], users["C1"])
    _deliver(parts["FO2H2"], users["C2"])
    reports = {}
    for name, o, part, buyer in (("P1", o1, parts["FO1H1"], "B1"), ("P2", o2, parts["FO2H2"], "B2")):
        first, second = part.lines.order_by("pk")
        reports[name] = problems.problem_report(
            order=o,
            line_id=first.pk,
            by=users[buyer],
            kind="not_fresh",
            quantity=Decimal(1),
            photo=jpeg_upload() if name == "P1" else None,  # a private photo: who may fetch it
        )
        reports["L" + name[1]] = second  # a line with no report yet: the buyer may report it
    o3, o4 = order("B1", "H1", "H2"), order("B2", "H1", "H2")
    parts["FO3H1"], parts["FO3H2"] = _part(o3, f1), accept(_part(o3, f2))
    parts["FO4H1"], parts["FO4H2"] = accept(_part(o4, f1)), _part(o4, f2)
    o5 = order("B1", "H1")
    parts["FO5H1"] = accept(_part(o5, f1), ready=True)
    o6 = order("B2", "H1", payment_method="vietqr")  # unpaid: its part waits in `awaiting_payment`
    parts["FO6H1"] = _part(o6, f1)
    (r3,) = runs_build()
    Run.objects.filter(pk=r3.pk).update(courier=None, assigned_at=None)  # waiting to be claimed
    assert r3.zone_id == r1.zone_id

    orders = {"O1": o1, "O2": o2, "O3": o3, "O4": o4, "O5": o5, "O6": o6}
    ref = {name: o.pk for name, o in orders.items()}
    ref |= {"N" + name[1]: o.number for name, o in orders.items()}
    ref |= {name: part.pk for name, part in parts.items()}
    ref |= {"S" + name[2:]: part.shipment_id for name, part in parts.items() if part.shipment_id}
    ref |= {"R1": r1.pk, "R2": r2.pk, "R3": r3.pk, "F1": f1.pk, "F2": f2.pk}
    ref |= {name: obj.pk for name, obj in reports.items()}
    ref |= {f"{key}_name": person["full_name"] for key, person in BUYERS.items()}
    ref["month"] = timezone.localdate().strftime("%Y-%m")
    return World(users=users, ref=ref)


# --- What a write may change -------------------------------------------------------------------


def _state(what: str, pk: int):
    """Read again the rows a write may change."""
    if what == "order":
        order = Order.objects.get(pk=pk)
        parts = order.farm_orders.order_by("pk").values_list("status", flat=True)
        return order.status, order.payment_status, order.total, tuple(parts)
    if what == "farm_order":
        part = FarmOrder.objects.get(pk=pk)
        weighed = tuple(part.lines.order_by("pk").values_list("actual_quantity", flat=True))
        return part.status, part.shipment_id, part.subtotal, weighed
    if what == "run":
        run = Run.objects.get(pk=pk)
        return run.courier_id, run.assigned_at
    if what == "shipment":
        shipment = Shipment.objects.get(pk=pk)
        return shipment.status, shipment.run_id, shipment.cash_collected, shipment.events.count()
    if what == "problems":
        return tuple(
            Problem.objects.filter(farm_order__order_id=pk).order_by("pk").values_list("pk", "status")
        )
    if what == "problem":
        problem = Problem.objects.get(pk=pk)
        entries = LedgerEntry.objects.filter(farm_order_id=problem.farm_order_id).count()
        return problem.status, problem.refund_amount, problem.answer, entries
    if what == "ledger":
        return tuple(LedgerEntry.objects.filter(farm_id=pk, kind=LedgerKind.PAYOUT).values_list("pk", "net"))
    raise AssertionError(f"nothing to watch called {what}")


# --- Running a cell ----------------------------------------------------------------------------


def _filled(value, world: World):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return world.pk(value[1:-1])
    return world.fill(value) if isinstance(value, str) else value


def _at(data, path: str):
    for key in path.split("."):
        data = data[key]
    return data


def _body_problems(cell: Ok, response, world: World, actor: str) -> list[str]:
    """What is wrong with a 2xx body: wrong objects, missing or stray text, someone else's data."""
    wrong = []
    is_json = response.get("Content-Type", "").startswith("application/json")
    data = response.json() if is_json else None
    # JSON text as people read it (no \u escapes), so a name is found however the renderer wrote it.
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    text = json.dumps(data, ensure_ascii=False) if is_json else raw.decode("utf-8", "replace")
    if cell.ids is not None:
        got = {item["id"] for item in data["results"]}
        want = {world.pk(name) for name in cell.ids}
        if got != want:
            wrong.append(f"ids {sorted(got)}, want {sorted(want)} ({', '.join(sorted(cell.ids)) or 'none'})")
    for path, name in cell.fields.items():
        if _at(data, path) != world.pk(name):
            wrong.append(f"{path}={_at(data, path)!r}, want {name}={world.pk(name)}")
    if cell.to is not None and response["Location"] != world.fill(cell.to):
        wrong.append(f"sent to {response['Location']}, want {world.fill(cell.to)}")
    wrong += [f"lacks {world.fill(t)!r}" for t in cell.has if world.fill(t) not in text]
    wrong += [f"holds {world.fill(t)!r}" for t in cell.lacks if world.fill(t) in text]
    allowed = {actor, *cell.sees}
    for party, markers in PERSONAL.items():
        if party not in allowed:
            wrong += [f"holds {party}'s personal data {m!r}" for m in markers if m in text]
    return wrong


def _run_cell(world: World, actor: str, client, r: Row, cell) -> str | None:
    """Make the request in a savepoint rolled back afterwards; return what is wrong, or None."""
    url = world.fill(r.url)
    label = f"{actor:8} {r.method} {r.url}"
    with transaction.atomic():
        before = _state(r.watch[0], world.pk(r.watch[1])) if r.watch else None
        body = {key: _filled(value, world) for key, value in (r.body or {}).items()}
        if r.method == "GET":
            response = client.get(url)
        elif isinstance(client, APIClient):
            response = client.post(url, body, format="json")
        else:
            response = client.post(url, body)
        after = _state(r.watch[0], world.pk(r.watch[1])) if r.watch else None
        transaction.set_rollback(True)
    expected = cell.status if isinstance(cell, Ok) else cell
    got = response.status_code
    if cell == LOGIN:
        login = reverse("accounts:login")
        if got != 302 or not response["Location"].startswith(login):
            return f"{label}: want a redirect to {login}, got {got} {response.get('Location', '')}"
        return None
    if got != expected:
        return f"{label}: want {expected}, got {got}: {response.content[:300]!r}"
    wrong = []
    if isinstance(cell, Ok):
        wrong += _body_problems(cell, response, world, actor)
        if r.watch and not cell.same and after == before:
            wrong.append(f"allowed, but {r.watch[0]} {r.watch[1]} did not change: {before}")
        if r.watch and cell.same and after != before:
            wrong.append(f"{r.watch[0]} {r.watch[1]} changed: {before} → {after}")
    else:
        if 200 <= got < 300:
            wrong.append("a 2xx cell must say what its body holds (use Ok)")
        if r.watch and after != before:
            wrong.append(f"refused, yet {r.watch[0]} {r.watch[1]} changed: {before} → {after}")
        if got in (401, 403, 404) and r.url.startswith("/api/"):
            code = {401: ("not_authenticated", "authentication_failed"), 403: ("permission_denied",)}
            answer = response.json()
            if answer.get("code") not in code.get(got, ("not_found",)):
                wrong.append(f"code {answer.get('code')!r}")
            if set(answer) - {"detail", "code"}:
                wrong.append(f"says more than detail and code: {answer}")
            if got == 401 and not response.get("WWW-Authenticate", "").startswith("Token"):
                wrong.append(f"WWW-Authenticate {response.get('WWW-Authenticate')!r}")
        if got in (403, 404):
            # No name, phone or address of anyone in a refusal.
            text = response.content.decode("utf-8", "replace")
            wrong += [
                f"holds {p}'s {m!r}" for p, ms in PERSONAL.items() if p != actor for m in ms if m in text
            ]
    return f"{label}: " + "; ".join(wrong) if wrong else None


def _client_for(section: str, user):
    if section.startswith("api"):
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=user)}")
        return client
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


CASES = [(section, actor) for section in SECTIONS for actor in ACTORS]


@pytest.mark.parametrize(("section", "actor"), CASES, ids=[f"{s}-{a}" for s, a in CASES])
def test_each_actor_reaches_only_its_own(section, actor, world):
    client = _client_for(section, world.users[actor])
    rows = SECTIONS[section]
    wrong = [m for r in rows if (m := _run_cell(world, actor, client, r, r.cells[actor]))]
    assert not wrong, f"{len(wrong)} of {len(rows)} cells wrong:\n" + "\n".join(wrong)


# --- The matrix covers every fulfilment endpoint -----------------------------------------------

#: Routes of orders that are not fulfilment: the cart, checkout and payment (#4-#6 test them).
NOT_FULFILMENT = {
    "cart", "cart-items", "cart-item", "checkout", "order-pay",
    "orders:checkout", "orders:pay", "orders:stripe_webhook", "orders:vietqr_webhook",
}  # fmt: skip


class _AnyIds(dict):
    """Placeholders filled with ids that resolve: an order number for N<n>, a month, else 1."""

    def __missing__(self, key):
        return "CN-0101-0001" if key[0] == "N" else "2026-11" if key == "month" else 1


def test_the_matrix_covers_every_fulfilment_route():
    """A new route of orders or logistics (API or page) fails here until its row is written."""
    from logistics import urls as logistics_pages
    from logistics.api import urls as logistics_api
    from orders import urls as order_pages
    from orders.api import urls as orders_api

    covered = {
        resolve(r.url.format_map(_AnyIds()).split("?")[0]).view_name
        for rows in SECTIONS.values()
        for r in rows
    }
    wanted = {p.name for p in [*orders_api.urlpatterns, *logistics_api.urlpatterns]}
    wanted |= {f"orders:{p.name}" for p in order_pages.urlpatterns}
    wanted |= {f"logistics:{p.name}" for p in logistics_pages.urlpatterns} | {"courier-home"}
    assert wanted - NOT_FULFILMENT <= covered, (
        f"not in the matrix: {sorted(wanted - NOT_FULFILMENT - covered)}"
    )


# --- A buyer's photo of a problem --------------------------------------------------------------


def test_nobody_finds_a_problem_photo_by_counting_ids(world):
    """Problem photos are private (served by a checked view), and their file names are not made
    of ids either: a copy in a backup or a log never lets anyone walk problem-1.jpg, problem-2.jpg."""
    order = Order.objects.get(pk=world.pk("O1"))
    problem = problems.problem_report(
        order=order,
        line_id=world.pk("L1"),
        by=world.users["B1"],
        kind="damaged",
        quantity=Decimal(1),
        photo=jpeg_upload(),
    )
    name = PurePosixPath(problem.photo.name)
    guessable = {str(pk) for pk in (problem.pk, problem.line_id, order.pk, problem.farm_order_id)}
    assert not guessable & set(name.stem.split("-")), name
    assert len(name.stem.rsplit("-", 1)[-1]) >= 32, f"{name}: too short to be unguessable"
