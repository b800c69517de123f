"""Activities imported from a CSV file (the history of an old CRM, a spreadsheet of calls): every row through
``services.activity_create``, so an import meets the same checks as the form and the API — the minimum data
above all.

The file is checked by importing it in a transaction that is then rolled back (the dry run),
and imported by doing the same and keeping it: all rows, or none when one is wrong. Rows name
their clients by what a spreadsheet holds: the company's name, the person's e-mail or phone,
or the ids Rapport's own exports and API give.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.activities import services
from rapport.activities.models import Activity, ActivityKind, ActivityStatus, Direction, Outcome
from rapport.clients.models import Company, Contact, ContactPoint
from rapport.core.csv_files import CsvFileError, RowError, read_csv
from rapport.core.phones import phone_parse

# A request imports at most this many rows (each goes through the service's checks): a larger history goes in parts.
MAX_ROWS = 5_000
ERRORS_SHOWN = 200
COLUMNS = (
    "kind",
    "status",
    "direction",
    "subject",
    "result",
    "outcome",
    "due",
    "done",
    "duration",
    "owner",
    "company",
    "company_id",
    "contact",
    "contact_id",
    "deal_id",
)
# Which column gives what the service calls a field (for its refusals).
COLUMN_OF_FIELD = {"due_at": "due", "done_at": "done", "company": "company", "contact": "contact", "deal": "deal_id"}


@dataclass
class ActivityImport:
    """What a file did or would do. ``errors`` empty and ``rows`` above zero means it can be imported."""

    rows: int = 0
    created: int = 0
    applied: bool = False
    errors: list[RowError] = field(default_factory=list)

    @property
    def can_apply(self) -> bool:
        return not self.errors and self.rows > 0

    @property
    def errors_shown(self) -> list[RowError]:
        return self.errors[:ERRORS_SHOWN]


class _RowError(Exception):
    pass


def _choices(pairs: list[tuple[str, Any]]) -> dict[str, str]:
    """A choice's code, its label in the reader's language and in English, each folded, to the code."""
    found = {}
    for value, label in pairs:
        found[value.casefold()] = value
        found[str(label).casefold()] = value
        with translation.override("en"):
            found[str(label).casefold()] = value
    return found


class _Lookups:
    """What the rows refer to, each read once for the whole file."""

    def __init__(self, by: User, rows: list[dict[str, str]]) -> None:
        self.by = by
        self.kinds = _choices(ActivityKind.choices)
        self.statuses = _choices(ActivityStatus.choices)
        self.directions = _choices(Direction.choices)
        self.outcomes = {(outcome.kind, outcome.name.casefold()): outcome for outcome in Outcome.objects.all()}
        wanted_people = {row["owner"].casefold() for row in rows if row.get("owner")}
        self.people: dict[str, User] = {}
        if wanted_people:
            for person in User.objects.filter(Q(username__in=wanted_people) | Q(email__in=wanted_people)):
                for key in (person.username.casefold(), person.email.casefold()):
                    if key in wanted_people:
                        self.people[key] = person
        names = {row["company"] for row in rows if row.get("company")}
        self.companies: dict[str, list[Company]] = {}
        for company in access.companies_visible_to(by).filter(name__in=names):
            self.companies.setdefault(company.name, []).append(company)
        self.companies_by_id = self._by_id(access.companies_visible_to(by), rows, "company_id")
        self.contacts_by_id = self._by_id(access.contacts_visible_to(by), rows, "contact_id")
        self.contacts_by_point = self._contacts_by_point(rows)
        deal_ids = self._ids(rows, "deal_id")
        self.deals = {deal.pk: deal for deal in access.deals_visible_to(by).filter(pk__in=deal_ids)}

    @staticmethod
    def _ids(rows: list[dict[str, str]], column: str) -> set[int]:
        return {int(row[column]) for row in rows if row.get(column, "").isdigit()}

    def _by_id(self, visible: Any, rows: list[dict[str, str]], column: str) -> dict[int, Any]:
        return {client.pk: client for client in visible.filter(pk__in=self._ids(rows, column))}

    def _contacts_by_point(self, rows: list[dict[str, str]]) -> dict[str, list[Contact]]:
        keys = {key for row in rows if row.get("contact") and (key := _point_key(row["contact"]))}
        points = ContactPoint.objects.filter(normalized__in=keys, contact__isnull=False).values_list(
            "normalized", "contact_id"
        )
        by_key: dict[str, set[int]] = {}
        for normalized, contact_id in points:
            by_key.setdefault(normalized, set()).add(contact_id)
        wanted = {contact_id for ids in by_key.values() for contact_id in ids}
        visible = {contact.pk: contact for contact in access.contacts_visible_to(self.by).filter(pk__in=wanted)}
        return {
            key: [visible[contact_id] for contact_id in sorted(ids) if contact_id in visible]
            for key, ids in by_key.items()
        }


def _point_key(text: str) -> str | None:
    """The normalised e-mail or phone a contact cell gives (as ContactPoint.normalized), or None."""
    text = text.strip()
    if "@" in text:
        return text.casefold()
    try:
        return phone_parse(text).e164
    except ValidationError:
        return None


def _one(found: list[Any], *, missing: str, several: str) -> Any:
    if not found:
        raise _RowError(missing)
    if len(found) > 1:
        raise _RowError(several)
    return found[0]


def _moment(text: str, column: str) -> Any:
    if not text:
        return None
    try:
        # The form field reads ISO dates and the reader's own formats, in their time zone.
        return forms.DateTimeField().clean(text)
    except ValidationError:
        raise _RowError(
            _("%(column)s: “%(text)s” is not a date and time (write 2026-03-31 14:30).")
            % {"column": column, "text": text}
        ) from None


def _fields(row: dict[str, str], lookups: _Lookups) -> dict[str, Any]:
    """The row as activity_create's arguments; _RowError says what in it cannot be read."""
    kind = lookups.kinds.get(row.get("kind", "").casefold())
    if kind is None:
        raise _RowError(_("kind: write call, meeting, task, note or email."))
    status_text = row.get("status", "")
    if status_text:
        status = lookups.statuses.get(status_text.casefold())
        if status is None:
            raise _RowError(_("status: write planned, done or cancelled."))
    else:
        # A history is mostly of things done; a row with only a due date is a plan.
        status = ActivityStatus.PLANNED if row.get("due") and not row.get("done") else ActivityStatus.DONE
    fields: dict[str, Any] = {
        "kind": kind,
        "status": status,
        "subject": row.get("subject", "")[:200],
        "result": row.get("result", ""),
        "due_at": _moment(row.get("due", ""), "due"),
        "done_at": _moment(row.get("done", ""), "done"),
    }
    if row.get("direction"):
        direction = lookups.directions.get(row["direction"].casefold())
        if direction is None:
            raise _RowError(_("direction: write in or out."))
        fields["direction"] = direction
    if row.get("outcome"):
        outcome = lookups.outcomes.get((kind, row["outcome"].casefold()))
        if outcome is None:
            raise _RowError(
                _("outcome: a %(kind)s has no outcome “%(name)s”.")
                % {"kind": ActivityKind(kind).label.lower(), "name": row["outcome"]}
            )
        fields["outcome"] = outcome
    if row.get("duration"):
        if not row["duration"].isdigit():
            raise _RowError(_("duration: write whole minutes, 0 or more."))
        fields["duration"] = int(row["duration"])
    if row.get("owner"):
        owner = lookups.people.get(row["owner"].casefold())
        if owner is None:
            raise _RowError(_("owner: nobody has the username or e-mail “%(owner)s”.") % {"owner": row["owner"]})
        fields["owner"] = owner
    fields.update(_links(row, lookups))
    return fields


