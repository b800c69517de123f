"""The deal list as CSV or XLSX: every deal the list matches (not just the page), with its columns.

As the client exports (rapport/clients/exports.py): rows are read in chunks of plain values,
CSV streams with a BOM (so that Excel reads UTF-8), XLSX is written in openpyxl's write-only
mode to a temporary file and capped at ``XLSX_LIMIT`` rows, and a text cell a spreadsheet
would run as a formula is neutralised. The amount comes as a number with its currency in a
column of its own, so a spreadsheet can add it up.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from rapport.clients.exports import BOM, CHUNK_SIZE, XLSX_LIMIT, csv_safe
from rapport.sales.columns import COLUMNS, ColumnChoice, iter_rows
from rapport.sales.models import Stage

Cell = str | date | datetime | Decimal | None


def _local(moment: datetime | None) -> datetime | None:
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


class _Sheet:
    """The header and each row's cells for the chosen columns."""

    def __init__(self, columns: ColumnChoice, stages: dict[int, Stage]) -> None:
        self.keys = ["title", *columns.keys]
        self.stages = stages

    def header(self) -> list[str]:
        labels = {"title": _("Title"), "amount": _("Amount"), "currency": _("Currency")}
        labels.update({column.key: str(column.label) for column in COLUMNS if column.key not in labels})
        header: list[str] = []
        for key in self.keys:
            header.append(labels[key])
            if key == "amount":
                header.append(labels["currency"])
            if key == "next_step":
                header.append(_("Next step date"))
        return header

    def cells(self, row: dict[str, Any]) -> list[Cell]:
        values: list[Cell] = []
        for key in self.keys:
            if key == "amount":
                values += [row["amount"], row["currency"]]
            elif key == "next_step":
                values += [row["next_step"], row["next_step_at"]]
            elif key in {"stage", "pipeline"}:
                stage = self.stages.get(row["stage_id"])
                values.append("" if stage is None else (stage.name if key == "stage" else stage.pipeline.name))
            elif key == "created":
                values.append(_local(row["created_at"]))
            elif key == "closed":
                values.append(_local(row["closed_at"]))
            else:
                value = row[key]
                values.append(value if value is None or isinstance(value, date) else str(value))
        return values


def _csv_cell(value: Cell) -> str:
    if isinstance(value, Decimal):
        return str(value)
    return csv_safe(value)


class _Echo:
    """csv.writer writes here and gets the line back, to be yielded."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: QuerySet[Any], columns: ColumnChoice, stages: dict[int, Stage]) -> Iterator[str]:
    """The CSV file in pieces of ``CHUNK_SIZE`` rows, starting with the BOM and the header."""
    writer = csv.writer(_Echo())
    sheet = _Sheet(columns, stages)
    yield BOM + writer.writerow(sheet.header())
    for batch in iter_rows(rows, columns, chunk_size=CHUNK_SIZE):
        yield "".join(writer.writerow([_csv_cell(value) for value in sheet.cells(row)]) for row in batch)


def _xlsx_cell(worksheet: Any, value: Cell) -> Any:
    if isinstance(value, str) and value.startswith("="):
        # openpyxl stores a string starting with "=" as a formula: say it is text.
        cell = WriteOnlyCell(worksheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def xlsx_file(rows: QuerySet[Any], columns: ColumnChoice, stages: dict[int, Stage], *, title: str) -> IO[bytes]:
    """The workbook in a temporary file, rewound; at most ``XLSX_LIMIT`` rows and a note when cut."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=title[:31])
    sheet = _Sheet(columns, stages)
    bold = Font(bold=True)
    header = []
    for label in sheet.header():
        cell = WriteOnlyCell(worksheet, value=label)
        cell.font = bold
        header.append(cell)
    worksheet.append(header)
    written = 0
    for batch in iter_rows(rows[: XLSX_LIMIT + 1], columns, chunk_size=CHUNK_SIZE):
        for row in batch:
            if written == XLSX_LIMIT:
                note = _(
                    "Only the first %(count)s rows are in this file. Narrow the filters, or export CSV for all of them."
                ) % {"count": f"{XLSX_LIMIT:,}"}
                worksheet.append([WriteOnlyCell(worksheet, value=note)])
                break
            worksheet.append([_xlsx_cell(worksheet, value) for value in sheet.cells(row)])
            written += 1
    output = tempfile.TemporaryFile()  # noqa: SIM115  (handed to FileResponse, which closes it)
    workbook.save(output)
    output.seek(0)
    return output
