from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from rapport.telephony.cdr import CdrError, CdrReport, cdr_import, mapping_parse
from rapport.telephony.models import Integration


def _summary(report: CdrReport) -> str:
    return (
        f"rows read: {report.rows}, calls imported: {report.imported}, already imported: {report.already_imported}, "
        f"internal calls skipped: {report.skipped_internal}, errors: {len(report.errors)}."
    )


class Command(BaseCommand):
    help = (
        "Import call detail records from a CSV file: Asterisk's Master.csv, or, with --map, "
        "a CSV whose header row the mapping names. Importing the same file again adds nothing."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        parser.add_argument("--integration", required=True, help="The integration's name, as in its webhook address.")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help="Which column holds a field (call_id, start, answer, end, from, to, extension, direction, "
            "duration, disposition, recording_url); call_id, start, from and to are required. Repeat per field.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        integration = Integration.objects.filter(name=options["integration"]).first()
        if integration is None:
            raise CommandError(f"no integration {options['integration']!r}.")
        try:
            mapping = mapping_parse(options["map"])
        except CdrError as error:
            raise CommandError(f"--map {error}") from None
        path = options["file"]
        try:
            # A caller's name in another encoding (old trunks send Latin-1) must not stop a year of calls: a byte
            # that is not UTF-8 only blurs that name, which is not imported anyway.
            with open(path, encoding="utf-8-sig", errors="replace", newline="") as file:
                report = cdr_import(integration=integration, file=file, mapping=mapping)
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror or error}.") from None
        except CdrError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(_summary(report))
        for problem in report.errors:
            self.stderr.write(f"line {problem.row}: {problem.message}")
