"""What other apps show on the client card, each as HTML for the request and the client.

The client base knows nothing of orders or redistribution rules: supervision and sales register
their panels here (in their AppConfig.ready), and the card draws them — the side column under
the deals, the main column above the timeline. A panel returns "" when it has nothing to say;
each should cost a query or two.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from rapport.clients.models import Company, Contact

# A panel renders a template (render_to_string): its HTML is escaped where it must be.
Panel = Callable[[HttpRequest, Company | Contact], str]
Column = Literal["side", "main"]

_panels: dict[Column, list[Panel]] = {"side": [], "main": []}


def register_card_panel(panel: Panel, *, column: Column = "side") -> None:
    if panel not in _panels[column]:
        _panels[column].append(panel)


def card_panels(request: HttpRequest, client: Company | Contact, column: Column) -> SafeString:
    # Each panel is a rendered template (render_to_string escapes what it shows): joined, still safe.
    return mark_safe("".join(panel(request, client) for panel in _panels[column]))  # noqa: S308
