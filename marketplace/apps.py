from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    """The site itself: base templates, static files, template tags, commands."""

    name = "marketplace"
    verbose_name = "Chợ Nổi"

    def ready(self):
        # Before any URLconf is imported: every app's routes use `<id:…>`.
        from .converters import register

        register()

        # `check --deploy`: production's message backends and cache (marketplace/checks.py).
        from django.core import checks

        from .checks import check_production_backends

        checks.register(check_production_backends, checks.Tags.security, deploy=True)

        # django-axes names its admin section "Axes", untranslatable: staff read what it holds.
        from django.apps import apps
        from django.utils.translation import gettext_lazy as _

        apps.get_app_config("axes").verbose_name = _("Login lockouts")
