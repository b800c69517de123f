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

from rapport.clients.models import ClientMerge, ClientTransfer
from rapport.clients.queries import NAME_FIELDS

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
    key: str = ""  # the entry's DOM id, for the entries an htmx answer redraws ("activity-12")
    badge: str = ""  # a word to the owner: what the entry still waits for
    recording_url: str = ""  # a call's recording, from the telephony


Source = Callable[["AnyClient", int, "User"], list[TimelineEntry]]
_sources: dict[str, Source] = {}


def register(key: str, source: Source) -> None:
    _sources[key] = source


def timeline_for(client: AnyClient, *, viewer: User, limit: int = TIMELINE_SIZE) -> list[TimelineEntry]:
    streams = [source(client, limit, viewer) for source in _sources.values()]
    return list(heapq.merge(*streams, key=lambda entry: entry.at, reverse=True))[:limit]


def _name(username: str | None, first_name: str | None, last_name: str | None) -> str:
    """A person's display name from their columns, as ``User.display_name`` words it."""
    return f"{first_name or ''} {last_name or ''}".strip() or (username or "")


def _transfers(client: AnyClient, limit: int, viewer: User) -> list[TimelineEntry]:
    # Plain values, not model instances: fifty transfers with three people each are the card's
    # longest stream, and building 200 objects for a line of text each cost more than the query.
    people = [f"{person}__{name}" for person in ("from_user", "to_user", "by") for name in NAME_FIELDS]
    rows = ClientTransfer.objects.filter(**{client.kind: client}).values_list("at", "reason", *people)[:limit]
    entries = []
    for at, reason, *names in rows:
        source, target, by = _name(*names[0:3]), _name(*names[3:6]), _name(*names[6:9])
        entries.append(
            TimelineEntry(
                at=at,
                kind="transfer",
                icon="arrow-right",
                title=_("Moved from %(source)s to %(target)s")
                % {"source": source or _("the pool"), "target": target or _("the pool")},
                body=reason,
                by=by,
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
