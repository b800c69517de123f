"""The plan/fact report as CSV or XLSX: one line per person (or team) and period, with the figures as numbers.

As the list exports (clients.exports): CSV streams with a BOM so that Excel reads UTF-8, XLSX is
written in openpyxl's write-only mode to a temporary file, and a text cell a spreadsheet would
run as a formula (a name starting with "=") is neutralised. A report is at most a team's people
times ``report.MAX_PERIODS`` lines, so there is no row cap to reach.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from rapport.clients.exports import BOM, csv_safe
from rapport.motivation.metrics import MONEY
from rapport.motivation.models import Metric
from rapport.motivation.period_choice import period_title
from rapport.motivation.report import PlanFact

Value = str | date | Decimal | int | None


def header() -> list[str]:
    return [
        _("Person or team"),
        _("Period"),
        _("From"),
        _("Until"),
        _("Metric"),
        _("Target"),
        _("Fact"),
        _("Share of the target, %"),
        _("Currency"),
    ]


def lines(report: PlanFact) -> Iterator[list[Value]]:
    """The report's cells, row by row and period by period, oldest first."""
    labels = dict(Metric.choices)
    for row in report.rows:
        name = row.name if not row.is_team else _("%(team)s (the team)") % {"team": row.name}
        currency = report.currency if row.metric in MONEY else ""
        for cell in row.cells:
            yield [
                name,
                period_title(report.kind, cell.period),
                cell.period.start,
                cell.period.end,
                str(labels[row.metric]),
                cell.target,
                cell.fact,
                cell.percent,
                currency,
            ]


class _Echo:
    """csv.writer writes here and gets the line back, to be yielded."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Value) -> str:
    if isinstance(value, Decimal | int):
        return str(value)
    return csv_safe(value)


def csv_lines(report: PlanFact) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(header())
    for line in lines(report):
        yield writer.writerow([_csv_cell(value) for value in line])


def _xlsx_cell(worksheet: Any, value: Value) -> Any:
    if isinstance(value, str) and value.startswith("="):
        # openpyxl stores a string starting with "=" as a formula: say it is text.
        cell = WriteOnlyCell(worksheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def xlsx_file(report: PlanFact, *, title: str) -> IO[bytes]:
    """The workbook in a temporary file, rewound."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=title[:31])
    bold = Font(bold=True)
    heading = []
    for label in header():
        cell = WriteOnlyCell(worksheet, value=label)
        cell.font = bold
        heading.append(cell)
    worksheet.append(heading)
    for line in lines(report):
        worksheet.append([_xlsx_cell(worksheet, value) for value in line])
    output = tempfile.TemporaryFile()  # noqa: SIM115  (handed to FileResponse, which closes it)
    workbook.save(output)
    output.seek(0)
    return output
