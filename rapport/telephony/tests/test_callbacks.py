"""A missed incoming call plans a callback for the client's owner (or the duty manager), due after the
integration's delay; the call back that reaches the client is that callback, done."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityStatus
from rapport.clients import services
from rapport.clients.models import Company
from rapport.clients.services import PointInput
from rapport.telephony import ingest
from rapport.telephony.events import Event
from rapport.telephony.ingest import event_ingest, events_ingest
from rapport.telephony.models import Call, Integration

CLIENT = "+12015550123"
OFFICE = "+12025550100"


@pytest.fixture
def pbx(pbx: Integration) -> Integration:
    pbx.callback_minutes = 45
    pbx.save()
    return pbx


@pytest.fixture
def acme(teammate: User) -> Company:
    return services.company_create(by=teammate, name="Acme", points=[PointInput(kind="phone", value=CLIENT)])


def send(pbx: Integration, call_id: str, kind: str, minute: int, *, direction: str = "in", **fields: object) -> Call:
    at = timezone.now().replace(microsecond=0) - timedelta(hours=1) + timedelta(minutes=minute)
    caller, callee = (CLIENT, OFFICE) if direction == "in" else (OFFICE, CLIENT)
    event = Event(
        event_id=f"{call_id}-{kind}",
        call_id=call_id,
        type=kind,
        direction=direction,
        at=at,
        caller=caller,
        callee=callee,
        **fields,  # type: ignore[arg-type]
    )
    event_ingest(pbx, event)
    return Call.objects.get(call_id=call_id)


def test_a_missed_call_plans_a_callback_for_the_clients_owner(pbx: Integration, acme: Company, teammate: User) -> None:
    call = send(pbx, "c1", "missed", 0)

    callback = Activity.objects.get()
    assert call.callback == callback
    assert (callback.status, callback.direction, callback.owner, callback.company) == (
        ActivityStatus.PLANNED,
        "out",
        teammate,
        acme,
    )
    assert callback.due_at == call.ended_at + timedelta(minutes=45)  # type: ignore[operator]
    assert callback.subject == "Call back: missed call from +12015550123"


def test_a_missed_call_from_a_number_nobody_has_goes_to_the_duty_manager(pbx: Integration, head: User) -> None:
    call = send(pbx, "c1", "missed", 0)

    callback = Activity.objects.get()
    # The caller became a lead in the pool (see test_leads); calling them back is the duty manager's.
    assert call.contact is not None
    assert call.contact.owner is None
    assert (callback.owner, callback.contact) == (head, call.contact)


def test_a_replayed_missed_call_plans_one_callback(pbx: Integration, acme: Company) -> None:
    send(pbx, "c1", "ringing", 0)
    send(pbx, "c1", "missed", 1)
    send(pbx, "c1", "missed", 1)
    send(pbx, "c1", "ended", 1, duration=0)

    assert Activity.objects.count() == 1


def test_an_answer_arriving_late_withdraws_the_callback(pbx: Integration, acme: Company) -> None:
    send(pbx, "c1", "missed", 1)
    send(pbx, "c1", "answered", 0)

    callback = Call.objects.get().callback
    assert callback is not None
    assert callback.status == ActivityStatus.CANCELLED


def test_the_answered_call_back_is_the_callback_done(pbx: Integration, acme: Company, manager: User) -> None:
    missed = send(pbx, "c1", "missed", 0)
    send(pbx, "c2", "ringing", 20, direction="out", extension="101")
    back = send(pbx, "c2", "ended", 25, direction="out", extension="101", duration=240)

    assert back.activity is not None
    assert back.activity == missed.callback
    done = Activity.objects.get(pk=back.activity.pk)
    assert (done.status, done.owner, done.duration) == (ActivityStatus.DONE, manager, 4)
    assert Activity.objects.count() == 1  # one call done, not a callback and a call


def test_a_call_back_in_the_missed_calls_own_batch_is_its_callback_done(pbx: Integration, acme: Company) -> None:
    # A busy PBX posts what piled up: the missed call and the call back arrive in one request.
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    events_ingest(
        pbx,
        [
            Event("c1-missed", "c1", "missed", "in", start, CLIENT, OFFICE),
            Event("c2-ringing", "c2", "ringing", "out", start + timedelta(minutes=5), OFFICE, CLIENT, extension="101"),
            Event("c2-ended", "c2", "ended", "out", start + timedelta(minutes=9), OFFICE, CLIENT, duration=200),
        ],
    )

    missed, back = Call.objects.get(call_id="c1"), Call.objects.get(call_id="c2")
    assert back.activity is not None
    assert back.activity == missed.callback
    assert back.activity.status == ActivityStatus.DONE
    assert Activity.objects.count() == 1


def test_a_second_call_back_in_the_same_batch_is_a_call_of_its_own(
    pbx: Integration, acme: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Done in the batch's one go: not by colliding with itself and going one event at a time.
    monkeypatch.setattr(ingest, "_one_by_one", lambda integration, events: pytest.fail("the batch collided"))
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    events_ingest(
        pbx,
        [
            Event("c1-missed", "c1", "missed", "in", start, CLIENT, OFFICE),
            Event("c2-ended", "c2", "ended", "out", start + timedelta(minutes=9), OFFICE, CLIENT, duration=200),
            Event("c3-ended", "c3", "ended", "out", start + timedelta(minutes=19), OFFICE, CLIENT, duration=100),
        ],
    )

    missed, first, second = (Call.objects.get(call_id=call_id) for call_id in ("c1", "c2", "c3"))
    assert first.activity == missed.callback
    assert second.activity is not None
    assert second.activity != missed.callback
    assert Activity.objects.filter(status=ActivityStatus.DONE).count() == 2


def test_an_unanswered_call_back_leaves_the_callback_waiting(pbx: Integration, acme: Company) -> None:
    missed = send(pbx, "c1", "missed", 0)
    send(pbx, "c2", "ended", 25, direction="out", extension="101", duration=0, disposition="NO ANSWER")

    assert missed.callback is not None
    missed.callback.refresh_from_db()
    assert missed.callback.status == ActivityStatus.PLANNED
    assert Activity.objects.count() == 2  # the callback, and the attempt
