"""A manager narrows the deal list by stage, adds a column, and keeps the result as a saved view."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from rapport.accounts.models import User
from rapport.clients import services as client_services
from rapport.sales import services
from rapport.sales.tests.factories import sales_pipeline, stage
from tests.browser.test_smoke import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_filter_choose_a_column_and_save_a_view(page: Page, live_server, personas: dict[str, User]) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    manager = personas["manager"]
    pipeline = sales_pipeline()
    acme = client_services.company_create(by=manager, name="Acme Trading")
    services.deal_create(by=manager, title="Chairs", company=acme, pipeline=pipeline, amount=1200)
    desks = services.deal_create(by=manager, title="Desks", company=acme, pipeline=pipeline)
    services.deal_move_to_stage(by=manager, deal=desks, stage=stage(pipeline, "Presentation"))
    sign_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/sales/deals/")
    table = page.locator("#deal-table")
    expect(table.locator(".deal-link")).to_have_count(2)

    # A stage chosen: the table changes without a page load and the address keeps the filter.
    presentation = stage(pipeline, "Presentation")
    page.select_option("#id_stage", str(presentation.pk))
    expect(table.locator(".deal-link")).to_have_count(1)
    expect(table.locator(".deal-link")).to_have_text("Desks")
    expect(page).to_have_url(f"{live_server.url}/sales/deals/?stage={presentation.pk}")

    # The registrant column, from the Columns menu.
    page.click("#column-chooser button")
    page.check("#column-chooser input[value=registrant]")
    expect(table.locator("th[data-column=registrant]")).to_be_visible()
    page.keyboard.press("Escape")

    # Saved as a view, and opened again from the menu.
    page.click("#saved-views-button")
    expect(page.locator("#saved-views-menu")).to_contain_text("No saved views yet.")
    page.fill("#id_view_name", "Presented")
    page.click("#save-view")
    expect(page.locator("#messages")).to_contain_text("View “Presented” saved.")
    page.goto(f"{live_server.url}/sales/deals/")
    page.click("#saved-views-button")
    page.click("#saved-views-menu a:has-text('Presented')")
    expect(table.locator(".deal-link")).to_have_count(1)
    expect(table.locator("th[data-column=registrant]")).to_be_visible()
    assert errors == []
