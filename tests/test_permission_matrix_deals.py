"""The permission matrix for sales: every role × every deal route, list, board, export and admin screen.

One world of four deals (one per kind of ownership; deals have no pool) and the nine
personas of the client matrix. Each deal-bound route is called by each persona on each
deal and must answer what the access policy says: 404 out of sight, 403 seen but not
theirs to change, success otherwise; every read shows exactly the visible deals; the
sales settings and catalogue changes are the admins'. `test_every_route_is_in_the_matrix`
in test_permission_matrix.py counts the routes listed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from conftest import client_for
from rapport.accounts.models import User
from rapport.clients import services as client_services
from rapport.sales import services
from rapport.sales.models import Deal, LostReason, Pipeline, PriceList, Warehouse
from rapport.sales.tests.factories import product_with_price, sales_pipeline, stage
from tests.test_permission_matrix import PERSONAS, csv_text, people, streamed, undone, xlsx_text

__all__ = ["people"]  # the client matrix's personas, used as a fixture here

DEALS = ["mine", "team", "far", "agents"]
TITLES = {key: f"Matrix deal {key}" for key in DEALS}
EVERY_DEAL = set(DEALS)
DEAL_VISIBLE: dict[str, set[str]] = {
    "manager": {"mine"},
    "teammate": {"team"},
    "head": {"mine", "team", "agents"},
    "outsider": {"far"},
    "agent": {"agents"},
    "operator": EVERY_DEAL,
    "admin": EVERY_DEAL,
    "analyst": EVERY_DEAL,
    "marketer": EVERY_DEAL,
}
# Owners, their head and admins change a deal; operators keep personal data, not deals.
DEAL_EDITABLE: dict[str, set[str]] = {
    **{persona: DEAL_VISIBLE[persona] for persona in ["manager", "teammate", "head", "outsider", "agent"]},
    "operator": set(),
    "admin": EVERY_DEAL,
    "analyst": set(),
    "marketer": set(),
}
HTMX = {"HX-Request": "true"}


@dataclass
class World:
    pipeline: Pipeline
    deals: dict[str, Deal]


@pytest.fixture
def world(people: dict[str, User]) -> World:
    pipeline = sales_pipeline()
    chair = product_with_price()
    owners = {"mine": "manager", "team": "teammate", "far": "outsider", "agents": "agent"}
    deals = {}
    for key, persona in owners.items():
        company = client_services.company_create(by=people[persona], name=f"Matrix client {key}")
        deal = services.deal_create(by=people[persona], title=TITLES[key], company=company, pipeline=pipeline)
        services.deal_line_add(by=people[persona], deal=deal, product=chair, quantity=Decimal(2))
        deals[key] = Deal.objects.get(pk=deal.pk)
    return World(pipeline=pipeline, deals=deals)


def shown(text: str) -> set[str]:
    return {key for key, title in TITLES.items() if title in text}


def expect_seen(persona: str, key: str, *, done: int = 200) -> int:
    return done if key in DEAL_VISIBLE[persona] else 404


def expect_edit(persona: str, key: str, *, done: int = 200) -> int:
    if key not in DEAL_VISIBLE[persona]:
        return 404
    return done if key in DEAL_EDITABLE[persona] else 403


def expect_registrant(persona: str, key: str, *, done: int = 302) -> int:
    # The right is checked first: for anyone but an admin a 403 that names no deal.
    if persona != "admin":
        return 403
    return done


@dataclass(frozen=True)
class DealRoute:
    name: str
    method: str
    path: str  # {id}, {line}, {checkpoint} are filled in
    expect: Callable[[str, str], int]
    data: Callable[[World, Deal], dict[str, Any]] = field(default=lambda world, deal: {})
    htmx: bool = False


def _presentation(world: World, deal: Deal) -> dict[str, Any]:
    return {"stage": stage(world.pipeline, "Presentation").pk, "version": deal.version}


DEAL_ROUTES = [
    DealRoute("sales:deal-detail", "get", "/sales/deals/{id}/", expect_seen),
    DealRoute("sales:deal-region", "get", "/sales/deals/{id}/regions/deal-summary/", expect_seen, htmx=True),
    DealRoute("sales:deal-edit", "get", "/sales/deals/{id}/edit/", expect_edit, htmx=True),
    DealRoute(
        "sales:deal-stage", "post", "/sales/deals/{id}/stage/", lambda p, k: expect_edit(p, k, done=302), _presentation
    ),
    DealRoute("sales:deal-move", "post", "/sales/deals/{id}/move/", expect_edit, _presentation, htmx=True),
    DealRoute(
        "sales:deal-registrant",
        "post",
        "/sales/deals/{id}/registrant/",
        expect_registrant,
        lambda world, deal: {"registrant": deal.owner_id},
    ),
    DealRoute("sales:deal-delete", "post", "/sales/deals/{id}/delete/", lambda p, k: expect_edit(p, k, done=302)),
    DealRoute("sales:deal-checkpoint", "post", "/sales/deals/{id}/checkpoints/{checkpoint}/", expect_edit, htmx=True),
    DealRoute(
        "sales:deal-line-add",
        "post",
        "/sales/deals/{id}/lines/",
        expect_edit,
        lambda world, deal: {"product": deal.lines.first().product_id, "quantity": "1", "discount": "0"},  # type: ignore[union-attr]
        htmx=True,
    ),
    DealRoute("sales:deal-line-edit", "get", "/sales/deals/lines/{line}/", expect_edit, htmx=True),
    DealRoute("sales:deal-line-remove", "post", "/sales/deals/lines/{line}/remove/", expect_edit, htmx=True),
    DealRoute("api:deal_detail", "get", "/api/v1/deals/{id}", expect_seen),
    DealRoute(
        "api:deal_update", "patch", "/api/v1/deals/{id}", expect_edit, lambda w, d: {"title": "x", "version": d.version}
    ),
    DealRoute("api:deal_delete", "delete", "/api/v1/deals/{id}", lambda p, k: expect_edit(p, k, done=204)),
    DealRoute("api:deal_move", "post", "/api/v1/deals/{id}/move", expect_edit, _presentation),
    DealRoute(
        "api:deal_registrant_set",
        "put",
        "/api/v1/deals/{id}/registrant",
        lambda p, k: 404 if k not in DEAL_VISIBLE[p] else expect_registrant(p, k, done=200),
        lambda world, deal: {"registrant": deal.owner_id},
    ),
    DealRoute(
        "api:deal_checkpoint_set",
        "post",
        "/api/v1/deals/{id}/checkpoints/{checkpoint}",
        expect_edit,
        lambda w, d: {"done": True},
    ),
    DealRoute(
        "api:deal_line_add",
        "post",
        "/api/v1/deals/{id}/lines",
        lambda p, k: expect_edit(p, k, done=201),
        lambda world, deal: {"product": deal.lines.first().product_id, "quantity": "1"},  # type: ignore[union-attr]
    ),
    DealRoute(
        "api:deal_line_update", "patch", "/api/v1/deals/{id}/lines/{line}", expect_edit, lambda w, d: {"quantity": "3"}
    ),
    DealRoute(
        "api:deal_line_remove", "delete", "/api/v1/deals/{id}/lines/{line}", lambda p, k: expect_edit(p, k, done=204)
    ),
]


def call(client: Client, route: DealRoute, world: World, deal: Deal) -> int:
    line, checkpoint = deal.lines.first(), deal.checkpoints.first()
    path = route.path.format(id=deal.pk, line=line.pk if line else 0, checkpoint=checkpoint.pk if checkpoint else 0)
    data = route.data(world, deal)
    if route.name.startswith("api:"):
        return getattr(client, route.method)(path, data, content_type="application/json").status_code  # type: ignore[no-any-return]
    return getattr(client, route.method)(path, data, headers=HTMX if route.htmx else {}).status_code  # type: ignore[no-any-return]


@pytest.mark.parametrize("route", DEAL_ROUTES, ids=lambda route: route.name)
def test_deal_route(route: DealRoute, people: dict[str, User], world: World) -> None:
    answers, expected = {}, {}
    for persona in PERSONAS:
        client = client_for(people[persona])
        for key in DEALS:
            answers[persona, key] = undone(lambda: call(client, route, world, world.deals[key]))  # noqa: B023
            expected[persona, key] = route.expect(persona, key)
    assert {cell: answer for cell, answer in answers.items() if answer != expected[cell]} == {}


# ---- Reads: exactly the visible deals ----------------------------------------------------------

DEAL_READERS: dict[str, tuple[str, Callable[[bytes], str]]] = {
    "sales:deal-list": ("/sales/deals/", bytes.decode),
    "sales:deal-export csv": ("/sales/deals/export.csv", csv_text),
    "sales:deal-export xlsx": ("/sales/deals/export.xlsx", xlsx_text),
    "sales:board": ("/sales/boards/{pipeline}/", bytes.decode),
    "api:deal_list": ("/api/v1/deals", bytes.decode),
}


@pytest.mark.parametrize("reader", DEAL_READERS, ids=str)
def test_reads_show_exactly_the_visible_deals(reader: str, people: dict[str, User], world: World) -> None:
    path, as_text = DEAL_READERS[reader]
    seen = {}
    for persona in PERSONAS:
        response = client_for(people[persona]).get(path.format(pipeline=world.pipeline.pk), follow=True)
        assert response.status_code == 200, persona
        seen[persona] = shown(as_text(streamed(response)))
    assert seen == DEAL_VISIBLE


def test_the_client_card_lists_only_the_visible_deals(people: dict[str, User], world: World) -> None:
    company = world.deals["mine"].company
    assert company is not None
    services.deal_create(by=people["admin"], title=TITLES["far"] + " too", company=company, owner=people["outsider"])
    for persona in ["manager", "head", "admin"]:
        page = client_for(people[persona]).get(company.get_absolute_url()).content.decode()
        assert (TITLES["far"] in page) == (persona == "admin"), persona


# ---- Screens for everyone, screens for admins ------------------------------------------------

EVERYONE_READS = ["sales:board-default", "sales:product-list", "sales:product-detail", "sales:product-autocomplete"]
ADMIN_SCREENS = [
    "sales:product-create",
    "sales:product-edit",
    "sales:product-prices",
    "sales:product-import",
    "sales:stock-import",
    "sales:pipeline-list",
    "sales:pipeline-detail",
    "sales:stage-create",
    "sales:stage-edit",
    "sales:checkpoint-type-create",
    "sales:checkpoint-type-edit",
    "sales:lost-reason-list",
    "sales:catalogue-settings",
    "sales:price-list-create",
    "sales:warehouse-create",
]
ADMIN_POSTS = [
    "sales:pipeline-rename",
    "sales:pipeline-move",
    "sales:pipeline-active",
    "sales:stage-move",
    "sales:stage-delete",
    "sales:checkpoint-type-move",
    "sales:checkpoint-type-delete",
    "sales:lost-reason-edit",
    "sales:price-list-edit",
    "sales:warehouse-edit",
]


def _url(name: str, world: World) -> str:
    """The route's URL with whichever one id it takes."""
    pipeline = world.pipeline
    chair = world.deals["mine"].lines.first().product  # type: ignore[union-attr]
    arguments = {
        "pipeline_id": pipeline.pk,
        "stage_id": stage(pipeline, "Presentation").pk,
        "checkpoint_type_id": pipeline.checkpoint_types.first().pk,  # type: ignore[union-attr]
        "product_id": chair.pk,
        "reason_id": LostReason.objects.get_or_create(name="Matrix")[0].pk,
        "price_list_id": PriceList.objects.first().pk,  # type: ignore[union-attr]
        "warehouse_id": Warehouse.objects.first().pk,  # type: ignore[union-attr]
    }
    for keys in (
        [],
        ["pipeline_id"],
        ["stage_id"],
        ["checkpoint_type_id"],
        ["product_id"],
        ["reason_id"],
        ["price_list_id"],
        ["warehouse_id"],
    ):
        try:
            return reverse(name, kwargs={key: arguments[key] for key in keys})
        except NoReverseMatch:
            continue
    raise AssertionError(f"cannot reverse {name}")


