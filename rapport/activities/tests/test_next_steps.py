"""Clients without a next step are flagged: on the card, in the client lists (a column and a filter), in exports."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from rapport.accounts.models import User
from rapport.activities import services
from rapport.activities.models import Activity, ActivityKind, ActivityStatus, Outcome
from rapport.activities.next_steps import next_step_of, next_steps_of
from rapport.clients import services as client_services
from rapport.clients.models import ClientStatus, Company, Contact

HTMX = {"HX-Request": "true"}


def plan(by: User, *, days: int, **links: Any) -> Activity:
    return services.activity_create(
        by=by,
        kind=ActivityKind.CALL,
        subject=f"Call in {days} days",
        due_at=timezone.now() + timedelta(days=days),
        **links,
    )


def names_flagged(page: str) -> list[str]:
    """The names of the list rows whose next-step cell says there is none."""
    rows = re.findall(r"<tr>(.*?)</tr>", page, flags=re.S)
    return [re.search(r'class="client-link">([^<]+)<', row).group(1) for row in rows if "no-next-step" in row]  # type: ignore[union-attr]


# ---- Which step is the next one ----------------------------------------------------------------


def test_the_soonest_planned_activity_is_the_next_step(manager: User, teammate: User, acme: Company) -> None:
    assert next_step_of(acme) is None
    later = plan(manager, days=5, company=acme)
    sooner = plan(manager, days=2, company=acme)
    done = services.activity_create(by=manager, kind=ActivityKind.NOTE, status=ActivityStatus.DONE, company=acme)
    assert done.pk
    assert next_step_of(acme) == sooner
    services.activity_cancel(by=manager, activity=sooner)
    assert next_step_of(acme) == later
    services.activity_delete(by=manager, activity=later)
    assert next_step_of(acme) is None


def test_a_companys_step_counts_for_its_people(manager: User, acme: Company, ivanov: Contact) -> None:
    loner = client_services.contact_create(by=manager, last_name="Loner", first_name="Lev")
    step = plan(manager, days=1, company=acme)
    assert next_step_of(ivanov) == step
    assert next_step_of(loner) is None
    own = plan(manager, days=0, contact=ivanov)
    rows: list[dict[str, Any]] = [{"id": ivanov.pk, "company_id": acme.pk}, {"id": loner.pk, "company_id": None}]
    steps = next_steps_of("contact", rows)
    assert set(steps) == {ivanov.pk}
    assert steps[ivanov.pk].pk == own.pk  # their own call is sooner than the company's


# ---- The card ----------------------------------------------------------------------------------


def test_the_card_flags_an_active_client_without_a_next_step(manager: User, as_manager: Client, acme: Company) -> None:
    page = as_manager.get(acme.get_absolute_url()).content.decode()
    assert 'id="no-next-step"' in page
    assert 'id="plan-next-step"' in page
    step = plan(manager, days=1, company=acme)
    page = as_manager.get(acme.get_absolute_url()).content.decode()
    assert 'id="no-next-step"' not in page
    assert f'href="{step.get_absolute_url()}"' in page
    assert "Call in 1 days" in page


def test_a_frozen_client_is_not_flagged(manager: User, as_manager: Client, acme: Company) -> None:
    client_services.client_update(by=manager, client=acme, version=acme.version, status=ClientStatus.FROZEN)
    page = as_manager.get(acme.get_absolute_url()).content.decode()
    assert 'id="no-next-step"' not in page


def test_a_callback_from_the_quick_log_becomes_the_next_step_at_once(as_manager: Client, acme: Company) -> None:
    later = Outcome.objects.get(kind="call", name="Call back later")
    response = as_manager.post(
        "/activities/quick-log/", {"company": acme.pk, "outcome": later.pk, "follow_up": "tomorrow"}, headers=HTMX
    )
    page = response.content.decode()
    callback = Activity.objects.get(status=ActivityStatus.PLANNED)
    # The card's box is redrawn out of band: the flag gives way to the callback.
    assert '<div id="next-step" hx-swap-oob="true">' in page
    assert f'href="{callback.get_absolute_url()}"' in page


def test_a_call_without_a_callback_leaves_the_box_alone(as_manager: Client, acme: Company) -> None:
    wrong = Outcome.objects.get(kind="call", name="Wrong number")
    page = as_manager.post("/activities/quick-log/", {"company": acme.pk, "outcome": wrong.pk}, headers=HTMX)
    assert 'id="next-step"' not in page.content.decode()


# ---- The lists ---------------------------------------------------------------------------------


def test_the_list_flags_clients_without_a_next_step(manager: User, as_manager: Client, acme: Company) -> None:
    waiting = client_services.company_create(by=manager, name="Waiting Ltd")
    frozen = client_services.company_create(by=manager, name="Frozen Ltd")
    client_services.client_update(by=manager, client=frozen, version=frozen.version, status=ClientStatus.FROZEN)
    plan(manager, days=3, company=acme)
    page = as_manager.get("/clients/companies/").content.decode()
    assert names_flagged(page) == [waiting.name]
    assert 'title="Call in 3 days"' in page


def test_a_contact_is_covered_by_the_company_in_the_list(
    manager: User, as_manager: Client, acme: Company, ivanov: Contact
) -> None:
    loner = client_services.contact_create(by=manager, last_name="Loner", first_name="Lev")
    plan(manager, days=1, company=acme)
    page = as_manager.get("/clients/contacts/").content.decode()
    assert names_flagged(page) == [loner.display_name]


def test_filter_by_next_step(manager: User, as_manager: Client, acme: Company, ivanov: Contact) -> None:
    waiting = client_services.company_create(by=manager, name="Waiting Ltd")
    loner = client_services.contact_create(by=manager, last_name="Loner", first_name="Lev")
    plan(manager, days=1, company=acme)

    def listed(path: str, value: str) -> list[str]:
        page = as_manager.get(path, {"next_step": value}).content.decode()
        return re.findall(r'class="client-link">([^<]+)<', page)

    assert listed("/clients/companies/", "none") == [waiting.name]
    assert listed("/clients/companies/", "planned") == [acme.name]
    assert listed("/clients/contacts/", "none") == [loner.display_name]
    assert listed("/clients/contacts/", "planned") == [ivanov.display_name]


def test_the_export_gives_the_next_steps_moment(manager: User, as_manager: Client, acme: Company) -> None:
    step = plan(manager, days=2, company=acme)
    response = as_manager.get("/clients/companies/export.csv", {"cols": "next_step"})
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Name,Next step"
    assert lines[1] == f"{acme.name},{timezone.localtime(step.due_at).strftime('%Y-%m-%d %H:%M')}"
