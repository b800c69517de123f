"""What core adds to the shell's navigation."""

from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.core import navigation

navigation.register(navigation.NavItem(key="home", label=_("Home"), url_name="core:home", icon="home", order=0))
navigation.register(
    navigation.NavItem(
        key="notifications", label=_("Notifications"), url_name="core:notification-list", icon="bell", order=900
    )
)
navigation.register(
    navigation.NavItem(
        key="system",
        label=_("System status"),
        url_name="core:system-status",
        icon="heart-rate-monitor",
        order=90,
        visible=access.can_see_system_status,
        group="settings",
    )
)
