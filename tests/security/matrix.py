"""The authorization matrix: every URL of the site, who may reach it, and how to fill it.

Each route of `django.urls.get_resolver()` has an entry in `MATRIX`, keyed by its name with
namespace (`"orders:detail"`, `"farm-detail"`) or, for an unnamed pattern, by the pattern
itself. Everything under `admin/` follows one rule instead (`ADMIN_PREFIX`): staff only,
everyone else is sent to the admin's login.

An entry is one or more `Case`s. A case names the object its URL points at (always one of
*alice*'s, from `tests/security/world.py`), the expected answer to GET for every viewer, and
the expected answer to a write (POST, PATCH, DELETE) for the viewers who must be refused;
the viewers allowed to write are not sent the write (`SKIP`), so the world stays as built and
the matrix stays an authorization test, not a functional one.

Conventions (docs/api.md, "Status codes"):
- API: no credentials → 401 with `WWW-Authenticate: Token`; the wrong role → 403; someone
  else's object, or one out of an official's wards → 404.
- Pages: anonymous → a redirect to the login page (`LOGIN`); the wrong role → 403; someone
  else's object → 404.

To add a URL: add an entry below with the builders `api(...)`, `page(...)` or `public(...)`:
the first argument is the answer of every viewer not named, then role names (`farmer=200`)
and viewer keys (`farmer_bob=404`) override it, in that order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .world import NAMES, ROLES, VIEWERS, World

LOGIN = "login"  # 302 to the site's login page
ADMIN_LOGIN = "admin-login"  # 302 to the admin's login page
SKIP = None  # not tried (an allowed write: it would change the world)
ADMIN_PREFIX = "admin/"


def _expect(default, anonymous, overrides: dict) -> dict:
    table = dict.fromkeys(VIEWERS, default)
    table["anonymous"] = anonymous
    for key, value in overrides.items():
        if key in ROLES:
            for name in NAMES:
                table[f"{key}_{name}"] = value
    for key, value in overrides.items():
        if key not in ROLES:
            assert key in VIEWERS, f"unknown viewer {key}"
            table[key] = value
    return table


def api(default=403, *, anonymous=401, **overrides) -> dict:
    """Expected API answers: anonymous 401, `default` for every viewer not named."""
    return _expect(default, anonymous, overrides)


def page(default=403, *, anonymous=LOGIN, **overrides) -> dict:
    """Expected page answers: anonymous to the login page, `default` for every viewer not named."""
    return _expect(default, anonymous, overrides)


def public(default=200, **overrides) -> dict:
    """Expected answers of a URL anyone may use."""
    return _expect(default, overrides.pop("anonymous", default), overrides)


@dataclass(frozen=True)
class Ref:
    """`world.ids[owner][kind]`, resolved when the URL is built."""

    owner: str
    kind: str

    def resolve(self, world: World):
        return world.ids[self.owner][self.kind]


@dataclass(frozen=True)
class ListCheck:
    """Users of `role` see their own values of `world.ids[user][key]` and none of the other's.

    `fmt` turns a value into the text to look for; `json_ids` compares the ids of a JSON list
    (its `results`, or the list itself) instead of text.
    """

    role: str
    key: str
    fmt: str = "{}"
    json_ids: bool = False
    must_show_own: bool = True


@dataclass
class Case:
    get: dict | None = None  # viewer -> expected answer to GET (None: GET is not tried)
    write: dict | None = None  # viewer -> expected answer to the write (SKIP: not tried)
    method: str = "post"
    kwargs: dict = field(default_factory=dict)  # URL arguments: literals, Refs or callables of the world
    query: str = ""
    data: dict = field(default_factory=dict)
    lists: tuple[ListCheck, ...] = ()
    label: str = ""
    sweep: bool = True  # fetched by the personal-data sweep too


def case(**fields) -> Case:
    return Case(**fields)


def _category_slug(world: World) -> str:
    from farms.models import Category

    return Category.objects.get(pk=203).slug


def _media_path(world: World) -> str:
    from farms.models import ProductImage

    return ProductImage.objects.get(pk=world.ids["farmer_alice"]["image"]).original.name


def _export_query(file: str) -> str:
    return f"?kind=sales&file={file}&group_by=household"


# Shorthands for the usual shapes ---------------------------------------------------------


def api_own(role: str, ok=200, *, other=404, **overrides) -> dict:
    """Only `role` may use it, each user their own object: alice ok, bob 404, others 403."""
    return api(403, **{role: other, f"{role}_alice": ok, **overrides})


def page_own(role: str, ok=200, *, other=404, **overrides) -> dict:
    return page(403, **{role: other, f"{role}_alice": ok, **overrides})


def signed_in_own(ok=200, *, page_route=False, **overrides) -> dict:
    """Any signed-in user, own objects only: buyer alice ok, every other signed-in user 404."""
    builder = page if page_route else api
    return builder(404, buyer_alice=ok, **overrides)


FARMER_LISTS = (ListCheck("farmer", "product_names"),)
# Officials' figures name the households of their wards, never those of another official's.
OFFICIAL_SALES = ListCheck("official", "farm_name_sold")
OFFICIAL_SALES_SEEN = ListCheck("official", "farm_name_sold", must_show_own=False)

# The matrix ------------------------------------------------------------------------------

MATRIX: dict[str, list[Case]] = {
    # --- Storefront and public pages ---
    "home": [case(get=public())],
    "storefront:category": [case(get=public(), kwargs={"slug": _category_slug})],
    "storefront:search": [case(get=public(), query="?q=mang+cut")],
    "storefront:product": [
        case(get=public(), kwargs={"pk": Ref("farmer_alice", "product")}),
        # The page's form posts only a quantity: the listing is the URL's, so a draft is 404 to POST too.
        case(
            label="draft",
            get=public(404),
            write=public(404),
            kwargs={"pk": Ref("farmer_alice", "draft")},
            data={"quantity": "1"},
        ),
    ],
    "storefront:farm": [
        case(get=public(), kwargs={"pk": Ref("farmer_alice", "farm")}),
        case(label="pending", get=public(404), kwargs={"pk": Ref("official_alice", "farm_pending")}),
    ],
    "storefront:cart": [
        case(get=public(), lists=(ListCheck("buyer", "cart_products", must_show_own=True),)),
    ],
    "storefront:cart_line_update": [
        case(
            get=public(405),
            write=public(404, buyer_alice=SKIP),
            kwargs={"pk": Ref("buyer_alice", "cart_line")},
            data={"quantity": "3"},
        )
    ],
    "storefront:cart_line_delete": [
        case(
            get=public(405),
            write=public(404, buyer_alice=SKIP),
            kwargs={"pk": Ref("buyer_alice", "cart_line")},
        )
    ],
    "healthz": [case(get=public())],
    "privacy": [case(get=public())],
    "set_language": [case(get=public(302), write=public(302), data={"language": "vi", "next": "/"})],
    "schema": [case(get=public(), sweep=False)],
    "api-docs": [case(get=public(), sweep=False)],
    r"^media/(?P<path>.*)$": [case(get=public(), kwargs={"path": _media_path}, sweep=False)],
    # --- Accounts (pages) ---
    "accounts:signup": [case(get=public(302, anonymous=200), write=public(SKIP, anonymous=200))],
    # Without a sign-up waiting in the session: back to the form (signed in: home).
    "accounts:signup_verify": [case(get=public(302), write=public(302))],
    "accounts:phone_change": [case(get=page(200), write=page(SKIP))],
    "accounts:phone_verify": [case(get=page(200), write=page(SKIP))],
    "accounts:login": [case(get=public(302, anonymous=200), write=public(SKIP, anonymous=200))],
    "accounts:logout": [case(get=public(405), write=public(SKIP, anonymous=302))],
    "accounts:password_change": [case(get=page(200), write=page(SKIP))],
    "accounts:password_reset": [case(get=public(), write=public(SKIP, anonymous=200))],
    "accounts:password_reset_code": [case(get=public(), write=public(SKIP, anonymous=200))],
    "accounts:password_reset_link": [
        case(get=public(), kwargs={"uidb64": "MQ", "token": "set-password"}, sweep=False),
    ],
    "accounts:home": [case(get=page(302))],
    "accounts:account": [case(get=page(200))],
    "accounts:export": [case(get=page(200))],
    "accounts:delete": [case(get=page(200), write=page(SKIP))],
    "notifications:list": [
        case(get=page(200), lists=(ListCheck("buyer", "notifications", fmt="/notifications/{}/open/"),)),
    ],
    "notifications:open": [
        case(
            get=page(405),
            write=page(404, buyer_alice=SKIP),
            kwargs={"pk": Ref("buyer_alice", "notification")},
        )
    ],
    "notifications:read_all": [case(get=page(405), write=page(SKIP))],
    # --- Farmers' pages ---
    "farms:dashboard": [case(get=page(farmer=200), lists=FARMER_LISTS)],
    "farms:farm_edit": [case(get=page(farmer=200), write=page(farmer=SKIP))],
    "farms:farm_resubmit": [case(get=page(farmer=405), write=page(farmer=SKIP))],
    "farms:product_create": [case(get=page(farmer=200), write=page(farmer=SKIP))],
    "farms:product_edit": [
        case(
            get=page_own("farmer"),
            write=page_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "product")},
            data={"name": "Đổi tên", "price": "1"},
        )
    ],
    "farms:product_quick_edit": [
        case(
            get=page_own("farmer", 405, other=405),
            write=page_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "product")},
            data={"price": "1", "stock": "1"},
        )
    ],
    "farms:product_status": [
        case(
            get=page_own("farmer", 405, other=405),
            write=page_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "product")},
            data={"status": "paused"},
        )
    ],
    "farms:product_archive": [
        case(
            get=page_own("farmer", 405, other=405),
            write=page_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "product")},
        )
    ],
    "farms:product_photos": [
        case(
            get=page_own("farmer"),
            write=page_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "product")},
        )
    ],
    "farms:photo_delete": [
        case(
            get=page_own("farmer", 405, other=405),
            write=page_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "product"), "image_pk": Ref("farmer_alice", "image")},
        )
    ],
    "farms:photo_move": [
        case(
            get=page_own("farmer", 405, other=405),
            write=page_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "product"), "image_pk": Ref("farmer_alice", "image")},
            data={"direction": "up"},
        )
    ],
    "farms:certifications": [
        case(get=page(farmer=200), lists=(ListCheck("farmer", "certification_numbers"),)),
    ],
    "farms:certification_create": [case(get=page(farmer=200), write=page(farmer=SKIP))],
    "farms:certification_delete": [
        case(
            get=page_own("farmer", 405, other=405),
            write=page_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "certification_pending")},
        )
    ],
    "farms:certification_document": [
        # One view for households and officials (its twin below): the owner, or an official in scope.
        case(
            get=page_own("farmer", official_alice=200, official_bob=404),
            kwargs={"pk": Ref("farmer_alice", "certification")},
        ),
    ],
    "farms:lots": [case(get=page(farmer=200), lists=(ListCheck("farmer", "lot_codes"),))],
    "farms:lot_create": [case(get=page(farmer=200), write=page(farmer=SKIP))],
    "farms:lot_edit": [
        case(
            get=page_own("farmer"),
            write=page_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "lot")},
            data={"quantity": "1", "harvest_date": "2026-01-01"},
        )
    ],
    "farms:lot_label": [case(get=page_own("farmer"), kwargs={"pk": Ref("farmer_alice", "lot")})],
    "farms:trace": [case(get=public(), kwargs={"code": Ref("farmer_alice", "lot_code")})],
    "farms:trace_qr": [case(get=public(), kwargs={"code": Ref("farmer_alice", "lot_code"), "fmt": "png"})],
    # --- Officials' pages ---
    "official-home": [case(get=page(official=200))],
    "farms:official_farms": [
        case(get=page(official=200), lists=(ListCheck("official", "pending_farm_names"),)),
    ],
    "farms:official_farm": [
        case(get=page_own("official"), kwargs={"pk": Ref("official_alice", "farm_pending")}),
    ],
    "farms:official_farm_decide": [
        case(
            get=page_own("official", 405, other=405),
            write=page_own("official", SKIP),
            kwargs={"pk": Ref("official_alice", "farm_pending"), "action": "approve"},
        )
    ],
    "farms:official_certifications": [
        case(get=page(official=200), lists=(ListCheck("official", "certification_numbers"),)),
    ],
    "farms:official_certification_document": [
        case(
            get=page_own("official", farmer_alice=200, farmer_bob=404),
            kwargs={"pk": Ref("official_alice", "certification_pending")},
        ),
    ],
    "farms:official_certification_decide": [
        case(
            get=page_own("official", 405, other=405),
            write=page_own("official", SKIP),
            kwargs={"pk": Ref("official_alice", "certification_pending"), "decision": "approve"},
        )
    ],
    "reports:dashboard": [case(get=page(official=200), lists=(OFFICIAL_SALES_SEEN,))],
    "reports:export": [
        case(get=page(official=200), query=_export_query("csv"), lists=(OFFICIAL_SALES,)),
        case(label="xlsx", get=page(official=200), query=_export_query("xlsx"), lists=(OFFICIAL_SALES,)),
    ],
    "reports:export_job": [
        case(get=page_own("official"), kwargs={"pk": Ref("official_alice", "export_job")})
    ],
    "reports:subscription": [case(get=page(official=405), write=page(official=SKIP))],
    # --- Couriers' pages ---
    "courier-home": [
        case(get=page(courier=200), lists=(ListCheck("courier", "runs", fmt="/courier/runs/{}/"),))
    ],
    "logistics:run": [
        case(get=page_own("courier"), kwargs={"pk": Ref("courier_alice", "run")}),
        # A run of a zone no courier works, nobody's yet: any courier may read it in the API before
        # claiming it (without names, phones, addresses); the page opens only once it is theirs.
        case(label="claimable", get=page(courier=404), kwargs={"pk": Ref("buyer_alice", "open_run")}),
    ],
    "logistics:run_print": [
        case(get=page_own("courier"), kwargs={"pk": Ref("courier_alice", "run")}),
        case(
            label="csv",
            get=page_own("courier"),
            kwargs={"pk": Ref("courier_alice", "run")},
            query="?format=csv",
        ),
    ],
    "logistics:run_claim": [
        case(
            get=page(courier=404),  # only a POST claims; anything else is a 404
            write=page_own("courier", SKIP),
            kwargs={"pk": Ref("courier_alice", "run")},
        )
    ],
    "logistics:shipment_step": [
        case(
            get=page_own("courier", 405, other=405),
            write=page_own("courier", SKIP),
            kwargs={"pk": Ref("courier_alice", "shipment")},
            data={"type": "returned"},
        )
    ],
    # --- Buyers' order pages ---
    "orders:checkout": [case(get=page(302, buyer=200))],  # an empty cart goes back to the cart
    "orders:list": [case(get=page(200), lists=(ListCheck("buyer", "numbers"),))],
    "orders:detail": [
        case(get=signed_in_own(page_route=True), kwargs={"number": Ref("buyer_alice", "number_delivered_a")})
    ],
    "orders:cancel": [
        case(
            # GET is the confirmation step (what would be cancelled, and the form); POST cancels.
            get=signed_in_own(page_route=True),
            write=signed_in_own(SKIP, page_route=True),
            kwargs={"number": Ref("buyer_alice", "number_new")},
        )
    ],
    "orders:pay": [
        case(
            get=page(405),
            write=signed_in_own(SKIP, page_route=True),
            kwargs={"number": Ref("buyer_alice", "number_new")},
        )
    ],
    "orders:problem_report": [
        case(
            get=page(405),
            write=signed_in_own(SKIP, page_route=True),
            kwargs={"number": Ref("buyer_alice", "number_delivered_b")},
            data={"kind": "missing", "quantity": "1", "description": "x"},
        )
    ],
    "orders:stripe_webhook": [case(get=public(405), write=public(400), sweep=False)],
    "orders:vietqr_webhook": [case(get=public(405), write=public(400), sweep=False)],
    # --- Households' order pages ---
    "orders:farm_orders": [case(get=page(farmer=200), lists=(ListCheck("farmer", "order_numbers"),))],
    "orders:farm_order_accept": [
        case(
            get=page_own("farmer", 405, other=405),
            write=page_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "farm_order_new")},
        )
    ],
    "orders:farm_order_reject": [
        case(
            get=page_own("farmer", 405, other=405),
            write=page_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "farm_order_new")},
            data={"reason": "Hết hàng"},
        )
    ],
    "orders:farm_order_ready": [
        case(
            get=page_own("farmer", 405, other=405),
            write=page_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "farm_order_accepted")},
        )
    ],
    # Statements: an account with no household, or not staff, finds no statement at all (404).
    "orders:statements": [case(get=page(404, farmer=200))],
    "orders:statement": [
        case(
            get=page(404, farmer=200),
            kwargs={"month": Ref("farmer_alice", "month")},
            lists=(ListCheck("farmer", "ledger_numbers"),),
        ),
        case(
            label="csv",
            get=page(404, farmer=200),
            kwargs={"month": Ref("farmer_alice", "month")},
            query="?format=csv",
        ),
    ],
    "orders:staff_statements": [
        case(get=page(404, staff=200), kwargs={"farm_id": Ref("farmer_alice", "farm")})
    ],
    "orders:staff_statement": [
        case(
            get=page(404, staff=200),
            kwargs={"farm_id": Ref("farmer_alice", "farm"), "month": Ref("farmer_alice", "month")},
        )
    ],
    "orders:farm_problems": [case(get=page(farmer=200), lists=(ListCheck("farmer", "ledger_numbers"),))],
    "orders:farm_problem_resolve": [
        case(
            get=page_own("farmer", 405, other=405),
            write=page_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "problem")},
            data={"refund_amount": "1000", "answer": "x"},
        )
    ],
    "orders:farm_problem_decline": [
        case(
            get=page_own("farmer", 405, other=405),
            write=page_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "problem")},
            data={"answer": "Không đúng"},
        )
    ],
    # --- API: accounts ---
    "auth-register": [case(get=public(405), write=public(400), sweep=False)],
    "auth-register-confirm": [case(get=public(405), write=public(400), sweep=False)],
    "auth-register-resend": [case(get=public(405), write=public(400), sweep=False)],
    "auth-token": [case(get=public(405), write=public(400), sweep=False)],
    "auth-logout": [case(get=api(405), write=api(SKIP))],
    "auth-password-reset": [case(get=public(405), write=public(400), sweep=False)],
    "auth-password-reset-confirm": [case(get=public(405), write=public(400), sweep=False)],
    "me": [case(get=api(200))],
    "me-export": [case(get=api(200))],
    "me-delete": [case(get=api(405), write=api(SKIP))],
    "me-password": [case(get=api(405), write=api(SKIP))],
    "me-phone": [case(get=api(405), write=api(SKIP))],
    "me-phone-confirm": [case(get=api(405), write=api(SKIP))],
    "user-list": [case(get=api(staff=200), write=api(staff=SKIP))],
    "ward-list": [case(get=public())],
    "notification-list": [
        case(get=api(200), lists=(ListCheck("buyer", "notifications", json_ids=True),)),
    ],
    "notification-unread-count": [case(get=api(200))],
    "notification-read-all": [case(get=api(405), write=api(SKIP))],
    "notification-read": [
        case(get=api(405), write=signed_in_own(SKIP), kwargs={"pk": Ref("buyer_alice", "notification")})
    ],
    # --- API: farms ---
    "farm-list": [case(get=public())],
    "farm-queue": [
        case(get=api(official=200), lists=(ListCheck("official", "farm_pending_ids", json_ids=True),)),
    ],
    "farm-detail": [
        case(
            get=public(),
            kwargs={"pk": Ref("farmer_alice", "farm")},
            write=api(farmer_alice=SKIP, farmer_bob=404),
            method="patch",
            data={"main_crops": "lúa"},
        ),
        case(
            label="pending",
            get=public(404, official_alice=200),
            kwargs={"pk": Ref("official_alice", "farm_pending")},
        ),
    ],
    "farm-verify": [
        case(
            get=api_own("official", 405, other=405),
            write=api_own("official", SKIP),
            kwargs={"pk": Ref("official_alice", "farm_pending")},
            data={"decision": "approve"},
        )
    ],
    "farm-suspend": [
        case(
            get=api_own("official", 405, other=405),
            write=api_own("official", SKIP),
            kwargs={"pk": Ref("official_alice", "farm")},
            data={"reason": "Kiểm tra"},
        )
    ],
    "farm-reinstate": [
        case(
            get=api_own("official", 405, other=405),
            write=api_own("official", SKIP),
            kwargs={"pk": Ref("official_alice", "farm")},
        )
    ],
    "farm-resubmit": [
        case(
            get=api_own("farmer", 405, other=405),
            write=api_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "farm")},
        )
    ],
    "farm-products": [case(get=public(), kwargs={"pk": Ref("farmer_alice", "farm")})],
    "my-farm": [case(get=api(farmer=200), lists=(ListCheck("farmer", "farm_name_list"),))],
    "category-list": [case(get=public())],
    "unit-list": [case(get=public())],
    "product-list": [case(get=public(), write=api(farmer=SKIP), data={"name": "x"})],
    "product-detail": [
        case(
            get=public(),
            write=api_own("farmer", SKIP),
            method="patch",
            kwargs={"pk": Ref("farmer_alice", "product")},
            data={"price": 1},
        ),
        case(
            label="delete",
            write=api_own("farmer", SKIP),
            method="delete",
            kwargs={"pk": Ref("farmer_alice", "product")},
        ),
        case(label="draft", get=public(404, farmer_alice=200), kwargs={"pk": Ref("farmer_alice", "draft")}),
    ],
    "product-images": [
        case(
            get=api_own("farmer", 405, other=405),
            write=api_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "product")},
        )
    ],
    "product-images-order": [
        case(
            get=api_own("farmer", 405, other=405),
            write=api_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "product")},
            data={"ids": []},
        )
    ],
    "product-image-detail": [
        case(
            get=api_own("farmer", 405, other=405),
            write=api_own("farmer", SKIP),
            method="delete",
            kwargs={"pk": Ref("farmer_alice", "product"), "image_id": Ref("farmer_alice", "image")},
        )
    ],
    "my-products": [case(get=api(farmer=200), lists=FARMER_LISTS)],
    "certification-list": [
        case(
            get=api(farmer=200, official=200),
            write=api(farmer=SKIP),
            lists=(
                ListCheck("farmer", "certification_numbers"),
                ListCheck("official", "certification_numbers"),
            ),
        )
    ],
    "certification-detail": [
        case(
            get=api_own("farmer", official_alice=200, official_bob=404),
            write=api_own("farmer", SKIP),
            method="delete",
            kwargs={"pk": Ref("farmer_alice", "certification_pending")},
        )
    ],
    "certification-document": [
        case(
            get=api_own("farmer", official_alice=200, official_bob=404),
            kwargs={"pk": Ref("farmer_alice", "certification_pending")},
        )
    ],
    "certification-verify": [
        case(
            get=api_own("official", 405, other=405),
            write=api_own("official", SKIP),
            kwargs={"pk": Ref("official_alice", "certification_pending")},
            data={"decision": "approve"},
        )
    ],
    "lot-list": [
        case(
            get=api(farmer=200),
            write=api(farmer=SKIP),
            lists=(ListCheck("farmer", "lot_codes"),),
        )
    ],
    "lot-detail": [
        case(
            get=api_own("farmer"),
            write=api_own("farmer", SKIP),
            method="patch",
            kwargs={"pk": Ref("farmer_alice", "lot")},
            data={"quantity": "1"},
        ),
        case(
            label="delete",
            write=api_own("farmer", SKIP),
            method="delete",
            kwargs={"pk": Ref("farmer_alice", "lot")},
        ),
    ],
    "lot-trace": [case(get=public(), kwargs={"code": Ref("farmer_alice", "lot_code")})],
    # --- API: cart, checkout, orders ---
    "cart": [case(get=api(200), lists=(ListCheck("buyer", "cart_products"),))],
    "cart-items": [case(get=api(405), write=api(SKIP))],
    "cart-item": [
        case(
            get=api(405),
            write=signed_in_own(SKIP),
            method="patch",
            kwargs={"pk": Ref("buyer_alice", "cart_line")},
            data={"quantity": "3"},
        ),
        case(
            label="delete",
            write=signed_in_own(SKIP),
            method="delete",
            kwargs={"pk": Ref("buyer_alice", "cart_line")},
        ),
    ],
    "checkout": [case(get=api(200), write=api(SKIP))],
    "orders": [case(get=api(200), lists=(ListCheck("buyer", "numbers"),))],
    "order": [case(get=signed_in_own(), kwargs={"pk": Ref("buyer_alice", "order_delivered_a")})],
    "order-cancel": [
        case(get=api(405), write=signed_in_own(SKIP), kwargs={"pk": Ref("buyer_alice", "order_new")})
    ],
    "order-pay": [
        case(get=api(405), write=signed_in_own(SKIP), kwargs={"pk": Ref("buyer_alice", "order_new")})
    ],
    "order-problems": [
        case(
            get=api(405),
            write=signed_in_own(SKIP),
            kwargs={"pk": Ref("buyer_alice", "order_delivered_b")},
            data={"line": 1, "kind": "missing", "quantity": "1"},
        )
    ],
    "farm-orders": [case(get=api(farmer=200), lists=(ListCheck("farmer", "order_numbers"),))],
    "farm-order": [case(get=api_own("farmer"), kwargs={"pk": Ref("farmer_alice", "farm_order_new")})],
    "farm-order-accept": [
        case(
            get=api_own("farmer", 405, other=405),
            write=api_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "farm_order_new")},
        )
    ],
    "farm-order-ready": [
        case(
            get=api_own("farmer", 405, other=405),
            write=api_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "farm_order_accepted")},
        )
    ],
    "farm-order-reject": [
        case(
            get=api_own("farmer", 405, other=405),
            write=api_own("farmer", SKIP),
            kwargs={"pk": Ref("farmer_alice", "farm_order_new")},
            data={"reason": "Hết hàng"},
        )
    ],
    "problems": [
        case(
            get=api(200),
            lists=(
                ListCheck("buyer", "problem_ids", json_ids=True),
                ListCheck("farmer", "problems", json_ids=True),
            ),
        )
    ],
    "problem": [
        case(
            get=api(404, buyer_alice=200, farmer_alice=200, staff=200),
            kwargs={"pk": Ref("buyer_alice", "problem_delivered_a")},
        )
    ],
    "problem-photo": [
        case(
            get=api(404, buyer_alice=200, farmer_alice=200, staff=200),
            kwargs={"pk": Ref("buyer_alice", "problem_delivered_a")},
        )
    ],
    "problem-resolve": [
        case(
            get=api(405),
            write=api(404, buyer_alice=403, farmer_alice=SKIP, staff=SKIP),
            kwargs={"pk": Ref("buyer_alice", "problem_delivered_a")},
            data={"refund_amount": 1000},
        )
    ],
    "problem-decline": [
        case(
            get=api(405),
            write=api(404, buyer_alice=403, farmer_alice=SKIP, staff=SKIP),
            kwargs={"pk": Ref("buyer_alice", "problem_delivered_a")},
            data={"answer": "Không"},
        )
    ],
    "ledger": [
        case(get=api(farmer=200, staff=400), lists=(ListCheck("farmer", "ledger_numbers"),)),
        case(
            label="other household",
            get=api(farmer_alice=200, farmer_bob=404, staff=200),
            query="?farm={farm}",
        ),
    ],
    "payouts": [
        case(get=api(staff=405), write=api(staff=SKIP), data={"farm": 1, "amount": 1, "reference": "x"})
    ],
    # --- API: couriers ---
    "runs": [case(get=api(courier=200, staff=200), lists=(ListCheck("courier", "runs", json_ids=True),))],
    "run": [
        case(get=api_own("courier", staff=200), kwargs={"pk": Ref("courier_alice", "run")}),
        case(
            label="claimable", get=api(courier=200, staff=200), kwargs={"pk": Ref("buyer_alice", "open_run")}
        ),
    ],
    "run-claim": [
        case(
            get=api_own("courier", 405, other=405),
            write=api_own("courier", SKIP),
            kwargs={"pk": Ref("courier_alice", "run")},
        )
    ],
    "shipment": [case(get=api_own("courier", staff=200), kwargs={"pk": Ref("courier_alice", "shipment")})],
    "shipment-events": [
        case(
            get=api_own("courier", 405, other=405, staff=405),
            write=api_own("courier", SKIP),  # staff: 403 (docs/api.md)
            kwargs={"pk": Ref("courier_alice", "shipment")},
            data={"type": "returned"},
        )
    ],
    # --- API: officials' statistics ---
    "stats-sales": [
        case(
            get=api(official=200),
            query="?group_by=household",
            lists=(ListCheck("official", "farm_name_sold"),),
        )
    ],
    "stats-prices": [
        case(
            get=api(official_alice=200, official_bob=404),
            query="?product={product}",
        )
    ],
    "stats-export": [
        case(get=api(official=200), query=_export_query("csv"), lists=(OFFICIAL_SALES,)),
        case(label="xlsx", get=api(official=200), query=_export_query("xlsx"), lists=(OFFICIAL_SALES,)),
    ],
    "stats-export-job": [case(get=api_own("official"), kwargs={"pk": Ref("official_alice", "export_job")})],
    "stats-export-file": [case(get=api_own("official"), kwargs={"pk": Ref("official_alice", "export_job")})],
    "stats-fulfilment": [case(get=api(official=200))],
    "stats-registrations": [case(get=api(official=200))],
}


def resolve_kwargs(world: World, kwargs: dict) -> dict:
    values = {}
    for key, value in kwargs.items():
        if isinstance(value, Ref):
            value = value.resolve(world)
        elif callable(value):
            value = value(world)
        values[key] = value
    return values


def query_of(world: World, query: str) -> str:
    """Fill `{farm}` and `{product}` in a query string with alice's household and listing."""
    return query.format(farm=world.ids["farmer_alice"]["farm"], product=world.ids["farmer_alice"]["product"])


