#!/usr/bin/env python3
"""How long from a PBX's "ringing" to the screen-pop on the manager's open stream, on loopback.

Run against a running demo (`make demo`), with the integration's secret (shown once; for the
demo: `.venv/bin/rapport shell -c "from rapport.telephony.models import Integration;
print(Integration.objects.get(name='office-pbx').secret)"`):

    PBX_SECRET=... .venv/bin/python scripts/screen_pop_latency.py [--url http://127.0.0.1:8000] [--rounds 10]

It signs in as the demo manager (extension 101), opens the screen-pop's stream, posts a signed
"ringing" for a client's number and times until the stream sends the ringing panel; the
issue's target is 1 second. Each round then ends its call (answered, ended).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime

import httpx


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--number", default="+79169060534", help="The caller's number.")
    options = parser.parse_args()
    secret = os.environ["PBX_SECRET"]
    client = httpx.Client(base_url=options.url, timeout=30)
    client.get("/accounts/login/")
    login = {"username": "manager", "password": "demo", "csrfmiddlewaretoken": client.cookies["csrftoken"]}
    if client.post("/accounts/login/", data=login).status_code != 302:
        raise SystemExit("signing in as the demo manager failed")

    def post(kind: str, call_id: str) -> None:
        event: dict[str, object] = {"id": f"{call_id}-{kind}", "call_id": call_id, "type": kind, "direction": "in"}
        event |= {"from": options.number, "to": "+12025550100", "extension": "101"}
        event |= {"at": datetime.now(UTC).isoformat(), **({"duration": 5} if kind == "ended" else {})}
        body = json.dumps(event).encode()
        stamp = str(int(time.time()))
        signature = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers = {"X-Rapport-Timestamp": stamp, "X-Rapport-Signature": f"sha256={signature}"}
        httpx.post(f"{options.url}/telephony/office-pbx/events", content=body, headers=headers).raise_for_status()

    delays: list[float] = []
    for _round in range(options.rounds):
        call_id, shown = uuid.uuid4().hex[:12], threading.Event()
        sent: dict[str, float] = {}

        def listen(sent: dict[str, float], shown: threading.Event) -> None:
            with client.stream("GET", "/telephony/screen-pop/stream/") as stream:
                for line in stream.iter_lines():
                    if "at" in sent and 'data-state="ringing"' in line:
                        delays.append(time.perf_counter() - sent["at"])
                        shown.set()
                        return

        threading.Thread(target=listen, args=(sent, shown), daemon=True).start()
        time.sleep(1.0)  # the stream is open and has sent the panel as it was
        sent["at"] = time.perf_counter()
        post("ringing", call_id)
        shown.wait(10)
        post("answered", call_id)
        post("ended", call_id)
        time.sleep(0.5)
    if not delays:
        raise SystemExit("the screen-pop never showed the ringing call")
    print(
        f"{len(delays)} of {options.rounds} rings shown; median {statistics.median(delays) * 1000:.0f} ms, "
        f"max {max(delays) * 1000:.0f} ms (target 1,000 ms)"
    )


if __name__ == "__main__":
    main()
