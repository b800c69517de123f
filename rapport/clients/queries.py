"""Reads that feed the client screens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rapport.clients.models import ClientTransfer, Company, ContactPoint

if TYPE_CHECKING:
    from rapport.clients.services import AnyClient

HISTORY_SIZE = 20
# Fields whose changes the history tab shows (stamps and bookkeeping are left out).
HIDDEN_HISTORY_FIELDS = {"version", "updated_at", "search_text", "last_contact_at", "deleted_by"}


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    by: str
    changes: list[FieldChange]
    created: bool


def history_of(client: AnyClient) -> list[HistoryEntry]:
    """The latest changes, newest first: who, when, each field old → new."""
    records = list(client.history.select_related("history_user")[: HISTORY_SIZE + 1])
    model = type(client)
    entries: list[HistoryEntry] = []
    for record, previous in zip(records, [*records[1:], None], strict=False):
        if len(entries) == HISTORY_SIZE:
            break
        changes = []
        if previous is not None:
            # Tags are left out: diffing many-to-many fields costs a query per record.
            delta = record.diff_against(
                previous, excluded_fields=[*HIDDEN_HISTORY_FIELDS, "tags"], foreign_keys_are_objs=False
            )
            for change in delta.changes:
                label = str(getattr(model._meta.get_field(change.field), "verbose_name", change.field))
                changes.append(FieldChange(field=label, old=change.old, new=change.new))
            if not changes:
                continue
        entries.append(
            HistoryEntry(
                at=record.history_date,
                by=record.history_user.display_name if record.history_user else "",
                changes=changes,
                created=previous is None,
            )
        )
    return entries


def points_of(client: AnyClient) -> list[ContactPoint]:
    kind = "company" if isinstance(client, Company) else "contact"
    return list(ContactPoint.objects.filter(**{kind: client}))


def transfers_of(client: AnyClient) -> list[ClientTransfer]:
    kind = "company" if isinstance(client, Company) else "contact"
    return list(ClientTransfer.objects.filter(**{kind: client}).select_related("from_user", "to_user", "by")[:50])
