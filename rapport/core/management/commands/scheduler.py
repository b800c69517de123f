from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the scheduler that enqueues periodic jobs (run exactly one unless REDIS_URL is set)."

    def handle(self, *args: Any, **options: Any) -> None:
        # crontask's own heartbeat only logs; ours (rapport.core.tasks.heartbeat) is recorded.
        call_command("crontask", "--no-heartbeat")
