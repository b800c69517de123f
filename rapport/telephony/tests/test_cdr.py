"""A PBX's call detail records imported from a file land on the clients' timelines like live calls: once, however
often the file is imported, with the rows that cannot be read told by line and the others in."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpResponse
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityStatus
from rapport.clients import services
from rapport.clients.models import Company, Contact
from rapport.clients.services import PointInput
from rapport.clients.timeline import TimelineEntry, timeline_for
from rapport.core.csv_files import RowError
from rapport.telephony.cdr import CdrError, CdrReport, cdr_import
from rapport.telephony.models import Call, CallEvent, Extension, Integration

NEW_YORK = ZoneInfo("America/New_York")


def cdr(
    src: str, dst: str, clid: str, channel: str, dstchannel: str, times: str, billsec: int, *more: str
) -> list[str]:
    """A row of Asterisk's Master.csv; ``times`` is "start answer end" on 2025-11-20, "-" for no answer."""
    start, answer, end = (f"2025-11-20 {time}" if time != "-" else "" for time in times.split())
    disposition = "ANSWERED" if answer else "NO ANSWER"
    context = "from-internal" if len(src) == 3 else "from-trunk"
    duration = str(billsec + 10)
    return ["", src, dst, context, clid, channel, dstchannel, "Dial", "", start, answer, end, duration, str(billsec),
            disposition, "DOCUMENTATION", *more]  # fmt: skip


def master_csv(*rows: list[str]) -> str:
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(rows)
    return text.getvalue()


# A small morning (uniqueid logged, except by the third row's older server): Acme calls and Mark (101) answers;
# Bob calls and nobody answers; Mark calls Globex; Mark calls Tina (102).
ACME_CALLS = cdr(
    "2015550123", "2025550100", '"Acme" <2015550123>', "PJSIP/trunk-00000001", "PJSIP/101-00000002",
    "09:15:00 09:15:06 09:17:40", 154, "1763648100.1", "",
)  # fmt: skip
BOB_CALLS = cdr(
    "2015550145", "2025550100", '"Bob" <2015550145>', "PJSIP/trunk-00000003", "PJSIP/102-00000004",
    "09:30:00 - 09:30:25", 0, "1763649000.3", "",
)  # fmt: skip
MARK_CALLS_GLOBEX = cdr(
    "101", "2015550199", '"Mark Manager" <101>', "PJSIP/101-00000005", "PJSIP/trunk-00000006",
    "10:00:00 10:00:10 10:01:15", 65,
)  # fmt: skip
MARK_CALLS_TINA = cdr(
    "101", "102", '"Mark Manager" <101>', "PJSIP/101-00000007", "PJSIP/102-00000008",
    "10:30:00 10:30:02 10:32:00", 118, "1763652600.7", "",
)  # fmt: skip
MORNING = master_csv(ACME_CALLS, BOB_CALLS, MARK_CALLS_GLOBEX, MARK_CALLS_TINA)


@pytest.fixture
def pbx(manager: User, teammate: User, head: User) -> Integration:
    integration = Integration.objects.create(name="office-pbx", region="US", duty_manager=head)
    Extension.objects.create(integration=integration, number="101", user=manager)
    Extension.objects.create(integration=integration, number="102", user=teammate)
    return integration


@pytest.fixture
def acme(teammate: User) -> Company:
    return services.company_create(by=teammate, name="Acme", points=[PointInput(kind="phone", value="+12015550123")])


@pytest.fixture
def bob(teammate: User) -> Contact:
    return services.contact_create(
        by=teammate, first_name="Bob", last_name="Brown", points=[PointInput(kind="phone", value="+12015550145")]
    )


@pytest.fixture
def globex(manager: User) -> Company:
    return services.company_create(by=manager, name="Globex", points=[PointInput(kind="phone", value="+12015550199")])


def calls_on(client: Company | Contact, viewer: User) -> list[TimelineEntry]:
    return [entry for entry in timeline_for(client, viewer=viewer) if entry.kind == "call"]


def master(pbx: Integration, text: str) -> CdrReport:
    with timezone.override(NEW_YORK):
        return cdr_import(integration=pbx, file=io.StringIO(text))


