"""A call from or to a number no client has makes the caller a new lead, flagged for completion:
the answering manager's, or the shared pool's when nobody answered."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityStatus
from rapport.clients import services
from rapport.clients.models import ClientStatus, Contact, ContactPoint
from rapport.clients.services import PointInput
from rapport.telephony.events import Event
from rapport.telephony.ingest import event_ingest, events_ingest
from rapport.telephony.models import Call, Integration

CALLER = "+12015550199"
OFFICE = "+12025550100"


def send(pbx: Integration, call_id: str, kind: str, minute: int, *, direction: str = "in", **fields: object) -> Call:
    at = timezone.now().replace(microsecond=0) - timedelta(hours=1) + timedelta(minutes=minute)
    caller, callee = (CALLER, OFFICE) if direction == "in" else (OFFICE, CALLER)
    event = Event(f"{call_id}-{kind}", call_id, kind, direction, at, caller, callee, **fields)  # type: ignore[arg-type]
    event_ingest(pbx, event)
    return Call.objects.get(call_id=call_id)


def test_an_answered_call_from_an_unknown_number_is_the_answering_managers_new_lead(
    pbx: Integration, manager: User
) -> None:
    send(pbx, "c1", "ringing", 0, extension="101")
    send(pbx, "c1", "answered", 0, extension="101")
    call = send(pbx, "c1", "ended", 3, extension="101", duration=150)

    lead = Contact.objects.get()
    assert call.contact == lead
    assert (lead.display_name, lead.owner, lead.registrant, lead.status) == (
        CALLER,
        manager,
        manager,
        ClientStatus.ACTIVE,
    )
    assert [tag.name for tag in lead.tags.all()] == ["To complete"]
    assert ContactPoint.objects.get(contact=lead).normalized == CALLER
    activity = Activity.objects.get()
    assert (activity.contact, activity.owner, activity.status) == (lead, manager, ActivityStatus.DONE)


def test_an_unanswered_call_from_an_unknown_number_puts_the_lead_in_the_pool(pbx: Integration, head: User) -> None:
    send(pbx, "c1", "ringing", 0, extension="101")
    call = send(pbx, "c1", "missed", 1, extension="101")

    lead = Contact.objects.get()
    assert (call.contact, lead.owner, lead.status) == (lead, None, ClientStatus.POOL)
    assert Activity.objects.get().owner == head  # the duty manager calls back


def test_a_caller_entered_during_the_call_is_matched_and_no_lead_is_made(pbx: Integration, manager: User) -> None:
    send(pbx, "c1", "ringing", 0, extension="101")
    # The manager fills in the screen-pop's "new client" form while talking.
    entered = services.contact_create(
        by=manager, last_name="Mills", points=[PointInput(kind="phone", value="(201) 555-0199")]
    )
    call = send(pbx, "c1", "ended", 2, extension="101", duration=90)

    assert call.contact == entered
    assert Contact.objects.count() == 1


def test_the_second_call_from_the_new_lead_finds_it(pbx: Integration) -> None:
    send(pbx, "c1", "ended", 2, extension="101", duration=30)
    send(pbx, "c2", "ended", 20, extension="101", duration=60)

    assert Contact.objects.count() == 1
    assert Activity.objects.filter(contact=Contact.objects.get()).count() == 2


def test_two_calls_from_a_new_number_in_one_batch_make_one_lead(pbx: Integration) -> None:
    at = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    events_ingest(
        pbx,
        [
            Event("c1-ended", "c1", "ended", "in", at, CALLER, OFFICE, extension="101", duration=30),
            Event(
                "c2-ended", "c2", "ended", "in", at + timedelta(minutes=5), CALLER, OFFICE, extension="101", duration=9
            ),
        ],
    )

    assert Contact.objects.count() == 1
    assert Activity.objects.filter(contact=Contact.objects.get()).count() == 2


def test_a_hidden_number_makes_no_lead(pbx: Integration) -> None:
    event = Event("h1", "h1", "ended", "in", timezone.now(), "anonymous", OFFICE, extension="101", duration=30)
    event_ingest(pbx, event)

    assert Contact.objects.count() == 0
    assert Call.objects.get().number_unreadable
