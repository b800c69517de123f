from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from rapport.core import demo


class Command(BaseCommand):
    help = "Load demo data: teams, users and everything the installed apps generate."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--scale", choices=sorted(demo.SCALES), default="S", help="S (small), M (data set M), L.")

    def handle(self, *args: Any, **options: Any) -> None:
        if demo.is_loaded():
            raise CommandError("demo data is already loaded in this database.")
        with transaction.atomic():
            demo.load(options["scale"], log=self.stdout.write)
        demo.vacuum()
