"""The shared pool over the API as a program sees it: the list, claims (409 when someone was first, 422 over the
limit), and the limit itself."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.api.tests.helpers import API, caller, send
from rapport.clients import services
from rapport.clients.models import ClientStatus, ClientTransfer, Company, TransferKind
from rapport.supervision.models import PoolPolicy
from rapport.supervision.pool import pool_claim

POOL = f"{API}/pool"
CLAIM = f"{API}/pool/claim"
POLICY = f"{API}/pool/policy"
READERS = ["manager", "teammate", "head", "outsider", "operator", "admin", "analyst", "marketer"]
CLAIMERS = ["manager", "teammate", "head", "outsider"]


@pytest.fixture
def people(personas: dict[str, User]) -> dict[str, User]:
    return personas | {
        "analyst": UserFactory.create(username="analyst", role=Role.ANALYST),
        "marketer": UserFactory.create(username="marketer", role=Role.MARKETER),
    }


@pytest.fixture
def open_ltd(operator: User) -> Company:
    return services.company_create(by=operator, name="Open Ltd")


def unclaimed(company: Company) -> None:
    fresh = Company.objects.get(pk=company.pk)
    assert (fresh.owner_id, fresh.status) == (None, ClientStatus.POOL)


# ---- The list -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", READERS)
def test_everyone_but_outside_agents_reads_the_pool(people: dict[str, User], open_ltd: Company, persona: str) -> None:
    response = send(caller(people[persona]), "get", POOL)
    assert response.status_code == 200
    assert response.json()["items"][0]["id"] == open_ltd.pk


def test_outside_agents_are_told_they_do_not_see_the_pool(agent: User, open_ltd: Company) -> None:
    response = send(caller(agent), "get", POOL)
    assert (response.status_code, response.json()) == (403, {"detail": "Outside agents do not see the shared pool."})


def test_each_client_says_what_it_is_where_it_works_and_why_it_is_in_the_pool(
    manager: User, teammate: User, head: User
) -> None:
    acme = services.company_create(by=teammate, name="Acme")
    person = services.contact_create(by=teammate, last_name="Lee", first_name="Ann", company=acme)
    move = services.client_transfer(by=head, client=person, to_user=None, reason="Left the company")
    ClientTransfer.objects.filter(pk=move.pk).update(
        at=timezone.now() - timedelta(days=2), kind=TransferKind.RULE, rule="Stale"
    )

    items = send(caller(manager), "get", POOL).json()["items"]

    assert len(items) == 1
    item = items[0]
    assert item.pop("entered_at")
    assert item == {
        "kind": "contact",
        "id": person.pk,
        "name": "Lee Ann",
        "company": "Acme",
        "last_contact_at": None,
        "days_in_pool": 2,
        "reason": "Left the company",
        "rule": "Stale",
    }


def test_the_list_pages_filters_and_searches(manager: User, operator: User) -> None:
    for number in range(3):
        services.company_create(by=operator, name=f"Company {number}")
    services.contact_create(by=operator, last_name="Zed")
    client = caller(manager)

    first = send(client, "get", f"{POOL}?limit=2").json()
    second = send(client, "get", f"{POOL}?limit=2&offset=2").json()
    assert (len(first["items"]), first["has_more"], len(second["items"]), second["has_more"]) == (2, True, 2, False)
    assert {item["kind"] for item in send(client, "get", f"{POOL}?kind=contact").json()["items"]} == {"contact"}
    assert [item["name"] for item in send(client, "get", f"{POOL}?q=zed").json()["items"]] == ["Zed"]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "kind=dragon", "limit=many"])
def test_bad_list_parameters_answer_422(manager: User, query: str) -> None:
    assert send(caller(manager), "get", f"{POOL}?{query}").status_code == 422


# ---- Claims ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", CLAIMERS)
def test_managers_and_heads_claim_and_get_the_transfer(
    people: dict[str, User], open_ltd: Company, persona: str
) -> None:
    user = people[persona]
    response = send(caller(user), "post", CLAIM, {"kind": "company", "id": open_ltd.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body.pop("at")
    assert body == {
        "id": ClientTransfer.objects.get().pk,
        "kind": "pool_claim",
        "company": open_ltd.pk,
        "contact": None,
        "from_user": None,
        "to_user": user.pk,
        "by": user.pk,
        "reason": "Taken from the pool",
    }
    assert Company.objects.get(pk=open_ltd.pk).owner == user


@pytest.mark.parametrize("persona", ["operator", "admin", "analyst", "marketer", "agent"])
def test_the_other_roles_are_told_who_claims(people: dict[str, User], open_ltd: Company, persona: str) -> None:
    response = send(caller(people[persona]), "post", CLAIM, {"kind": "company", "id": open_ltd.pk})
    assert (response.status_code, response.json()) == (
        403,
        {"detail": "Only managers and heads of sales take clients from the pool."},
    )
    unclaimed(open_ltd)


def test_a_client_someone_claimed_first_answers_409_saying_who_has_it(
    manager: User, teammate: User, outsider: User, head: User, open_ltd: Company
) -> None:
    assert send(caller(teammate), "post", CLAIM, {"kind": "company", "id": open_ltd.pk}).status_code == 200
    seen = send(caller(head), "post", CLAIM, {"kind": "company", "id": open_ltd.pk})
    assert seen.status_code == 409
    assert seen.json()["detail"].startswith("Open Ltd is no longer in the pool: Tina Teammate has had it since ")
    # Out of the outsider's sight now, yet a claim of it is answered, not "not found".
    unseen = send(caller(outsider), "post", CLAIM, {"kind": "company", "id": open_ltd.pk})
    assert unseen.status_code == 409
    assert unseen.json()["detail"].startswith("Open Ltd is no longer in the pool: a colleague has had it since ")
    assert ClientTransfer.objects.count() == 1


def test_a_claim_over_the_limit_answers_422_with_the_reason(manager: User, operator: User, open_ltd: Company) -> None:
    PoolPolicy.objects.update_or_create(pk=1, defaults={"claims_per_week": 1})
    pool_claim(by=manager, client=services.company_create(by=operator, name="First"))
    response = send(caller(manager), "post", CLAIM, {"kind": "company", "id": open_ltd.pk})
    assert (response.status_code, response.json()) == (
        422,
        {
            "detail": [
                "You have taken 1 client from the pool this week; 1 a week is the most allowed. "
                "The limit renews on Monday."
            ]
        },
    )
    unclaimed(open_ltd)


def test_a_contact_is_claimed_the_same_way(manager: User, operator: User) -> None:
    person = services.contact_create(by=operator, last_name="Lee")
    response = send(caller(manager), "post", CLAIM, {"kind": "contact", "id": person.pk})
    assert (response.status_code, response.json()["contact"]) == (200, person.pk)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"kind": "company", "id": 999_999}, 404),
        ({"kind": "dragon", "id": 1}, 422),
        ({"kind": "company"}, 422),
        ({"kind": "company", "id": 0}, 422),
        ({"kind": "company", "id": 2**70}, 422),
        ({"kind": "company", "id": 1, "owner": 3}, 422),
    ],
)
def test_a_claim_of_nothing_claimable_is_refused(manager: User, body: dict[str, Any], status: int) -> None:
    assert send(caller(manager), "post", CLAIM, body).status_code == status
    assert not ClientTransfer.objects.exists()


def test_a_client_owned_out_of_sight_answers_404(manager: User, outsider: User) -> None:
    far = services.company_create(by=outsider, name="Far Ltd")
    assert send(caller(manager), "post", CLAIM, {"kind": "company", "id": far.pk}).status_code == 404


# ---- The limit ------------------------------------------------------------------------------------


def test_the_limit_is_read_with_the_callers_claims_this_week(manager: User, operator: User, admin_user: User) -> None:
    pool_claim(by=manager, client=services.company_create(by=operator, name="Taken"))
    body = send(caller(manager), "get", POLICY).json()
    assert (body["claims_per_week"], body["used_this_week"]) == (20, 1)
    assert send(caller(admin_user), "get", POLICY).json()["used_this_week"] is None


def test_agents_do_not_read_the_limit(agent: User) -> None:
    assert send(caller(agent), "get", POLICY).status_code == 403


def test_an_admin_sets_the_limit(admin_user: User) -> None:
    response = send(caller(admin_user), "put", POLICY, {"claims_per_week": 35})
    assert response.status_code == 200
    assert (response.json()["claims_per_week"], response.json()["updated_by"]) == (35, admin_user.pk)
    assert PoolPolicy.current().claims_per_week == 35


@pytest.mark.parametrize("persona", ["manager", "head", "operator", "analyst"])
def test_only_admins_set_the_limit(people: dict[str, User], persona: str) -> None:
    response = send(caller(people[persona]), "put", POLICY, {"claims_per_week": 99})
    assert (response.status_code, response.json()) == (403, {"detail": "Only admins set the pool's limit."})
    assert PoolPolicy.current().claims_per_week == 20


@pytest.mark.parametrize(
    ("sent", "detail"),
    [
        ({"claims_per_week": -1}, {"claims_per_week": ["Ensure this value is greater than or equal to 0."]}),
        ({"claims_per_week": 10_001}, {"claims_per_week": ["Ensure this value is less than or equal to 10000."]}),
    ],
)
def test_a_limit_out_of_bounds_answers_422_by_field(admin_user: User, sent: dict[str, int], detail: Any) -> None:
    response = send(caller(admin_user), "put", POLICY, sent)
    assert (response.status_code, response.json()) == (422, {"detail": detail})
    assert PoolPolicy.current().claims_per_week == 20


@pytest.mark.parametrize("sent", [{}, {"claims_per_week": "many"}, {"claims_per_week": 5, "extra": 1}])
def test_a_malformed_limit_answers_422(admin_user: User, sent: dict[str, Any]) -> None:
    assert send(caller(admin_user), "put", POLICY, sent).status_code == 422
    assert PoolPolicy.current().claims_per_week == 20
