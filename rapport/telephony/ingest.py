"""Call events into calls: stored once, applied in any order.

Each event is stored under its (integration, event id); one already there is a replay and
changes nothing. New ones are applied to their call, created by whichever event comes first;
the events of one call that come together are applied together.
Every rule below gives the same call whatever order the events arrive in: the start is the
earliest moment any event names, the answer the earliest "answered", and a call is missed
when it ended without being answered — so a late "answered" turns a "missed" call back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityStatus, Direction
from rapport.activities.services import missed_call_callback_plan, missed_call_callback_withdraw, recorded_call_save
from rapport.clients.models import Company, Contact
from rapport.clients.services import lead_from_call_create
from rapport.core.phones import phone_parse
from rapport.telephony.events import Event
from rapport.telephony.matching import client_for_number
from rapport.telephony.models import Call, CallEvent, EventType, Integration


@dataclass
class IngestReport:
    stored: int = 0
    replayed: int = 0
    calls: list[Call] = field(default_factory=list)  # the calls the new events changed


def _number(call: Call, raw: str, region: str) -> None:
    """Keep the outside number as written; as E.164 when it reads as one, else flagged (never dropped)."""
    call.number = raw[:64]
    try:
        call.number_e164 = phone_parse(raw, region=region).e164 if raw else ""
        call.number_unreadable = False
    except ValidationError:
        call.number_e164, call.number_unreadable = "", True


def _match(call: Call) -> None:
    client = client_for_number(call.number_e164, call.number, call.user)
    call.company = client if isinstance(client, Company) else None
    call.contact = client if isinstance(client, Contact) else None


def _apply(call: Call, event: Event, integration: Integration, extensions: dict[str, User]) -> None:
    # Matched when the number is first known, and again when the manager is: their own client wins.
    rematch = False
    if not call.number and event.client_number:
        _number(call, event.client_number, integration.phone_region)
        rematch = True
    if event.extension and not call.extension:
        call.extension = event.extension
        call.user = extensions.get(event.extension)
        rematch = rematch or call.user is not None
    if rematch and call.number:
        _match(call)
    call.started_at = min(call.started_at, event.at)
    if event.type == EventType.ANSWERED:
        call.answered_at = min(call.answered_at or event.at, event.at)
    elif event.type == EventType.ENDED:
        call.ended_at = max(call.ended_at or event.at, event.at)
        if event.duration is not None:
            call.duration = event.duration
        call.disposition = event.disposition or call.disposition
    elif event.type == EventType.MISSED:
        call.ended_at = call.ended_at or event.at
        call.disposition = call.disposition or event.disposition
    elif event.type == EventType.RECORDING:
        call.recording_url = event.recording_url
    call.missed = call.ended_at is not None and call.answered_at is None and not call.duration


def _lead(call: Call) -> None:
    """An ended call with a number nobody has: matched again (the manager may have entered the caller meanwhile,
    from the screen-pop), else a new lead — the answering or dialling manager's, or the pool's if nobody answered."""
    if call.contact is not None or call.company is not None or not call.number_e164:
        return
    _match(call)
    if call.contact is not None or call.company is not None:
        return
    talked = call.direction == Direction.OUT or call.answered_at is not None or bool(call.duration)
    with translation.override(settings.LANGUAGE_CODE):
        tag_name = _("To complete")
    call.contact = lead_from_call_create(
        number=call.number, e164=call.number_e164, owner=call.user if talked else None, tag_name=tag_name
    )


def _minutes(seconds: int | None) -> int | None:
    """Talk time in the activity's whole minutes, a started minute counted."""
    return None if not seconds else -(-seconds // 60)


def _subject(call: Call, owner: User) -> str:
    with translation.override(owner.language_or_default):
        if call.direction == Direction.IN:
            return _("Incoming call")
        return _("Outgoing call") if call.answered_at or call.duration else _("Outgoing call, no answer")


def _callback_waiting(call: Call) -> Activity | None:
    """The planned callback of an earlier missed call from the number this answered call reached."""
    if not call.number_e164:
        return None
    missed = (
        Call.objects.filter(
            integration=call.integration_id,
            number_e164=call.number_e164,
            direction=Direction.IN,
            missed=True,
            callback__status=ActivityStatus.PLANNED,
        )
        .select_related("callback")
        .order_by("started_at")
        .first()
    )
    return missed.callback if missed is not None else None


def _record(call: Call, integration: Integration) -> None:
    """Put the ended call on its client's timeline, for the manager who took it (else the client's owner).

    An answered call to a number whose missed call waits for a callback is that callback, done.
    """
    client = call.contact or call.company
    if client is None:
        return
    owner = call.user or client.owner or integration.duty_manager
    if owner is None:
        return
    assert call.ended_at is not None
    activity = call.activity
    if activity is None and call.direction == Direction.OUT and (call.answered_at or call.duration):
        activity = _callback_waiting(call)
    call.activity = recorded_call_save(
        activity=activity,
        owner=owner,
        client=client,
        direction=call.direction,
        done_at=call.ended_at,
        duration_minutes=_minutes(call.duration),
        subject=_subject(call, owner),
    )


def _callback(call: Call, integration: Integration) -> None:
    """A missed incoming call asks for a callback; one answered after all (a late event) withdraws it."""
    if call.callback is not None:
        if not call.missed:
            missed_call_callback_withdraw(call.callback)
        return
    if not call.missed or call.direction != Direction.IN or call.ended_at is None:
        return
    client = call.contact or call.company
    owner = (client.owner if client is not None else None) or integration.duty_manager
    if owner is None:
        return
    with translation.override(owner.language_or_default):
        subject = _("Call back: missed call from %(number)s") % {"number": call.number or _("a hidden number")}
    call.callback = missed_call_callback_plan(
        owner=owner,
        client=client,
        due_at=call.ended_at + timedelta(minutes=integration.callback_minutes),
        subject=subject,
    )


def _extensions(integration: Integration) -> dict[str, User]:
    """The integration's extension map, read once a request."""
    return {extension.number: extension.user for extension in integration.extensions.select_related("user")}


def _new_events(integration: Integration, events: list[Event]) -> list[Event]:
    """Store the events not stored before, in one statement, and return them in their order. Unguarded: should
    another delivery store one of them in between, the IntegrityError sends the batch one event at a time."""
    known = stored_before(integration, events)
    fresh = []
    for event in events:
        if event.event_id not in known:
            known.add(event.event_id)  # the same id twice in one batch is a replay too
            fresh.append(event)
    CallEvent.objects.bulk_create(_row(integration, event) for event in fresh)
    return fresh


def stored_before(integration: Integration, events: list[Event]) -> set[str]:
    """The ids of these events already stored (one query)."""
    ids = {event.event_id for event in events}
    return set(
        CallEvent.objects.filter(integration=integration, event_id__in=ids)
        .order_by()
        .values_list("event_id", flat=True)
    )


def _row(integration: Integration, event: Event) -> CallEvent:
    return CallEvent(
        integration=integration,
        event_id=event.event_id,
        call_id=event.call_id,
        type=event.type,
        occurred_at=event.at,
        payload=event.as_payload(),
    )


@transaction.atomic
def _together(integration: Integration, events: list[Event]) -> IngestReport:
    """The batch in one transaction without savepoints: the new events stored in one statement, then each call
    brought up to date once with all its new events."""
    extensions = _extensions(integration)
    fresh = _new_events(integration, events)
    by_call: dict[str, list[Event]] = {}
    for event in fresh:
        by_call.setdefault(event.call_id, []).append(event)
    calls = [_call_update(integration, group, extensions, guarded=False) for group in by_call.values()]
    return IngestReport(stored=len(fresh), replayed=len(events) - len(fresh), calls=calls)


@transaction.atomic
def _one_by_one(integration: Integration, events: list[Event]) -> IngestReport:
    """Each event in a savepoint of its own: its row refuses a replay, which undoes nothing of the others."""
    extensions = _extensions(integration)
    report = IngestReport()
    for event in events:
        try:
            with transaction.atomic():
                _row(integration, event).save()
        except IntegrityError:
            report.replayed += 1
            continue
        report.stored += 1
        report.calls.append(_call_update(integration, [event], extensions, guarded=True))
    return report


def _call_update(integration: Integration, events: list[Event], extensions: dict[str, User], *, guarded: bool) -> Call:
    """Apply a call's new events (as many as came together) and bring its timeline, lead and callback up to date."""
    first = events[0]
    # Locked for the rest of the transaction. Nothing joined: most calls are new, and building the columns of a
    # client, its owner and an activity cost more than the query itself; a later event reads what it needs. No
    # ordering, for the same reason.
    locked = Call.objects.select_for_update().order_by()
    call = next(iter(locked.filter(integration=integration, call_id=first.call_id)[:1]), None)
    if call is None:
        new_call = Call(
            integration=integration,
            call_id=first.call_id,
            direction=first.direction,
            started_at=min(event.at for event in events),
        )
        if not guarded:
            new_call.save()  # another delivery making the same call in between: IntegrityError, one at a time
        else:
            try:
                with transaction.atomic():
                    new_call.save()
            except IntegrityError:  # another delivery of the same new call, at the same moment: its row is the call
                new_call = locked.get(integration=integration, call_id=first.call_id)
        call = new_call
    for event in events:
        _apply(call, event, integration, extensions)
    # Once ended, the call goes on the timeline, and a later event (a late "answered") brings it up to date. A missed
    # incoming call does not: nobody talked, and its callback, a planned call, is what the timeline shows.
    if call.ended_at is not None:
        _lead(call)
    missed_incoming = call.missed and call.direction == Direction.IN
    news = any(event.type != EventType.RECORDING for event in events)
    if call.ended_at is not None and news and not missed_incoming:
        _record(call, integration)
    _callback(call, integration)
    call.save()
    return call


def events_ingest(integration: Integration, events: list[Event]) -> IngestReport:
    """A PBX's batch, committed once (one write to disk). A failure answers the PBX with an error and stores nothing
    of the batch; its retry stores what is missing."""
    try:
        return _together(integration, events)
    except IntegrityError:
        # Another delivery stored some of these events, or made one of their calls, since this one looked.
        return _one_by_one(integration, events)


def event_ingest(integration: Integration, event: Event) -> Call | None:
    """Store one event and apply it to its call; None when it was stored before (a replay)."""
    report = events_ingest(integration, [event])
    return report.calls[0] if report.calls else None
