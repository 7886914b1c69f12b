"""Catalogue benchmark: `GET /api/v1/products/?page_size=50`, the app against its raw-SQL floor.

    python -m bench.catalogue [--seconds 30] [--concurrency 8] [--listings 2000] [--keep-db]

Creates the PostgreSQL database at BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/cho_noi_bench), migrates it, seeds a catalogue, then
serves the same URL from two gunicorns with identical settings, one after the other: the
app (`marketplace.wsgi`, DEBUG off, persistent connections, a dummy cache) and the floor
(`bench.raw_catalogue`, the same JSON built by PostgreSQL in one statement). Both must answer
the same JSON first. Prints a Markdown table and writes var/bench/catalogue.json.
"""

import argparse
import json
import os
import subprocess
import sys
import time

from bench import harness

PATH = "/api/v1/products/?page_size=50"
HOST = "bench.local"
APP = "marketplace.wsgi"
FLOOR = "bench.raw_catalogue"
#: Parts of the list's serializer whose cost the profile reports (bench.profiling --phase).
PROFILE_PHASES = [
    "photo URLs (ProductImageSerializer.get_urls)=farms/api/serializers.py:get_urls",
    "badges (a BadgeSerializer built per listing)=farms/api/serializers.py:get_certifications",
    "inspect.signature (DRF inspects get_unit_display per listing)=/inspect.py:signature",
]


