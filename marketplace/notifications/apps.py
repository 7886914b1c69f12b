from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "marketplace.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from marketplace.accounts.hooks import register_export_section, user_anonymised

        from .selectors import notifications_export
        from .services import notifications_delete_for_user

        register_export_section("notifications", notifications_export)
        user_anonymised.connect(notifications_delete_for_user, dispatch_uid="notifications-anonymise")
