"""Reminders before due times and the day before birthdays: to the owner, each once, also across runs and workers."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import Mailbox
from rapport.accounts.models import User
from rapport.activities import services
from rapport.activities.models import Activity, ActivityKind, BirthdayReminderSent, ReminderSent
from rapport.activities.reminders import ReminderReport, birthdays_remind, reminders_send
from rapport.activities.settings_services import reminder_offsets_save
from rapport.activities.tasks import BIRTHDAYS, REMINDERS, activity_reminders, birthday_reminders
from rapport.clients import services as client_services
from rapport.clients.models import Company, Contact
from rapport.core.models import JobRun, Notification
from rapport.core.notifications import notifications_email_digest

MINUTE = timedelta(minutes=1)


def plan(
    user: User, client: Company | None, due_at: datetime, kind: str = ActivityKind.CALL, **fields: Any
) -> Activity:
    return services.activity_create(by=user, kind=kind, company=client, due_at=due_at, **fields)


def created_long_ago(activity: Activity) -> Activity:
    # As if planned a week ago, so every reminder window opened after it was planned.
    week_ago = timezone.now() - timedelta(days=7)
    Activity.objects.filter(pk=activity.pk).update(created_at=week_ago, updated_at=week_ago)
    return Activity.objects.get(pk=activity.pk)


def titles_for(user: User) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("id").values_list("title", flat=True))


# ---- Before the due time -----------------------------------------------------------------------


def test_a_day_before_and_fifteen_minutes_before_each_once(manager: User, acme: Company) -> None:
    due = timezone.now() + timedelta(days=3)
    call = plan(manager, acme, due)

    assert reminders_send(now=due - timedelta(days=2)).notifications == 0  # too early
    day_before = due - timedelta(minutes=1438)
    assert reminders_send(now=day_before).notifications == 1
    assert titles_for(manager) == ["Call with Acme Trading in 1 day"]
    note = Notification.objects.get()
    assert note.url == f"/activities/{call.pk}/"

    # The same run again, a run after a restart a few minutes on, a run two workers make at once: nothing more.
    assert reminders_send(now=day_before).notifications == 0
    assert reminders_send(now=day_before + 5 * MINUTE).notifications == 0
    assert reminders_send(now=due - timedelta(hours=3)).notifications == 0

    assert reminders_send(now=due - 14 * MINUTE).notifications == 1
    assert reminders_send(now=due - 9 * MINUTE).notifications == 0
    assert reminders_send(now=due + MINUTE).notifications == 0  # past the due time: overdue, not reminded
    assert titles_for(manager) == ["Call with Acme Trading in 1 day", "Call with Acme Trading in 14 minutes"]
    assert sorted(ReminderSent.objects.values_list("offset", flat=True)) == [15, 1440]


def test_rescheduling_reminds_again(manager: User, acme: Company) -> None:
    due = timezone.now() + timedelta(hours=5)
    call = created_long_ago(plan(manager, acme, due))
    assert reminders_send(now=due - 12 * MINUTE).notifications == 1

    later = due + timedelta(hours=2)
    services.activity_reschedule(by=manager, activity=call, due_at=later)
    assert reminders_send(now=due - 7 * MINUTE).notifications == 0  # the old time reminds no more
    assert reminders_send(now=later - 13 * MINUTE).notifications == 1
    assert reminders_send(now=later - 8 * MINUTE).notifications == 0
    assert titles_for(manager) == ["Call with Acme Trading in 12 minutes", "Call with Acme Trading in 13 minutes"]


def test_a_missed_day_before_does_not_come_with_the_fifteen_minutes(manager: User, acme: Company) -> None:
    # The worker was down all day: when it is back ten minutes before, one reminder, not two.
    due = timezone.now() + timedelta(hours=5)
    created_long_ago(plan(manager, acme, due))
    assert reminders_send(now=due - 10 * MINUTE).notifications == 1
    assert titles_for(manager) == ["Call with Acme Trading in 10 minutes"]
    assert list(ReminderSent.objects.values_list("offset", flat=True)) == [15]
    assert reminders_send(now=due - 5 * MINUTE).notifications == 0


def test_a_window_already_open_when_the_activity_was_planned_is_skipped(manager: User, acme: Company) -> None:
    now = timezone.now()
    # Planned ten hours ahead: no "1 day" reminder (you just planned it), but the fifteen-minute one comes.
    evening = plan(manager, acme, now + timedelta(hours=10), subject="Evening call")
    # Planned two minutes ahead: nothing to remind of.
    soon = plan(manager, acme, now + 2 * MINUTE, subject="Right away")
    # Planned twelve minutes ahead: the fifteen-minute window opened three minutes ago, still in time.
    twelve = plan(manager, acme, now + 12 * MINUTE, kind=ActivityKind.MEETING, subject="Quick meeting")

    assert reminders_send(now=now + MINUTE).notifications == 1
    assert titles_for(manager) == ["Meeting with Acme Trading in 11 minutes"]
    assert ReminderSent.objects.get().activity_id == twelve.pk
    assert reminders_send(now=now + 90 * MINUTE).notifications == 0
    assert evening.due_at is not None
    assert reminders_send(now=evening.due_at - 13 * MINUTE).notifications == 1
    assert ReminderSent.objects.filter(activity=soon).count() == 0
    assert titles_for(manager)[-1] == "Call with Acme Trading in 13 minutes"


def test_each_person_is_reminded_as_they_chose(manager: User, teammate: User, acme: Company) -> None:
    reminder_offsets_save(by=manager, offsets=[60])
    reminder_offsets_save(by=teammate, offsets=[])
    other = client_services.company_create(by=teammate, name="Globex")
    due = timezone.now() + timedelta(days=2)
    created_long_ago(plan(manager, acme, due))
    created_long_ago(plan(teammate, other, due))

    assert reminders_send(now=due - timedelta(hours=20)).notifications == 0  # no "1 day" for either
    assert reminders_send(now=due - 58 * MINUTE).notifications == 1
    assert reminders_send(now=due - 10 * MINUTE).notifications == 0  # no fifteen minutes for the manager
    assert titles_for(manager) == ["Call with Acme Trading in 58 minutes"]
    assert titles_for(teammate) == []


@override_settings(RAPPORT_REMINDER_OFFSETS=[30])
def test_the_default_offsets_come_from_the_settings(manager: User, acme: Company) -> None:
    due = timezone.now() + timedelta(hours=3)
    created_long_ago(plan(manager, acme, due))
    assert reminders_send(now=due - timedelta(hours=2)).notifications == 0
    assert reminders_send(now=due - 29 * MINUTE).notifications == 1


def test_at_the_due_time_when_chosen(manager: User, acme: Company) -> None:
    reminder_offsets_save(by=manager, offsets=[0])
    due = timezone.now() + timedelta(hours=3)
    created_long_ago(plan(manager, acme, due))
    assert reminders_send(now=due - MINUTE).notifications == 0
    assert reminders_send(now=due + 2 * MINUTE).notifications == 1
    assert reminders_send(now=due + 4 * MINUTE).notifications == 0
    assert titles_for(manager) == ["Call with Acme Trading now"]


def test_done_cancelled_deleted_and_unowned_activities_are_not_reminded(
    manager: User, teammate: User, acme: Company
) -> None:
    due = timezone.now() + timedelta(hours=3)
    done = created_long_ago(plan(manager, acme, due, subject="Done already"))
    services.activity_complete(by=manager, activity=done)
    cancelled = created_long_ago(plan(manager, acme, due, subject="Called off"))
    services.activity_cancel(by=manager, activity=cancelled)
    deleted = created_long_ago(plan(manager, acme, due, subject="Deleted"))
    services.activity_delete(by=manager, activity=deleted)
    other = client_services.company_create(by=teammate, name="Globex")
    created_long_ago(plan(teammate, other, due, subject="Left the company"))
    teammate.is_active = False
    teammate.save(update_fields=["is_active"])

    assert reminders_send(now=due - 10 * MINUTE).due == 0
    assert not Notification.objects.exists()
    assert not ReminderSent.objects.exists()


def test_a_reminder_another_worker_claimed_is_not_sent_again(manager: User, acme: Company) -> None:
    due = timezone.now() + timedelta(hours=3)
    call = created_long_ago(plan(manager, acme, due))
    # The row another worker's run has just written for this reminder.
    ReminderSent.objects.create(activity=call, offset=15, due_at=due)
    report = reminders_send(now=due - 10 * MINUTE)
    assert report.notifications == 0
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two writers at once: PostgreSQL only")
def test_two_workers_at_once_send_one_reminder(manager: User, acme: Company) -> None:
    due = timezone.now() + timedelta(hours=3)
    created_long_ago(plan(manager, acme, due))
    reports: list[object] = []

    def second_worker() -> None:
        try:
            reports.append(reminders_send(now=due - 10 * MINUTE))
        except Exception as error:  # reported by the assertions below
            reports.append(error)
        finally:
            connections.close_all()

    with transaction.atomic():
        assert reminders_send(now=due - 10 * MINUTE).notifications == 1
        waiting = threading.Thread(target=second_worker)
        waiting.start()
        waiting.join(timeout=1)  # its insert waits on the row this transaction holds
        assert waiting.is_alive()
    waiting.join(timeout=10)
    assert len(reports) == 1
    assert isinstance(reports[0], ReminderReport), reports[0]
    assert reports[0].notifications == 0
    assert titles_for(manager) == ["Call with Acme Trading in 10 minutes"]


def test_the_text_names_the_client_or_the_subject_and_the_time_in_the_owners_zone(
    manager: User, ivanov: Contact
) -> None:
    manager.time_zone = "Asia/Ho_Chi_Minh"
    manager.save(update_fields=["time_zone"])
    due = (timezone.now() + timedelta(days=2)).replace(hour=3, minute=0, second=0, microsecond=0)
    created_long_ago(services.activity_create(by=manager, kind=ActivityKind.MEETING, contact=ivanov, due_at=due))
    created_long_ago(
        services.activity_create(by=manager, kind=ActivityKind.TASK, subject="Prepare the offer", due_at=due)
    )

    reminders_send(now=due - 10 * MINUTE)
    titles = set(titles_for(manager))
    assert titles == {"Meeting with Ivanov Fedor in 10 minutes", "Task “Prepare the offer” in 10 minutes"}
    bodies = "\n".join(Notification.objects.values_list("body", flat=True))
    local = due.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert local.hour == 10
    assert local.strftime("%m/%d/%Y") in bodies
    assert "10 a.m." in bodies


def test_the_hourly_digest_mails_the_reminder(manager: User, acme: Company, smtp_server: Mailbox) -> None:
    due = timezone.now() + timedelta(hours=3)
    call = created_long_ago(plan(manager, acme, due))
    reminders_send(now=due - 14 * MINUTE)

    assert notifications_email_digest() == 1
    [message] = smtp_server.messages
    assert message["To"] == manager.email
    [plain] = [part for part in message.walk() if part.get_content_type() == "text/plain"]
    text = plain.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Call with Acme Trading in 14 minutes" in text
    assert f"/activities/{call.pk}/" in text
    # Once: the next digest has nothing new.
    reminders_send(now=due - 9 * MINUTE)
    assert notifications_email_digest() == 0


def test_the_run_costs_the_same_for_three_or_thirty_activities(
    manager: User, teammate: User, head: User, acme: Company
) -> None:
    reminder_offsets_save(by=teammate, offsets=[30, 120])
    other = client_services.company_create(by=teammate, name="Globex")
    due = timezone.now() + timedelta(hours=4)

    def queries_for(count: int, at: datetime) -> int:
        for number in range(count):
            owner, client = [(manager, acme), (teammate, other), (head, None)][number % 3]
            created_long_ago(plan(owner, client, at + number * timedelta(seconds=1), subject=f"Call {number}"))
        with CaptureQueriesContext(connection) as queries:
            sent = reminders_send(now=at - 10 * MINUTE).notifications
        assert sent == count
        return len(queries)

    assert queries_for(3, due) == queries_for(30, due + timedelta(hours=3))


def test_the_periodic_job_reminds_and_records_its_run(manager: User, acme: Company) -> None:
    plan(manager, acme, timezone.now() + 12 * MINUTE)
    activity_reminders.enqueue()
    activity_reminders.enqueue()
    assert titles_for(manager) == ["Call with Acme Trading in 12 minutes"]
    assert JobRun.objects.get(name=REMINDERS).runs == 2


# ---- Birthdays ---------------------------------------------------------------------------------


def site_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.get_default_timezone())


def born(user: User, birthday: date, last_name: str = "Petrova", **fields: Any) -> Contact:
    return client_services.contact_create(by=user, last_name=last_name, first_name="Anna", birthday=birthday, **fields)


def test_the_owner_hears_of_a_birthday_the_day_before_once_a_year(manager: User, acme: Company) -> None:
    anna = born(manager, date(1985, 6, 15), company=acme)
    assert birthdays_remind(now=site_noon(date(2026, 6, 13))) == 0
    assert birthdays_remind(now=site_noon(date(2026, 6, 14))) == 1
    assert birthdays_remind(now=site_noon(date(2026, 6, 14))) == 0  # a second run the same day
    assert birthdays_remind(now=site_noon(date(2026, 6, 15))) == 0
    note = Notification.objects.get()
    assert note.title == "Birthday tomorrow: Petrova Anna"
    assert "turns 41" in note.body
    assert "Acme Trading" in note.body
    assert note.url == f"/clients/contacts/{anna.pk}/"
    assert note.recipient == manager
    # And again the next year.
    assert birthdays_remind(now=site_noon(date(2027, 6, 14))) == 1
    assert sorted(BirthdayReminderSent.objects.values_list("year", flat=True)) == [2026, 2027]


def test_a_leap_day_birthday_is_remembered_on_the_28th_in_other_years(manager: User) -> None:
    born(manager, date(2000, 2, 29))
    assert birthdays_remind(now=site_noon(date(2027, 2, 27))) == 0
    assert birthdays_remind(now=site_noon(date(2027, 2, 28))) == 1
    assert birthdays_remind(now=site_noon(date(2028, 2, 27))) == 0
    assert birthdays_remind(now=site_noon(date(2028, 2, 28))) == 1  # a leap year: the 29th is tomorrow
    assert birthdays_remind(now=site_noon(date(2028, 2, 29))) == 0


@override_settings(TIME_ZONE="Asia/Ho_Chi_Minh")
def test_tomorrow_is_tomorrow_in_the_companys_time_zone(manager: User) -> None:
    born(manager, date(1990, 3, 12))
    # 20:00 UTC on 10 March is already 03:00 on 11 March in Ho Chi Minh City: the birthday is tomorrow.
    assert birthdays_remind(now=datetime(2027, 3, 10, 20, tzinfo=ZoneInfo("UTC"))) == 1


def test_no_birthday_reminder_for_deleted_unowned_or_inactive_owners_contacts(
    manager: User, teammate: User, operator: User
) -> None:
    gone = born(manager, date(1980, 5, 2), last_name="Deleted")
    client_services.client_delete(by=manager, client=gone)
    born(operator, date(1980, 5, 2), last_name="Pool")  # an operator's contact has no owner: the shared pool
    born(teammate, date(1980, 5, 2), last_name="Left")
    teammate.is_active = False
    teammate.save(update_fields=["is_active"])
    assert birthdays_remind(now=site_noon(date(2026, 5, 1))) == 0
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_the_daily_job_reminds_and_records_its_run(manager: User) -> None:
    tomorrow = timezone.localdate(timezone.now(), timezone.get_default_timezone()) + timedelta(days=1)
    born(manager, tomorrow.replace(year=1990) if (tomorrow.month, tomorrow.day) != (2, 29) else date(1992, 2, 29))
    birthday_reminders.enqueue()
    assert len(titles_for(manager)) == 1
    assert JobRun.objects.get(name=BIRTHDAYS).runs == 1