# Walking the URL resolver -------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the matrix key: "namespace:name", or the pattern for an unnamed route
    pattern: str  # the whole pattern, from the site's root
    name: str | None  # for reverse()


def walk(resolver=None) -> list[Route]:
    """Every route of the URLconf (the site's by default), with its namespace and whole pattern."""
    from django.urls import URLResolver, get_resolver

    def visit(patterns, prefix: str, namespace: str | None):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                yield from visit(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            else:
                whole = prefix + str(pattern.pattern)
                name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
                yield Route(key=name or whole, pattern=whole, name=name)

    return list(visit((resolver or get_resolver()).url_patterns, "", None))


def is_admin(route: Route) -> bool:
    return route.pattern.startswith(ADMIN_PREFIX)


def gaps(resolver=None) -> tuple[set[str], set[str]]:
    """Return (routes without a matrix entry, matrix entries without a route)."""
    keys = {route.key for route in walk(resolver) if not is_admin(route)}
    return keys - MATRIX.keys(), MATRIX.keys() - keys


def url_for(world: World, key: str, entry: Case) -> str:
    """The URL of a matrix case, its arguments filled from the world."""
    from django.conf import settings
    from django.urls import reverse

    kwargs = resolve_kwargs(world, entry.kwargs)
    if key.startswith("^media/"):
        path = settings.MEDIA_URL + kwargs["path"]
    else:
        path = reverse(key, kwargs=kwargs or None)
    return path + query_of(world, entry.query)


def is_api(url: str) -> bool:
    return url.startswith("/api/")


# Reading answers ------------------------------------------------------------------------------

PICTURES = {"image/png", "image/jpeg", "image/webp", "image/svg+xml", "image/gif"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def decode(response) -> str:
    """The text a person or a program would read in an answer (JSON, HTML, CSV, XLSX); "" for pictures."""
    import csv
    import html
    import io
    import json

    from openpyxl import load_workbook

    content_type = response.get("Content-Type", "").split(";")[0].strip()
    raw = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    if content_type in PICTURES:
        return ""
    if content_type == XLSX:
        book = load_workbook(io.BytesIO(raw), read_only=True)
        return "\n".join(
            " | ".join("" if value is None else str(value) for value in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    text = raw.decode("utf-8-sig", "replace")
    if content_type == "application/json":
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    if content_type == "text/csv":
        return "\n".join(" | ".join(row) for row in csv.reader(io.StringIO(text)))
    return html.unescape(text)


# Ids in request bodies (issue #21) -----------------------------------------------------------
#
# An id in a body must answer like an id in a URL: `POST cart/items/ {"product": <a draft>}` once
# answered 409 with the draft's name while `GET products/<id>/` said 404. Each `BodyCase` sends,
# as every viewer, a body naming an object that viewer may not see, and the same body naming
# nothing (`MISSING_ID`): the answer is the expected status, names nothing of the hidden object,
# and is the same for both (no answer tells a hidden object from a missing one). An id that names
# an object on its own (a listing for the cart, a household to pay) is a 404, like a URL's; an id
# that must name a part of the URL's object (a line of this order, a photo of this listing, one
# of your own listings) is a 400 on its field, one message for every id outside it.

MISSING_ID = 987_654_321  # names nothing in the world


@dataclass
class BodyCase:
    key: str  # route name, as in MATRIX
    fields: tuple[str, ...]  # the body's fields that carry ids (for the coverage check)
    expect: dict  # viewer -> status
    target: object  # (world, viewer) -> (id hidden from the viewer, texts of it that must not show)
    body: object  # (world, id) -> the request body
    method: str = "post"
    kwargs: dict = field(default_factory=dict)
    label: str = ""


def _other_farmer(viewer: str) -> str:
    """The household whose objects the viewer may not see: bob's for farmer alice, else alice's."""
    return "farmer_bob" if viewer == "farmer_alice" else "farmer_alice"


def _hidden_draft(world: World, viewer: str):
    from farms.models import Product

    draft = Product.objects.get(pk=world.ids[_other_farmer(viewer)]["draft"])
    return draft.pk, [draft.name]


def _hidden_lot(world: World, viewer: str):
    from farms.models import HarvestLot

    lot = HarvestLot.objects.get(pk=world.ids[_other_farmer(viewer)]["lot"])
    return lot.pk, [lot.code]


def _hidden_image(world: World, viewer: str):
    from farms.models import ProductImage

    image = ProductImage.objects.get(pk=world.ids[_other_farmer(viewer)]["image"])
    return image.pk, [image.original.name.rsplit("/", 1)[-1]]


def _bobs_order(world: World, label: str):
    from orders.models import Order

    return Order.objects.get(pk=world.ids["buyer_bob"][f"order_{label}"])


def _bobs_new_part(world: World, viewer: str):
    order = _bobs_order(world, "new")
    return order.farm_orders.order_by("pk").first().pk, [order.number]


def _bobs_delivered_line(world: World, viewer: str):
    from orders.models import OrderLine

    order = _bobs_order(world, "delivered_a")
    return OrderLine.objects.filter(farm_order__order=order).order_by("pk").first().pk, [order.number]


def _bobs_accepted_line_of_household_b(world: World, viewer: str):
    from orders.models import OrderLine

    order = _bobs_order(world, "accepted")
    farm = world.ids["farmer_bob"]["farm"]
    lines = OrderLine.objects.filter(farm_order__order=order, farm_order__farm_id=farm)
    return lines.order_by("pk").first().pk, [order.number]


def _no_farm(world: World, viewer: str):
    return MISSING_ID + 1, []  # staff may see every household: only a missing one is hidden


def _checkout_body(world: World, pk) -> dict:
    return {
        "delivery": {
            "name": "Người nhận",
            "phone": "0912 345 678",
            "address": "Số 1",
            "ward": world.extra["ward_a"],
        },
        "payment_method": "cod",
        # A made-up version naming the id: a changed cart is answered 409 with the lines that changed.
        "cart_version": f"{pk}-1.000-1000-1",
    }


BODY_IDS: list[BodyCase] = [
    BodyCase(
        "cart-items", ("product",), api(404), _hidden_draft, lambda w, pk: {"product": pk, "quantity": "1"}
    ),
    # buyers: 409 cart_changed (their carts differ from the version); everyone else: 409 cart_empty.
    BodyCase("checkout", ("cart_version",), api(409), _hidden_draft, _checkout_body),
    BodyCase(
        "order-cancel",
        ("farm_orders",),
        signed_in_own(400),
        _bobs_new_part,
        lambda w, pk: {"farm_orders": [pk]},
        kwargs={"pk": Ref("buyer_alice", "order_new")},
    ),
    BodyCase(
        "order-problems",
        ("line",),
        signed_in_own(400),
        _bobs_delivered_line,
        lambda w, pk: {"line": pk, "kind": "damaged", "quantity": "1"},
        kwargs={"pk": Ref("buyer_alice", "order_delivered_a")},
    ),
    BodyCase(
        "product-list",
        ("lot",),
        api(farmer=400),
        _hidden_lot,
        lambda w, pk: {"name": "Xoài cát", "category": 203, "unit": "kg", "price": 30000, "lot": pk},
    ),
    BodyCase(
        "product-detail",
        ("lot",),
        api_own("farmer", 400),
        _hidden_lot,
        lambda w, pk: {"lot": pk},
        method="patch",
        kwargs={"pk": Ref("farmer_alice", "product")},
    ),
    BodyCase(
        "product-images-order",
        ("ids",),
        api_own("farmer", 400),
        _hidden_image,
        lambda w, pk: {"ids": [pk]},
        kwargs={"pk": Ref("farmer_alice", "product")},
    ),
    BodyCase(
        "lot-list",
        ("product",),
        api(farmer=400),
        _hidden_draft,
        lambda w, pk: {"product": pk, "harvest_date": "2026-01-02", "quantity": "1"},
    ),
    BodyCase(
        "lot-detail",
        ("product",),
        api_own("farmer", 400),
        _hidden_draft,
        lambda w, pk: {"product": pk},
        method="patch",
        kwargs={"pk": Ref("farmer_alice", "lot")},
    ),
    BodyCase(
        "farm-order-ready",
        ("actual_quantities",),
        api_own("farmer", 400),
        _bobs_accepted_line_of_household_b,
        lambda w, pk: {"actual_quantities": {str(pk): "1"}},
        kwargs={"pk": Ref("farmer_alice", "farm_order_accepted")},
    ),
    BodyCase(
        "payouts",
        ("farm",),
        api(staff=404),
        _no_farm,
        lambda w, pk: {"farm": pk, "amount": 1, "reference": "x"},
    ),
]

# Body fields that carry ids of public reference data, which anyone may see: nothing to hide.
BODY_IDS_PUBLIC = {
    ("product-list", "category"): "categories are a public list",
    ("product-detail", "category"): "categories are a public list",
    ("farm-list", "ward"): "wards are a public list (codes)",
    ("farm-detail", "ward"): "wards are a public list (codes)",
    ("user-list", "wards"): "wards are a public list (codes)",
}
# A body field by one of these names (or ending in `_id`, `_ids`) names an object by its id.
ID_FIELD_NAMES = {
    "product", "lot", "farm", "farm_orders", "line", "lines", "ids", "category", "ward", "wards",
    "order", "orders", "shipment", "run", "certification", "problem", "user",
    "actual_quantities", "cart_version",
}  # fmt: skip


def is_id_field(name: str) -> bool:
    return name in ID_FIELD_NAMES or name.endswith(("_id", "_ids"))
