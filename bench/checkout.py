"""Checkout benchmark (issue #10): `POST /api/v1/checkout/` through gunicorn on PostgreSQL.

    python -m bench.checkout [--buyers 400] [--concurrency 8] [--crowd 200] [--units 50] [--keep-db]

Creates its own database (BENCH_CHECKOUT_DATABASE_URL, by default the server of
BENCH_DATABASE_URL with the database `cho_noi_bench_checkout`; dropped afterwards), migrates
it, seeds the catalogue of the catalogue benchmark (`bench.seed`), then, through the app's own
services, buyers with an API token (`token_for`) and a cart (`cart_get_or_create`,
`cart_add`). The server is the catalogue's gunicorn (same options and settings) with its broker
and cache on a private `redis-server` started for the run (no worker: the tasks each order
enqueues wait in Redis). Every checkout is cash on delivery to a ward of the reference data.

- **No contention**: each buyer orders 2 kg of a listing of their own (ample stock), from
  `--concurrency` client threads, after a warm-up of other buyers; every answer must be 201.
- **A crowd for the last units**: `--crowd` buyers each with 1 kg of one listing of `--units`
  kg in their cart, released together (a barrier). Exactly `--units` orders must be placed, the
  rest refused with 409 `cart_conflict`, the stock must end at 0 and the order lines must add
  up to the units: anything else fails the benchmark.

Prints a Markdown table and writes var/bench/checkout.json.
"""

import argparse
import json
import os
import sys
import time
from decimal import Decimal

from bench import harness, writes

APP = "marketplace.wsgi"
HOST = "bench.local"
PATH = "/api/v1/checkout/"
READY_PATH = "/healthz"
DATABASE_NAME = "cho_noi_bench_checkout"
PRICE = 30_000  # đồng per kg: 2 kg and the delivery fee stay far under the first-orders cash cap
EACH_KG = Decimal(2)
AMPLE_KG = Decimal(1_000_000)
DELIVERY = {"name": "Chị Lan", "phone": "0912 345 678", "address": "12 đường 30/4"}


def _setup_django(env: dict) -> None:
    os.environ.update(env)  # this process seeds through the app's models and services
    import django

    django.setup()


