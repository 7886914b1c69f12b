"""The log scan of the whole run (tests/logscan.py) learns the secrets the code produces, finds them in
log text however they are written, never prints them, and fails a run that logs one.

The scan itself runs over every test of every run; these show it is not a scan that passes anything:
it learns a reset code from the SMS the real reset path sends, a link token from the real email, the
API token, passwords and a citizen ID from where the code makes them; it finds each in a text; and a
real pytest run that logs a secret exits 1 while one that logs harmless numbers exits 0.
"""

import logging
import os
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from django.core import mail

from marketplace.accounts.models import Role
from marketplace.accounts.services import password_reset_request, token_for
from tests.conftest import TEST_PASSWORD
from tests.farms.factories import make_farm
from tests.logscan import PLUGIN_NAME, find_leaks

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CCCD = "092085731946"


@pytest.fixture
def scan(request):
    plugin = request.config.pluginmanager.get_plugin(PLUGIN_NAME)
    assert plugin is not None, "tests/logscan.py is not registered (tests/conftest.py pytest_plugins)"
    return plugin


def test_the_scan_finds_each_kind_of_secret_however_written_and_never_shows_it():
    secrets = {
        "269900": "one-time code sent by SMS",
        "092085731946": "citizen ID (CCCD)",
        "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b": "API token key",
        "an-honest-test-password": "test password",
        "cn3x1k-4f1d2a9b0c8e7d6f5a4b3c2d1e0f9a8b": "password reset link token",
    }
    texts = [
        ("t::sms", "log marketplace.notifications.sms INFO", "[SMS to +84912000111] mã của bạn là 269900."),
        ("t::grouped", "log x WARNING", "code 269 900 refused"),
        ("t::cccd", "log farms ERROR", "duplicate household 092 085 731 946"),
        ("t::token", "log django.request WARNING", "Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"),
        ("t::password", "warning", "login failed with password=an-honest-test-password"),
        ("t::link", "log django.request WARNING", "Not Found: /r/cn3x1k-4f1d2a9b0c8e7d6f5a4b3c2d1e0f9a8b/"),
    ]
    leaks = find_leaks(texts, secrets)
    assert [(leak.where, leak.kind) for leak in leaks] == [
        ("t::sms", "one-time code sent by SMS"),
        ("t::grouped", "one-time code sent by SMS"),
        ("t::cccd", "citizen ID (CCCD)"),
        ("t::token", "API token key"),
        ("t::password", "test password"),
        ("t::link", "password reset link token"),
    ]
    report = "\n".join(map(str, leaks))
    for secret in secrets:
        assert secret not in report
    assert "269 900" not in report and "092 085 731 946" not in report
    assert "mã của bạn là «one-time code sent by SMS»." in report


def test_numbers_that_only_look_like_a_code_are_not_leaks():
    secrets = {"269900": "one-time code sent by SMS", "092085731946": "citizen ID (CCCD)"}
    texts = [
        ("t", "log a INFO", "request took 1269900 µs"),  # a longer number
        ("t", "log a INFO", "order CN-0712-2699 paid 26.990 ₫"),
        ("t", "log a INFO", "ward 31120, last four 1946, hash 5c0ffee269900ab"),  # inside a word
        ("t", "log a INFO", "92085731946 and 0920857319460"),  # one digit short, one too many
    ]
    assert find_leaks(texts, secrets) == []


