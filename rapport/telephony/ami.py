"""Asterisk's Manager Interface (AMI): the listener that records the PBX's calls, and click-to-call.

AMI is a TCP text protocol: after a banner line ("Asterisk Call Manager/9.0.0"), each message is
``Key: Value`` lines ended by an empty line, every line ended by CRLF. The listener logs in, reads
the call events, turns them into Rapport's events (``CallTranslator``) and ingests them exactly as
the webhook does. Its event ids are ``ami:<call id>:<what>``, the call id being Asterisk's
Linkedid, so a reconnect, a restart or the same call sent again changes nothing.
"""

from __future__ import annotations

import itertools
import logging
import re
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from django.db import DatabaseError, close_old_connections, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from rapport.activities.models import Direction
from rapport.core.phones import digits_of
from rapport.telephony.events import Event
from rapport.telephony.ingest import events_ingest
from rapport.telephony.models import EventType, Integration
from rapport.telephony.pbx import channel_extension, extensions_of, is_internal

logger = logging.getLogger(__name__)

# Click-to-call rings the manager's phone through this channel driver: chan_pjsip, Asterisk's SIP stack
# (chan_sip is gone since Asterisk 21). A PBX on another driver would need it as a field of the integration.
CHANNEL_TECHNOLOGY = "PJSIP"
# The event classes of Newchannel, Dial*, BridgeEnter and Hangup ("call"), and of Cdr ("cdr").
LISTEN_EVENTS = "call,cdr"
BANNER = "Asterisk Call Manager"
CONNECT_SECONDS = 10.0
# A quiet line is pinged after this long, and given up as dead when the ping brings nothing back either:
# a PBX that vanished without closing the connection would otherwise keep the listener waiting forever.
IDLE_SECONDS = 60.0
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0
MAX_LINE = 64 * 1024
# Calls a listener remembers: far more than are ever in progress at once; the oldest are forgotten first.
MAX_CALLS = 5000
# How an unanswered dial ended (DialEnd's DialStatus), in the words of Asterisk's CDRs.
DIAL_DISPOSITIONS = {"BUSY": "BUSY", "NOANSWER": "NO ANSWER", "CANCEL": "NO ANSWER", "CONGESTION": "FAILED"}
_EXTENSION = re.compile(r"[\w.+-]{1,40}")
# Not numbers: the dial plan's start extension, and Asterisk's word for a caller ID it has not got.
_NOT_NUMBERS = {"s", "<unknown>"}

# One AMI message, its keys lowercased: Asterisk spells the same key differently ("Uniqueid", "UniqueID").
Message = dict[str, str]


class AmiError(Exception):
    """Talking to the PBX failed; the message says why (never with the password)."""


class AmiLoginError(AmiError):
    """The PBX refused the login."""


class OriginateError(AmiError):
    """Click-to-call could not place the call; the message is the reason, the PBX's own when it gave one."""


class AmiParser:
    """Bytes in, complete messages out, however the bytes were split; an unfinished message waits for its end."""

    def __init__(self) -> None:
        self.banner: str | None = None
        self._buffer = b""
        self._fields: Message = {}

    @property
    def pending(self) -> bool:
        """Part of a message has come, not its end."""
        return bool(self._buffer or self._fields)

    def feed(self, data: bytes) -> list[Message]:
        *lines, self._buffer = (self._buffer + data).split(b"\n")
        messages: list[Message] = []
        for raw in lines:
            line = raw.rstrip(b"\r").decode("utf-8", "replace")
            if self.banner is None:
                self.banner = line
            elif line:
                key, colon, value = line.partition(":")
                if colon:
                    self._fields[key.strip().lower()] = value.strip()
            elif self._fields:
                messages.append(self._fields)
                self._fields = {}
        if len(self._buffer) > MAX_LINE:
            raise AmiError(f"a line longer than {MAX_LINE} bytes: not the AMI protocol")
        return messages


