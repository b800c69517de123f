"""Two records of one client made into one.

The survivor keeps its id and owner; the merged record goes to the trash (it cannot be
restored: everything it had now belongs to the survivor). Blank fields of the survivor
are filled from the merged record, the person merging picks the value of the others.
Apps whose records point at clients (deals, activities, calls …) register a mover, so a
merge takes their records across too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.clients.models import ClientMerge, ClientTransfer, Company, Contact, ContactPoint
from rapport.clients.search import search_text_of
from rapport.clients.services import AnyClient

# The fields a merge compares, per kind, in the order the comparison shows them.
MERGE_FIELDS = {
    "company": [
        "name",
        "tax_id",
        "industry",
        "address",
        "website",
        "lead_source",
        "notes",
        "consent_email",
        "consent_sms",
    ],
    "contact": [
        "last_name",
        "first_name",
        "middle_name",
        "position",
        "company",
        "birthday",
        "tax_id",
        "address",
        "website",
        "lead_source",
        "notes",
        "consent_email",
        "consent_sms",
    ],
}

# A mover takes one kind of record from the merged client to the survivor and says how many moved.
Mover = Callable[[AnyClient, AnyClient], int]
_movers: dict[str, tuple[Any, Mover]] = {}


def register_mover(key: str, label: Any, mover: Mover) -> None:
    _movers[key] = (label, mover)


@dataclass(frozen=True)
class FieldChoice:
    name: str
    label: str
    kept: Any
    merged: Any


def merge_differences(survivor: AnyClient, merged: AnyClient) -> list[FieldChoice]:
    """The fields where both records hold a value and the values differ: the person merging picks."""
    choices = []
    for name in MERGE_FIELDS[survivor.kind]:
        kept, other = getattr(survivor, name), getattr(merged, name)
        if kept not in ("", None, False) and other not in ("", None, False) and kept != other:
            label = str(getattr(type(survivor)._meta.get_field(name), "verbose_name", name))
            choices.append(FieldChoice(name=name, label=label, kept=kept, merged=other))
    return choices


@transaction.atomic
def client_merge(
    *, by: User, survivor: AnyClient, merged: AnyClient, take_from_merged: Iterable[str] = ()
) -> ClientMerge:
    """Merge `merged` into `survivor`: fields, phones and e-mails, people, transfers, tags, other apps' records."""
    if not access.can_merge_clients(by):
        raise PermissionDenied
    if type(survivor) is not type(merged) or survivor.pk == merged.pk:
        raise ValidationError(_("Choose another record of the same kind to merge with."))
    model = type(survivor)
    locked = {client.pk: client for client in model.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk])}
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    if survivor.is_deleted or merged.is_deleted:
        raise ValidationError(_("One of these records is in the trash already."))
    fields = MERGE_FIELDS[survivor.kind]
    chosen = set(take_from_merged)
    if chosen - set(fields):
        raise ValidationError(
            _("These fields cannot be merged: %(fields)s.") % {"fields": ", ".join(sorted(chosen - set(fields)))}
        )
    changes = {}
    for name in fields:
        kept, other = getattr(survivor, name), getattr(merged, name)
        if name in chosen or (kept in ("", None) and other not in ("", None)):
            changes[name] = other
    if isinstance(survivor, Contact) and changes.get("company") is not None and changes["company"].pk == survivor.pk:
        changes.pop("company")
    # The merged record leaves first: its tax id is then free for the survivor.
    merged.deleted_at, merged.deleted_by = timezone.now(), by
    merged._history_user = by  # type: ignore[union-attr]
    merged.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    moved = {
        "points": _move_points(survivor, merged),
        "transfers": ClientTransfer.objects.filter(**{survivor.kind: merged}).update(**{survivor.kind: survivor}),
    }
    if isinstance(survivor, Company):
        moved["contacts"] = Contact.objects.filter(company_id=merged.pk).update(company_id=survivor.pk)
    survivor.tags.add(*merged.tags.all())
    for key, (_label, mover) in _movers.items():
        moved[key] = mover(survivor, merged)
    for name, value in changes.items():
        setattr(survivor, name, value)
    survivor.full_clean(exclude=["tags"])
    survivor.search_text = search_text_of(survivor)
    survivor.version = F("version") + 1
    survivor._history_user = by  # type: ignore[union-attr]
    survivor.save(update_fields=[*changes, "search_text", "version", "updated_at"])
    return ClientMerge.objects.create(
        kind=survivor.kind,
        survivor_id=survivor.pk,
        merged_id=merged.pk,
        merged_name=merged.display_name[:300],
        moved={key: count for key, count in moved.items() if count},
        by=by,
    )


def _move_points(survivor: AnyClient, merged: AnyClient) -> int:
    """Phones and e-mails the survivor lacks move over (not as primary if it has one); duplicates go."""
    kept = ContactPoint.objects.filter(**{survivor.kind: survivor})
    known = set(kept.values_list("kind", "normalized"))
    has_primary = set(kept.filter(is_primary=True).values_list("kind", flat=True))
    moved = 0
    for point in ContactPoint.objects.filter(**{survivor.kind: merged}).order_by("-is_primary", "id"):
        if (point.kind, point.normalized) in known:
            point.delete()
            continue
        setattr(point, survivor.kind, survivor)
        point.is_primary = point.kind not in has_primary
        has_primary.add(point.kind)
        known.add((point.kind, point.normalized))
        point.save(update_fields=[survivor.kind, "is_primary", "updated_at"])
        moved += 1
    return moved


MOVED_LABELS = {
    "points": gettext_lazy("phones and e-mails"),
    "transfers": gettext_lazy("transfers"),
    "contacts": gettext_lazy("people"),
}


def moved_summary(merge: ClientMerge) -> str:
    """'2 phones and e-mails, 1 people …' for the timeline."""
    labels = {**MOVED_LABELS, **{key: label for key, (label, _mover) in _movers.items()}}
    return ", ".join(f"{labels.get(key, key)}: {count}" for key, count in merge.moved.items())
