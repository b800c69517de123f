"""What bonuses add to the shell: statements in the navigation (imported by MotivationConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.core import navigation

navigation.register(
    navigation.NavItem(
        key="bonuses",
        label=_("Bonuses"),
        url_name="motivation:statements",
        icon="coin",
        order=49,
        visible=access.sees_statements,
    )
)
