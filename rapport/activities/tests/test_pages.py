"""An activity's pages: planning or logging one, its page and editor, marking done with the next step, cancel, delete;
and the deal card's activities."""

from __future__ import annotations

import html
import zoneinfo
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.activities import services
from rapport.activities.models import Activity, ActivityStatus, Outcome
from rapport.clients import services as client_services
from rapport.clients.models import Company, Contact
from rapport.clients.services import PointInput
from rapport.sales.models import Deal

NEW = "/activities/new/"
HTMX = {"HX-Request": "true"}


def outcome(kind: str, name: str) -> Outcome:
    return Outcome.objects.get(kind=kind, name=name)


def _page(client: Client, url: str, **params: object) -> str:
    response = client.get(url, params)  # type: ignore[arg-type]
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def _error(page: str, field_id: str) -> str:
    """The message shown next to a field."""
    start = page.index(f'id="{field_id}-error">') + len(f'id="{field_id}-error">')
    return html.unescape(page[start : page.index("</div>", start)])


def _local(days: int = 1) -> str:
    return (timezone.localtime() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def meeting(manager: User, acme: Company) -> Activity:
    return services.activity_create(by=manager, kind="meeting", company=acme, due_at=timezone.now() + timedelta(days=1))


# ---- Planning or logging one -------------------------------------------------------------------


def test_the_form_comes_prefilled_from_the_card(as_manager: Client, ivanov: Contact, acme: Company) -> None:
    page = _page(as_manager, NEW, contact=ivanov.pk, kind="meeting", status="done")
    assert '<option value="meeting" selected>' in page
    assert 'value="done" class="form-check-input" id="id_status_1" required checked' in page
    # The person and their company, each shown as the picker's chosen record.
    assert f'<option value="{ivanov.pk}" selected>Ivanov Fedor</option>' in page
    assert f'<option value="{acme.pk}" selected>Acme Trading</option>' in page
    assert 'name="owner"' not in page  # a manager's activities are their own


def test_a_planned_call_is_saved_for_its_owner(manager: User, as_manager: Client, acme: Company) -> None:
    data = {"kind": "call", "status": "planned", "subject": "Ask about the chairs", "company": acme.pk}
    response = as_manager.post(f"{NEW}?company={acme.pk}&next={acme.get_absolute_url()}", {**data, "due_at": _local()})
    assert response.status_code == 302
    assert response["Location"] == acme.get_absolute_url()
    call = Activity.objects.get()
    assert (call.kind, call.status, call.owner, call.created_by, call.company) == (
        "call",
        "planned",
        manager,
        manager,
        acme,
    )
    assert call.subject == "Ask about the chairs"


def test_a_head_plans_for_the_team_only(head: User, manager: User, outsider: User, acme: Company) -> None:
    page = _page(client_for(head), NEW, company=acme.pk)
    owners = page[page.index('name="owner"') :]
    owners = owners[: owners.index("</select>")]
    assert "Mark Manager" in owners
    assert "Oscar Outsider" not in owners
    data = {"kind": "task", "status": "planned", "subject": "Send the offer", "company": acme.pk}
    assert client_for(head).post(NEW, {**data, "owner": manager.pk}).status_code == 302
    assert Activity.objects.get().owner == manager
    response = client_for(head).post(NEW, {**data, "owner": outsider.pk})
    assert response.status_code == 422
    assert Activity.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "call", "duration": "-5"}, "duration", "The duration cannot be below zero."),
        (
            {"kind": "call", "due_at": "2020-01-01T10:00"},
            "due_at",
            "This date is more than a year ago: give the date the activity is planned for.",
        ),
        ({"kind": "meeting", "outcome": "wrong number"}, "outcome", "Choose one of the outcomes of a meeting."),
        ({"kind": "call", "due_at": "tomorrow-ish"}, "due_at", "Enter a valid date/time."),
    ],
)
def test_bad_input_is_refused_next_to_its_field(
    as_manager: Client, acme: Company, data: dict[str, str], field: str, message: str
) -> None:
    if data.get("outcome") == "wrong number":
        data = {**data, "outcome": str(outcome("call", "Wrong number").pk)}
    response = as_manager.post(NEW, {"status": "planned", "company": acme.pk, **data})
    assert response.status_code == 422
    assert _error(response.content.decode(), f"id_{field}") == message
    assert not Activity.objects.exists()