def test_a_mornings_master_csv_lands_on_the_clients_timelines(
    pbx: Integration, acme: Company, bob: Contact, globex: Company, manager: User, teammate: User
) -> None:
    report = master(pbx, MORNING)

    assert (report.rows, report.imported, report.already_imported, report.skipped_internal) == (4, 3, 0, 1)
    assert report.errors == []
    [acme_call] = calls_on(acme, manager)
    assert (acme_call.title, acme_call.by) == ("Call: Incoming call", "Mark Manager")
    [globex_call] = calls_on(globex, manager)
    assert (globex_call.title, globex_call.by) == ("Call: Outgoing call", "Mark Manager")
    [bob_callback] = calls_on(bob, teammate)
    assert (bob_callback.title, bob_callback.by) == (
        "Call planned: Call back: missed call from 2015550145",
        "Tina Teammate",
    )
    # Talk time in started minutes: 154 s and 65 s; the PBX's local time read in the current time zone.
    incoming = Call.objects.get(company=acme)
    assert (incoming.direction, incoming.extension, incoming.duration, incoming.activity.duration) == (  # type: ignore[union-attr]
        "in",
        "101",
        154,
        3,
    )
    assert incoming.started_at == datetime(2025, 11, 20, 9, 15, tzinfo=NEW_YORK)
    assert incoming.ended_at == datetime(2025, 11, 20, 9, 17, 40, tzinfo=NEW_YORK)
    outgoing = Call.objects.get(company=globex)
    assert (outgoing.direction, outgoing.extension, outgoing.activity.duration) == ("out", "101", 2)  # type: ignore[union-attr]
    missed = Call.objects.get(contact=bob)
    assert missed.missed
    assert missed.callback.due_at == datetime(2025, 11, 20, 10, 0, 25, tzinfo=NEW_YORK)  # type: ignore[union-attr]
    assert not Call.objects.filter(number="102").exists()  # Mark calling Tina is nobody's client


def test_importing_the_same_file_again_creates_nothing_new_and_says_so(
    pbx: Integration, acme: Company, bob: Contact, globex: Company
) -> None:
    master(pbx, MORNING)
    stored = (Call.objects.count(), Activity.objects.count(), CallEvent.objects.count())

    report = master(pbx, MORNING)

    assert (report.rows, report.imported, report.already_imported, report.skipped_internal) == (4, 0, 3, 1)
    assert (Call.objects.count(), Activity.objects.count(), CallEvent.objects.count()) == stored
    assert stored == (3, 3, 8)  # three calls; two done and a callback; ringing, answer and end, or ringing and miss


def test_a_file_that_grew_since_imports_only_its_new_calls(pbx: Integration, acme: Company, globex: Company) -> None:
    master(pbx, master_csv(ACME_CALLS, BOB_CALLS))

    report = master(pbx, MORNING)

    assert (report.imported, report.already_imported) == (1, 2)
    assert Call.objects.count() == 3


def test_a_call_from_an_unknown_number_asks_the_duty_manager_for_a_callback(pbx: Integration, head: User) -> None:
    # Newer Asterisk: 21 columns (peeraccount, linkedid, sequence); the caller's number only in the caller id.
    row = (
        '"","","2025550100","from-trunk","""Stranger"" <2125550111>","PJSIP/trunk-0000000a","PJSIP/101-0000000b",'
        '"Dial","PJSIP/101,30","2025-11-20 11:00:00","","2025-11-20 11:00:30",30,0,"NO ANSWER","DOCUMENTATION",'
        '"1763654400.10","","","1763654400.10",12\n'
    )

    report = master(pbx, row)

    assert report.imported == 1
    call = Call.objects.get()
    assert (call.call_id, call.number, call.missed) == ("1763654400.10", "2125550111", True)
    callback = Activity.objects.get()
    assert (callback.owner, callback.status) == (head, ActivityStatus.PLANNED)


def test_bad_rows_are_told_by_line_and_the_good_ones_still_go_in(
    pbx: Integration, acme: Company, bob: Contact, globex: Company
) -> None:
    bad_date = [*BOB_CALLS[:9], "20/11/2025 9:30", *BOB_CALLS[10:]]
    no_number = [*MARK_CALLS_GLOBEX[:2], "", *MARK_CALLS_GLOBEX[3:]]
    text = master_csv(ACME_CALLS, bad_date, BOB_CALLS[:4], [], no_number, MARK_CALLS_GLOBEX)

    report = master(pbx, text)

    assert report.errors == [
        RowError(2, "“20/11/2025 9:30” in start is not a date and time; write it like 2026-11-24 09:15:00."),
        RowError(3, "The row has 4 columns; Asterisk's Master.csv has at least 16."),
        RowError(5, "The number called is empty."),
    ]
    assert (report.rows, report.imported) == (5, 2)
    assert len(calls_on(acme, acme.owner)) == 1  # type: ignore[arg-type]
    assert len(calls_on(globex, globex.owner)) == 1  # type: ignore[arg-type]
    assert not Call.objects.filter(contact=bob).exists()