def _buyers(count: int, *, first: int) -> list:
    """Create `count` buyers (phones from `first`) in one statement; return them."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from marketplace.accounts.models import Role, User

    now, unusable = timezone.now(), make_password(None)
    users = [
        User(
            phone=f"+8493{first + index:07d}",
            full_name=f"Người mua {first + index}",
            role=Role.BUYER,
            password=unusable,
            privacy_consent_at=now,
            privacy_notice_version="2026-01",
        )
        for index in range(count)
    ]
    return User.objects.bulk_create(users, batch_size=1000)


def _listings(count: int, *, stock: Decimal, name: str) -> list:
    """Create `count` active listings sold by the kg, spread over the verified households."""
    from farms.models import Farm, FarmStatus, Product, ProductStatus
    from farms.units import Unit

    farms = list(Farm.objects.filter(status=FarmStatus.VERIFIED).order_by("pk"))
    template = Product.objects.filter(unit=Unit.KG).order_by("pk").first()
    products = [
        Product(
            farm=farms[index % len(farms)],
            name=f"{name} {index + 1}",
            category_id=template.category_id,
            description=template.description,
            unit=Unit.KG,
            price=PRICE,
            stock=stock,
            min_order=Decimal(1),
            status=ProductStatus.ACTIVE,
        )
        for index in range(count)
    ]
    return Product.objects.bulk_create(products, batch_size=1000)


def _fill(buyers: list, products: list, quantity: Decimal) -> list[str]:
    """Give each buyer a token and a cart holding `quantity` of its product; return the tokens."""
    from marketplace.accounts.services import token_for
    from orders.services.cart import cart_add, cart_get_or_create

    tokens = []
    for buyer, product in zip(buyers, products, strict=True):
        cart_add(cart=cart_get_or_create(user=buyer), product=product, quantity=quantity)
        tokens.append(token_for(user=buyer))
    return tokens


def seed(*, households: int, listings: int, warmup: int, buyers: int, crowd: int, units: int) -> dict:
    """Seed the catalogue, then the buyers and carts of both scenarios; return what was made."""
    from django.db import connection

    from bench.seed import seed_catalogue
    from marketplace.geo.models import Ward

    began = time.monotonic()
    size = seed_catalogue(households=households, listings=listings)
    catalogue_seconds = time.monotonic() - began

    began = time.monotonic()
    plain = _buyers(warmup + buyers, first=0)
    own = _listings(warmup + buyers, stock=AMPLE_KG, name="Bưởi da xanh (bench)")
    plain_tokens = _fill(plain, own, EACH_KG)
    crowd_buyers = _buyers(crowd, first=5_000_000)
    (last_units,) = _listings(1, stock=Decimal(units), name="Sầu riêng Ri6 (bench, last units)")
    crowd_tokens = _fill(crowd_buyers, [last_units] * crowd, Decimal(1))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    ward = Ward.objects.order_by("code")[3]
    print(
        f"Seeded the catalogue in {catalogue_seconds:.1f} s ({size.line()}); "
        f"{warmup + buyers + crowd} buyers with tokens and carts in {time.monotonic() - began:.1f} s."
    )
    return {
        "catalogue": size.as_dict(),
        "plain": {"tokens": plain_tokens, "products": [p.pk for p in own], "buyers": [b.pk for b in plain]},
        "crowd": {"tokens": crowd_tokens, "product": last_units.pk, "buyers": [b.pk for b in crowd_buyers]},
        "ward": ward.pk,
    }


def _requests(tokens: list[str], ward: str) -> list[tuple[str, dict, bytes]]:
    body = json.dumps({"delivery": {**DELIVERY, "ward": ward}, "payment_method": "cod"}).encode()
    return [
        (
            PATH,
            {
                "Authorization": f"Token {token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            body,
        )
        for token in tokens
    ]


class Failed(Exception):
    """The app answered or wrote something a correct checkout never does."""


def check_plain(batch: writes.Batch, *, buyers: list[int], products: list[int]) -> dict:
    """Every checkout placed one order of 2 kg, taken from its own listing."""
    from django.db.models import Sum

    from farms.models import Product
    from orders.models import Order, OrderLine

    bad = writes.errors(batch, {201})
    if bad:
        raise Failed(f"no-contention checkouts answered other than 201: {batch.statuses}; {bad}")
    orders = Order.objects.filter(buyer_id__in=buyers).count()
    sold = OrderLine.objects.filter(product_id__in=products).aggregate(q=Sum("quantity"))["q"] or 0
    left = Product.objects.filter(pk__in=products).aggregate(s=Sum("stock"))["s"]
    expected_left = AMPLE_KG * len(products) - EACH_KG * len(buyers)
    if orders != len(buyers) or sold != EACH_KG * len(buyers) or left != expected_left:
        raise Failed(
            f"no-contention: {orders} orders for {len(buyers)} buyers, {sold} kg sold, "
            f"{left} kg left (expected {expected_left})"
        )
    return {"orders": orders, "kg_sold": str(sold)}


def check_crowd(batch: writes.Batch, *, product: int, units: int) -> dict:
    """Exactly `units` orders, every other answer a 409 `cart_conflict`, stock 0, no oversell."""
    from django.db.models import Count, Sum

    from farms.models import Product
    from orders.models import OrderLine

    problems = []
    placed = [a for a in batch.answers if a.status == 201]
    refused = [a for a in batch.answers if a.status == 409]
    if len(placed) != units or len(refused) != len(batch.answers) - units:
        problems.append(
            f"answers {batch.statuses}, expected {units}×201 and {len(batch.answers) - units}×409"
        )
    codes: dict = {}
    for answer in refused:
        try:
            code = json.loads(answer.body).get("code")
        except ValueError:
            code = f"not JSON: {answer.body[:100]!r}"
        codes[code] = codes.get(code, 0) + 1
    if set(codes) - {"cart_conflict"}:
        problems.append(f"409 codes {codes}, expected cart_conflict only")
    row = Product.objects.filter(pk=product).values("stock", "status").get()
    lines = OrderLine.objects.filter(product_id=product).aggregate(
        q=Sum("quantity"), n=Count("farm_order__order", distinct=True)
    )
    if row["stock"] != 0:
        problems.append(f"stock ends at {row['stock']}, expected 0")
    if (lines["q"] or 0) != units or lines["n"] != units:
        problems.append(f"{lines['n']} orders with {lines['q']} kg written, expected {units} and {units} kg")
    bad = writes.errors(batch, {201, 409})
    if bad:
        problems.append(f"unexpected answers: {bad}")
    if problems:
        raise Failed("crowd: " + "; ".join(problems))
    return {
        "orders": len(placed),
        "refused": len(refused),
        "refusal_codes": codes,
        "stock_left": format(row["stock"].normalize(), "f"),
        "status_after": row["status"],
        "kg_sold": format(lines["q"].normalize(), "f"),
    }


def _fmt(value, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


HEADER = [
    "scenario",
    "checkouts",
    "orders placed",
    "orders/s",
    "orders/s until sold out",
    "p50 ms",
    "p99 ms",
    "answers",
    "server CPU ms/checkout",
    "PostgreSQL CPU ms/checkout",
]


def table(results: dict) -> str:
    rows = []
    for label, key in (
        ("no contention (a listing each)", "plain"),
        ("crowd for the last units (one listing)", "crowd"),
    ):
        r = results[key]
        rows.append(
            [
                label,
                f"{r['requests']:,}",
                f"{r['orders']:,}",
                f"**{r['orders_per_second']:,.1f}**",
                _fmt(r.get("orders_per_second_until_sold_out")),
                _fmt(r["p50_ms"]),
                _fmt(r["p99_ms"]),
                ", ".join(f"{n}×{status}" for status, n in r["statuses"].items()),
                _fmt(r["server_cpu_ms"], 2),
                _fmt(r["database_cpu_ms"], 2),
            ]
        )
    return harness.markdown_table(HEADER, rows)


def database_url() -> str:
    return writes.own_database_url("BENCH_CHECKOUT_DATABASE_URL", DATABASE_NAME)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=400, help="timed checkouts without contention (400)")
    parser.add_argument("--warmup", type=int, default=40, help="untimed checkouts first (40)")
    parser.add_argument(
        "--concurrency", type=int, default=8, help="checkouts in flight without contention (8)"
    )
    parser.add_argument(
        "--crowd", type=int, default=200, help="buyers released together on one listing (200)"
    )
    parser.add_argument("--units", type=int, default=50, help="kg of that listing in stock (50)")
    parser.add_argument("--households", type=int, default=200, help="verified households to seed (200)")
    parser.add_argument("--listings", type=int, default=2000, help="active listings to seed (2000)")
    parser.add_argument(
        "--workers", type=int, default=harness.default_workers(), help="gunicorn workers (CPUs)"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if not 0 < args.units < args.crowd:
        parser.error("--units must be between 0 and --crowd")

    url = database_url()
    info = harness.checked_machine(url, workers=args.workers)
    if info is None:
        return 2
    results: dict = {}
    failure = None
    with writes.PrivateRedis() as redis:
        env = writes.write_env(url, redis)
        harness.recreate_database(url)
        _setup_django(env)
        from django.db import connections

        try:
            print(f"Migrated {harness.database_name(url)} in {harness.migrate(env):.1f} s.")
            made = seed(
                households=args.households,
                listings=args.listings,
                warmup=args.warmup,
                buyers=args.buyers,
                crowd=args.crowd,
                units=args.units,
            )
            connections.close_all()
            plain = made["plain"]
            warm, timed = plain["tokens"][: args.warmup], plain["tokens"][args.warmup :]
            with harness.Server(
                APP, env=env, workers=args.workers, ready_path=READY_PATH, host=HOST
            ) as server:
                if warm:
                    writes.post_all(server, _requests(warm, made["ward"]), concurrency=args.concurrency)
                batch = writes.post_all(
                    server, _requests(timed, made["ward"]), concurrency=args.concurrency, database_url=url
                )
                print(f"No contention: {batch.rate:,.1f} checkouts/s, answers {batch.statuses}")
                results["plain"] = {**batch.summary(), "concurrency": args.concurrency}
                results["plain"].update(
                    check_plain(
                        batch,
                        buyers=plain["buyers"][args.warmup :],
                        products=plain["products"][args.warmup :],
                    )
                )
                results["plain"]["orders_per_second"] = round(results["plain"]["orders"] / batch.seconds, 2)

                crowd = made["crowd"]
                batch = writes.post_all(
                    server,
                    _requests(crowd["tokens"], made["ward"]),
                    concurrency=len(crowd["tokens"]),
                    together=True,
                    database_url=url,
                )
                print(
                    f"Crowd: {batch.seconds:.2f} s for {len(batch.answers)} checkouts, "
                    f"answers {batch.statuses}"
                )
                results["crowd"] = {**batch.summary(), "concurrency": len(crowd["tokens"])}
                results["crowd"].update(check_crowd(batch, product=crowd["product"], units=args.units))
                results["crowd"]["orders_per_second"] = round(results["crowd"]["orders"] / batch.seconds, 2)
                results["crowd"]["p99_ms_placed"] = round(batch.latency(0.99, 201), 1)
                # All start together: the last order's answer is when the stock ran out.
                sold_out = max(answer.ms for answer in batch.answers if answer.status == 201) / 1000
                results["crowd"]["sold_out_after_s"] = round(sold_out, 3)
                results["crowd"]["orders_per_second_until_sold_out"] = round(args.units / sold_out, 2)
                results["crowd"]["p99_ms_refused"] = round(batch.latency(0.99, 409), 1)
                results["queued_messages"] = redis.queued()
        except Failed as exc:
            failure = str(exc)
        finally:
            connections.close_all()
            if not args.keep_db:
                harness.drop_database(url)

    if failure:
        print(f"\nFAILED: {failure}", file=sys.stderr)
        harness.write_results(
            "checkout", {"benchmark": "checkout", "machine": info, "failed": failure, "results": results}
        )
        return 1
    text = table(results)
    print()
    print(f"Machine: {harness.machine_line(info)}.")
    print(
        f"Checkout: cash on delivery, 1 line; no contention {args.buyers} checkouts from "
        f"{args.concurrency} threads after {args.warmup} warm-up; crowd {args.crowd} buyers for "
        f"{args.units} units, released together."
    )
    print()
    print(text)
    target = harness.write_results(
        "checkout",
        {
            "benchmark": "checkout",
            "path": PATH,
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": info,
            "options": vars(args),
            "gunicorn_options": harness.server_options(args.workers),
            "catalogue": made["catalogue"],
            **results,
            "table": text,
        },
    )
    print(f"\nResults: {os.path.relpath(target, harness.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
