"""Sales statistics benchmark (issue #8): rollup rebuild against raw SQL, stats API and dashboard latency.

    python -m bench.stats [--sizes 10000,1000000] [--requests 40] [--page-requests 20] [--keep-db]

Creates its own PostgreSQL database (BENCH_STATS_DATABASE_URL, by default the server of
BENCH_DATABASE_URL with the database `cho_noi_bench_stats`), migrates it, seeds the catalogue
(`bench.seed`), buyers and a city-wide official, then for each size bulk-inserts orders, farm
orders and order lines with `COPY` until the database holds that many lines (spread over the last
year; delivered, cancelled, rejected and returned parts; cash, VietQR and card; some refunds),
and at that size:
- rebuilds the sales rollups over the whole year the way `rebuild_sales_stats` does
  (`rollups_rebuild`, then the fulfilment and registration facts), timed, and prints each
  fact's row count;
- runs the same rebuild of the two facts written by hand in SQL (`DELETE` and `INSERT … SELECT
  … GROUP BY` for `SalesFact`, `INSERT … SELECT` for `OrderLineFact`, one transaction), timed,
  and checks that both write exactly the same rows (the app's time also includes the sales
  cube, which the raw SQL does not build: the ratio is the app's whole rebuild against less);
- serves the app from gunicorn (the catalogue benchmark's settings) and times `N` sequential
  requests, after a warm-up, of a few `GET /api/v1/stats/sales/` queries (token) and of the
  dashboard `/official/stats/` (session cookie), as a city-wide official.
Prints the tables kept in docs/performance.md and writes var/bench/stats-<lines>.json after each
size and var/bench/stats.json at the end.
"""

import argparse
import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench import harness
from bench.catalogue import HOST, server_env

APP = "marketplace.wsgi"
READY_PATH = "/healthz"
DATABASE_NAME = "cho_noi_bench_stats"
DAYS = 365
BUYERS = 20_000
ZONE = "Asia/Ho_Chi_Minh"
NO_ANSWER_NOTE = "The household did not answer in time."  # orders.services.fulfilment.NO_ANSWER_NOTE

# Shares (weights) of the data's choices.
PAYMENT_METHODS = (("cod", 60), ("vietqr", 30), ("stripe", 10))
PARTS_PER_ORDER = ((1, 70), (2, 24), (3, 6))
LINES_PER_PART = ((1, 45), (2, 30), (3, 15), (4, 10))
#: How a household's part ended (parts of orders placed in the last two days are still moving).
ENDINGS = (("delivered", 83), ("cancelled", 7), ("rejected", 3), ("returned", 7))
MOVING = ("new", "accepted", "ready", "picked_up")
WEIGHED = {"kg": Decimal(1), "yen": Decimal(10), "ta": Decimal(100)}


def database_url() -> str:
    """BENCH_STATS_DATABASE_URL, else the server of BENCH_DATABASE_URL with its own database."""
    url = os.environ.get("BENCH_STATS_DATABASE_URL")
    if url:
        return url
    parts = urlsplit(os.environ.get("BENCH_DATABASE_URL") or harness.DEFAULT_DATABASE_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{DATABASE_NAME}", parts.query, ""))


def _weighted(rng: random.Random, choices) -> object:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights)[0]


# --- The data --------------------------------------------------------------------------------


