"""Periodic activity jobs: reminders before due times and birthdays the day before."""

from __future__ import annotations

from crontask import cron
from django.tasks import task

from rapport.activities.reminders import birthdays_remind, reminders_send
from rapport.core.services import job_run_record

REMINDERS = "activity-reminders"
BIRTHDAYS = "birthday-reminders"


@cron("*/5 * * * *")  # type: ignore[untyped-decorator]
@task
def activity_reminders() -> None:
    """Every five minutes: remind owners of planned activities as their offsets ask, each reminder once."""
    reminders_send()
    job_run_record(name=REMINDERS)


@cron("0 7 * * *")  # type: ignore[untyped-decorator]
@task
def birthday_reminders() -> None:
    """At seven each morning (the company's time zone): tell owners whose contacts have a birthday tomorrow."""
    birthdays_remind()
    job_run_record(name=BIRTHDAYS)
