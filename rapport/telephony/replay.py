"""A morning of calls for the demo: played to the webhook as a PBX posts them, and through the AMI as an Asterisk
speaks it, so that every way in is seen working end to end (``rapport telephony-replay``).

The webhook's calls go over HTTP to the running Rapport, signed with the integration's secret.
The AMI's calls are played by a stand-in Asterisk on 127.0.0.1 (``PbxPlayback``: the protocol's
banner, login and events, nothing more) to the real listener, ``ami.ami_listen``. Every event id
is the call's own, so a second replay stores nothing and changes nothing.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from rapport.accounts.models import User
from rapport.clients.models import ContactPoint, ContactPointKind
from rapport.telephony.ami import ami_listen
from rapport.telephony.models import Integration
from rapport.telephony.signing import signed_headers

OFFICE = "+12025550100"
# Numbers nobody in the demo base has (555-01xx numbers are fictional).
UNKNOWN = ("+12025550142", "+12025550187")
AMI_USER = "rapport-replay"


@dataclass(frozen=True)
class MorningCall:
    call_id: str
    minute: int  # after the morning's start
    direction: str
    number: str  # the client's side
    answered: bool
    talk: int = 0  # seconds
    recording: bool = False
    via: str = "webhook"  # or "ami"

    def at(self, start: datetime, second: int = 0) -> datetime:
        return start + timedelta(minutes=self.minute, seconds=second)


def morning(manager: User) -> list[MorningCall]:
    """Five calls by the webhook and three by the AMI, with the manager's clients and two strangers."""
    phones = list(
        ContactPoint.objects.filter(kind=ContactPointKind.PHONE, company__owner=manager, company__deleted_at=None)
        .order_by("company_id")
        .values_list("normalized", flat=True)[:4]
    )
    if len(phones) < 4:
        raise ValueError("the demo manager needs four companies with phones: load the demo data first")
    a, b, c, d = phones
    return [
        MorningCall("replay-1", 5, "in", a, answered=True, talk=200, recording=True),
        MorningCall("replay-2", 40, "in", b, answered=False),
        MorningCall("replay-3", 70, "out", c, answered=True, talk=300),
        MorningCall("replay-4", 90, "in", UNKNOWN[0], answered=True, talk=75),
        MorningCall("replay-5", 120, "out", b, answered=True, talk=130),  # the call back of replay-2
        MorningCall("1732400000.10", 140, "in", d, answered=True, talk=240, via="ami"),
        MorningCall("1732400000.20", 165, "in", UNKNOWN[1], answered=False, via="ami"),
        MorningCall("1732400000.30", 180, "out", a, answered=False, via="ami"),
    ]


# ---- The webhook -------------------------------------------------------------------------------------------------


def webhook_events(call: MorningCall, start: datetime, extension: str) -> list[dict[str, object]]:
    caller, callee = (call.number, OFFICE) if call.direction == "in" else (OFFICE, call.number)
    common = {"call_id": call.call_id, "direction": call.direction, "from": caller, "to": callee}
    common["extension"] = extension
    events: list[dict[str, object]] = [
        {**common, "id": f"{call.call_id}-ringing", "type": "ringing", "at": call.at(start).isoformat()}
    ]
    if call.answered:
        events.append(
            {**common, "id": f"{call.call_id}-answered", "type": "answered", "at": call.at(start, 5).isoformat()}
        )
        ended = call.at(start, 5 + call.talk)
        events.append(
            {**common, "id": f"{call.call_id}-ended", "type": "ended", "at": ended.isoformat(), "duration": call.talk}
        )
    else:
        events.append(
            {**common, "id": f"{call.call_id}-missed", "type": "missed", "at": call.at(start, 30).isoformat()}
        )
    if call.recording:
        events.append(
            {
                **common,
                "id": f"{call.call_id}-recording",
                "type": "recording",
                "at": call.at(start, 10 + call.talk).isoformat(),
                "recording_url": f"https://pbx.example.com/recordings/{call.call_id}.mp3",
            }
        )
    return events


