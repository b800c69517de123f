"""The screen-pop: the call ringing at a person's extension, with who is calling, read from the database.

Any web process answers it from the ``calls`` table alone, so it works with several processes
and no shared memory: the webhook's process writes the call, the process holding the person's
stream (or answering their poll) reads it. ``pop_state`` is the cheap question asked several
times a second; ``pop_for`` builds the panel only when that answer changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.activities.models import Activity, Outcome
from rapport.activities.views.quick_log import call_outcomes
from rapport.clients.models import Contact
from rapport.clients.services import AnyClient
from rapport.sales.models import Deal
from rapport.sales.queries import deals_of_client
from rapport.telephony.models import Call

# A call still "ringing" after this long lost its end on the way: it pops no more.
RINGING_LIMIT = timedelta(minutes=10)
# After the call, the panel stays this long to ask its outcome.
AFTER_CALL = timedelta(minutes=3)
DEALS_SHOWN = 3

State = tuple[int, datetime] | None


def _latest(user: User) -> Any:
    return Call.objects.filter(user=user, started_at__gte=timezone.now() - RINGING_LIMIT).order_by("-started_at", "-id")


def pop_state(user: User) -> State:
    """What the panel depends on: the person's latest call and when it last changed (one query, call_user_idx)."""
    row = _latest(user).values_list("pk", "updated_at").first()
    return (row[0], row[1]) if row is not None else None


@dataclass
class Pop:
    call: Call
    client: AnyClient | None = None
    visible: bool = False  # may the person open the client: else only its owner's name is shown
    deals: list[Deal] = field(default_factory=list)
    awaiting: Activity | None = None  # the call is over: its outcome, with one click
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.call.ended_at is not None:
            return "ended"
        return "talking" if self.call.answered_at is not None else "ringing"

    @property
    def company_name(self) -> str:
        client = self.client
        if isinstance(client, Contact) and client.company is not None:
            return client.company.name
        return ""

    @property
    def new_client_url(self) -> str:
        return f"{reverse('clients:contact-create')}?phone={self.call.number_e164 or self.call.number}"


def _visible(user: User, client: AnyClient) -> bool:
    return access.clients_visible_to(user, type(client)).filter(pk=client.pk).exists()


def pop_for(user: User) -> Pop | None:
    """The panel for the person's latest call, or None when there is nothing to show."""
    call = _latest(user).select_related("company__owner", "contact__owner", "contact__company", "activity").first()
    if call is None:
        return None
    now = timezone.now()
    if call.ended_at is not None:
        activity = call.activity
        # Once over, it asks for the outcome a little while; a missed call asks nothing (its callback is planned).
        if activity is None or activity.outcome_id is not None or call.ended_at < now - AFTER_CALL:
            return None
    pop = Pop(call=call, client=call.contact or call.company)
    if pop.client is not None:
        pop.visible = _visible(user, pop.client)
        if pop.visible:
            deals = deals_of_client(user, pop.client, limit=DEALS_SHOWN)  # open ones first
            pop.deals = [deal for deal in deals if deal.closed_at is None][:DEALS_SHOWN]
    if pop.visible and call.ended_at is not None and call.activity is not None and call.activity.owner_id == user.pk:
        pop.awaiting, pop.outcomes = call.activity, call_outcomes()
    return pop
