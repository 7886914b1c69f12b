"""No secret reaches the log: a pytest plugin over the whole run (registered in tests/conftest.py).

While the suite runs, a handler on the root logger keeps the text of every log record (the root
logger is lowered to DEBUG for the run, so debug records are made too; a logger given a level of its
own in settings.LOGGING keeps it, as in any deployment), with the repr of any exception attached and
any `extra` fields, and the text of every warning pytest records. Meanwhile it learns each secret the
run produces, at the place it is produced:

- one-time codes: six-digit numbers in the body of every SMS (`sms_send_now`'s backend, whichever it
  is) and email sent, and the password-reset link tokens (`PasswordResetTokenGenerator.make_token`);
- API token keys (post_save of rest_framework.authtoken's Token);
- passwords: every one set on a user (`set_password`), the tests' TEST_PASSWORD and the demo password;
- citizen ID (CCCD) numbers: every number `farms.cccd.cccd_clean` accepted;
- the secret settings (SECRET_KEY, CCCD_HASH_KEY, Stripe and webhook secrets…) as each test sees them.

When the run ends, every kept text is searched for every secret; any found fails the run (exit
status 1) with the test that was running, the logger, and the kind of secret, never the secret.
SQL statements (`django.db.backends`, logged only with DEBUG on or a test capturing queries) are
left out: they hold what the database holds, tokens included, and production runs with DEBUG off.
`find_leaks` is the search, tested on its own in tests/security/test_log_secrets.py.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pytest

PLUGIN_NAME = "logscan"
# Settings whose values are secrets; a value shorter than MIN_SECRET is too common a text to look for.
SECRET_SETTINGS = (
    "SECRET_KEY",
    "CCCD_HASH_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "VIETQR_WEBHOOK_SECRET",
    "EMAIL_HOST_PASSWORD",
    "SMS_API_KEY",
)
MIN_SECRET = 8
# A one-time code is six digits standing alone: not part of a longer number, an amount (1.500.000),
# an order number (CN-0101-123456), a date or a time.
ONE_TIME_CODE = re.compile(r"(?<![\d.,:/\-])\d{6}(?!\d|[.,:/\-]\d)")
# A number standing alone: not inside a word, a hash or an id (`5c0ffee269900ab`).
DIGITS = re.compile(r"(?<![0-9A-Za-z])\d+(?![0-9A-Za-z])")
# Digits grouped for reading (`001 099 012 345`, `269-900`) are the same digits.
DIGIT_GROUPING = re.compile(r"(?<=\d)[ .\-](?=\d)")
SKIPPED_LOGGERS = ("django.db.backends",)
STANDARD_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
PREFIX = MIN_SECRET  # length of the prefix non-digit secrets are indexed by


@dataclass(frozen=True)
class Leak:
    where: str  # the test (node id) that was running, or "(session)"
    source: str  # "log <logger> <LEVEL>" or "warning"
    kind: str
    excerpt: str  # the text around it, the secret replaced by «kind»

    def __str__(self):
        return f"{self.where}: {self.source}: {self.kind}: {self.excerpt}"


class Secrets(dict):
    """Secret text → its kind."""

    def learn(self, kind: str, value) -> None:
        if not isinstance(value, str):
            return
        value = value.strip()
        short = len(value) < (6 if value.isdigit() else MIN_SECRET)
        if not short and value not in self:
            self[value] = kind

    def learn_codes(self, kind: str, *texts) -> None:
        for text in texts:
            for code in ONE_TIME_CODE.findall(str(text or "")):
                self.learn(kind, code)


def _mask(text: str, secret: str, kind: str, width: int = 60) -> str:
    """The text around the secret, with the secret replaced (a CI log must not get it either)."""
    at = max(text.find(secret), 0)
    start, end = max(at - width, 0), at + len(secret) + width
    excerpt = text[start:at] + f"«{kind}»" + text[at + len(secret) : end]
    return excerpt.replace(secret, f"«{kind}»").replace("\n", "⏎")


def _digit_form(text: str, secret: str) -> str:
    """Where the secret's digits are written grouped, the text as found (for the excerpt)."""
    pattern = r"[ .\-]?".join(re.escape(digit) for digit in secret)
    match = re.search(rf"(?<!\d){pattern}(?!\d)", text)
    return match.group(0) if match else secret


