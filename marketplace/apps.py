from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    """The site itself: base templates, static files, template tags, commands."""

    name = "marketplace"
    verbose_name = "Chợ Nổi"
