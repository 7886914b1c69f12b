from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "marketplace.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from marketplace.accounts.hooks import register_export_section

        from .selectors import notifications_export

        register_export_section("notifications", notifications_export)
