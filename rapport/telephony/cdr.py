"""Call detail records from a CSV file: the calls a PBX logged, imported as if their events had come one by one.

Two formats: Asterisk's ``Master.csv`` (cdr_csv: no header, its columns in a fixed order) and
any CSV with a header, whose columns a mapping names. Each row becomes the events of its call
and goes through ``ingest.events_ingest``, the webhook's path, so an imported call is matched,
put on its client's timeline or asks for a callback exactly like a live one. The events' ids
come from the row, so importing a file again stores nothing new.

A row that cannot be read is reported with its line and the import goes on; a call between two
extensions is nobody's client and is skipped.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from rapport.activities.models import Direction
from rapport.core.csv_files import RowError
from rapport.telephony.events import MAX_ID, MAX_TEXT, Event
from rapport.telephony.ingest import events_ingest
from rapport.telephony.models import Call, EventType, Integration
from rapport.telephony.pbx import channel_extension, extensions_of, is_internal

FIELDS = (
    "call_id",
    "start",
    "answer",
    "end",
    "from",
    "to",
    "extension",
    "direction",
    "duration",
    "disposition",
    "recording_url",
)
REQUIRED_FIELDS = ("call_id", "start", "from", "to")
# Asterisk's cdr_csv columns in its order. Its options add uniqueid and userfield after them, newer versions
# peeraccount, linkedid and sequence too.
MASTER_COLUMNS = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
)
# An event id is "cdr:<call id>:<type>", and must fit the MAX_ID an event id may have.
MAX_CALL_ID = MAX_ID - len("cdr::recording")
MAX_EXTENSION = Call._meta.get_field("extension").max_length or 40
MAX_DISPOSITION = Call._meta.get_field("disposition").max_length or 40
MAX_RECORDING_URL = Call._meta.get_field("recording_url").max_length or 500

# "1732439700.42", or "pbx1-1732439700.42" when Asterisk has a systemname. Tells the uniqueid from a userfield
# when only one of the two is logged.
_UNIQUEID = re.compile(r"^(?:[\w.-]+-)?\d+\.\d+$")
_CLID_NUMBER = re.compile(r"<(?P<number>[^<>]*)>\s*$")
_CLOCK = re.compile(r"^(?:(?P<hours>\d+):)?(?P<minutes>\d{1,2}):(?P<seconds>\d{2})$")
_DIRECTIONS: dict[str, str] = {
    "in": Direction.IN,
    "inbound": Direction.IN,
    "incoming": Direction.IN,
    "out": Direction.OUT,
    "outbound": Direction.OUT,
    "outgoing": Direction.OUT,
}


class CdrError(ValueError):
    """Nothing of the file can be imported (a wrong mapping, no header); the message says why."""


@dataclass
class CdrReport:
    rows: int = 0  # data rows read; a header and blank lines are not rows
    imported: int = 0  # rows that stored something new: a new call, or one brought up to date
    already_imported: int = 0  # rows whose every event was stored before: a file imported again
    skipped_internal: int = 0  # calls between two extensions
    errors: list[RowError] = field(default_factory=list)


class _BadRowError(Exception):
    """A row that cannot be read; the message says why, for the person who imports."""


@dataclass(frozen=True)
class _Call:
    """One row, read: a call as the PBX logged it."""

    call_id: str
    direction: str
    caller: str
    callee: str
    extension: str
    start: datetime
    answer: datetime | None = None
    end: datetime | None = None
    duration: int | None = None  # seconds of talk
    disposition: str = ""
    recording_url: str = ""

    @property
    def answered(self) -> bool:
        # Asterisk leaves the answer empty, or writes the start there, for a call nobody answered: the disposition
        # and the talk time tell. A file with neither has only its answer column to go by.
        if self.disposition or self.duration is not None:
            return self.disposition.upper() == "ANSWERED" or bool(self.duration)
        return self.answer is not None

    @property
    def ended_at(self) -> datetime:
        return self.end or (self.answer or self.start) + timedelta(seconds=self.duration or 0)

    @property
    def answered_at(self) -> datetime:
        return self.answer or max(self.start, self.ended_at - timedelta(seconds=self.duration or 0))


@dataclass(frozen=True)
class _Columns:
    """Where a generic CSV keeps each of our fields: the mapping read against the file's header."""

    header: list[str]
    index: dict[str, int]

    def value(self, row: list[str], name: str) -> str:
        at = self.index.get(name)
        # A spreadsheet may leave out a row's empty cells at its end.
        return row[at].strip() if at is not None and at < len(row) else ""

    def title(self, name: str) -> str:
        """The column's name as the file writes it, for messages; "" for a field not mapped."""
        at = self.index.get(name)
        return self.header[at] if at is not None else ""