class Orders:
    """Writes orders with `COPY`, deterministic for a seed, continuing where the last call stopped."""

    TABLES = {
        "orders_order": (
            "id number status payment_status payment_method subtotal delivery_fee total delivery_name "
            "delivery_phone delivery_address note delivery_date created_at updated_at buyer_id "
            "delivery_ward_id delivery_refused_at weight_kg"
        ),
        "orders_farmorder": "id status subtotal created_at updated_at farm_id order_id released_at",
        "orders_orderline": (
            "id product_name unit unit_price quantity line_total farm_order_id product_id actual_quantity"
        ),
        "orders_statuschange": "id from_status to_status at note farm_order_id order_id",
        "orders_problem": (
            "id kind quantity description photo status refund_amount answer answered_at created_at "
            "farm_order_id line_id reported_by_id"
        ),
    }

    def __init__(self, url: str, *, now: datetime, seed: int = 8):
        self.url, self.now, self.rng = url, now, random.Random(seed)
        self.ids = dict.fromkeys(self.TABLES, 0)
        self.lines = 0
        with psycopg.connect(url) as conn:
            products = conn.execute(
                "SELECT p.id, p.farm_id, p.name, p.unit, p.price, p.unit_weight_kg FROM farms_product p "
                "JOIN farms_farm f ON f.id = p.farm_id WHERE p.status = 'active' AND f.status = 'verified' "
                "ORDER BY p.id"
            ).fetchall()
            self.buyers = [
                row[0] for row in conn.execute("SELECT id FROM accounts_user WHERE role = 'buyer'")
            ]
            self.wards = [row[0] for row in conn.execute("SELECT code FROM geo_ward ORDER BY code")]
        # A few listings sell much more than most (Zipf-like), as in any market.
        self.rng.shuffle(products)
        self.products = products
        self.popularity = []
        total = 0.0
        for rank in range(len(products)):
            total += 1 / (rank + 5) ** 0.8
            self.popularity.append(total)
        self.by_farm: dict[int, list[tuple]] = {}
        for product in products:
            self.by_farm.setdefault(product[1], []).append(product)

    def _next(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def grow(self, target_lines: int, *, chunk_orders: int = 20_000) -> None:
        """Insert orders until the database holds `target_lines` order lines."""
        with psycopg.connect(self.url) as conn:
            while self.lines < target_lines:
                rows = {table: [] for table in self.TABLES}
                for _ in range(chunk_orders):
                    if self.lines >= target_lines:
                        break
                    self._order(rows, target_lines)
                for table, columns in self.TABLES.items():
                    with conn.cursor().copy(
                        f"COPY {table} ({', '.join(columns.split())}) FROM STDIN"
                    ) as copy:
                        for row in rows[table]:
                            copy.write_row(row)
                conn.commit()
            for table in self.TABLES:
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [self.ids[table] or 1]
                )
            conn.commit()

    def _order(self, rows: dict, target_lines: int) -> None:
        rng, now = self.rng, self.now
        order_id = self._next("orders_order")
        placed = now - timedelta(seconds=rng.randrange(3600, DAYS * 86400))
        recent = now - placed < timedelta(days=2)
        method = _weighted(rng, PAYMENT_METHODS)
        buyer = rng.choice(self.buyers)
        first = rng.choices(self.products, cum_weights=self.popularity)[0]
        farms = [first[1]]
        for _ in range(_weighted(rng, PARTS_PER_ORDER) - 1):
            other = rng.choices(self.products, cum_weights=self.popularity)[0][1]
            if other not in farms:
                farms.append(other)
        subtotal, statuses = 0, []
        for farm in farms:
            left = target_lines - self.lines
            if left <= 0:
                break
            part_id = self._next("orders_farmorder")
            status = rng.choice(MOVING) if recent else _weighted(rng, ENDINGS)
            statuses.append(status)
            released = placed + timedelta(seconds=rng.randrange(5, 900))
            count = min(left, _weighted(rng, LINES_PER_PART), len(self.by_farm[farm]))
            chosen = [first] if farm == first[1] else []
            others = [p for p in self.by_farm[farm] if p is not first]
            chosen += rng.sample(others, count - len(chosen))
            part_total = 0
            for product_id, _farm, name, unit, price, _weight in chosen:
                line_id = self._next("orders_orderline")
                if unit == "kg":
                    quantity = Decimal(rng.randrange(1, 41)) / 2
                elif unit in WEIGHED:
                    quantity = Decimal(rng.randint(1, 5))
                else:
                    quantity = Decimal(rng.randint(1, 30))
                actual = None
                if unit in WEIGHED and status == "delivered" and rng.random() < 0.5:
                    actual = (quantity * Decimal(rng.randint(950, 1000)) / 1000).quantize(Decimal("0.001"))
                line_total = int(price * (actual if actual is not None else quantity))
                part_total += line_total
                rows["orders_orderline"].append(
                    (line_id, name, unit, price, quantity, line_total, part_id, product_id, actual)
                )
                if status == "delivered" and rng.random() < 0.015:
                    resolved = rng.random() < 0.7
                    refund = int(line_total * rng.choice((0.1, 0.2, 0.3, 0.5, 1.0))) if resolved else 0
                    reported = min(now, placed + timedelta(hours=rng.randint(8, 80)))
                    rows["orders_problem"].append(
                        (
                            self._next("orders_problem"),
                            rng.choice(("missing", "damaged", "not_fresh")),
                            min(quantity, Decimal(1)),
                            "",
                            "",
                            "resolved" if resolved else "declined",
                            max(refund, 1) if resolved else 0,
                            "",
                            reported,
                            reported,
                            part_id,
                            line_id,
                            buyer,
                        )
                    )
            self.lines += len(chosen)
            subtotal += part_total
            updated = released
            if status == "delivered":
                if rng.random() < 0.03:
                    failed = min(now, released + timedelta(hours=rng.uniform(3, 20)))
                    change = self._next("orders_statuschange")
                    rows["orders_statuschange"].append(
                        (change, "picked_up", "failed_delivery", failed, "", part_id, order_id)
                    )
                updated = min(now, placed + timedelta(seconds=rng.randrange(4 * 3600, 72 * 3600)))
                rows["orders_statuschange"].append(
                    (
                        self._next("orders_statuschange"),
                        "picked_up",
                        "delivered",
                        updated,
                        "",
                        part_id,
                        order_id,
                    )
                )
            elif status in ("cancelled", "rejected", "returned"):
                updated = min(now, released + timedelta(hours=rng.uniform(1, 30)))
                note = NO_ANSWER_NOTE if status == "cancelled" and rng.random() < 0.3 else ""
                rows["orders_statuschange"].append(
                    (self._next("orders_statuschange"), "new", status, updated, note, part_id, order_id)
                )
            rows["orders_farmorder"].append(
                (part_id, status, part_total, placed, updated, farm, order_id, released)
            )
        fee = rng.randrange(15_000, 40_000, 1000)
        if all(status == "delivered" for status in statuses):
            order_status = "completed"
        elif all(status in ("cancelled", "rejected") for status in statuses):
            order_status = "cancelled"
        elif any(status in MOVING for status in statuses):
            order_status = "processing"
        else:
            order_status = "delivered"
        if method == "cod":
            paid = "paid" if "delivered" in statuses else "unpaid"
        else:
            paid = "refunded" if order_status == "cancelled" else "paid"
        rows["orders_order"].append(
            (
                order_id,
                f"BN-{order_id:010d}",
                order_status,
                paid,
                method,
                subtotal,
                fee,
                subtotal + fee,
                "Người nhận",
                "+84900000000",
                "Ấp Mỹ Ái",
                "",
                placed.date() + timedelta(days=1) if rng.random() < 0.3 else None,
                placed,
                placed,
                buyer,
                rng.choice(self.wards),
                None,
                Decimal(0),
            )
        )


