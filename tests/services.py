"""Real servers and brokers the tests start, stop and point Celery at."""

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis

from marketplace.celery import app as celery_app

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, seconds=20.0, every=0.1):
    """Poll `condition` until it is true or `seconds` pass; return its last value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def forget_broker_connections():
    """Drop Celery's cached connection and producer pools so the next publish uses the new broker.

    Celery keeps them from the first publish on; it drops them the same way after a fork. The
    pools themselves stay open in kombu's registry, shared with anything using the same broker.
    """
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


class OwnRedis:
    """A redis-server on a free port that only its test uses, started, stopped and restarted at will.

    It keeps nothing on disk: a restart comes back empty, like the shared server in CI.
    """

    def __init__(self, directory):
        self.port = free_port()
        self.directory = directory
        self.process = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self):
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                info = redis.Redis(port=self.port, socket_timeout=1).info("server")
                if info["process_id"] == self.process.pid:  # ours, not a server that took the port first
                    return
            except redis.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def keys(self, pattern="*") -> list:
        return redis.Redis(port=self.port, socket_timeout=1).keys(pattern)

    @classmethod
    def started(cls, directory, tries: int = 3) -> "OwnRedis":
        """Start one, trying another port when a different process takes the free one first."""
        for tries_left in reversed(range(tries)):
            server = cls(directory)
            try:
                server.start()
                return server
            except RuntimeError:
                if not tries_left:
                    raise
        raise AssertionError("unreachable")


def database_url(connection) -> str:
    """The test database, as a URL another process (a worker) can open."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class CeleryWorker:
    """`celery worker` in its own process group: a prefork pool of one child, on `broker_url`.

    `env` adds to (or overrides) the environment; `include` loads extra modules into it (the
    faults of tests/worker_faults.py). Its log is kept in `directory` for failure messages.
    """

    def __init__(self, *, connection, broker_url, directory, queue=None, include=None, env=None):
        root = Path(__file__).resolve().parent.parent
        environ = {
            **os.environ,
            "DATABASE_URL": database_url(connection),
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "VAR_DIR": str(Path(directory) / "var"),
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
            "PYTHONPATH": str(root),
            **(env or {}),
        }
        command = [sys.executable, "-m", "celery", "-A", "marketplace", "worker", "--pool=prefork",
                   "--concurrency=1", "--without-heartbeat", "--without-mingle", "--without-gossip",
                   "--loglevel=INFO"]
        if queue:
            command.append(f"--queues={queue}")
        if include:
            command.append(f"--include={include}")
        self.output = Path(directory) / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.process = subprocess.Popen(
            command,
            cwd=root,
            env=environ,
            stdout=self.output.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def ready(self, seconds=60) -> bool:
        return wait_for(lambda: " ready." in self.log() or self.process.poll() is not None, seconds) and (
            self.process.poll() is None
        )

    def children(self) -> list[int]:
        """The pool's processes (the worker's own children)."""
        pids = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            children = (task / "children").read_text().split()
            pids.extend(int(pid) for pid in children)
        return pids

    def kill_all(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill_all()

    def log(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")


class Gunicorn:
    """The site served by gunicorn (sync workers) on a free port, on the test database.

    DEBUG is off, so errors are answered as in production; connections are kept between
    requests (CONN_MAX_AGE), as a deployment keeps them.
    """

    def __init__(self, *, connection, directory, workers: int = 1, env=None, port=None):
        self.port = port or free_port()
        self.output = Path(directory) / f"gunicorn-{uuid.uuid4().hex[:6]}.log"
        root = Path(__file__).resolve().parent.parent
        environ = {
            **os.environ,
            "DATABASE_URL": database_url(connection),
            "DEBUG": "false",
            "CONN_MAX_AGE": "600",
            "VAR_DIR": str(Path(directory) / "var"),
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
            **(env or {}),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "marketplace.wsgi:application", "--workers", str(workers),
             "--bind", f"127.0.0.1:{self.port}", "--timeout", "60"],
            cwd=root,
            env=environ,
            stdout=self.output.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def request(self, method, path, body=None, headers=None, timeout=60):
        """(status, headers, body) of one request on a new connection."""
        client = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            client.request(method, path, body=body, headers=headers or {})
            response = client.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            client.close()

    def __enter__(self):
        def up():
            try:
                return self.request("GET", "/healthz", timeout=2)[0] in (200, 503)
            except OSError:
                return self.process.poll() is not None

        if not wait_for(up, seconds=30) or self.process.poll() is not None:
            self.__exit__(None, None, None)
            raise RuntimeError("gunicorn did not start:\n" + self.log())
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def log(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")
