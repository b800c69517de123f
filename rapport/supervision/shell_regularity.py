"""What regularity adds to the shell: the team page in the navigation, the policy under settings, and the client
card's regularity panel."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.clients.card_panels import register_card_panel
from rapport.core import navigation
from rapport.supervision.views.regularity import regularity_panel

navigation.register(
    navigation.NavItem(
        key="regularity",
        label=_("Purchase regularity"),
        url_name="supervision:regularity",
        icon="refresh",
        order=57,
        visible=access.sees_regularity_alerts,
    )
)
navigation.register(
    navigation.NavItem(
        key="regularity-policy",
        label=_("Regularity policy"),
        url_name="supervision:regularity-policy",
        icon="refresh",
        order=45,
        visible=access.can_configure_regularity,
        group="settings",
    )
)
register_card_panel(regularity_panel, column="side")
