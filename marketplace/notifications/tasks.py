from celery import shared_task

from .models import Notification
from .services import notification_deliver


@shared_task(
    name="notifications.deliver",
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=8,
)
def deliver_notification(notification_id: int, channel: str) -> bool:
    notification = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if notification is None:
        return False
    return notification_deliver(notification=notification, channel=channel)
