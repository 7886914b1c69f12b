"""Stripe webhook benchmark (issue #10): how fast `POST /webhooks/stripe/` acknowledges an event.

    python -m bench.webhook [--requests 1000] [--concurrency 4] [--keep-db]

Creates its own database (BENCH_WEBHOOK_DATABASE_URL, by default the server of
BENCH_DATABASE_URL with the database `cho_noi_bench_webhook`; dropped afterwards) and migrates
it; a private `redis-server` is the broker and the cache. Then, from `--concurrency` client
threads, it posts `checkout.session.completed` events, each with an id of its own and signed
as Stripe signs them (`Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256 of "{t}.{body}" with
the webhook secret>`), first to the app (`marketplace.wsgi`: verify with the `stripe`
library, store the event once, queue its task the way the app queues tasks, answer 200) and
then to its floor (`bench.raw_webhook`: the same four steps in plain Python, the task pushed
straight onto the broker), on gunicorns with the same options and settings. The
acknowledgement is what is timed; no worker runs, so no event is processed (the
acknowledgement reads no order or payment: the events name payment ids that do not exist).
Every answer must be 200 and not a duplicate, and each server must have stored each of its
events once.

Prints a Markdown table and writes var/bench/webhook.json.
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import time

from bench import harness, writes

APP = "marketplace.wsgi"
FLOOR = "bench.raw_webhook"
HOST = "bench.local"
PATH = "/webhooks/stripe/"
READY_PATH = "/healthz"
DATABASE_NAME = "cho_noi_bench_webhook"
SECRET = "whsec_bench_0123456789abcdefghijklmnopqrstuv"


def event(event_id: str, number: int) -> bytes:
    """A `checkout.session.completed` event as Stripe sends it (the fields the app reads, and more)."""
    created = int(time.time())
    data = {
        "id": event_id,
        "object": "event",
        "api_version": "2025-06-30.basil",
        "created": created,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": f"cs_test_bench{number:010d}",
                "object": "checkout.session",
                "amount_subtotal": 150_000,
                "amount_total": 180_000,
                "currency": "vnd",
                "customer_details": {"email": None, "name": "Nguyễn Văn Tư", "phone": None},
                "expires_at": created + 1800,
                "livemode": False,
                "locale": "vi",
                "metadata": {
                    "cho_noi_order": f"CN-BENCH-{number:06d}",
                    "cho_noi_payment": str(10**6 + number),
                },
                "mode": "payment",
                "payment_intent": f"pi_bench{number:010d}",
                "payment_method_types": ["card"],
                "payment_status": "paid",
                "status": "complete",
            }
        },
    }
    return json.dumps(data, ensure_ascii=False).encode()


def signed(body: bytes, *, secret: str = SECRET) -> dict:
    """Headers Stripe sends with `body`: the signature of `{t}.{body}` at the current time."""
    stamp = str(int(time.time()))
    signature = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={stamp},v1={signature}", "Content-Type": "application/json"}


def requests(prefix: str, count: int) -> list[tuple[str, dict, bytes]]:
    made = []
    for number in range(count):
        body = event(f"evt_{prefix}{number:08d}", number)
        made.append((PATH, signed(body), body))
    return made


def check(batch: writes.Batch, *, url: str, prefix: str, expected_rows: int) -> dict:
    bad = writes.errors(batch, {200})
    if bad:
        raise SystemExit(f"webhook answers other than 200: {batch.statuses}; {bad}")
    duplicates = sum(json.loads(answer.body).get("duplicate") is not False for answer in batch.answers)
    if duplicates:
        raise SystemExit(f"{duplicates} fresh events were acknowledged as duplicates")
    import psycopg

    with psycopg.connect(url) as conn:
        stored = conn.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM orders_webhookevent "
            "WHERE starts_with(event_id, %s)",
            [f"evt_{prefix}"],
        ).fetchone()
    if stored != (expected_rows, expected_rows):
        raise SystemExit(f"{prefix}: {stored[0]} events stored ({stored[1]} ids), expected {expected_rows}")
    return {"stored": stored[0]}


HEADER = [
    "server",
    "events",
    "acks/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "server CPU ms/ack",
    "PostgreSQL CPU ms/ack",
]


def _fmt(value, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def table(results: dict) -> str:
    rows = []
    for label, key in (
        ("app (verify, store once, enqueue)", "app"),
        ("floor (plain WSGI, psycopg, redis)", "floor"),
    ):
        r = results[key]
        rows.append(
            [
                label,
                f"{r['requests']:,}",
                _fmt(r["rate"]),
                _fmt(r["p50_ms"]),
                f"**{_fmt(r['p95_ms'])}**",
                _fmt(r["p99_ms"]),
                _fmt(r["server_cpu_ms"], 2),
                _fmt(r["database_cpu_ms"], 2),
            ]
        )
    app, floor = results["app"], results["floor"]

    def ratio(key):
        return f"{app[key] / floor[key]:.2f}" if floor.get(key) and app.get(key) is not None else "–"

    rows.append(
        [
            "ratio app / floor",
            "",
            ratio("rate"),
            ratio("p50_ms"),
            f"**{ratio('p95_ms')}**",
            ratio("p99_ms"),
            ratio("server_cpu_ms"),
            ratio("database_cpu_ms"),
        ]
    )
    return harness.markdown_table(HEADER, rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="timed events per server (1000)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed events first (50)")
    parser.add_argument("--concurrency", type=int, default=4, help="events in flight (4)")
    parser.add_argument(
        "--workers", type=int, default=harness.default_workers(), help="gunicorn workers (CPUs)"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    url = writes.own_database_url("BENCH_WEBHOOK_DATABASE_URL", DATABASE_NAME)
    info = harness.checked_machine(url, workers=args.workers)
    if info is None:
        return 2
    results = {}
    with writes.PrivateRedis() as redis:
        env = writes.write_env(url, redis)
        env.update(
            {
                "STRIPE_SECRET_KEY": "sk_test_bench",
                "STRIPE_WEBHOOK_SECRET": SECRET,
                "STRIPE_API_BASE": "http://127.0.0.1:9",  # never called by an acknowledgement
            }
        )
        harness.recreate_database(url)
        try:
            print(f"Migrated {harness.database_name(url)} in {harness.migrate(env):.1f} s.")
            for key, module in (("app", APP), ("floor", FLOOR)):
                with harness.Server(
                    module, env=env, workers=args.workers, ready_path=READY_PATH, host=HOST
                ) as server:
                    queued = redis.queued()
                    # Signed just before sending: Stripe's signatures hold 5 minutes.
                    if args.warmup:
                        writes.post_all(
                            server, requests(f"{key}W", args.warmup), concurrency=args.concurrency
                        )
                    batch = writes.post_all(
                        server,
                        requests(f"{key}T", args.requests),
                        concurrency=args.concurrency,
                        database_url=url,
                    )
                    results[key] = {
                        **batch.summary(),
                        **check(batch, url=url, prefix=f"{key}T", expected_rows=args.requests),
                    }
                    results[key]["broker_messages"] = redis.queued() - queued
                print(
                    f"{module}: {results[key]['rate']:,.1f} acks/s, p95 {results[key]['p95_ms']:,.1f} ms, "
                    f"{results[key]['broker_messages']:,} messages queued"
                )
        finally:
            if not args.keep_db:
                harness.drop_database(url)

    text = table(results)
    print()
    print(f"Machine: {harness.machine_line(info)}.")
    print(
        f"Load: {args.requests} signed events per server from {args.concurrency} threads after "
        f"{args.warmup} warm-up events; broker and cache on a private redis-server."
    )
    print()
    print(text)
    target = harness.write_results(
        "webhook",
        {
            "benchmark": "webhook",
            "path": PATH,
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": info,
            "options": vars(args),
            "gunicorn_options": harness.server_options(args.workers),
            **results,
            "ratio_p95_app_over_floor": round(results["app"]["p95_ms"] / results["floor"]["p95_ms"], 3),
            "table": text,
        },
    )
    print(f"\nResults: {os.path.relpath(target, harness.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
