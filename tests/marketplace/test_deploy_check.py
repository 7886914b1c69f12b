"""The production profile passes Django's deployment checks and refuses to start without a secret."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def run_manage(tmp_path, *args, **env_overrides) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_ENV": "production", "VAR_DIR": str(tmp_path)}
    # Leave the production defaults alone: a developer's DEBUG=1 must not leak in.
    for name in (
        "DEBUG",
        "SECRET_KEY",
        "CCCD_HASH_KEY",
        "ALLOWED_HOSTS",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
    ):
        env.pop(name, None)
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_finds_no_issues(tmp_path):
    result = run_manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(64),
        CCCD_HASH_KEY=secrets.token_urlsafe(32),
        ALLOWED_HOSTS="cho-noi.example",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no issues" in output


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_manage(tmp_path, "check", ALLOWED_HOSTS="cho-noi.example")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_an_empty_secret_key(tmp_path):
    result = run_manage(tmp_path, "check", SECRET_KEY="", ALLOWED_HOSTS="cho-noi.example")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_a_cccd_hash_key(tmp_path):
    result = run_manage(
        tmp_path, "check", SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="cho-noi.example"
    )
    assert result.returncode != 0
    assert "CCCD_HASH_KEY" in result.stderr


def test_a_rate_that_is_not_a_percentage_stops_the_start_with_its_name(tmp_path):
    for name, value in (
        ("COMMISSION_PERCENT", "5%"),
        ("TAX_WITHHELD_PERCENT", "120"),
        ("COMMISSION_PERCENT", "nan"),
    ):
        result = run_manage(
            tmp_path,
            "check",
            DJANGO_ENV="development",
            **{name: value},
        )
        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr and name in result.stderr, result.stderr[-500:]
    fine = run_manage(tmp_path, "check", DJANGO_ENV="development", COMMISSION_PERCENT="7.5")
    assert fine.returncode == 0, fine.stderr[-500:]
