from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the background worker that executes queued tasks (the database queue's db_worker)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", action="store_true", help="Exit once the queue is empty.")

    def handle(self, *args: Any, **options: Any) -> None:
        extra = ["--batch", "--no-startup-delay"] if options["batch"] else []
        call_command("db_worker", "--no-reload", *extra)
