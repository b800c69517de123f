"""The client timeline: one chronological feed that apps add entry types to.

An app registers a source: a function that returns the latest entries it has for a
client (at most ``limit``, newest first, with the queries it needs bounded) as seen by
``viewer`` — a source whose records have their own access rules (deals, say) filters them
through the access policy. The card merges every source's entries and shows the newest.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from rapport.clients.models import ClientMerge
from rapport.clients.queries import transfers_of

if TYPE_CHECKING:
    from rapport.accounts.models import User
    from rapport.clients.services import AnyClient

TIMELINE_SIZE = 50


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # a short key for styling and tests: "transfer", "created", "call" …
    icon: str
    title: str
    body: str = ""
    by: str = ""
    url: str = ""


Source = Callable[["AnyClient", int, "User"], list[TimelineEntry]]
_sources: dict[str, Source] = {}


def register(key: str, source: Source) -> None:
    _sources[key] = source


def timeline_for(client: AnyClient, *, viewer: User, limit: int = TIMELINE_SIZE) -> list[TimelineEntry]:
    streams = [source(client, limit, viewer) for source in _sources.values()]
    return list(heapq.merge(*streams, key=lambda entry: entry.at, reverse=True))[:limit]


def _transfers(client: AnyClient, limit: int, viewer: User) -> list[TimelineEntry]:
    entries = []
    for transfer in transfers_of(client)[:limit]:
        source = transfer.from_user.display_name if transfer.from_user else _("the pool")
        target = transfer.to_user.display_name if transfer.to_user else _("the pool")
        entries.append(
            TimelineEntry(
                at=transfer.at,
                kind="transfer",
                icon="arrow-right",
                title=_("Moved from %(source)s to %(target)s") % {"source": source, "target": target},
                body=transfer.reason,
                by=transfer.by.display_name if transfer.by else "",
            )
        )
    return entries


def _registered(client: AnyClient, limit: int, viewer: User) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            at=client.created_at,
            kind="created",
            icon="user-plus",
            title=_("Registered in Rapport"),
            by=client.registrant.display_name if client.registrant else "",
        )
    ]


def _merges(client: AnyClient, limit: int, viewer: User) -> list[TimelineEntry]:
    from rapport.clients.merge import moved_summary

    merges = ClientMerge.objects.filter(kind=client.kind, survivor_id=client.pk).select_related("by")[:limit]
    return [
        TimelineEntry(
            at=merge.at,
            kind="merge",
            icon="git-merge",
            title=_("Merged with %(name)s") % {"name": merge.merged_name},
            body=moved_summary(merge),
            by=merge.by.display_name if merge.by else "",
        )
        for merge in merges
    ]


register("transfers", _transfers)
register("merges", _merges)
register("registered", _registered)
