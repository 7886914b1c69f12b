"""The production profile passes Django's deployment checks and refuses to start without a secret."""

import secrets

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
