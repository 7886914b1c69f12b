"""The officials' sales dashboard (issue #8): totals, charts with their tables, price watch, map.

The page reads the rollups only (`selectors`), never orders, and its number of queries does not
depend on the number of orders. Parameters go through the stats API's own parsers
(`api_sales`), so the page and the API accept and refuse the same things; a refusal is a
message on the page (200), never an error page.
"""

import json
from bisect import bisect_left
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException

from farms.models import Category, Product
from marketplace.accounts.decorators import role_required
from marketplace.accounts.models import Role
from marketplace.geo.models import AliasKind, Ward, WardAlias
from marketplace.money import format_vnd
from orders.models import PaymentMethod

from .api_sales import _int, date_range, sales_filters
from .models import ReportSubscription
from .operations import fulfilment_report, registrations_report
from .selectors import (
    SUPPRESSED,
    Filters,
    payment_mix,
    price_drops,
    price_watch,
    product_in_scope,
    products_sold,
    sales_report,
    sales_top,
    sales_totals,
    wards_of,
)

PRESETS = ("week", "month", "quarter", "year", "custom")
DAILY_UP_TO_DAYS = 62  # longer ranges are drawn week by week
TOP = 10
TOTALS = ("orders", "quantity_kg", "gross", "cancelled", "refunded", "delivered", "households", "buyers")
MONEY = frozenset({"gross", "cancelled", "refunded", "delivered"})
# Sequential greens (ColorBrewer "Greens", 5 classes) for the map's quantiles of gross.
QUANTILE_COLOURS = ("#c7e9c0", "#a1d99b", "#74c476", "#31a354", "#006d2c")
NO_SALES_COLOUR = "#ffffff"
OUTSIDE_COLOUR = "#d9d9d9"
MAP_FILE = Path(__file__).resolve().parent / "data" / "wards.svgpaths.json"
CHART_JS = "vendor/chart.umd.min.js"
DISTRICT = "d:"  # an `area` value naming a former district: "d:926"


class Refused(Exception):
    """A parameter the page cannot use; the message is shown on the page."""


def _query(params, user=None) -> SimpleNamespace:
    # The API's parsers read only `query_params` and `user`; a Django request's GET fits.
    return SimpleNamespace(query_params=params, user=user)


@cache
def _map_shapes() -> dict:
    """The wards' outlines as SVG paths (made by scripts/wards_svg.py), read once per process."""
    return json.loads(MAP_FILE.read_text(encoding="utf-8"))


def _chart_js_url() -> str | None:
    # The manifest storage (production) raises for a file collectstatic never saw: the page then
    # shows its tables and map without charts instead of failing.
    try:
        return static(CHART_JS)
    except ValueError:
        return None


def _messages(error: APIException) -> list[str]:
    detail = error.detail
    if isinstance(detail, dict):
        return [str(message) for messages in detail.values() for message in messages]
    if isinstance(detail, list):
        return [str(message) for message in detail]
    return [str(detail)]


def _period(params, today: date) -> tuple[str, date, date]:
    """Return the preset and the inclusive days it covers (a custom range is read as the API reads it)."""
    preset = params.get("preset") or ("custom" if params.get("from") or params.get("to") else "month")
    if preset not in PRESETS:
        raise Refused(_("Choose this week, this month, this quarter, this year or your own dates."))
    if preset == "custom":
        first, last = date_range(_query(params))
        return preset, first, last
    if preset == "week":
        first = today - timedelta(days=today.weekday())
    elif preset == "month":
        first = today.replace(day=1)
    elif preset == "quarter":
        first = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    else:
        first = today.replace(month=1, day=1)
    return preset, first, today


def _area_wards(area: str, mine: frozenset[str] | None, districts: list[WardAlias]) -> frozenset[str] | None:
    """The wards an `area` (a ward code, or "d:" and a former district's code) covers, within `mine`."""
    if not area:
        return mine
    if area.startswith(DISTRICT):
        district = next((d for d in districts if d.former_code == area[len(DISTRICT) :]), None)
        if district is None:
            raise Refused(_("Choose a ward or former district in your scope from the list."))
        return frozenset(ward.code for ward in district.wards.all() if mine is None or ward.code in mine)
    if not (len(area) == 5 and area.isascii() and area.isdigit()):  # a NUL byte would upset PostgreSQL
        raise Refused(_("Choose a ward or former district in your scope from the list."))
    if (mine is not None and area not in mine) or not Ward.objects.filter(pk=area).exists():
        raise Refused(_("Choose a ward or former district in your scope from the list."))
    return frozenset([area])


