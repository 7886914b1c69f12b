"""What every benchmark needs: PostgreSQL, gunicorn servers, a load generator, the report.

    with Server("marketplace.wsgi", env=env, workers=2, ready_path=path, host="bench.local") as server:
        result = run_load(server, path, seconds=30, concurrency=8, database_url=url)
    print(markdown_table(LOAD_HEADER, [load_row("app", result)]))

`Server` starts gunicorn with the options of `server_options()`, the same for every app (sync
workers, one per CPU, no access log); `run_load` drives it from client threads and returns a
`LoadResult`: rate, percentiles, errors and the CPU its workers and their PostgreSQL backends
spent per request. `machine()` describes what it ran on; `write_results()` keeps the JSON.
"""

import contextlib
import http.client
import json
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cho_noi_bench"
BIND_HOST = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- PostgreSQL ------------------------------------------------------------------------


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def maintenance_url(url: str) -> str:
    """Return the URL of the server's `postgres` database, to create and drop others from."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))


def database_exists(url: str) -> bool:
    with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database_name(url)]).fetchone()
    return row is not None


def recreate_database(url: str) -> None:
    """Drop the database named in `url` (closing its sessions) and create it empty."""
    name = sql.Identifier(database_name(url))
    with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def drop_database(url: str) -> None:
    name = sql.Identifier(database_name(url))
    with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def migrate(env: dict) -> float:
    """Run the app's migrations on the database `env` names; return the seconds they took."""
    began = time.monotonic()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    return time.monotonic() - began


def postgres_version(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


def backend_pids(url: str) -> list[int]:
    """Return the server processes of the other sessions connected to the database in `url`."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


# --- The machine -----------------------------------------------------------------------


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _ram_gib() -> float:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def machine(database_url: str, *, workers: int) -> dict:
    """Describe what the figures were measured on."""
    return {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "ram_gib": round(_ram_gib(), 1),
        "os": f"{platform.system()} {platform.release()}",
        "postgresql": postgres_version(database_url),
        "python": platform.python_version(),
        "django": _version("django"),
        "djangorestframework": _version("djangorestframework"),
        "psycopg": _version("psycopg"),
        "gunicorn": _version("gunicorn"),
        "gunicorn_workers": workers,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def checked_machine(url: str, *, workers: int) -> dict | None:
    """Return `machine()` for the server of `url`, warning when the machine is busy; None without it."""
    try:
        info = machine(maintenance_url(url), workers=workers)
    except psycopg.OperationalError as exc:
        print(f"No PostgreSQL at {maintenance_url(url)} ({exc}). Set BENCH_DATABASE_URL.", file=sys.stderr)
        return None
    if info["load_average_1min"] > 0.5 * (info["cpus"] or 1):
        print(
            f"Warning: the machine is busy (load average {info['load_average_1min']:g}): figures will be low."
        )
    return info


def machine_line(info: dict) -> str:
    return (
        f"{info['cpu']}, {info['cpus']} CPUs, {info['ram_gib']:g} GiB RAM, {info['os']}; "
        f"PostgreSQL {info['postgresql']} on the same machine; Python {info['python']}, "
        f"Django {info['django']}, DRF {info['djangorestframework']}, psycopg {info['psycopg']}; "
        f"gunicorn {info['gunicorn']} with {info['gunicorn_workers']} sync workers; "
        f"load average {info['load_average_1min']:g} before the run"
    )


# --- CPU accounting ------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """Return the user + system CPU seconds process `pid` has used (0 once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pids) -> float:
    return sum(_cpu_seconds(pid) for pid in pids)


# --- Servers ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((BIND_HOST, 0))
        return sock.getsockname()[1]


def default_workers() -> int:
    return os.cpu_count() or 1


def server_options(workers: int) -> list[str]:
    """Return the gunicorn options every benchmarked server runs with (the bind is added)."""
    return [
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
        "--error-logfile",
        "-",
        "--timeout",
        "60",
        # No --access-logfile: gunicorn writes no access log without it.
    ]


class Server:
    """A gunicorn serving `app` on a free port of 127.0.0.1, stopped on leaving the `with`."""

    def __init__(self, app: str, *, env: dict, workers: int, ready_path: str, host: str):
        self.app, self.env, self.workers = app, env, workers
        self.ready_path, self.host = ready_path, host
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def command(self) -> list[str]:
        bind = ["--bind", f"{BIND_HOST}:{self.port}"]
        return [sys.executable, "-m", "gunicorn", *server_options(self.workers), *bind, self.app]

    def __enter__(self) -> "Server":
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.app}: gunicorn exited with {self.process.returncode}")
            with contextlib.suppress(OSError):
                status, _headers, _body = fetch(self.port, self.ready_path, host=self.host)
                if status == 200 and len(self.worker_pids()) == self.workers:
                    return self
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"{self.app}: not answering {self.ready_path} after 60 s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def worker_pids(self) -> list[int]:
        return _children(self.process.pid) if self.process else []


