"""A manager finds a client by the tail of a phone number, opens the card and the lists."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from rapport.accounts.models import User
from rapport.clients import services
from rapport.clients.services import PointInput
from tests.browser.test_smoke import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_find_by_phone_tail_and_open_the_card(page: Page, live_server, personas: dict[str, User]) -> None:  # type: ignore[no-untyped-def]
    manager = personas["manager"]
    acme = services.company_create(by=manager, name="Acme Trading", points=[PointInput("phone", "+7 912 345-67-89")])
    services.contact_create(
        by=manager, last_name="Petrova", first_name="Anna", company=acme, points=[PointInput("email", "anna@acme.test")]
    )
    sign_in(page, live_server.url, "manager")

    page.fill("#global-search-input", "345-67-89")
    expect(page.locator("#global-search-results")).to_contain_text("Acme Trading")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Acme Trading")
    expect(page.locator("#client-points a[href='tel:+79123456789']")).to_be_visible()
    expect(page.locator("#company-people")).to_contain_text("Petrova Anna")

    page.click("#main-nav a[data-nav='contacts']")
    expect(page.locator("#client-table")).to_contain_text("Petrova Anna")
    page.select_option("#id_status", "frozen")
    expect(page.locator("#client-table")).to_contain_text("No clients match these filters.")
    assert "status=frozen" in page.url


def test_duplicate_hint_while_typing_a_new_contact(page: Page, live_server, personas: dict[str, User]) -> None:  # type: ignore[no-untyped-def]
    services.contact_create(
        by=personas["outsider"], last_name="Smirnova", first_name="Olga", points=[PointInput("email", "olga@x.test")]
    )
    sign_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/clients/contacts/new/")
    page.fill("#id_email", "OLGA@x.test")
    expect(page.locator("#duplicates")).to_contain_text("Smirnova Olga")
    expect(page.locator("#duplicates")).to_contain_text("Oscar Outsider")
    # Saving a genuinely new person works from the same form.
    page.fill("#id_email", "")
    page.fill("#id_last_name", "Newman")
    page.click("#client-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Newman")
