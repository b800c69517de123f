"""Orders imported from a CSV file (an accounting system's shipments, a spreadsheet): checked row by row with the
same ``orders.order_check`` as the form and the API, then written all at once, or not at all.

The dry run reads the file and reports what importing it would do, writing nothing; the import
does the same and writes every row in one transaction — all rows, or none when one is wrong.
Rows name their client by what a spreadsheet holds: the company's exact name, the person's
e-mail or phone, or the ids Rapport's exports and API give. A row whose ``external_id`` is
recorded already is skipped (and counted), so importing the same file again creates nothing new.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.clients.models import Company, Contact, ContactPoint
from rapport.core.csv_files import CsvFileError, RowError, read_csv
from rapport.core.phones import phone_parse
from rapport.sales.models import Order
from rapport.sales.orders import AnyClient, order_check

# Rows are checked in memory and written in bulk: a year of an accounting system's shipments fits in one file.
MAX_ROWS = 50_000
ERRORS_SHOWN = 200
# Look-ups per statement: well under SQLite's bound-parameter limit.
CHUNK = 2_000
COLUMNS = ("date", "amount", "currency", "volume", "external_id", "company", "company_id", "contact", "contact_id")
REQUIRED = ("date", "amount")
# Which column gives what order_check calls a field (for its refusals).
COLUMN_OF_FIELD = {"on": "date", "amount": "amount", "currency": "currency", "volume": "volume"}


@dataclass
class OrderImport:
    """What a file did or would do. ``errors`` empty and ``created`` above zero means it can be imported."""

    rows: int = 0
    created: int = 0
    skipped: int = 0  # rows whose external id is recorded already
    applied: bool = False
    errors: list[RowError] = field(default_factory=list)

    @property
    def can_apply(self) -> bool:
        return not self.errors and self.created > 0

    @property
    def errors_shown(self) -> list[RowError]:
        return self.errors[:ERRORS_SHOWN]


class _RowError(Exception):
    pass


def _chunks[T](values: Iterable[T]) -> Iterable[list[T]]:
    items = list(values)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _point_key(text: str) -> str | None:
    """The normalised e-mail or phone a contact cell gives (as ContactPoint.normalized), or None."""
    text = text.strip()
    if "@" in text:
        return text.casefold()
    try:
        return phone_parse(text).e164
    except ValidationError:
        return None


class _Lookups:
    """The clients the rows name (among those the person sees) and the external ids recorded, each read once."""

    def __init__(self, by: User, rows: list[dict[str, str]]) -> None:
        companies = access.companies_visible_to(by).select_related("owner")
        contacts = access.contacts_visible_to(by).select_related("owner")
        self.companies: dict[str, list[Company]] = {}
        for names in _chunks({row["company"] for row in rows if row.get("company")}):
            for company in companies.filter(name__in=names):
                self.companies.setdefault(company.name, []).append(company)
        self.companies_by_id: dict[int, Company] = {}
        for ids in _chunks(_ids(rows, "company_id")):
            self.companies_by_id |= {company.pk: company for company in companies.filter(pk__in=ids)}
        self.contacts_by_id: dict[int, Contact] = {}
        for ids in _chunks(_ids(rows, "contact_id")):
            self.contacts_by_id |= {contact.pk: contact for contact in contacts.filter(pk__in=ids)}
        self.contacts_by_point = self._contacts_by_point(by, rows)
        self.recorded: set[str] = set()
        for external_ids in _chunks({row["external_id"] for row in rows if row.get("external_id")}):
            self.recorded |= set(
                Order.everything.filter(external_id__in=external_ids).values_list("external_id", flat=True)
            )

    @staticmethod
    def _contacts_by_point(by: User, rows: list[dict[str, str]]) -> dict[str, list[Contact]]:
        keys = {key for row in rows if row.get("contact") and (key := _point_key(row["contact"]))}
        by_key: dict[str, set[int]] = {}
        for chunk in _chunks(keys):
            points = ContactPoint.objects.filter(normalized__in=chunk, contact__isnull=False)
            for normalized, contact_id in points.values_list("normalized", "contact_id"):
                by_key.setdefault(normalized, set()).add(contact_id)
        visible: dict[int, Contact] = {}
        for chunk_ids in _chunks({contact_id for ids in by_key.values() for contact_id in ids}):
            visible |= {
                contact.pk: contact
                for contact in access.contacts_visible_to(by).select_related("owner").filter(pk__in=chunk_ids)
            }
        return {
            key: [visible[contact_id] for contact_id in sorted(ids) if contact_id in visible]
            for key, ids in by_key.items()
        }


def _ids(rows: list[dict[str, str]], column: str) -> set[int]:
    return {int(row[column]) for row in rows if row.get(column, "").isdigit()}


def _one(found: list[Any], *, missing: str, several: str) -> Any:
    if not found:
        raise _RowError(missing)
    if len(found) > 1:
        raise _RowError(several)
    return found[0]


def _client(row: dict[str, str], lookups: _Lookups) -> tuple[AnyClient, str]:
    """The client a row names, and the column that names it."""
    if row.get("company_id"):
        company = lookups.companies_by_id.get(int(row["company_id"])) if row["company_id"].isdigit() else None
        if company is None:
            raise _RowError(_("company_id: no company you can see has the id %(id)s.") % {"id": row["company_id"]})
        return company, "company_id"
    if row.get("company"):
        found: AnyClient = _one(
            lookups.companies.get(row["company"], []),
            missing=_("company: no company you can see is named “%(name)s”.") % {"name": row["company"]},
            several=_("company: several companies are named “%(name)s”: give company_id instead.")
            % {"name": row["company"]},
        )
        return found, "company"
    if row.get("contact_id"):
        contact = lookups.contacts_by_id.get(int(row["contact_id"])) if row["contact_id"].isdigit() else None
        if contact is None:
            raise _RowError(_("contact_id: no person you can see has the id %(id)s.") % {"id": row["contact_id"]})
        return contact, "contact_id"
    if row.get("contact"):
        key = _point_key(row["contact"])
        found = _one(
            lookups.contacts_by_point.get(key, []) if key else [],
            missing=_("contact: no person you can see has the e-mail or phone “%(point)s”.")
            % {"point": row["contact"]},
            several=_("contact: several people have “%(point)s”: give contact_id instead.") % {"point": row["contact"]},
        )
        return found, "contact"
    raise _RowError(_("company: name the client in company, company_id, contact or contact_id."))


def _day(text: str) -> date | None:
    if not text:
        return None
    try:
        # The form field reads ISO dates and the reader's own formats.
        day: date = forms.DateField().clean(text)
    except ValidationError:
        raise _RowError(_("date: “%(text)s” is not a date (write 2026-03-31).") % {"text": text}) from None
    return day


def _number(text: str, column: str, *, comma_decimal: bool) -> Decimal | None:
    """A number as a spreadsheet writes it ("1 234,50" in a semicolon file); its sign and size are order_check's."""
    if not text:
        return None
    cleaned = text.replace("\u00a0", "").replace(" ", "")
    if comma_decimal and "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise _RowError(_("%(column)s: “%(text)s” is not a number.") % {"column": column, "text": text}) from None
    if not value.is_finite():
        raise _RowError(_("%(column)s: “%(text)s” is not a number.") % {"column": column, "text": text})
    return value


