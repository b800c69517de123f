"""Telephony's benchmark operation (issue #8: webhook ingest ≥ 1,000 events/s per process, p99 ≤ 20 ms on M).

Each request is what a PBX posts when a call ends: one signed body with the call's three events
(ringing, answered, ended), for a number of data set M's clients (each request another one, read
once before the run), to extension 101 of the benchmark's own integration: matched, put on the
client's timeline, the call stored. Event ids carry the run's start, so every run stores anew.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from django.urls import reverse

from rapport.accounts.models import User
from rapport.clients.models import ContactPoint, ContactPointKind
from rapport.core import bench
from rapport.telephony.models import Extension, Integration
from rapport.telephony.signing import signed_headers

INTEGRATION = "bench-pbx"
NUMBERS = 5_000
EVENTS_PER_REQUEST = 3


def _calls(context: bench.BenchContext) -> Callable[[int], bench.RawBody]:
    integration, _created = context.objects(Integration).get_or_create(name=INTEGRATION, defaults={"region": "US"})
    manager = context.objects(User).get(username="manager")
    context.objects(Extension).update_or_create(integration=integration, number="101", defaults={"user": manager})
    numbers = list(
        context.objects(ContactPoint)
        .filter(kind=ContactPointKind.PHONE)
        .order_by("pk")
        .values_list("value", flat=True)[:NUMBERS]
    )
    if not numbers:
        raise RuntimeError("the benchmark database has no phones to call from")
    run = int(time.time())
    secret = integration.secret

    def call(number: int) -> tuple[bytes, Mapping[str, str]]:
        start = datetime.now(UTC) - timedelta(minutes=5)
        common = {"call_id": f"{run}-{number}", "direction": "in", "from": numbers[number % len(numbers)]}
        events = [
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
        body = json.dumps({"events": events}).encode()
        return body, signed_headers(secret, body)

    return call


bench.register(
    bench.BenchOperation(
        key="call events",
        title=f"telephony webhook: a call's {EVENTS_PER_REQUEST} events (ringing, answered, ended), matched and "
        "put on the timeline",
        path=lambda context: reverse("telephony:call-events", args=[INTEGRATION]),
        method="POST",
        user="",
        body=_calls,
        target_ms=20 * EVENTS_PER_REQUEST,
    )
)
