"""notify(): one row per message, each email/SMS delivered once, after the transaction commits."""

import pytest
from django.db import transaction

from marketplace.notifications.models import Channel, Delivery, Notification
from marketplace.notifications.services import notify
from marketplace.notifications.tasks import deliver_notification

ALL_CHANNELS = [Channel.IN_APP, Channel.SMS, Channel.EMAIL]


@pytest.fixture
def lan(make_user):
    return make_user(phone="0912345678", email="lan@example.com")


def test_notify_creates_one_row_with_its_channels(lan, sms_outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(user=lan, subject="Đơn #12 đã giao", body="Cảm ơn bạn.", channels=ALL_CHANNELS)
    assert Notification.objects.count() == 1
    assert notification.user == lan
    assert sorted(notification.channel_list) == ["email", "inapp", "sms"]
    assert notification.read_at is None


def test_notify_sends_sms_and_email_after_commit(
    lan, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(user=lan, subject="Đơn #12 đã giao", body="Cảm ơn bạn.", channels=ALL_CHANNELS)
    # Nothing leaves before the transaction commits.
    assert sms_outbox.messages() == []
    assert mailoutbox == []
    assert len(callbacks) == 2

    for callback in callbacks:
        callback()
    messages = sms_outbox.messages()
    assert len(messages) == 1
    assert messages[0]["to"] == "+84912345678"
    assert "Đơn #12 đã giao" in messages[0]["body"]
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["lan@example.com"]
    assert mailoutbox[0].subject == "Đơn #12 đã giao"


def test_a_repeated_delivery_task_sends_the_sms_once(
    lan, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(user=lan, subject="Có đơn mới", body="Đơn #7", channels=ALL_CHANNELS)
    assert len(sms_outbox.messages()) == 1

    # Celery may run a task twice (acks_late, a lost worker): the second run sends nothing.
    assert deliver_notification.delay(notification.pk, "sms").get() is False
    assert deliver_notification.delay(notification.pk, "email").get() is False
    assert len(sms_outbox.messages()) == 1
    assert len(mailoutbox) == 1
    assert Delivery.objects.filter(notification=notification).count() == 2
    assert all(d.sent_at for d in Delivery.objects.filter(notification=notification))


def test_a_failed_delivery_is_sent_on_retry(lan, sms_outbox, settings, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "tests.notifications.test_notify.BrokenSMSBackend"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = notify(user=lan, subject="s", body="b", channels=[Channel.SMS])
    with pytest.raises(ConnectionError):
        deliver_notification.run(notification.pk, "sms")
    assert not Delivery.objects.filter(notification=notification, sent_at__isnull=False).exists()

    settings.SMS_BACKEND = "marketplace.notifications.sms.FileSMSBackend"
    assert deliver_notification.run(notification.pk, "sms") is True
    assert len(sms_outbox.messages()) == 1
    assert len(callbacks) == 1


class BrokenSMSBackend:
    def send(self, *, phone, body):
        raise ConnectionError("SMS gateway timed out")


def test_nothing_is_sent_when_the_transaction_rolls_back(
    lan, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify(user=lan, subject="s", body="b", channels=ALL_CHANNELS)
        raise RuntimeError("checkout failed")
    assert callbacks == []
    assert sms_outbox.messages() == []
    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_notify_skips_email_for_a_user_without_email(
    make_user, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    farmer = make_user(email="")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify(user=farmer, subject="s", body="b", channels=ALL_CHANNELS)
    assert len(callbacks) == 1
    assert mailoutbox == []
    assert len(sms_outbox.messages()) == 1


def test_in_app_only_notification_sends_nothing(
    lan, sms_outbox, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify(user=lan, subject="s", body="b", channels=[Channel.IN_APP])
    assert callbacks == []
    assert sms_outbox.messages() == []
    assert mailoutbox == []


def test_delivery_task_for_a_vanished_notification_does_nothing(db, sms_outbox):
    assert deliver_notification.delay(987654, "sms").get() is False
    assert sms_outbox.messages() == []


def test_notify_refuses_an_unknown_channel(lan):
    with pytest.raises(ValueError):
        notify(user=lan, subject="s", body="b", channels=["pigeon"])
    assert not Notification.objects.exists()


def test_notify_cuts_a_long_subject_to_fit(lan):
    notification = notify(user=lan, subject="x" * 300, body="b", channels=[Channel.IN_APP])
    notification.refresh_from_db()
    assert len(notification.subject) == 200
