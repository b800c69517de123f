"""Call events as Rapport reads them, whichever source sent them: the webhook's JSON, the AMI listener, CDR files.

``events_from_json`` checks a webhook body and says what is wrong with it, field by field,
so a sender learns from the 400 what to fix. The format is in docs/telephony.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from rapport.activities.models import Direction
from rapport.telephony.models import EventType

MAX_EVENTS = 500
MAX_ID = 100
MAX_TEXT = 64


class EventsError(ValueError):
    """The body cannot be read as events; the message says why."""


@dataclass(frozen=True)
class Event:
    event_id: str
    call_id: str
    type: str
    direction: str
    at: datetime
    caller: str = ""
    callee: str = ""
    extension: str = ""
    duration: int | None = None  # seconds of talk, on "ended"
    disposition: str = ""
    recording_url: str = ""

    @property
    def client_number(self) -> str:
        """The outside party: who called us, or whom we called."""
        return self.caller if self.direction == Direction.IN else self.callee

    def as_payload(self) -> dict[str, Any]:
        return {
            "id": self.event_id,
            "call_id": self.call_id,
            "type": self.type,
            "direction": self.direction,
            "at": self.at.isoformat(),
            "from": self.caller,
            "to": self.callee,
            "extension": self.extension,
            "duration": self.duration,
            "disposition": self.disposition,
            "recording_url": self.recording_url,
        }


def _text(data: dict[str, Any], key: str, where: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise EventsError(f"{where}: '{key}' is required.")
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # numbers sent as JSON numbers
    if not isinstance(value, str):
        raise EventsError(f"{where}: '{key}' must be a string.")
    if len(value) > limit:
        raise EventsError(f"{where}: '{key}' is longer than {limit} characters.")
    return value.strip()


def _moment(data: dict[str, Any], where: str) -> datetime:
    raw = data.get("at")
    moment = parse_datetime(raw) if isinstance(raw, str) else None
    if moment is None:
        raise EventsError(f"{where}: 'at' must be an ISO 8601 date and time, e.g. 2026-11-24T09:15:00Z.")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, timezone.get_current_timezone())


def event_from_dict(data: Any, where: str = "event") -> Event:
    if not isinstance(data, dict):
        raise EventsError(f"{where}: an event is a JSON object.")
    kind = _text(data, "type", where, required=True)
    if kind not in EventType.values:
        raise EventsError(f"{where}: unknown type '{kind}'; one of {', '.join(EventType.values)}.")
    direction = _text(data, "direction", where, required=True)
    if direction not in Direction.values:
        raise EventsError(f"{where}: 'direction' is 'in' or 'out'.")
    duration = data.get("duration")
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int) or duration < 0):
        raise EventsError(f"{where}: 'duration' is a whole number of seconds, 0 or more.")
    recording_url = _text(data, "recording_url", where, limit=500)
    if kind == EventType.RECORDING and not recording_url.startswith(("https://", "http://")):
        raise EventsError(f"{where}: a 'recording' event needs 'recording_url', an http(s) address.")
    return Event(
        event_id=_text(data, "id", where, required=True, limit=MAX_ID),
        call_id=_text(data, "call_id", where, required=True, limit=MAX_ID),
        type=kind,
        direction=direction,
        at=_moment(data, where),
        caller=_text(data, "from", where),
        callee=_text(data, "to", where),
        extension=_text(data, "extension", where, limit=40),
        duration=duration,
        disposition=_text(data, "disposition", where, limit=40),
        recording_url=recording_url,
    )


def events_from_json(body: Any) -> list[Event]:
    """One event object, or ``{"events": [...]}`` of up to MAX_EVENTS."""
    if isinstance(body, dict) and "events" in body:
        items = body["events"]
        if not isinstance(items, list) or not items:
            raise EventsError("'events' must be a non-empty list of events.")
        if len(items) > MAX_EVENTS:
            raise EventsError(f"At most {MAX_EVENTS} events per request.")
        return [event_from_dict(item, f"events[{index}]") for index, item in enumerate(items)]
    return [event_from_dict(body)]
