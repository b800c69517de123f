"""The board's cards, drawn in Python: a board holds up to 300 of them, timed to 60 ms a page.

Django's template engine costs a few microseconds per variable and tag; over 300 cards of
a dozen fields each, that was most of the page's time. ``board_cards`` draws the same
markup a template would, every value escaped.
"""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

from django import template
from django.utils import dateformat, formats, numberformat
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rapport.core.templatetags.rapport import icon
from rapport.sales.board import Card, Column

register = template.Library()

_escape = html.escape  # plain str only: cheaper than Django's escape, which also checks for lazy strings


class _Words:
    """What every card says alike, translated, looked up and drawn once per column."""

    def __init__(self) -> None:
        self.close = _escape(_("Expected close date"))
        self.owner = _escape(_("Owner"))
        self.next_step = _escape(_("Next step overdue"))
        self.checkpoint = _escape(_("Checkpoint overdue"))
        self.calendar, self.user = str(icon("calendar")), str(icon("user"))
        self.clock, self.alert, self.history = str(icon("clock")), str(icon("alert-triangle")), str(icon("history"))
        # The number format of the language, read once rather than once per amount.
        self.decimal = str(formats.get_format("DECIMAL_SEPARATOR"))
        self.thousands = str(formats.get_format("THOUSAND_SEPARATOR"))
        self.grouping = formats.get_format("NUMBER_GROUPING")
        self.date_format = str(formats.get_format("SHORT_DATE_FORMAT"))
        self.dates: dict[date, str] = {}
        self.stuck: dict[int, str] = {}
        self.currencies: dict[str, str] = {}

    def money(self, amount: Decimal) -> str:
        places = 0 if amount == amount.to_integral_value() else 2
        if self.grouping == 3:
            # Python groups by threes itself, an order of magnitude faster; the separators are then the language's.
            plain = f"{amount:,.{places}f}"
            return _escape(plain.replace(",", "\0").replace(".", self.decimal).replace("\0", self.thousands))
        return _escape(
            numberformat.format(amount, self.decimal, places, self.grouping, self.thousands, force_grouping=True)
        )

    def day(self, value: date) -> str:
        if value not in self.dates:
            self.dates[value] = _escape(dateformat.format(value, self.date_format))
        return self.dates[value]

    def currency(self, code: str) -> str:
        if code not in self.currencies:
            self.currencies[code] = _escape(code)
        return self.currencies[code]

    def days_in_stage(self, days: int) -> str:
        if days not in self.stuck:
            words = ngettext("%(days)s day in this stage", "%(days)s days in this stage", days) % {"days": days}
            self.stuck[days] = _escape(words)
        return self.stuck[days]


def _card(card: Card, words: _Words, show_owner: bool) -> str:
    deal = card.deal
    # The URLs are reverse()'s with a number in them: nothing to escape.
    movable = f' data-movable data-move-url="{card.move_url}"' if card.can_move else ""
    parts = [
        f'<article class="board-card{" board-card-movable" if card.can_move else ""}" id="deal-{deal.pk}" '
        f'data-deal="{deal.pk}" data-version="{deal.version}"{movable}>',
        f'<a class="board-card-title" href="{card.url}">{_escape(deal.title)}</a>',
    ]
    client = card.client_name
    if client:
        parts.append(f'<div class="board-card-client text-secondary">{_escape(client)}</div>')
    meta = []
    if deal.amount is not None:
        meta.append(
            f'<span class="board-card-amount">{words.money(deal.amount)} {words.currency(deal.currency)}</span>'
        )
    if deal.expected_close:
        day = words.day(deal.expected_close)
        meta.append(f'<span class="board-card-close" title="{words.close}">{words.calendar} {day}</span>')
    if show_owner and deal.owner:
        name = _escape(deal.owner.display_name)
        meta.append(f'<span class="board-card-owner" title="{words.owner}">{words.user} {name}</span>')
    parts.append(f'<div class="board-card-meta">{"".join(meta)}</div>')
    flags = []
    if card.next_step_overdue:
        flags.append(f'<span class="badge bg-red-lt" data-flag="next-step">{words.clock} {words.next_step}</span>')
    if card.checkpoint_overdue:
        flags.append(f'<span class="badge bg-orange-lt" data-flag="checkpoint">{words.alert} {words.checkpoint}</span>')
    if card.stuck_days:
        days = words.days_in_stage(card.stuck_days)
        flags.append(f'<span class="badge bg-yellow-lt" data-flag="stuck">{words.history} {days}</span>')
    if flags:
        parts.append(f'<div class="board-card-flags">{"".join(flags)}</div>')
    parts.append("</article>")
    return "".join(parts)


def cards_html(cards: list[Card], *, show_owner: bool) -> SafeString:
    """Cards as HTML, each value escaped in ``_card``."""
    words = _Words()
    return mark_safe("".join(_card(card, words, show_owner) for card in cards))  # noqa: S308


@register.simple_tag
def board_cards(column: Column, show_owner: bool) -> SafeString:
    return cards_html(column.cards, show_owner=show_owner)