GENERIC = """\
Call ID,Started,Answered,From,To,Agent,Type,Talk,Status,Recording
c-1,2025-11-20T14:15:00Z,2025-11-20T14:15:05Z,+1 201 555 0123,+1 202 555 0100,101,Incoming,0:02:05,answered,https://pbx.example.com/rec/c-1.mp3
c-2,2025-11-20T15:00:00+00:00,,+1 202 555 0100,(201) 555-0199,101,outbound,0,NO ANSWER,
"""
MAPPING = {
    "call_id": "Call ID",
    "start": "Started",
    "answer": "Answered",
    "from": "From",
    "to": "To",
    "extension": "Agent",
    "direction": "Type",
    "duration": "Talk",
    "disposition": "Status",
    "recording_url": "Recording",
}


def test_a_generic_csv_with_a_mapping(pbx: Integration, acme: Company, globex: Company, manager: User) -> None:
    report = cdr_import(integration=pbx, file=io.StringIO(GENERIC), mapping=MAPPING)

    assert (report.rows, report.imported, report.errors) == (2, 2, [])
    [answered] = calls_on(acme, manager)
    assert (answered.title, answered.recording_url) == ("Call: Incoming call", "https://pbx.example.com/rec/c-1.mp3")
    call = Call.objects.get(call_id="c-1")
    assert (call.duration, call.ended_at) == (125, datetime(2025, 11, 20, 14, 17, 10, tzinfo=ZoneInfo("UTC")))
    [attempt] = calls_on(globex, manager)
    assert attempt.title == "Call: Outgoing call, no answer"


def test_a_generic_csv_may_leave_the_direction_to_the_numbers(pbx: Integration, acme: Company, manager: User) -> None:
    text = "id;when;caller;called\nx-1;2025-11-20 09:00:00;102;+12015550123\n"

    mapping = {"call_id": "id", "start": "when", "from": "caller", "to": "called"}
    cdr_import(integration=pbx, file=io.StringIO(text), mapping=mapping)

    call = Call.objects.get()
    assert (call.direction, call.extension, call.company, call.missed) == ("out", "102", acme, True)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            {**MAPPING, "caller": "From", "agent": "Agent"},
            "Unknown fields in the mapping: agent, caller. The fields are: call_id, start, answer, end, from, to, "
            "extension, direction, duration, disposition, recording_url.",
        ),
        ({"call_id": "Call ID", "start": "Started"}, "The mapping must name the columns of: from, to."),
        (
            {**MAPPING, "from": "Caller", "to": "Callee"},
            "The file has no column “Caller”, “Callee”; its columns are: Call ID, Started, Answered, From, To, Agent, "
            "Type, Talk, Status, Recording.",
        ),
    ],
)
def test_a_wrong_mapping_is_refused_before_anything_is_stored(
    pbx: Integration, mapping: dict[str, str], message: str
) -> None:
    with pytest.raises(CdrError) as refused:
        cdr_import(integration=pbx, file=io.StringIO(GENERIC), mapping=mapping)

    assert str(refused.value) == message
    assert not CallEvent.objects.exists()


def test_a_bad_direction_or_duration_in_a_generic_csv_is_told_by_line(pbx: Integration) -> None:
    text = GENERIC.replace("Incoming", "sideways").replace(",0,NO ANSWER", ",two,NO ANSWER")

    report = cdr_import(integration=pbx, file=io.StringIO(text), mapping=MAPPING)

    assert report.errors == [
        RowError(2, "“sideways” in Type is not a direction; write in or out."),
        RowError(3, "“two” in Talk is not a number of seconds."),
    ]


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("telephony_cdr_import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_imports_a_master_csv_and_tells_what_it_did(
    pbx: Integration, acme: Company, bob: Contact, globex: Company, tmp_path: Path
) -> None:
    path = tmp_path / "Master.csv"
    path.write_text(MORNING + '"","2015550123"\n', encoding="utf-8")

    out, err = run("--integration", "office-pbx", str(path))
    again, _err = run("--integration", "office-pbx", str(path))

    assert out == ("rows read: 5, calls imported: 3, already imported: 0, internal calls skipped: 1, errors: 1.\n")
    assert err == "line 5: The row has 2 columns; Asterisk's Master.csv has at least 16.\n"
    assert again == ("rows read: 5, calls imported: 0, already imported: 3, internal calls skipped: 1, errors: 1.\n")