def test_a_meeting_logged_as_done_lists_what_it_lacks(as_manager: Client, acme: Company) -> None:
    response = as_manager.post(NEW, {"kind": "meeting", "status": "done", "company": acme.pk})
    assert response.status_code == 422
    page = response.content.decode()
    summary = page[page.index('id="form-errors"') :]
    assert "To save this meeting as “done” it needs:" in html.unescape(summary)
    for field in ("contact", "subject", "result"):
        assert f'href="#id_{field}"' in summary
    assert not Activity.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("outsider", 404), ("teammate", 404), ("agent", 404)])
def test_clients_out_of_sight_are_404(personas: dict[str, User], acme: Company, persona: str, status: int) -> None:
    assert client_for(personas[persona]).get(NEW, {"company": acme.pk}).status_code == status


def test_readers_may_not_plan(acme: Company) -> None:
    analyst = client_for(UserFactory.create(role=Role.ANALYST))
    assert analyst.get(NEW).status_code == 403
    assert analyst.post(NEW, {"kind": "call", "status": "planned"}).status_code == 403
    assert not Activity.objects.exists()


# ---- Its page and the editor -------------------------------------------------------------------

PAGE_ACCESS = {
    "manager": 200,  # owns it
    "head": 200,  # heads the owner
    "admin": 200,
    "operator": 200,  # sees every client, so its history
    "teammate": 404,
    "outsider": 404,
    "agent": 404,
}
EDIT_ACCESS = {"manager": 302, "head": 302, "admin": 302, "operator": 403, "teammate": 404, "outsider": 404}


@pytest.mark.parametrize(("persona", "status"), PAGE_ACCESS.items())
def test_who_sees_the_page(personas: dict[str, User], meeting: Activity, persona: str, status: int) -> None:
    response = client_for(personas[persona]).get(meeting.get_absolute_url())
    assert response.status_code == status
    if status == 200:
        editable = 'id="edit-activity"' in response.content.decode()
        assert editable == (persona in {"manager", "head", "admin"})


@pytest.mark.parametrize(("persona", "status"), EDIT_ACCESS.items())
def test_who_may_edit(personas: dict[str, User], meeting: Activity, persona: str, status: int) -> None:
    data = {"version": 1, "kind": "meeting", "subject": "Renamed", "company": meeting.company_id}
    if persona != "manager" and status == 302:
        data["owner"] = meeting.owner_id  # type: ignore[assignment]
    response = client_for(personas[persona]).post(meeting.get_absolute_url(), data)
    assert response.status_code == status
    meeting.refresh_from_db()
    assert (meeting.subject == "Renamed") == (status == 302)


def test_the_page_shows_everything(
    manager: User, as_manager: Client, acme: Company, ivanov: Contact, deal: Deal
) -> None:
    call = services.activity_create(
        by=manager,
        kind="call",
        status="done",
        direction="in",
        contact=ivanov,
        deal=deal,
        outcome=outcome("call", "Completed"),
        subject="Order confirmed",
        result="Wants delivery on Monday",
        duration=7,
    )
    page = html.unescape(_page(as_manager, call.get_absolute_url()))
    for text in ("Order confirmed", "Completed", "incoming", "7 minutes", "Wants delivery on Monday", "Mark Manager"):
        assert text in page
    assert f'href="{ivanov.get_absolute_url()}"' in page
    assert f'href="{acme.get_absolute_url()}"' in page
    assert f'href="{deal.get_absolute_url()}"' in page
    assert 'id="complete-form"' not in page  # already done
    assert 'id="plan-next-step"' in page


def test_editing_in_place(manager: User, as_manager: Client, meeting: Activity) -> None:
    editor = as_manager.get(meeting.get_absolute_url(), {"edit": 1}, headers=HTMX)
    assert editor.status_code == 200
    assert 'id="edit-form"' in editor.content.decode()
    data = {"version": 1, "kind": "meeting", "subject": "", "result": "Agenda sent", "company": meeting.company_id}
    response = as_manager.post(meeting.get_absolute_url(), data, headers=HTMX)
    assert response.status_code == 200
    assert "Agenda sent" in response.content.decode()
    meeting.refresh_from_db()
    assert (meeting.result, meeting.version) == ("Agenda sent", 2)
    # The "mark as done" form under it carries the new version.
    assert 'name="version" value="2"' in response.content.decode()


def test_a_stale_edit_is_refused(as_manager: Client, manager: User, meeting: Activity) -> None:
    services.activity_update(by=manager, activity=meeting, subject="Changed meanwhile")
    data = {"version": 1, "kind": "meeting", "subject": "Mine", "company": meeting.company_id}
    response = as_manager.post(meeting.get_absolute_url(), data, headers=HTMX)
    assert response.status_code == 422
    assert "reload to see the change" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.subject == "Changed meanwhile"


