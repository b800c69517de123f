"""Reading a CSV file people saved from a spreadsheet, for the imports (the catalogue's, activities').

UTF-8 with or without a BOM, separated by commas or semicolons (a spreadsheet in a locale that
writes decimal commas saves semicolons); the first line names the columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class RowError:
    row: int  # the line in the file, the header being line 1
    message: str


class CsvFileError(Exception):
    """The file as a whole cannot be read; its message says why, for the person who chose it."""


@dataclass
class CsvFile:
    header: list[str]
    rows: Iterator[list[str]]  # raises csv.Error on a broken line
    delimiter: str

    @property
    def comma_decimal(self) -> bool:
        return self.delimiter == ";"


def read_csv(data: bytes) -> CsvFile:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvFileError(_("The file is not UTF-8 text: save it from your spreadsheet as “CSV UTF-8”.")) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise CsvFileError(_("The file cannot be read as CSV: %(error)s") % {"error": error}) from None
    if header is None:
        raise CsvFileError(_("The file is empty."))
    return CsvFile(header=header, rows=reader, delimiter=delimiter)
