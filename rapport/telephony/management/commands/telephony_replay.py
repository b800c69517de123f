"""`rapport telephony-replay`: play a morning of calls to the running demo, by its webhook and through the AMI,
and say where each call landed. Run it twice: the second time stores nothing and changes nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityStatus
from rapport.telephony.demo import DEMO_INTEGRATION
from rapport.telephony.models import Call, Integration
from rapport.telephony.replay import ami_blocks, ami_play, morning, morning_start, webhook_events, webhook_send


def _landed(call: Call) -> str:
    client = call.contact or call.company
    where = f"{client.display_name}'s timeline" if client is not None else "no client"
    parts = [f"{timezone.localtime(call.started_at):%H:%M} {call.get_direction_display().lower()} {call.number}"]
    if call.activity is not None:
        parts.append(f"→ {where}: “{call.activity.subject}”, {call.activity.duration or 0} min")
    elif call.missed:
        parts.append(f"→ missed, from {client.display_name if client is not None else 'a hidden number'}")
    if call.callback is not None:
        state = "done by the call back" if call.callback.status == ActivityStatus.DONE else "planned"
        parts[-1] += f"; callback for {call.callback.owner.display_name}: {state}"
    return " ".join(parts)


class Command(BaseCommand):
    help = "Play a morning of calls to the running demo (webhook and AMI) and show where each landed."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="The running Rapport (for the webhook).")
        parser.add_argument("--integration", default=DEMO_INTEGRATION)
        parser.add_argument("--user", default="manager", help="Whose extension rings and whose clients call.")

    def handle(self, *args: Any, **options: Any) -> None:
        integration = Integration.objects.filter(name=options["integration"], is_active=True).first()
        manager = User.objects.filter(username=options["user"]).first()
        if integration is None or manager is None:
            raise CommandError("no demo telephony here: run `rapport up --demo S` (or `rapport demo S`) first.")
        extension = integration.extensions.filter(user=manager).values_list("number", flat=True).first()
        if extension is None:
            raise CommandError(f"{manager.username} has no extension on {integration.name}.")
        try:
            calls = morning(manager)
        except ValueError as error:
            raise CommandError(str(error)) from None
        start, before = morning_start(), Activity.objects.count()
        events = [event for call in calls if call.via == "webhook" for event in webhook_events(call, start, extension)]
        try:
            answer = webhook_send(options["url"], integration, events)
        except OSError as error:
            raise CommandError(
                f"the webhook at {options['url']} did not answer ({error}): is Rapport running?"
            ) from None
        self.stdout.write(f"Webhook: {answer['stored']} events stored, {answer['replayed']} replayed.")
        blocks = [block for call in calls if call.via == "ami" for block in ami_blocks(call, start, extension)]
        ami_play(integration, blocks)
        self.stdout.write(f"AMI: {len(blocks)} events played to the listener.")
        ids = [call.call_id for call in calls]
        recorded = Call.objects.filter(integration=integration, call_id__in=ids).select_related(
            "company", "contact", "activity", "callback__owner"
        )
        for call in sorted(recorded, key=lambda each: each.started_at):
            self.stdout.write(f"  {_landed(call)}")
        self.stdout.write(f"Activities: {before} before, {Activity.objects.count()} now.")
