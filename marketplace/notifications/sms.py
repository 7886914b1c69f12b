"""SMS backends, chosen by settings.SMS_BACKEND like Django's email backends.

A real provider (an SMS gateway, Zalo ZNS) is one more class with `send(phone, body)`.
"""
import json
import logging
import sys
import threading

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)
_file_lock = threading.Lock()


class BaseSMSBackend:
    def send(self, *, phone: str, body: str) -> None:
        raise NotImplementedError


class ConsoleSMSBackend(BaseSMSBackend):
    """Print messages to standard output (the development default)."""

    def send(self, *, phone: str, body: str) -> None:
        sys.stdout.write(f"[SMS to {phone}] {body}\n")
        sys.stdout.flush()


class FileSMSBackend(BaseSMSBackend):
    """Append each message as one JSON line to settings.SMS_FILE_PATH (for tests)."""

    def send(self, *, phone: str, body: str) -> None:
        path = settings.SMS_FILE_PATH
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {"at": timezone.now().isoformat(), "to": phone, "body": body}, ensure_ascii=False
        )
        with _file_lock, open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def get_sms_backend() -> BaseSMSBackend:
    return import_string(settings.SMS_BACKEND)()