def refusal_text(error: ValidationError) -> str:
    """order_check's refusal as one line, each field under its column's name."""
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    return "; ".join(
        f"{COLUMN_OF_FIELD.get(name, name)}: {' '.join(message for item in items for message in item.messages)}"
        for name, items in error.error_dict.items()
    )


def _read(data: bytes, result: OrderImport) -> tuple[list[tuple[int, dict[str, str]]], bool]:
    """The file's rows as {column: trimmed text} with their line numbers, and whether decimals are written with
    commas; problems of the file as a whole go in ``result``."""
    try:
        file = read_csv(data)
    except CsvFileError as error:
        result.errors.append(RowError(1, str(error)))
        return [], False
    names = [cell.strip().casefold() for cell in file.header]
    unknown = [name for name in names if name and name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in names]
    clients = [name for name in ("company", "company_id", "contact", "contact_id") if name in names]
    if unknown or missing or not clients:
        problems = [_("the column “%(name)s” is missing") % {"name": name} for name in missing]
        if not clients:
            problems.append(_("no column names the client (company, company_id, contact or contact_id)"))
        problems += [_("unexpected column “%(name)s”") % {"name": name} for name in unknown]
        result.errors.append(RowError(1, "; ".join(problems)))
        return [], False
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for line, cells in enumerate(file.rows, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == MAX_ROWS:
                result.errors.append(
                    RowError(line, _("A file holds at most %(count)s rows: split it into parts.") % {"count": MAX_ROWS})
                )
                return [], False
            rows.append((line, {name: cell.strip() for name, cell in zip(names, cells, strict=False) if name}))
    except csv.Error as error:
        result.errors.append(RowError(len(rows) + 2, _("The file cannot be read as CSV: %(error)s") % {"error": error}))
        return [], False
    result.rows = len(rows)
    if not rows:
        result.errors.append(RowError(2, _("The file has no rows under its header.")))
    return rows, file.comma_decimal


def _order(by: User, row: dict[str, str], lookups: _Lookups, comma_decimal: bool) -> Order:
    """The row as an unsaved order; _RowError or ValidationError say what in it is wrong."""
    client, column = _client(row, lookups)
    if not access.can_record_orders(by, client):
        raise _RowError(
            _("%(column)s: you may not record orders for “%(client)s”.")
            % {"column": column, "client": client.display_name}
        )
    fields = order_check(
        on=_day(row.get("date", "")),
        amount=_number(row.get("amount", ""), "amount", comma_decimal=comma_decimal),
        currency=row.get("currency") or None,
        volume=_number(row.get("volume", ""), "volume", comma_decimal=comma_decimal),
    )
    external_id = row.get("external_id", "")
    if len(external_id) > 100:
        raise _RowError(_("external_id: at most 100 characters."))
    return Order(
        **{client.kind: client},
        on=fields.on,
        amount=fields.amount,
        currency=fields.currency,
        volume=fields.volume,
        external_id=external_id,
        created_by=by,
    )


def import_orders(*, by: User, data: bytes, apply: bool) -> OrderImport:
    """Check the file (``apply`` False) or import it: every new row, or none when any is refused."""
    if not access.can_import_orders(by):
        raise PermissionDenied
    result = OrderImport()
    rows, comma_decimal = _read(data, result)
    if not rows:
        return result
    lookups = _Lookups(by, [row for _line, row in rows])
    first_line_of: dict[str, int] = {}
    new: list[Order] = []
    for line, row in rows:
        external_id = row.get("external_id", "")
        if external_id in first_line_of:
            result.errors.append(
                RowError(
                    line,
                    _("external_id: “%(id)s” is on line %(line)s already.")
                    % {"id": external_id, "line": first_line_of[external_id]},
                )
            )
            continue
        if external_id:
            first_line_of[external_id] = line
        try:
            order = _order(by, row, lookups, comma_decimal)
        except _RowError as problem:
            result.errors.append(RowError(line, str(problem)))
            continue
        except ValidationError as error:
            result.errors.append(RowError(line, refusal_text(error)))
            continue
        if external_id and external_id in lookups.recorded:
            result.skipped += 1
        else:
            new.append(order)
    result.created = len(new)
    if not apply or result.errors or not new:
        return result
    try:
        with transaction.atomic():
            # Each order's history starts with the import, as with one entered by hand.
            bulk_create_with_history(new, Order, batch_size=1_000, default_user=by)
    except IntegrityError:
        # Another import recorded some of these external ids meanwhile: nothing of this one was written.
        result.errors.append(RowError(1, _("Some of these orders were recorded meanwhile: check the file again.")))
        return result
    result.applied = True
    return result