def fetch(
    port: int, path: str, *, host: str, timeout: float = 30, headers: dict | None = None
) -> tuple[int, dict, bytes]:
    """GET `path` from 127.0.0.1:`port` with `Host: host` (and `headers`); return status, headers, body."""
    conn = http.client.HTTPConnection(BIND_HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": host, "Accept": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


# --- Comparing answers ---------------------------------------------------------------


def first_difference(left, right, path: str = "$") -> tuple[str, object, object] | None:
    """Return (path, left value, right value) of the first difference of two JSON values."""
    if isinstance(left, dict) and isinstance(right, dict):
        for key in list(left) + [key for key in right if key not in left]:
            if key not in left or key not in right:
                return f"{path}.{key}", left.get(key, "<missing>"), right.get(key, "<missing>")
            found = first_difference(left[key], right[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list):
        for index, (a, b) in enumerate(zip(left, right, strict=False)):
            found = first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        if len(left) != len(right):
            return f"{path}.length", len(left), len(right)
        return None
    if type(left) is not type(right) or left != right:
        return path, left, right
    return None


# --- Load -------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What one load run measured (latencies in milliseconds, CPU in ms per request)."""

    requests: int
    errors: int
    seconds: float
    rate: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    response_bytes: int
    error_samples: list[str] = field(default_factory=list)
    server_cpu_ms: float | None = None
    database_cpu_ms: float | None = None
    client_cpu_ms: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(fraction * len(sorted_values))))
    return sorted_values[rank - 1]


