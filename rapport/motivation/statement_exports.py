"""A month's bonus statements as CSV or XLSX: one row per statement line, with the amounts as numbers.

As the plan/fact report's export (report_exports): CSV streams with a BOM so that Excel reads
UTF-8, XLSX is written in openpyxl's write-only mode to a temporary file, and a text cell a
spreadsheet would run as a formula is neutralised. A statement without lines still gets a row,
so everyone on the list is in the file. A month holds at most one statement per person and
currency, so there is no row cap to reach.
"""

from __future__ import annotations

import csv
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from rapport.clients.exports import BOM, csv_safe
from rapport.motivation.models import LineKind, PeriodKind, Statement, StatementLine, StatementStatus
from rapport.motivation.period_choice import period_title
from rapport.motivation.periods import Period, month_of

Value = str | date | Decimal | int | None
Row = list[Value]


def period_title_of(statement: Statement) -> str:
    """The statement's period as people name it: a month's name, else its dates."""
    period = Period(statement.period_start, statement.period_end)
    kind = PeriodKind.MONTH if period == month_of(period.start) else PeriodKind.CUSTOM
    return period_title(kind, period)


def header() -> list[str]:
    return [
        _("Person"),
        _("Team"),
        _("Period"),
        _("From"),
        _("Until"),
        _("Currency"),
        _("Version"),
        _("Status"),
        _("Approved by"),
        _("Rule"),
        _("Deal"),
        _("Kind"),
        _("Reason"),
        _("Amount"),
    ]


def rows(statements: list[Statement], lines: list[StatementLine]) -> list[Row]:
    """The statements' lines as rows, statement by statement in the list's order (read: person, team, approver;
    lines: rule and deal)."""
    by_statement: dict[int, list[StatementLine]] = defaultdict(list)
    for line in lines:
        by_statement[line.statement_id].append(line)
    statuses, kinds = dict(StatementStatus.choices), dict(LineKind.choices)
    found: list[Row] = []
    for statement in statements:
        person = statement.person
        shared: Row = [
            person.display_name,
            person.team.name if person.team else "",
            period_title_of(statement),
            statement.period_start,
            statement.period_end,
            statement.currency,
            statement.version,
            str(statuses[statement.status]),
            statement.approved_by.display_name if statement.approved_by else "",
        ]
        for line in by_statement.get(statement.pk, []):
            deal = line.deal.title if line.deal else ""
            found.append([*shared, line.rule.name, deal, str(kinds[line.kind]), line.reason, line.amount])
        if statement.pk not in by_statement:
            found.append([*shared, "", "", "", "", None])
    return found


class _Echo:
    """csv.writer writes here and gets the line back, to be yielded."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Value) -> str:
    if isinstance(value, Decimal | int):
        return str(value)
    return csv_safe(value)


def csv_lines(found: list[Row]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(header())
    for row in found:
        yield writer.writerow([_csv_cell(value) for value in row])


def _xlsx_cell(worksheet: Any, value: Value) -> Any:
    if isinstance(value, str) and value.startswith("="):
        # openpyxl stores a string starting with "=" as a formula: say it is text.
        cell = WriteOnlyCell(worksheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def xlsx_file(found: list[Row], *, title: str) -> IO[bytes]:
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
    for row in found:
        worksheet.append([_xlsx_cell(worksheet, value) for value in row])
    output = tempfile.TemporaryFile()  # noqa: SIM115  (handed to FileResponse, which closes it)
    workbook.save(output)
    output.seek(0)
    return output
