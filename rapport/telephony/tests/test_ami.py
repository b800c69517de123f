"""The AMI listener and click-to-call against a PBX on a local TCP port that speaks AMI: it greets, checks the login,
then plays a script of events — and the calls, their timeline entries and callbacks come out as a user expects."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BufferedReader, StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityStatus
from rapport.clients import services
from rapport.clients.models import Company
from rapport.clients.services import PointInput
from rapport.telephony.ami import AmiLoginError, AmiParser, OriginateError, ami_listen, ami_originate
from rapport.telephony.models import Call, CallEvent, Integration

PASSWORD = "s3cret"
CLIENT = "+12015550123"
CALL = "1732439700.42"  # the first channel's Uniqueid: the call's Linkedid
PBX_ZONE = ZoneInfo("America/New_York")
# An hour ago, in whole seconds: the moment the scripted calls start.
START = timezone.now().replace(microsecond=0) - timedelta(hours=1)


def ami(**fields: str) -> bytes:
    return "".join(f"{key}: {value}\r\n" for key, value in fields.items()).encode() + b"\r\n"


def stamp(second: int) -> str:
    """AMI's Timestamp (timestampevents=yes): Unix time with microseconds."""
    return f"{(START + timedelta(seconds=second)).timestamp():.6f}"


def local(second: int) -> str:
    """A CDR's time: the PBX's local time, without a zone."""
    return (START + timedelta(seconds=second)).astimezone(PBX_ZONE).strftime("%Y-%m-%d %H:%M:%S")


TRUNK = {"Channel": "PJSIP/trunk-0000002a", "CallerIDNum": CLIENT, "Exten": "+12025550100", "Uniqueid": CALL}
AGENT = {"Channel": "PJSIP/101-0000002b", "CallerIDNum": "101", "Uniqueid": "1732439700.43", "Linkedid": CALL}
DIAL_AGENT = {"DestChannel": "PJSIP/101-0000002b", "DestCallerIDNum": "101", "DestUniqueid": "1732439700.43"}


def incoming(*, answered: bool = True, cdr_seconds: int | None = 124) -> list[bytes]:
    """A client calls; extension 101 rings and answers at 6 s (or never); the client hangs up at 131 s."""
    blocks = [
        ami(Event="FullyBooted", Status="Fully Booted"),
        ami(Event="Newchannel", Timestamp=stamp(0), **TRUNK, Linkedid=CALL),
        ami(Event="Newchannel", Timestamp=stamp(1), **AGENT),
        ami(Event="DialBegin", Timestamp=stamp(1), **TRUNK, Linkedid=CALL, **DIAL_AGENT, DialString="101"),
    ]
    if answered:
        blocks += [
            ami(Event="DialEnd", Timestamp=stamp(6), **TRUNK, Linkedid=CALL, **DIAL_AGENT, DialStatus="ANSWER"),
            ami(Event="BridgeEnter", Timestamp=stamp(6), **AGENT, BridgeNumChannels="2"),
        ]
    else:
        blocks.append(
            ami(Event="DialEnd", Timestamp=stamp(30), **TRUNK, Linkedid=CALL, **DIAL_AGENT, DialStatus="CANCEL")
        )
    end = 131 if answered else 30
    blocks += [
        ami(Event="Hangup", Timestamp=stamp(end), **AGENT, Cause="16"),
        ami(Event="Hangup", Timestamp=stamp(end), **TRUNK, Linkedid=CALL, Cause="16"),
    ]
    if cdr_seconds is not None:
        blocks.append(
            ami(
                Event="Cdr",
                Source=CLIENT,
                Destination="+12025550100",
                Channel=TRUNK["Channel"],
                DestinationChannel=AGENT["Channel"],
                StartTime=local(0),
                AnswerTime=local(6) if answered else "",
                EndTime=local(end),
                BillableSeconds=str(cdr_seconds if answered else 0),
                Disposition="ANSWERED" if answered else "NO ANSWER",
                UniqueID=CALL,
            )
        )
    return blocks