def _lines(lines: Iterable[str], delimiter: str = ",") -> Iterator[tuple[int, list[str] | None]]:
    """Each row with the line it starts on; None for a line that is not CSV, so the next one can still be read."""
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield line, None
            continue
        if any(cell.strip() for cell in row):
            yield line, row


def _moment(text: str, column: str) -> datetime | None:
    """A date and time; without an offset it is the PBX's local time, read in the current time zone."""
    if not text:
        return None
    try:
        moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None:
        raise _BadRowError(
            _("“%(value)s” in %(column)s is not a date and time; write it like 2026-11-24 09:15:00.")
            % {"value": text, "column": column}
        )
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, timezone.get_current_timezone())


def _start(text: str, column: str) -> datetime:
    moment = _moment(text, column)
    if moment is None:
        raise _BadRowError(_("%(column)s is empty.") % {"column": column})
    return moment


def _seconds(text: str, column: str) -> int | None:
    """Seconds as a whole number ("125") or a clock ("2:05", "0:02:05"), as exports of cloud PBXs write them."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    clock = _CLOCK.match(text)
    if clock is None:
        raise _BadRowError(
            _("“%(value)s” in %(column)s is not a number of seconds.") % {"value": text, "column": column}
        )
    return int(clock["hours"] or 0) * 3600 + int(clock["minutes"]) * 60 + int(clock["seconds"])


def _sides(
    caller: str, callee: str, extensions: set[str], *, caller_peer: str = "", callee_peer: str = ""
) -> tuple[str, str] | None:
    """The call's direction and the office's extension; None for a call between two extensions.

    The office's side is an extension (of the map, or a short number). A channel's peer
    ("PJSIP/101-0000002a") names the extension when the number does not: a caller id set to the
    office's main number, a call that rang an extension through the number dialled.
    """
    if is_internal(caller, extensions) or caller_peer in extensions:
        if is_internal(callee, extensions):
            return None
        if caller_peer in extensions and caller not in extensions:
            return Direction.OUT, caller_peer
        return Direction.OUT, caller
    if is_internal(callee_peer, extensions):
        return Direction.IN, callee_peer
    return Direction.IN, callee if is_internal(callee, extensions) else ""


def _clid_number(clid: str) -> str:
    """The number of a caller id as Asterisk writes it: '"Acme" <2015550123>', or the number alone."""
    found = _CLID_NUMBER.search(clid)
    return found["number"].strip() if found else clid.strip().strip('"')


def _master_call_id(row: list[str]) -> str:
    """The row's uniqueid; a hash of what the row says when it was not logged, the same each time the file is read."""
    logged = row[len(MASTER_COLUMNS)].strip() if len(row) > len(MASTER_COLUMNS) else ""
    if _UNIQUEID.match(logged):
        return logged
    channel, src, dst, start = (row[MASTER_COLUMNS.index(name)].strip() for name in ("channel", "src", "dst", "start"))
    return "cdr-" + hashlib.sha256("|".join((channel, start, src, dst)).encode()).hexdigest()[:32]


def _master_call(row: list[str], extensions: set[str]) -> _Call | None:
    """A Master.csv row's call; None for a call between two extensions."""
    if len(row) < len(MASTER_COLUMNS):
        raise _BadRowError(
            _("The row has %(count)s columns; Asterisk's Master.csv has at least %(least)s.")
            % {"count": len(row), "least": len(MASTER_COLUMNS)}
        )
    cell = dict(zip(MASTER_COLUMNS, (value.strip() for value in row), strict=False))
    sides = _sides(
        cell["src"],
        cell["dst"],
        extensions,
        caller_peer=channel_extension(cell["channel"]),
        callee_peer=channel_extension(cell["dstchannel"]),
    )
    if sides is None:
        return None
    direction, extension = sides
    return _Call(
        call_id=_master_call_id(row),
        direction=direction,
        caller=cell["src"] or _clid_number(cell["clid"]),
        callee=cell["dst"],
        extension=extension,
        start=_start(cell["start"], "start"),
        answer=_moment(cell["answer"], "answer"),
        end=_moment(cell["end"], "end"),
        duration=_seconds(cell["billsec"], "billsec"),
        disposition=cell["disposition"],
    )


