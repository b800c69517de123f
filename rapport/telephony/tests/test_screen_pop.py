"""The screen-pop: a person whose extension rings is shown who calls — by the stream or by the poll, from
whichever process took the PBX's event — and, once the call is over, asked its outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import User
from rapport.activities.models import Outcome
from rapport.clients import services
from rapport.clients.models import Company, Contact
from rapport.clients.services import PointInput
from rapport.sales import services as sales
from rapport.sales.tests.factories import sales_pipeline
from rapport.telephony.events import Event
from rapport.telephony.ingest import event_ingest
from rapport.telephony.models import Integration

POP = reverse("telephony:screen-pop")
STREAM = reverse("telephony:screen-pop-stream")
CLIENT = "+12015550123"


@pytest.fixture
def acme(manager: User) -> Company:
    return services.company_create(by=manager, name="Acme", points=[PointInput(kind="phone", value=CLIENT)])


def ring(
    pbx: Integration, kind: str = "ringing", *, number: str = CLIENT, minutes_ago: int = 0, **fields: object
) -> None:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    event_ingest(
        pbx,
        Event(f"c1-{kind}", "c1", kind, "in", at, number, "+12025550100", extension="101", **fields),  # type: ignore[arg-type]
    )


def test_a_ringing_call_pops_the_callers_card(
    pbx: Integration, acme: Company, manager: User, as_manager: Client
) -> None:
    sales_pipeline()
    sales.deal_create(by=manager, title="Forty chairs", company=acme)
    ring(pbx)

    page = as_manager.get(POP).content.decode()

    assert 'data-state="ringing"' in page
    assert f'href="{acme.get_absolute_url()}" id="screen-pop-client">Acme</a>' in page
    assert "Forty chairs" in page
    assert manager.display_name in page  # the owner


def test_an_unknown_caller_gets_a_prefilled_new_client_form(pbx: Integration, as_manager: Client) -> None:
    ring(pbx, number="+12015550199")

    page = as_manager.get(POP).content.decode()

    assert "Unknown number" in page
    assert 'id="screen-pop-new-client"' in page
    assert 'name="phone" value="+12015550199"' in page
    # The full form opens with the phone filled in.
    form = as_manager.get(f"{reverse('clients:contact-create')}?phone=%2B12015550199").content.decode()
    assert 'value="+12015550199"' in form


def test_a_colleagues_client_out_of_sight_shows_only_whose_it_is(
    pbx: Integration, outsider: User, as_manager: Client
) -> None:
    services.company_create(by=outsider, name="Far Ltd", points=[PointInput(kind="phone", value=CLIENT)])
    ring(pbx)

    page = as_manager.get(POP).content.decode()

    assert "A colleague&#x27;s client" in page or "A colleague's client" in page
    assert "Far Ltd" not in page
    assert outsider.display_name in page


def test_after_the_call_the_panel_asks_its_outcome_then_goes(
    pbx: Integration, acme: Company, as_manager: Client
) -> None:
    ring(pbx, "answered")
    ring(pbx, "ended", duration=60)

    page = as_manager.get(POP).content.decode()
    assert 'data-state="ended"' in page
    assert 'id="screen-pop-outcome"' in page

    taken = Outcome.objects.get(kind="call", name="Taken into work")
    activity = pbx.calls.get().activity
    assert activity is not None
    as_manager.post(reverse("activities:quick-log"), {"company": acme.pk, "activity": activity.pk, "outcome": taken.pk})
    assert as_manager.get(POP).content.decode().strip() == ""


def test_nothing_pops_for_a_call_long_gone_or_for_someone_else(pbx: Integration, acme: Company, teammate: User) -> None:
    ring(pbx, minutes_ago=30)
    assert Client().get(POP).status_code == 302  # signed out

    # The teammate has no extension: their browser is told to stop asking.
    assert client_for(teammate).get(POP).status_code == 286
    assert client_for(teammate).get(STREAM).status_code == 204


def test_a_missed_call_leaves_nothing_to_ask(pbx: Integration, acme: Company, as_manager: Client) -> None:
    ring(pbx, "missed")
    assert as_manager.get(POP).content.decode().strip() == ""


def test_the_stream_sends_the_panel_as_it_is_then_each_change(
    pbx: Integration, acme: Company, as_manager: Client
) -> None:
    response = as_manager.get(STREAM)
    assert response["Content-Type"] == "text/event-stream"
    chunks = iter(response.streaming_content)  # type: ignore[attr-defined]

    assert next(chunks) == b"retry: 500\n\n"
    first = next(chunks).decode()
    assert first.startswith("event: pop\n")
    assert "Acme" not in first  # nothing rings yet

    ring(pbx)  # as if another process took the PBX's event
    pushed = next(chunks).decode()
    assert pushed.startswith("event: pop\n")
    assert [line for line in pushed.rstrip("\n").split("\n")[1:] if not line.startswith("data: ")] == []
    assert "Acme" in pushed
    assert 'data-state="ringing"' in pushed
    response.close()


def test_a_contact_caller_shows_their_company(pbx: Integration, manager: User, as_manager: Client) -> None:
    company = services.company_create(by=manager, name="Globex")
    services.contact_create(
        by=manager, last_name="Mills", company=company, points=[PointInput(kind="phone", value=CLIENT)]
    )
    ring(pbx)

    page = as_manager.get(POP).content.decode()

    assert "Mills" in page
    assert "Globex" in page
    assert Contact.objects.count() == 1
