"""What the activity settings add to the shell's admin menu."""

from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.core import navigation

navigation.register(
    navigation.NavItem(
        key="activity-settings",
        label=_("Activity settings"),
        url_name="activities:outcome-list",
        icon="checks",
        order=35,
        visible=access.can_configure_activities,
        group="settings",
    )
)