def webhook_send(base_url: str, integration: Integration, events: list[dict[str, object]]) -> dict[str, int]:
    body = json.dumps({"events": events}).encode()
    request = urllib.request.Request(  # noqa: S310  (the address the person running the demo gave)
        f"{base_url.rstrip('/')}/telephony/{integration.name}/events",
        data=body,
        headers=signed_headers(integration.secret, body),
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return dict(json.loads(answer.read()))


# ---- The AMI -----------------------------------------------------------------------------------------------------


def _block(**fields: str) -> bytes:
    return "".join(f"{key}: {value}\r\n" for key, value in fields.items()).encode() + b"\r\n"


def ami_blocks(call: MorningCall, start: datetime, extension: str) -> list[bytes]:
    """The AMI events of one call as Asterisk sends them (timestampevents=yes): channels, dial, bridge, hangup."""

    def stamp(second: int) -> str:
        return f"{call.at(start, second).timestamp():.6f}"

    uid = call.call_id
    phone = {"Channel": f"PJSIP/{extension}-{uid[-2:]}a", "Uniqueid": f"{uid}1", "Linkedid": uid}
    if call.direction == "in":
        first = {"Channel": f"PJSIP/trunk-{uid[-2:]}b", "CallerIDNum": call.number, "Uniqueid": uid, "Linkedid": uid}
        dest = {"DestChannel": phone["Channel"], "DestCallerIDNum": extension, "DestUniqueid": phone["Uniqueid"]}
        opening = [
            _block(Event="Newchannel", Timestamp=stamp(0), **first, Exten=OFFICE),
            _block(Event="Newchannel", Timestamp=stamp(1), **phone, CallerIDNum=extension),
            _block(Event="DialBegin", Timestamp=stamp(1), **first, **dest, DialString=extension),
        ]
        bridged = [
            _block(Event="BridgeEnter", Timestamp=stamp(6), **phone, CallerIDNum=extension, BridgeNumChannels="2")
        ]
    else:
        first = {"Channel": phone["Channel"], "CallerIDNum": extension, "Uniqueid": uid, "Linkedid": uid}
        dest = {"DestChannel": f"PJSIP/trunk-{uid[-2:]}c", "DestCallerIDNum": call.number}
        dest["DestUniqueid"] = f"{uid}2"
        opening = [
            _block(Event="Newchannel", Timestamp=stamp(0), **first, Exten=call.number),
            _block(Event="DialBegin", Timestamp=stamp(1), **first, **dest, DialString=f"trunk/{call.number}"),
        ]
        bridged = []
    if call.answered:
        end = 6 + call.talk
        middle = [_block(Event="DialEnd", Timestamp=stamp(6), **first, **dest, DialStatus="ANSWER"), *bridged]
    else:
        end = 30
        middle = [_block(Event="DialEnd", Timestamp=stamp(end), **first, **dest, DialStatus="NOANSWER")]
    return [*opening, *middle, _block(Event="Hangup", Timestamp=stamp(end), **first, Cause="16")]


class PbxPlayback:
    """A stand-in Asterisk on 127.0.0.1: greets, accepts the listener's login, plays its events and hangs up."""

    def __init__(self, blocks: list[bytes], secret: str) -> None:
        self._blocks, self._secret = blocks, secret
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._play, daemon=True)
        self._thread.start()

    def _play(self) -> None:
        try:
            connection, _address = self._server.accept()
        except OSError:
            return
        with connection, connection.makefile("rb") as reader:
            connection.sendall(b"Asterisk Call Manager/9.0.0\r\n")
            login: dict[str, str] = {}
            while line := reader.readline().decode().rstrip("\r\n"):
                key, _colon, value = line.partition(": ")
                login[key] = value
            accepted = login.get("Secret") == self._secret
            answer = "Success" if accepted else "Error"
            connection.sendall(_block(Response=answer, ActionID=login.get("ActionID", ""), Message="Authentication"))
            if accepted:
                connection.sendall(b"".join(self._blocks))

    def close(self) -> None:
        self._server.close()
        self._thread.join(timeout=5)


def ami_play(integration: Integration, blocks: list[bytes]) -> None:
    """Point the integration's AMI at a playback of these events and run the listener until it hangs up."""
    previous = (integration.ami_host, integration.ami_port, integration.ami_username, integration.ami_secret)
    secret = secrets.token_urlsafe(16)  # a one-off login for the one-off playback
    playback = PbxPlayback(blocks, secret)
    integration.ami_host, integration.ami_port = "127.0.0.1", playback.port
    integration.ami_username, integration.ami_secret = AMI_USER, secret
    try:
        ami_listen(integration, once=True)
    finally:
        playback.close()
        integration.ami_host, integration.ami_port, integration.ami_username, integration.ami_secret = previous


def morning_start() -> datetime:
    """Three hours and a quarter ago, to the minute: every call of the morning is over by now."""
    return (timezone.now() - timedelta(hours=3, minutes=15)).replace(second=0, microsecond=0)
