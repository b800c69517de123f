"""The optional columns of the company and contact lists (and of their exports), and how they are read.

The chosen columns travel in the query string as ``cols=phone,owner``: bookmarkable and
kept in saved views. Without ``cols`` a list shows its default columns; the name is
always shown, so ``cols=name`` means the name alone.

Rows are read as plain values (``QuerySet.values``), not model instances: a list page is
timed to 30 ms and an export may hold 200k rows. Each column names the fields it needs,
so only what the chosen columns show is joined; the primary phone and e-mail, the tags and
the next step are read with one query per batch of rows, and only when shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rapport.clients.models import Company, Contact, ContactPoint, ContactPointKind

NAME = "name"


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    fields: tuple[str, ...] = ()  # the values() it needs, relations' fields included
    batch: str = ""  # read per batch of rows instead: "points" (primary phone and e-mail), "tags", "next_step"


PHONE = Column("phone", _("Phone"), batch="points")
EMAIL = Column("email", _("E-mail"), batch="points")
OWNER = Column("owner", _("Owner"), ("owner_id", "owner__first_name", "owner__last_name", "owner__username"))
STATUS = Column("status", _("Status"), ("status",))
LAST_CONTACT = Column("last_contact", _("Last contact"), ("last_contact_at",))
LEAD_SOURCE = Column("lead_source", _("Lead source"), ("lead_source__name",))
TAGS = Column("tags", _("Tags"), batch="tags")
# The soonest planned activity; an active client without one is flagged (a contact's company's step counts).
NEXT_STEP = {
    "company": Column("next_step", _("Next step"), ("status",), batch="next_step"),
    "contact": Column("next_step", _("Next step"), ("status", "company_id"), batch="next_step"),
}
# What the name needs, always read.
NAME_FIELDS = {"company": ("id", "name"), "contact": ("id", "last_name", "first_name", "middle_name")}

# In the order they appear on screen and in exports, after the name.
COLUMNS: dict[str, list[Column]] = {
    "company": [
        PHONE,
        EMAIL,
        OWNER,
        STATUS,
        LAST_CONTACT,
        NEXT_STEP["company"],
        LEAD_SOURCE,
        TAGS,
        Column("industry", _("Industry"), ("industry",)),
        Column("tax_id", _("Tax id"), ("tax_id",)),
        Column("created", _("Created"), ("created_at",)),
    ],
    "contact": [
        Column("company", _("Company"), ("company__name",)),
        Column("position", _("Position"), ("position",)),
        PHONE,
        EMAIL,
        OWNER,
        STATUS,
        LAST_CONTACT,
        NEXT_STEP["contact"],
        Column("birthday", _("Birthday"), ("birthday",)),
        LEAD_SOURCE,
        TAGS,
    ],
}
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "company": ("phone", "owner", "status", "last_contact", "next_step", "lead_source"),
    "contact": ("company", "position", "phone", "owner", "status", "last_contact", "next_step", "lead_source"),
}


@dataclass(frozen=True)
class ColumnChoice:
    """The columns a list shows, and what was asked for that no such list has."""

    kind: str
    columns: list[Column]
    unknown: list[str]

    @property
    def keys(self) -> list[str]:
        return [column.key for column in self.columns]

    @property
    def shown(self) -> dict[str, bool]:
        """Key → True for each shown column, for `{% if show.phone %}` in templates."""
        return {column.key: True for column in self.columns}

    @property
    def is_default(self) -> bool:
        return tuple(self.keys) == DEFAULT_COLUMNS[self.kind]

    @property
    def query_value(self) -> str:
        """The ``cols`` value that brings these columns back ("" for the defaults)."""
        if self.is_default:
            return ""
        return ",".join(self.keys) or NAME

    @property
    def fields(self) -> list[str]:
        """The values() to read to show the name and these columns."""
        return [*NAME_FIELDS[self.kind], *(field for column in self.columns for field in column.fields)]

    @property
    def batches(self) -> set[str]:
        return {column.batch for column in self.columns if column.batch}


def columns_chosen(kind: str, values: Iterable[str] | None) -> ColumnChoice:
    """The columns asked for by the ``cols`` values (repeated or comma-separated); None: the defaults.

    Unknown keys are left out and reported, never an error: a bookmark made before a
    column was renamed still opens.
    """
    available = {column.key: column for column in COLUMNS[kind]}
    if values is None:
        return ColumnChoice(kind, [available[key] for key in DEFAULT_COLUMNS[kind]], [])
    asked = {part.strip() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(asked - set(available) - {NAME})
    return ColumnChoice(kind, [column for column in COLUMNS[kind] if column.key in asked], unknown)


# ---- Reading rows ----------------------------------------------------------------------------


class Point(NamedTuple):
    """A primary phone or e-mail as a list shows it."""

    value: str
    href: str


def _href(kind: str, normalized: str) -> str:
    # As ContactPoint.href: tel: with E.164, mailto: with the folded address.
    if kind == ContactPointKind.PHONE:
        return f"tel:{normalized}"
    if kind == ContactPointKind.EMAIL:
        return f"mailto:{normalized}"
    return ""


def _person(first: str | None, last: str | None, username: str | None) -> str:
    # As User.display_name: the full name, else the username.
    return f"{first or ''} {last or ''}".strip() or (username or "")


def _finish(kind: str, rows: list[dict[str, Any]], batches: set[str]) -> list[dict[str, Any]]:
    """Name each row and add what its columns read per batch: primary points, tags."""
    for row in rows:
        if kind == "company":
            row["display_name"] = row["name"]
        else:
            # As Contact.display_name.
            parts = (row["last_name"], row["first_name"], row["middle_name"])
            row["display_name"] = " ".join(part for part in parts if part)
        if "owner_id" in row:
            row["owner"] = (
                _person(row["owner__first_name"], row["owner__last_name"], row["owner__username"])
                if row["owner_id"]
                else None
            )
        if "company__name" in row:
            row["company"] = row["company__name"] or ""
        if "lead_source__name" in row:
            row["lead_source"] = row["lead_source__name"] or ""
    if not rows:
        return rows
    by_id = {row["id"]: row for row in rows}
    if "points" in batches:
        for row in rows:
            row["phone"] = row["email"] = None
        points = ContactPoint.objects.filter(**{f"{kind}_id__in": list(by_id)}, is_primary=True).order_by()
        for client_id, point_kind, value, normalized in points.values_list(f"{kind}_id", "kind", "value", "normalized"):
            if point_kind in {ContactPointKind.PHONE, ContactPointKind.EMAIL}:
                by_id[client_id][point_kind] = Point(value, _href(point_kind, normalized))
    if "tags" in batches:
        for row in rows:
            row["tags"] = []
        model = Company if kind == "company" else Contact
        through = model.tags.through
        links = through.objects.filter(**{f"{kind}_id__in": list(by_id)}).order_by("tag__name")
        for client_id, name in links.values_list(f"{kind}_id", "tag__name"):
            by_id[client_id]["tags"].append(name)
    if "next_step" in batches:
        from rapport.activities.next_steps import next_steps_of

        steps = next_steps_of(kind, rows)
        for row in rows:
            row["next_step"] = steps.get(row["id"])
    return rows


def read_rows(rows: QuerySet[Any], choice: ColumnChoice, *, extra: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The rows of a (sliced) queryset as dicts: what the name and the chosen columns show.

    Keys: ``id``, ``display_name`` and each column's key; ``extra`` fields come under their names.
    """
    values = list(rows.values(*dict.fromkeys([*choice.fields, *extra])))
    return _finish(choice.kind, values, choice.batches)


def iter_rows(
    rows: QuerySet[Any], choice: ColumnChoice, *, chunk_size: int, extra: Iterable[str] = ()
) -> Iterator[list[dict[str, Any]]]:
    """All rows of a queryset in batches of ``chunk_size``, each batch completed with one query per batched column."""
    wanted = choice.batches
    batch: list[dict[str, Any]] = []
    for row in rows.values(*dict.fromkeys([*choice.fields, *extra])).iterator(chunk_size=chunk_size):
        batch.append(row)
        if len(batch) == chunk_size:
            yield _finish(choice.kind, batch, wanted)
            batch = []
    if batch:
        yield _finish(choice.kind, batch, wanted)
