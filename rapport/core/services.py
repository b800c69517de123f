from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from rapport.core.models import JobRun


@transaction.atomic
def job_run_record(*, name: str) -> None:
    """Note that a periodic job ran now (seen on the system status page and by /healthz)."""
    now = timezone.now()
    updated = JobRun.objects.filter(name=name).update(last_run_at=now, runs=F("runs") + 1)
    if not updated:
        JobRun.objects.get_or_create(name=name, defaults={"last_run_at": now, "runs": 1})
