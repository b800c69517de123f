"""Periodic motivation jobs: the daily data-quality snapshot heads follow over time; the nightly bonus statements."""

from __future__ import annotations

from datetime import timedelta

from crontask import cron
from django.tasks import task
from django.utils import timezone

from rapport.core.services import job_run_record
from rapport.motivation.periods import month_of
from rapport.motivation.quality import snapshot_all
from rapport.motivation.statements import statements_compute

QUALITY_SNAPSHOTS = "quality-snapshots"
BONUS_STATEMENTS = "bonus-statements"


@cron("0 6 * * *")  # type: ignore[untyped-decorator]
@task
def quality_snapshots() -> None:
    """At six each morning (the company's time zone): store everyone's data-quality score for the day."""
    snapshot_all(on=timezone.localdate())
    job_run_record(name=QUALITY_SNAPSHOTS)


@cron("30 2 * * *")  # type: ignore[untyped-decorator]
@task
def bonus_statements() -> None:
    """At half past two each night: bring this month's bonus statements up to date for everyone who sells.

    On the first of a month, last month's too: what happened on its last evening was not in them yet.
    """
    today = timezone.localdate()
    for month in dict.fromkeys([month_of(today - timedelta(days=1)), month_of(today)]):
        statements_compute(month)
    job_run_record(name=BONUS_STATEMENTS)
