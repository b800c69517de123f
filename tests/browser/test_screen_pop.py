"""A manager's extension rings: the caller's panel pops on whatever page they are on, pushed by the server's
stream (or polled, where the browser has no EventSource); after the call one click gives it its outcome."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from rapport.accounts.models import User
from rapport.activities.models import Activity, Outcome
from rapport.clients import services
from rapport.clients.models import Company
from rapport.clients.services import PointInput
from rapport.telephony import pop_views
from rapport.telephony.models import Extension, Integration
from rapport.telephony.signing import signed_headers
from rapport.telephony.tests.test_ami import PASSWORD, FakeAsterisk, Session
from tests.browser.test_smoke import sign_in

pytestmark = pytest.mark.django_db(transaction=True)
CLIENT = "+12015550123"


def pbx_sends(base_url: str, integration: Integration, *events: tuple[str, int]) -> None:
    """The PBX posts signed events of call c1 (type, seconds from its start) to the webhook."""
    start = timezone.now() - timedelta(seconds=90)
    body = json.dumps(
        {
            "events": [
                {
                    "id": f"c1-{kind}",
                    "call_id": "c1",
                    "type": kind,
                    "direction": "in",
                    "from": CLIENT,
                    "to": "+12025550100",
                    "extension": "101",
                    "at": (start + timedelta(seconds=second)).isoformat(),
                    **({"duration": 60} if kind == "ended" else {}),
                }
                for kind, second in events
            ]
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310  (the test's own live server)
        f"{base_url}/telephony/{integration.name}/events", data=body, headers=signed_headers(integration.secret, body)
    )
    with urllib.request.urlopen(request) as answer:  # noqa: S310
        assert answer.status == 200


@pytest.fixture(autouse=True)
def short_streams(page: Page, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Streams of two seconds, ended before the next test: the live server shares one SQLite connection between its
    threads, and a stream still asking would lock the next test's tables as its database is emptied."""
    monkeypatch.setattr(pop_views, "STREAM_SECONDS", 2)
    yield
    page.goto("about:blank")
    time.sleep(pop_views.STREAM_SECONDS + 1)


@pytest.fixture
def office(personas: dict[str, User]) -> Integration:
    # A browser test's database is emptied after each test, the default outcomes with it.
    Outcome.objects.get_or_create(kind="call", name="Taken into work")
    integration = Integration.objects.create(name="office-pbx", region="US")
    Extension.objects.create(integration=integration, number="101", user=personas["manager"])
    services.company_create(
        by=personas["manager"], name="Acme Trading", points=[PointInput(kind="phone", value=CLIENT)]
    )
    return integration


def test_the_ringing_call_pops_and_its_outcome_is_one_click(  # type: ignore[no-untyped-def]
    page: Page, live_server, office: Integration
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live_server.url, "manager")
    pop = page.locator("#screen-pop")
    expect(pop).to_be_empty()

    pbx_sends(live_server.url, office, ("ringing", 0))

    card = pop.locator("#screen-pop-card")
    expect(card).to_have_attribute("data-state", "ringing")
    expect(card.locator("#screen-pop-client")).to_have_text("Acme Trading")

    pbx_sends(live_server.url, office, ("answered", 5), ("ended", 65))
    expect(card).to_have_attribute("data-state", "ended")
    card.get_by_role("button", name="Taken into work").click()
    expect(pop.locator("#quick-log-saved")).to_contain_text("Call saved: Taken into work.")
    assert Activity.objects.get().outcome.name == "Taken into work"  # type: ignore[union-attr]
    assert errors == []


def test_without_event_source_the_panel_is_polled(  # type: ignore[no-untyped-def]
    page: Page, live_server, office: Integration
) -> None:
    page.add_init_script("delete window.EventSource;")
    sign_in(page, live_server.url, "manager")

    pbx_sends(live_server.url, office, ("ringing", 0))

    expect(page.locator("#screen-pop-card #screen-pop-client")).to_have_text("Acme Trading")
    page.locator("[data-screen-pop-close]").click()
    expect(page.locator("#screen-pop")).to_be_empty()


def test_a_click_on_the_clients_number_asks_the_pbx_to_ring_my_phone(  # type: ignore[no-untyped-def]
    page: Page, live_server, office: Integration
) -> None:
    pbx = FakeAsterisk([Session(answer=("Success", "Originate successfully queued"))])
    office.ami_host, office.ami_port, office.ami_username, office.ami_secret = (
        "127.0.0.1",
        pbx.port,
        "rapport",
        PASSWORD,
    )
    office.save()
    sign_in(page, live_server.url, "manager")
    acme = Company.objects.get(name="Acme Trading")
    page.goto(f"{live_server.url}{acme.get_absolute_url()}")

    page.locator('#client-points a[href^="tel:"]').first.click()

    expect(page.locator("#click-to-call-notice")).to_contain_text("Your phone (101) rings first")
    pbx.stop()
    assert pbx.actions[1]["Action"] == "Originate"
    assert pbx.actions[1]["Exten"] == CLIENT
