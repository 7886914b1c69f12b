from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from logistics.hooks import shipment_changed, shipment_step_starting
        from marketplace.accounts.hooks import register_export_section, user_anonymised

        from .personal_data import register
        from .selectors import cart_export, orders_export
        from .services.fulfilment import (
            on_shipment_changed,
            on_shipment_step_starting,
            orders_anonymise_for_user,
        )
        from .sessions import merge_cart_on_login

        user_logged_in.connect(merge_cart_on_login, dispatch_uid="orders-merge-cart")
        shipment_step_starting.connect(on_shipment_step_starting, dispatch_uid="orders-lock-order-first")
        shipment_changed.connect(on_shipment_changed, dispatch_uid="orders-shipment-changed")
        register()  # the personal data registry: it wipes orders' contacts and deletes the cart
        register_export_section("cart", cart_export)
        register_export_section("orders", orders_export)
        user_anonymised.connect(orders_anonymise_for_user, dispatch_uid="orders-anonymise-deliveries")
