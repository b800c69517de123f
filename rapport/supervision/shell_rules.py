"""What redistribution adds to the shell: the rules (administration), proposals (heads and admins), the rules for
one's clients (those who own clients; anyone may open the page), and the countdown on the client card."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.clients.card_panels import register_card_panel
from rapport.core import navigation
from rapport.supervision.views.rules import card_panel

navigation.register(
    navigation.NavItem(
        key="redistribution",
        label=_("Redistribution"),
        url_name="supervision:rules",
        icon="transfer",
        order=46,
        visible=access.can_configure_redistribution,
        group="settings",
    )
)
navigation.register(
    navigation.NavItem(
        key="proposals",
        label=_("Proposals"),
        url_name="supervision:proposals",
        icon="arrow-big-right",
        order=55,
        visible=access.sees_proposals,
    )
)
navigation.register(
    navigation.NavItem(
        key="my-rules",
        label=_("Rules for my clients"),
        url_name="supervision:my-rules",
        icon="info-circle",
        order=95,
        visible=access.sees_rules_for_own_clients,
    )
)
register_card_panel(card_panel, column="side")
