"""Writers for the list exports: CSV, XLSX and vCard 3.0.

They take the list's queryset (``queries.client_list``: only what the user may see, as
filtered) and read it in chunks of plain values (``columns.iter_rows``): the primary
phones and e-mails (and tags, when shown) are fetched once per chunk, and CSV and vCards
stream to the client, so 200k rows never sit in memory. XLSX is built in openpyxl's
write-only mode in a temporary file and capped at ``XLSX_LIMIT`` rows.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from rapport.clients.columns import ColumnChoice, columns_chosen, iter_rows
from rapport.clients.models import ClientStatus

CHUNK_SIZE = 2_000  # rows per query, and per write to the client
XLSX_LIMIT = 50_000
# Spreadsheets run a cell starting with these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # so that Excel reads the CSV as UTF-8


def streamed(chunks: Iterator[str]) -> Iterator[str]:
    """The chunks in the request's language and time zone, which are gone by the time a response streams."""
    zone, language = timezone.get_current_timezone(), translation.get_language()

    def run() -> Iterator[str]:
        with timezone.override(zone), translation.override(language):
            yield from chunks

    return run()


def _local(moment: datetime | None) -> datetime | None:
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def cell_value(row: dict[str, Any], key: str, statuses: dict[str, str]) -> str | date | datetime | None:
    """A row's value for one column, typed (dates stay dates) and without markup."""
    if key == "name":
        return str(row["display_name"])
    if key in {"phone", "email"}:
        return str(row[key].value) if row[key] else ""
    if key == "owner":
        return str(row["owner"] or "")
    if key == "status":
        return statuses.get(row["status"], str(row["status"]))
    if key == "last_contact":
        return _local(row["last_contact_at"])
    if key == "created":
        return _local(row["created_at"])
    if key == "tags":
        return ", ".join(row["tags"])
    if key == "next_step":
        return _local(row["next_step"].at) if row["next_step"] else None
    value = row[key]
    return value if value is None or isinstance(value, date) else str(value)


def _statuses() -> dict[str, str]:
    return {value: str(label) for value, label in ClientStatus.choices}


def _header(columns: ColumnChoice) -> list[str]:
    return [_("Name"), *(str(column.label) for column in columns.columns)]


def _keys(columns: ColumnChoice) -> list[str]:
    return ["name", *columns.keys]


def csv_safe(value: str | date | datetime | None) -> str:
    """A cell as text; one a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "'" + value if value.startswith(FORMULA_STARTS) else value


class _Echo:
    """csv.writer writes here and gets the line back, to be yielded."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: QuerySet[Any], columns: ColumnChoice) -> Iterator[str]:
    """The CSV file in pieces of ``CHUNK_SIZE`` rows, starting with the BOM and the header."""
    writer = csv.writer(_Echo())
    keys, statuses = _keys(columns), _statuses()
    yield BOM + writer.writerow(_header(columns))
    for batch in iter_rows(rows, columns, chunk_size=CHUNK_SIZE):
        yield "".join(writer.writerow([csv_safe(cell_value(row, key, statuses)) for key in keys]) for row in batch)


def _xlsx_cell(sheet: Any, value: str | date | datetime | None) -> Any:
    if isinstance(value, str) and value.startswith("="):
        # openpyxl stores a string starting with "=" as a formula: say it is text.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def xlsx_file(rows: QuerySet[Any], columns: ColumnChoice, *, title: str) -> IO[bytes]:
    """The workbook in a temporary file, rewound; at most ``XLSX_LIMIT`` rows and a note when cut."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    bold = Font(bold=True)
    header = []
    for label in _header(columns):
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    keys, statuses = _keys(columns), _statuses()
    written = 0
    for batch in iter_rows(rows[: XLSX_LIMIT + 1], columns, chunk_size=CHUNK_SIZE):
        for row in batch:
            if written == XLSX_LIMIT:
                note = _(
                    "Only the first %(count)s rows are in this file. Narrow the filters, or export CSV for all of them."
                ) % {"count": f"{XLSX_LIMIT:,}"}
                sheet.append([WriteOnlyCell(sheet, value=note)])
                break
            sheet.append([_xlsx_cell(sheet, cell_value(row, key, statuses)) for key in keys])
            written += 1
    output = tempfile.TemporaryFile()  # noqa: SIM115  (handed to FileResponse, which closes it)
    workbook.save(output)
    output.seek(0)
    return output


# ---- vCard 3.0 (RFC 2426) --------------------------------------------------------------------


def vcard_escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\r\n", "\n").replace("\n", "\\n")
    )


def vcard_fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space, never inside a character."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line + "\r\n"
    pieces, start, limit = [], 0, 75
    while start < len(encoded):
        end = min(start + limit, len(encoded))
        while end < len(encoded) and (encoded[end] & 0xC0) == 0x80:  # a UTF-8 continuation byte
            end -= 1
        pieces.append(encoded[start:end].decode())
        start, limit = end, 74  # the leading space counts
    return "\r\n ".join(pieces) + "\r\n"


# What a vCard is made of, whatever columns the list shows.
VCARD_COLUMNS = {"company": ["phone", "email"], "contact": ["company", "position", "phone", "email", "birthday"]}
VCARD_EXTRA = {"company": ["address", "website"], "contact": []}


def vcard(row: dict[str, Any], kind: str) -> str:
    """One client as a vCard 3.0: a person (N, FN, ORG, TITLE, …) or an organisation (ORG, ADR, URL)."""
    lines = ["BEGIN:VCARD", "VERSION:3.0"]
    name = vcard_escape(row["display_name"])
    if kind == "company":
        lines += ["N:;;;;", f"FN:{name}", f"ORG:{name}"]
    else:
        parts = (row["last_name"], row["first_name"], row["middle_name"], "", "")
        lines += [f"N:{';'.join(vcard_escape(part) for part in parts)}", f"FN:{name}"]
        if row["company"]:
            lines.append(f"ORG:{vcard_escape(row['company'])}")
        if row["position"]:
            lines.append(f"TITLE:{vcard_escape(row['position'])}")
    if row["phone"]:
        lines.append(f"TEL;TYPE=WORK,VOICE:{vcard_escape(row['phone'].href.removeprefix('tel:'))}")
    if row["email"]:
        lines.append(f"EMAIL;TYPE=INTERNET:{vcard_escape(row['email'].value)}")
    if kind == "company":
        if row["address"]:
            lines.append(f"ADR;TYPE=WORK:;;{vcard_escape(row['address'])};;;;")
        if row["website"]:
            lines.append(f"URL:{vcard_escape(row['website'])}")
    elif row["birthday"]:
        lines.append(f"BDAY:{row['birthday'].isoformat()}")
    lines.append("END:VCARD")
    return "".join(vcard_fold(line) for line in lines)


def vcards(rows: QuerySet[Any], kind: str) -> Iterator[str]:
    """Every row as a vCard, in pieces of ``CHUNK_SIZE`` cards."""
    columns = columns_chosen(kind, VCARD_COLUMNS[kind])
    for batch in iter_rows(rows, columns, chunk_size=CHUNK_SIZE, extra=VCARD_EXTRA[kind]):
        yield "".join(vcard(row, kind) for row in batch)