def seed_people(*, households: int, listings: int, password: str) -> dict:
    """Seed the catalogue, the buyers and a city-wide official; return the official's credentials."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.test import Client
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from bench.seed import seed_catalogue
    from marketplace.accounts.models import Role, User

    size = seed_catalogue(households=households, listings=listings)
    now, unusable = timezone.now(), make_password(None)
    User.objects.bulk_create(
        [
            User(
                phone=f"+8491{index:07d}",
                full_name=f"Người mua {index}",
                role=Role.BUYER,
                password=unusable,
                privacy_consent_at=now,
                privacy_notice_version="2026-01",
            )
            for index in range(BUYERS)
        ],
        batch_size=2000,
    )
    official = User(
        phone="+84939999999",
        full_name="Cán bộ Sở Nông nghiệp",
        role=Role.OFFICIAL,
        city_wide=True,
        privacy_consent_at=now,
        privacy_notice_version="2026-01",
    )
    official.set_password(password)
    official.save()
    client = Client()
    client.force_login(official, backend="django.contrib.auth.backends.ModelBackend")

    return {
        "size": size.as_dict(),
        "token": Token.objects.create(user=official).key,
        "cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}",
    }


# --- The rebuild, and the same rebuild in raw SQL ---------------------------------------------

LINES_SQL = f"""
    SELECT (o.created_at AT TIME ZONE '{ZONE}')::date AS day, fo.farm_id, f.ward_id, p.category_id,
           ol.product_id, o.payment_method, ol.unit, fo.order_id, o.buyer_id, ol.id AS line_id,
           ol.unit_price, ol.line_total,
           fo.status NOT IN ('cancelled', 'rejected', 'returned') AS live,
           fo.status = 'delivered' AS delivered,
           COALESCE(ol.actual_quantity, ol.quantity) AS packed,
           CASE ol.unit WHEN 'kg' THEN 1 WHEN 'yen' THEN 10 WHEN 'ta' THEN 100
                ELSE p.unit_weight_kg END AS kg_per_unit,
           COALESCE(r.refund, 0) AS refund,
           EXISTS (
               SELECT 1 FROM farms_certification c
               WHERE c.farm_id = fo.farm_id AND c.status IN ('verified', 'expired')
                 AND c.issued_on <= (o.created_at AT TIME ZONE '{ZONE}')::date
                 AND c.expires_on >= (o.created_at AT TIME ZONE '{ZONE}')::date
           ) AS certified
    FROM orders_orderline ol
    JOIN orders_farmorder fo ON fo.id = ol.farm_order_id
    JOIN orders_order o ON o.id = fo.order_id
    JOIN farms_farm f ON f.id = fo.farm_id
    JOIN farms_product p ON p.id = ol.product_id
    LEFT JOIN (
        SELECT line_id, SUM(refund_amount) AS refund FROM orders_problem
        WHERE status = 'resolved' GROUP BY line_id
    ) r ON r.line_id = ol.id
    WHERE o.created_at >= %(start)s AND o.created_at < %(end)s
