"""The one way every app tells people something: `notify()`.

In-app notifications are rows; email and SMS go out from a Celery task after the
transaction commits, once per channel. Secrets (reset codes) are sent at once with
`sms_send_now` / `email_send_now` and are never stored.
"""
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.outbox.services import enqueue

from .models import Channel, Delivery, Notification
from .sms import get_sms_backend

DEFAULT_CHANNELS = (Channel.IN_APP, Channel.EMAIL, Channel.SMS)


def notify(*, user, subject: str, body: str, url: str = "", channels=DEFAULT_CHANNELS) -> Notification:
    """Record a notification for `user` and queue its email and SMS deliveries."""
    from .tasks import deliver_notification

    wanted = [Channel(c) for c in channels]
    notification = Notification.objects.create(
        user=user,
        subject=str(subject)[:200],
        body=str(body),
        url=url,
        channels=",".join(wanted),
    )
    for channel in wanted:
        if channel == Channel.EMAIL and not user.email:
            continue
        if channel != Channel.IN_APP:
            enqueue(deliver_notification, notification.pk, channel.value)
    return notification


def notification_deliver(*, notification: Notification, channel: str) -> bool:
    """Send one channel of a notification once; return False when it was already sent."""
    with transaction.atomic():
        try:
            delivery, _created = Delivery.objects.select_for_update().get_or_create(
                notification=notification, channel=channel
            )
        except IntegrityError:
            delivery = Delivery.objects.select_for_update().get(
                notification=notification, channel=channel
            )
        if delivery.sent_at is not None:
            return False
        user = notification.user
        if channel == Channel.SMS:
            sms_send_now(phone=user.phone, body=f"{notification.subject}: {notification.body}")
        elif channel == Channel.EMAIL and user.email:
            email_send_now(to=user.email, subject=notification.subject, body=notification.body)
        delivery.sent_at = timezone.now()
        delivery.save(update_fields=["sent_at"])
    return True


def sms_send_now(*, phone: str, body: str) -> None:
    get_sms_backend().send(phone=phone, body=str(body))


def email_send_now(*, to: str, subject: str, body: str) -> None:
    send_mail(str(subject), str(body), None, [to])


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
