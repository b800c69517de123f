"""The demo's "done when": with Rapport running, a morning of calls is replayed by its webhook and through the AMI;
each call lands on the right client's timeline, missed calls have callbacks, and a second replay changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from conftest import load_tiny_demo
from rapport.activities.models import Activity, ActivityStatus
from rapport.clients.models import Contact, ContactPoint
from rapport.telephony.models import Call, CallEvent
from rapport.telephony.replay import UNKNOWN

pytestmark = pytest.mark.django_db(transaction=True)


def replay(url: str) -> str:
    out = StringIO()
    call_command("telephony_replay", url=url, stdout=out)
    return out.getvalue()


def counts() -> tuple[int, int, int, int]:
    return Activity.objects.count(), Call.objects.count(), CallEvent.objects.count(), Contact.objects.count()


def test_a_morning_of_calls_lands_where_it_belongs_and_twice_changes_nothing(live_server) -> None:  # type: ignore[no-untyped-def]
    load_tiny_demo()

    first = replay(live_server.url)

    assert "Webhook: 15 events stored, 0 replayed." in first
    assert "AMI: " in first
    calls = {call.call_id: call for call in Call.objects.select_related("company", "contact", "activity", "callback")}
    assert len(calls) == 8
    for call in calls.values():
        # Each known number is on the timeline of the company whose phone it is; strangers became leads.
        client = call.company or call.contact
        assert client is not None, call.call_id
        if call.number_e164 not in UNKNOWN:
            assert ContactPoint.objects.filter(company=call.company, normalized=call.number_e164).exists()
    assert calls["replay-1"].activity is not None
    assert calls["replay-1"].recording_url.endswith("replay-1.mp3")
    assert calls["replay-1"].activity.duration == 4  # 200 s, a started minute counted
    # The missed call's callback was done by the call back at 11:00; the stranger's missed call waits for the head.
    assert calls["replay-2"].callback is not None
    assert calls["replay-2"].callback.status == ActivityStatus.DONE
    assert calls["replay-5"].activity == calls["replay-2"].callback
    missed = calls["1732400000.20"]
    assert missed.missed
    assert missed.callback is not None
    assert missed.callback.status == ActivityStatus.PLANNED
    assert missed.callback.owner.username == "head"
    assert missed.contact is not None
    assert missed.contact.owner is None  # the pool's lead
    assert calls["1732400000.10"].activity is not None
    assert calls["1732400000.30"].activity is not None
    assert calls["1732400000.30"].activity.subject == "Outgoing call, no answer"
    before = counts()

    second = replay(live_server.url)

    assert "Webhook: 0 events stored, 15 replayed." in second
    assert counts() == before
