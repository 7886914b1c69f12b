from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "marketplace.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from marketplace.accounts.hooks import register_export_section

        from .personal_data import register
        from .selectors import notifications_export

        register_export_section("notifications", notifications_export)
        # Deleted with the account by the personal data registry's eraser.
        register()
