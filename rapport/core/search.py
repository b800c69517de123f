"""Global search: the shell's search box asks every registered provider.

Each app registers a provider for its own records; a provider must filter through the
access policy itself, since it knows its records and the policy's query for them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.functional import Promise

if TYPE_CHECKING:
    from rapport.accounts.models import User

MIN_QUERY_LENGTH = 2


@dataclass(frozen=True)
class SearchHit:
    title: str
    url: str
    subtitle: str = ""


@dataclass(frozen=True)
class SearchProvider:
    key: str
    label: str | Promise  # the group heading in the results, e.g. "Contacts"
    icon: str
    search: Callable[[User, str, int], list[SearchHit]]
    order: int = 100


@dataclass(frozen=True)
class SearchGroup:
    provider: SearchProvider
    hits: list[SearchHit]


_providers: dict[str, SearchProvider] = {}


def register(provider: SearchProvider) -> None:
    _providers[provider.key] = provider


def search_everything(user: User, query: str, *, limit_per_kind: int = 8) -> list[SearchGroup]:
    """Hits grouped by kind, in the providers' order; kinds without hits are left out."""
    # Control characters (a NUL from a pasted value) match nothing, and PostgreSQL refuses them.
    query = " ".join("".join(ch for ch in query if unicodedata.category(ch) != "Cc" or ch.isspace()).split())
    if len(query) < MIN_QUERY_LENGTH:
        return []
    groups = []
    for provider in sorted(_providers.values(), key=lambda p: p.order):
        hits = provider.search(user, query, limit_per_kind)
        if hits:
            groups.append(SearchGroup(provider=provider, hits=hits))
    return groups
