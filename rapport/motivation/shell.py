"""What motivation adds to the shell: data quality in the navigation."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.core import navigation

# For those who may own clients: their own score, and from there a head's or an admin's team view.
navigation.register(
    navigation.NavItem(
        key="data-quality",
        label=_("Data quality"),
        url_name="motivation:quality",
        icon="checks",
        order=50,
        visible=access.can_create_clients,
    )
)
