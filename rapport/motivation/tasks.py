"""Periodic motivation jobs: the daily data-quality snapshot heads follow over time."""

from __future__ import annotations

from crontask import cron
from django.tasks import task
from django.utils import timezone

from rapport.core.services import job_run_record
from rapport.motivation.quality import snapshot_all

QUALITY_SNAPSHOTS = "quality-snapshots"


@cron("0 6 * * *")  # type: ignore[untyped-decorator]
@task
def quality_snapshots() -> None:
    """At six each morning (the company's time zone): store everyone's data-quality score for the day."""
    snapshot_all(on=timezone.localdate())
    job_run_record(name=QUALITY_SNAPSHOTS)
