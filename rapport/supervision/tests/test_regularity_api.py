"""Purchase regularity over the API: the overdue clients each persona sees, a client's rhythm read and set, and what
bad input answers (nothing saved)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.api.tests.helpers import API, caller, send
from rapport.clients import services as client_services
from rapport.clients.models import Company
from rapport.sales.models import Order
from rapport.supervision import regularity
from rapport.supervision.models import Regularity

ALERTS = f"{API}/regularity/alerts"

# Whose overdue clients each persona reads.
READS = {
    "manager": {"mine"},
    "teammate": {"team"},
    "head": {"mine", "team"},
    "outsider": {"far"},
    "agent": set(),
    "operator": {"mine", "team", "far"},
    "admin": {"mine", "team", "far"},
}


def overdue(client: Company) -> None:
    last = timezone.localdate() - timedelta(days=40)
    for number in range(4):
        Order.objects.create(company=client, on=last - timedelta(days=10 * number), amount=Decimal(1), volume=1)


@pytest.fixture
def world(personas: dict[str, User]) -> dict[str, Company]:
    made = {
        key: client_services.company_create(by=personas[owner], name=f"{key.title()} Ltd")
        for key, owner in [("mine", "manager"), ("team", "teammate"), ("far", "outsider")]
    }
    for company in made.values():
        overdue(company)
    regularity.regularity_refresh()
    return made


def rhythm_url(company: Company) -> str:
    return f"{API}/clients/company/{company.pk}/regularity"


@pytest.mark.parametrize("persona", sorted(READS))
def test_each_persona_reads_the_overdue_clients_of_their_scope(
    personas: dict[str, User], world: dict[str, Company], persona: str
) -> None:
    response = caller(personas[persona]).get(ALERTS)

    assert response.status_code == 200
    assert {item["client"]["id"] for item in response.json()["items"]} == {world[key].pk for key in READS[persona]}


def test_an_alert_reads_as_a_program_expects(manager: User, world: dict[str, Company]) -> None:
    item = caller(manager).get(ALERTS).json()["items"][0]
    today = timezone.localdate()

    assert item["client"] == {"kind": "company", "id": world["mine"].pk, "name": "Mine Ltd", "owner": manager.pk}
    assert item["interval_days"] == 10
    assert item["last_order_on"] == str(today - timedelta(days=40))
    assert item["overdue_since"] == str(today - timedelta(days=40) + timedelta(days=13))
    assert item["days_since_last_order"] == 40
    assert item["notified_on"] == str(today)


def test_an_order_since_the_check_ends_the_alert_and_pages_have_more(
    admin_user: User, world: dict[str, Company]
) -> None:
    Order.objects.create(company=world["mine"], on=timezone.localdate(), amount=Decimal(1))
    client = caller(admin_user)

    page = client.get(ALERTS, {"limit": 1}).json()

    assert len(page["items"]) == 1
    assert page["has_more"] is True
    assert world["mine"].pk not in {item["client"]["id"] for item in client.get(ALERTS).json()["items"]}


def test_a_clients_rhythm_is_read_with_its_months(manager: User, world: dict[str, Company]) -> None:
    body = caller(manager).get(rhythm_url(world["mine"])).json()

    assert body["learned_days"] == 10
    assert body["set_days"] is None
    assert body["interval_days"] == 10
    assert body["overdue_since"] is not None
    assert len(body["months"]) == 12
    assert body["months"][-1]["month"] == f"{timezone.localdate():%Y-%m}"


def test_the_owner_sets_the_rhythm(manager: User, world: dict[str, Company]) -> None:
    response = send(
        caller(manager), "put", rhythm_url(world["mine"]), {"set_days": 60, "monthly_volume_target": "12.5"}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["set_days"], body["interval_days"], body["monthly_volume_target"], body["overdue_since"]) == (
        60,
        60,
        "12.5",
        None,
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"set_days": 0, "monthly_volume_target": None}, "set_days"),
        ({"set_days": None, "monthly_volume_target": "-2"}, "monthly_volume_target"),
    ],
)
def test_a_bad_rhythm_answers_422_by_field(
    manager: User, world: dict[str, Company], payload: dict[str, object], field: str
) -> None:
    response = send(caller(manager), "put", rhythm_url(world["mine"]), payload)

    assert response.status_code == 422
    assert list(response.json()["detail"]) == [field]
    assert Regularity.objects.get(company=world["mine"]).set_days is None


def test_a_body_without_its_fields_answers_the_validators_list(manager: User, world: dict[str, Company]) -> None:
    response = send(caller(manager), "put", rhythm_url(world["mine"]), {"set_days": 5})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "monthly_volume_target"


@pytest.mark.parametrize(
    ("persona", "read", "write"),
    [
        ("teammate", 404, 404),
        ("outsider", 404, 404),
        ("agent", 404, 404),
        ("head", 200, 200),
        ("operator", 200, 200),
        ("admin", 200, 200),
    ],
)
def test_who_reads_and_sets_a_clients_rhythm(
    personas: dict[str, User], world: dict[str, Company], persona: str, read: int, write: int
) -> None:
    client = caller(personas[persona])
    assert client.get(rhythm_url(world["mine"])).status_code == read
    response = send(client, "put", rhythm_url(world["mine"]), {"set_days": 5, "monthly_volume_target": None})
    assert response.status_code == write


def test_an_analyst_reads_but_may_not_set(world: dict[str, Company]) -> None:
    client = caller(UserFactory.create(username="analyst", role=Role.ANALYST))
    assert client.get(rhythm_url(world["mine"])).status_code == 200
    response = send(client, "put", rhythm_url(world["mine"]), {"set_days": 5, "monthly_volume_target": None})
    assert response.status_code == 403
    assert "You may not change this client's rhythm" in response.json()["detail"]
    assert Regularity.objects.get(company=world["mine"]).set_days is None


def test_an_unknown_kind_answers_404(manager: User, world: dict[str, Company]) -> None:
    assert caller(manager).get(f"{API}/clients/deal/{world['mine'].pk}/regularity").status_code == 404


def test_the_alerts_cost_one_query_after_sign_in(
    admin_user: User, world: dict[str, Company], django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    client = caller(admin_user)
    client.get(ALERTS)
    # The key with its user, then the page of alerts with their clients.
    with django_assert_num_queries(2):
        assert len(client.get(ALERTS).json()["items"]) == 3
