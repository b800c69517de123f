"""From the company card a call is saved in one click ("wrong number") or two ("call back later", then a time)."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityStatus, Outcome
from rapport.clients import services
from tests.browser.test_smoke import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def _call_outcome(name: str, *, asks_follow_up: bool) -> Outcome:
    # The installation's picklist (a data migration); a transactional test may have flushed it.
    found, _created = Outcome.objects.get_or_create(kind="call", name=name, defaults={"asks_follow_up": asks_follow_up})
    return found


def test_a_call_in_one_click_and_a_callback_in_two(page: Page, live_server, personas: dict[str, User]) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    manager = personas["manager"]
    manager.time_zone = "Europe/Moscow"
    manager.save(update_fields=["time_zone"])
    wrong_number = _call_outcome("Wrong number", asks_follow_up=False)
    call_back = _call_outcome("Call back later", asks_follow_up=True)
    acme = services.company_create(by=manager, name="Acme Trading")
    sign_in(page, live_server.url, "manager")
    page.goto(live_server.url + acme.get_absolute_url())

    clicks = 0

    def click(selector: str) -> None:
        nonlocal clicks
        page.click(selector)
        clicks += 1

    # One click: the call is saved, and heads the card's timeline.
    click(f"#quick-outcomes [data-outcome='{wrong_number.pk}']")
    expect(page.locator("#quick-log-saved")).to_contain_text("Call saved: Wrong number.")
    expect(page.locator("#timeline .timeline-event").first).to_contain_text("Call: Wrong number")
    assert clicks == 1
    call = Activity.objects.get()
    assert (call.kind, call.status, call.outcome, call.company, call.owner) == (
        "call",
        ActivityStatus.DONE,
        wrong_number,
        acme,
        manager,
    )

    # Two clicks: the outcome opens the chooser, a preset saves the call and plans the callback.
    clicks = 0
    click(f"#quick-outcomes [data-outcome='{call_back.pk}']")
    expect(page.locator("#follow-up-chooser")).to_be_visible()
    assert Activity.objects.count() == 1  # nothing saved until the time is chosen
    click("#follow-up-chooser [data-preset='tomorrow']")
    expect(page.locator("#quick-log-follow-up")).to_contain_text("Callback planned for")
    assert clicks == 2
    done = Activity.objects.filter(status=ActivityStatus.DONE).order_by("pk")
    assert [activity.outcome for activity in done] == [wrong_number, call_back]
    callback = Activity.objects.get(status=ActivityStatus.PLANNED)
    assert (callback.kind, callback.follow_up_of, callback.company) == ("call", done[1], acme)
    moscow = zoneinfo.ZoneInfo("Europe/Moscow")
    due = callback.due_at.astimezone(moscow)  # type: ignore[union-attr]
    assert (due.date(), due.hour, due.minute) == (timezone.now().astimezone(moscow).date() + timedelta(days=1), 10, 0)
    expect(page.locator("#timeline")).to_contain_text("Call planned: Call back")

    # A time already past is refused next to the field, and nothing is saved.
    click(f"#quick-outcomes [data-outcome='{call_back.pk}']")
    page.fill("#id_follow_up_at", "2020-01-01T10:00")
    click("#follow-up-save")
    expect(page.locator("#id_follow_up_at-error")).to_contain_text("Choose a time to call back that is still ahead.")
    assert Activity.objects.count() == 3

    # The entries stay after a reload, each linking to the call's page.
    page.reload()
    page.locator("#timeline a", has_text="Call: Wrong number").click()
    expect(page.locator("h1")).to_have_text("Wrong number")
    expect(page.locator("#activity-outcome")).to_have_text("Wrong number")
    assert errors == []
