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
from rapport.activities.services import (
    RecordedCall,
    missed_call_callback_plan,
    missed_call_callback_withdraw,
    recorded_calls_save,
)
from rapport.clients.models import Company, Contact
from rapport.clients.services import AnyClient, lead_from_call_create
from rapport.core.phones import phone_parse
from rapport.telephony.events import Event
from rapport.telephony.matching import clients_for_numbers
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


def _apply(call: Call, event: Event, integration: Integration, extensions: dict[str, User]) -> bool:
    """Bring the call up to date with one event; True when its number or manager became known (matched again then:
    the manager's own client wins)."""
    known = False
    if not call.number and event.client_number:
        _number(call, event.client_number, integration.phone_region)
        known = True
    if event.extension and not call.extension:
        call.extension = event.extension
        call.user = extensions.get(event.extension)
        known = known or call.user is not None
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
    return known


def _client(call: Call) -> AnyClient | None:
    return call.contact or call.company


def _match(calls: list[Call]) -> None:
    """Find the clients of these calls, their numbers looked up together."""
    found = clients_for_numbers([(call.number_e164, call.number, call.user) for call in calls])
    for call, client in zip(calls, found, strict=True):
        call.company = client if isinstance(client, Company) else None
        call.contact = client if isinstance(client, Contact) else None


def _lead(call: Call) -> None:
    """An ended call with a number nobody has: matched again (the manager may have entered the caller meanwhile, from
    the screen-pop, or an earlier call of the batch made the lead), else a new lead — the answering or dialling
    manager's, or the pool's if nobody answered."""
    if call.ended_at is None or _client(call) is not None or not call.number_e164:
        return
    _match([call])
    if _client(call) is not None:
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


def _callback_waiting(call: Call, started: list[Call], claimed: set[int]) -> Activity | None:
    """The planned callback of the earliest missed call from the number this answered call reached: a stored call's,
    or that of a call the batch started before it (stored with the batch's other new calls, at the end); not one an
    earlier call back of the batch has claimed."""
    if not call.number_e164:
        return None
    # A call the batch started has a callback only if it is a missed incoming one, and that callback was planned by
    # this batch: still waiting, unless a call back before this one claimed it.
    waiting = [
        missed
        for missed in started
        if missed.number_e164 == call.number_e164 and missed.callback is not None and missed.callback_id not in claimed
    ]
    stored = (
        Call.objects.filter(
            integration=call.integration_id,
            number_e164=call.number_e164,
            direction=Direction.IN,
            missed=True,
            callback__status=ActivityStatus.PLANNED,
        )
        .exclude(callback__in=claimed)
        .select_related("callback")
        .order_by("started_at")
        .first()
    )
    if stored is not None:
        waiting.append(stored)
    earliest = min(waiting, key=lambda missed: missed.started_at, default=None)
    return earliest.callback if earliest is not None else None


def _record(call: Call, integration: Integration, started: list[Call], claimed: set[int]) -> RecordedCall | None:
    """The ended call as its client's timeline shows it, for the manager who took it (else the client's owner).

    An answered call to a number whose missed call waits for a callback is that callback, done.
    """
    client = _client(call)
    if client is None:
        return None
    owner = call.user or client.owner or integration.duty_manager
    if owner is None:
        return None
    assert call.ended_at is not None
    activity = call.activity
    if activity is None and call.direction == Direction.OUT and (call.answered_at or call.duration):
        activity = _callback_waiting(call, started, claimed)
        if activity is not None:
            claimed.add(activity.pk)
    return RecordedCall(
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
    client = _client(call)
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
    # Of each person what a call needs: who they are, and their language for the call's name on the timeline.
    extensions = integration.extensions.select_related("user").only("number", "user__id", "user__language")
    return {extension.number: extension.user for extension in extensions}


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
    calls = _calls_update(integration, by_call, extensions, guarded=False)
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
        report.calls += _calls_update(integration, {event.call_id: [event]}, extensions, guarded=True)
    return report


def _call_new(integration: Integration, call_id: str, events: list[Event], *, guarded: bool) -> Call:
    """A call the batch starts. Unguarded, it is inserted with the batch's other new calls at the end (another
    delivery making it in between: IntegrityError, and the batch goes one event at a time); guarded, at once, in a
    savepoint, and should another delivery have made it at the same moment, its row is the call."""
    call = Call(integration=integration, call_id=call_id, direction=events[0].direction, started_at=events[0].at)
    if guarded:
        try:
            with transaction.atomic():
                call.save()
        except IntegrityError:
            call = Call.objects.select_for_update().get(integration=integration, call_id=call_id)
    return call


def _calls_of(integration: Integration, new_events: dict[str, list[Event]], *, guarded: bool) -> list[Call]:
    """The batch's calls, in the order of their first new event: those stored read in one query, the others new."""
    # Locked for the rest of the transaction. Nothing joined: most calls are new, and building the columns of a
    # client, its owner and an activity cost more than the query itself; a later event reads what it needs. No
    # ordering, for the same reason.
    calls = {
        call.call_id: call
        for call in Call.objects.select_for_update().order_by().filter(integration=integration, call_id__in=new_events)
    }
    for call_id, events in new_events.items():
        if call_id not in calls:
            calls[call_id] = _call_new(integration, call_id, events, guarded=guarded)
    return [calls[call_id] for call_id in new_events]


def _calls_update(
    integration: Integration, new_events: dict[str, list[Event]], extensions: dict[str, User], *, guarded: bool
) -> list[Call]:
    """Apply each call's new events (as many as came together) and bring its timeline, lead and callback up to date.

    However many calls a batch brings, they are read with one query and their numbers matched with one more, and
    each kind of write is one statement: the new calls, their new activities, their clients' last contacts.
    """
    updated = _calls_of(integration, new_events, guarded=guarded)
    known = []
    for call in updated:
        # Every event applied, whichever of them made the number or the manager known.
        made_known = [_apply(call, event, integration, extensions) for event in new_events[call.call_id]]
        if any(made_known) and call.number:
            known.append(call)
    if known:
        _match(known)
    started: list[Call] = []
    recorded: list[Call] = []
    records: list[RecordedCall] = []
    claimed: set[int] = set()  # the callbacks the batch's call backs made done
    for call in updated:
        _lead(call)
        # Once ended, the call goes on the timeline, and a later event (a late "answered") brings it up to date. A
        # missed incoming call does not: nobody talked, and its callback, a planned call, is what the timeline shows.
        missed_incoming = call.missed and call.direction == Direction.IN
        news = any(event.type != EventType.RECORDING for event in new_events[call.call_id])
        if call.ended_at is not None and news and not missed_incoming:
            record = _record(call, integration, started, claimed)
            if record is not None:
                recorded.append(call)
                records.append(record)
        _callback(call, integration)
        if call.pk is None:
            started.append(call)
    # The batch's calls on the timeline together: the new ones in one statement, their clients' last contacts in two.
    for call, activity in zip(recorded, recorded_calls_save(records), strict=True):
        call.activity = activity
    for call in updated:
        if call.pk is not None:
            call.save()
    Call.objects.bulk_create(started)
    return updated


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
