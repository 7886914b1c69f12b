"""Load test: the whole site under a mixed load, stepped up until it no longer keeps up.

    python -m bench.load [--rates 10,20,30] [--step-seconds 40] [--user-rate 0.5] [--keep-db]

Creates its own PostgreSQL database (LOAD_DATABASE_URL, by default
postgres://postgres@127.0.0.1:5432/cho_noi_load), migrates it and seeds it (`bench.load.seed`:
the benchmark catalogue, a year of order history with its rollups, buyers, households and officials
with tokens), then starts, all on 127.0.0.1:
- its own redis-server on a free port (no persistence), the broker and the cache; the shared
  Redis on 6379 is never touched;
- gunicorn with the benchmarks' options (`bench.harness.Server`: sync workers, one per CPU,
  DEBUG off, persistent connections), pointed at that Redis;
- a real Celery worker (`celery -A marketplace worker --concurrency=1`) on the same broker; it
  also relays the task outbox when the app has one.
Then it runs locust headless (`bench/load/locustfile.py`), one process per step, each step a
target rate in requests a second held for --step-seconds after a short ramp (statistics are reset
once every user is running). A step passes with zero failed requests and a p95 under 500 ms; the
run stops at the first step that does not pass (unless --keep-going) or when --max-minutes is
spent. Afterwards it waits for the worker to drain the queue and checks that every order placed
during the load got its notices and its rows in the sales rollups, and that the worker logged no
error. Prints a Markdown table with the machine it ran on and writes var/bench/load.json (locust's
CSV files and the worker's log are beside it in var/bench/load/).
"""

import argparse
import contextlib
import csv
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench import harness
from bench.catalogue import HOST, server_env

APP = "marketplace.wsgi"
READY_PATH = "/healthz"  # answers 200 only when the database and the broker answer
DATABASE_NAME = "cho_noi_load"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
P95_LIMIT_MS = 500
MIN_USERS = 20  # the user classes' weights add up to 20: fewer users would leave some class out
DEFAULT_RATES = "10,20,25,30,35,40,50,60,70,80"
HEADER = [
    "step",
    "target req/s",
    "users",
    "achieved req/s",
    "requests",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "failures",
    "CPU ms/req",
    "machine CPU busy",
    "passes",
]


def database_url() -> str:
    return os.environ.get("LOAD_DATABASE_URL") or f"postgres://postgres@127.0.0.1:5432/{DATABASE_NAME}"


def output_folder() -> Path:
    return Path(os.environ.get("VAR_DIR") or harness.ROOT / "var") / "bench" / "load"


# --- Processes -------------------------------------------------------------------------------


