"""Activities from a CSV file: the same checks as by hand (minimum data first), all rows or none, a dry run first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.activities.csv_import import MAX_ROWS, import_activities
from rapport.activities.models import Activity, ActivityStatus
from rapport.clients import services as client_services
from rapport.clients.models import Company, Contact

URL = "/activities/import/"


@pytest.fixture
def anna(manager: User, acme: Company) -> Contact:
    return client_services.contact_create(
        by=manager,
        last_name="Petrova",
        first_name="Anna",
        company=acme,
        points=[client_services.PointInput(kind="email", value="Anna@Acme.test")],
    )


def csv_file(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


GOOD = csv_file(
    "kind;status;done;due;subject;result;outcome;duration;company;contact",
    "meeting;done;2026-03-31 14:30;;Demo;Agreed on a trial;Held;45;Acme Trading;anna@acme.test",
    f"Call;;;{(timezone.localdate() + timedelta(days=2)).isoformat()} 10:00;Follow up the trial;;;;Acme Trading;",
)


def test_a_good_file_is_checked_then_imported(manager: User, acme: Company, anna: Contact) -> None:
    checked = import_activities(by=manager, data=GOOD, apply=False)
    assert (checked.rows, checked.created, checked.errors, checked.applied) == (2, 2, [], False)
    assert not Activity.objects.exists()  # the check writes nothing
    acme.refresh_from_db()
    assert acme.last_contact_at is None

    done = import_activities(by=manager, data=GOOD, apply=True)
    assert (done.created, done.applied) == (2, True)
    meeting = Activity.objects.get(kind="meeting")
    assert (meeting.status, meeting.contact, meeting.company, meeting.owner) == ("done", anna, acme, manager)
    assert (meeting.outcome.name if meeting.outcome else None, meeting.duration) == ("Held", 45)
    assert timezone.localtime(meeting.done_at).strftime("%Y-%m-%d %H:%M") == "2026-03-31 14:30"
    call = Activity.objects.get(kind="call")
    assert call.status == ActivityStatus.PLANNED  # only a due date: a plan
    acme.refresh_from_db()
    assert acme.last_contact_at == meeting.done_at


def test_a_meeting_without_its_minimum_data_stops_the_whole_file(manager: User, acme: Company, anna: Contact) -> None:
    data = csv_file(
        "kind,status,done,subject,company",
        "note,done,2026-03-30 09:00,Fine on its own,Acme Trading",
        "meeting,done,2026-03-31 14:30,Demo,Acme Trading",
    )
    result = import_activities(by=manager, data=data, apply=True)
    assert [(error.row, error.message) for error in result.errors] == [
        (
            3,
            "To save this meeting as “done” it needs: the client's last and first name, "
            "at least one contact detail of the client, the result.",
        )
    ]
    assert not result.applied
    assert not Activity.objects.exists()  # the good line is not written either


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("visit,done,,Acme Trading,,,", "kind: write call, meeting, task, note or email."),
        ("call,finished,,Acme Trading,,,", "status: write planned, done or cancelled."),
        ("call,done,Held,Acme Trading,,,", "outcome: a call has no outcome “Held”."),
        ("call,done,,Acme Trading,-5,,", "duration: write whole minutes, 0 or more."),
        (
            "call,done,,Acme Trading,,yesterday-ish,",
            "done: “yesterday-ish” is not a date and time (write 2026-03-31 14:30).",
        ),
        ("call,done,,Acme Trading,,2099-01-01 10:00,", "done: An activity cannot be done in the future."),
        ("call,done,,Nobody Ltd,,,", "company: no company you can see is named “Nobody Ltd”."),
        ("call,done,,Acme Trading,,,ghost", "owner: nobody has the username or e-mail “ghost”."),
    ],
)
def test_each_bad_cell_is_named(manager: User, acme: Company, line: str, message: str) -> None:
    data = csv_file("kind,status,outcome,company,duration,done,owner", line)
    result = import_activities(by=manager, data=data, apply=True)
    assert [(error.row, error.message) for error in result.errors] == [(2, message)]
    assert not Activity.objects.exists()


def test_rows_reach_only_what_the_importer_may(manager: User, outsider: User, acme: Company, admin_user: User) -> None:
    far = client_services.company_create(by=outsider, name="Far Away")
    client_services.company_create(by=manager, name="Twin")
    client_services.company_create(by=manager, name="Twin")
    data = csv_file(
        "kind,company,company_id,owner",
        f"note,,{far.pk},",
        "note,Far Away,,",
        "note,Twin,,",
        "note,Acme Trading,,outsider",
    )
    result = import_activities(by=manager, data=data, apply=True)
    assert [(error.row, error.message) for error in result.errors] == [
        (2, f"company_id: no company you can see has the id {far.pk}."),
        (3, "company: no company you can see is named “Far Away”."),
        (4, "company: several companies are named “Twin”: give company_id instead."),
        (5, "owner: You can only give activities to people of your own team."),
    ]
    # An admin sees every client and gives activities to anyone.
    allowed = import_activities(
        by=admin_user, data=csv_file("kind,company_id,owner", f"note,{far.pk},outsider"), apply=True
    )
    assert allowed.applied
    assert Activity.objects.get().owner == outsider


def test_contacts_are_found_by_phone_or_id(manager: User, acme: Company) -> None:
    person = client_services.contact_create(
        by=manager,
        last_name="Ivanov",
        first_name="Ivan",
        points=[client_services.PointInput(kind="phone", value="+1 201 555 0100")],
    )
    data = csv_file("kind,contact,contact_id", "note,(201) 555-0100,", f"note,,{person.pk}", "note,+1 201 555 0199,")
    result = import_activities(by=manager, data=data, apply=False)
    assert [(error.row, error.message) for error in result.errors] == [
        (4, "contact: no person you can see has the e-mail or phone “+1 201 555 0199”.")
    ]
    fixed = import_activities(by=manager, data=csv_file("kind,contact", "note,(201) 555-0100"), apply=True)
    assert fixed.applied
    assert Activity.objects.get().contact == person


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"kind;mood\ncall;happy\n", "unexpected column “mood”"),
        (b"subject\nHello\n", "the column “kind” is missing"),
        (b"kind\n", None),
        (
            "kind\nзвонок\n".encode("cp1251"),
            "The file is not UTF-8 text: save it from your spreadsheet as “CSV UTF-8”.",
        ),
        (b"", "The file is empty."),
    ],
)
def test_files_that_cannot_be_read(manager: User, data: bytes, message: str | None) -> None:
    result = import_activities(by=manager, data=data, apply=True)
    assert len(result.errors) == 1
    if message:
        assert result.errors[0].message == message
    else:
        assert result.errors[0].row == 2  # no rows under the header
    assert not result.can_apply


def test_a_file_too_long_is_refused(manager: User) -> None:
    data = csv_file("kind", *["note"] * (MAX_ROWS + 1))
    result = import_activities(by=manager, data=data, apply=True)
    assert [error.row for error in result.errors] == [MAX_ROWS + 2]
    assert "at most" in result.errors[0].message
    assert not Activity.objects.exists()


def test_labels_in_the_readers_language_are_understood(manager: User, acme: Company) -> None:
    from django.utils import translation

    with translation.override("ru"):
        result = import_activities(
            by=manager, data=csv_file("kind,status,company", "Звонок,выполнена,Acme Trading"), apply=True
        )
    assert result.applied, result.errors
    assert Activity.objects.get().kind == "call"


# ---- The page ----------------------------------------------------------------------------------


def upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("activities.csv", data, content_type="text/csv")


def test_check_then_import_on_the_page(as_manager: Client, acme: Company, anna: Contact) -> None:
    assert 'id="import-activities"' in as_manager.get("/activities/list/").content.decode()
    checked = as_manager.post(URL, {"action": "check", "file": upload(GOOD)})
    page = checked.content.decode()
    assert checked.status_code == 200
    assert 'id="apply-import"' in page
    assert not Activity.objects.exists()
    token = checked.context["token"]
    applied = as_manager.post(URL, {"action": "apply", "token": token}, follow=True)
    assert "Imported 2 activities." in applied.content.decode()
    assert Activity.objects.count() == 2
    # The token was spent: the same form again says the file expired, and imports nothing twice.
    again = as_manager.post(URL, {"action": "apply", "token": token}, follow=True)
    assert "The checked file has expired: choose it again." in again.content.decode()
    assert Activity.objects.count() == 2


def test_the_page_lists_the_lines_to_fix(as_manager: Client, acme: Company) -> None:
    response = as_manager.post(URL, {"action": "check", "file": upload(csv_file("kind,company", "meeting,Nowhere"))})
    page = response.content.decode()
    assert response.status_code == 422
    assert "company: no company you can see is named “Nowhere”." in page
    assert 'id="apply-import"' not in page


def test_no_file_is_refused_next_to_the_field(as_manager: Client) -> None:
    response = as_manager.post(URL, {"action": "check"})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()


def test_those_who_only_read_cannot_import(acme: Company) -> None:
    analyst = client_for(UserFactory.create(role=Role.ANALYST))
    assert analyst.get(URL).status_code == 403
    assert analyst.post(URL, {"action": "check", "file": upload(GOOD)}).status_code == 403
    assert 'id="import-activities"' not in analyst.get("/activities/list/").content.decode()
    assert not Activity.objects.exists()
