"""What api adds to the shell: the admins' way to everyone's API tokens (others reach theirs from the profile)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.core import navigation

navigation.register(
    navigation.NavItem(
        key="api-tokens",
        label=_("API tokens"),
        url_name="tokens:token-list",
        icon="key",
        order=90,
        visible=access.can_manage_users,
        group="settings",
    )
)
