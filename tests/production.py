"""Start the production profile (`DJANGO_ENV=production`) in a subprocess, as a deployment would.

The environment is clean: nothing of a developer's or CI's (DEBUG, DATABASE_URL, STRIPE_API_BASE…)
may soften the profile or reach a real database; the subprocess keeps its files in `var_dir`.

Production refuses the console and file SMS backends and has no provider's backend of its own yet
(issue #24), so a deployable environment names `ProviderSMSBackend` below, a stand-in for one.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

from marketplace.notifications.sms import BaseSMSBackend

PROJECT_ROOT = Path(__file__).resolve().parents[1]
KEPT = {"PATH", "HOME", "LANG", "TMPDIR"}
REDIS = urlparse(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))


class ProviderSMSBackend(BaseSMSBackend):
    """Stands for an SMS provider's backend in a production start: keeps what it is given in memory.

    Nothing a production test runs sends an SMS; a test that did would find it in `sent`.
    """

    sent: list[tuple[str, str]] = []

    def send(self, *, phone: str, body: str) -> None:
        self.sent.append((phone, body))


def shared_cache_url() -> str:
    """The shared Redis (REDIS_URL's server, database 1) under a key prefix of its own."""
    return f"rediscache://{REDIS.hostname}:{REDIS.port or 6379}/1?key_prefix=prod-{secrets.token_hex(6)}"


def deployable_environment() -> dict:
    """What a deployment must set, with fresh secrets: production refuses to start without any of it."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "CCCD_HASH_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "cho-noi.example",
        "SMS_BACKEND": "tests.production.ProviderSMSBackend",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        # Counted by every process alike. Without a Redis server it fails open, as in production.
        "CACHE_URL": shared_cache_url(),
    }


def run_production(var_dir, args, *, timeout=120, **env_overrides) -> subprocess.CompletedProcess:
    """Run `python ARGS` in the production profile (unless `env_overrides` names another) with
    only `env_overrides` set on top."""
    env = {name: value for name, value in os.environ.items() if name in KEPT}
    env.update({"DJANGO_ENV": "production", "VAR_DIR": str(var_dir), **env_overrides})
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