def outgoing() -> list[bytes]:
    """Click-to-call: the PBX rings extension 101 (picked up at 3 s), which dials the client, who answers at 8 s;
    101 hangs up at 68 s."""
    phone = {"Channel": "PJSIP/101-00000030", "CallerIDNum": "101", "Uniqueid": "1732439800.48"}
    phone |= {"Linkedid": "1732439800.48"}
    ring_phone = {"DestChannel": phone["Channel"], "DestCallerIDNum": "101", "DestUniqueid": phone["Uniqueid"]}
    ring_phone |= {"DestLinkedid": phone["Linkedid"]}
    trunk = {"DestChannel": "PJSIP/trunk-00000031", "DestCallerIDNum": "12015550123", "DestUniqueid": "1732439800.49"}
    dialling = {**phone, "Exten": "12015550123"}  # picked up, the phone runs the dial plan for the client's number
    return [
        ami(Event="Newchannel", Timestamp=stamp(0), **phone, Exten=""),
        # The originate's own dial to the manager's phone has no calling channel: the manager picking up is not
        # the client answering.
        ami(Event="DialBegin", Timestamp=stamp(0), **ring_phone, DialString="101"),
        ami(Event="DialEnd", Timestamp=stamp(3), **ring_phone, DialStatus="ANSWER"),
        ami(Event="DialBegin", Timestamp=stamp(3), **dialling, **trunk, DialString="trunk/12015550123"),
        ami(Event="DialEnd", Timestamp=stamp(8), **dialling, **trunk, DialStatus="ANSWER"),
        ami(Event="Hangup", Timestamp=stamp(68), **dialling, Cause="16"),
    ]


def internal() -> list[bytes]:
    """Extension 101 calls extension 102."""
    phone = {"Channel": "PJSIP/101-00000040", "CallerIDNum": "101", "Exten": "102", "Uniqueid": "1732439900.60"}
    phone |= {"Linkedid": "1732439900.60"}
    other = {"DestChannel": "PJSIP/102-00000041", "DestCallerIDNum": "102", "DestUniqueid": "1732439900.61"}
    return [
        ami(Event="Newchannel", Timestamp=stamp(0), **phone),
        ami(Event="DialBegin", Timestamp=stamp(1), **phone, **other, DialString="102"),
        ami(Event="DialEnd", Timestamp=stamp(4), **phone, **other, DialStatus="ANSWER"),
        ami(Event="Hangup", Timestamp=stamp(20), **phone, Cause="16"),
        ami(
            Event="Cdr",
            Source="101",
            Destination="102",
            Channel=phone["Channel"],
            DestinationChannel=other["DestChannel"],
            StartTime=local(0),
            AnswerTime=local(4),
            EndTime=local(20),
            BillableSeconds="16",
            Disposition="ANSWERED",
            UniqueID=phone["Uniqueid"],
        ),
    ]


@dataclass
class Session:
    """One connection as the PBX plays it: the login's answer, an action's answer, then the events, then hang up."""

    stream: bytes = b""
    login_ok: bool = True
    answer: tuple[str, str] | None = None  # (Response, Message) to the action after the login
    sigterm: bool = False  # then stop the listener as a service manager would, the connection still open


def read_action(reader: BufferedReader) -> dict[str, str]:
    """The next action's fields; empty when the other side hung up instead."""
    action: dict[str, str] = {}
    while line := reader.readline().decode().rstrip("\r\n"):
        key, _, value = line.partition(": ")
        action[key] = value
    return action


def reply(action: dict[str, str], response: str, message: str) -> bytes:
    return ami(Response=response, ActionID=action.get("ActionID", ""), Message=message)


class FakeAsterisk:
    """A PBX on 127.0.0.1 speaking AMI; it takes the connections one after the other, one session each."""

    def __init__(self, sessions: list[Session]) -> None:
        self.actions: list[dict[str, str]] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, args=(sessions,), daemon=True)
        self._thread.start()

    def _serve(self, sessions: list[Session]) -> None:
        for session in sessions:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as reader:
                conn.settimeout(5)
                self._play(conn, reader, session)

    def _play(self, conn: socket.socket, reader: BufferedReader, session: Session) -> None:
        conn.sendall(b"Asterisk Call Manager/9.0.0\r\n")
        login = read_action(reader)
        self.actions.append(login)
        if not session.login_ok or login.get("Secret") != PASSWORD:
            conn.sendall(reply(login, "Error", "Authentication failed"))
            return
        conn.sendall(reply(login, "Success", "Authentication accepted"))
        if session.answer is not None:
            action = read_action(reader)
            if not action:
                return
            self.actions.append(action)
            conn.sendall(reply(action, *session.answer))
        conn.sendall(session.stream)
        if session.sigterm:
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)
            with contextlib.suppress(OSError):
                reader.read()  # until the listener hangs up

    def stop(self) -> None:
        self._listener.close()
        self._thread.join(timeout=5)