class AmiConnection:
    """A connection to the AMI, logged in by ``ami_connect``; closed by leaving its ``with`` block."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._parser = AmiParser()
        self._ready: list[Message] = []
        self._action_ids = itertools.count(1)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._sock.close()

    def _receive(self) -> bool:
        """Read what has come into the parsed messages; False once the PBX closed the connection."""
        try:
            data = self._sock.recv(65536)
        except TimeoutError:
            raise  # a quiet line: the caller knows whether that is an answer too late or a time to ping
        except OSError as error:
            raise AmiError(f"connection lost: {error}") from error
        self._ready.extend(self._parser.feed(data))
        return bool(data)

    def send(self, action: str, fields: dict[str, str]) -> str:
        """Send an action; its ActionID, to find its response by."""
        action_id = f"rapport-{next(self._action_ids)}"
        lines = [f"Action: {action}", f"ActionID: {action_id}", *(f"{key}: {value}" for key, value in fields.items())]
        # A line break inside a value would end the action there and start another: an injected command.
        if any("\r" in line or "\n" in line for line in lines):
            raise AmiError(f"a field of {action} holds a line break")
        try:
            self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        except OSError as error:
            raise AmiError(f"connection lost: {error}") from error
        return action_id

    def request(self, action: str, fields: dict[str, str]) -> Message:
        """Send an action and wait for its response (events coming meanwhile are kept for ``batches``)."""
        action_id = self.send(action, fields)
        while True:
            for message in self._ready:
                if "response" in message and message.get("actionid") == action_id:
                    self._ready.remove(message)
                    return message
            try:
                if not self._receive():
                    raise AmiError(f"the PBX closed the connection before answering {action}")
            except TimeoutError:
                raise AmiError(f"no answer to {action} within {self._sock.gettimeout()} s") from None

    def login(self, username: str, secret: str, *, events: str) -> None:
        try:
            while self._parser.banner is None:
                if not self._receive():
                    raise AmiError("the PBX closed the connection before greeting")
        except TimeoutError:
            raise AmiError("no greeting from the PBX") from None
        banner = self._parser.banner
        if not banner.startswith(BANNER):
            raise AmiError(f"not an Asterisk Manager Interface: it says {banner[:80]!r}")
        answer = self.request("Login", {"Username": username, "Secret": secret, "Events": events})
        if answer.get("response", "").lower() != "success":
            raise AmiLoginError(f"login refused: {answer.get('message') or 'no reason given'}")

    def batches(self, *, idle_seconds: float = IDLE_SECONDS) -> Iterator[list[Message]]:
        """The messages of each read as soon as they are complete, until the PBX closes the connection.

        A message cut off by the end of the stream is dropped, never half-read.
        """
        self._sock.settimeout(idle_seconds)
        pinged = False
        while True:
            if self._ready:
                batch, self._ready = self._ready, []
                yield batch
            try:
                if not self._receive():
                    break
                pinged = False
            except TimeoutError:
                if pinged:
                    raise AmiError(f"the PBX answered nothing for {2 * idle_seconds:.0f} s") from None
                self.send("Ping", {})
                pinged = True
        if self._parser.pending:
            logger.warning("AMI: the connection ended inside a message; that message is dropped")


def ami_connect(integration: Integration, *, events: str, timeout: float) -> AmiConnection:
    """A logged-in connection to the integration's AMI; raises AmiError (AmiLoginError when refused) saying why not.

    ``events`` is the Login's Events: the classes to receive ("call,cdr"), or "off".
    """
    where = f"{integration.ami_host}:{integration.ami_port}"
    try:
        sock = socket.create_connection((integration.ami_host, integration.ami_port), timeout=timeout)
    except OSError as error:
        raise AmiError(f"cannot reach {where}: {error}") from error
    connection = AmiConnection(sock)
    try:
        connection.login(integration.ami_username, integration.ami_secret, events=events)
    except BaseException:
        sock.close()
        raise
    return connection


def _dialable(number: str) -> str:
    """The number as a dial plan takes it: its digits, with the "+" of an international number kept."""
    digits = digits_of(number)
    return f"+{digits}" if digits and number.strip().startswith("+") else digits


def ami_originate(integration: Integration, *, extension: str, number: str, timeout: float = 5) -> None:
    """Click-to-call: ring the manager's ``extension``; when they pick up, the PBX dials ``number``.

    Dialled from the integration's ``ami_context``, as ``+`` and digits when the number is international, else digits.
    Returns once the PBX has queued the call (Async); the call itself is then recorded by the listener like any other.
    Raises OriginateError with the reason: no AMI set up, the PBX unreachable or silent, the login or the call refused.
    """
    if not integration.has_ami:
        raise OriginateError(f"the integration {integration.name} has no AMI set up")
    dial = _dialable(number)
    if not dial:
        raise OriginateError(f"{number!r} is not a number to dial")
    if not _EXTENSION.fullmatch(extension):
        raise OriginateError(f"{extension!r} is not an extension")
    fields = {
        "Channel": f"{CHANNEL_TECHNOLOGY}/{extension}",
        "Exten": dial,
        "Context": integration.ami_context,
        "Priority": "1",
        # The manager's phone shows whom it is about to call; the caller's number stays the extension, so the
        # PBX and the listener see an outgoing call from the office.
        "CallerID": f'"{dial}" <{extension}>',
        "Async": "true",
    }
    try:
        with ami_connect(integration, events="off", timeout=timeout) as connection:
            answer = connection.request("Originate", fields)
    except AmiError as error:
        raise OriginateError(str(error)) from error
    if answer.get("response", "").lower() != "success":
        raise OriginateError(answer.get("message") or "the PBX refused the call")


@dataclass
class _Call:
    call_id: str
    direction: str
    ours: str  # the office's side: the extension calling out, or the number a client dialled
    theirs: str  # the client's number
    extension: str = ""
    answered_at: datetime | None = None
    dial_status: str = ""
    internal: bool = False  # an extension calling another: no client in it


def _remember[T](table: OrderedDict[str, T], key: str, value: T) -> None:
    table[key] = value
    table.move_to_end(key)
    if len(table) > MAX_CALLS:
        table.popitem(last=False)


def _clean(number: str) -> str:
    number = number.strip()
    return "" if number.lower() in _NOT_NUMBERS else number


def _whole(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


class CallTranslator:
    """AMI events into Rapport's call events, remembering each call's story by its Linkedid (Asterisk's call id).

    - The first channel of a call (Uniqueid == Linkedid) tells its direction: outgoing when its caller ID is the
      office's (``pbx.is_internal``), else incoming.
    - DialBegin rings (the dialled extension on an incoming call, the caller's on an outgoing one); DialEnd with
      ANSWER or a BridgeEnter of a second party answers; the Hangup of the first channel ends the call, with the
      talk time from the answer — or is a missed call when nobody answered.
    - A Cdr says the same with the PBX's own count of the talk time (BillableSeconds), which then wins; it alone
      rebuilds a call whose live events were lost in a reconnect.
    """

    def __init__(self, integration: Integration) -> None:
        self._integration = integration
        self._extensions: set[str] = set()
        self._calls: OrderedDict[str, _Call] = OrderedDict()
        self._linked: OrderedDict[str, str] = OrderedDict()  # a channel's Uniqueid → its call's Linkedid
        self._handlers: dict[str, Callable[[Message], list[Event]]] = {
            "newchannel": self._on_new_channel,
            "dialbegin": self._on_dial_begin,
            "dialend": self._on_dial_end,
            "bridgeenter": self._on_bridge_enter,
            "hangup": self._on_hangup,
            "cdr": self._on_cdr,
        }
        self.refresh()

    def refresh(self) -> None:
        """Read the integration's extension map again (each connection does: it may have changed)."""
        self._extensions = extensions_of(self._integration)

    def translate(self, message: Message) -> list[Event]:
        handler = self._handlers.get(message.get("event", "").lower())
        events = handler(message) if handler is not None else []
        # A call between two extensions is the office talking to itself: nothing to record.
        return [event for event in events if not self._calls[event.call_id].internal]

    def _internal(self, number: str) -> bool:
        return is_internal(number, self._extensions)

    def _at(self, message: Message) -> datetime:
        """When the event happened: its Timestamp (when the PBX has timestampevents on), else now."""
        try:
            return datetime.fromtimestamp(float(message["timestamp"]), tz=UTC)
        except (KeyError, ValueError, OverflowError):
            return timezone.now()

    def _local(self, value: str) -> datetime:
        """A CDR's time, written in the PBX's local time: read in the current time zone."""
        moment = parse_datetime(value.strip()) if value.strip() else None
        if moment is None:
            return timezone.now()
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)

    def _outside(self, *numbers: str) -> str:
        """The first of these numbers that is the outside world's."""
        return next((clean for number in numbers if (clean := _clean(number)) and not self._internal(clean)), "")

    def _internal_peer(self, channel: str, number: str) -> str:
        """The office extension a channel (or, failing that, a number) is, or ""."""
        peer = channel_extension(channel)
        if self._internal(peer):
            return peer
        return number if self._internal(number) else ""

    def _check_internal(self, call: _Call, channel: str, number: str) -> None:
        """An outgoing call that dials an extension and no outside number is internal."""
        if call.direction == Direction.OUT and not call.theirs and self._internal_peer(channel, number):
            call.internal = True

    def _start(self, call_id: str, caller: str, channel: str, exten: str) -> _Call:
        caller = _clean(caller)
        peer = channel_extension(channel)
        if self._internal(caller) or (not caller and self._internal(peer)):
            extension = caller or peer
            call = _Call(call_id, Direction.OUT, ours=extension, theirs=self._outside(exten), extension=extension)
        else:
            call = _Call(call_id, Direction.IN, ours=_clean(exten), theirs=caller)
        _remember(self._calls, call_id, call)
        return call

    def _call_of(self, message: Message) -> _Call | None:
        """The call a channel's event belongs to; a call is first known by an event of its first channel."""
        unique = message.get("uniqueid", "")
        linked = message.get("linkedid") or unique
        if not linked:
            # An originate's dial to the manager's phone has no calling channel: it is not the client answering.
            return None
        if unique:
            _remember(self._linked, unique, linked)
        call = self._calls.get(linked)
        if call is None and unique == linked:
            call = self._start(
                linked, message.get("calleridnum", ""), message.get("channel", ""), message.get("exten", "")
            )
        return call

    def _event(
        self,
        call: _Call,
        kind: str,
        at: datetime,
        *,
        key: str = "",
        extension: str = "",
        duration: int | None = None,
        disposition: str = "",
    ) -> Event:
        caller, callee = (call.theirs, call.ours) if call.direction == Direction.IN else (call.ours, call.theirs)
        return Event(
            event_id=f"ami:{call.call_id}:{key or kind}",
            call_id=call.call_id,
            type=kind,
            direction=call.direction,
            at=at,
            caller=caller[:64],
            callee=callee[:64],
            extension=(extension or call.extension)[:40],
            duration=duration,
            disposition=disposition[:40],
        )

    def _answered(self, call: _Call, at: datetime, extension: str) -> list[Event]:
        if call.direction == Direction.IN and extension:
            call.extension = call.extension or extension
        if call.answered_at is not None:
            return []  # the bridge after the dial, or a second leg: the call was answered once
        call.answered_at = at
        return [self._event(call, EventType.ANSWERED, at, extension=extension)]

    def _on_new_channel(self, message: Message) -> list[Event]:
        self._call_of(message)
        return []

    def _on_dial_begin(self, message: Message) -> list[Event]:
        call = self._call_of(message)
        if call is None:
            return []
        if call.direction == Direction.IN:
            extension = self._internal_peer(message.get("destchannel", ""), message.get("destcalleridnum", ""))
        else:
            extension = call.extension
            fields = (message.get(name, "") for name in ("exten", "destcalleridnum", "destexten"))
            call.theirs = call.theirs or self._outside(*fields)
            self._check_internal(call, message.get("destchannel", ""), message.get("destcalleridnum", ""))
        return [self._event(call, EventType.RINGING, self._at(message), extension=extension)]

    def _on_dial_end(self, message: Message) -> list[Event]:
        call = self._call_of(message)
        if call is None:
            return []
        status = message.get("dialstatus", "").upper()
        if status != "ANSWER":
            call.dial_status = status
            return []
        extension = self._internal_peer(message.get("destchannel", ""), message.get("destcalleridnum", ""))
        return self._answered(call, self._at(message), extension)

    def _on_bridge_enter(self, message: Message) -> list[Event]:
        call = self._call_of(message)
        # Alone in a bridge (parked, on hold, in an empty conference), a caller is not talking to anyone yet.
        if call is None or (_whole(message.get("bridgenumchannels", "")) or 2) < 2:
            return []
        extension = self._internal_peer(message.get("channel", ""), message.get("calleridnum", ""))
        return self._answered(call, self._at(message), extension)

    def _on_hangup(self, message: Message) -> list[Event]:
        unique = message.get("uniqueid", "")
        if not unique or unique != (message.get("linkedid") or unique):
            return []  # another party left; the call goes on until its first channel hangs up
        call = self._call_of(message)
        assert call is not None  # the first channel always makes its call known
        at = self._at(message)
        if call.answered_at is None:
            disposition = DIAL_DISPOSITIONS.get(call.dial_status, "NO ANSWER")
            return [self._event(call, EventType.MISSED, at, disposition=disposition)]
        talk = max(0, int((at - call.answered_at).total_seconds()))
        return [self._event(call, EventType.ENDED, at, duration=talk, disposition="ANSWERED")]

    def _on_cdr(self, message: Message) -> list[Event]:
        unique = message.get("uniqueid", "")
        call_id = message.get("linkedid") or self._linked.get(unique) or unique
        if not call_id:
            return []
        call = self._calls.get(call_id) or self._start(
            call_id, message.get("source", ""), message.get("channel", ""), message.get("destination", "")
        )
        self._check_internal(call, message.get("destinationchannel", ""), "")
        # ANSWERED with nobody on the other end means the dial plan answered (a greeting), not a person.
        answered = message.get("disposition", "").upper() == "ANSWERED" and bool(message.get("destinationchannel"))
        if not answered and call.answered_at is not None:
            return []  # a phone of a ring group that rang while another answered
        extension = call.extension
        if call.direction == Direction.IN:
            extension = self._internal_peer(message.get("destinationchannel", ""), "")
        disposition = message.get("disposition", "")
        # The CDR knows when the call came in, before any phone rang (a greeting, a queue): that is the call's start.
        start = self._local(message.get("starttime", ""))
        events = [self._event(call, EventType.RINGING, start, key="cdr-start", extension=extension)]
        end = self._local(message.get("endtime", ""))
        if not answered:
            events.append(self._event(call, EventType.MISSED, end, key="cdr-missed", disposition=disposition))
            return events
        if extension:
            call.extension = call.extension or extension
        # The live answer when there was one: a CDR's AnswerTime can be the dial plan's (a greeting), not the person's.
        # Under the live event's id, so it is stored only when the live events were lost.
        call.answered_at = call.answered_at or self._local(message.get("answertime", ""))
        events.append(self._event(call, EventType.ANSWERED, call.answered_at, extension=extension))
        talk = _whole(message.get("billableseconds", ""))
        events.append(self._event(call, EventType.ENDED, end, key="cdr", duration=talk, disposition=disposition))
        return events


def _fresh_database_connection() -> None:
    # A listener outlives database connections (CONN_MAX_AGE, a database restart); Django renews them only per
    # request. Inside a transaction — a test's — the connection must stay: closing it would abort that transaction.
    if not transaction.get_connection().in_atomic_block:
        close_old_connections()


def _record_events(
    integration: Integration, connection: AmiConnection, translator: CallTranslator, idle_seconds: float
) -> None:
    for batch in connection.batches(idle_seconds=idle_seconds):
        events = [event for message in batch for event in translator.translate(message)]
        if not events:
            continue
        _fresh_database_connection()
        try:
            report = events_ingest(integration, events)
        except DatabaseError:
            # Asterisk does not send them again; the next batch may find the database back.
            logger.exception("AMI %s: %d events could not be stored", integration.name, len(events))
            continue
        logger.debug("AMI %s: %d events stored, %d replayed", integration.name, report.stored, report.replayed)


def ami_listen(
    integration: Integration,
    *,
    once: bool = False,
    max_reconnects: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    idle_seconds: float = IDLE_SECONDS,
) -> None:
    """Record the integration's calls from its AMI until interrupted (KeyboardInterrupt), reconnecting after drops.

    A drop or a refused login is retried after a pause that doubles from BACKOFF_FIRST to BACKOFF_MAX, and starts
    over after a login succeeds. With ``once`` it returns when the first connection ends, with ``max_reconnects``
    when that many reconnects are spent; when the last connection failed, its AmiError is raised instead.
    """
    translator = CallTranslator(integration)
    delay, reconnects = BACKOFF_FIRST, 0
    while True:
        failure: AmiError | None = None
        try:
            with ami_connect(integration, events=LISTEN_EVENTS, timeout=CONNECT_SECONDS) as connection:
                delay = BACKOFF_FIRST
                logger.info("AMI %s: logged in to %s:%s", integration.name, integration.ami_host, integration.ami_port)
                _fresh_database_connection()
                translator.refresh()
                _record_events(integration, connection, translator, idle_seconds)
            logger.warning("AMI %s: the PBX closed the connection", integration.name)
        except AmiError as error:
            failure = error
            logger.warning("AMI %s: %s", integration.name, error)
        if once or (max_reconnects is not None and reconnects >= max_reconnects):
            if failure is not None:
                raise failure
            return
        logger.info("AMI %s: reconnecting in %.0f s", integration.name, delay)
        sleep(delay)
        delay = min(delay * 2, BACKOFF_MAX)
        reconnects += 1