def test_the_run_learns_the_secrets_the_code_produces(
    scan, make_user, sms_outbox, settings, reference_data, django_capture_on_commit_callbacks
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "phone_messages": None}
    no_email = make_user(Role.BUYER)
    with django_capture_on_commit_callbacks(execute=True):  # the reset is sent by a task after commit
        password_reset_request(phone=no_email.phone)
    [sms] = sms_outbox.messages()
    code = re.search(r"(?<!\d)\d{6}(?!\d)", sms["body"]).group(0)

    with_email = make_user(Role.BUYER, email="an@example.vn")
    with django_capture_on_commit_callbacks(execute=True):
        password_reset_request(phone=with_email.phone)
    [email] = mail.outbox
    link_token = re.search(r"/([0-9a-z]+-[0-9a-f]{20,})/", email.body).group(1)

    key = token_for(user=no_email)
    new_password = f"another-long-password-{uuid.uuid4().hex[:6]}"
    no_email.set_password(new_password)
    make_farm(make_user, cccd="092 085 731 946")

    expected = {
        code: "one-time code sent by SMS",
        link_token: "password reset link token",
        key: "API token key",
        new_password: "password",
        TEST_PASSWORD: "test password",
        "chonoi-demo": "demo password",
        CCCD: "citizen ID (CCCD)",
        settings.SECRET_KEY: "setting SECRET_KEY",
    }
    for secret, kind in expected.items():
        assert scan.secrets.get(secret) == kind, kind
    # Each, written into a log text, is found.
    texts = [("here", "log probe INFO", f"something about {secret} happened") for secret in expected]
    assert sorted(leak.kind for leak in find_leaks(texts, scan.secrets)) == sorted(expected.values())

    # What the run logs is kept, debug records included, with the test that logged it.
    marker = uuid.uuid4().hex
    logging.getLogger("tests.logscan.probe").debug("probe %s", marker)
    assert scan.texts[("log tests.logscan.probe DEBUG", f"probe {marker}")].endswith(
        "test_the_run_learns_the_secrets_the_code_produces"
    )
    # An exception's message is read too, not only the record's (tracebacks end up in the log).
    try:
        raise ValueError(f"boom {marker}")
    except ValueError:
        logging.getLogger("tests.logscan.probe").warning("it failed", exc_info=True)
    kept = [text for source, text in scan.texts if source == "log tests.logscan.probe WARNING"]
    assert any(text.startswith("it failed") and f"boom {marker}" in text for text in kept)


# --- A real run ------------------------------------------------------------------------------------

LEAKY = '''
import logging

from marketplace.accounts.models import User
from marketplace.notifications.services import sms_send_now


def test_logs_a_password():
    User(phone="+84912000111").set_password("planted-Secret-7Hq2x")
    logging.getLogger("leaky").info("password reset for +84912000111 to %s", "planted-Secret-7Hq2x")


def test_logs_the_code_it_sent():
    sms_send_now(phone="+84912000111", body="Chợ Nổi: mã đặt lại mật khẩu của bạn là 413275.")
    logging.getLogger("leaky").debug("sent code 413 275")
'''
CLEAN = '''
import logging
import warnings

from marketplace.notifications.services import sms_send_now


def test_logs_numbers_that_are_no_secret():
    sms_send_now(phone="+84912000111", body="Chợ Nổi: mã đặt lại mật khẩu của bạn là 413275.")
    logging.getLogger("tidy").warning("order CN-0712-4132 of 413.000 ₫ paid in 1413275 µs")
    warnings.warn("something harmless 413", UserWarning, stacklevel=1)
'''


def run_pytest(tmp_path, source: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(source), encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}},
        "PYTHONPATH": str(PROJECT_ROOT),
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
        "VAR_DIR": str(tmp_path / "var"),
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.logscan", "-p", "no:cacheprovider", "-q",
         "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False,
    )


@pytest.mark.slow
def test_a_run_whose_tests_pass_fails_when_they_logged_a_secret(tmp_path):
    result = run_pytest(tmp_path, LEAKY)
    output = result.stdout + result.stderr
    assert "2 passed" in output, output
    assert result.returncode == 1, output
    assert "secrets in the log" in output
    assert re.search(r"test_inner\.py::test_logs_a_password: log leaky INFO: password\b", output), output
    assert re.search(r"test_inner\.py::test_logs_the_code_it_sent: log leaky DEBUG: one-time code", output)
    for secret in ("planted-Secret-7Hq2x", "413275", "413 275"):
        assert secret not in output


@pytest.mark.slow
def test_a_run_that_logged_no_secret_passes(tmp_path):
    result = run_pytest(tmp_path, CLEAN)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 passed" in output and "secrets in the log" not in output, output
    assert re.search(r"logscan: \d+ distinct log and warning texts hold none of the \d+ secrets", output)