@pytest.fixture
def asterisk() -> Iterator[list[FakeAsterisk]]:
    started: list[FakeAsterisk] = []
    yield started
    for server in started:
        server.stop()


@pytest.fixture
def start(pbx: Integration, asterisk: list[FakeAsterisk]):
    """Start a PBX playing these sessions and point the integration's AMI at it."""

    def start(*sessions: Session) -> FakeAsterisk:
        server = FakeAsterisk(list(sessions))
        asterisk.append(server)
        pbx.ami_host, pbx.ami_port, pbx.ami_username, pbx.ami_secret = "127.0.0.1", server.port, "rapport", PASSWORD
        pbx.save()
        return server

    return start


@pytest.fixture
def acme(teammate: User) -> Company:
    return services.company_create(by=teammate, name="Acme", points=[PointInput(kind="phone", value=CLIENT)])


def listen(pbx: Integration, **options: object) -> list[float]:
    """Run the listener in the PBX's time zone; the pauses it took before reconnecting."""
    pauses: list[float] = []
    with timezone.override(PBX_ZONE):
        ami_listen(pbx, sleep=pauses.append, **options)  # type: ignore[arg-type]
    return pauses


def test_an_answered_incoming_call_is_a_done_call_on_the_clients_timeline(
    pbx: Integration, start, acme: Company, manager: User
) -> None:
    server = start(Session(stream=b"".join(incoming())))

    listen(pbx, once=True)

    call = Call.objects.get()
    assert (call.direction, call.number_e164, call.extension, call.user) == ("in", CLIENT, "101", manager)
    assert call.duration == 124  # the CDR's count wins over the 125 s between answer and hangup
    assert (call.started_at, call.answered_at, call.ended_at) == tuple(
        START + timedelta(seconds=second) for second in (0, 6, 131)
    )  # the CDR's local times read in the PBX's zone agree with the events' timestamps
    assert not call.missed
    activity = Activity.objects.get(company=acme)
    assert (activity.status, activity.owner, activity.duration, activity.subject) == (
        ActivityStatus.DONE,
        manager,
        3,
        "Incoming call",
    )
    assert call.activity == activity
    login = server.actions[0]
    assert (login["Action"], login["Username"], login["Events"]) == ("Login", "rapport", "call,cdr")


def test_without_a_cdr_the_talk_time_runs_from_answer_to_hangup(pbx: Integration, start, acme: Company) -> None:
    start(Session(stream=b"".join(incoming(cdr_seconds=None))))

    listen(pbx, once=True)

    call = Call.objects.get()
    assert (call.duration, call.disposition, call.missed) == (125, "ANSWERED", False)
    assert Activity.objects.get().duration == 3


def test_an_unanswered_incoming_call_is_missed_and_asks_for_a_callback(
    pbx: Integration, start, acme: Company, teammate: User
) -> None:
    start(Session(stream=b"".join(incoming(answered=False))))

    listen(pbx, once=True)

    call = Call.objects.get()
    assert (call.missed, call.answered_at, call.disposition) == (True, None, "NO ANSWER")
    callback = Activity.objects.get()
    assert call.callback == callback
    assert (callback.status, callback.owner, callback.company) == (ActivityStatus.PLANNED, teammate, acme)
    assert callback.subject == f"Call back: missed call from {CLIENT}"
    assert not Activity.objects.filter(status=ActivityStatus.DONE).exists()


def test_an_outgoing_call(pbx: Integration, start, acme: Company, manager: User) -> None:
    start(Session(stream=b"".join(outgoing())))

    listen(pbx, once=True)

    call = Call.objects.get()
    assert (call.direction, call.number, call.number_e164) == ("out", "12015550123", CLIENT)
    assert (call.extension, call.user, call.duration) == ("101", manager, 60)
    activity = Activity.objects.get(company=acme)
    assert (activity.direction, activity.owner, activity.subject) == ("out", manager, "Outgoing call")


