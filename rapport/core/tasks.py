from __future__ import annotations

from crontask import cron
from django.tasks import task

from rapport.core.services import job_run_record

HEARTBEAT = "heartbeat"


@cron("* * * * *")  # type: ignore[untyped-decorator]
@task
def heartbeat() -> None:
    """Runs every minute through scheduler → queue → worker, proving all three alive."""
    job_run_record(name=HEARTBEAT)
