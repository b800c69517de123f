from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from rapport.telephony.ami import AmiError, ami_listen
from rapport.telephony.models import Integration


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM (a service manager stopping us) ends the listener the way Ctrl-C does: the socket closes on the way out.
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Record the calls of an Asterisk PBX from its Manager Interface (AMI); runs until stopped."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--integration", required=True, help="The telephony integration's name.")
        parser.add_argument("--once", action="store_true", help="Stop when the connection ends, not reconnecting.")
        parser.add_argument("--max-reconnects", type=int, default=None, help="Give up after this many reconnects.")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["integration"]
        integration = Integration.objects.filter(name=name, is_active=True).first()
        if integration is None:
            raise CommandError(f"no telephony integration {name!r} in use.")
        if not integration.has_ami:
            raise CommandError(f"the integration {name!r} has no AMI host and user set.")
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            ami_listen(integration, once=options["once"], max_reconnects=options["max_reconnects"])
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        except AmiError as error:
            raise CommandError(f"AMI of {name}: {error}") from None
        finally:
            signal.signal(signal.SIGTERM, previous)
