"""The calendar: the period's grid, whose activities it shows, dragging a card to move it, and its cost."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import User
from rapport.activities import calendar as calendar_queries
from rapport.activities import services
from rapport.activities.calendar import View, period_for
from rapport.activities.models import Activity, ActivityKind, ActivityStatus
from rapport.clients import services as client_services
from rapport.clients.models import Company

CALENDAR = "/activities/calendar/"
# A Wednesday, far enough ahead for the services to accept plans in it.
WEDNESDAY = timezone.localdate() + timedelta(days=(2 - timezone.localdate().weekday()) % 7 + 14)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def plan(by: User, subject: str, due_at: datetime, **fields: Any) -> Activity:
    fields.setdefault("kind", ActivityKind.MEETING)
    return services.activity_create(by=by, subject=subject, due_at=due_at, **fields)


def week(client: Client, day: date = WEDNESDAY, **params: str) -> str:
    response = client.get(CALENDAR, {"view": "week", "date": day.isoformat(), **params})
    assert response.status_code == 200
    return response.content.decode()


def card_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="calendar-card-(\d+)"', html)]


def cell(html: str, day: date, hour: int) -> str:
    start = html.index(f'data-date="{day.isoformat()}" data-hour="{hour}"')
    return html[start : html.index("</td>", start)]


def move(client: Client, activity: Activity, due_at: str, version: int | None = None) -> Any:
    data = {"due_at": due_at, "version": activity.version if version is None else version}
    return client.post(reverse("activities:calendar-move", args=[activity.pk]), data)


# ---- Periods -----------------------------------------------------------------------------------


def test_periods_start_on_the_languages_first_day_and_cover_whole_weeks() -> None:
    wednesday = date(2027, 3, 3)
    assert period_for(View.DAY, wednesday).days == [wednesday]
    week_days = period_for(View.WEEK, wednesday).days
    assert (week_days[0], week_days[-1]) == (date(2027, 2, 28), date(2027, 3, 6))  # English weeks start on Sunday
    month = period_for(View.MONTH, wednesday)
    assert (month.first, month.last) == (date(2027, 2, 28), date(2027, 4, 3))
    assert len(month.days) % 7 == 0
    assert (month.previous, month.next) == (date(2027, 2, 1), date(2027, 4, 1))
    december = period_for(View.MONTH, date(2027, 12, 15))
    assert december.next == date(2028, 1, 1)


# ---- What it shows -----------------------------------------------------------------------------


def test_week_shows_my_activities_in_their_day_and_hour(
    manager: User, teammate: User, as_manager: Client, acme: Company
) -> None:
    meeting = plan(manager, "Meet Acme", at(WEDNESDAY, 10, 30), company=acme)
    task = plan(manager, "Prepare the offer", at(WEDNESDAY + timedelta(days=1), 15), kind=ActivityKind.TASK)
    next_week = plan(manager, "Next week", at(WEDNESDAY + timedelta(days=7), 10))
    teammates = plan(teammate, "Teammate's meeting", at(WEDNESDAY, 11))

    page = week(as_manager)

    assert f'id="calendar-card-{meeting.pk}"' in cell(page, WEDNESDAY, 10)
    assert f'id="calendar-card-{task.pk}"' in cell(page, WEDNESDAY + timedelta(days=1), 15)
    assert next_week.pk not in card_ids(page)
    assert teammates.pk not in card_ids(page)
    assert "Acme Trading" in page


def test_done_activities_show_but_do_not_move(manager: User, as_manager: Client) -> None:
    today = timezone.localdate()
    done = services.activity_create(
        by=manager, kind=ActivityKind.CALL, status=ActivityStatus.DONE, subject="Called", done_at=timezone.now()
    )
    planned = plan(manager, "Planned", at(today + timedelta(days=1), 9))

    page = week(as_manager, today, view="month")  # the month holds today and tomorrow either way

    assert done.pk in card_ids(page)
    assert f'id="calendar-card-{done.pk}" data-activity="{done.pk}">' in page  # not draggable
    assert f'data-activity="{planned.pk}" draggable="true"' in page
    assert reverse("activities:calendar-move", args=[planned.pk]) in page
    assert reverse("activities:calendar-move", args=[done.pk]) not in page


def test_day_and_month_views(manager: User, as_manager: Client) -> None:
    meeting = plan(manager, "Meet", at(WEDNESDAY, 7))  # before the usual hours: the day starts earlier
    other_day = plan(manager, "Other day", at(WEDNESDAY + timedelta(days=1), 12))

    day = as_manager.get(CALENDAR, {"view": "day", "date": WEDNESDAY.isoformat()}).content.decode()
    month = as_manager.get(CALENDAR, {"view": "month", "date": WEDNESDAY.isoformat()}).content.decode()

    assert card_ids(day) == [meeting.pk]
    assert 'data-hour="7"' in day
    assert {meeting.pk, other_day.pk} <= set(card_ids(month))


def test_a_crowded_month_day_shows_four_and_links_to_the_day(manager: User, as_manager: Client) -> None:
    for hour in range(9, 15):
        plan(manager, f"Meeting at {hour}", at(WEDNESDAY, hour))

    page = as_manager.get(CALENDAR, {"view": "month", "date": WEDNESDAY.isoformat()}).content.decode()

    assert len(card_ids(page)) == 4
    assert "2 more" in page


def test_an_empty_slot_plans_an_activity_at_its_time(manager: User, as_manager: Client) -> None:
    page = week(as_manager)

    links = re.findall(r'class="calendar-add" href="([^"]+)"', cell(page, WEDNESDAY, 14))
    assert len(links) == 1
    assert links[0].startswith(reverse("activities:activity-create") + "?")
    assert f"due_at={WEDNESDAY.isoformat()}T14:00" in unquote(links[0])


def test_bad_parameters_fall_back_to_this_week(as_manager: Client) -> None:
    for params in ({"view": "year"}, {"date": "2027-02-30"}, {"date": "0001-01-01"}, {"date": "tomorrow"}):
        response = as_manager.get(CALENDAR, params)
        assert response.status_code == 200, params


# ---- Whose calendar ----------------------------------------------------------------------------


def test_a_head_sees_the_teams_calendars_by_person(manager: User, teammate: User, head: User, outsider: User) -> None:
    mine = plan(head, "Head's meeting", at(WEDNESDAY, 9))
    managers = plan(manager, "Manager's meeting", at(WEDNESDAY, 10))
    teammates = plan(teammate, "Teammate's meeting", at(WEDNESDAY, 11))
    outsiders = plan(outsider, "Outsider's meeting", at(WEDNESDAY, 12))
    as_head = client_for(head)

    assert card_ids(week(as_head)) == [mine.pk]
    assert card_ids(week(as_head, person=str(manager.pk))) == [managers.pk]
    assert card_ids(week(as_head, person="all")) == [mine.pk, managers.pk, teammates.pk]
    everyone = week(as_head)
    assert f'<option value="{teammate.pk}"' in everyone
    assert f'<option value="{outsider.pk}"' not in everyone
    assert as_head.get(CALENDAR, {"person": outsider.pk}).status_code == 404
    assert outsiders.pk not in card_ids(week(as_head, person="all"))


def test_a_manager_sees_only_their_own_calendar(manager: User, teammate: User, as_manager: Client) -> None:
    plan(teammate, "Teammate's meeting", at(WEDNESDAY, 11))

    page = week(as_manager)

    assert 'id="calendar-person"' not in page
    assert as_manager.get(CALENDAR, {"person": teammate.pk}).status_code == 404
    assert card_ids(week(as_manager, person="all")) == []


def test_an_admin_sees_anyones_calendar(manager: User, outsider: User, as_admin: Client) -> None:
    outsiders = plan(outsider, "Outsider's meeting", at(WEDNESDAY, 12))
    managers = plan(manager, "Manager's meeting", at(WEDNESDAY, 10))

    assert card_ids(week(as_admin, person=str(outsider.pk))) == [outsiders.pk]
    assert card_ids(week(as_admin, person="all")) == [managers.pk, outsiders.pk]


def test_the_calendar_needs_signing_in(db: None) -> None:
    assert Client().get(CALENDAR)["Location"].startswith("/accounts/login/")


# ---- Dragging a card ---------------------------------------------------------------------------


def test_dropping_a_card_moves_the_activity_and_answers_with_the_card(manager: User, as_manager: Client) -> None:
    meeting = plan(manager, "Meet", at(WEDNESDAY, 10, 30))

    response = move(as_manager, meeting, f"{WEDNESDAY + timedelta(days=1)}T14:30")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="calendar-card-{meeting.pk}"' in html
    assert 'data-version="2"' in html
    assert "14:30" in html
    meeting.refresh_from_db()
    assert meeting.due_at == at(WEDNESDAY + timedelta(days=1), 14, 30)


def test_a_refused_move_says_why_in_plain_text_and_changes_nothing(manager: User, as_manager: Client) -> None:
    meeting = plan(manager, "Meet", at(WEDNESDAY, 10))
    done = services.activity_create(
        by=manager, kind=ActivityKind.TASK, status=ActivityStatus.DONE, subject="Done", done_at=timezone.now()
    )
    services.activity_update(by=manager, activity=meeting, subject="Changed elsewhere")

    stale = move(as_manager, meeting, f"{WEDNESDAY}T12:00", version=1)
    nonsense = move(as_manager, meeting, "not a date", version=2)
    long_ago = move(as_manager, meeting, "2001-01-01T10:00", version=2)
    finished = move(as_manager, done, f"{WEDNESDAY}T12:00")

    for response in (stale, nonsense, long_ago, finished):
        assert response.status_code == 422
        assert response["Content-Type"].startswith("text/plain")
    assert "reload to see the change" in stale.content.decode()
    assert "more than a year ago" in long_ago.content.decode()
    assert "Only a planned activity" in finished.content.decode()
    meeting.refresh_from_db()
    assert meeting.due_at == at(WEDNESDAY, 10)


@pytest.mark.parametrize(
    ("persona", "status"),
    [("teammate", 404), ("outsider", 404), ("operator", 403), ("head", 200), ("admin", 200)],
)
def test_who_may_move_a_managers_activity(
    manager: User, personas: dict[str, User], acme: Company, persona: str, status: int
) -> None:
    meeting = plan(manager, "Meet", at(WEDNESDAY, 10), company=acme)

    response = move(client_for(personas[persona]), meeting, f"{WEDNESDAY}T16:00")

    assert response.status_code == status
    meeting.refresh_from_db()
    assert (meeting.due_at == at(WEDNESDAY, 16)) == (status == 200)


# ---- Cost --------------------------------------------------------------------------------------


@pytest.mark.parametrize("per_day", [1, 6])
def test_the_week_costs_the_same_queries_whatever_it_holds(
    manager: User, head: User, acme: Company, per_day: int, django_assert_num_queries: Any
) -> None:
    for offset in range(-3, 4):
        for number in range(per_day):
            plan(manager, f"Meeting {number}", at(WEDNESDAY + timedelta(days=offset), 8 + number), company=acme)
    as_head = client_for(head)

    # Session and user, the people offered, the team's ids (the access policy's), the week's activities,
    # the unread bell.
    with django_assert_num_queries(6):
        page = week(as_head, person="all")

    assert len(card_ids(page)) == 7 * per_day


def test_a_managers_week_reads_the_activities_once(
    manager: User, as_manager: Client, acme: Company, django_assert_num_queries: Any
) -> None:
    for offset in range(-3, 4):
        plan(manager, "Meeting", at(WEDNESDAY + timedelta(days=offset), 9), company=acme)

    # Session and user, the week's activities, the unread bell: a manager picks no one else.
    with django_assert_num_queries(4):
        page = week(as_manager)

    assert len(card_ids(page)) == 7


def test_names_are_escaped_on_the_cards(manager: User, as_manager: Client) -> None:
    sneaky = client_services.company_create(by=manager, name="<b>Bold</b> & Co")
    plan(manager, "<i>Pitch</i>", at(WEDNESDAY, 10), company=sneaky)

    page = week(as_manager)

    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in page
    assert "&lt;i&gt;Pitch&lt;/i&gt;" in page
    assert "<b>Bold</b>" not in page


def test_a_crowded_period_shows_the_first_cards_and_says_so(
    manager: User, as_manager: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calendar_queries, "CARD_LIMIT", 2)
    first, second, _third = (plan(manager, f"Meeting {hour}", at(WEDNESDAY, hour)) for hour in (9, 10, 11))

    page = week(as_manager)

    assert card_ids(page) == [first.pk, second.pk]
    assert 'id="calendar-truncated"' in page


def test_a_russian_week_title_names_the_month_as_a_date_does(manager: User) -> None:
    manager.language = "ru"
    manager.save(update_fields=["language"])
    page = client_for(manager).get("/activities/calendar/?view=week&date=2026-11-24").content.decode()
    assert "ноября" in page
    assert "Ноябрь –" not in page
