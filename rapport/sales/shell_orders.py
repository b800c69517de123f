"""What orders add to the shell: their panel on the client card (imported by SalesConfig.ready)."""

from __future__ import annotations

from rapport.clients.card_panels import register_card_panel
from rapport.sales.views.orders import orders_panel

register_card_panel(orders_panel, column="main")