def find_leaks(texts: Iterable[tuple[str, str, str]], secrets: Mapping[str, str]) -> list[Leak]:
    """Each (where, source, text) that holds one of `secrets` (text → kind), once per secret and place.

    Digits-only secrets (codes, CCCD numbers) are found as whole numbers, also when written in
    groups; any other secret as a substring (indexed by its first characters, so a run with
    thousands of tokens and tens of thousands of records is searched in seconds).
    """
    digit_secrets = {s for s in secrets if s.isdigit()}
    index: dict[str, list[str]] = {}
    for secret in secrets:
        if not secret.isdigit():
            index.setdefault(secret[:PREFIX], []).append(secret)
    leaks = []
    for where, source, text in texts:
        found = set()
        if digit_secrets:
            numbers = set(DIGITS.findall(text)) | set(DIGITS.findall(DIGIT_GROUPING.sub("", text)))
            found |= numbers & digit_secrets
        if index:
            for at in range(len(text) - PREFIX + 1):
                candidates = index.get(text[at : at + PREFIX])
                if candidates:
                    found.update(s for s in candidates if text.startswith(s, at))
        # A secret found inside a longer one found there (a link token's hash in the token) is that one.
        found = {s for s in found if not any(s != longer and s in longer for longer in found)}
        for secret in sorted(found):
            kind = secrets[secret]
            shown = _digit_form(text, secret) if secret.isdigit() else secret
            leaks.append(Leak(where, source, kind, _mask(text, shown, kind)))
    return leaks


class KeepEverything(logging.Handler):
    """Keeps the text of each record once, with where it was first seen."""

    def __init__(self, scan: LogScan):
        super().__init__(level=logging.DEBUG)
        self.scan = scan

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(SKIPPED_LOGGERS):
            return
        try:
            parts = [record.getMessage()]
        except Exception:  # a record whose arguments do not fit its format: keep both as given
            parts = [str(record.msg), repr(record.args)]
        error, seen = (record.exc_info[1] if record.exc_info else None), set()
        while error is not None and id(error) not in seen:  # the exception and those it came from
            seen.add(id(error))
            parts.append(repr(error))
            error = error.__cause__ or error.__context__
        parts += [f"{k}={v!r}" for k, v in vars(record).items() if k not in STANDARD_RECORD_FIELDS]
        self.scan.keep(f"log {record.name} {record.levelname}", "\n".join(parts))


