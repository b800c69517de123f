"""Demo telephony: the office's PBX, "office-pbx", whose extensions ring the managers (the demo manager on 101)
and whose duty manager is the demo head. ``rapport telephony-replay`` plays a morning of calls to it."""

from __future__ import annotations

from rapport.accounts.models import User
from rapport.core import demo
from rapport.telephony.models import Extension, Integration

DEMO_INTEGRATION = "office-pbx"
FIRST_EXTENSION = 101


@demo.generator(order=90)
def telephony(context: demo.DemoContext) -> None:
    if not context.managers:
        return
    head = User.objects.filter(username="head").first()
    integration = Integration.objects.create(name=DEMO_INTEGRATION, duty_manager=head)
    # The well-known manager first, on 101: the replay's calls ring there.
    people = sorted(context.managers, key=lambda user: (user.username != "manager", user.pk))
    Extension.objects.bulk_create(
        Extension(integration=integration, number=str(FIRST_EXTENSION + index), user=user)
        for index, user in enumerate(people)
    )
    context.log(f"  telephony: {DEMO_INTEGRATION} with {len(people)} extensions")
