"""The site's pages as each kind of user sees them, and a reader of what a page's HTML holds.

`site_pages(make_user)` makes a small marketplace through the project's services (a verified
household with a listing, photo, certificate and harvest lot; a buyer with a cart and orders paid
in cash and by VietQR, one delivered; a courier's run; the officials' statistics) and returns
[(label, client, url)] for a representative page of every area: storefront, accounts, checkout and
orders, the farmer's pages, the officials', the courier's, the Django admin and the API docs.
`read_html(text)` returns what a Content-Security-Policy and the CSRF check care about in a page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

# <script type> values a browser does not run: data blocks (Django's json_script writes one).
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}
# Attributes whose value a browser may follow as a URL (a `javascript:` one runs as script).
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}


@dataclass
class Form:
    method: str
    action: str | None
    has_csrf_token: bool = False


@dataclass
class Page:
    """What one page's HTML holds that a strict CSP or the CSRF check would refuse or need."""

    inline_scripts: list[str] = field(default_factory=list)  # bodies of <script>s without src that would run
    event_handlers: list[str] = field(default_factory=list)  # `<tag onclick=...>`
    style_attributes: list[str] = field(default_factory=list)  # `<tag style=...>`
    style_elements: int = 0  # <style> blocks
    javascript_urls: list[str] = field(default_factory=list)
    foreign_resources: list[str] = field(default_factory=list)  # scripts, styles, images not from us
    script_srcs: list[str] = field(default_factory=list)
    stylesheet_hrefs: list[str] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._script: dict | None = None  # the open <script>'s attributes and body
        self._form: Form | None = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        where = f"<{tag} {' '.join(f'{name}={value!r}' for name, value in attrs)}>"[:200]
        for name, value in attrs:
            if name.startswith("on"):
                self.page.event_handlers.append(where)
            if name == "style":
                self.page.style_attributes.append(where)
            if name in URL_ATTRIBUTES and value and value.strip().lower().startswith("javascript:"):
                self.page.javascript_urls.append(where)
        if tag == "script":
            self._script = {"attrs": values, "body": []}
            if values.get("src"):
                self.page.script_srcs.append(values["src"])
                self._local(values["src"], where)
        elif tag == "style":
            self.page.style_elements += 1
        elif tag == "link" and "stylesheet" in (values.get("rel") or "").split():
            self.page.stylesheet_hrefs.append(values.get("href") or "")
            self._local(values.get("href") or "", where)
        elif tag == "img":
            src = values.get("src") or ""
            if not src.startswith("data:image/"):
                self._local(src, where)
        elif tag == "form":
            self._form = Form(method=(values.get("method") or "get").lower(), action=values.get("action"))
            self.page.forms.append(self._form)
        elif tag == "input" and self._form is not None and values.get("name") == "csrfmiddlewaretoken":
            self._form.has_csrf_token = bool(values.get("value")) and values.get("type") == "hidden"

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self.handle_endtag(tag)

    def handle_data(self, data):
        if self._script is not None:
            self._script["body"].append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            attrs, body = self._script["attrs"], "".join(self._script["body"])
            kind = (attrs.get("type") or "").strip().lower()
            if not attrs.get("src") and kind not in DATA_SCRIPT_TYPES and body.strip():
                self.page.inline_scripts.append(body.strip()[:200])
            self._script = None
        elif tag == "form":
            self._form = None

    def _local(self, url: str, where: str) -> None:
        """Note a resource the policy's 'self' would not allow (another host, or none at all)."""
        if not url.startswith("/") or url.startswith("//"):
            self.page.foreign_resources.append(where)


def read_html(text: str) -> Page:
    reader = _Reader()
    reader.feed(text)
    reader.close()
    return reader.page


def client_for(user=None, **kwargs) -> Client:
    client = Client(**kwargs)
    if user is not None:
        client.force_login(user)
    return client