"""

SALES_COLUMNS = (
    "day, farm_id, ward_id, category_id, product_id, payment_method, certified, unit, orders, lines, "
    "quantity, quantity_kg, gross, gross_kg, cancelled, refunded, delivered, price_min_kg, price_max_kg"
)

SALES_SQL = f"""
    INSERT INTO reports_salesfact ({SALES_COLUMNS})
    SELECT day, farm_id, ward_id, category_id, product_id, payment_method, certified, MAX(unit),
           COUNT(DISTINCT order_id) FILTER (WHERE live),
           COUNT(*) FILTER (WHERE live),
           COALESCE(SUM(packed) FILTER (WHERE live), 0),
           COALESCE(SUM(packed * kg_per_unit) FILTER (WHERE live AND kg_per_unit IS NOT NULL), 0),
           COALESCE(SUM(line_total) FILTER (WHERE live), 0),
           COALESCE(SUM(line_total) FILTER (WHERE live AND kg_per_unit IS NOT NULL), 0),
           COALESCE(SUM(line_total) FILTER (WHERE NOT live), 0),
           COALESCE(SUM(refund) FILTER (WHERE live), 0),
           COALESCE(SUM(line_total) FILTER (WHERE delivered), 0),
           ROUND(MIN(line_total / (packed * kg_per_unit)) FILTER (WHERE live AND kg_per_unit IS NOT NULL), 3),
           ROUND(MAX(line_total / (packed * kg_per_unit)) FILTER (WHERE live AND kg_per_unit IS NOT NULL), 3)
    FROM ({LINES_SQL}) line
    GROUP BY day, farm_id, ward_id, category_id, product_id, payment_method, certified
