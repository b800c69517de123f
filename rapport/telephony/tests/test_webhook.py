"""The call-event webhook as a PBX sees it: signed requests stored once, refusals with their reason, and calls that
come out the same whatever order their events arrive in."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityKind, ActivityStatus
from rapport.clients import services
from rapport.clients.services import PointInput
from rapport.telephony import ingest, signing
from rapport.telephony.events import Event
from rapport.telephony.ingest import events_ingest
from rapport.telephony.models import Call, CallEvent, Integration

URL = "/telephony/office-pbx/events"


def post(
    body: Any, integration: Integration, *, secret: str | None = None, timestamp: int | None = None
) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    headers = {
        signing.TIMESTAMP_HEADER: stamp,
        signing.SIGNATURE_HEADER: signing.signature(secret or integration.secret, stamp, raw),
    }
    answer = Client().post(URL, raw, content_type="application/json", headers=headers)
    return answer.status_code, answer.json()


def event(kind: str, number: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"evt-{number}",
        "call_id": "call-1",
        "type": kind,
        "direction": "in",
        "from": "+1 (201) 555-0123",
        "to": "+12025550100",
        "extension": "101",
        "at": f"2026-11-24T09:00:{number:02d}Z",
        **fields,
    }


MORNING = [
    event("ringing", 1),
    event("answered", 5),
    event("ended", 40, duration=35, disposition="ANSWERED"),
    event("recording", 41, recording_url="https://pbx.example/rec/1.mp3"),
]


def test_a_signed_batch_makes_one_call_with_everything_the_pbx_said(pbx: Integration, manager: User) -> None:
    status, answer = post({"events": MORNING}, pbx)

    assert (status, answer) == (200, {"stored": 4, "replayed": 0})
    call = Call.objects.get()
    assert call.number_e164 == "+12015550123"
    assert call.number == "+1 (201) 555-0123"
    assert call.user == manager
    assert call.duration == 35
    assert not call.missed
    assert call.recording_url == "https://pbx.example/rec/1.mp3"
    assert (call.answered_at - call.started_at).seconds == 4  # type: ignore[operator]


def test_a_replay_changes_nothing(pbx: Integration) -> None:
    post({"events": MORNING}, pbx)
    before = Call.objects.values().get()

    status, answer = post({"events": MORNING}, pbx)

    assert (status, answer) == (200, {"stored": 0, "replayed": 4})
    assert Call.objects.values().get() == before
    assert CallEvent.objects.count() == 4


@pytest.mark.parametrize("order", [[2, 1, 0, 3], [3, 2, 1, 0], [0, 2, 1, 3]])
def test_events_in_any_order_make_the_same_call(pbx: Integration, order: list[int]) -> None:
    for index in order:
        post(MORNING[index], pbx)

    call = Call.objects.get()
    assert (call.duration, call.missed, call.extension) == (35, False, "101")
    assert call.started_at.second == 1
    assert call.answered_at.second == 5  # type: ignore[union-attr]
    assert call.ended_at.second == 40  # type: ignore[union-attr]


def test_a_call_that_ends_unanswered_is_missed_until_an_answer_turns_up(pbx: Integration) -> None:
    post(event("missed", 30), pbx)
    assert Call.objects.get().missed

    post(event("answered", 5), pbx)
    assert not Call.objects.get().missed


def test_an_unreadable_number_is_kept_as_written_and_flagged(pbx: Integration) -> None:
    post(event("ringing", 1, **{"from": "anonymous"}), pbx)

    call = Call.objects.get()
    assert (call.number, call.number_e164, call.number_unreadable) == ("anonymous", "", True)


def test_a_wrong_or_missing_signature_is_401_and_stores_nothing(pbx: Integration) -> None:
    wrong = post(event("ringing", 1), pbx, secret="not-the-secret")
    stale = post(event("ringing", 1), pbx, timestamp=int(time.time()) - 3600)
    unsigned = Client().post(URL, json.dumps(event("ringing", 1)), content_type="application/json")

    assert wrong[0] == stale[0] == unsigned.status_code == 401
    assert "signature does not match" in wrong[1]["detail"]
    assert "seconds away from our clock" in stale[1]["detail"]
    assert "required" in unsigned.json()["detail"]
    assert not CallEvent.objects.exists()
    assert not Call.objects.exists()


def test_an_unknown_integration_is_refused_like_a_bad_signature(pbx: Integration) -> None:
    pbx.is_active = False
    pbx.save()

    status, answer = post(event("ringing", 1), pbx)

    assert (status, answer) == (401, {"detail": "Unknown or inactive integration."})
    assert not CallEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "The body is not JSON."),
        ({"events": []}, "'events' must be a non-empty list of events."),
        (event("hung-up", 1), "unknown type 'hung-up'"),
        (event("ringing", 1, direction="sideways"), "'direction' is 'in' or 'out'."),
        (event("ringing", 1, at="yesterday"), "'at' must be an ISO 8601 date and time"),
        (event("ended", 1, duration=-3), "'duration' is a whole number of seconds"),
        (event("recording", 1), "needs 'recording_url'"),
        ({"events": [event("ringing", 1), {"type": "ringing"}]}, "events[1]: 'direction' is required."),
    ],
)
def test_malformed_events_are_400_with_the_reason_and_store_nothing(pbx: Integration, body: Any, reason: str) -> None:
    status, answer = post(body, pbx)

    assert status == 400
    assert reason in answer["detail"]
    assert not CallEvent.objects.exists()


def test_a_signed_in_person_is_no_pbx(pbx: Integration, admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)

    answer = client.post(URL, json.dumps(event("ringing", 1)), content_type="application/json")

    assert answer.status_code == 401
    assert not CallEvent.objects.exists()


def test_only_post_is_answered(pbx: Integration) -> None:
    assert Client().get(URL).status_code == 405


def test_a_batch_colliding_with_another_delivery_goes_one_event_at_a_time(
    pbx: Integration, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = timezone.now() - timedelta(minutes=5)
    ringing = Event("e1", "c1", "ringing", "in", at, "+12015550123", "", extension="101")
    answered = Event("e2", "c1", "answered", "in", at + timedelta(seconds=3), "+12015550123", "", extension="101")
    ended = Event("e3", "c1", "ended", "in", at + timedelta(seconds=60), "+12015550123", "", duration=57)
    events_ingest(pbx, [ringing])
    # Another delivery stored "e1" after this one looked (its look-up saw nothing): the batch's insert collides.
    monkeypatch.setattr(ingest, "stored_before", lambda integration, events: set())

    report = events_ingest(pbx, [ringing, answered, ended])

    assert (report.stored, report.replayed) == (2, 1)
    call = Call.objects.get()
    assert (call.answered_at, call.duration, CallEvent.objects.count()) == (answered.at, 57, 3)


def calls_to_clients(first: int, count: int) -> list[dict[str, Any]]:
    """Each call's ringing, answer and end, from client number `first`, `first + 1`…, answered at extension 101."""
    events: list[dict[str, Any]] = []
    for number in range(first, first + count):
        common: dict[str, Any] = {
            "call_id": f"busy-{number}",
            "direction": "in",
            "from": f"+1201555{number:04d}",
            "extension": "101",
        }
        events += [
            {**common, "id": f"busy-{number}-r", "type": "ringing", "at": "2026-11-24T09:00:00Z"},
            {**common, "id": f"busy-{number}-a", "type": "answered", "at": "2026-11-24T09:00:05Z"},
            {**common, "id": f"busy-{number}-e", "type": "ended", "at": "2026-11-24T09:02:05Z", "duration": 120},
        ]
    return events


def test_a_busy_lines_batch_costs_a_statement_a_call_more(pbx: Integration, manager: User) -> None:
    # The extension map, the events' look-up and insert, the calls' read and insert, the numbers' look-up and the
    # activities' insert are a statement each, however many calls the request brings; each call adds its client's
    # last contact.
    for number in range(11):
        services.company_create(
            by=manager, name=f"Client {number}", points=[PointInput(kind="phone", value=f"+1201555{number:04d}")]
        )
    with CaptureQueriesContext(connection) as one:
        assert post({"events": calls_to_clients(0, 1)}, pbx)[0] == 200
    with CaptureQueriesContext(connection) as ten:
        status, answer = post({"events": calls_to_clients(1, 10)}, pbx)

    assert (status, answer) == (200, {"stored": 30, "replayed": 0})
    assert len(one) <= 11  # 9 and the transaction's two (a savepoint pair here, inside the test's transaction)
    assert len(ten) == len(one)
    assert (
        Activity.objects.filter(kind=ActivityKind.CALL, status=ActivityStatus.DONE, company__isnull=False).count() == 11
    )
