"""The search box: results grouped by kind, walked with the arrow keys, opened with Enter."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from rapport.accounts.models import User
from rapport.clients import services
from rapport.clients.services import PointInput
from tests.browser.test_smoke import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_arrow_keys_walk_the_groups_and_enter_opens_the_client(
    page: Page, live_server, personas: dict[str, User]
) -> None:  # type: ignore[no-untyped-def]
    manager = personas["manager"]
    bakery = services.company_create(
        by=manager, name="Nordwind Bakery", points=[PointInput("phone", "+7 912 111-00-01")]
    )
    services.contact_create(by=manager, last_name="Nordwind", first_name="Anna", company=bakery)
    services.contact_create(by=personas["outsider"], last_name="Nordwind", first_name="Oleg")  # not the manager's
    sign_in(page, live_server.url, "manager")

    search_box = page.locator("#global-search-input")
    search_box.fill("nordw")
    results = page.locator("#global-search-results")
    expect(results).to_be_visible()
    expect(results.locator('[data-kind="contacts"] .search-hit-title')).to_have_text(["Nordwind Anna"])
    expect(results.locator('[data-kind="companies"] .search-hit-title')).to_have_text(["Nordwind Bakery"])
    expect(results).not_to_contain_text("Oleg")

    # Down into the contacts, down again across into the companies, up and down once more.
    page.keyboard.press("ArrowDown")
    expect(results.locator('[data-kind="contacts"] .search-hit')).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(results.locator('[data-kind="companies"] .search-hit')).to_be_focused()
    page.keyboard.press("ArrowDown")  # the last hit stays chosen
    expect(results.locator('[data-kind="companies"] .search-hit')).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(search_box).to_be_focused()  # above the first hit: back to typing
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")

    expect(page.locator("h1")).to_have_text("Nordwind Bakery")
    expect(page).to_have_url(f"{live_server.url}{bakery.get_absolute_url()}")


def test_escape_closes_the_results_and_enter_opens_the_search_page(  # type: ignore[no-untyped-def]
    page: Page, live_server, personas: dict[str, User]
) -> None:
    services.contact_create(by=personas["manager"], last_name="Lê", first_name="Văn An")
    sign_in(page, live_server.url, "manager")
    search_box = page.locator("#global-search-input")
    search_box.fill("le")  # a two-letter surname is a whole word
    results = page.locator("#global-search-results")
    expect(results).to_contain_text("Lê Văn An")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Escape")
    expect(results).to_be_hidden()
    expect(search_box).to_be_focused()
    expect(search_box).to_have_value("le")

    page.keyboard.press("Enter")
    expect(page.locator("h1.page-title")).to_have_text("Search")
    expect(page.locator("#search-page-results")).to_contain_text("Lê Văn An")