"""

LINE_COLUMNS = (
    "day, order_id, buyer_id, farm_id, ward_id, category_id, product_id, payment_method, certified, live"
)
LINE_FACTS_SQL = (
    f"INSERT INTO reports_orderlinefact ({LINE_COLUMNS}) SELECT {LINE_COLUMNS} FROM ({LINES_SQL}) line"
)


def _days(now: datetime) -> tuple[date, date]:
    from django.utils import timezone

    today = timezone.localdate(now)
    return today - timedelta(days=DAYS), today


def raw_rebuild(url: str, first: date, last: date) -> dict:
    """Rebuild SalesFact and OrderLineFact in SQL written by hand (one transaction); time each step."""
    from marketplace.reports.rollups import day_bounds

    start, end = day_bounds(first, last)
    params = {"start": start, "end": end}
    timings = {}
    with psycopg.connect(url) as conn:
        began = time.monotonic()
        conn.execute("DELETE FROM reports_salesfact WHERE day BETWEEN %s AND %s", [first, last])
        conn.execute("DELETE FROM reports_orderlinefact WHERE day BETWEEN %s AND %s", [first, last])
        timings["delete_seconds"] = time.monotonic() - began
        began = time.monotonic()
        sales = conn.execute(SALES_SQL, params).rowcount
        timings["sales_seconds"] = time.monotonic() - began
        began = time.monotonic()
        lines = conn.execute(LINE_FACTS_SQL, params).rowcount
        timings["lines_seconds"] = time.monotonic() - began
        began = time.monotonic()
        conn.commit()
        timings["commit_seconds"] = time.monotonic() - began
    timings["seconds"] = sum(timings.values())
    return {"sales": sales, "lines": lines, **{k: round(v, 2) for k, v in timings.items()}}


RAW_CUBE_TABLE = """
CREATE TABLE bench_raw_cube (
    cuboid smallint, period char(1), start date, ward_id varchar(5), category_id bigint,
    payment_method varchar(16), certified boolean, farm_id bigint, product_id bigint,
    quantity_kg numeric(18, 3), gross bigint, cancelled bigint, refunded bigint, delivered bigint,
    orders bigint[], buyers bigint[], farms bigint[]
)"""
RAW_STARTS = {"d": "day", "w": "date_trunc('week', day)::date", "m": "date_trunc('month', day)::date"}


def raw_cube_sql(cuboid, period: str) -> str:
    """The cells of one cuboid and period as one INSERT … SELECT: sums from the sales facts, sets of
    ids as arrays from the line facts (the app keeps them as Roaring bitmaps, which SQL cannot make)."""
    from marketplace.reports.cube import ABSENT, DIMENSIONS, SUMS

    start = RAW_STARTS[period]
    dims = list(cuboid.dims)
    keys = ", ".join(["start", *dims])
    picked = ", ".join(f"{start} AS start" if key == "start" else key for key in ["start", *dims])
    values = []
    for dim in DIMENSIONS:
        absent = ABSENT[dim]
        values.append(f"s.{dim}" if dim in dims else "NULL" if absent is None else repr(absent))
    return f"""
        INSERT INTO bench_raw_cube
        SELECT {cuboid.code}, '{period}', s.start, {", ".join(values)},
               {", ".join(f"s.{name}" for name in SUMS)}, l.orders, l.buyers, l.farms
        FROM (
            SELECT {picked}, {", ".join(f"SUM({name}) AS {name}" for name in SUMS)}
            FROM reports_salesfact WHERE day BETWEEN %(first)s AND %(last)s GROUP BY {keys}
        ) s LEFT JOIN (
            SELECT {picked}, ARRAY_AGG(DISTINCT order_id) AS orders, ARRAY_AGG(DISTINCT buyer_id) AS buyers,
                   ARRAY_AGG(DISTINCT farm_id) AS farms
            FROM reports_orderlinefact WHERE live AND day BETWEEN %(first)s AND %(last)s GROUP BY {keys}
        ) l USING ({keys})"""


def raw_cube(url: str, first: date, last: date) -> dict:
    """Compute every cell the app's cube holds in SQL written by hand, from the raw facts; time it.

    What the app's rebuild does beyond the facts, as the database alone would do it: the
    "equivalent raw SQL" of the whole rebuild is `raw_rebuild` plus this. The cells are kept in
    `bench_raw_cube` for `compare_cube`.
    """
    from marketplace.reports.cube import CUBOIDS

    # The whole weeks and months the range touches, as the app's rebuild reads them.
    params = {"first": first - timedelta(days=first.weekday() + 31), "last": last + timedelta(days=31)}
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_cube")
        conn.execute(RAW_CUBE_TABLE)
        conn.commit()
        began = time.monotonic()
        cells = 0
        for cuboid in CUBOIDS:
            for period in cuboid.periods:
                cells += conn.execute(raw_cube_sql(cuboid, period), params).rowcount
        conn.commit()
        return {"cells": cells, "seconds": round(time.monotonic() - began, 2)}


def compare_cube(url: str) -> bool:
    """Whether the app's cube and `bench_raw_cube` hold the same cells: keys, sums and set sizes."""
    from marketplace.reports.cube import DIMENSIONS, SUMS

    columns = ", ".join(["cuboid", "period", "start", *DIMENSIONS, *SUMS])
    # A cell of cancelled lines only has no live ids: no array (NULL) here, an empty bitmap there.
    sizes = ", ".join(f"coalesce(cardinality({name}), 0)" for name in ("orders", "buyers", "farms"))
    raw = f"SELECT {columns}, {sizes} FROM bench_raw_cube"
    app = f"SELECT {columns}, orders_n, buyers_n, farms_n FROM reports_salescube"
    with psycopg.connect(url) as conn:
        only_raw = f"SELECT count(*) FROM ({raw} EXCEPT ALL {app}) a"
        only_app = f"SELECT count(*) FROM ({app} EXCEPT ALL {raw}) b"
        differ = conn.execute(f"SELECT ({only_raw}) + ({only_app})").fetchone()[0]
        conn.execute("DROP TABLE bench_raw_cube")
    return differ == 0


def snapshot(url: str) -> None:
    """Keep the raw rebuild's rows (without ids) to compare with the app's."""
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_sales, bench_raw_lines")
        conn.execute(f"CREATE TABLE bench_raw_sales AS SELECT {SALES_COLUMNS} FROM reports_salesfact")
        conn.execute(f"CREATE TABLE bench_raw_lines AS SELECT {LINE_COLUMNS} FROM reports_orderlinefact")


