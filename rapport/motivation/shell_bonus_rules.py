"""What bonus rules add to the shell: the rules in the administration part of the navigation."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.core import navigation

navigation.register(
    navigation.NavItem(
        key="bonus-rules",
        label=_("Bonus rules"),
        url_name="motivation:bonus-rules",
        icon="star",
        order=45,
        visible=access.can_configure_bonus_rules,
        group="settings",
    )
)
