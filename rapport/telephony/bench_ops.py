"""Telephony's benchmark operations (issue #8: webhook ingest ≥ 1,000 events/s per process, p99 ≤ 20 ms on M).

Each call is three events (ringing, answered, ended) from a number of data set M's clients (each
call another one, read once before the run) to extension 101 of the benchmark's own integration,
answered by a person of its own: matched, put on the client's timeline, the call stored. Event
ids carry the run's start, so every run stores anew. Two shapes of request:

- "call events": one call's events, what a PBX posts when a call ends — the latency a call sees;
- "call events, busy line": ten calls' events in one body, what a busy PBX sends when it posts what
  piled up, and what the AMI listener stores when a read brings many events — the throughput.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.urls import reverse

from rapport.accounts.models import User
from rapport.clients.models import ContactPoint, ContactPointKind
from rapport.core import bench
from rapport.telephony.models import Extension, Integration
from rapport.telephony.signing import signed_headers

INTEGRATION = "bench-pbx"
PERSON = "bench-pbx-line"
NUMBERS = 5_000
BUSY_CALLS = 10  # calls a busy line's request carries


def _calls(calls_per_request: int) -> Callable[[bench.BenchContext], Callable[[int], bench.RawBody]]:
    def prepare(context: bench.BenchContext) -> Callable[[int], bench.RawBody]:
        integration, _created = context.objects(Integration).get_or_create(name=INTEGRATION, defaults={"region": "US"})
        # A person of its own answers, in no team: the thousands of calls a run records would otherwise fill the demo
        # manager's day and calendar, and their head's control room, and slow the next run's pages of theirs.
        person, _created = context.objects(User).get_or_create(
            username=PERSON, defaults={"first_name": "Bench", "last_name": "PBX"}
        )
        context.objects(Extension).update_or_create(integration=integration, number="101", defaults={"user": person})
        numbers = list(
            context.objects(ContactPoint)
            .filter(kind=ContactPointKind.PHONE)
            .order_by("pk")
            .values_list("value", flat=True)[:NUMBERS]
        )
        if not numbers:
            raise RuntimeError("the benchmark database has no phones to call from")
        run = f"{int(time.time())}-{calls_per_request}"
        secret = integration.secret

        def call_events(number: int) -> list[dict[str, object]]:
            start = datetime.now(UTC) - timedelta(minutes=5)
            common = {"call_id": f"{run}-{number}", "direction": "in", "from": numbers[number % len(numbers)]}
            return [
                {**common, "id": f"{run}-{number}-r", "type": "ringing", "at": start.isoformat(), "extension": "101"},
                {
                    **common,
                    "id": f"{run}-{number}-a",
                    "type": "answered",
                    "at": (start + timedelta(seconds=4)).isoformat(),
                    "extension": "101",
                },
                {
                    **common,
                    "id": f"{run}-{number}-e",
                    "type": "ended",
                    "at": (start + timedelta(seconds=94)).isoformat(),
                    "extension": "101",
                    "duration": 90,
                },
            ]

        def request(number: int) -> bench.RawBody:
            first = number * calls_per_request
            events = [event for call in range(first, first + calls_per_request) for event in call_events(call)]
            body = json.dumps({"events": events}).encode()
            return body, signed_headers(secret, body)

        return request

    return prepare


def _path(context: bench.BenchContext) -> str:
    return reverse("telephony:call-events", args=[INTEGRATION])


# The design's p99 ≤ 20 ms holds for a call's request; the busy line's ten calls meet ≥ 1,000 events/s when their
# request takes at most 30 ms.
bench.register(
    bench.BenchOperation(
        key="call events",
        title="telephony webhook: a call's 3 events (ringing, answered, ended), matched and put on the timeline",
        path=_path,
        method="POST",
        user="",
        body=_calls(1),
        target_ms=20,
    )
)
bench.register(
    bench.BenchOperation(
        key="call events, busy line",
        title=f"telephony webhook: {BUSY_CALLS} calls' {BUSY_CALLS * 3} events in one request (≥ 1,000 events/s)",
        path=_path,
        method="POST",
        user="",
        body=_calls(BUSY_CALLS),
        target_ms=BUSY_CALLS * 3,
    )
)
