"""The smoke journey: sign in, open every section, switch to Russian and back, search, sign out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from conftest import PASSWORD
from rapport.accounts.models import User
from rapport.core.notifications import notify

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#topbar")).to_be_visible()
    # The scripts (deferred) have run: typed keys reach htmx, not a page still starting.
    page.wait_for_load_state("load")


def test_admin_journey_through_every_section(page: Page, live_server, personas: dict[str, User]) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    notify(recipients=[personas["admin"]], title="Welcome aboard")

    # Wrong password first: a clear message, nothing else.
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "wrong")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#form-errors")).to_contain_text("Wrong username or password.")

    sign_in(page, live_server.url, "boss")
    expect(page.locator("h1")).to_contain_text("Hello, Ada")

    links = page.locator("#main-nav a.nav-link")
    targets = [
        (links.nth(i).get_attribute("data-nav"), links.nth(i).get_attribute("href")) for i in range(links.count())
    ]
    assert {key for key, _ in targets} >= {"home", "notifications", "users", "teams", "system"}
    for key, href in targets:
        page.click(f'#main-nav a[data-nav="{key}"]')
        expect(page).to_have_url(re.compile(re.escape(str(href)) + "$"))
        expect(page.locator("h1.page-title")).not_to_be_empty()
        expect(page.locator("body")).not_to_contain_text("Page not found")

    # The bell: one unread, marked read from its dropdown.
    expect(page.locator("#bell-count")).to_have_text("1")
    page.click("#bell > a")
    expect(page.locator("#bell .dropdown-menu")).to_contain_text("Welcome aboard")
    page.click("#bell-read-all")
    expect(page.locator("#bell-count")).to_have_count(0)

    # Global search as you type, then the keyboard.
    page.fill("#global-search-input", "tin")
    expect(page.locator("#global-search-results")).to_contain_text("Tina Teammate")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Tina Teammate")

    # Switch to Russian and back.
    page.click("#user-menu > a")
    page.click('#user-menu button[data-language="ru"]')
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("#logout")).to_contain_text("Выйти")
    page.click("#user-menu > a")
    page.click('#user-menu button[data-language="en"]')
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.click("#user-menu > a")
    page.click("#logout")
    expect(page.locator("#login-form")).to_be_visible()
    assert errors == []


def test_manager_on_a_phone(page: Page, live_server, personas: dict[str, User]) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, live_server.url, "manager")
    # The side menu folds behind the toggler on a phone.
    expect(page.locator("#sidebar-menu")).to_be_hidden()
    page.click("#sidebar .navbar-toggler")
    expect(page.locator("#sidebar-menu")).to_be_visible()
    expect(page.locator('#main-nav a[data-nav="users"]')).to_have_count(0)
    # The menu slides open: click once it has come to rest, else the click can land while it moves and go nowhere.
    notifications = page.locator('#main-nav a[data-nav="notifications"]')
    expect(notifications).to_be_in_viewport()
    expect(page.locator("#sidebar-menu.collapsing")).to_have_count(0)
    notifications.click()
    expect(page.locator("h1.page-title")).to_have_text("Notifications")
    # Nothing is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_unknown_page_is_friendly(page: Page, live_server, personas: dict[str, User]) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server.url, "manager")
    response = page.goto(f"{live_server.url}/clients/nowhere/")
    assert response is not None
    assert response.status == 404
    expect(page.locator("body")).to_contain_text("Page not found")