@pytest.mark.parametrize("name", EVERYONE_READS)
def test_everyone_reads_the_catalogue_and_the_board(name: str, people: dict[str, User], world: World) -> None:
    for persona in PERSONAS:
        response = client_for(people[persona]).get(_url(name, world), follow=True)
        assert response.status_code == 200, persona


@pytest.mark.parametrize("name", ADMIN_SCREENS)
def test_sales_settings_and_catalogue_changes_are_the_admins(name: str, people: dict[str, User], world: World) -> None:
    for persona in PERSONAS:
        response = client_for(people[persona]).get(_url(name, world))
        assert response.status_code == (200 if persona == "admin" else 403), persona


@pytest.mark.parametrize("name", ADMIN_POSTS)
def test_sales_settings_posts_are_refused_to_everyone_but_admins(
    name: str, people: dict[str, User], world: World
) -> None:
    for persona in PERSONAS:
        if persona == "admin":
            continue
        status = undone(lambda: client_for(people[persona]).post(_url(name, world), {}).status_code)  # noqa: B023
        assert status == 403, persona


DEAL_COVERED_ELSEWHERE = {
    "sales:board-closed": "rapport/sales/tests/test_board.py (the won and lost columns, scoped per persona)",
    "sales:deal-create": "rapport/sales/tests/test_deal_card.py (roles that may register deals)",
    "sales:deal-view-save": "rapport/sales/tests/test_deal_list.py",
    "sales:deal-view-menu": "rapport/sales/tests/test_deal_list.py",
    "sales:deal-view-delete": "rapport/sales/tests/test_deal_list.py",
    "api:pipeline_list": "rapport/sales/tests/test_api.py (configuration, the same for everyone)",
    "api:lost_reason_list": "rapport/sales/tests/test_api.py",
    "api:deal_create": "rapport/sales/tests/test_api.py",
    "api:product_list": "rapport/sales/tests/test_api.py",
    "api:product_detail": "rapport/sales/tests/test_api.py",
    "api:product_create": "rapport/sales/tests/test_api.py (admins only)",
    "api:product_update": "rapport/sales/tests/test_api.py (admins only)",
    "api:product_prices_set": "rapport/sales/tests/test_api.py (admins only)",
    "api:product_stock_set": "rapport/sales/tests/test_api.py (admins only)",
}


def covered_route_names() -> set[str]:
    return (
        {route.name for route in DEAL_ROUTES}
        | {reader.split()[0] for reader in DEAL_READERS}
        | set(EVERYONE_READS)
        | set(ADMIN_SCREENS)
        | set(ADMIN_POSTS)
        | set(DEAL_COVERED_ELSEWHERE)
    )
