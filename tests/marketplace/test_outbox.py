"""The task outbox: a task exists if and only if its transaction committed, and is never lost.

The real broker paths (a worker's relay after an outage, killed workers) are in
tests/orders/test_faults.py; these pin the rules themselves.
"""

from datetime import timedelta

import time_machine
from django.db import transaction
from django.utils import timezone

from marketplace.notifications.models import Channel, Notification
from marketplace.notifications.services import notify
from marketplace.notifications.tasks import deliver_notification
from marketplace.outbox.models import OutboxMessage
from marketplace.outbox.services import FAST_PATH_SECONDS, enqueue, purge_sent, relay


def test_a_rolled_back_change_takes_its_task_with_it(make_user, django_capture_on_commit_callbacks):
    user = make_user()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                notify(user=user, subject="Đơn mới", body="…")
                raise RuntimeError("the change fails")
        except RuntimeError:
            pass
    assert callbacks == []
    assert not OutboxMessage.objects.exists() and not Notification.objects.exists()


def test_the_same_task_twice_in_one_transaction_is_one_row(make_user, django_capture_on_commit_callbacks):
    notification = notify(user=make_user(), subject="Đơn mới", body="…", channels=[Channel.IN_APP])
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        first = enqueue(deliver_notification, notification.pk, "sms")
        again = enqueue(deliver_notification, notification.pk, "sms")
        other = enqueue(deliver_notification, notification.pk, "email")
    assert first.pk == again.pk != other.pk
    assert OutboxMessage.objects.count() == 2
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()  # published after commit


def test_a_row_the_broker_refused_waits_longer_each_time(
    make_user, broker_down, django_capture_on_commit_callbacks
):
    notification = notify(user=make_user(), subject="Đơn mới", body="…", channels=[Channel.IN_APP])
    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue(deliver_notification, notification.pk, "sms")
    message.refresh_from_db()
    assert (message.sent_at, message.attempts) == (None, 1)
    assert relay() == 0  # not due yet: nothing tried
    message.refresh_from_db()
    assert message.attempts == 1
    for attempts, wait in [(2, 2), (3, 5)]:
        with time_machine.travel(message.available_at + timedelta(milliseconds=1)):
            assert relay() == 0
        message.refresh_from_db()
        assert message.attempts == attempts
        assert "Connection refused" in message.last_error
        assert message.available_at - timezone.now() > timedelta(seconds=wait - 1)


def test_a_fresh_row_is_left_to_its_process_before_the_relay_takes_it(make_user, broker_down):
    notification = notify(user=make_user(), subject="Đơn mới", body="…", channels=[Channel.IN_APP])
    message = enqueue(deliver_notification, notification.pk, "sms")  # its commit callback never runs here
    assert relay() == 0
    message.refresh_from_db()
    assert message.attempts == 0
    with time_machine.travel(timezone.now() + timedelta(seconds=FAST_PATH_SECONDS + 1)):
        relay()
    message.refresh_from_db()
    assert message.attempts == 1  # now the relay tried it


def test_published_rows_are_purged_after_the_days_kept(make_user, settings):
    settings.OUTBOX_KEEP_DAYS = 7
    now = timezone.now()
    old = OutboxMessage.objects.create(task="t", sent_at=now - timedelta(days=8))
    recent = OutboxMessage.objects.create(task="t", sent_at=now - timedelta(days=6))
    pending = OutboxMessage.objects.create(task="t")
    assert purge_sent(now=now) == 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}
    assert not OutboxMessage.objects.filter(pk=old.pk).exists()