def _links(row: dict[str, str], lookups: _Lookups) -> dict[str, Any]:
    links: dict[str, Any] = {}
    if row.get("company_id"):
        company = lookups.companies_by_id.get(int(row["company_id"])) if row["company_id"].isdigit() else None
        if company is None:
            raise _RowError(_("company_id: no company you can see has the id %(id)s.") % {"id": row["company_id"]})
        links["company"] = company
    elif row.get("company"):
        links["company"] = _one(
            lookups.companies.get(row["company"], []),
            missing=_("company: no company you can see is named “%(name)s”.") % {"name": row["company"]},
            several=_("company: several companies are named “%(name)s”: give company_id instead.")
            % {"name": row["company"]},
        )
    if row.get("contact_id"):
        contact = lookups.contacts_by_id.get(int(row["contact_id"])) if row["contact_id"].isdigit() else None
        if contact is None:
            raise _RowError(_("contact_id: no person you can see has the id %(id)s.") % {"id": row["contact_id"]})
        links["contact"] = contact
    elif row.get("contact"):
        key = _point_key(row["contact"])
        links["contact"] = _one(
            lookups.contacts_by_point.get(key, []) if key else [],
            missing=_("contact: no person you can see has the e-mail or phone “%(point)s”.")
            % {"point": row["contact"]},
            several=_("contact: several people have “%(point)s”: give contact_id instead.") % {"point": row["contact"]},
        )
    if row.get("deal_id"):
        deal = lookups.deals.get(int(row["deal_id"])) if row["deal_id"].isdigit() else None
        if deal is None:
            raise _RowError(_("deal_id: no deal you can see has the id %(id)s.") % {"id": row["deal_id"]})
        links["deal"] = deal
    return links


