"""A manager edits a client on its card without leaving it: details, phones, tags; an operator merges."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from rapport.accounts.models import User
from rapport.clients import services
from rapport.clients.models import Company
from rapport.clients.services import PointInput
from tests.browser.test_smoke import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_edit_details_phones_and_tags_in_place(page: Page, live_server, personas: dict[str, User]) -> None:  # type: ignore[no-untyped-def]
    acme = services.company_create(by=personas["manager"], name="Acme", points=[PointInput("phone", "+1 201-555-0100")])
    sign_in(page, live_server.url, "manager")
    page.goto(live_server.url + acme.get_absolute_url())

    page.click("#edit-details")
    page.fill("#id_industry", "Steel")
    page.fill("#id_website", "not a site")
    page.click("#details-save")
    expect(page.locator("#id_website-error")).to_contain_text("Enter a valid URL")
    page.fill("#id_website", "acme.example")
    page.click("#details-save")
    expect(page.locator("#client-details")).to_contain_text("Steel")
    expect(page.locator("#client-details a[href='https://acme.example']")).to_be_visible()

    page.click("#point-add-open")
    page.select_option("#point-add-form select[name=kind]", "email")
    page.fill("#point-add-form input[name=value]", "Sales@Acme.Example")
    page.click("#point-add")
    expect(page.locator("#client-points a[href='mailto:sales@acme.example']")).to_be_visible()

    page.locator("#client-tags .ts-control input").fill("VIP")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    expect(page.locator("#client-tags .ts-control .item")).to_have_text(["VIP"])
    page.wait_for_load_state("networkidle")
    page.reload()
    expect(page.locator("#client-tags .ts-control .item")).to_have_text(["VIP"])
    assert [tag.name for tag in Company.objects.get(pk=acme.pk).tags.all()] == ["VIP"]


def test_operator_merges_a_duplicate_picked_by_name(page: Page, live_server, personas: dict[str, User]) -> None:  # type: ignore[no-untyped-def]
    kept = services.company_create(by=personas["manager"], name="Acme")
    services.company_create(by=personas["teammate"], name="Acme Trading", tax_id="7701")
    sign_in(page, live_server.url, "operator")
    page.goto(live_server.url + kept.get_absolute_url())
    page.click("#more-actions")
    page.click("#merge-client")
    page.locator("#merge-pick .ts-control input").fill("acme tr")
    page.locator(".ts-dropdown .option", has_text="Acme Trading").click()
    page.click("#merge-pick button[type=submit]")
    page.click("input[name=keep_name][value=merged]")
    page.click("#merge-submit")
    expect(page.locator("h1")).to_have_text("Acme Trading")
    expect(page.locator("#timeline")).to_contain_text("Merged with Acme Trading")
