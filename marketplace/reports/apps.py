from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "marketplace.reports"
    label = "reports"
    verbose_name = _("Sales statistics")

    def ready(self):
        from orders.hooks import order_changed

        from .personal_data import register
        from .tasks import refresh_after_commit

        order_changed.connect(refresh_after_commit, dispatch_uid="reports-refresh-order-day")
        register()
