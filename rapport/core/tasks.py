from __future__ import annotations

from crontask import cron
from django.tasks import task

from rapport.core.notifications import notifications_email_digest
from rapport.core.services import job_run_record

HEARTBEAT = "heartbeat"
NOTIFICATION_DIGEST = "notification-digest"


@cron("* * * * *")  # type: ignore[untyped-decorator]
@task
def heartbeat() -> None:
    """Runs every minute through scheduler → queue → worker, proving all three alive."""
    job_run_record(name=HEARTBEAT)


@cron("5 * * * *")  # type: ignore[untyped-decorator]
@task
def notification_digest() -> None:
    """Hourly: e-mail people their unread notifications they have not been mailed yet."""
    notifications_email_digest()
    job_run_record(name=NOTIFICATION_DIGEST)
