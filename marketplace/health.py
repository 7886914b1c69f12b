"""Liveness of the parts the site needs: the database and the Celery broker."""
import logging

from django.db import connection

logger = logging.getLogger(__name__)


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; say so, never 500
        logger.warning("health: database unreachable: %s", exc)
        return "unreachable"
    return "ok"


def broker_status() -> str:
    from marketplace.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as exc:
        logger.warning("health: broker unreachable: %s", exc)
        return "unreachable"
    return "ok"