def _client(port: int, path: str, host: str, threads: int, start: float, stop: float) -> dict:
    """Load-generator process: `threads` threads, each one request at a time, until `stop`."""
    headers = {"Host": host, "Accept": "application/json"}
    latencies: list[float] = []
    errors: list[str] = []
    sizes: list[int] = []
    lock = threading.Lock()

    def loop():
        conn = http.client.HTTPConnection(BIND_HOST, port, timeout=30)
        mine, bad, size = [], [], 0
        while True:
            began = time.monotonic()
            if began >= stop:
                break
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                status = response.status
                if response.will_close:
                    conn.close()  # gunicorn's sync workers close after each answer
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                status, body = None, repr(exc).encode()
            ended = time.monotonic()
            if began < start or ended > stop:
                continue  # warm-up, or finished after the window
            if status == 200:
                mine.append(ended - began)
                size = len(body)
            else:
                bad.append(f"{status}: {body[:200]!r}")
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(bad)
            sizes.append(size)

    cpu_before = time.process_time()
    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {
        "latencies": latencies,
        "errors": errors,
        "size": max(sizes or [0]),
        "cpu": time.process_time() - cpu_before,
    }


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def run_load(
    server: Server,
    path: str,
    *,
    seconds: float,
    concurrency: int,
    warmup: float = 3.0,
    clients: int = 1,
    database_url: str | None = None,
) -> LoadResult:
    """Drive `server` with `concurrency` requests in flight for `seconds` after a warm-up.

    The requests come from `concurrency` threads, each sending one request at a time on its
    own connection, spread over `clients` processes (one is enough below a few thousand
    requests a second: see docs/performance.md). Only requests that start and end inside the
    window count. Any answer
    but 200 is an error. CPU spent in the window is counted for the gunicorn workers, the
    PostgreSQL backends connected to `database_url` and the client processes.
    """
    clients = max(1, min(clients, concurrency))
    start = time.monotonic() + 1.0 + warmup  # the clients are up within a second
    stop = start + seconds
    jobs = [
        (server.port, path, server.host, threads, start, stop) for threads in _split(concurrency, clients)
    ]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.harness", json.dumps(job)], cwd=ROOT, stdout=subprocess.PIPE
        )
        for job in jobs
    ]
    try:
        time.sleep(max(0.0, start - time.monotonic()))
        workers = server.worker_pids()
        backends = backend_pids(database_url) if database_url else []
        server_before, database_before = cpu_seconds(workers), cpu_seconds(backends)
        time.sleep(max(0.0, stop - time.monotonic()))
        server_cpu = cpu_seconds(workers) - server_before
        database_cpu = cpu_seconds(backends) - database_before
        outputs = [process.communicate(timeout=120)[0] for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    if any(process.returncode for process in processes):
        raise RuntimeError("a load-generator process failed")
    parts = [json.loads(output) for output in outputs]

    latencies = sorted(value * 1000 for part in parts for value in part["latencies"])
    errors = [error for part in parts for error in part["errors"]]
    done = len(latencies)

    def per_request(cpu: float) -> float | None:
        return round(cpu * 1000 / done, 3) if done else None

    return LoadResult(
        requests=done,
        errors=len(errors),
        seconds=seconds,
        rate=round(done / seconds, 1),
        p50_ms=round(percentile(latencies, 0.50), 2),
        p90_ms=round(percentile(latencies, 0.90), 2),
        p99_ms=round(percentile(latencies, 0.99), 2),
        max_ms=round(latencies[-1], 2) if latencies else float("nan"),
        response_bytes=max(part["size"] for part in parts),
        error_samples=errors[:5],
        server_cpu_ms=per_request(server_cpu),
        database_cpu_ms=per_request(database_cpu) if backends else None,
        client_cpu_ms=per_request(sum(part["cpu"] for part in parts)),
    )


# --- Report ------------------------------------------------------------------------------


def markdown_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join("" if cell is None else str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


LOAD_HEADER = [
    "server",
    "requests/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "server CPU ms/req",
    "PostgreSQL CPU ms/req",
    "bytes/answer",
]


def load_row(label: str, result: LoadResult) -> list[str]:
    return [
        label,
        _fmt(result.rate),
        _fmt(result.p50_ms),
        _fmt(result.p99_ms),
        str(result.errors),
        _fmt(result.server_cpu_ms, 2),
        _fmt(result.database_cpu_ms, 2),
        f"{result.response_bytes:,}",
    ]


def ratio_row(label: str, top: LoadResult, bottom: LoadResult) -> list[str]:
    """Return the row `top / bottom` for each measure."""

    def ratio(a, b) -> str:
        return "–" if a is None or not b else f"{a / b:.2f}"

    return [
        label,
        f"**{ratio(top.rate, bottom.rate)}**",
        ratio(top.p50_ms, bottom.p50_ms),
        ratio(top.p99_ms, bottom.p99_ms),
        "",
        ratio(top.server_cpu_ms, bottom.server_cpu_ms),
        ratio(top.database_cpu_ms, bottom.database_cpu_ms),
        ratio(top.response_bytes, bottom.response_bytes),
    ]


def write_results(name: str, data: dict) -> Path:
    """Write `data` to <VAR_DIR>/bench/<name>.json (VAR_DIR defaults to ./var)."""
    folder = Path(os.environ.get("VAR_DIR") or ROOT / "var") / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.json"
    target.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    return target


if __name__ == "__main__":  # a load-generator process of run_load()
    print(json.dumps(_client(*json.loads(sys.argv[1]))))
