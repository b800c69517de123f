"""`rapport up`: everything a single machine needs, in one command.

Migrates, creates the first admin, optionally loads demo data, then runs the web
server (granian), the task worker and the scheduler side by side until Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from rapport.accounts.services import first_admin_ensure
from rapport.core import demo
from rapport.core.tasks import heartbeat

STOP_GRACE_SECONDS = 10


def check_database() -> None:
    """Fail with one readable line when DATABASE_URL points nowhere usable."""
    try:
        connection.ensure_connection()
    except DatabaseError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else error.__class__.__name__
        raise CommandError(f"cannot use the database in DATABASE_URL ({connection.vendor}): {reason}") from None


class Command(BaseCommand):
    help = "Migrate, create the first admin and run Rapport: web server, worker and scheduler."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("RAPPORT_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("RAPPORT_PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
        parser.add_argument("--demo", choices=sorted(demo.SCALES), help="Load demo data of this scale first.")
        parser.add_argument("--no-serve", action="store_true", help="Prepare the database, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        check_database()
        self.stdout.write("Migrating the database…")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        created = first_admin_ensure(
            username=os.environ.get("RAPPORT_ADMIN_USERNAME", "admin"),
            password=os.environ.get("RAPPORT_ADMIN_PASSWORD") or None,
        )
        if created is not None:
            user, password = created
            self.stdout.write(self.style.SUCCESS("First administrator created — this password is shown only once:"))
            self.stdout.write(f"    username: {user.username}\n    password: {password}")
        if options["demo"]:
            if demo.is_loaded():
                self.stdout.write("Demo data is already loaded.")
            else:
                demo.load(options["demo"], log=self.stdout.write)
                demo.vacuum()
        if options["no_serve"]:
            return
        # Run a heartbeat at once, so the status page is green as soon as the worker starts.
        heartbeat.enqueue()
        self.serve(options)

    def serve(self, options: dict[str, Any]) -> None:
        python = sys.executable
        commands = {
            "web": [
                python,
                "-m",
                "granian",
                "--interface",
                "wsgi",
                "config.wsgi:application",
                "--host",
                options["host"],
                "--port",
                str(options["port"]),
                "--workers",
                str(options["web_workers"]),
                "--no-ws",
                "--log-level",
                "warning",
            ],
            "worker": [python, "-m", "rapport", "worker"],
            "scheduler": [python, "-m", "rapport", "scheduler"],
        }
        children: dict[str, subprocess.Popen[bytes]] = {}
        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for name, command in commands.items():
            children[name] = subprocess.Popen(command)  # noqa: S603  (our own interpreter and arguments)
        self.stdout.write(
            self.style.SUCCESS(f"Rapport is running at http://{options['host']}:{options['port']}/ — Ctrl-C stops it.")
        )
        exit_code = 0
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    self.stderr.write(f"The {name} process stopped (exit code {child.returncode}); stopping the rest.")
                    exit_code = 1
                    stopping = True
                    break
            time.sleep(0.5)
        self.stdout.write("Stopping…")
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.stdout.write("Stopped.")
        if exit_code:
            sys.exit(exit_code)
