"""Serve the site with a Celery worker and one beat scheduler beside it; Ctrl-C stops all."""
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


def commands(addr: str, python: str = sys.executable) -> dict[str, list[str]]:
    """The processes `make run` starts, run from the project folder (tests start the same worker).

    The worker is a prefork pool like a deployment's: its main process runs the outbox relay
    thread while it forks children, and no database connection crosses those forks
    (marketplace/outbox/worker.py), on SQLite as on PostgreSQL.
    """
    var = settings.VAR_DIR
    return {
        "web": [python, "manage.py", "runserver", addr, "--noreload"],
        "worker": [
            python, "-m", "celery", "-A", "marketplace", "worker",
            "--loglevel=INFO", "--concurrency=2", "--without-gossip", "--without-mingle",
            "--hostname", "worker@%h",
        ],
        "beat": [
            python, "-m", "celery", "-A", "marketplace", "beat", "--loglevel=INFO",
            "--schedule", str(var / "celerybeat-schedule"),
            "--pidfile", str(var / "celerybeat.pid"),
        ],
    }


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and the periodic scheduler together."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, **opts):
        var = settings.VAR_DIR
        # A beat pidfile left by a killed run would stop the scheduler from starting.
        (var / "celerybeat.pid").unlink(missing_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        procs = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands(opts["addr"]).items()}
        self.stdout.write(
            self.style.SUCCESS(f"\nChợ Nổi is running at http://{opts['addr']}/  (Ctrl-C stops all)\n")
        )
        stopping = []
        # Ctrl-C reaches every child too; remember it so their exits are not failures.
        signal.signal(signal.SIGINT, lambda *_: stopping.append(signal.SIGINT))
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(signal.SIGTERM))
        code = 0
        while not stopping:
            exited = [name for name, proc in procs.items() if proc.poll() is not None]
            if exited:
                time.sleep(1)  # a Ctrl-C may still be arriving
                if not stopping:
                    name = exited[0]
                    self.stderr.write(f"{name} exited with {procs[name].returncode}; stopping the rest.")
                    code = procs[name].returncode or 1
                break
            time.sleep(0.3)
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        self.stdout.write("Stopped.")
        sys.exit(code)