def test_a_stream_cut_mid_event_loses_no_complete_event_and_half_applies_none(
    pbx: Integration, start, acme: Company
) -> None:
    blocks = incoming()
    dial_end = blocks.index(next(block for block in blocks if b"DialStatus: ANSWER" in block))
    cut = blocks[dial_end][:-2]  # every line of the answer but the empty one that ends it
    start(
        Session(stream=b"".join(blocks[:dial_end]) + cut),
        Session(stream=b"".join(blocks[dial_end:])),
    )
    between: list[tuple[datetime | None, list[str]]] = []

    def pause(seconds: float) -> None:
        call = Call.objects.get()
        between.append((call.answered_at, list(CallEvent.objects.values_list("type", flat=True))))

    with timezone.override(PBX_ZONE):
        ami_listen(pbx, max_reconnects=1, sleep=pause)

    assert between == [(None, ["ringing"])]  # the ring came; the half-received answer did not count
    call = Call.objects.get()
    assert (call.answered_at, call.duration) == (START + timedelta(seconds=6), 124)
    assert Activity.objects.filter(company=acme, status=ActivityStatus.DONE).count() == 1


def test_drops_and_refused_logins_are_retried_after_growing_pauses(pbx: Integration, start, acme: Company) -> None:
    blocks = incoming()
    start(
        Session(login_ok=False),
        Session(login_ok=False),
        Session(stream=b"".join(blocks[:3])),  # logged in, then dropped: the pauses start over
        Session(stream=b"".join(blocks[3:])),
    )

    pauses = listen(pbx, max_reconnects=3)

    assert pauses == [1, 2, 1]
    assert Call.objects.get().duration == 124


def test_pauses_double_up_to_a_minute(pbx: Integration, start) -> None:
    start(*[Session(login_ok=False)] * 8)
    pauses: list[float] = []

    with pytest.raises(AmiLoginError, match="login refused: Authentication failed"):
        ami_listen(pbx, max_reconnects=7, sleep=pauses.append)

    assert pauses == [1, 2, 4, 8, 16, 32, 60]


def test_a_wrong_password_is_reported(pbx: Integration, start) -> None:
    start(Session())
    pbx.ami_secret = "wrong"
    pbx.save()

    with pytest.raises(CommandError, match="AMI of office-pbx: login refused: Authentication failed"):
        call_command("telephony_ami", "--integration", "office-pbx", "--once")

    assert not Call.objects.exists()


def test_the_command_refuses_an_integration_it_cannot_listen_to(pbx: Integration) -> None:
    with pytest.raises(CommandError, match="no AMI host and user"):
        call_command("telephony_ami", "--integration", "office-pbx")
    pbx.ami_host, pbx.ami_username, pbx.is_active = "127.0.0.1", "rapport", False
    pbx.save()
    with pytest.raises(CommandError, match="no telephony integration 'office-pbx' in use"):
        call_command("telephony_ami", "--integration", "office-pbx")
    with pytest.raises(CommandError, match="no telephony integration 'nowhere' in use"):
        call_command("telephony_ami", "--integration", "nowhere")


def test_the_command_records_the_calls(pbx: Integration, start, acme: Company) -> None:
    start(Session(stream=b"".join(outgoing())))

    call_command("telephony_ami", "--integration", "office-pbx", "--once")

    assert Call.objects.get().direction == "out"


def test_a_call_between_two_extensions_is_not_recorded(pbx: Integration, start, acme: Company) -> None:
    start(Session(stream=b"".join(internal() + outgoing())))

    listen(pbx, once=True)

    assert [call.direction for call in Call.objects.all()] == ["out"]  # the call to the client only
    assert not CallEvent.objects.filter(call_id="1732439900.60").exists()


def test_sigterm_stops_the_command(pbx: Integration, start) -> None:
    start(Session(sigterm=True))
    before = signal.getsignal(signal.SIGTERM)
    out = StringIO()

    call_command("telephony_ami", "--integration", "office-pbx", "--max-reconnects", "0", stdout=out)

    assert out.getvalue() == "Stopped.\n"
    assert signal.getsignal(signal.SIGTERM) == before


def test_replaying_the_same_stream_changes_nothing(pbx: Integration, start, acme: Company) -> None:
    stream = b"".join(incoming())
    start(Session(stream=stream), Session(stream=stream))
    listen(pbx, once=True)
    before = (list(Call.objects.values()), list(Activity.objects.values()), CallEvent.objects.count())

    listen(pbx, once=True)  # a new listener, as after a restart

    assert (list(Call.objects.values()), list(Activity.objects.values()), CallEvent.objects.count()) == before


def test_messages_split_anywhere_are_read_whole() -> None:
    stream = b"Asterisk Call Manager/9.0.0\r\n" + b"".join(incoming())
    whole = AmiParser()
    expected = whole.feed(stream)
    byte_by_byte = AmiParser()

    messages = [message for index in range(len(stream)) for message in byte_by_byte.feed(stream[index : index + 1])]

    assert messages == expected
    assert len(messages) == len(incoming())
    assert messages[1]["uniqueid"] == CALL
    assert byte_by_byte.banner == "Asterisk Call Manager/9.0.0"
    assert not byte_by_byte.pending


