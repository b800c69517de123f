"""Numbered pages of list screens: 25 rows, "previous / next" and "26–50 of 1,234"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