def test_the_edit_shows_a_refusal_next_to_the_field(as_manager: Client, meeting: Activity) -> None:
    data = {"version": 1, "kind": "meeting", "duration": "-1", "company": meeting.company_id}
    response = as_manager.post(meeting.get_absolute_url(), data, headers=HTMX)
    assert response.status_code == 422
    assert _error(response.content.decode(), "edit_duration") == "The duration cannot be below zero."
    meeting.refresh_from_db()
    assert meeting.duration is None


def test_query_count_of_the_page(  # type: ignore[no-untyped-def]
    as_manager: Client, meeting: Activity, django_assert_num_queries
) -> None:
    # Session and user, the activity, the company's visibility, the bell; the "mark as done" form's
    # outcomes and deals.
    with django_assert_num_queries(7):
        _page(as_manager, meeting.get_absolute_url())


# ---- Marking done, and the next step -----------------------------------------------------------


def test_a_meeting_done_without_its_minimum_data_links_to_what_is_missing(
    as_manager: Client, meeting: Activity
) -> None:
    response = as_manager.post(f"/activities/{meeting.pk}/complete/", {"version": 1})

    assert response.status_code == 422
    page = response.content.decode()
    summary = html.unescape(page[page.index('id="form-errors"') : page.index('id="activity-details"')])
    assert "To save this meeting as “done” it needs: the client's last and first name" in summary
    for field in ("contact", "subject", "result"):
        assert f'href="#id_{field}"' in summary
    assert _error(page, "id_result") == "Needed: the result."
    assert "Needed: at least one contact detail of the client." in _error(page, "id_contact")
    meeting.refresh_from_db()
    assert (meeting.status, meeting.version) == (ActivityStatus.PLANNED, 1)
    # Marking done keeps the kind: only a meeting's outcomes are offered.
    outcomes = page[page.index('name="outcome"') :]
    outcomes = outcomes[: outcomes.index("</select>")]
    assert "Held" in outcomes
    assert "Wrong number" not in outcomes


def test_done_then_the_next_step_is_offered_prefilled(
    manager: User, as_manager: Client, meeting: Activity, ivanov: Contact, deal: Deal
) -> None:
    manager.time_zone = "Europe/Moscow"
    manager.save(update_fields=["time_zone"])
    client_services.contact_point_add(by=manager, client=ivanov, point=PointInput("phone", "+7 916 111-22-33"))
    data = {
        "version": 1,
        "contact": ivanov.pk,
        "deal": deal.pk,
        "subject": "Presentation",
        "result": "They liked the chairs",
        "outcome": outcome("meeting", "Held").pk,
        "duration": 45,
    }
    response = as_manager.post(f"/activities/{meeting.pk}/complete/", data)

    assert response.status_code == 302
    assert response["Location"] == f"{meeting.get_absolute_url()}?next_step=1"
    meeting.refresh_from_db()
    assert (meeting.status, meeting.duration, meeting.outcome) == ("done", 45, outcome("meeting", "Held"))
    page = _page(as_manager, response["Location"])
    form = page[page.index('id="next-step-form"') :]
    assert f'action="/activities/new/?after={meeting.pk}"' in page
    assert '<option value="meeting" selected>' in form
    assert f'<option value="{deal.pk}" selected>' in form
    assert f'<option value="{ivanov.pk}" selected>' in form
    tomorrow = (timezone.now().astimezone(zoneinfo.ZoneInfo("Europe/Moscow")) + timedelta(days=1)).date()
    assert f'value="{tomorrow.isoformat()}T10:00"' in form

    # Planning it links the two.
    next_step = {"follow_up_of": meeting.pk, "kind": "meeting", "status": "planned", "subject": "Contract"}
    next_step |= {"company": meeting.company_id, "contact": ivanov.pk, "deal": deal.pk, "due_at": _local(2)}
    assert as_manager.post(f"/activities/new/?after={meeting.pk}", next_step).status_code == 302
    planned = Activity.objects.get(status=ActivityStatus.PLANNED)
    assert (planned.follow_up_of, planned.deal) == (meeting, deal)


