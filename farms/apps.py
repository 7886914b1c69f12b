from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FarmsConfig(AppConfig):
    name = "farms"
    verbose_name = _("Farm households")

    def ready(self):
        from marketplace.accounts.hooks import register_export_section, user_anonymised

        from .personal_data import register
        from .selectors import farm_export
        from .services import farm_forget_owner

        register()
        register_export_section("farm", farm_export)
        user_anonymised.connect(farm_forget_owner, dispatch_uid="farms-anonymise")
