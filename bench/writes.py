"""What the write benchmarks (checkout, webhook) share: a private Redis and a POST load generator.

    with PrivateRedis() as redis:
        env = write_env(database_url, redis)
        with harness.Server("marketplace.wsgi", env=env, ...) as server:
            batch = post_all(server, requests, concurrency=8)
    print(batch.rate, batch.p50_ms, batch.p99_ms)

`PrivateRedis` runs a `redis-server` of its own on a free port, without persistence, for the
broker and the cache of the server under test: nothing shared is touched, nothing flushed, and
what the run enqueues is thrown away with it. `post_all` sends prepared POSTs from client
threads of this process, each thread one request at a time on a fresh connection (gunicorn's
sync workers close after each answer), and times each answer.
"""

import contextlib
import http.client
import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from bench import harness
from bench.catalogue import server_env


class PrivateRedis:
    """A `redis-server` on a free port of 127.0.0.1 (no RDB, no AOF), stopped on leaving the `with`."""

    def __init__(self):
        self.port = harness.free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://{harness.BIND_HOST}:{self.port}/{db}"

    def command(self, *words: str) -> bytes:
        """Send one inline command; return the first line of the answer."""
        with socket.create_connection((harness.BIND_HOST, self.port), timeout=5) as sock:
            sock.sendall(" ".join(words).encode() + b"\r\n")
            return sock.makefile("rb").readline().strip()

    def queued(self, queue: str = "celery") -> int:
        """Return how many messages wait in a broker queue (a list in db 0; no worker consumes them)."""
        answer = self.command("LLEN", queue)
        return int(answer[1:]) if answer.startswith(b":") else -1

    def __enter__(self) -> "PrivateRedis":
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not installed: the write benchmarks need one of their own.")
        self.process = subprocess.Popen(
            [
                *[binary, "--port", str(self.port), "--bind", harness.BIND_HOST],
                *["--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                if self.command("PING") == b"+PONG":
                    return self
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError(f"redis-server not answering on port {self.port} after 10 s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def own_database_url(variable: str, name: str) -> str:
    """`variable` from the environment, else the server of BENCH_DATABASE_URL with database `name`."""
    url = os.environ.get(variable)
    if url:
        return url
    parts = urlsplit(os.environ.get("BENCH_DATABASE_URL") or harness.DEFAULT_DATABASE_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def write_env(database_url: str, redis: PrivateRedis) -> dict:
    """The catalogue benchmark's server settings, with the broker and the cache on `redis`.

    As in production, tasks go to a Redis broker (no worker runs: messages wait in the list)
    and the rate-limit counters live in a Redis cache.
    """
    env = server_env(database_url)
    # ERROR keeps the app's own warnings quiet; Django's `django.request` logger still writes a line
    # per 409 (its level is Django's, not the root's), a cost production pays too. A 500 shows.
    env.update({"CELERY_BROKER_URL": redis.url(0), "CACHE_URL": redis.url(1), "LOG_LEVEL": "ERROR"})
    return env


# --- POST load -------------------------------------------------------------------------


@dataclass
class Answer:
    status: int | None
    ms: float
    body: bytes


@dataclass
class Batch:
    """What `post_all` saw: every answer in the order of `requests`, and the wall time."""

    answers: list[Answer]
    seconds: float
    server_cpu_ms: float | None = None
    database_cpu_ms: float | None = None
    statuses: dict = field(default_factory=dict)

    def __post_init__(self):
        counts: dict = {}
        for answer in self.answers:
            counts[answer.status] = counts.get(answer.status, 0) + 1
        self.statuses = dict(sorted(counts.items(), key=lambda item: (item[0] is None, item[0] or 0)))

    @property
    def rate(self) -> float:
        return len(self.answers) / self.seconds if self.seconds else float("nan")

    def latency(self, fraction: float, status: int | None = None) -> float:
        values = sorted(a.ms for a in self.answers if status is None or a.status == status)
        return harness.percentile(values, fraction)

    @property
    def p50_ms(self) -> float:
        return self.latency(0.50)

    @property
    def p95_ms(self) -> float:
        return self.latency(0.95)

    @property
    def p99_ms(self) -> float:
        return self.latency(0.99)

    def summary(self) -> dict:
        return {
            "requests": len(self.answers),
            "seconds": round(self.seconds, 3),
            "rate": round(self.rate, 2),
            "p50_ms": round(self.p50_ms, 1),
            "p95_ms": round(self.p95_ms, 1),
            "p99_ms": round(self.p99_ms, 1),
            "max_ms": round(max((a.ms for a in self.answers), default=float("nan")), 1),
            "statuses": {str(key): value for key, value in self.statuses.items()},
            "server_cpu_ms": self.server_cpu_ms,
            "database_cpu_ms": self.database_cpu_ms,
        }


def _post(port: int, host: str, path: str, headers: dict, body: bytes, timeout: float) -> tuple:
    conn = http.client.HTTPConnection(harness.BIND_HOST, port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={"Host": host, **headers})
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        return None, repr(exc).encode()
    finally:
        conn.close()


def post_all(
    server: harness.Server,
    requests: list[tuple[str, dict, bytes]],
    *,
    concurrency: int,
    together: bool = False,
    database_url: str | None = None,
    timeout: float = 120,
) -> Batch:
    """Send every (path, headers, body) POST from `concurrency` threads; time each answer.

    Each thread takes the next request as soon as its last one is answered. With `together`,
    the threads wait at a barrier and start at the same moment (one request each when there
    are as many threads as requests: a crowd). CPU of the gunicorn workers and of the
    PostgreSQL backends of `database_url` is counted per request over the batch.
    """
    answers: list[Answer | None] = [None] * len(requests)
    next_index = iter(range(len(requests)))
    lock = threading.Lock()
    threads_count = max(1, min(concurrency, len(requests)))
    barrier = threading.Barrier(threads_count + 1) if together else None

    def loop():
        if barrier:
            barrier.wait(timeout=timeout)
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            path, headers, body = requests[index]
            began = time.perf_counter()
            status, raw = _post(server.port, server.host, path, headers, body, timeout)
            answers[index] = Answer(status, (time.perf_counter() - began) * 1000, raw)

    workers = server.worker_pids()
    backends = harness.backend_pids(database_url) if database_url else []
    threads = [threading.Thread(target=loop, daemon=True) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    server_before, database_before = harness.cpu_seconds(workers), harness.cpu_seconds(backends)
    if barrier:
        barrier.wait(timeout=timeout)
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    server_cpu = harness.cpu_seconds(workers) - server_before
    database_cpu = harness.cpu_seconds(backends) - database_before
    done = [answer for answer in answers if answer is not None]
    if len(done) != len(requests):
        raise RuntimeError(f"{len(requests) - len(done)} requests were never answered")
    return Batch(
        answers=done,
        seconds=seconds,
        server_cpu_ms=round(server_cpu * 1000 / len(done), 2) if done else None,
        database_cpu_ms=round(database_cpu * 1000 / len(done), 2) if done and backends else None,
    )


def errors(batch: Batch, expected: set[int]) -> list[str]:
    """Return a few samples of answers whose status is not in `expected`."""
    return [
        f"{answer.status}: {answer.body[:300]!r}" for answer in batch.answers if answer.status not in expected
    ][:5]
