"""Periodic sales jobs."""

from __future__ import annotations

from crontask import cron
from django.tasks import task

from rapport.core.services import job_run_record
from rapport.sales.alerts import deviations_report

DEVIATION_ALERTS = "deal-deviation-alerts"


@cron("*/30 * * * *")  # type: ignore[untyped-decorator]
@task
def deal_deviation_alerts() -> None:
    """Every half hour: tell owners and heads about overdue checkpoints and stuck deals, once each."""
    deviations_report()
    job_run_record(name=DEVIATION_ALERTS)