def compare(url: str) -> dict:
    """Count rows only one of the two rebuilds wrote (both 0: the same rows), and both totals."""
    totals = (
        "count(*), sum(orders), sum(lines), sum(quantity), sum(quantity_kg), sum(gross), sum(cancelled), "
    )
    totals += "sum(refunded), sum(delivered), min(price_min_kg), max(price_max_kg)"
    with psycopg.connect(url) as conn:

        def one(query: str):
            return conn.execute(query).fetchone()

        result = {
            "sales_only_raw": one(
                f"SELECT count(*) FROM (SELECT * FROM bench_raw_sales EXCEPT ALL "
                f"SELECT {SALES_COLUMNS} FROM reports_salesfact) d"
            )[0],
            "sales_only_app": one(
                f"SELECT count(*) FROM (SELECT {SALES_COLUMNS} FROM reports_salesfact EXCEPT ALL "
                f"SELECT * FROM bench_raw_sales) d"
            )[0],
            "lines_only_raw": one(
                f"SELECT count(*) FROM (SELECT * FROM bench_raw_lines EXCEPT ALL "
                f"SELECT {LINE_COLUMNS} FROM reports_orderlinefact) d"
            )[0],
            "lines_only_app": one(
                f"SELECT count(*) FROM (SELECT {LINE_COLUMNS} FROM reports_orderlinefact EXCEPT ALL "
                f"SELECT * FROM bench_raw_lines) d"
            )[0],
            "totals_raw": [str(v) for v in one(f"SELECT {totals} FROM bench_raw_sales")],
            "totals_app": [str(v) for v in one(f"SELECT {totals} FROM reports_salesfact")],
        }
        conn.execute("DROP TABLE bench_raw_sales, bench_raw_lines")
    result["same"] = (
        not any(result[k] for k in ("sales_only_raw", "sales_only_app", "lines_only_raw", "lines_only_app"))
        and result["totals_raw"] == result["totals_app"]
    )
    return result


def app_rebuild(first: date, last: date) -> dict:
    """Run what `rebuild_sales_stats --from first --to last` runs, timing each rebuild."""
    from django.db import connection

    from marketplace.reports.operations import fulfilment_rebuild, registrations_rebuild
    from marketplace.reports.rollups import rollups_rebuild

    began = time.monotonic()
    written = rollups_rebuild(first=first, last=last)
    sales_seconds = time.monotonic() - began
    began = time.monotonic()
    fulfilment = fulfilment_rebuild(first=first, last=last)
    fulfilment_seconds = time.monotonic() - began
    began = time.monotonic()
    registrations = registrations_rebuild(first=first, last=last)
    registrations_seconds = time.monotonic() - began
    connection.close()
    return {
        "sales": written["sales"],
        "lines": written["lines"],
        "cube": written["cube"],
        "fulfilment": fulfilment,
        "registrations": registrations,
        "seconds": round(sales_seconds, 2),
        "fulfilment_seconds": round(fulfilment_seconds, 2),
        "registrations_seconds": round(registrations_seconds, 2),
    }


def vacuum(url: str, *tables: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"VACUUM ANALYZE {', '.join(tables)}" if tables else "VACUUM ANALYZE")


def counts(url: str) -> dict:
    tables = {
        "orders": "orders_order",
        "farm_orders": "orders_farmorder",
        "order_lines": "orders_orderline",
        "status_changes": "orders_statuschange",
        "problems": "orders_problem",
        "sales_facts": "reports_salesfact",
        "line_facts": "reports_orderlinefact",
        "cube_cells": "reports_salescube",
        "fulfilment_facts": "reports_fulfilmentfact",
        "registration_facts": "reports_registrationfact",
    }
    with psycopg.connect(url) as conn:
        return {
            name: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for name, table in tables.items()
        }


# --- Latency ------------------------------------------------------------------------------------


def requests_to_time(today: date) -> list[tuple[str, str, str]]:
    """(label, path, auth) of what is timed: the stats API with a token, the dashboard with a session."""
    year_ago = (today - timedelta(days=DAYS - 1)).isoformat()
    quarter = (today - timedelta(days=89)).isoformat()
    return [
        ("API group_by=day, last 30 days", "/api/v1/stats/sales/?group_by=day", "token"),
        ("API group_by=month, 365 days", f"/api/v1/stats/sales/?group_by=month&from={year_ago}", "token"),
        ("API group_by=ward, 365 days", f"/api/v1/stats/sales/?group_by=ward&from={year_ago}", "token"),
        ("API group_by=product, 90 days", f"/api/v1/stats/sales/?group_by=product&from={quarter}", "token"),
        (
            "API group_by=household, 90 days, cash only",
            f"/api/v1/stats/sales/?group_by=household&from={quarter}&payment_method=cod",
            "token",
        ),
        ("dashboard preset=month", "/official/stats/?preset=month", "session"),
        ("dashboard preset=year", "/official/stats/?preset=year", "session"),
    ]


