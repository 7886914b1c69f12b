"""Builders and page readers shared by the storefront tests."""

import html
import re
from urllib.parse import parse_qs, urlsplit

from django.utils import timezone

from farms import services
from tests.farms.factories import jpeg_upload, make_certification, make_product

CARD = re.compile(r'<li class="product-card">.*?href="/san-pham/(\d+)/"', re.DOTALL)
BADGE = re.compile(r'<span class="pill pill-badge"[^>]*>([^<]+)</span>')
NEXT_PAGE = re.compile(r'<a rel="next" href="([^"]+)"')


def listing(farm, **fields):
    """Return a listing on sale: a durian by default, harvested today."""
    data = {
        "name": "Sầu riêng Ri6",
        "category": 201,
        "price": 72000,
        "stock": "120",
        "harvest_date": timezone.localdate(),
        "status": "active",
    }
    data.update(fields)
    return make_product(farm, **data)


def certify(farm, official, kind="vietgap", **fields):
    """Return a verified certificate of the household."""
    if kind == "ocop":
        fields.setdefault("ocop_stars", 4)
    certification = make_certification(farm, kind=kind, **fields)
    return services.certification_decide(certification=certification, by=official, decision="approve")


def add_photo(product, capture_on_commit, *, process=True, color="green"):
    """Attach a photo; with `process`, make its sizes at once (the Celery task runs eagerly)."""
    with capture_on_commit(execute=process):
        return services.product_image_add(product=product, upload=jpeg_upload(color=color))


def card_ids(page) -> list[int]:
    """Return the listing ids of the cards on a page, in order."""
    return [int(pk) for pk in CARD.findall(page.content.decode())]


def badges(page) -> list[str]:
    return BADGE.findall(page.content.decode())


def next_page_query(page) -> dict[str, list[str]]:
    """Return the query string of the page's "next" link, parsed."""
    link = NEXT_PAGE.search(page.content.decode())
    assert link, "no link to the next page"
    return parse_qs(urlsplit(html.unescape(link.group(1))).query)


def input_tag(text: str, name: str, value: str | None) -> str:
    """Return the first <input> of the form field `name` (with `value`, if given)."""
    for tag in re.findall(r"<input[^>]*>", text):
        if f'name="{name}"' in tag and (value is None or f'value="{value}"' in tag):
            return tag
    raise AssertionError(f"no input {name}={value}")