def site_pages(make_user) -> list[tuple[str, Client, str]]:
    """Build the small marketplace of the module docstring; return [(label, client, url)]."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        made = _populate(make_user)
    return _pages(made)


def _populate(make_user) -> dict:
    from farms import services as farm_services
    from farms.models import Category
    from logistics.models import Zone
    from logistics.runs import runs_build
    from logistics.services import shipment_step
    from marketplace.accounts.models import Role
    from marketplace.reports.rollups import rollups_rebuild
    from orders import services as order_services
    from tests.farms.factories import jpeg_upload, make_certification, make_farm, make_product, ward

    today = timezone.localdate()
    official = make_user(Role.OFFICIAL, full_name="Cán bộ thành phố")
    farm = make_farm(make_user, official=official, ward_index=0)  # ward 0 is on "Nội thành"'s route
    product = make_product(farm, status="active", stock="200", harvest_date=today)
    farm_services.product_image_add(product=product, upload=jpeg_upload(size=(64, 48)))
    certificate = make_certification(farm)  # waits in the officials' queue
    lot = farm_services.lot_create(farm=farm, product=product, harvest_date=today, quantity="20")
    courier = make_user(Role.COURIER, full_name="Anh Ba Giao")
    Zone.objects.get(name="Nội thành").couriers.add(courier)
    buyer = make_user(Role.BUYER, full_name="Chị Lan")
    staff = make_user(Role.STAFF, full_name="Nhân viên Mai")
    staff.is_superuser = True  # every admin page, as the site's operators use it
    staff.save(update_fields=["is_superuser"])

    def place(method: str):
        cart = order_services.cart_get_or_create(user=buyer)
        order_services.cart_add(cart=cart, product=product, quantity=Decimal("2"))
        delivery = order_services.delivery_parse(
            name="Chị Lan", phone="0912 345 678", address="12 đường 30/4", ward=ward(3).pk
        )
        return order_services.checkout_place(buyer=buyer, delivery=delivery, payment_method=method).order

    delivered = place("cod")
    part = delivered.farm_orders.get()
    order_services.farm_order_accept(farm_order=part, by=farm.owner)
    order_services.farm_order_ready(farm_order=part, by=farm.owner)
    (run,) = runs_build(day=today)
    part.refresh_from_db()
    shipment_step(shipment=part.shipment, type="picked_up", by=courier)
    cash = part.shipment.cash_to_collect
    shipment_step(shipment=part.shipment, type="delivered", by=courier, cash_collected=cash)
    waiting = place("cod")  # a new part the household answers on its orders page
    transfer = place("vietqr")  # the order page shows a VietQR code (a data: picture)
    cart = order_services.cart_get_or_create(user=buyer)
    order_services.cart_add(cart=cart, product=product, quantity=Decimal("1"))
    rollups_rebuild(first=today - timedelta(days=1), last=today)
    return {
        "official": official,
        "farm": farm,
        "product": product,
        "certificate": certificate,
        "lot": lot,
        "courier": courier,
        "run": run,
        "buyer": buyer,
        "staff": staff,
        "orders": (delivered, waiting, transfer),
        "category": Category.objects.get(pk=product.category_id),
    }


def _pages(made: dict) -> list[tuple[str, Client, str]]:
    anonymous = client_for()
    buyer = client_for(made["buyer"])
    farmer = client_for(made["farm"].owner)
    official = client_for(made["official"])
    courier = client_for(made["courier"])
    staff = client_for(made["staff"])
    farm, product, lot = made["farm"], made["product"], made["lot"]
    delivered, waiting, transfer = made["orders"]
    pages = [
        ("home", anonymous, reverse("home")),
        ("search", anonymous, reverse("storefront:search") + "?q=mang+cut"),
        ("category", anonymous, reverse("storefront:category", args=[made["category"].slug])),
        ("product", anonymous, reverse("storefront:product", args=[product.pk])),
        ("farm", anonymous, reverse("storefront:farm", args=[farm.pk])),
        ("trace", anonymous, reverse("farms:trace", args=[lot.code])),
        ("privacy", anonymous, reverse("privacy")),
        ("login", anonymous, reverse("accounts:login")),
        ("signup", anonymous, reverse("accounts:signup")),
        ("password reset", anonymous, reverse("accounts:password_reset")),
        ("anonymous cart", anonymous, reverse("storefront:cart")),
        ("admin login", anonymous, reverse("admin:login")),
        ("api docs", anonymous, reverse("api-docs")),
        ("cart", buyer, reverse("storefront:cart")),
        ("checkout", buyer, reverse("orders:checkout")),
        ("order list", buyer, reverse("orders:list")),
        ("delivered order", buyer, reverse("orders:detail", args=[delivered.number])),
        ("new order", buyer, reverse("orders:detail", args=[waiting.number])),
        ("VietQR order", buyer, reverse("orders:detail", args=[transfer.number])),
        ("account", buyer, reverse("accounts:account")),
        ("password change", buyer, reverse("accounts:password_change")),
        ("phone change", buyer, reverse("accounts:phone_change")),
        ("phone code", buyer, reverse("accounts:phone_verify")),
        ("account delete", buyer, reverse("accounts:delete")),
        ("notifications", buyer, reverse("notifications:list")),
        ("farmer dashboard", farmer, reverse("farms:dashboard")),
        ("household form", farmer, reverse("farms:farm_edit")),
        ("new listing", farmer, reverse("farms:product_create")),
        ("listing form", farmer, reverse("farms:product_edit", args=[product.pk])),
        ("listing photos", farmer, reverse("farms:product_photos", args=[product.pk])),
        ("certificates", farmer, reverse("farms:certifications")),
        ("new certificate", farmer, reverse("farms:certification_create")),
        ("harvest lots", farmer, reverse("farms:lots")),
        ("new lot", farmer, reverse("farms:lot_create")),
        ("lot label", farmer, reverse("farms:lot_label", args=[lot.pk])),
        ("farm orders", farmer, reverse("orders:farm_orders")),
        ("statements", farmer, reverse("orders:statements")),
        ("farm problems", farmer, reverse("orders:farm_problems")),
        ("official home", official, reverse("official-home")),
        ("official dashboard", official, reverse("reports:dashboard")),
        ("household queue", official, reverse("farms:official_farms")),
        ("household detail", official, reverse("farms:official_farm", args=[farm.pk])),
        ("certificate queue", official, reverse("farms:official_certifications")),
        ("courier home", courier, reverse("courier-home")),
        ("courier run", courier, reverse("logistics:run", args=[made["run"].pk])),
        ("courier run sheet", courier, reverse("logistics:run_print", args=[made["run"].pk])),
        ("admin index", staff, reverse("admin:index")),
        ("admin orders", staff, reverse("admin:orders_order_changelist")),
        ("admin listing", staff, reverse("admin:farms_product_change", args=[product.pk])),
        ("admin new listing", staff, reverse("admin:farms_product_add")),
    ]
    return pages