def _direction(text: str, column: str) -> str:
    found = _DIRECTIONS.get(text.casefold())
    if found is None:
        found = {str(label).casefold(): value for value, label in Direction.choices}.get(text.casefold())
    if found is None:
        raise _BadRowError(
            _("“%(value)s” in %(column)s is not a direction; write in or out.") % {"value": text, "column": column}
        )
    return found


def _generic_call(row: list[str], columns: _Columns, extensions: set[str]) -> _Call | None:
    """A generic CSV row's call; None for a call between two extensions."""
    caller, callee = columns.value(row, "from"), columns.value(row, "to")
    sides = _sides(caller, callee, extensions)
    if sides is None:
        return None
    direction = sides[0]
    if given := columns.value(row, "direction"):
        direction = _direction(given, columns.title("direction"))
    # The extension found from the numbers is the office's side only when the file agrees on the direction.
    extension = columns.value(row, "extension") or (sides[1] if direction == sides[0] else "")
    call_id = columns.value(row, "call_id")
    if not call_id:
        raise _BadRowError(_("%(column)s is empty.") % {"column": columns.title("call_id")})
    return _Call(
        call_id=call_id,
        direction=direction,
        caller=caller,
        callee=callee,
        extension=extension,
        start=_start(columns.value(row, "start"), columns.title("start")),
        answer=_moment(columns.value(row, "answer"), columns.title("answer")),
        end=_moment(columns.value(row, "end"), columns.title("end")),
        duration=_seconds(columns.value(row, "duration"), columns.title("duration")),
        disposition=columns.value(row, "disposition"),
        recording_url=columns.value(row, "recording_url"),
    )


def _check(call: _Call) -> None:
    """What the events carry must fit where a call keeps it."""
    if call.direction == Direction.IN and not call.caller:
        raise _BadRowError(_("The caller's number is empty."))
    if call.direction == Direction.OUT and not call.callee:
        raise _BadRowError(_("The number called is empty."))
    if len(call.call_id) > MAX_CALL_ID:
        raise _BadRowError(
            _("The call id “%(value)s” is longer than %(limit)s characters.")
            % {"value": call.call_id, "limit": MAX_CALL_ID}
        )
    for number in (call.caller, call.callee):
        if len(number) > MAX_TEXT:
            raise _BadRowError(
                _("The number “%(value)s” is longer than %(limit)s characters.") % {"value": number, "limit": MAX_TEXT}
            )
    if len(call.extension) > MAX_EXTENSION:
        raise _BadRowError(
            _("The extension “%(value)s” is longer than %(limit)s characters.")
            % {"value": call.extension, "limit": MAX_EXTENSION}
        )
    if call.recording_url and not call.recording_url.startswith(("https://", "http://")):
        raise _BadRowError(_("The recording “%(value)s” is not an http(s) address.") % {"value": call.recording_url})
    if len(call.recording_url) > MAX_RECORDING_URL:
        raise _BadRowError(
            _("The recording's address is longer than %(limit)s characters.") % {"limit": MAX_RECORDING_URL}
        )


def _event(
    call: _Call, kind: str, at: datetime, *, duration: int | None = None, disposition: str = "", recording_url: str = ""
) -> Event:
    return Event(
        event_id=f"cdr:{call.call_id}:{kind}",
        call_id=call.call_id,
        type=kind,
        direction=call.direction,
        at=at,
        caller=call.caller,
        callee=call.callee,
        extension=call.extension,
        duration=duration,
        disposition=disposition[:MAX_DISPOSITION],
        recording_url=recording_url,
    )


