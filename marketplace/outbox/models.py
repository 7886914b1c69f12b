import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """A task to publish, written in the transaction of the change that needs it."""

    task_id = models.UUIDField(_("task id"), default=uuid.uuid4, unique=True, editable=False)
    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # Pending while null; the relay publishes pending rows whose `available_at` has come.
    sent_at = models.DateTimeField(_("published"), null=True, blank=True)
    available_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("failed publish attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    # Written by the worker: how many runs of this message finished, and when the last did.
    runs = models.PositiveIntegerField(_("finished runs"), default=0)
    done_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["available_at", "id"], condition=Q(sent_at__isnull=True), name="outbox_pending"
            ),
            models.Index(fields=["sent_at"], condition=Q(sent_at__isnull=False), name="outbox_sent"),
        ]

    def __str__(self):
        return f"{self.task}{tuple(self.args)}"