def refusal_text(error: ValidationError) -> str:
    """A service's refusal as one line: its summary if it has one (the minimum data's), else each field's."""
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    if "__all__" in error.error_dict:
        return " ".join(message for item in error.error_dict["__all__"] for message in item.messages)
    return "; ".join(
        f"{COLUMN_OF_FIELD.get(name, name)}: {' '.join(message for item in items for message in item.messages)}"
        for name, items in error.error_dict.items()
    )


def _read(data: bytes, result: ActivityImport) -> list[tuple[int, dict[str, str]]]:
    """The file's rows as {column: trimmed text}, with their line numbers; problems of the file go in ``result``."""
    try:
        file = read_csv(data)
    except CsvFileError as error:
        result.errors.append(RowError(1, str(error)))
        return []
    names = [cell.strip().casefold() for cell in file.header]
    unknown = [name for name in names if name and name not in COLUMNS]
    if unknown or "kind" not in names:
        problems = [_("unexpected column “%(name)s”") % {"name": name} for name in unknown]
        if "kind" not in names:
            problems.insert(0, _("the column “kind” is missing"))
        result.errors.append(RowError(1, "; ".join(problems)))
        return []
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for line, cells in enumerate(file.rows, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == MAX_ROWS:
                result.errors.append(
                    RowError(line, _("A file holds at most %(count)s rows: split it into parts.") % {"count": MAX_ROWS})
                )
                return []
            rows.append((line, {name: cell.strip() for name, cell in zip(names, cells, strict=False) if name}))
    except csv.Error as error:
        result.errors.append(RowError(len(rows) + 2, _("The file cannot be read as CSV: %(error)s") % {"error": error}))
        return []
    result.rows = len(rows)
    if not rows:
        result.errors.append(RowError(2, _("The file has no rows under its header.")))
    return rows


def import_activities(*, by: User, data: bytes, apply: bool) -> ActivityImport:
    """Check the file (``apply`` False) or import it: every row, or none when any is refused."""
    if not access.can_log_activities(by):
        raise PermissionDenied
    result = ActivityImport()
    rows = _read(data, result)
    if not rows:
        return result
    lookups = _Lookups(by, [row for _line, row in rows])
    created: list[Activity] = []
    with transaction.atomic():
        for line, row in rows:
            try:
                created.append(services.activity_create(by=by, **_fields(row, lookups)))
            except _RowError as problem:
                result.errors.append(RowError(line, str(problem)))
            except ValidationError as error:
                result.errors.append(RowError(line, refusal_text(error)))
            except PermissionDenied:
                result.errors.append(RowError(line, _("You may not log activities for this row's owner or client.")))
        result.created = len(created)
        result.applied = apply and not result.errors
        if not result.applied:
            transaction.set_rollback(True)
    return result