def test_click_to_call_asks_the_pbx_to_ring_the_manager_then_dial_the_client(pbx: Integration, start) -> None:
    server = start(Session(answer=("Success", "Originate successfully queued")))

    ami_originate(pbx, extension="101", number="+1 (201) 555-0123")

    login, originate = server.actions
    assert login["Events"] == "off"
    assert {key: value for key, value in originate.items() if key != "ActionID"} == {
        "Action": "Originate",
        "Channel": "PJSIP/101",
        "Exten": CLIENT,
        "Context": "from-internal",
        "Priority": "1",
        "CallerID": f'"{CLIENT}" <101>',
        "Async": "true",
    }
    assert originate["ActionID"]


def test_click_to_call_refused_by_the_pbx_says_why(pbx: Integration, start) -> None:
    start(Session(answer=("Error", "Extension does not exist.")))

    with pytest.raises(OriginateError, match=r"^Extension does not exist\.$"):
        ami_originate(pbx, extension="101", number=CLIENT)


def test_click_to_call_without_the_pbx_says_why(pbx: Integration, start) -> None:
    start(Session(login_ok=False))

    with pytest.raises(OriginateError, match="login refused: Authentication failed"):
        ami_originate(pbx, extension="101", number=CLIENT)

    with socket.create_server(("127.0.0.1", 0)) as closed:
        pbx.ami_port = closed.getsockname()[1]
    with pytest.raises(OriginateError, match="cannot reach"):
        ami_originate(pbx, extension="101", number=CLIENT)


def test_click_to_call_refuses_a_line_break_that_would_inject_an_action(pbx: Integration, start) -> None:
    server = start(Session(answer=("Success", "Originate successfully queued")))

    with pytest.raises(OriginateError, match="not an extension"):
        ami_originate(pbx, extension="101\r\nAction: Command", number=CLIENT)

    pbx.ami_context = "from-internal\r\nAction: Command"
    with pytest.raises(OriginateError, match="line break"):
        ami_originate(pbx, extension="101", number=CLIENT)
    assert [action["Action"] for action in server.actions] == ["Login"]


# ---- Click-to-call from Rapport's pages: a tel: link posts the number ---------------------------------------------

CLICK_TO_CALL = "/telephony/call/"


def test_a_click_on_a_number_rings_the_managers_phone_first(pbx: Integration, start, as_manager: Client) -> None:
    server = start(Session(answer=("Success", "Originate successfully queued")))

    answer = as_manager.post(CLICK_TO_CALL, {"number": "(201) 555-0123"})

    assert answer.status_code == 200
    assert answer.json()["number"] == CLIENT
    assert "Your phone (101) rings first" in answer.json()["detail"]
    assert server.actions[1]["Exten"] == CLIENT


def test_a_refusal_of_the_pbx_is_told_in_a_sentence(pbx: Integration, start, as_manager: Client) -> None:
    start(Session(answer=("Error", "Extension does not exist.")))

    answer = as_manager.post(CLICK_TO_CALL, {"number": CLIENT})

    assert answer.status_code == 400
    assert answer.json() == {"detail": "The PBX could not place the call: Extension does not exist."}


def test_an_unreadable_number_is_refused_before_the_pbx_is_asked(pbx: Integration, start, as_manager: Client) -> None:
    server = start(Session(answer=("Success", "Originate successfully queued")))

    answer = as_manager.post(CLICK_TO_CALL, {"number": "call me"})

    assert answer.status_code == 400
    assert answer.json()["detail"]
    assert server.actions == []


def test_without_a_pbx_that_originates_the_device_dials(
    pbx: Integration, as_manager: Client, personas: dict[str, User]
) -> None:
    # The manager's PBX has no AMI; the teammate has no extension at all: 204, the tel: link does the rest.
    assert as_manager.post(CLICK_TO_CALL, {"number": CLIENT}).status_code == 204
    assert client_for(personas["teammate"]).post(CLICK_TO_CALL, {"number": CLIENT}).status_code == 204
    assert as_manager.get(CLICK_TO_CALL).status_code == 405
    assert Client().post(CLICK_TO_CALL, {"number": CLIENT}).status_code == 302