def _filters(request, mine, districts) -> tuple[str, Filters]:
    params = request.GET
    preset, first, last = _period(params, timezone.localdate())
    query = {
        key: params.get(key) for key in ("category", "certification", "payment_method") if params.get(key)
    }
    filters = sales_filters(
        _query({"from": first.isoformat(), "to": last.isoformat(), **query}, request.user)
    )
    product = _int(_query(params), "product")
    if product is not None and product_in_scope(product, mine) is None:
        raise Refused(_("Choose a product sold in your scope from the list."))
    wards = _area_wards(params.get("area", ""), mine, districts)
    return preset, replace(filters, wards=wards, product=product)


def _previous(filters: Filters) -> Filters:
    """The period of the same length just before `filters`'."""
    length = filters.last - filters.first
    last = filters.first - timedelta(days=1)
    return replace(filters, first=last - length, last=last)


def _number(value) -> Decimal | None:
    if value == SUPPRESSED or value is None:
        return None
    return Decimal(str(value))


def _totals(now: dict, before: dict) -> list[dict]:
    """Each total with the previous period's and the change in percent (None: nothing to compare)."""
    labels = {
        "orders": _("Orders"),
        "quantity_kg": _("Kilograms"),
        "gross": _("Sales"),
        "cancelled": _("Cancelled"),
        "refunded": _("Refunded"),
        "delivered": _("Delivered"),
        "households": _("Selling households"),
        "buyers": _("Buyers"),
    }
    cards = []
    for key in TOTALS:
        current, previous = _number(now[key]), _number(before[key])
        change = None
        if current is not None and previous:
            change = int(((current - previous) * 100 / previous).to_integral_value())
        cards.append(
            {
                "key": key,
                "label": labels[key],
                "value": now[key],
                "previous": before[key],
                "money": key in MONEY,
                "change": change,
                "arrow": "" if change is None else ("▲" if change > 0 else "▼" if change < 0 else "→"),
            }
        )
    return cards


def _options(choices: list[tuple[int, str]]) -> str:
    """`<option>`s of (id, name), names escaped, none selected (see `_selected`)."""
    return "".join(f'<option value="{pk}">{escape(name)}</option>' for pk, name in choices)


def _selected(options: str, selected: str | None) -> str:
    """`_options` with the option whose id is `selected` selected: one list built for two menus."""
    if selected and selected.isascii() and selected.isdigit():
        options = options.replace(f'<option value="{selected}">', f'<option value="{selected}" selected>', 1)
    return mark_safe(options)  # noqa: S308 - ids are integers, names escaped


