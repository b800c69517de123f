"""The shell's navigation: apps register their sections here, the layout shows what a user may open.

A section appears only when its app is installed and the user's role may use it, so
the navigation never holds a dead link.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.translation import get_language

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
        return fixed_url(self.url_name)


_items: dict[str, NavItem] = {}


def fixed_url(url_name: str) -> str:
    """The URL of a view that takes no arguments, reversed once per process (and prefix, URL conf, language).

    The shell draws a few dozen of them on every page; reverse() costs tens of microseconds each.
    """
    return _reversed(url_name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF, get_language())


@functools.lru_cache(maxsize=512)
def _reversed(url_name: str, prefix: str, urlconf: str, language: str | None) -> str:
    # The prefix and the language only key the cache: reverse() reads both itself.
    return reverse(url_name, urlconf=urlconf)


def register(item: NavItem) -> None:
    _items[item.key] = item


def items_for(user: User, group: str = "main") -> list[NavItem]:
    return sorted(
        (item for item in _items.values() if item.group == group and item.visible(user)), key=lambda item: item.order
    )
