"""What telephony adds to the shell: its settings, for admins."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.core import navigation

navigation.register(
    navigation.NavItem(
        key="telephony",
        label=_("Telephony"),
        url_name="telephony:integration-list",
        icon="phone",
        order=48,
        visible=access.can_configure_telephony,
        group="settings",
    )
)
