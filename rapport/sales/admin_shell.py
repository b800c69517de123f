"""What the catalogue and the sales settings add to the shell's navigation."""

from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.core import navigation

navigation.register(
    navigation.NavItem(
        key="products",
        label=_("Products"),
        url_name="sales:product-list",
        icon="tag",
        order=60,
        visible=access.can_see_catalogue,
    )
)
navigation.register(
    navigation.NavItem(
        key="sales-settings",
        label=_("Sales settings"),
        url_name="sales:pipeline-list",
        icon="adjustments",
        order=30,
        visible=access.can_configure_sales,
        group="settings",
    )
)
