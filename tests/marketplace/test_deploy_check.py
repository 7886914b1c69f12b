"""The production profile passes Django's deployment checks and refuses to start without a secret,
with a backend that puts messages in the log instead of sending them, or with a cache of each process."""

import secrets

import pytest
from django.core.checks import run_checks

from marketplace.checks import check_production_backends
from marketplace.notifications.sms import ConsoleSMSBackend
from tests.production import deployable_environment, run_production


def run_manage(tmp_path, *args, **env_overrides):
    return run_production(tmp_path, ["manage.py", *args], **env_overrides)


def test_check_deploy_finds_no_issues(tmp_path):
    result = run_manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **deployable_environment(),
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


def test_production_collects_static_files(tmp_path):
    # The manifest storage fails on a file that names a missing one (Chart.js names its source
    # map): every static file must be collectable before a deployment can start.
    result = run_manage(
        tmp_path,
        "collectstatic",
        "--noinput",
        **deployable_environment(),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert (tmp_path / "static" / "staticfiles.json").exists()


# --- Messages that reach people, limits that count across processes ------------------------------
# A console or file backend put reset codes in the server's log and sent nothing; a cache of each
# process let every gunicorn worker count its own allowance. Production refuses both at start
# (settings) and in `check --deploy` (marketplace/checks.py).

REFUSED_AT_START = [
    ("SMS_BACKEND", None),  # unset: the console default
    ("SMS_BACKEND", "marketplace.notifications.sms.ConsoleSMSBackend"),
    ("SMS_BACKEND", "marketplace.notifications.sms.FileSMSBackend"),
    ("EMAIL_BACKEND", None),
    ("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"),
    ("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"),
    ("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend"),
    ("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend"),
    ("CACHE_URL", None),  # unset: locmemcache://
    ("CACHE_URL", "locmemcache://"),
    ("CACHE_URL", "dummycache://"),
]
HINTS = {
    "SMS_BACKEND": "Set SMS_BACKEND to",
    "EMAIL_BACKEND": "Set EMAIL_BACKEND=",
    "CACHE_URL": "Set CACHE_URL to",
}
CONSOLE_SMS = "marketplace.notifications.sms.ConsoleSMSBackend"
REDIS_CACHE = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/1"}


class QuietConsoleSMSBackend(ConsoleSMSBackend):
    """The console backend under another name: only its class tells what it does."""


@pytest.mark.parametrize(("name", "value"), REFUSED_AT_START, ids=[f"{n}={v}" for n, v in REFUSED_AT_START])
def test_production_refuses_to_start_with_messages_to_the_log_or_limits_per_process(tmp_path, name, value):
    environment = deployable_environment()
    if value is None:
        del environment[name]
    else:
        environment[name] = value
    result = run_manage(tmp_path, "check", **environment)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr, result.stderr[-1500:]
    refusal = result.stderr[result.stderr.index("DJANGO_ENV=production refuses to start") :]
    assert name in refusal and HINTS[name] in refusal, refusal
    for other in set(HINTS) - {name}:  # only the setting at fault is named: the others are fine
        assert HINTS[other] not in refusal, refusal


def test_the_web_server_and_the_worker_refuse_to_start_too(tmp_path):
    environment = {**deployable_environment(), "SMS_BACKEND": CONSOLE_SMS}
    worker = "from marketplace.celery import app; app.loader.import_default_modules()"
    for probe in ("import marketplace.wsgi", worker):
        result = run_production(tmp_path, ["-c", probe], **environment)
        assert result.returncode != 0, probe
        assert "ImproperlyConfigured" in result.stderr, result.stderr[-800:]
        assert "Set SMS_BACKEND to" in result.stderr, result.stderr[-800:]
    fine = run_production(tmp_path, ["-c", "import marketplace.wsgi"], **deployable_environment())
    assert fine.returncode == 0, fine.stderr[-800:]


def test_check_deploy_finds_a_console_backend_under_another_name(tmp_path):
    """The settings know only names; `check --deploy` imports the class and looks at its bases."""
    environment = {**deployable_environment(), "SMS_BACKEND": f"{__name__}.QuietConsoleSMSBackend"}
    assert run_manage(tmp_path, "check", **environment).returncode == 0  # starts…
    result = run_manage(tmp_path, "check", "--deploy", **environment)  # …but is not deployable
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "marketplace.E001" in output and "QuietConsoleSMSBackend" in output, output
    assert "marketplace.E002" not in output and "marketplace.E003" not in output, output


def test_check_deploy_refuses_the_local_profiles_backends(tmp_path):
    """Whatever built the settings (here the development profile, which starts with them),
    `check --deploy` names each backend that would not do and says which setting to change."""
    result = run_manage(tmp_path, "check", "--deploy", DJANGO_ENV="development")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for check_id, hint in (
        ("marketplace.E001", "Set SMS_BACKEND to"),
        ("marketplace.E002", "Set EMAIL_BACKEND="),
        ("marketplace.E003", "Set CACHE_URL to"),
    ):
        assert check_id in output and hint in output, output
    fine = {name: deployable_environment()[name] for name in ("SMS_BACKEND", "EMAIL_BACKEND", "CACHE_URL")}
    result = run_manage(tmp_path, "check", "--deploy", DJANGO_ENV="development", **fine)
    output = result.stdout + result.stderr
    assert "marketplace.E00" not in output, output


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, []),
        ({"SMS_BACKEND": f"{__name__}.QuietConsoleSMSBackend"}, ["marketplace.E001"]),
        ({"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"}, ["marketplace.E002"]),
        (
            {"CACHES": {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}},
            ["marketplace.E003"],
        ),
        # django-axes counting in a cache of its own: that cache must be shared too.
        (
            {
                "AXES_HANDLER": "axes.handlers.cache.AxesCacheHandler",
                "AXES_CACHE": "axes",
                "CACHES": {
                    "default": REDIS_CACHE,
                    "axes": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
                },
            },
            ["marketplace.E003"],
        ),
    ],
    ids=["all fine", "console subclass", "email to files", "dummy cache", "axes in a local cache"],
)
def test_the_deploy_check_in_process(settings, overrides, expected):
    settings.SMS_BACKEND = "tests.production.ProviderSMSBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.CACHES = {"default": REDIS_CACHE}
    for name, value in overrides.items():
        setattr(settings, name, value)
    errors = check_production_backends()
    assert [error.id for error in errors] == expected
    if overrides.get("AXES_CACHE"):
        assert "CACHES['axes']" in errors[0].msg and "login lockouts" in errors[0].msg
    # Registered as a deployment check: `check --deploy` runs it, a plain `check` does not.
    deploy_ids = {message.id for message in run_checks(include_deployment_checks=True)}
    plain_ids = {message.id for message in run_checks()}
    assert set(expected) <= deploy_ids and not set(expected) & plain_ids
