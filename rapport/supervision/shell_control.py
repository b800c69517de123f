"""What the control room adds to the shell: its place in the navigation, for those who manage people."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.core import navigation

navigation.register(
    navigation.NavItem(
        key="control-room",
        label=_("Control room"),
        url_name="supervision:control",
        icon="layout-dashboard",
        order=47,
        visible=access.sees_team_dashboard,
    )
)