class Redis:
    """A private redis-server on a free port of 127.0.0.1, without persistence."""

    def __init__(self, folder: Path):
        self.port = harness.free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{harness.BIND_HOST}:{self.port}"

    def __enter__(self) -> "Redis":
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server not found: install Redis (apt-get install redis-server).")
        command = [binary, "--port", str(self.port), "--bind", harness.BIND_HOST]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.folder), "--loglevel", "warning"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        import redis

        client = redis.Redis(host=harness.BIND_HOST, port=self.port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    return self
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise SystemExit(f"redis-server did not start on port {self.port}")
            time.sleep(0.1)

    def client(self):
        import redis

        return redis.Redis(host=harness.BIND_HOST, port=self.port, socket_timeout=2)

    def __exit__(self, *exc) -> None:
        _stop(self.process)


class Worker:
    """A Celery worker of the app (`--concurrency`), its output in `log`."""

    def __init__(self, env: dict, log: Path, concurrency: int):
        self.env, self.log, self.concurrency = env, log, concurrency
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Worker":
        command = [sys.executable, "-m", "celery", "-A", "marketplace", "worker"]
        command += [f"--concurrency={self.concurrency}", "--loglevel=INFO", "-n", "load@%h"]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        self.output = self.log.open("w")
        self.process = subprocess.Popen(
            command, cwd=harness.ROOT, env=self.env, stdout=self.output, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while "ready." not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise SystemExit(f"The Celery worker did not start: see {self.log}")
            time.sleep(0.2)
        return self

    def pids(self) -> list[int]:
        if not self.process:
            return []
        return [self.process.pid, *harness._children(self.process.pid)]

    def __exit__(self, *exc) -> None:
        _stop(self.process, timeout=30)  # SIGTERM: a warm shutdown, the running task finishes
        self.output.close()


def _stop(process: subprocess.Popen | None, timeout: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _cpu_busy() -> tuple[int, int]:
    """Return (busy, total) jiffies of the whole machine from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


# --- Database --------------------------------------------------------------------------------


def prepare(url: str, env: dict, args, credentials: Path) -> dict:
    """Create, migrate and seed the database; write the credentials file. Return what was seeded."""
    harness.recreate_database(url)
    migrated = harness.migrate(env)
    os.environ.update(env)  # this process seeds through the app's models
    import django

    django.setup()
    from django.db import connections

    from bench.load.seed import seed_history, seed_people, write_credentials
    from bench.seed import seed_catalogue

    began = time.monotonic()
    size = seed_catalogue(households=args.households, listings=args.listings)
    history = seed_history(url, lines=args.history_lines)
    people = seed_people(
        buyers=args.buyers, households=args.households, officials=args.officials, pool=args.pool
    )
    write_credentials(credentials, people)
    connections.close_all()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    seeded = time.monotonic() - began
    print(
        f"Seeded in {seeded:.0f} s (migrations {migrated:.0f} s): {size.line()}; "
        f"{history['order_lines']:,} order lines of history; {len(people['buyers']):,} buyers, "
        f"{len(people['households'])} households and {len(people['officials'])} officials with tokens; "
        f"{len(people['checkout_pool'])} listings in the checkout pool."
    )
    return {
        "migrate_seconds": round(migrated, 1),
        "seed_seconds": round(seeded, 1),
        **size.as_dict(),
        "history_order_lines": history["order_lines"],
        "buyers": len(people["buyers"]),
        "households_with_tokens": len(people["households"]),
        "officials": len(people["officials"]),
        "checkout_pool": len(people["checkout_pool"]),
    }


def _scalar(url: str, query: str, params=()) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, params).fetchone()[0]


def _table_exists(url: str, table: str) -> bool:
    return bool(_scalar(url, "SELECT count(*) FROM pg_tables WHERE tablename = %s", [table]))


def carts_used(url: str) -> int:
    return _scalar(url, "SELECT count(*) FROM orders_cart")


# --- Steps -----------------------------------------------------------------------------------


def _float(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def read_stats(prefix: Path) -> dict:
    """Read locust's `<prefix>_stats.csv` and `_failures.csv`: the aggregate and each endpoint."""
    with Path(f"{prefix}_stats.csv").open() as stats_csv:
        rows = list(csv.DictReader(stats_csv))
    endpoints, total = [], None
    for row in rows:
        entry = {
            "method": row["Type"],
            "name": row["Name"],
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "rate": _float(row["Requests/s"]),
            "p50_ms": _float(row["50%"]),
            "p95_ms": _float(row["95%"]),
            "p99_ms": _float(row["99%"]),
            "max_ms": _float(row["Max Response Time"]),
            "mean_ms": _float(row["Average Response Time"]),
        }
        if row["Name"] == "Aggregated":
            total = entry
        else:
            endpoints.append(entry)
    failures = []
    failures_csv = Path(f"{prefix}_failures.csv")
    if failures_csv.exists():
        with failures_csv.open() as rows_csv:
            for row in csv.DictReader(rows_csv):
                failures.append(f"{row['Occurrences']}× {row['Method']} {row['Name']}: {row['Error'][:300]}")
    return {"total": total, "endpoints": endpoints, "failure_samples": failures[:10]}


def run_step(
    server: harness.Server,
    worker: "Worker",
    *,
    index: int,
    rate: float,
    args,
    env: dict,
    folder: Path,
    url: str,
    seconds: float | None = None,
) -> dict:
    seconds = seconds or args.step_seconds
    users = max(MIN_USERS, math.ceil(rate / args.user_rate))
    user_rate = rate / users
    prefix = folder / f"step{index:02d}-{rate:g}"
    step_env = {
        **env,
        "LOAD_CREDENTIALS": str(folder / "credentials.json"),
        "LOAD_USER_RATE": f"{user_rate:.6f}",
        # Each checkout takes the next buyer: start past every buyer who already has a cart.
        "LOAD_BUYER_OFFSET": str(carts_used(url)),
    }
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    command += ["--host", f"http://{harness.BIND_HOST}:{server.port}"]
    command += ["-u", str(users), "-r", f"{users / args.ramp_seconds:.2f}"]
    command += ["-t", f"{args.ramp_seconds + seconds:g}s", "--reset-stats"]
    command += ["--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    marker = folder / f"step{index:02d}.running"
    step_env["LOAD_MARKER"] = str(marker)
    began = time.monotonic()
    with (folder / f"step{index:02d}-{rate:g}.log").open("w") as log:
        locust = subprocess.Popen(
            command, cwd=harness.ROOT, env=step_env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            # Count CPU from the moment every user runs (locust resets its statistics then) to the end.
            while not marker.exists() and locust.poll() is None:
                time.sleep(0.05)
            groups = {
                "gunicorn": server.worker_pids(),
                "postgresql": harness.backend_pids(url),
                "celery": worker.pids(),
                "locust": [locust.pid],
            }
            cpu_before = {name: harness.cpu_seconds(pids) for name, pids in groups.items()}
            busy_before, total_before = _cpu_busy()
            cpu_after, busy_after, total_after = dict(cpu_before), busy_before, total_before
            # The ended processes' CPU is gone with them: read it just before locust exits.
            deadline = time.monotonic() + seconds + 15
            while locust.poll() is None and time.monotonic() < deadline:
                cpu_after = {name: harness.cpu_seconds(pids) for name, pids in groups.items()}
                busy_after, total_after = _cpu_busy()
                time.sleep(0.2)
            locust.wait(timeout=30)
        finally:
            if locust.poll() is None:
                locust.kill()
    elapsed = time.monotonic() - began
    marker.unlink(missing_ok=True)
    if locust.returncode:
        raise SystemExit(f"locust failed (exit {locust.returncode}): see {prefix}.log")
    stats = read_stats(prefix)
    total = stats["total"]
    # Locust's Requests/s: the requests answered from the reset to the last answer. Users stop at once
    # when the time is up (no --stop-timeout): what was in flight then is neither counted nor a failure.
    achieved = (total["rate"] or 0.0) if total else 0.0
    requests = max(1, total["requests"] if total else 0)
    cpu_ms = {name: round((cpu_after[name] - cpu_before[name]) * 1000 / requests, 1) for name in groups}
    passes = bool(total and total["requests"] and not total["failures"] and total["p95_ms"] < P95_LIMIT_MS)
    return {
        "step": index,
        "target_rate": rate,
        "users": users,
        "user_rate": round(user_rate, 4),
        "achieved_rate": round(achieved, 1),
        "requests": total["requests"] if total else 0,
        "failures": total["failures"] if total else 0,
        "p50_ms": total["p50_ms"] if total else None,
        "p95_ms": total["p95_ms"] if total else None,
        "p99_ms": total["p99_ms"] if total else None,
        "max_ms": total["max_ms"] if total else None,
        "cpu_busy": round((busy_after - busy_before) / max(1, total_after - total_before), 3),
        # CPU milliseconds per request of each part, counted over the measured window.
        "cpu_ms_per_request": cpu_ms,
        "cpu_ms_total": round(sum(cpu_ms.values()), 1),
        "seconds": round(elapsed, 1),
        "passes": passes,
        "endpoints": stats["endpoints"],
        "failure_samples": stats["failure_samples"],
    }


def _ms(value) -> str:
    return "–" if value is None else f"{value:,.0f}"


def step_row(step: dict) -> list:
    return [
        step["step"],
        f"{step['target_rate']:g}",
        step["users"],
        f"{step['achieved_rate']:.1f}",
        f"{step['requests']:,}",
        _ms(step["p50_ms"]),
        _ms(step["p95_ms"]),
        _ms(step["p99_ms"]),
        _ms(step["max_ms"]),
        step["failures"],
        f"{step['cpu_ms_total']:.0f}",
        f"{step['cpu_busy']:.0%}",
        "yes" if step["passes"] else "**no**",
    ]


def endpoint_table(step: dict) -> str:
    rows = [
        [e["name"], f"{e['requests']:,}", _ms(e["p50_ms"]), _ms(e["p95_ms"]), _ms(e["p99_ms"]), e["failures"]]
        for e in sorted(step["endpoints"], key=lambda e: -e["requests"])
    ]
    return harness.markdown_table(["request", "count", "p50 ms", "p95 ms", "p99 ms", "failures"], rows)


# --- After the load --------------------------------------------------------------------------


def drain(redis: Redis, url: str, *, timeout: float) -> dict:
    """Wait until the broker's queue is empty and the outbox (if any) has nothing pending or running."""
    client = redis.client()
    outbox = _table_exists(url, "outbox_outboxmessage")
    began = time.monotonic()
    while True:
        queued = client.llen("celery")
        unacked = client.hlen("unacked")
        pending = (
            _scalar(url, "SELECT count(*) FROM outbox_outboxmessage WHERE sent_at IS NULL OR done_at IS NULL")
            if outbox
            else 0
        )
        if (not queued and not unacked and not pending) or time.monotonic() - began > timeout:
            return {
                "queued": queued,
                "unacked": unacked,
                "outbox_unfinished": pending if outbox else None,
                "seconds": round(time.monotonic() - began, 1),
            }
        time.sleep(1)


def check_worker(url: str, log: Path, since) -> dict:
    """Check the worker's effects on the orders placed during the load, and its log."""
    placed = "FROM orders_order o WHERE o.created_at >= %s AND o.number LIKE 'CN-%%'"
    orders = _scalar(url, f"SELECT count(*) {placed}", [since])
    notified = _scalar(
        url,
        f"SELECT count(*) {placed} AND EXISTS (SELECT 1 FROM orders_ordernotice n WHERE n.order_id = o.id)",
        [since],
    )
    rolled_up = _scalar(
        url,
        f"SELECT count(*) {placed} AND EXISTS "
        "(SELECT 1 FROM reports_orderlinefact f WHERE f.order_id = o.id)",
        [since],
    )
    text = log.read_text(errors="replace")
    errors = [line for line in text.splitlines() if " ERROR/" in line or "CRITICAL/" in line]
    tracebacks = text.count("Traceback (most recent call last)")
    succeeded = text.count(" succeeded in ")
    outbox = None
    if _table_exists(url, "outbox_outboxmessage"):
        outbox = _scalar(url, "SELECT count(*) FROM outbox_outboxmessage WHERE created_at >= %s", [since])
    ok = orders > 0 and notified == orders and rolled_up == orders and not errors and not tracebacks
    return {
        "orders_placed": orders,
        "orders_notified": notified,
        "orders_in_rollups": rolled_up,
        "tasks_succeeded": succeeded,
        "outbox_messages": outbox,
        "log_errors": len(errors),
        "log_tracebacks": tracebacks,
        "error_samples": errors[:5],
        "ok": ok,
    }


# --- Main ------------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rates", default=DEFAULT_RATES, help=f"target requests/s of the steps, in order ({DEFAULT_RATES})"
    )
    parser.add_argument("--step-seconds", type=float, default=30, help="measured seconds per step (30)")
    parser.add_argument("--ramp-seconds", type=float, default=4, help="unmeasured start of a step (4)")
    parser.add_argument(
        "--user-rate", type=float, default=0.5, help="requests/s per simulated user (0.5: a click every 2 s)"
    )
    parser.add_argument(
        "--warmup-seconds", type=float, default=10, help="unmeasured warm-up at 10 req/s first (10)"
    )
    parser.add_argument("--keep-going", action="store_true", help="run every step, even after one fails")
    parser.add_argument(
        "--max-minutes", type=float, default=8, help="start no step after this many minutes (8)"
    )
    parser.add_argument("--listings", type=int, default=2000, help="active listings to seed (2000)")
    parser.add_argument("--households", type=int, default=200, help="verified households to seed (200)")
    parser.add_argument("--history-lines", type=int, default=20_000, help="order lines of history (20000)")
    parser.add_argument("--buyers", type=int, default=5000, help="buyers, one per checkout (5000)")
    parser.add_argument("--officials", type=int, default=5, help="city-wide officials (5)")
    parser.add_argument("--pool", type=int, default=200, help="listings checkouts buy from (200)")
    parser.add_argument(
        "--workers", type=int, default=harness.default_workers(), help="gunicorn workers (CPUs)"
    )
    parser.add_argument("--worker-concurrency", type=int, default=1, help="Celery worker processes (1)")
    parser.add_argument("--drain-seconds", type=float, default=120, help="wait for the worker at most (120)")
    parser.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    rates = [float(value) for value in args.rates.split(",") if value.strip()]
    url = database_url()
    info = harness.checked_machine(url, workers=args.workers)
    if info is None:
        return 2
    info.update(locust=harness._version("locust"), celery=harness._version("celery"))
    started = time.monotonic()
    folder = output_folder()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    steps: list[dict] = []
    redis_folder = tempfile.TemporaryDirectory(prefix="cho-noi-load-redis-")
    with redis_folder as redis_dir, Redis(Path(redis_dir)) as redis:
        env = server_env(url)
        env.update(
            {
                "CELERY_BROKER_URL": f"{redis.url}/0",
                "CACHE_URL": f"{redis.url}/1",
                "LOG_LEVEL": "WARNING",
            }
        )
        try:
            seed = prepare(url, env, args, folder / "credentials.json")
            since = _scalar(url, "SELECT now()")
            with (
                Worker(env, folder / "worker.log", args.worker_concurrency) as worker,
                harness.Server(
                    APP, env=env, workers=args.workers, ready_path=READY_PATH, host=HOST
                ) as server,
            ):
                print(f"gunicorn on port {server.port}, Celery worker and Redis on port {redis.port}.")
                warmup = None
                if args.warmup_seconds > 0:  # a fresh server: connections, templates, caches, plans
                    warmup = run_step(
                        server,
                        worker,
                        index=0,
                        rate=min(rates[0], 10),
                        args=args,
                        env=env,
                        folder=folder,
                        url=url,
                        seconds=args.warmup_seconds,
                    )
                    print(
                        f"warm-up: {warmup['achieved_rate']:.1f} req/s for {args.warmup_seconds:g} s, "
                        f"{warmup['failures']} failures (not counted)"
                    )
                for index, rate in enumerate(rates, 1):
                    if time.monotonic() - started > args.max_minutes * 60:
                        print(f"Stopping before {rate:g} req/s: --max-minutes {args.max_minutes:g} spent.")
                        break
                    step = run_step(
                        server, worker, index=index, rate=rate, args=args, env=env, folder=folder, url=url
                    )
                    steps.append(step)
                    print(
                        f"step {index}: target {rate:g} req/s, {step['users']} users: "
                        f"{step['achieved_rate']:.1f} req/s, p95 {_ms(step['p95_ms'])} ms, "
                        f"{step['failures']} failures, "
                        f"CPU {step['cpu_busy']:.0%} busy{'' if step['passes'] else ' — does not pass'}"
                    )
                    for sample in step["failure_samples"][:3]:
                        print(f"  {sample}")
                    if not step["passes"] and not args.keep_going:
                        break
                drained = drain(redis, url, timeout=args.drain_seconds)
                worker_cpu = harness.cpu_seconds(worker.pids())
            worker_check = check_worker(url, folder / "worker.log", since)
        finally:
            if not args.keep_db:
                with contextlib.suppress(Exception):
                    from django.db import connections

                    connections.close_all()
                harness.drop_database(url)

    passed = [step for step in steps if step["passes"]]
    ceiling = None
    best = max(passed, key=lambda step: step["target_rate"]) if passed else None
    table = harness.markdown_table(HEADER, [step_row(step) for step in steps])
    title = (
        f"a {args.warmup_seconds:g} s warm-up, then {args.step_seconds:g} s measured per step after a "
        f"{args.ramp_seconds:g} s ramp; "
        f"each simulated user sends about {args.user_rate:g} requests/s; "
        f"gunicorn {args.workers} sync workers, Celery worker "
        f"--concurrency={args.worker_concurrency}, Redis and PostgreSQL on the same machine, locust in one "
        f"process on it too (locust {info['locust']}, Celery {info['celery']})"
    )
    print()
    print(f"Machine: {harness.machine_line(info)}.")
    print(f"Load: {title}.")
    print()
    print(table)
    print()
    if best:
        print(
            f"Sustained: {best['target_rate']:g} requests/s (achieved {best['achieved_rate']:.1f}) with zero "
            f"failures and p95 {_ms(best['p95_ms'])} ms < {P95_LIMIT_MS} ms."
        )
        cpu = best["cpu_ms_per_request"]
        ceiling = (info["cpus"] or 1) * 1000 / best["cpu_ms_total"] if best["cpu_ms_total"] else None
        print(
            "CPU per request at that step: "
            + ", ".join(f"{name} {value:g} ms" for name, value in cpu.items())
            + f" (total {best['cpu_ms_total']:g} ms); all {info['cpus']} CPUs would be busy at about "
            f"{ceiling or 0:.0f} requests/s with nothing else running (the machine was "
            f"{best['cpu_busy']:.0%} busy during the step, other work included)."
        )
        print()
        print(f"Requests of the sustained step ({best['target_rate']:g} req/s):")
        print()
        print(endpoint_table(best))
    else:
        print("No step passed (zero failures and p95 < 500 ms).")
    print()
    outbox_note = ""
    if drained["outbox_unfinished"] is not None:
        outbox_note = f", {drained['outbox_unfinished']} outbox rows unfinished"
    print(
        f"Worker: {worker_check['orders_placed']} orders placed during the load, "
        f"{worker_check['orders_notified']} with their notices, "
        f"{worker_check['orders_in_rollups']} in the sales rollups; "
        f"{worker_check['tasks_succeeded']} tasks succeeded, {worker_check['log_errors']} errors and "
        f"{worker_check['log_tracebacks']} tracebacks in its log; queue drained in {drained['seconds']:g} s "
        f"(left: {drained['queued']} queued, {drained['unacked']} unacknowledged" + outbox_note + ")."
    )
    for sample in worker_check["error_samples"]:
        print(f"  worker: {sample}")

    target = harness.write_results(
        "load",
        {
            "benchmark": "load",
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": info,
            "options": vars(args),
            "gunicorn_options": harness.server_options(args.workers),
            "criteria": {"failures": 0, "p95_ms_below": P95_LIMIT_MS},
            "seed": seed,
            "warmup": warmup,
            "steps": steps,
            "sustained_rate": best["target_rate"] if best else None,
            "sustained_step": best["step"] if best else None,
            "cpu_bound_rate_estimate": round(ceiling, 1) if best and ceiling else None,
            "worker": {**worker_check, "drain": drained, "cpu_seconds": round(worker_cpu, 1)},
            "table": table,
            "endpoint_table": endpoint_table(best) if best else None,
            "minutes": round((time.monotonic() - started) / 60, 1),
        },
    )
    print(
        f"\nResults: {os.path.relpath(target, harness.ROOT)} (locust CSV and logs in "
        f"{os.path.relpath(folder, harness.ROOT)}/); {(time.monotonic() - started) / 60:.1f} minutes."
    )
    return 0 if best and worker_check["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
