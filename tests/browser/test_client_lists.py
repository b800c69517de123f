"""A manager shows the tags column, tags two companies from the list, and keeps the columns as a saved view."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from rapport.accounts.models import User
from rapport.clients import services
from tests.browser.test_smoke import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_choose_a_column_and_tag_two_rows(page: Page, live_server, personas: dict[str, User]) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    manager = personas["manager"]
    for name in ("Alpha Trading", "Beta Foods", "Gamma Steel"):
        services.company_create(by=manager, name=name)
    sign_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/clients/companies/?sort=name")

    # The tags column, chosen from the Columns menu, arrives without a page load and stays in the address.
    page.click("#column-chooser button")
    page.check("#column-chooser input[value=tags]")
    expect(page.locator("#client-table th[data-column=tags]")).to_be_visible()
    expect(page).to_have_url(
        f"{live_server.url}/clients/companies/?sort=name&cols=phone,owner,status,last_contact,next_step,lead_source,tags"
    )
    page.keyboard.press("Escape")

    # Two rows selected: the bulk bar says so and offers what a manager may do (no owner change).
    bar = page.locator("#bulk-bar")
    expect(bar).to_be_hidden()
    page.check("#client-table tr:has-text('Alpha Trading') [data-bulk-row]")
    page.check("#client-table tr:has-text('Gamma Steel') [data-bulk-row]")
    expect(bar).to_be_visible()
    expect(bar.locator("[data-bulk-count]")).to_have_text("2")
    expect(bar.locator("#bulk-owner")).to_have_count(0)

    bar.locator("input[name=tag]").fill("Autumn fair")
    bar.locator("input[name=tag]").press("Enter")  # the same as pressing "Add tag"

    expect(page.locator("#messages")).to_contain_text("2 changed, 0 skipped (not yours to change).")
    for name, tagged in (("Alpha Trading", True), ("Beta Foods", False), ("Gamma Steel", True)):
        row = page.locator(f"#client-table tr:has-text('{name}')")
        if tagged:
            expect(row.locator("td .badge", has_text="Autumn fair")).to_be_visible()
        else:
            expect(row.locator("td .badge", has_text="Autumn fair")).to_have_count(0)
    # Back on the same list: same columns, same order.
    expect(page.locator("#client-table th[data-column=tags]")).to_be_visible()

    # Saved as a view: the menu is read when opened, and the saved view comes back with its columns.
    page.click("#saved-views-button")
    expect(page.locator("#saved-views-menu")).to_contain_text("No saved views yet.")
    page.fill("#id_view_name", "With tags")
    page.click("#save-view")
    expect(page.locator("#messages")).to_contain_text("View “With tags” saved.")
    page.goto(f"{live_server.url}/clients/companies/")
    expect(page.locator("#client-table th[data-column=tags]")).to_have_count(0)
    page.click("#saved-views-button")
    page.click("#saved-views-menu a:has-text('With tags')")
    expect(page.locator("#client-table th[data-column=tags]")).to_be_visible()
    assert errors == []
