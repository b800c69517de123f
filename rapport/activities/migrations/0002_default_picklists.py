"""The outcome picklists and the meeting's minimum-data rule a new installation starts with.

Names are written in the installation's language (LANGUAGE_CODE); admins rename, add and
retire them afterwards like any other picklist entry.
"""

from typing import Any

from django.conf import settings
from django.db import migrations
from django.utils import translation
from django.utils.translation import gettext as _

# (kind, name, asks for a follow-up), in the order the quick log shows them.
OUTCOMES = [
    ("call", "Taken into work", False),
    ("call", "Completed", False),
    ("call", "No answer", True),
    ("call", "Call back later", True),
    ("call", "Wrong number", False),
    ("meeting", "Held", False),
    ("meeting", "Next meeting agreed", True),
    ("meeting", "Client did not come", True),
    ("task", "Done", False),
    ("email", "Sent", False),
    ("email", "Replied", False),
]
MEETING_DONE = ["date", "client_name", "contact_point", "subject", "result"]


def _names() -> dict[str, str]:
    # Spelled out so makemessages finds them: the migration writes them in the site's language.
    return {
        "Taken into work": _("Taken into work"),
        "Completed": _("Completed"),
        "No answer": _("No answer"),
        "Call back later": _("Call back later"),
        "Wrong number": _("Wrong number"),
        "Held": _("Held"),
        "Next meeting agreed": _("Next meeting agreed"),
        "Client did not come": _("Client did not come"),
        "Done": _("Done"),
        "Sent": _("Sent"),
        "Replied": _("Replied"),
    }


def seed(apps: Any, schema_editor: Any) -> None:
    Outcome = apps.get_model("activities", "Outcome")
    MinimumDataRule = apps.get_model("activities", "MinimumDataRule")
    with translation.override(settings.LANGUAGE_CODE):
        names = _names()
        for position, (kind, name, asks) in enumerate(OUTCOMES, start=1):
            Outcome.objects.create(kind=kind, name=names[name], position=position, asks_follow_up=asks)
    MinimumDataRule.objects.create(kind="meeting", status="done", required=MEETING_DONE)


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("activities", "Outcome").objects.all().delete()
    apps.get_model("activities", "MinimumDataRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("activities", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
