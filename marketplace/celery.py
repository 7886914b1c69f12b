"""The Celery app and the periodic schedule."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_init

from marketplace.outbox.worker import OutboxRelayStep, install_fork_hygiene

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")

app = Celery("marketplace")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every worker relays the task outbox (marketplace/outbox): tasks recorded while the broker was
# down are published once it is back.
app.steps["worker"].add(OutboxRelayStep)


@worker_init.connect(dispatch_uid="marketplace-fork-hygiene")
def _no_connection_crosses_a_fork(**kwargs):
    """A prefork pool forks children while the main process runs threads: none takes a database
    connection along (marketplace/outbox/worker.py explains why, on SQLite and PostgreSQL)."""
    install_fork_hygiene()


def _cutoff_hour() -> int:
    from django.conf import settings

    return settings.COLLECTION_CUTOFF_HOUR


app.conf.beat_schedule = {
    "purge-expired-password-reset-codes": {
        "task": "accounts.purge_expired_reset_codes",
        "schedule": crontab(minute=17),
    },
    "purge-abandoned-carts": {
        "task": "orders.purge_abandoned_carts",
        "schedule": crontab(hour=3, minute=40),
    },
    "expire-unpaid-orders": {
        "task": "orders.expire_unpaid_orders",
        "schedule": crontab(minute="*"),
    },
    "farm-order-deadlines": {
        "task": "orders.sweep_farm_order_deadlines",
        "schedule": crontab(minute="*/5"),
    },
    "reconcile-payments": {
        "task": "orders.reconcile_payments",
        "schedule": crontab(minute="*/5"),
    },
    # The day's collection runs, at the cut-off hour (local time; COLLECTION_CUTOFF_HOUR).
    "build-collection-runs": {
        "task": "logistics.build_collection_runs",
        "schedule": crontab(hour=_cutoff_hour(), minute=0),
    },
    # The sales rollups of the last days rebuilt from orders, repairing any lost refresh.
    "reconcile-sales-rollups": {
        "task": "reports.reconcile_recent_days",
        "schedule": crontab(hour=2, minute=30),
    },
    "send-monthly-sales-reports": {
        "task": "reports.send_monthly_reports",
        "schedule": crontab(day_of_month=1, hour=6, minute=15),
    },
    "expire-certifications": {
        "task": "farms.expire_certifications",
        "schedule": crontab(hour=0, minute=20),
    },
    "settle-missed-farm-orders": {
        "task": "orders.settle_missed_farm_orders",
        "schedule": crontab(minute="7-59/15"),
    },
    "purge-published-outbox-rows": {
        "task": "outbox.purge_sent",
        "schedule": crontab(hour=4, minute=10),
    },
    "complete-delivered-orders": {
        "task": "orders.complete_delivered_orders",
        "schedule": crontab(minute="*/15"),
    },
}
