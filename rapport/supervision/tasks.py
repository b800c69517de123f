"""Supervision's periodic jobs."""

from __future__ import annotations

from crontask import cron
from django.tasks import task

from rapport.core.services import job_run_record
from rapport.supervision.control import deviations_snapshot_and_digest
from rapport.supervision.regularity import regularity_refresh
from rapport.supervision.review import due_reviews

DEVIATIONS = "deviations-digest"
REGULARITY = "regularity-refresh"
REVIEWS = "redistribution-reviews"


@cron("0 * * * *")  # type: ignore[untyped-decorator]
@task
def redistribution_reviews() -> None:
    """Every hour: review each rule in use whose schedule (daily, weekly, every two weeks) is due."""
    due_reviews()
    job_run_record(name=REVIEWS)


@cron("0 6 * * *")  # type: ignore[untyped-decorator]
@task
def regularity_check() -> None:
    """At six each morning: learn each client's reorder interval, flag the overdue, tell their owner and head."""
    regularity_refresh()
    job_run_record(name=REGULARITY)


@cron("30 6 * * *")  # type: ignore[untyped-decorator]
@task
def deviations_digest() -> None:
    """At half past six each morning: everyone's deviations counted, and each head told what is new in their team."""
    deviations_snapshot_and_digest()
    job_run_record(name=DEVIATIONS)