def server_env(database_url: str) -> dict:
    """Return the environment both servers run with: the same for the app and the floor."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_ENV": "development",
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "CONN_MAX_AGE": "600",
            "CACHE_URL": "dummycache://",  # nothing cached, in the app or anywhere
            "ALLOWED_HOSTS": f"{HOST},127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def prepare_database(url: str, env: dict, *, households: int, listings: int, keep_db: bool) -> dict:
    """Create, migrate and seed the database (or, with --keep-db, reuse a seeded one)."""
    reuse = keep_db and harness.database_exists(url)
    if not reuse:
        harness.recreate_database(url)
    migrated = harness.migrate(env)

    os.environ.update(env)  # this process seeds through the app's models
    import django

    django.setup()
    from farms.models import Product

    if reuse and Product.objects.filter(status="active").count() == listings:
        print(f"Reusing the seeded database {harness.database_name(url)} (--keep-db).")
        return {"reused": True, "migrate_seconds": round(migrated, 1)}
    if reuse:  # seeded with another size: start again
        from django.db import connection

        connection.close()
        harness.recreate_database(url)
        harness.migrate(env)

    from bench.seed import seed_catalogue

    began = time.monotonic()
    size = seed_catalogue(households=households, listings=listings)
    seeded = time.monotonic() - began
    print(f"Seeded in {seeded:.1f} s (migrations {migrated:.1f} s): {size.line()}.")
    return {
        "reused": False,
        "migrate_seconds": round(migrated, 1),
        "seed_seconds": round(seeded, 1),
        **size.as_dict(),
    }


def _get_json(server: harness.Server, path: str):
    status, _headers, body = harness.fetch(server.port, path, host=HOST)
    if status != 200:
        raise SystemExit(f"{server.app} answered {status} to {path}: {body[:300]!r}")
    return json.loads(body)


def compare(app: harness.Server, floor: harness.Server) -> list[str]:
    """Fetch the first, second and last pages from both; exit non-zero on any difference."""
    first = _get_json(app, PATH)
    last = max(1, -(-first["count"] // 50))
    paths = [PATH, f"{PATH}&page=2", f"{PATH}&page={last}"]
    for path in dict.fromkeys(paths):
        expected, got = _get_json(app, path), _get_json(floor, path)
        difference = harness.first_difference(expected, got)
        if difference:
            where, left, right = difference
            print(f"The floor's answer differs from the app's for {path} at {where}:", file=sys.stderr)
            print(f"  app:   {left!r}\n  floor: {right!r}", file=sys.stderr)
            raise SystemExit(1)
    return list(dict.fromkeys(paths))


def profile_app(env: dict, requests: int) -> str:
    """Return the profile report of the app serving PATH in process (see bench.profiling)."""
    done = subprocess.run(
        [
            *[
                sys.executable,
                "-m",
                "bench.profiling",
                APP,
                PATH,
                "--host",
                HOST,
                "--requests",
                str(requests),
            ],
            *[f"--phase={phase}" for phase in PROFILE_PHASES],
        ],
        cwd=harness.ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30, help="measured seconds per server (30)")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds before measuring (3)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (8)")
    parser.add_argument("--listings", type=int, default=2000, help="active listings to seed (2000)")
    parser.add_argument("--households", type=int, default=200, help="verified households to seed (200)")
    parser.add_argument(
        "--workers", type=int, default=harness.default_workers(), help="gunicorn workers (CPUs)"
    )
    parser.add_argument("--clients", type=int, default=1, help="load-generator processes (1)")
    parser.add_argument(
        "--keep-db", action="store_true", help="reuse a database seeded with as many listings, and keep it"
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="also profile N in-process requests"
    )
    args = parser.parse_args(argv)

    url = os.environ.get("BENCH_DATABASE_URL") or harness.DEFAULT_DATABASE_URL
    info = harness.checked_machine(url, workers=args.workers)
    if info is None:
        return 2
    env = server_env(url)
    seed = prepare_database(
        url, env, households=args.households, listings=args.listings, keep_db=args.keep_db
    )

    def server(app: str) -> harness.Server:
        return harness.Server(app, env=env, workers=args.workers, ready_path=PATH, host=HOST)

    try:
        with server(APP) as app, server(FLOOR) as floor:
            compared = compare(app, floor)
        print(f"Same JSON from both servers for {', '.join(compared)}.")

        results = {}
        for label, module in (("app", APP), ("floor", FLOOR)):
            with server(module) as running:
                results[label] = harness.run_load(
                    running,
                    PATH,
                    seconds=args.seconds,
                    warmup=args.warmup,
                    concurrency=args.concurrency,
                    clients=args.clients,
                    database_url=url,
                )
            print(f"{module}: {results[label].rate:,.1f} requests/s, {results[label].errors} errors")

        profile = profile_app(env, args.profile) if args.profile else ""
    finally:
        if not args.keep_db:
            from django.db import connections

            connections.close_all()
            harness.drop_database(url)

    app_result, floor_result = results["app"], results["floor"]
    ratio = app_result.rate / floor_result.rate if floor_result.rate else float("nan")
    title = (
        f"`GET {PATH}` ({seed.get('listings_active', args.listings):,} active listings), "
        f"{args.concurrency} requests in flight for {args.seconds:g} s after {args.warmup:g} s warm-up"
    )
    table = harness.markdown_table(
        harness.LOAD_HEADER,
        [
            harness.load_row("catalogue app (Django + DRF)", app_result),
            harness.load_row("raw SQL floor (psycopg, one statement)", floor_result),
            harness.ratio_row("ratio app / floor", app_result, floor_result),
        ],
    )
    print()
    print(f"Machine: {harness.machine_line(info)}.")
    print(f"Load: {title}; {args.concurrency} client threads in {args.clients} process(es).")
    print()
    print(table)
    print()
    print(f"The app serves {ratio:.2f}× the floor's rate (the floor is {1 / ratio:.1f}× faster).")
    if profile:
        print()
        print(profile)

    target = harness.write_results(
        "catalogue",
        {
            "benchmark": "catalogue",
            "path": PATH,
            "host": HOST,
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": info,
            "options": vars(args),
            "gunicorn_options": harness.server_options(args.workers),
            "seed": seed,
            "app": app_result.as_dict(),
            "floor": floor_result.as_dict(),
            "ratio_app_over_floor": round(ratio, 3),
            "profile": profile,
            "table": table,
        },
    )
    print(f"\nResults: {os.path.relpath(target, harness.ROOT)}")
    failed = app_result.errors or floor_result.errors
    for label, result in results.items():
        for sample in result.error_samples:
            print(f"{label} error: {sample}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
