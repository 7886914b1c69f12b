"""What officials change in the statistics: their monthly report subscription."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import ReportSubscription


def report_subscription_set(*, user, monthly: bool) -> bool:
    """Subscribe `user` to the monthly XLSX report by email, or stop it; return whether subscribed.

    Subscribing needs an email address on the account.
    """
    if not monthly:
        ReportSubscription.objects.filter(user=user).delete()
        return False
    if not user.email:
        raise ValidationError(_("Add an email address to your account first."))
    ReportSubscription.objects.get_or_create(user=user)
    return True