def time_requests(
    server: harness.Server, path: str, *, headers: dict, requests: int, warmup: int, budget: float
) -> dict:
    """Send `warmup` then up to `requests` sequential GETs (fewer if `budget` seconds run out)."""
    for _ in range(warmup):
        status, _headers, body = harness.fetch(server.port, path, host=HOST, headers=headers, timeout=120)
        if status != 200:
            raise SystemExit(f"{path} answered {status}: {body[:300]!r}")
    latencies, size = [], 0
    deadline = time.monotonic() + budget
    while len(latencies) < requests and (len(latencies) < 5 or time.monotonic() < deadline):
        began = time.monotonic()
        status, _headers, body = harness.fetch(server.port, path, host=HOST, headers=headers, timeout=120)
        latencies.append((time.monotonic() - began) * 1000)
        if status != 200:
            raise SystemExit(f"{path} answered {status}: {body[:300]!r}")
        size = len(body)
    latencies.sort()
    return {
        "requests": len(latencies),
        "p50_ms": round(harness.percentile(latencies, 0.50), 1),
        "p95_ms": round(harness.percentile(latencies, 0.95), 1),
        "max_ms": round(latencies[-1], 1),
        "bytes": size,
    }


def measure(env: dict, people: dict, *, today: date, args) -> dict:
    headers = {
        "token": {"Authorization": f"Token {people['token']}"},
        "session": {"Cookie": people["cookie"], "Accept": "text/html"},
    }
    results = {}
    with harness.Server(APP, env=env, workers=args.workers, ready_path=READY_PATH, host=HOST) as server:
        for label, path, auth in requests_to_time(today):
            page = auth == "session"
            results[label] = {
                "path": path,
                **time_requests(
                    server,
                    path,
                    headers=headers[auth],
                    requests=args.page_requests if page else args.requests,
                    warmup=args.warmup,
                    budget=args.budget,
                ),
            }
            r = results[label]
            print(
                f"  {label}: p50 {r['p50_ms']:,.1f} ms, p95 {r['p95_ms']:,.1f} ms ({r['requests']} requests)"
            )
    return results


# --- Report -------------------------------------------------------------------------------------


def _label(lines: int) -> str:
    if lines % 1_000_000 == 0:
        return f"{lines // 1_000_000}M"
    return f"{lines // 1000}k" if lines % 1000 == 0 else f"{lines:,}"


def rebuild_table(runs: list[dict]) -> str:
    header = [
        "order lines",
        "SalesFact rows",
        "OrderLineFact rows",
        "SalesCube rows",
        "FulfilmentFact rows",
        "RegistrationFact rows",
        "rollups_rebuild s",
        "raw SQL of the facts s",
        "ratio",
        "raw SQL of facts and cube s",
        "ratio",
        "fulfilment s",
        "registrations s",
        "same rows",
    ]
    rows = []
    for run in runs:
        app, raw = run["rebuild"], run["raw"]
        rows.append(
            [
                f"{run['counts']['order_lines']:,}",
                f"{app['sales']:,}",
                f"{app['lines']:,}",
                f"{app['cube']:,}",
                f"{app['fulfilment']:,}",
                f"{app['registrations']:,}",
                f"{app['seconds']:,.2f}",
                f"{raw['seconds']:,.2f}",
                f"**{app['seconds'] / raw['seconds']:.1f}×**" if raw["seconds"] else "–",
                f"{raw['seconds'] + raw['cube']['seconds']:,.2f}",
                f"**{app['seconds'] / (raw['seconds'] + raw['cube']['seconds']):.1f}×**",
                f"{app['fulfilment_seconds']:,.2f}",
                f"{app['registrations_seconds']:,.2f}",
                "yes" if run["same"]["same"] else "**no**",
            ]
        )
    return harness.markdown_table(header, rows)


