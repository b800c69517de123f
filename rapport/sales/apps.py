from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "rapport.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from rapport.sales import (
            admin_shell,  # noqa: F401  (products and the sales settings in the navigation)
            shell,  # noqa: F401  (the deal list and the board in the navigation)
            shell_orders,  # noqa: F401  (the orders panel on the client card)
            timeline,  # noqa: F401  (adds deals to the client timeline and merge)
        )