def test_the_command_reads_a_spreadsheets_csv_with_a_mapping(
    pbx: Integration, acme: Company, globex: Company, tmp_path: Path
) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(GENERIC, encoding="utf-8-sig")  # with the BOM a spreadsheet writes
    maps = [arg for field, column in MAPPING.items() for arg in ("--map", f"{field}={column}")]

    out, _err = run("--integration", "office-pbx", str(path), *maps)

    assert out.startswith("rows read: 2, calls imported: 2,")
    assert Call.objects.count() == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--integration", "elsewhere", "{file}"], "no integration 'elsewhere'."),
        (["--integration", "office-pbx", "{missing}"], "cannot read {missing}: No such file or directory."),
        (
            ["--integration", "office-pbx", "{file}", "--map", "call_id"],
            "--map “call_id”: write each line as field=column",
        ),
        (["--integration", "office-pbx", "{file}", "--map", "from=Caller"], "The mapping must name the columns of"),
    ],
)
def test_the_command_refuses_what_it_cannot_import(
    pbx: Integration, tmp_path: Path, args: list[str], message: str
) -> None:
    path, missing = tmp_path / "calls.csv", tmp_path / "nowhere.csv"
    path.write_text(GENERIC, encoding="utf-8")
    where = {"file": str(path), "missing": str(missing)}

    with pytest.raises(CommandError) as refused:
        run(*(arg.format(**where) for arg in args))

    assert str(refused.value).startswith(message.format(**where))
    assert not CallEvent.objects.exists()


def test_an_answered_call_with_no_answer_time_is_answered_when_the_talk_began(pbx: Integration, acme: Company) -> None:
    no_answer_time = [*ACME_CALLS[:10], "", *ACME_CALLS[11:]]

    master(pbx, master_csv(no_answer_time))

    call = Call.objects.get()
    assert call.answered_at == call.ended_at - timedelta(seconds=154)  # type: ignore[operator]


# ---- The upload on the integration's settings page (admins) -------------------------------------------------------


def upload(client: DjangoClient, pbx: Integration, text: str, mapping: str = "") -> HttpResponse:
    file = SimpleUploadedFile("Master.csv", text.encode(), content_type="text/csv")
    url = reverse("telephony:cdr-upload", args=[pbx.pk])
    return client.post(url, {"file": file, "mapping": mapping})  # type: ignore[return-value]


def test_an_admin_uploads_a_master_csv_and_reads_what_went_in(
    pbx: Integration, acme: Company, bob: Contact, globex: Company, as_admin: DjangoClient
) -> None:
    page = upload(as_admin, pbx, MORNING).content.decode()

    assert "4 rows read: 3 calls imported, 0 imported before, 1 internal calls skipped." in page
    assert Call.objects.count() == 3
    again = upload(as_admin, pbx, MORNING).content.decode()
    assert "4 rows read: 0 calls imported, 3 imported before, 1 internal calls skipped." in again
    assert Call.objects.count() == 3


def test_an_upload_with_a_mapping_and_its_mistakes_told_by_the_field(
    pbx: Integration, acme: Company, as_admin: DjangoClient
) -> None:
    bad = upload(as_admin, pbx, GENERIC, mapping="call_id Call")
    assert bad.status_code == 422
    assert 'id="id_mapping-error"' in bad.content.decode()

    unknown = upload(as_admin, pbx, GENERIC, mapping="call_id=Nope\nstart=Start\nfrom=From\nto=To")
    assert unknown.status_code == 422
    assert "The file has no column" in unknown.content.decode()
    assert Call.objects.count() == 0

    mapping = "\n".join(f"{field}={column}" for field, column in MAPPING.items())
    good = upload(as_admin, pbx, GENERIC, mapping=mapping)
    assert good.status_code == 200
    assert "2 rows read: 2 calls imported" in good.content.decode()


def test_only_admins_upload_call_records(pbx: Integration, as_manager: DjangoClient) -> None:
    assert upload(as_manager, pbx, MORNING).status_code == 403
    assert Call.objects.count() == 0
