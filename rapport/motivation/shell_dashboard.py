"""What the team dashboard adds to the shell: its place in the navigation, for those who manage people."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.core import navigation

navigation.register(
    navigation.NavItem(
        key="team-dashboard",
        label=_("Team dashboard"),
        url_name="motivation:dashboard",
        icon="layout-dashboard",
        order=47,
        visible=access.sees_team_dashboard,
    )
)
