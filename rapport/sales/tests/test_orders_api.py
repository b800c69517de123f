"""Orders over the API as a program sees it: who reads and records which, a won deal's order, and what bad input
answers (nothing saved)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.api.tests.helpers import API, caller, send
from rapport.clients import services as client_services
from rapport.clients.models import Company
from rapport.sales import orders, services
from rapport.sales.models import Order, Pipeline, Stage, StageKind

ORDERS = f"{API}/orders"
NEW: dict[str, Any] = {"on": "2026-03-10", "amount": "120.50", "volume": "3"}

READS = {
    "manager": {"mine"},
    "teammate": {"team"},
    "head": {"mine", "team"},
    "outsider": {"far"},
    "agent": set(),
    "operator": {"mine", "team", "far"},
    "admin": {"mine", "team", "far"},
}


@pytest.fixture
def world(personas: dict[str, User]) -> dict[str, Company]:
    return {
        key: client_services.company_create(by=personas[owner], name=f"{key.title()} Ltd")
        for key, owner in [("mine", "manager"), ("team", "teammate"), ("far", "outsider")]
    }


@pytest.fixture
def recorded(personas: dict[str, User], world: dict[str, Company]) -> dict[str, Order]:
    admin = personas["admin"]
    return {
        key: orders.order_create(by=admin, client=company, on=date(2026, 3, 10), amount=Decimal(10))
        for key, company in world.items()
    }


@pytest.mark.parametrize("persona", sorted(READS))
def test_each_persona_lists_the_orders_of_the_clients_they_see(
    personas: dict[str, User], recorded: dict[str, Order], persona: str
) -> None:
    response = caller(personas[persona]).get(ORDERS)

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["items"]} == {recorded[key].pk for key in READS[persona]}


def test_the_list_filters_and_pages(admin_user: User, world: dict[str, Company], recorded: dict[str, Order]) -> None:
    later = orders.order_create(by=admin_user, client=world["mine"], on=date(2026, 4, 1), amount=Decimal(1))
    client = caller(admin_user)

    def ids(**query: Any) -> list[int]:
        return [row["id"] for row in client.get(ORDERS, query).json()["items"]]

    assert ids(company=world["mine"].pk) == [later.pk, recorded["mine"].pk]
    assert ids(**{"from": "2026-03-15"}) == [later.pk]
    assert ids(to="2026-03-15", company=world["far"].pk) == [recorded["far"].pk]
    first = client.get(ORDERS, {"limit": 2}).json()
    assert len(first["items"]) == 2
    assert first["has_more"] is True


def test_an_order_is_recorded_and_reads_as_a_program_expects(manager: User, world: dict[str, Company]) -> None:
    response = send(caller(manager), "post", ORDERS, {**NEW, "company": world["mine"].pk, "external_id": "INV-9"})

    assert response.status_code == 201
    body = response.json()
    assert {key: body[key] for key in ["company", "contact", "on", "amount", "currency", "volume", "deal"]} == {
        "company": world["mine"].pk,
        "contact": None,
        "on": "2026-03-10",
        "amount": "120.50",
        "currency": "USD",
        "volume": "3.000",
        "deal": None,
    }
    assert body["external_id"] == "INV-9"
    assert body["created_by"] == manager.pk


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"amount": "-10"}, "amount", "The amount cannot be negative."),
        ({"volume": "-1"}, "volume", "The volume cannot be negative."),
        ({"on": "1999-01-01"}, "on", "Give a date from 2000 on."),
        ({"currency": "ZZZ"}, "currency", "Choose one of: USD, EUR, RUB, VND, BGN."),
    ],
)
def test_bad_input_answers_422_naming_the_field(
    manager: User, world: dict[str, Company], change: dict[str, str], field: str, message: str
) -> None:
    response = send(caller(manager), "post", ORDERS, {**NEW, "company": world["mine"].pk, **change})

    assert response.status_code == 422
    assert response.json()["detail"] == {field: [message]}
    assert not Order.objects.exists()


def test_a_client_must_be_one_and_in_sight(manager: User, world: dict[str, Company]) -> None:
    client = caller(manager)
    neither = send(client, "post", ORDERS, NEW)
    assert neither.status_code == 422
    assert neither.json()["detail"] == {"company": ["Give the client: a company or a contact, not both."]}
    hidden = send(client, "post", ORDERS, {**NEW, "company": world["far"].pk})
    assert hidden.status_code == 422
    assert hidden.json()["detail"] == {"company": ["Choose a company you can see."]}
    assert not Order.objects.exists()


def test_a_reader_who_sees_the_client_is_refused_with_the_reason(world: dict[str, Company]) -> None:
    analyst = caller(UserFactory.create(username="analyst", role=Role.ANALYST))
    response = send(analyst, "post", ORDERS, {**NEW, "company": world["mine"].pk})

    assert response.status_code == 403
    assert "You may not record orders for this client" in response.json()["detail"]


@pytest.mark.parametrize(
    ("persona", "status"),
    [("head", 200), ("operator", 200), ("admin", 200), ("teammate", 404), ("outsider", 404), ("agent", 404)],
)
def test_who_corrects_and_deletes_an_order(
    personas: dict[str, User], recorded: dict[str, Order], persona: str, status: int
) -> None:
    client = caller(personas[persona])
    url = f"{ORDERS}/{recorded['mine'].pk}"

    updated = send(client, "put", url, {"on": "2026-03-11", "amount": "7"})
    assert updated.status_code == status
    if status == 200:
        assert updated.json()["amount"] == "7.00"
    deleted = client.delete(url)
    assert deleted.status_code == (204 if status == 200 else status)
    assert Order.objects.filter(pk=recorded["mine"].pk).exists() == (status != 200)


def test_a_correction_is_refused_whole(manager: User, recorded: dict[str, Order]) -> None:
    response = send(caller(manager), "put", f"{ORDERS}/{recorded['mine'].pk}", {"on": "2026-03-11", "amount": "-7"})

    assert response.status_code == 422
    assert Order.objects.get(pk=recorded["mine"].pk).on.isoformat() == "2026-03-10"


def test_a_won_deal_makes_its_order_once(manager: User, world: dict[str, Company]) -> None:
    pipeline = Pipeline.objects.create(name="Simple")
    opening = Stage.objects.create(pipeline=pipeline, name="Open", position=0, kind=StageKind.OPEN)
    won = Stage.objects.create(pipeline=pipeline, name="Won", position=1, kind=StageKind.WON)
    deal = services.deal_create(
        by=manager, title="Pallets", company=world["mine"], pipeline=pipeline, stage=opening, amount=Decimal(900)
    )
    client = caller(manager)
    url = f"{API}/deals/{deal.pk}/order"

    still_open = send(client, "post", url, {})
    assert still_open.status_code == 422
    assert still_open.json()["detail"] == {"deal": ["This deal is still open: only a won deal makes an order."]}

    services.deal_move_to_stage(by=manager, deal=deal, stage=won)
    made = send(client, "post", url, {"volume": "4"})
    assert made.status_code == 201
    assert (made.json()["deal"], made.json()["amount"], made.json()["volume"]) == (deal.pk, "900.00", "4.000")

    again = send(client, "post", url, {})
    assert again.status_code == 422
    assert Order.objects.count() == 1

    assert send(caller(UserFactory.create(role=Role.MANAGER, username="stranger")), "post", url, {}).status_code == 404
