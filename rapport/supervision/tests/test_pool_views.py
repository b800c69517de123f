"""The shared pool on screen: who opens it, a claim from a row (htmx and without JS), refusals beside the row, the
limit on the client's card too, and the admins' limit form."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from conftest import client_for
from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.clients import services
from rapport.clients.models import ClientStatus, ClientTransfer, Company, TransferKind
from rapport.supervision.models import PoolPolicy
from rapport.supervision.pool import pool_claim

PAGE = "/supervision/pool/"
CLAIM = "/supervision/pool/claim/"
POLICY = "/supervision/pool/policy/"
HTMX = {"HX-Request": "true"}
ROW = re.compile(r'<tr class="pool-row" id="pool-row-(\w+)-(\d+)">')


@pytest.fixture
def people(personas: dict[str, User]) -> dict[str, User]:
    return personas | {
        "analyst": UserFactory.create(username="analyst", role=Role.ANALYST),
        "marketer": UserFactory.create(username="marketer", role=Role.MARKETER),
    }


@pytest.fixture
def open_ltd(operator: User) -> Company:
    return services.company_create(by=operator, name="Open Ltd")


def listed(html: str) -> list[tuple[str, int]]:
    return [(kind, int(pk)) for kind, pk in ROW.findall(html)]


def row_of(html: str, company: Company) -> str:
    start = html.index(f'id="pool-row-company-{company.pk}"')
    return html[start : html.index("</tr>", start)]


def claim(client: Client, company: Company, **headers: str) -> Any:
    return client.post(CLAIM, {"claim": f"company-{company.pk}", "back": "q=open"}, headers=headers)


# ---- The page ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("manager", 200),
        ("head", 200),
        ("outsider", 200),
        ("operator", 200),
        ("admin", 200),
        ("analyst", 200),
        ("marketer", 200),
        ("agent", 403),
    ],
)
def test_everyone_but_outside_agents_opens_the_pool(
    people: dict[str, User], open_ltd: Company, persona: str, status: int
) -> None:
    response = client_for(people[persona]).get(PAGE)
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert listed(html) == [("company", open_ltd.pk)]
        assert (f'name="claim" value="company-{open_ltd.pk}"' in html) == (persona in {"manager", "head", "outsider"})
        assert ('id="pool-usage"' in html) == (persona in {"manager", "head", "outsider"})
        assert ('id="pool-policy-link"' in html) == (persona == "admin")


def test_the_navigation_offers_the_pool_to_who_sees_it_and_its_limit_to_admins(
    manager: User, agent: User, admin_user: User
) -> None:
    assert 'data-nav="pool"' in client_for(manager).get("/").content.decode()
    assert 'data-nav="pool-policy"' not in client_for(manager).get("/").content.decode()
    assert 'data-nav="pool"' not in client_for(agent).get("/").content.decode()
    assert 'data-nav="pool-policy"' in client_for(admin_user).get("/").content.decode()


def test_signed_out_visitors_are_sent_to_sign_in() -> None:
    assert Client().get(PAGE).status_code == 302
    assert Client().post(CLAIM, {"claim": "company-1"}).status_code == 302


def test_the_page_shows_the_viewers_claims_this_week(manager: User, operator: User) -> None:
    PoolPolicy.objects.update_or_create(pk=1, defaults={"claims_per_week": 5})
    pool_claim(by=manager, client=services.company_create(by=operator, name="Taken"))
    html = client_for(manager).get(PAGE).content.decode()
    assert "1 of 5 claims used this week" in html
    assert 'data-used="1" data-limit="5"' in html


def test_the_filters_narrow_the_list_and_a_page_of_it_swaps_alone(
    manager: User, operator: User, open_ltd: Company
) -> None:
    other = services.company_create(by=operator, name="Other Ltd")
    person = services.contact_create(by=operator, last_name="Openshaw")
    as_manager = client_for(manager)
    assert sorted(listed(as_manager.get(PAGE, {"q": "open"}).content.decode())) == [
        ("company", open_ltd.pk),
        ("contact", person.pk),
    ]
    assert listed(as_manager.get(PAGE, {"kind": "company", "q": "other"}).content.decode()) == [("company", other.pk)]
    partial = as_manager.get(PAGE, {"kind": "contact"}, headers={**HTMX, "HX-Target": "pool-table"}).content.decode()
    assert partial.strip().startswith('<div id="pool-table">')
    assert listed(partial) == [("contact", person.pk)]


def test_a_kind_that_does_not_exist_is_shown_next_to_its_field_and_the_whole_pool_listed(
    manager: User, open_ltd: Company
) -> None:
    html = client_for(manager).get(PAGE, {"kind": "dragon"}).content.decode()
    assert "Select a valid choice." in html
    assert listed(html) == [("company", open_ltd.pk)]


def test_each_row_says_since_when_and_why(manager: User, teammate: User, head: User, open_ltd: Company) -> None:
    moved = {}
    for name, reason, rule in [
        ("By Rule Ltd", "No logged contact for 45 days", "Stale"),
        ("Named Rule Ltd", "Rule “Stale”: no logged contact for 45 days", "Stale"),
        ("By Hand Ltd", "", ""),
    ]:
        company = services.company_create(by=teammate, name=name)
        move = services.client_transfer(by=head, client=company, to_user=None, reason=reason)
        ClientTransfer.objects.filter(pk=move.pk).update(rule=rule, at=move.at - timedelta(days=3))
        moved[name] = company
    html = client_for(manager).get(PAGE).content.decode()
    rows = {name: row_of(html, company) for name, company in moved.items()}
    assert "No logged contact for 45 days" in rows["By Rule Ltd"]
    assert 'class="badge bg-azure-lt pool-rule">Rule: Stale<' in rows["By Rule Ltd"]
    assert "pool-rule" not in rows["Named Rule Ltd"]
    assert "No reason given" in rows["By Hand Ltd"]
    assert '<div class="small text-secondary" data-days="3">3 days in the pool</div>' in rows["By Hand Ltd"]
    assert "Entered without an owner" in row_of(html, open_ltd)
    assert "0 days in the pool" in row_of(html, open_ltd)


@pytest.mark.parametrize("size", [1, 30])
def test_the_page_costs_the_same_queries_however_large_the_pool(
    manager: User, head: User, teammate: User, operator: User, django_assert_num_queries: Any, size: int
) -> None:
    for number in range(size):
        services.company_create(by=operator, name=f"Entered {number}")
        services.contact_create(by=operator, last_name=f"Person {number}")
        services.client_transfer(by=head, client=services.company_create(by=teammate, name=f"M {number}"), to_user=None)
    PoolPolicy.current()  # made once, by the first to read it
    as_manager = client_for(manager)
    # Session and user; the moves into the pool, the companies and contacts entered without an owner; the limit
    # and the viewer's claims this week; the unread bell.
    with django_assert_num_queries(8):
        response = as_manager.get(PAGE)
    assert len(listed(response.content.decode())) == min(3 * size, 25)


# ---- Claims ---------------------------------------------------------------------------------------


def test_a_claim_swaps_its_row_for_yours_now_and_a_link_to_the_card(manager: User, open_ltd: Company) -> None:
    response = claim(client_for(manager), open_ltd, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert listed(html) == [("company", open_ltd.pk)]
    assert "Yours now" in html
    assert f'href="{open_ltd.get_absolute_url()}" class="btn btn-sm ms-1 pool-open"' in html
    assert 'id="pool-usage" hx-swap-oob="true"' in html
    assert "1 of 20 claims used this week" in html
    open_ltd.refresh_from_db()
    assert (open_ltd.owner, open_ltd.status) == (manager, ClientStatus.ACTIVE)
    assert ClientTransfer.objects.get().kind == TransferKind.POOL_CLAIM


def test_a_client_someone_took_first_is_refused_beside_its_row(
    manager: User, outsider: User, head: User, open_ltd: Company
) -> None:
    pool_claim(by=manager, client=open_ltd)
    # The other team's manager no longer sees it, yet is told why rather than "not found".
    response = claim(client_for(outsider), open_ltd, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'class="text-danger small text-wrap pool-refusal" role="alert">Open Ltd is no longer in the pool: ' in html
    assert "a colleague has had it since" in html
    assert 'name="claim"' not in html
    # The manager's head still sees it, and who has it.
    assert "Mark Manager has had it since" in claim(client_for(head), open_ltd, **HTMX).content.decode()
    assert ClientTransfer.objects.count() == 1


def test_a_claim_over_the_limit_is_refused_beside_its_row(manager: User, operator: User, open_ltd: Company) -> None:
    PoolPolicy.objects.update_or_create(pk=1, defaults={"claims_per_week": 1})
    pool_claim(by=manager, client=services.company_create(by=operator, name="First"))
    response = claim(client_for(manager), open_ltd, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "You have taken 1 client from the pool this week; 1 a week is the most allowed." in html
    assert "You have taken as many clients as the week allows" in html  # the usage, out of band
    assert Company.objects.get(pk=open_ltd.pk).status == ClientStatus.POOL


def test_without_javascript_a_claim_returns_to_the_list_with_a_message(manager: User, open_ltd: Company) -> None:
    as_manager = client_for(manager)
    response = claim(as_manager, open_ltd)
    assert (response.status_code, response["Location"]) == (302, f"{PAGE}?q=open")
    assert "Open Ltd is yours now." in as_manager.get(response["Location"]).content.decode()
    response = claim(
        as_manager,
        open_ltd,
    )
    assert "Open Ltd is already yours, since" in as_manager.get(response["Location"]).content.decode()


@pytest.mark.parametrize("persona", ["operator", "admin", "analyst", "marketer", "agent"])
def test_those_who_do_not_claim_are_refused(people: dict[str, User], open_ltd: Company, persona: str) -> None:
    assert claim(client_for(people[persona]), open_ltd, **HTMX).status_code == 403
    assert Company.objects.get(pk=open_ltd.pk).status == ClientStatus.POOL


def test_a_client_never_in_the_pool_or_a_malformed_claim_answers_404(
    manager: User, outsider: User, open_ltd: Company
) -> None:
    far = services.company_create(by=outsider, name="Far Ltd")  # owned, out of the manager's sight
    as_manager = client_for(manager)
    assert claim(as_manager, far).status_code == 404
    for sent in [f"dragon-{open_ltd.pk}", "company-x", f"company-{10**30}", "company-0", "", f"{open_ltd.pk}"]:
        assert as_manager.post(CLAIM, {"claim": sent}).status_code == 404, sent
    assert as_manager.get(CLAIM).status_code == 405
    assert Company.objects.get(pk=far.pk).owner == outsider


def test_the_cards_take_button_counts_against_the_limit_too(manager: User, operator: User, open_ltd: Company) -> None:
    PoolPolicy.objects.update_or_create(pk=1, defaults={"claims_per_week": 1})
    as_manager = client_for(manager)
    first = services.company_create(by=operator, name="First")
    as_manager.post(f"/clients/company/{first.pk}/take/")
    assert ClientTransfer.objects.get().kind == TransferKind.POOL_CLAIM
    response = as_manager.post(f"/clients/company/{open_ltd.pk}/take/", follow=True)
    assert "1 a week is the most allowed" in response.content.decode()
    assert Company.objects.get(pk=open_ltd.pk).status == ClientStatus.POOL


# ---- The limit ------------------------------------------------------------------------------------


def test_an_admin_sets_the_limit(admin_user: User) -> None:
    as_admin = client_for(admin_user)
    assert 'value="20"' in as_admin.get(POLICY).content.decode()
    response = as_admin.post(POLICY, {"claims_per_week": "35"}, follow=True)
    assert response.redirect_chain == [("/supervision/pool/", 302)]
    assert "The pool&#x27;s limit is saved" in response.content.decode()
    policy = PoolPolicy.current()
    assert (policy.claims_per_week, policy.updated_by) == (35, admin_user)
    assert "Last changed by Ada Admin" in as_admin.get(POLICY).content.decode()


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ("-1", "Ensure this value is greater than or equal to 0."),
        ("10001", "Ensure this value is less than or equal to 10000."),
        ("many", "Enter a whole number."),
        ("", "This field is required."),
    ],
)
def test_a_bad_limit_is_refused_next_to_its_field(admin_user: User, sent: str, message: str) -> None:
    response = client_for(admin_user).post(POLICY, {"claims_per_week": sent})
    assert response.status_code == 422
    assert f'<div class="invalid-feedback d-block" id="id_claims_per_week-error">{message}</div>' in (
        response.content.decode()
    )
    assert PoolPolicy.current().claims_per_week == 20


@pytest.mark.parametrize("persona", ["manager", "head", "operator", "analyst", "agent"])
def test_only_admins_open_the_limit(people: dict[str, User], persona: str) -> None:
    as_person = client_for(people[persona])
    assert as_person.get(POLICY).status_code == 403
    assert as_person.post(POLICY, {"claims_per_week": "99"}).status_code == 403
    assert PoolPolicy.current().claims_per_week == 20
