"""Who may call every farms API endpoint: the permission matrix of docs/api.md.

Six actors: the owning farmer, another farmer with a household of their own, a buyer, an
official whose wards include the household's, an official of another ward, and anonymous.
Anonymous on a protected endpoint → 401; a role that may never use the endpoint → 403;
someone else's object or one out of the official's scope → 404; the allowed → 2xx.
A meta-test walks the URL resolver so that a new endpoint cannot miss the matrix.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from farms import services
from farms.models import Farm, FarmStatus
from marketplace.accounts.models import Role

from .factories import jpeg_upload, make_certification, make_farm, make_product, next_cccd, ward

pytestmark = pytest.mark.django_db

ACTORS = ("owner", "other_farmer", "buyer", "official_in", "official_out", "anonymous")


@dataclass
class World:
    """A verified household in ward A with listings, a photo, a certificate and a lot."""

    make_user: Callable
    actors: dict
    farm: Farm
    other_farm: Farm
    product: object
    draft: object
    image: object
    certification: object
    lot: object
    extra: dict = field(default_factory=dict)


@pytest.fixture
def world(make_user) -> World:
    ward_in, ward_out = ward(0), ward(1)
    verifier = make_user(Role.OFFICIAL)  # city-wide: only sets the scene
    owner = make_user(Role.FARMER, full_name="Nguyễn Văn Tư")
    other = make_user(Role.FARMER, full_name="Trần Thị Năm")
    farm = make_farm(make_user, owner=owner, ward=ward_in, official=verifier)
    other_farm = make_farm(make_user, owner=other, ward=ward_out, official=verifier, name="Hộ bà Năm")
    product = make_product(farm, status="active")
    draft = make_product(farm, name="Chôm chôm Thái", category=204)
    image = services.product_image_add(product=product, upload=jpeg_upload())
    certification = make_certification(farm)
    lot = services.lot_create(
        farm=farm, product=product, harvest_date=timezone.localdate() - timedelta(days=2), quantity="50"
    )
    actors = {
        "owner": owner,
        "other_farmer": other,
        "buyer": make_user(Role.BUYER),
        "official_in": make_user(Role.OFFICIAL, wards=[ward_in], city_wide=False),
        "official_out": make_user(Role.OFFICIAL, wards=[ward_out], city_wide=False),
        "anonymous": None,
    }
    return World(make_user, actors, farm, other_farm, product, draft, image, certification, lot)


# --- Expected answers by kind of endpoint ---------------------------------------------


def everyone(code):
    return dict.fromkeys(ACTORS, code)


def owner_only(ok):
    """Farmer endpoints on one object: the other farmer gets 404, other roles 403."""
    return {
        "owner": ok,
        "other_farmer": 404,
        "buyer": 403,
        "official_in": 403,
        "official_out": 403,
        "anonymous": 401,
    }


def farmers(ok, other_farmer=None):
    """Farmer endpoints on their own collection: every farmer is served their own."""
    return {
        "owner": ok,
        "other_farmer": other_farmer or ok,
        "buyer": 403,
        "official_in": 403,
        "official_out": 403,
        "anonymous": 401,
    }


def officials_in_scope(ok):
    return {
        "owner": 403,
        "other_farmer": 403,
        "buyer": 403,
        "official_in": ok,
        "official_out": 404,
        "anonymous": 401,
    }


def owner_and_officials_in_scope(ok):
    return {
        "owner": ok,
        "other_farmer": 404,
        "buyer": 403,
        "official_in": ok,
        "official_out": 404,
        "anonymous": 401,
    }


def farmers_and_officials(ok):
    return {
        "owner": ok,
        "other_farmer": ok,
        "buyer": 403,
        "official_in": ok,
        "official_out": ok,
        "anonymous": 401,
    }


def private_but_public_when_selling(ok):
    """Objects the public sees only while selling: here, not selling."""
    return {
        "owner": ok,
        "other_farmer": 404,
        "buyer": 404,
        "official_in": 404,
        "official_out": 404,
        "anonymous": 404,
    }


# --- Scene changes a row needs before it runs -----------------------------------------


def set_farm_status(status):
    def setup(w: World):
        Farm.objects.filter(pk=w.farm.pk).update(status=status)

    return setup


def owner_without_household(w: World):
    """The acting farmer has no household yet: hand the existing one to another account."""
    Farm.objects.filter(pk=w.farm.pk).update(owner=w.make_user(Role.FARMER))


# --- Bodies ---------------------------------------------------------------------------


def registration(w: World):
    return {
        "name": "Hộ bà Sáu",
        "representative_name": "Lê Thị Sáu",
        "phone": "0912 777 888",
        "ward": ward(0).code,
        "address": "Ấp Thới Hòa",
        "area_m2": 3000,
        "main_crops": "bưởi da xanh",
        "cccd": next_cccd(),
    }


def new_listing(w: World):
    return {"name": "Bưởi da xanh", "category": 202, "unit": "kg", "price": 30000, "stock": "40"}


def new_certificate(w: World):
    today = timezone.localdate()
    return {
        "kind": "vietgap",
        "number": "VG-092-0777",
        "issuer": "Trung tâm Chứng nhận Cần Thơ",
        "issued_on": (today - timedelta(days=30)).isoformat(),
        "expires_on": (today + timedelta(days=700)).isoformat(),
        "document": jpeg_upload("cert.jpg"),
    }


def new_lot(w: World):
    return {"product": w.product.pk, "harvest_date": timezone.localdate().isoformat(), "quantity": "20"}


@dataclass(frozen=True)
class Case:
    label: str
    method: str
    name: str
    kwargs: Callable[[World], dict]
    expected: dict
    body: Callable[[World], dict] | None = None
    multipart: bool = False
    setup: Callable[[World], None] | None = None

    def url(self, w: World) -> str:
        return reverse(self.name, kwargs=self.kwargs(w))


def none(w):
    return {}


def farm_pk(w):
    return {"pk": w.farm.pk}


def product_pk(w):
    return {"pk": w.product.pk}


def cert_pk(w):
    return {"pk": w.certification.pk}


def lot_pk(w):
    return {"pk": w.lot.pk}


CASES = [
    # Households
    Case("list verified households", "GET", "farm-list", none, everyone(200)),
    Case(
        "register a household",
        "POST",
        "farm-list",
        none,
        farmers(201, other_farmer=409),  # the other farmer already has one
        body=registration,
        setup=owner_without_household,
    ),
    Case("verified household", "GET", "farm-detail", farm_pk, everyone(200)),
    Case(
        "pending household",
        "GET",
        "farm-detail",
        farm_pk,
        {**private_but_public_when_selling(200), "official_in": 200},
        setup=set_farm_status(FarmStatus.PENDING),
    ),
    Case(
        "suspended household",
        "GET",
        "farm-detail",
        farm_pk,
        {**private_but_public_when_selling(200), "official_in": 200},
        setup=set_farm_status(FarmStatus.SUSPENDED),
    ),
    Case(
        "edit a household",
        "PATCH",
        "farm-detail",
        farm_pk,
        owner_only(200),
        body=lambda w: {"main_crops": "măng cụt, sầu riêng"},
    ),
    Case("my household", "GET", "my-farm", none, farmers(200)),
    Case(
        "verification queue",
        "GET",
        "farm-queue",
        none,
        {**officials_in_scope(200), "official_out": 200},  # each official sees their own wards
    ),
    Case(
        "verify a household",
        "POST",
        "farm-verify",
        farm_pk,
        officials_in_scope(200),
        body=lambda w: {"decision": "approve"},
        setup=set_farm_status(FarmStatus.PENDING),
    ),
    Case(
        "suspend a household",
        "POST",
        "farm-suspend",
        farm_pk,
        officials_in_scope(200),
        body=lambda w: {"reason": "Kiểm tra chất lượng"},
    ),
    Case(
        "reinstate a household",
        "POST",
        "farm-reinstate",
        farm_pk,
        officials_in_scope(200),
        body=lambda w: {"reason": "Đã khắc phục"},
        setup=set_farm_status(FarmStatus.SUSPENDED),
    ),
    Case(
        "resubmit a household",
        "POST",
        "farm-resubmit",
        farm_pk,
        owner_only(200),
        setup=set_farm_status(FarmStatus.REJECTED),
    ),
    # Reference lists
    Case("categories", "GET", "category-list", none, everyone(200)),
    Case("units", "GET", "unit-list", none, everyone(200)),
    # Listings
    Case("catalogue", "GET", "product-list", none, everyone(200)),
    Case("a household's listings", "GET", "farm-products", farm_pk, everyone(200)),
    Case(
        "listings of a pending household",
        "GET",
        "farm-products",
        farm_pk,
        everyone(404),  # the owner too: this is the public shop window
        setup=set_farm_status(FarmStatus.PENDING),
    ),
    Case("add a listing", "POST", "product-list", none, farmers(201), body=new_listing),
    Case("listing on sale", "GET", "product-detail", product_pk, everyone(200)),
    Case(
        "draft listing",
        "GET",
        "product-detail",
        lambda w: {"pk": w.draft.pk},
        private_but_public_when_selling(200),
    ),
    Case(
        "listing of a suspended household",
        "GET",
        "product-detail",
        product_pk,
        private_but_public_when_selling(200),
        setup=set_farm_status(FarmStatus.SUSPENDED),
    ),
    Case(
        "edit a listing",
        "PATCH",
        "product-detail",
        product_pk,
        owner_only(200),
        body=lambda w: {"price": 50000, "stock": 80.5},
    ),
    Case("archive a listing", "DELETE", "product-detail", product_pk, owner_only(204)),
    Case("my listings", "GET", "my-products", none, farmers(200)),
    # Photos
    Case(
        "add a photo",
        "POST",
        "product-images",
        product_pk,
        owner_only(201),
        body=lambda w: {"image": jpeg_upload()},
        multipart=True,
    ),
    Case(
        "delete a photo",
        "DELETE",
        "product-image-detail",
        lambda w: {"pk": w.product.pk, "image_id": w.image.pk},
        owner_only(204),
    ),
    Case(
        "order photos",
        "POST",
        "product-images-order",
        product_pk,
        owner_only(200),
        body=lambda w: {"ids": [w.image.pk]},
    ),
    # Certificates
    Case("certificates", "GET", "certification-list", none, farmers_and_officials(200)),
    Case(
        "add a certificate",
        "POST",
        "certification-list",
        none,
        farmers(201),
        body=new_certificate,
        multipart=True,
    ),
    Case("a certificate", "GET", "certification-detail", cert_pk, owner_and_officials_in_scope(200)),
    Case("withdraw a certificate", "DELETE", "certification-detail", cert_pk, owner_only(204)),
    Case(
        "certificate document",
        "GET",
        "certification-document",
        cert_pk,
        owner_and_officials_in_scope(200),
    ),
    Case(
        "verify a certificate",
        "POST",
        "certification-verify",
        cert_pk,
        officials_in_scope(200),
        body=lambda w: {"decision": "approve"},
    ),
    # Harvest lots and trace
    Case("my lots", "GET", "lot-list", none, farmers(200)),
    Case(
        "add a lot",
        "POST",
        "lot-list",
        none,
        farmers(201, other_farmer=400),  # the listing is not theirs: a field message
        body=new_lot,
    ),
    Case("a lot", "GET", "lot-detail", lot_pk, owner_only(200)),
    Case("edit a lot", "PATCH", "lot-detail", lot_pk, owner_only(200), body=lambda w: {"quantity": 30}),
    Case("delete a lot", "DELETE", "lot-detail", lot_pk, owner_only(204)),
    Case("trace a lot", "GET", "lot-trace", lambda w: {"code": w.lot.code}, everyone(200)),
    Case("trace an unknown code", "GET", "lot-trace", lambda w: {"code": "ZZZZ2222"}, everyone(404)),
]


def _call(case: Case, w: World, client: APIClient):
    url = case.url(w)
    method = getattr(client, case.method.lower())
    if case.body is None:
        return method(url)
    return method(url, case.body(w), format="multipart" if case.multipart else "json")


@pytest.mark.parametrize("case", CASES, ids=[f"{c.method} {c.name}: {c.label}" for c in CASES])
def test_permission_matrix(case, world, api_as):
    assert set(case.expected) == set(ACTORS)
    if case.setup:
        case.setup(world)
    clients = {name: api_as(user) if user else APIClient() for name, user in world.actors.items()}
    answers, details = {}, {}
    for name in ACTORS:
        # Each actor meets the same scene: what one changes is rolled back before the next.
        with transaction.atomic():
            response = _call(case, world, clients[name])
            transaction.set_rollback(True)
        answers[name] = response.status_code
        details[name] = response
    assert answers == case.expected

    for response in details.values():
        status = response.status_code
        if status == 401:
            assert response.headers["WWW-Authenticate"].startswith("Token")
            assert response.json()["code"] == "not_authenticated"
        elif status == 403:
            assert response.json()["code"] == "permission_denied"
        elif status == 404:
            # Never the object's data, never a hint that it exists.
            assert set(response.json()) == {"detail", "code"}
            assert response.json()["code"] == "not_found"


def _farms_api_routes() -> set[tuple[str, str]]:
    """Return (url name, HTTP method) of every /api/v1/ route served by a view in farms.api."""
    routes = set()

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                view_class = getattr(pattern.callback, "view_class", None) or getattr(
                    pattern.callback, "cls", None
                )
                module = getattr(view_class or pattern.callback, "__module__", "")
                if not (prefix + str(pattern.pattern)).startswith("api/v1/"):
                    continue
                if not module.startswith("farms.api"):
                    continue
                assert pattern.name, f"unnamed farms API route {prefix}{pattern.pattern}"
                for method in ("get", "post", "put", "patch", "delete"):
                    if hasattr(view_class, method):
                        routes.add((pattern.name, method.upper()))

    walk(get_resolver().url_patterns, "")
    return routes


def test_every_farms_api_endpoint_is_in_the_matrix():
    routes = _farms_api_routes()
    assert len(routes) >= 30  # the walk found the farms API, so the comparison means something
    in_matrix = {(case.name, case.method) for case in CASES}
    missing = sorted(routes - in_matrix)
    assert not missing, f"add these endpoints to the permission matrix: {missing}"
    unknown = sorted(in_matrix - routes)
    assert not unknown, f"the matrix names endpoints that do not exist: {unknown}"
