"""Health of the database, the task queue and the scheduler, for /healthz and the admins' status page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, Min, Q
from django.utils import timezone

from rapport.core.models import JobRun
from rapport.core.tasks import HEARTBEAT

# The heartbeat runs every minute; allow a few misses before calling the scheduler stalled.
HEARTBEAT_STALE_AFTER = timedelta(minutes=5)
# A task waiting longer than this means no worker is taking work.
QUEUE_STALE_AFTER = timedelta(minutes=5)


def _uses_database_queue() -> bool:
    return settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"


@dataclass(frozen=True)
class QueueState:
    waiting: int
    running: int
    failed_today: int
    oldest_waiting_since: datetime | None

    @property
    def ok(self) -> bool:
        return self.oldest_waiting_since is None or timezone.now() - self.oldest_waiting_since < QUEUE_STALE_AFTER


def queue_state() -> QueueState | None:
    if not _uses_database_queue():
        return None
    from django_tasks_db.models import DBTaskResult  # installed only with the database queue

    now = timezone.now()
    since = now - timedelta(days=1)
    figures = DBTaskResult.objects.aggregate(
        waiting=Count("id", filter=Q(status="READY")),
        running=Count("id", filter=Q(status="RUNNING")),
        failed_today=Count("id", filter=Q(status="FAILED", finished_at__gte=since)),
        oldest=Min("run_after", filter=Q(status="READY", run_after__lte=now)),
    )
    return QueueState(
        waiting=figures["waiting"],
        running=figures["running"],
        failed_today=figures["failed_today"],
        oldest_waiting_since=figures["oldest"],
    )


def heartbeat_last_run() -> datetime | None:
    run = JobRun.objects.filter(name=HEARTBEAT).first()
    return run.last_run_at if run else None


def heartbeat_ok(last_run: datetime | None) -> bool:
    return last_run is not None and timezone.now() - last_run < HEARTBEAT_STALE_AFTER


def health_report() -> dict[str, Any]:
    """What /healthz answers: machine-readable, no secrets, no record data."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return {"ok": False, "database": {"ok": False, "error": error.__class__.__name__}, "queue": {"ok": False}}
    queue = queue_state()
    last_run = heartbeat_last_run()
    queue_report: dict[str, Any] = {
        "ok": (queue is None or queue.ok) and heartbeat_ok(last_run),
        "backend": str(settings.TASKS["default"]["BACKEND"]).rsplit(".", 1)[-1],
        "heartbeat": last_run.isoformat() if last_run else None,
    }
    if queue is not None:
        queue_report.update(waiting=queue.waiting, running=queue.running, failed_today=queue.failed_today)
    return {"ok": queue_report["ok"], "database": {"ok": True, "vendor": connection.vendor}, "queue": queue_report}


@dataclass(frozen=True)
class SystemStatus:
    database_vendor: str
    heartbeat_at: datetime | None
    heartbeat_ok: bool
    queue: QueueState | None
    job_runs: list[JobRun]


def system_status() -> SystemStatus:
    last_run = heartbeat_last_run()
    return SystemStatus(
        database_vendor=connection.vendor,
        heartbeat_at=last_run,
        heartbeat_ok=heartbeat_ok(last_run),
        queue=queue_state(),
        job_runs=list(JobRun.objects.order_by("name")),
    )
