"""A head of sales works the board: drags a deal through an open gate, into a closed one, and loses it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Locator, Page, expect

from rapport.accounts.models import User
from rapport.clients import services as client_services
from rapport.sales import services
from rapport.sales.models import Deal
from rapport.sales.tests.factories import lost_reason, sales_pipeline, stage
from tests.browser.test_smoke import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def drag(page: Page, card: Locator, column: Locator) -> None:
    """Press on the card, move in small steps as a hand would, let go over the column's cards."""
    start, end = card.bounding_box(), column.locator("[data-board-cards]").bounding_box()
    assert start is not None
    assert end is not None
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] - 6  # below the title link
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 10, y + 10, steps=4)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 30, steps=20)
    page.mouse.up()


def test_a_head_moves_a_deal_through_the_gates_on_the_board(  # type: ignore[no-untyped-def]
    page: Page, live_server, personas: dict[str, User]
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    pipeline = sales_pipeline()
    manager = personas["manager"]
    acme = client_services.company_create(by=manager, name="Acme Trading")
    deal = services.deal_create(by=manager, title="Chairs", company=acme, pipeline=pipeline, amount=Decimal(400))
    services.deal_create(
        by=personas["teammate"],
        title="Desks",
        company=client_services.company_create(by=personas["teammate"], name="Desk World"),
        pipeline=pipeline,
        amount=Decimal(600),
    )
    lost_reason("Chose a competitor")
    qualification, presentation = stage(pipeline, "Qualification"), stage(pipeline, "Presentation")
    proposal, lost = stage(pipeline, "Proposal"), stage(pipeline, "Lost")

    sign_in(page, live_server.url, "head")
    page.goto(f"{live_server.url}/sales/boards/")
    columns = {each.name: page.locator(f"#stage-{each.pk}") for each in (qualification, presentation, proposal, lost)}
    expect(columns["Qualification"].locator(".board-count")).to_have_text("2")
    expect(columns["Qualification"].locator("[data-amount]")).to_have_text("1,000 USD")
    expect(columns["Qualification"].locator("[data-weighted]")).to_have_text("≈ 100 USD")
    expect(columns["Presentation"].locator(".board-count")).to_have_text("0")

    # Presentation has no gate: the card stays there and both headers follow.
    drag(page, page.locator(f"#deal-{deal.pk}"), columns["Presentation"])
    expect(columns["Presentation"].locator(f"#deal-{deal.pk}")).to_be_visible()
    expect(columns["Presentation"].locator(".board-count")).to_have_text("1")
    expect(columns["Presentation"].locator("[data-amount]")).to_have_text("400 USD")
    expect(columns["Presentation"].locator("[data-weighted]")).to_have_text("≈ 120 USD")
    expect(columns["Qualification"].locator(".board-count")).to_have_text("1")
    expect(columns["Qualification"].locator("[data-amount]")).to_have_text("600 USD")
    assert Deal.objects.get(pk=deal.pk).stage == presentation

    # Proposal wants the commercial proposal done: the card goes back and the board says why.
    drag(page, page.locator(f"#deal-{deal.pk}"), columns["Proposal"])
    expect(page.locator("#board-message")).to_be_visible()
    expect(page.locator("#board-message")).to_contain_text("the “Commercial proposal” checkpoint done")
    expect(columns["Presentation"].locator(f"#deal-{deal.pk}")).to_be_visible()
    expect(columns["Proposal"].locator(".board-card")).to_have_count(0)
    expect(columns["Proposal"].locator(".board-count")).to_have_text("0")
    assert Deal.objects.get(pk=deal.pk).stage == presentation

    # Lost asks why first; cancelling leaves the deal where it was.
    expect(columns["Lost"].locator(".board-count")).to_have_text("0")  # the closed columns come just after the page
    drag(page, page.locator(f"#deal-{deal.pk}"), columns["Lost"])
    expect(page.locator("#lost-dialog")).to_be_visible()
    page.click("#lost-cancel")
    expect(page.locator("#lost-dialog")).to_be_hidden()
    expect(columns["Presentation"].locator(f"#deal-{deal.pk}")).to_be_visible()
    drag(page, page.locator(f"#deal-{deal.pk}"), columns["Lost"])
    page.select_option("#lost-reason", label="Chose a competitor")
    page.fill("#lost-note", "Cheaper elsewhere")
    page.click("#lost-confirm")
    expect(columns["Lost"].locator(f"#deal-{deal.pk}")).to_be_visible()
    expect(columns["Lost"].locator(".board-count")).to_have_text("1")
    expect(columns["Presentation"].locator(".board-count")).to_have_text("0")
    fresh = Deal.objects.get(pk=deal.pk)
    assert (fresh.stage, fresh.lost_note) == (lost, "Cheaper elsewhere")
    assert errors == []


def test_the_board_scrolls_sideways_on_a_phone(page: Page, live_server, personas: dict[str, User]) -> None:  # type: ignore[no-untyped-def]
    pipeline = sales_pipeline()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/sales/boards/{pipeline.pk}/")
    board = page.locator("#board")
    expect(board).to_be_visible()
    widths = board.evaluate("element => [element.scrollWidth, element.clientWidth]")
    assert widths[0] > widths[1]  # the columns go on to the right
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the page itself does not
