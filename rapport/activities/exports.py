"""The activity list as CSV or XLSX: every activity the list matches (not just the page).

As the client and deal exports: rows are read in chunks of plain values, CSV streams with a
BOM (so that Excel reads UTF-8), XLSX is written in openpyxl's write-only mode to a temporary
file and capped at ``XLSX_LIMIT`` rows, and a text cell a spreadsheet would run as a formula
is neutralised. Moments are in the reader's time zone; the duration is a number of minutes.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from rapport.activities.models import Activity, ActivityKind, ActivityStatus, Direction
from rapport.clients.exports import BOM, CHUNK_SIZE, XLSX_LIMIT, csv_safe

Cell = str | int | datetime | None

FIELDS = (
    "at",
    "kind",
    "status",
    "direction",
    "subject",
    "outcome__name",
    "result",
    "due_at",
    "done_at",
    "duration",
    "company__name",
    "contact__last_name",
    "contact__first_name",
    "contact__middle_name",
    "deal__title",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
)


def header() -> list[str]:
    return [
        _("When"),
        _("Kind"),
        _("Status"),
        _("Direction"),
        _("Subject"),
        _("Outcome"),
        _("Result"),
        _("Due"),
        _("Done"),
        _("Duration, minutes"),
        _("Company"),
        _("Contact person"),
        _("Deal"),
        _("Owner"),
    ]


def _local(moment: datetime | None) -> datetime | None:
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


class _Labels:
    """The choices' words in the reader's language, looked up once a file."""

    def __init__(self) -> None:
        self.kinds = {value: str(label) for value, label in ActivityKind.choices}
        self.statuses = {value: str(label) for value, label in ActivityStatus.choices}
        self.directions = {value: str(label) for value, label in Direction.choices}

    def cells(self, row: dict[str, Any]) -> list[Cell]:
        contact = " ".join(
            part
            for part in (row["contact__last_name"], row["contact__first_name"], row["contact__middle_name"])
            if part
        )
        owner = f"{row['owner__first_name'] or ''} {row['owner__last_name'] or ''}".strip() or row["owner__username"]
        return [
            _local(row["at"]),
            self.kinds.get(row["kind"], row["kind"]),
            self.statuses.get(row["status"], row["status"]),
            self.directions.get(row["direction"], row["direction"]),
            row["subject"],
            row["outcome__name"] or "",
            row["result"],
            _local(row["due_at"]),
            _local(row["done_at"]),
            row["duration"],
            row["company__name"] or "",
            contact,
            row["deal__title"] or "",
            owner or "",
        ]


def _rows(rows: QuerySet[Activity]) -> Iterator[dict[str, Any]]:
    yield from rows.values(*FIELDS).iterator(chunk_size=CHUNK_SIZE)


class _Echo:
    """csv.writer writes here and gets the line back, to be yielded."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Cell) -> str:
    return str(value) if isinstance(value, int) else csv_safe(value)


def csv_lines(rows: QuerySet[Activity]) -> Iterator[str]:
    """The CSV file in pieces of ``CHUNK_SIZE`` rows, starting with the BOM and the header."""
    writer = csv.writer(_Echo())
    labels = _Labels()
    yield BOM + writer.writerow(header())
    batch: list[str] = []
    for row in _rows(rows):
        batch.append(writer.writerow([_csv_cell(value) for value in labels.cells(row)]))
        if len(batch) == CHUNK_SIZE:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def _xlsx_cell(worksheet: Any, value: Cell) -> Any:
    if isinstance(value, str) and value.startswith("="):
        # openpyxl stores a string starting with "=" as a formula: say it is text.
        cell = WriteOnlyCell(worksheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def xlsx_file(rows: QuerySet[Activity], *, title: str) -> IO[bytes]:
    """The workbook in a temporary file, rewound; at most ``XLSX_LIMIT`` rows and a note when cut."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=title[:31])
    bold = Font(bold=True)
    heading = []
    for label in header():
        cell = WriteOnlyCell(worksheet, value=label)
        cell.font = bold
        heading.append(cell)
    worksheet.append(heading)
    labels = _Labels()
    for written, row in enumerate(_rows(rows[: XLSX_LIMIT + 1])):
        if written == XLSX_LIMIT:
            note = _(
                "Only the first %(count)s rows are in this file. Narrow the filters, or export CSV for all of them."
            ) % {"count": f"{XLSX_LIMIT:,}"}
            worksheet.append([WriteOnlyCell(worksheet, value=note)])
            break
        worksheet.append([_xlsx_cell(worksheet, value) for value in labels.cells(row)])
    output = tempfile.TemporaryFile()  # noqa: SIM115  (handed to FileResponse, which closes it)
    workbook.save(output)
    output.seek(0)
    return output