def latency_table(runs: list[dict]) -> str:
    header = ["request"]
    for run in runs:
        header += [f"p50 ms @{_label(run['lines'])}", f"p95 ms @{_label(run['lines'])}"]
    if len(runs) > 1:
        header.append(f"p95 {_label(runs[-1]['lines'])} / {_label(runs[0]['lines'])}")
    rows = []
    for label in runs[0]["latency"]:
        row = [label]
        for run in runs:
            found = run["latency"].get(label)
            row += [f"{found['p50_ms']:,.1f}", f"{found['p95_ms']:,.1f}"] if found else ["–", "–"]
        if len(runs) > 1:
            low, high = runs[0]["latency"].get(label), runs[-1]["latency"].get(label)
            row.append(f"**{high['p95_ms'] / low['p95_ms']:.2f}**" if low and high else "–")
        rows.append(row)
    return harness.markdown_table(header, rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10000,1000000", help="order lines at each step, growing (10000,1000000)"
    )
    parser.add_argument("--requests", type=int, default=40, help="timed requests per API query (40)")
    parser.add_argument(
        "--page-requests", type=int, default=20, help="timed requests per dashboard page (20)"
    )
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests first (5)")
    parser.add_argument(
        "--budget", type=float, default=60, help="seconds per query after which timing stops (60; at least 5)"
    )
    parser.add_argument("--households", type=int, default=200, help="verified households to seed (200)")
    parser.add_argument("--listings", type=int, default=2000, help="active listings to seed (2000)")
    parser.add_argument(
        "--workers", type=int, default=harness.default_workers(), help="gunicorn workers (CPUs)"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards (to EXPLAIN)")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    if sizes != sorted(sizes):
        parser.error("--sizes must grow")

    url = database_url()
    info = harness.checked_machine(url, workers=args.workers)
    if info is None:
        return 2
    env = server_env(url)
    harness.recreate_database(url)
    print(f"Migrated {harness.database_name(url)} in {harness.migrate(env):.1f} s.")
    os.environ.update(env)  # this process seeds and rebuilds through the app's models
    import django

    django.setup()
    from django.db import connections
    from django.utils import timezone

    runs = []
    try:
        began = time.monotonic()
        people = seed_people(households=args.households, listings=args.listings, password="bench-stats-1")
        connections.close_all()
        now = timezone.now()
        first, last = _days(now)
        orders = Orders(url, now=now)
        print(f"Seeded the catalogue, {BUYERS:,} buyers and an official in {time.monotonic() - began:.1f} s.")
        for size in sizes:
            print(f"\n== {size:,} order lines")
            began = time.monotonic()
            orders.grow(size)
            vacuum(url)
            inserted = time.monotonic() - began
            print(f"Inserted (COPY) and vacuumed in {inserted:.1f} s.")
            raw = raw_rebuild(url, first, last)
            print(
                f"Raw SQL rebuild: {raw['seconds']:.2f} s "
                f"({raw['sales']:,} sales rows, {raw['lines']:,} line rows)"
            )
            raw["cube"] = raw_cube(url, first, last)
            cube = raw["cube"]
            print(f"Raw SQL of the cube's cells: {cube['seconds']:.2f} s ({cube['cells']:,} cells)")
            snapshot(url)
            rebuild = app_rebuild(first, last)
            print(
                f"rollups_rebuild: {rebuild['seconds']:.2f} s ({rebuild['sales']:,} sales rows, "
                f"{rebuild['lines']:,} line rows, {rebuild['cube']:,} cube cells); "
                f"fulfilment {rebuild['fulfilment_seconds']:.2f} s "
                f"({rebuild['fulfilment']:,} rows), registrations {rebuild['registrations_seconds']:.2f} s "
                f"({rebuild['registrations']:,} rows)"
            )
            same = compare(url)
            same["cube"] = compare_cube(url)
            same["same"] = same["same"] and same["cube"]
            print("Same rows from both rebuilds." if same["same"] else f"The rebuilds differ: {same}")
            vacuum(url, "reports_salesfact", "reports_orderlinefact", "reports_fulfilmentfact")
            run = {
                "lines": size,
                "insert_seconds": round(inserted, 1),
                "counts": counts(url),
                "raw": raw,
                "rebuild": rebuild,
                "same": same,
            }
            print("Rows: " + ", ".join(f"{name} {value:,}" for name, value in run["counts"].items()))
            # Kept before timing requests too, so a failed request does not lose the rebuild's figures.
            harness.write_results(f"stats-{size}", {"machine": info, "options": vars(args), **run})
            print("Latency, sequential requests after a warm-up:")
            run["latency"] = measure(env, people, today=last, args=args)
            runs.append(run)
            harness.write_results(f"stats-{size}", {"machine": info, "options": vars(args), **run})
    finally:
        connections.close_all()
        if not args.keep_db:
            harness.drop_database(url)

    print()
    print(f"Machine: {harness.machine_line(info)}.")
    print(
        f"Data: {args.households} verified households, {args.listings:,} active listings, "
        f"{BUYERS:,} buyers; orders over the {DAYS} days to {last}."
    )
    print()
    rebuilds, latencies = rebuild_table(runs), latency_table(runs)
    print(rebuilds)
    print()
    print(latencies)
    target = harness.write_results(
        "stats",
        {
            "benchmark": "stats",
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": info,
            "options": vars(args),
            "gunicorn_options": harness.server_options(args.workers),
            "runs": runs,
            "tables": {"rebuild": rebuilds, "latency": latencies},
        },
    )
    print(f"\nResults: {os.path.relpath(target, harness.ROOT)}")
    return 0 if all(run["same"]["same"] for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
