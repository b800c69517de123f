"""Every call that ended lands on its client's timeline as a done call, with nobody typing it: once, whatever the
order of its events, and the client's last contact moves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityKind, ActivityStatus, Outcome
from rapport.clients import services
from rapport.clients.models import Company
from rapport.clients.services import PointInput
from rapport.telephony.events import Event
from rapport.telephony.ingest import event_ingest, events_ingest
from rapport.telephony.models import Call, Integration


@pytest.fixture
def acme(teammate: User) -> Company:
    return services.company_create(by=teammate, name="Acme", points=[PointInput(kind="phone", value="+12015550123")])


def send(pbx: Integration, kind: str, second: int, *, direction: str = "in", **fields: object) -> None:
    at = timezone.now().replace(microsecond=0) - timedelta(minutes=10) + timedelta(seconds=second)
    number = {"caller": "+12015550123", "callee": "+12025550100"}
    if direction == "out":
        number = {"caller": "+12025550100", "callee": "+12015550123"}
    event_ingest(
        pbx,
        Event(
            event_id=f"{kind}-{second}",
            call_id="call-1",
            type=kind,
            direction=direction,
            at=at,
            extension="101",
            **number,  # type: ignore[arg-type]
            **fields,  # type: ignore[arg-type]
        ),
    )


def test_an_answered_call_is_a_done_call_on_the_clients_timeline(
    pbx: Integration, acme: Company, manager: User
) -> None:
    send(pbx, "ringing", 0)
    send(pbx, "answered", 5)
    send(pbx, "ended", 130, duration=125)

    activity = Activity.objects.get()
    assert (activity.kind, activity.status, activity.direction) == (ActivityKind.CALL, ActivityStatus.DONE, "in")
    assert (activity.company, activity.owner, activity.duration) == (acme, manager, 3)  # 125 s: three started minutes
    assert activity.subject == "Incoming call"
    assert Call.objects.get().activity == activity
    acme.refresh_from_db()
    assert acme.last_contact_at == activity.done_at


def test_the_end_arriving_first_and_a_replay_still_make_one_activity(pbx: Integration, acme: Company) -> None:
    send(pbx, "ended", 130, duration=125)
    send(pbx, "answered", 5)
    send(pbx, "ringing", 0)
    send(pbx, "ended", 130, duration=125)

    assert Activity.objects.count() == 1
    assert Activity.objects.get().duration == 3


def test_a_missed_incoming_call_is_not_a_call_done(pbx: Integration, acme: Company) -> None:
    send(pbx, "ringing", 0)
    send(pbx, "missed", 20)

    assert not Activity.objects.filter(status=ActivityStatus.DONE).exists()  # only its callback, planned
    acme.refresh_from_db()
    assert acme.last_contact_at is None


def test_a_late_answer_turns_a_missed_call_into_a_call_done(pbx: Integration, acme: Company) -> None:
    send(pbx, "missed", 20)
    send(pbx, "answered", 5)

    assert Activity.objects.get(status=ActivityStatus.DONE).subject == "Incoming call"


def test_an_unanswered_outgoing_call_is_an_attempt_on_the_timeline(pbx: Integration, acme: Company) -> None:
    send(pbx, "ringing", 0, direction="out")
    send(pbx, "ended", 30, direction="out", duration=0, disposition="NO ANSWER")

    activity = Activity.objects.get()
    assert (activity.direction, activity.subject, activity.duration) == ("out", "Outgoing call, no answer", None)


def test_the_outcome_a_manager_picks_stays_when_the_pbx_says_more(
    pbx: Integration, acme: Company, manager: User
) -> None:
    send(pbx, "ended", 130, duration=125)
    outcome = Outcome.objects.create(kind=ActivityKind.CALL, name="Interested")
    activity = Activity.objects.get()
    activity.outcome, activity.subject = outcome, outcome.name
    activity.save()

    send(pbx, "answered", 5)

    activity.refresh_from_db()
    assert (activity.outcome, activity.subject) == (outcome, "Interested")


def test_the_call_is_named_in_its_managers_language(pbx: Integration, acme: Company, manager: User) -> None:
    manager.language = "ru"
    manager.save(update_fields=["language"])

    send(pbx, "ended", 130, duration=125)

    assert Activity.objects.get().subject == "Входящий звонок"


def test_a_batch_moves_each_clients_last_contact_to_its_latest_call_never_back(
    pbx: Integration, acme: Company, manager: User
) -> None:
    globex = services.company_create(by=manager, name="Globex", points=[PointInput(kind="phone", value="+12015550150")])
    now = timezone.now().replace(microsecond=0)
    Company.objects.filter(pk=globex.pk).update(last_contact_at=now)  # a meeting there today, after the calls below

    def ended(call_id: str, number: str, minutes_ago: int) -> Event:
        at = now - timedelta(minutes=minutes_ago)
        return Event(f"{call_id}-e", call_id, "ended", "in", at, number, "+12025550100", extension="101", duration=60)

    events_ingest(
        pbx,
        [ended("c1", "+12015550123", 30), ended("c2", "+12015550123", 10), ended("c3", "+12015550150", 20)],
    )

    acme.refresh_from_db()
    globex.refresh_from_db()
    assert acme.last_contact_at == now - timedelta(minutes=10)
    assert globex.last_contact_at == now
    assert Activity.objects.filter(kind=ActivityKind.CALL, status=ActivityStatus.DONE).count() == 3
