"""My day: what it lists, the rows acting in place (done, later, a call's outcome), who may act, and its cost."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import User
from rapport.activities import services
from rapport.activities.models import Activity, ActivityKind, ActivityStatus, Outcome
from rapport.activities.my_day import birthdays, day_bounds
from rapport.clients import services as client_services
from rapport.clients.models import ClientStatus, Company, Contact

HTMX = {"HX-Request": "true"}
MY_DAY = "/activities/my-day/"
SIDE = "/activities/my-day/side/"


def today_at(hours: float) -> datetime:
    """A moment of today in the active time zone (the test client's requests use the same, UTC)."""
    start, _end = day_bounds(timezone.localdate())
    return start + timedelta(hours=hours)


def plan(by: User, subject: str, due_at: datetime | None, **fields: Any) -> Activity:
    fields.setdefault("kind", ActivityKind.TASK)
    return services.activity_create(by=by, subject=subject, due_at=due_at, **fields)


def backdate(activity: Activity, due_at: datetime) -> Activity:
    """Overdue: the services refuse to plan in the past, so time passes by hand."""
    Activity.objects.filter(pk=activity.pk).update(due_at=due_at, at=due_at)
    activity.refresh_from_db()
    return activity


def outcome(name: str) -> Outcome:
    return Outcome.objects.get(kind=ActivityKind.CALL, name=name)


def row_ids(html: str, name: str) -> list[int]:
    return [int(pk) for pk in re.findall(rf'id="my-day-{name}-(\d+)"', html)]


# ---- What it lists -----------------------------------------------------------------------------


def test_today_lists_my_planned_and_done_activities_in_time_order(
    manager: User, teammate: User, as_manager: Client, acme: Company
) -> None:
    later = plan(manager, "Send the offer", today_at(5), company=acme)
    earlier = plan(manager, "Call about chairs", today_at(2), kind=ActivityKind.CALL, company=acme)
    done = services.activity_create(
        by=manager, kind=ActivityKind.TASK, status=ActivityStatus.DONE, subject="Paperwork", done_at=today_at(0)
    )
    tomorrow = plan(manager, "Tomorrow's task", today_at(26))
    someone_elses = plan(teammate, "Teammate's task", today_at(3))
    cancelled = services.activity_cancel(by=manager, activity=plan(manager, "Cancelled", today_at(4)))

    response = as_manager.get(MY_DAY)

    assert response.status_code == 200
    page = response.content.decode()
    assert row_ids(page, "today") == [done.pk, earlier.pk, later.pk]
    for absent in (tomorrow, someone_elses, cancelled):
        assert f'data-activity="{absent.pk}"' not in page
    assert '<div id="plan-counters"></div>' in page
    assert "Acme Trading" in page


def test_overdue_lists_planned_activities_due_before_today_until_done_or_moved(
    manager: User, as_manager: Client
) -> None:
    late = backdate(plan(manager, "Late task", today_at(30)), today_at(-20))
    moved = backdate(plan(manager, "Moved task", today_at(30)), today_at(-30))
    services.activity_reschedule(by=manager, activity=moved, due_at=today_at(30))
    finished = backdate(plan(manager, "Finished task", today_at(30)), today_at(-40))
    services.activity_complete(by=manager, activity=finished)

    page = as_manager.get(MY_DAY).content.decode()

    assert row_ids(page, "overdue") == [late.pk]
    assert 'data-count="1"' in page[page.index('id="my-day-overdue"') :]


def test_callbacks_owed_are_planned_calls_that_follow_up_a_call(
    manager: User, as_manager: Client, ivanov: Contact
) -> None:
    logged = services.call_quick_log(
        by=manager, client=ivanov, outcome=outcome("Call back later"), follow_up_at=today_at(50)
    )
    plain_call = plan(manager, "First call", today_at(50), kind=ActivityKind.CALL, contact=ivanov)

    page = as_manager.get(MY_DAY).content.decode()

    assert logged.follow_up is not None
    assert row_ids(page, "callbacks") == [logged.follow_up.pk]
    assert plain_call.pk not in row_ids(page, "callbacks")


def test_birthdays_today_and_this_week(manager: User, teammate: User, as_manager: Client) -> None:
    today = timezone.localdate()
    # 1988 is a leap year: every month and day exists in it.
    born_today = date(1988, today.month, today.day)
    in_three_days = today + timedelta(days=3)
    in_eight_days = today + timedelta(days=8)
    client_services.contact_create(by=manager, last_name="Today", first_name="Tanya", birthday=born_today)
    soon = date(1988, in_three_days.month, in_three_days.day)
    client_services.contact_create(by=manager, last_name="Soon", first_name="Sam", birthday=soon)
    later = date(1988, in_eight_days.month, in_eight_days.day)
    client_services.contact_create(by=manager, last_name="Later", first_name="Lena", birthday=later)
    client_services.contact_create(by=teammate, last_name="Notmine", first_name="Nick", birthday=born_today)

    page = as_manager.get(SIDE, headers=HTMX).content.decode()
    card = page[page.index('id="my-day-birthdays"') : page.index('id="my-day-no-next-step"')]

    assert "Today Tanya" in card
    assert f"turns {today.year - 1988}" in card
    assert "Soon Sam" in card
    assert "Later Lena" not in card
    assert "Notmine" not in card
    assert card.index("Today Tanya") < card.index("Soon Sam")


def test_birthdays_cross_the_new_year(manager: User) -> None:
    new_year = client_services.contact_create(by=manager, last_name="Newyear", birthday=date(1990, 1, 2))
    client_services.contact_create(by=manager, last_name="Toolate", birthday=date(1990, 1, 5))
    eve = client_services.contact_create(by=manager, last_name="Eve", birthday=date(1975, 12, 31))

    found = birthdays(manager, date(2027, 12, 29))

    assert [(each.contact, each.on, each.age) for each in found] == [
        (eve, date(2027, 12, 31), 52),
        (new_year, date(2028, 1, 2), 38),
    ]


def test_a_birthday_on_29_february_is_kept_on_the_28th_outside_leap_years(manager: User) -> None:
    leapling = client_services.contact_create(by=manager, last_name="Leapling", birthday=date(1988, 2, 29))

    assert [(each.contact, each.on) for each in birthdays(manager, date(2027, 2, 26))] == [
        (leapling, date(2027, 2, 28))
    ]
    assert [(each.contact, each.on) for each in birthdays(manager, date(2028, 2, 26))] == [
        (leapling, date(2028, 2, 29))
    ]
    # The 1st of March is not a second celebration.
    assert birthdays(manager, date(2027, 3, 1)) == []


def test_clients_without_a_next_step_are_counted_and_listed(
    manager: User, teammate: User, as_manager: Client, acme: Company, ivanov: Contact
) -> None:
    waiting = client_services.company_create(by=manager, name="Waiting Ltd")
    loner = client_services.contact_create(by=manager, last_name="Loner", first_name="Liam")
    frozen = client_services.company_create(by=manager, name="Frozen Ltd", status=ClientStatus.FROZEN)
    client_services.company_create(by=teammate, name="Teammate's Ltd")
    # Acme has a next step; Ivanov works at Acme, so he is taken care of too.
    plan(manager, "Visit Acme", today_at(30), company=acme)

    page = as_manager.get(SIDE, headers=HTMX).content.decode()
    card = page[page.index('id="my-day-no-next-step"') :]

    assert 'data-count="2"' in card
    assert f'data-client="company-{waiting.pk}"' in card
    assert f'data-client="contact-{loner.pk}"' in card
    for absent in ("Acme Trading", "Ivanov", frozen.name, "Teammate's Ltd"):
        assert absent not in card


def test_no_next_step_shows_ten_and_says_how_many_more(manager: User, as_manager: Client) -> None:
    for number in range(12):
        client_services.company_create(by=manager, name=f"Client {number:02}")

    page = as_manager.get(SIDE, headers=HTMX).content.decode()

    assert len(re.findall(r'data-client="company-\d+"', page)) == 10
    assert 'data-count="12"' in page
    assert "and 2 more" in page


# ---- Acting on a row ---------------------------------------------------------------------------


def test_done_marks_it_done_in_place_and_updates_its_copies(manager: User, as_manager: Client, acme: Company) -> None:
    first = services.call_quick_log(
        by=manager, client=acme, outcome=outcome("Call back later"), follow_up_at=today_at(30)
    ).follow_up
    assert first is not None
    callback = backdate(first, today_at(-20))  # an overdue callback: listed twice
    page = as_manager.get(MY_DAY).content.decode()
    assert callback.pk in row_ids(page, "overdue")
    assert callback.pk in row_ids(page, "callbacks")
    wrong_number = outcome("Wrong number")

    response = as_manager.post(
        reverse("activities:my-day-done", args=[callback.pk]),
        {"version": callback.version, "section": "overdue", "outcome": wrong_number.pk},
        headers=HTMX,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r'id="my-day-(\w+)-\d+"', html) == ["overdue", "callbacks"]
    assert html.count('hx-swap-oob="true"') == 1  # the copy in "callbacks"; "today" never listed it
    assert "Plan the next step" in html
    callback.refresh_from_db()
    assert (callback.status, callback.outcome) == (ActivityStatus.DONE, wrong_number)


def test_done_twice_is_refused(manager: User, as_manager: Client) -> None:
    task = plan(manager, "Task", today_at(3))
    url = reverse("activities:my-day-done", args=[task.pk])
    assert as_manager.post(url, {"version": task.version}, headers=HTMX).status_code == 200

    again = as_manager.post(url, {"section": "today"}, headers=HTMX)

    assert again.status_code == 422
    assert "no longer planned" in again.content.decode()
    task.refresh_from_db()
    assert task.version == 2


def test_done_without_the_minimum_data_says_what_is_missing_in_the_row(
    manager: User, as_manager: Client, ivanov: Contact
) -> None:
    meeting = plan(manager, "", today_at(3), kind=ActivityKind.MEETING, contact=ivanov)

    response = as_manager.post(
        reverse("activities:my-day-done", args=[meeting.pk]),
        {"version": meeting.version, "section": "today"},
        headers=HTMX,
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="my-day-today-{meeting.pk}"' in html
    assert "it needs:" in html
    assert "the result" in html
    assert f'href="{reverse("activities:activity-detail", args=[meeting.pk])}"' in html
    meeting.refresh_from_db()
    assert meeting.status == ActivityStatus.PLANNED


def test_a_calls_outcome_finishes_the_planned_call(manager: User, as_manager: Client, ivanov: Contact) -> None:
    call = plan(manager, "Call Ivanov", today_at(3), kind=ActivityKind.CALL, contact=ivanov)
    page = as_manager.get(MY_DAY).content.decode()
    wrong_number = outcome("Wrong number")
    assert f'data-outcome="{wrong_number.pk}"' in page

    response = as_manager.post(
        reverse("activities:my-day-done", args=[call.pk]),
        {"version": call.version, "section": "today", "outcome": wrong_number.pk},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "Wrong number" in response.content.decode()
    call.refresh_from_db()
    assert (call.status, call.outcome) == (ActivityStatus.DONE, wrong_number)
    assert Activity.objects.count() == 1  # the planned call itself is done, not a second one logged


def test_call_back_later_plans_the_callback_at_the_chosen_preset(
    manager: User, as_manager: Client, ivanov: Contact
) -> None:
    call = plan(manager, "Call Ivanov", today_at(3), kind=ActivityKind.CALL, contact=ivanov)
    later = outcome("Call back later")
    url = reverse("activities:my-day-done", args=[call.pk])

    refused = as_manager.post(url, {"version": call.version, "outcome": later.pk}, headers=HTMX)
    assert refused.status_code == 422
    assert "Choose when to call back." in refused.content.decode()
    call.refresh_from_db()
    assert call.status == ActivityStatus.PLANNED

    response = as_manager.post(url, {"version": call.version, "callback": f"{later.pk}:tomorrow"}, headers=HTMX)

    assert response.status_code == 200
    call.refresh_from_db()
    assert call.status == ActivityStatus.DONE
    callback = Activity.objects.get(follow_up_of=call)
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert timezone.localtime(callback.due_at) == datetime.combine(
        tomorrow, time(10), tzinfo=timezone.get_current_timezone()
    )
    assert (callback.status, callback.contact) == (ActivityStatus.PLANNED, ivanov)


def test_an_outcome_of_another_kind_is_refused(manager: User, as_manager: Client, ivanov: Contact) -> None:
    call = plan(manager, "Call Ivanov", today_at(3), kind=ActivityKind.CALL, contact=ivanov)
    meeting_outcome = services.outcome_save(
        by=User.objects.create(username="root", is_superuser=True), kind=ActivityKind.MEETING, name="Signed"
    )

    response = as_manager.post(
        reverse("activities:my-day-done", args=[call.pk]),
        {"version": call.version, "outcome": meeting_outcome.pk},
        headers=HTMX,
    )

    assert response.status_code == 422
    assert "Choose one of the outcomes of a call." in response.content.decode()
    call.refresh_from_db()
    assert call.status == ActivityStatus.PLANNED


def test_later_moves_it_an_hour_or_to_tomorrow_same_time(manager: User, as_manager: Client) -> None:
    task = plan(manager, "Task", today_at(24 + 10))
    url = reverse("activities:my-day-later", args=[task.pk])

    response = as_manager.post(url, {"version": task.version, "later": "hour", "section": "today"}, headers=HTMX)

    assert response.status_code == 200
    task.refresh_from_db()
    assert task.due_at == today_at(24 + 11)

    today_task = plan(manager, "Today's task", today_at(10))
    response = as_manager.post(
        reverse("activities:my-day-later", args=[today_task.pk]),
        {"version": today_task.version, "later": "tomorrow", "section": "today"},
        headers=HTMX,
    )
    assert response.status_code == 200
    today_task.refresh_from_db()
    assert today_task.due_at == today_at(24 + 10)


def test_later_with_a_stale_version_or_no_choice_is_refused(manager: User, as_manager: Client) -> None:
    task = plan(manager, "Task", today_at(34))
    services.activity_update(by=manager, activity=task, subject="Changed elsewhere")
    url = reverse("activities:my-day-later", args=[task.pk])

    stale = as_manager.post(url, {"version": task.version, "later": "hour"}, headers=HTMX)
    no_choice = as_manager.post(url, {"version": task.version + 1, "later": "next year"}, headers=HTMX)

    assert stale.status_code == 422
    assert "reload to see the change" in stale.content.decode()
    assert no_choice.status_code == 422
    task.refresh_from_db()
    assert task.due_at == today_at(34)


def test_without_htmx_the_buttons_come_back_to_my_day_with_a_message(manager: User, as_manager: Client) -> None:
    task = plan(manager, "Task", today_at(3))

    response = as_manager.post(
        reverse("activities:my-day-done", args=[task.pk]), {"version": task.version}, follow=True
    )

    assert response.redirect_chain[-1][0] == MY_DAY
    assert "Done: Task." in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("teammate", 404), ("outsider", 404), ("operator", 403), ("head", 200)],
)
def test_who_may_act_on_a_managers_row(
    manager: User, personas: dict[str, User], acme: Company, persona: str, status: int
) -> None:
    task = plan(manager, "Task", today_at(30), company=acme)
    client = client_for(personas[persona])

    response = client.post(
        reverse("activities:my-day-later", args=[task.pk]), {"version": task.version, "later": "hour"}, headers=HTMX
    )

    assert response.status_code == status
    task.refresh_from_db()
    assert (task.version > 1) == (status == 200)


def test_my_day_needs_signing_in(db: None) -> None:
    assert Client().get(MY_DAY)["Location"].startswith("/accounts/login/")


def test_my_day_shows_only_my_own_activities_to_a_head(manager: User, head: User, acme: Company) -> None:
    plan(manager, "Manager's task", today_at(3), company=acme)
    plan(head, "Head's task", today_at(4))

    page = client_for(head).get(MY_DAY).content.decode()

    assert "Head&#x27;s task" in page
    assert "Manager&#x27;s task" not in page


def test_home_is_my_day_for_people_who_sell(manager: User, operator: User, as_manager: Client) -> None:
    assert 'id="plan-counters"' in as_manager.get("/").content.decode()
    assert 'id="plan-counters"' not in client_for(operator).get("/").content.decode()


# ---- Cost --------------------------------------------------------------------------------------


def fill(manager: User, clients: int) -> None:
    today = timezone.localdate()
    for number in range(clients):
        company = client_services.company_create(by=manager, name=f"Company {number}")
        contact = client_services.contact_create(
            by=manager, last_name=f"Person {number}", company=company, birthday=date(1988, today.month, today.day)
        )
        plan(manager, f"Today {number}", today_at(number % 20), kind=ActivityKind.CALL, contact=contact)
        backdate(plan(manager, f"Late {number}", today_at(30)), today_at(-24 * (number + 1)))
        services.call_quick_log(
            by=manager, client=contact, outcome=outcome("Call back later"), follow_up_at=today_at(48 + number)
        )
        services.activity_create(
            by=manager, kind=ActivityKind.TASK, status=ActivityStatus.DONE, subject=f"Done {number}", company=company
        )


@pytest.mark.parametrize("clients", [2, 12])
def test_my_day_costs_the_same_queries_whatever_the_data(
    manager: User, as_manager: Client, clients: int, django_assert_num_queries: Any
) -> None:
    fill(manager, clients)
    for number in range(clients):
        client_services.company_create(by=manager, name=f"Waiting {number}")

    # Session and user, the counts, today, overdue, callbacks, the call outcomes, the unread bell, and the
    # plan targets running today (motivation's counters; none here) and whether a bonus rule is in force
    # (bonus so far, fetched after the page).
    with django_assert_num_queries(10):
        response = as_manager.get(MY_DAY)
    # Session and user, birthdays, and the clients without a next step (companies and contacts, a page and a count).
    with django_assert_num_queries(7):
        side = as_manager.get(SIDE, headers=HTMX)

    assert response.status_code == 200
    assert len(row_ids(response.content.decode(), "today")) >= clients
    assert side.content.decode().count('class="list-group-item my-day-birthday') == clients


def test_the_page_fetches_birthdays_and_clients_once_shown_and_works_without_javascript(
    manager: User, as_manager: Client
) -> None:
    client_services.company_create(by=manager, name="Waiting Ltd")

    page = as_manager.get(MY_DAY).content.decode()
    whole = as_manager.get(SIDE).content.decode()

    assert f'hx-get="{SIDE}" hx-trigger="load"' in page
    assert "Waiting Ltd" not in page
    assert 'id="my-day-today"' in whole  # without htmx: the whole page, with them
    assert "Waiting Ltd" in whole


def test_names_are_escaped_in_the_rows(manager: User, as_manager: Client) -> None:
    sneaky = client_services.company_create(by=manager, name="<b>Bold</b> & Co")
    plan(manager, "<i>Pitch</i>", today_at(3), company=sneaky)

    page = as_manager.get(MY_DAY).content.decode()

    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in page
    assert "&lt;i&gt;Pitch&lt;/i&gt;" in page
    assert "<b>Bold</b>" not in page
