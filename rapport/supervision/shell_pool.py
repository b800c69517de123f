"""What the shared pool adds to the shell: its page for everyone who sees it, its limit under the settings."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.core import navigation

navigation.register(
    navigation.NavItem(
        key="pool",
        label=_("Shared pool"),
        url_name="supervision:pool",
        icon="user-plus",
        order=25,
        visible=access.sees_pool,
    )
)
navigation.register(
    navigation.NavItem(
        key="pool-policy",
        label=_("Shared pool limit"),
        url_name="supervision:pool-policy",
        icon="user-plus",
        order=47,
        visible=access.can_configure_pool,
        group="settings",
    )
)