def _events(call: _Call) -> list[Event]:
    """Ringing at the start; then answered and ended with the talk time, or missed when nobody answered."""
    events = [_event(call, EventType.RINGING, call.start)]
    if call.answered:
        events.append(_event(call, EventType.ANSWERED, call.answered_at))
        events.append(
            _event(call, EventType.ENDED, call.ended_at, duration=call.duration or 0, disposition=call.disposition)
        )
    else:
        events.append(_event(call, EventType.MISSED, call.ended_at, disposition=call.disposition))
    if call.recording_url:
        events.append(_event(call, EventType.RECORDING, call.ended_at, recording_url=call.recording_url))
    return events


def mapping_parse(pairs: Iterable[str]) -> dict[str, str] | None:
    """A mapping written as "field=column" pairs (the command's --map options, the upload's lines); None, for
    Master.csv, when there are none. CdrError names a pair that is not written so."""
    mapping = {}
    for pair in (pair.strip() for pair in pairs):
        if not pair:
            continue
        name, sign, column = pair.partition("=")
        if not sign or not name.strip() or not column.strip():
            raise CdrError(_("“%(line)s”: write each line as field=column, e.g. call_id=Call ID.") % {"line": pair})
        mapping[name.strip()] = column.strip()
    return mapping or None


def _columns(header: list[str], mapping: dict[str, str]) -> _Columns:
    """The mapping checked against our fields and the file's header; CdrError says everything that is wrong."""
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise CdrError(
            _("Unknown fields in the mapping: %(fields)s. The fields are: %(known)s.")
            % {"fields": ", ".join(unknown), "known": ", ".join(FIELDS)}
        )
    missing = [name for name in REQUIRED_FIELDS if not mapping.get(name, "").strip()]
    if missing:
        raise CdrError(_("The mapping must name the columns of: %(fields)s.") % {"fields": ", ".join(missing)})
    # Spreadsheets pad and recase headers; the first of two equal names is the one.
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        positions.setdefault(title.strip().casefold(), index)
    absent = [column for column in mapping.values() if column.strip() and column.strip().casefold() not in positions]
    if absent:
        raise CdrError(
            _("The file has no column %(columns)s; its columns are: %(header)s.")
            % {"columns": ", ".join(f"“{column}”" for column in absent), "header": ", ".join(header)}
        )
    return _Columns(
        header=header,
        index={name: positions[column.strip().casefold()] for name, column in mapping.items() if column.strip()},
    )


def _generic_rows(file: IO[str], mapping: dict[str, str]) -> tuple[_Columns, Iterator[tuple[int, list[str] | None]]]:
    first = file.readline()
    if not first.strip():
        raise CdrError(_("The file is empty: a CSV file with a mapping starts with its header."))
    # A spreadsheet in a locale that writes decimal commas saves semicolons.
    delimiter = ";" if first.count(";") > first.count(",") else ","
    lines = _lines(itertools.chain([first], file), delimiter)
    _line, header = next(lines, (1, None))
    if header is None:
        raise CdrError(_("The header cannot be read as CSV."))
    header = [title.strip().lstrip("\ufeff") for title in header]
    return _columns(header, mapping), lines


def _row_import(integration: Integration, call: _Call, report: CdrReport) -> None:
    # A row goes in whole or not at all: a failure half-way through its events leaves no half-made call.
    with transaction.atomic():
        stored = events_ingest(integration, _events(call))
    if stored.stored:
        report.imported += 1
    else:
        report.already_imported += 1


def cdr_import(*, integration: Integration, file: IO[str], mapping: dict[str, str] | None = None) -> CdrReport:
    """Import the calls of a CDR file: Asterisk's Master.csv without a mapping, else a CSV whose header it maps.

    ``mapping`` gives, for each of FIELDS, the header of its column. A wrong mapping or a file
    without a header raises CdrError before anything is stored; a row that cannot be read is
    reported with its line while the others go in.
    """
    extensions = extensions_of(integration)
    columns: _Columns | None = None
    if mapping is None:
        lines = _lines(file)
    else:
        columns, lines = _generic_rows(file, mapping)
    report = CdrReport()
    for line, row in lines:
        report.rows += 1
        try:
            if row is None:
                raise _BadRowError(_("The line cannot be read as CSV."))
            call = _master_call(row, extensions) if columns is None else _generic_call(row, columns, extensions)
            if call is not None:
                _check(call)
        except _BadRowError as bad:
            report.errors.append(RowError(row=line, message=str(bad)))
            continue
        if call is None:
            report.skipped_internal += 1
        else:
            _row_import(integration, call, report)
    return report