class LogScan:
    """The plugin's state: what was logged, what is secret, and what leaked."""

    def __init__(self, config):
        self.config = config
        self.secrets = Secrets()
        self.texts: dict[tuple[str, str], str] = {}  # (source, text) → where first seen
        self.current = "(session)"
        self.handler = KeepEverything(self)
        self.leaks: list[Leak] = []
        self._undo: list = []
        self._root_level = logging.root.level
        self._handler_levels: list[tuple[logging.Handler, int]] = []

    # --- keeping -------------------------------------------------------------------------------

    def keep(self, source: str, text: str) -> None:
        self.texts.setdefault((source, text), self.current)

    def attach(self) -> None:
        """Keep every record from here on: the root logger at DEBUG, the handlers it had (the
        console's) raised to its former level, so they print no more than before."""
        if logging.root.level > logging.DEBUG:
            for handler in logging.root.handlers:
                if handler is not self.handler and handler.level < logging.root.level:
                    self._handler_levels.append((handler, handler.level))
                    handler.setLevel(logging.root.level)
            logging.root.setLevel(logging.DEBUG)
        if self.handler not in logging.root.handlers:
            logging.root.addHandler(self.handler)

    # --- learning ------------------------------------------------------------------------------

    def _patch(self, owner, name: str, replacement) -> None:
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        self._undo.append((owner, name, original))
        setattr(owner, name, replacement)

    def learn_from_django(self) -> None:
        from django.apps import apps

        if not apps.ready:
            return
        from django.contrib.auth.base_user import AbstractBaseUser
        from django.contrib.auth.tokens import PasswordResetTokenGenerator
        from django.core.mail.message import EmailMessage
        from django.db.models.signals import post_save
        from rest_framework.authtoken.models import Token

        import farms.cccd
        from marketplace.notifications import services as notification_services
        from marketplace.notifications import sms

        secrets = self.secrets

        class Listening:
            """The configured SMS backend, with each body read for codes before it is sent."""

            def __init__(self, backend):
                self.backend = backend

            def send(self, *, phone, body):
                secrets.learn_codes("one-time code sent by SMS", body)
                return self.backend.send(phone=phone, body=body)

            def __getattr__(self, name):
                return getattr(self.backend, name)

        original_backend = sms.get_sms_backend

        def get_sms_backend():
            return Listening(original_backend())

        self._patch(sms, "get_sms_backend", get_sms_backend)
        self._patch(notification_services, "get_sms_backend", get_sms_backend)

        original_send = EmailMessage.send

        def send(message, fail_silently=False):
            alternatives = [content for content, _type in getattr(message, "alternatives", [])]
            secrets.learn_codes("one-time code sent by email", message.subject, message.body, *alternatives)
            return original_send(message, fail_silently)

        self._patch(EmailMessage, "send", send)

        original_make_token = PasswordResetTokenGenerator.make_token

        def make_token(generator, user):
            token = original_make_token(generator, user)
            secrets.learn("password reset link token", token)
            secrets.learn("password reset link token", token.rpartition("-")[2])
            return token

        self._patch(PasswordResetTokenGenerator, "make_token", make_token)

        original_set_password = AbstractBaseUser.set_password

        def set_password(user, raw_password):
            secrets.learn("password", raw_password)
            return original_set_password(user, raw_password)

        self._patch(AbstractBaseUser, "set_password", set_password)

        original_clean = farms.cccd.cccd_clean

        def cccd_clean(raw):
            digits = original_clean(raw)
            secrets.learn("citizen ID (CCCD)", digits)
            return digits

        for module in list(sys.modules.values()):
            if getattr(module, "cccd_clean", None) is original_clean:
                self._patch(module, "cccd_clean", cccd_clean)

        def token_saved(sender, instance, **kwargs):
            secrets.learn("API token key", instance.key)

        post_save.connect(token_saved, sender=Token, weak=False, dispatch_uid=PLUGIN_NAME)
        self._undo.append((post_save, "disconnect", {"sender": Token, "dispatch_uid": PLUGIN_NAME}))

        from marketplace.management.commands.load_demo import DEMO_PASSWORD

        secrets.learn("demo password", DEMO_PASSWORD)
        try:
            from tests.conftest import TEST_PASSWORD
        except ImportError:  # a run outside this project's tests (the plugin's own tests)
            pass
        else:
            secrets.learn("test password", TEST_PASSWORD)
        self.learn_settings()

    def learn_settings(self) -> None:
        from django.conf import settings

        for name in SECRET_SETTINGS:
            self.secrets.learn(f"setting {name}", getattr(settings, name, ""))

    def undo(self) -> None:
        for owner, name, original in reversed(self._undo):
            if name == "disconnect":
                owner.disconnect(**original)
            else:
                setattr(owner, name, original)
        self._undo.clear()
        logging.root.removeHandler(self.handler)
        logging.root.setLevel(self._root_level)
        for handler, level in self._handler_levels:
            handler.setLevel(level)

    # --- pytest hooks --------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.current = item.nodeid
        self.attach()  # again, should a test have configured logging anew
        try:
            return (yield)
        finally:
            self.current = "(session)"

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        self.learn_settings()  # as this test set them
        try:
            return (yield)
        finally:
            self.learn_settings()

    def pytest_warning_recorded(self, warning_message, when, nodeid, location):
        self.texts.setdefault(("warning", str(warning_message.message)), nodeid or self.current)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session, exitstatus):
        if exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            return
        texts = ((where, source, text) for (source, text), where in self.texts.items())
        self.leaks = find_leaks(texts, self.secrets)
        if self.leaks:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        if not self.leaks:
            if self.secrets:
                terminalreporter.write_line(
                    f"logscan: {len(self.texts)} distinct log and warning texts hold none of the "
                    f"{len(self.secrets)} secrets this run produced"
                )
            return
        terminalreporter.section("secrets in the log", red=True)
        terminalreporter.line(
            f"{len(self.leaks)} log record(s) or warning(s) hold a secret this run produced "
            "(tests/logscan.py); the secret is shown as «kind»:"
        )
        for leak in self.leaks:
            terminalreporter.line(str(leak), red=True)


def pytest_configure(config):
    scan = LogScan(config)
    scan.attach()
    config.pluginmanager.register(scan, PLUGIN_NAME)


def pytest_sessionstart(session):
    scan = session.config.pluginmanager.get_plugin(PLUGIN_NAME)
    if scan is not None:
        scan.learn_from_django()


def pytest_unconfigure(config):
    scan = config.pluginmanager.get_plugin(PLUGIN_NAME)
    if scan is not None:
        scan.undo()
