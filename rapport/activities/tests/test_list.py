"""The activity list: who sees whose activities, the filters, sorting, pages, and bad filters reported in place."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import User
from rapport.activities import services
from rapport.activities.models import Activity, Outcome
from rapport.clients import services as client_services
from rapport.clients.models import Company, Contact
from rapport.core.paging import PAGE_SIZE
from rapport.sales.models import Deal

URL = "/activities/list/"


def subjects(response: Any) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [html.unescape(text) for text in re.findall(r'class="activity-link">(.*?)</a>', response.content.decode())]


def outcome(kind: str, name: str) -> Outcome:
    return Outcome.objects.get(kind=kind, name=name)


class Diary:
    """Activities of team A (manager, teammate, agent, head) and team B (outsider), over a few days."""

    def __init__(self, personas: dict[str, User], acme: Company, ivanov: Contact, deal: Deal) -> None:
        self.people = personas
        now = timezone.now()
        manager, teammate, head = personas["manager"], personas["teammate"], personas["head"]
        self.acme, self.ivanov, self.deal = acme, ivanov, deal
        create = services.activity_create
        self.call = create(
            by=manager,
            kind="call",
            status="done",
            subject="Asked about chairs",
            outcome=outcome("call", "No answer"),
            contact=ivanov,
            deal=deal,
            done_at=now - timedelta(days=3),
        )
        self.meeting = create(
            by=manager, kind="meeting", subject="Show the samples", company=acme, due_at=now + timedelta(days=2)
        )
        self.overdue = create(by=manager, kind="task", subject="Send the price list", due_at=now - timedelta(days=1))
        self.cancelled = services.activity_cancel(
            by=manager, activity=create(by=manager, kind="call", subject="Never mind", due_at=now + timedelta(days=5))
        )
        globex = client_services.company_create(by=teammate, name="Globex")
        self.teammates = create(by=teammate, kind="email", status="done", subject="Globex offer", company=globex)
        self.heads = create(by=head, kind="note", status="done", subject="Team notes")
        self.agents = create(by=personas["agent"], kind="call", subject="Dealer call", due_at=now + timedelta(hours=3))
        self.outsiders = create(by=personas["outsider"], kind="call", subject="Initech call", due_at=now)


@pytest.fixture
def diary(personas: dict[str, User], acme: Company, ivanov: Contact, deal: Deal) -> Diary:
    return Diary(personas, acme, ivanov, deal)


MANAGERS = {"Asked about chairs", "Show the samples", "Send the price list", "Never mind"}
TEAM_A = {*MANAGERS, "Globex offer", "Team notes", "Dealer call"}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("manager", MANAGERS),
        ("teammate", {"Globex offer"}),
        ("agent", {"Dealer call"}),
        ("head", TEAM_A),
        ("outsider", {"Initech call"}),
        ("operator", {*TEAM_A, "Initech call"}),
        ("admin", {*TEAM_A, "Initech call"}),
    ],
)
def test_each_person_sees_the_activities_of_their_scope(diary: Diary, persona: str, expected: set[str]) -> None:
    assert set(subjects(client_for(diary.people[persona]).get(URL))) == expected


def test_signing_in_is_required(db: None) -> None:
    response = Client().get(URL)
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_the_url_has_a_name(db: None) -> None:
    assert reverse("activities:activity-list") == URL


def test_rows_show_when_kind_outcome_client_deal_owner_status_and_link_to_the_activity(
    diary: Diary, as_manager: Client
) -> None:
    page = as_manager.get(URL, {"kind": "call", "status": "done"}).content.decode()
    [row] = re.findall(r'<tr data-activity-id="(\d+)">(.*?)</tr>', page, re.S)
    assert row[0] == str(diary.call.pk)
    cells = row[1]
    assert f'href="{reverse("activities:activity-detail", args=[diary.call.pk])}"' in cells
    assert '#tabler-phone"' in cells
    assert "Call" in cells
    assert "No answer" in cells
    assert f'href="/clients/contacts/{diary.ivanov.pk}/"' in cells
    assert "Ivanov Fedor" in cells
    assert f'href="/sales/deals/{diary.deal.pk}/"' in cells
    assert "Chairs for the office" in cells
    assert "Mark Manager" in cells
    assert "Done" in cells


def test_an_overdue_planned_activity_says_so(diary: Diary, as_manager: Client) -> None:
    page = as_manager.get(URL).content.decode()
    rows = dict(re.findall(r'<tr data-activity-id="(\d+)">(.*?)</tr>', page, re.S))
    assert "activity-overdue" in rows[str(diary.overdue.pk)]
    assert "activity-overdue" not in rows[str(diary.meeting.pk)]


def test_newest_first_by_default_and_by_due_time_on_request(diary: Diary, as_manager: Client) -> None:
    assert subjects(as_manager.get(URL)) == [
        "Never mind",
        "Show the samples",
        "Send the price list",
        "Asked about chairs",
    ]
    # Without a due time (the call was logged done) last, whichever way.
    assert subjects(as_manager.get(URL, {"sort": "due"})) == [
        "Send the price list",
        "Show the samples",
        "Never mind",
        "Asked about chairs",
    ]
    assert subjects(as_manager.get(URL, {"sort": "-due"}))[:3] == [
        "Never mind",
        "Show the samples",
        "Send the price list",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": "call"}, {"Asked about chairs", "Never mind"}),
        ({"status": "planned"}, {"Show the samples", "Send the price list"}),
        ({"status": "cancelled"}, {"Never mind"}),
        ({"kind": "call", "status": "done"}, {"Asked about chairs"}),
    ],
)
def test_kind_and_status_filters(diary: Diary, as_manager: Client, query: dict[str, str], expected: set[str]) -> None:
    assert set(subjects(as_manager.get(URL, query))) == expected


def test_outcome_filter(diary: Diary, as_head: Client) -> None:
    no_answer = outcome("call", "No answer")
    assert subjects(as_head.get(URL, {"outcome": no_answer.pk})) == ["Asked about chairs"]
    assert subjects(as_head.get(URL, {"outcome": outcome("call", "Wrong number").pk})) == []


def test_the_outcomes_offered_follow_the_kind(diary: Diary, as_manager: Client) -> None:
    options = as_manager.get(URL, {"kind": "meeting"}).content.decode().split('name="outcome"')[1].split("</select>")[0]
    assert "Held" in options
    assert "No answer" not in options
    every = as_manager.get(URL).content.decode().split('name="outcome"')[1].split("</select>")[0]
    assert "Meeting: Held" in every
    assert "Call: No answer" in every


@pytest.fixture
def as_head(head: User) -> Client:
    return client_for(head)


def test_owner_filter_offers_the_people_in_scope(diary: Diary, as_head: Client, as_manager: Client) -> None:
    people = diary.people
    head_page = as_head.get(URL).content.decode()
    owners = head_page.split('name="owner"')[1].split("</select>")[0]
    assert "Mark Manager" in owners
    assert "Tina Teammate" in owners
    assert "Anton Agent" in owners
    assert "Oscar Outsider" not in owners
    assert set(subjects(as_head.get(URL, {"owner": people["teammate"].pk}))) == {"Globex offer"}
    assert set(subjects(as_head.get(URL, {"owner": "me"}))) == {"Team notes"}
    # A manager sees only their own: "me" is all there is to choose.
    manager_owners = as_manager.get(URL).content.decode().split('name="owner"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([^"]*)"', manager_owners) == ["", "me"]


def test_period_filter_on_the_moment_both_days_included(diary: Diary, as_manager: Client) -> None:
    today = timezone.localdate()
    three_days_ago = str(today - timedelta(days=3))
    assert subjects(as_manager.get(URL, {"from": three_days_ago, "to": three_days_ago})) == ["Asked about chairs"]
    assert set(subjects(as_manager.get(URL, {"from": str(today + timedelta(days=1))}))) == {
        "Show the samples",
        "Never mind",
    }
    assert set(subjects(as_manager.get(URL, {"to": str(today - timedelta(days=1))}))) == {
        "Asked about chairs",
        "Send the price list",
    }


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"kind": "visit"}, "kind", "Select a valid choice."),
        ({"status": "lost"}, "status", "Select a valid choice."),
        ({"owner": "999999"}, "owner", "Select a valid choice."),
        ({"owner": "x' OR 1=1"}, "owner", "Select a valid choice."),
        ({"outcome": "abc"}, "outcome", "Select a valid choice."),
        ({"from": "yesterday"}, "from", "Enter a valid date."),
        ({"to": "0001-01-01"}, "to", "Give a date between the years 1900 and 2999."),
        ({"to": "9999-12-31"}, "to", "Give a date between the years 1900 and 2999."),
        ({"from": "2000-05-10", "to": "2000-05-01"}, "to", "The end of the period is before its start."),
        ({"sort": "price"}, "sort", "Select a valid choice."),
    ],
)
def test_a_bad_filter_is_reported_next_to_its_field_and_ignored(
    diary: Diary, as_manager: Client, query: dict[str, str], field: str, message: str
) -> None:
    response = as_manager.get(URL, {"status": "planned", **query})
    assert response.status_code == 200
    page = response.content.decode()
    error = re.search(rf'<div class="invalid-feedback d-block" id="id_{field}-error">(.*?)</div>', page)
    assert error is not None, page
    assert html.unescape(error.group(1)).startswith(message)
    expected = {"Show the samples", "Send the price list"} if field != "status" else MANAGERS
    assert set(subjects(response)) == expected


def test_an_outcome_of_another_kind_is_refused_and_ignored(diary: Diary, as_manager: Client) -> None:
    response = as_manager.get(URL, {"kind": "meeting", "outcome": str(outcome("call", "No answer").pk)})
    assert 'id="id_outcome-error"' in response.content.decode()
    assert subjects(response) == ["Show the samples"]


def test_pages_and_a_query_count_that_does_not_grow_with_the_rows(
    personas: dict[str, User], acme: Company, deal: Deal, django_assert_max_num_queries: Any
) -> None:
    manager = personas["manager"]
    now = timezone.now()
    for number in range(PAGE_SIZE + 5):
        services.activity_create(
            by=manager,
            kind="call" if number % 2 else "meeting",
            subject=f"Activity {number:02}",
            company=acme,
            deal=deal,
            due_at=now + timedelta(hours=number),
        )
    as_manager = client_for(manager)
    # The session and its user, the owners and outcomes offered, the page's ids, its rows, the count,
    # and the layout's unread notifications.
    with django_assert_max_num_queries(8):
        first = as_manager.get(URL, {"sort": "due"})
    assert subjects(first) == [f"Activity {number:02}" for number in range(PAGE_SIZE)]
    assert "1–25 of 30" in first.content.decode()
    assert 'rel="next" href="?sort=due&amp;page=2"' in first.content.decode()
    second = as_manager.get(URL, {"sort": "due", "page": "2"})
    assert subjects(second) == [f"Activity {number:02}" for number in range(PAGE_SIZE, PAGE_SIZE + 5)]
    assert "26–30 of 30" in second.content.decode()
    assert subjects(as_manager.get(URL, {"page": "nonsense"}))[0] == f"Activity {PAGE_SIZE + 4:02}"
    for persona in ["head", "admin"]:
        client = client_for(personas[persona])
        # A head's team is read once more (their members' ids).
        with django_assert_max_num_queries(9):
            assert len(subjects(client.get(URL))) == PAGE_SIZE


def test_a_short_list_costs_no_more_queries_than_a_long_one(
    manager: User, acme: Company, django_assert_max_num_queries: Any
) -> None:
    services.activity_create(by=manager, kind="call", subject="Only one", company=acme)
    client = client_for(manager)
    # A first page that is not full counts itself: no count query.
    with django_assert_max_num_queries(7):
        assert subjects(client.get(URL)) == ["Only one"]


def test_htmx_swaps_the_table_and_shows_the_short_query(diary: Diary, as_manager: Client) -> None:
    response = as_manager.get(
        URL, {"kind": "call", "sort": "-at", "owner": ""}, headers={"HX-Request": "true", "HX-Target": "activity-table"}
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="activity-table">')
    assert "<html" not in page
    assert 'id="list-tools" hx-swap-oob="true"' in page
    assert "format=csv&amp;kind=call" in page
    # The default sort and the empty owner are left out of the address.
    assert response["HX-Push-Url"] == f"{URL}?kind=call"
    assert set(subjects(response)) == {"Asked about chairs", "Never mind"}


def test_deleted_activities_are_not_listed(diary: Diary, as_manager: Client, manager: User) -> None:
    services.activity_delete(by=manager, activity=diary.meeting)
    assert "Show the samples" not in subjects(as_manager.get(URL))
    assert not Activity.objects.filter(pk=diary.meeting.pk, deleted_at__isnull=True).exists()
