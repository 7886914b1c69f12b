"""Start the production profile (`DJANGO_ENV=production`) in a subprocess, as a deployment would.

The environment is clean: nothing of a developer's or CI's (DEBUG, DATABASE_URL, STRIPE_API_BASE…)
may soften the profile or reach a real database; the subprocess keeps its files in `var_dir`.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
KEPT = {"PATH", "HOME", "LANG", "TMPDIR"}


def deployable_environment() -> dict:
    """What a deployment must set, with fresh secrets."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "CCCD_HASH_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "cho-noi.example",
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
