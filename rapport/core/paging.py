"""Numbered pages of list screens: 25 rows, "previous / next" and "26–50 of 1,234"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import QueryDict

PAGE_SIZE = 25


class PageNumbering:
    """What a list template asks of a page; a page dataclass mixes it in next to its ``number`` and ``rows``."""

    number: int
    rows: Sequence[Any]

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def first_index(self) -> int:
        return (self.number - 1) * PAGE_SIZE + 1 if self.rows else 0

    @property
    def last_index(self) -> int:
        return (self.number - 1) * PAGE_SIZE + len(self.rows)


def page_number(data: QueryDict) -> int:
    """The ``page`` of a query string; anything but a positive whole number is the first page."""
    try:
        return max(1, int(data.get("page", "1") or "1"))
    except ValueError:
        return 1


def with_page(query: str, number: int) -> str:
    """A list's query string with its page number (none for the first page, as bookmarks keep it)."""
    return "&".join(part for part in [query, f"page={number}" if number > 1 else ""] if part)