def _map(by_ward: dict[str, int], names: dict[str, str], shown: frozenset[str] | None) -> dict:
    """The wards as SVG paths filled by the quantile of their gross; wards not shown are grey."""
    shapes = _map_shapes()
    values = sorted(gross for code, gross in by_ward.items() if gross > 0)
    classes = len(QUANTILE_COLOURS)

    def quantile(gross: int) -> int:
        return min(classes - 1, bisect_left(values, gross) * classes // len(values))

    paths = []
    for code, shape in shapes["wards"].items():
        name = names.get(code, shape["name"])
        gross = by_ward.get(code, 0)
        if shown is not None and code not in shown:
            fill, title, kind = (
                OUTSIDE_COLOUR,
                _("%(ward)s: outside your scope or filter") % {"ward": name},
                "out",
            )
        elif gross > 0:
            fill, title, kind = QUANTILE_COLOURS[quantile(gross)], f"{name}: {format_vnd(gross)}", "sold"
        else:
            fill, title, kind = NO_SALES_COLOUR, f"{name}: {format_vnd(0)}", "none"
        paths.append({"code": code, "d": shape["d"], "fill": fill, "title": title, "kind": kind})
    legend = []
    for index, colour in enumerate(QUANTILE_COLOURS):
        members = [gross for gross in values if quantile(gross) == index]
        if members:
            legend.append({"colour": colour, "low": members[0], "high": members[-1]})
    return {"width": shapes["width"], "height": shapes["height"], "paths": paths, "legend": legend}


def _series(rows: list[dict], *values: str) -> dict:
    """One chart's data: labels and the given numeric columns (money in đồng, kg as numbers)."""
    data = {"labels": [str(row["label"]) for row in rows]}
    for name in values:
        data[name] = [float(row[name]) if name == "quantity_kg" else row[name] for row in rows]
    return data


def _districts(mine) -> list[WardAlias]:
    """Former districts with at least one ward in scope (their wards prefetched)."""
    return [
        district
        for district in WardAlias.objects.filter(kind=AliasKind.FORMER_DISTRICT).prefetch_related("wards")
        if mine is None or any(ward.code in mine for ward in district.wards.all())
    ]


@role_required(Role.OFFICIAL)
def dashboard(request):
    """Show the sales of the official's wards in a period, against the period before."""
    mine = wards_of(request.user)
    all_wards = list(Ward.objects.all())
    districts = _districts(mine)
    context = {
        "params": request.GET,
        "chart_js": _chart_js_url(),
        "errors": [],
        "district_prefix": DISTRICT,
        "wards": [ward for ward in all_wards if mine is None or ward.code in mine],
        "districts": districts,
        "categories": list(Category.objects.all()),
        "payment_methods": PaymentMethod.choices,
        "preset": request.GET.get("preset", ""),
    }
    try:
        preset, filters = _filters(request, mine, districts)
    except APIException as error:
        context["errors"] = _messages(error)
    except Refused as error:
        context["errors"] = [str(error)]
    if context["errors"]:
        return render(request, "reports/dashboard.html", context)

    context["products"] = sold = products_sold(filters=filters, wards=mine)
    days = (filters.last - filters.first).days + 1
    step = "day" if days <= DAILY_UP_TO_DAYS else "week"
    timeline = sales_report(filters=filters, group_by=step)
    previous = _previous(filters)
    by_category = sales_report(filters=filters, group_by="category", with_totals=False)["rows"]
    by_ward = sales_report(filters=filters, group_by="ward", with_totals=False)["rows"]
    products = sales_top(filters=filters, group_by="product", limit=TOP)
    # Two households often sell the same produce under the same name: say whose it is.
    households_of = dict(
        Product.objects.filter(pk__in=[row["key"] for row in products]).values_list("pk", "farm__name")
    )
    for row in products:
        row["household"] = households_of.get(row["key"], "")
    households = sales_top(filters=filters, group_by="household", limit=TOP)
    methods = dict(PaymentMethod.choices)
    payments = [
        {**row, "label": methods.get(row["payment_method"], row["payment_method"])}
        for row in payment_mix(filters=filters)
    ]

    # The price watch follows the product filter, else the product chosen for it, else the best seller.
    sold_names = dict(sold)
    raw_watch = request.GET.get("watch", "")
    is_id = raw_watch.isascii() and raw_watch.isdigit() and len(raw_watch) <= 18  # a 64-bit id at most
    watched = filters.product or (int(raw_watch) if is_id else None)
    if watched not in sold_names:
        watched = products[0]["key"] if products else None
    # Long ranges by week, like the timeline: a year of days is a table of 365 rows.
    prices = price_watch(filters=replace(filters, product=watched), step=step) if watched is not None else []
    percent = settings.PRICE_DROP_WARNING_PERCENT

    charts = {
        "timeline": _series(timeline["rows"], "gross", "orders"),
        "categories": _series(by_category, "gross"),
        "wards": _series(by_ward, "gross"),
        "products": _series(
            [{**row, "label": f"{row['label']} — {row['household']}"} for row in products], "gross"
        ),
        "households": _series(households, "gross"),
        "payments": _series(payments, "gross"),
        "prices": {
            "labels": [row["date"] for row in prices],
            "avg": [row["avg_price_per_kg"] for row in prices],
            "min": [row["min"] for row in prices],
            "max": [row["max"] for row in prices],
        },
        "text": {
            "gross": _("Sales (₫)"),
            "orders": _("Orders"),
            "avg": _("Average ₫/kg"),
            "min": _("Lowest ₫/kg"),
            "max": _("Highest ₫/kg"),
        },
    }
    # Up to thousands of products: options built here, once for both menus, not by a template loop.
    options = _options(sold)
    context.update(
        product_options=_selected(
            options, str(filters.product) if filters.product else request.GET.get("product")
        ),
        watch_options=_selected(options, str(watched)),
        preset=preset,
        filters=filters,
        previous=previous,
        step=step,
        totals=_totals(timeline["totals"], sales_totals(filters=previous)),
        timeline=timeline["rows"],
        by_category=by_category,
        by_ward=by_ward,
        top_products=products,
        top_households=households,
        payments=payments,
        watched=watched,
        watched_name=sold_names.get(watched, ""),
        prices=prices,
        drops=price_drops(filters=filters, percent=percent),
        drop_percent=percent,
        map=_map(
            {row["key"]: row["gross"] for row in by_ward},
            {ward.code: ward.name for ward in all_wards},
            filters.wards,
        ),
        charts=charts,
        export_query=request.GET.urlencode(),
        export_groups=[
            ("day", _("By day")),
            ("category", _("By category")),
            ("ward", _("By ward")),
            ("household", _("By household")),
            ("product", _("By product")),
        ],
        subscribed=ReportSubscription.objects.filter(user=request.user).exists(),
        fulfilment=fulfilment_report(
            first=filters.first, last=filters.last, wards=filters.wards, group_by="ward"
        ),
        registrations=registrations_report(
            first=filters.first, last=filters.last, wards=filters.wards, group_by="ward"
        ),
    )
    return render(request, "reports/dashboard.html", context)