def test_the_next_step_link_prefills_the_new_form(as_manager: Client, manager: User, acme: Company) -> None:
    call = services.call_quick_log(by=manager, client=acme, outcome=outcome("call", "Completed")).call
    page = _page(as_manager, NEW, after=call.pk)
    assert "Plan the next step" in page
    assert f'name="follow_up_of" value="{call.pk}"' in page
    assert '<option value="call" selected>' in page


def test_only_editors_complete(personas: dict[str, User], meeting: Activity) -> None:
    for persona, status in {"operator": 403, "teammate": 404, "outsider": 404}.items():
        assert client_for(personas[persona]).post(f"/activities/{meeting.pk}/complete/").status_code == status
    meeting.refresh_from_db()
    assert meeting.status == ActivityStatus.PLANNED


# ---- Cancel and delete -------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "status"), EDIT_ACCESS.items())
def test_who_may_cancel(personas: dict[str, User], meeting: Activity, persona: str, status: int) -> None:
    response = client_for(personas[persona]).post(f"/activities/{meeting.pk}/cancel/")
    assert response.status_code == status
    meeting.refresh_from_db()
    assert (meeting.status == ActivityStatus.CANCELLED) == (status == 302)


@pytest.mark.parametrize(("persona", "status"), EDIT_ACCESS.items())
def test_who_may_delete(personas: dict[str, User], meeting: Activity, persona: str, status: int) -> None:
    response = client_for(personas[persona]).post(f"/activities/{meeting.pk}/delete/")
    assert response.status_code == status
    assert Activity.objects.alive().filter(pk=meeting.pk).exists() == (status != 302)


def test_after_deleting_back_to_the_card(as_manager: Client, meeting: Activity, acme: Company) -> None:
    response = as_manager.post(f"/activities/{meeting.pk}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == acme.get_absolute_url()
    assert "The meeting is deleted." in response.content.decode()
    assert as_manager.get(meeting.get_absolute_url()).status_code == 404


def test_get_does_not_change_anything(as_manager: Client, meeting: Activity) -> None:
    for action in ("complete", "cancel", "delete"):
        assert as_manager.get(f"/activities/{meeting.pk}/{action}/").status_code == 405
    meeting.refresh_from_db()
    assert (meeting.status, meeting.deleted_at) == (ActivityStatus.PLANNED, None)


# ---- The timelines and the deal card -----------------------------------------------------------


def test_the_client_card_links_each_activity_to_its_page(as_manager: Client, meeting: Activity, acme: Company) -> None:
    page = html.unescape(_page(as_manager, acme.get_absolute_url()))
    assert f'<a href="{meeting.get_absolute_url()}">Meeting planned</a>' in page


def test_the_deal_card_shows_its_activities_and_flags_no_next_step(
    manager: User, as_manager: Client, deal: Deal
) -> None:
    services.call_quick_log(by=manager, client=deal.company, outcome=outcome("call", "Completed"), deal=deal)  # type: ignore[arg-type]
    page = _page(as_manager, deal.get_absolute_url())
    timeline = html.unescape(page[page.index('id="deal-timeline"') :])
    assert "Call: Completed" in timeline
    assert 'id="deal-no-next-step"' in timeline
    assert f'href="/activities/new/?deal={deal.pk}' in timeline

    planned = services.activity_create(
        by=manager, kind="task", deal=deal, subject="Send the contract", due_at=timezone.now() + timedelta(days=2)
    )
    region = as_manager.get(f"/sales/deals/{deal.pk}/regions/deal-timeline/", headers=HTMX).content.decode()
    assert "Task planned: Send the contract" in html.unescape(region)
    assert f'href="{planned.get_absolute_url()}"' in region
    assert 'id="deal-no-next-step"' not in region


def test_a_planned_activity_from_the_deal_card_goes_back_to_it(as_manager: Client, deal: Deal) -> None:
    page = _page(as_manager, NEW, deal=deal.pk, next=deal.get_absolute_url())
    assert f'<option value="{deal.pk}" selected>Chairs for the office</option>' in page
    data = {"kind": "call", "status": "planned", "deal": deal.pk, "company": deal.company_id, "due_at": _local()}
    response = as_manager.post(f"{NEW}?deal={deal.pk}", {**data, "next": deal.get_absolute_url()})
    assert response["Location"] == deal.get_absolute_url()
    assert Activity.objects.get().deal == deal


def test_a_calendar_slot_prefills_the_due_time(as_manager: Client) -> None:
    response = as_manager.get("/activities/new/?due_at=2026-12-01T10:30&kind=meeting")
    assert response.status_code == 200
    assert 'value="2026-12-01T10:30"' in response.content.decode()
