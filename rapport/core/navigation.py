"""The shell's navigation: apps register their sections here, the layout shows what a user may open.

A section appears only when its app is installed and the user's role may use it, so
the navigation never holds a dead link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.functional import Promise

if TYPE_CHECKING:
    from rapport.accounts.models import User


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str | Promise
    url_name: str
    icon: str  # name of a Tabler icon in the sprite
    order: int = 100
    visible: Callable[[User], bool] = field(default=lambda user: True)
    group: str = "main"  # "main" in the side bar, "settings" under the admin menu

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_items: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    _items[item.key] = item


def items_for(user: User, group: str = "main") -> list[NavItem]:
    return sorted(
        (item for item in _items.values() if item.group == group and item.visible(user)), key=lambda item: item.order
    )
