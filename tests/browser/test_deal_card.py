"""A manager registers a deal from a client card, adds a product, marks the proposal done, moves it to Proposal."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from rapport.accounts.models import User
from rapport.clients import services
from rapport.sales.models import Deal
from rapport.sales.tests.factories import product_with_price, sales_pipeline
from tests.browser.test_smoke import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_register_a_deal_and_take_it_to_proposal(page: Page, live_server, personas: dict[str, User]) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sales_pipeline()
    product_with_price(sku="CH-1", name="Office chair", price="120.00", stock=25)
    acme = services.company_create(by=personas["manager"], name="Acme Trading")
    sign_in(page, live_server.url, "manager")
    page.goto(live_server.url + acme.get_absolute_url())

    page.click("#new-deal")
    page.fill("#id_title", "Chairs for the new office")
    page.click("#deal-save")
    expect(page.locator("h1")).to_have_text("Chairs for the new office")
    expect(page.locator("#deal-client")).to_contain_text("Acme Trading")
    expect(page.locator("#deal-registrant")).to_contain_text("Mark Manager")

    # A product line: picked by typing, priced from the price list; the amount follows.
    page.locator("#line-add-form .ts-control input").fill("ch-1")
    page.locator(".ts-dropdown .option", has_text="Office chair").click()
    page.fill("#line-add-form input[name=quantity]", "0")
    page.click("#line-add")
    expect(page.locator("#id_quantity-error")).to_contain_text("more than zero")
    page.fill("#line-add-form input[name=quantity]", "10")
    page.click("#line-add")
    expect(page.locator("#line-table .deal-line")).to_contain_text("Office chair")
    expect(page.locator("#lines-total")).to_have_text("1,200.00 USD")
    expect(page.locator("#deal-amount")).to_have_text("1,200.00 USD")  # the summary reloaded itself

    # Proposal needs the proposal checkpoint: refused first, with the reason.
    page.click("#stage-track button:has-text('Proposal')")
    expect(page.locator("#messages")).to_contain_text("the “Commercial proposal” checkpoint done")
    page.locator(".checkpoint[data-checkpoint='Commercial proposal'] .checkpoint-toggle").click()
    expect(page.locator(".checkpoint[data-checkpoint='Commercial proposal']")).to_have_attribute("data-state", "done")
    expect(page.locator("#timeline")).to_contain_text("Checkpoint done: Commercial proposal")
    page.click("#stage-track button:has-text('Proposal')")
    expect(page.locator("#deal-stage")).to_have_text("Proposal")
    expect(page.locator("#stage-track [aria-current=step]")).to_have_text("Proposal")
    expect(page.locator("#timeline")).to_contain_text("Qualification → Proposal")

    deal = Deal.objects.get()
    assert (deal.stage.name, deal.amount, deal.registrant) == ("Proposal", 1200, personas["manager"])
    assert errors == []
