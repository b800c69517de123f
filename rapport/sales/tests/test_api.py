"""Sales over the API as a program sees it: who sees which deals, what a gate or a stale version answers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import User
from rapport.api.tests.helpers import API, bearer, caller, send
from rapport.clients import services as client_services
from rapport.clients.models import Company, Contact
from rapport.sales import services
from rapport.sales.models import Deal, DealLine, DealStageChange, Pipeline, Product, StockLevel, Warehouse
from rapport.sales.tests.factories import lost_reason, product_with_price, sales_pipeline, stage

# Who sees whose deal (as rapport/sales/tests/test_access.py).
VISIBLE = {
    "manager": {"manager"},
    "teammate": {"teammate"},
    "head": {"manager", "teammate", "agent"},
    "outsider": {"outsider"},
    "agent": {"agent"},
    "operator": {"manager", "teammate", "outsider", "agent"},
    "admin": {"manager", "teammate", "outsider", "agent"},
}
# Who may change the manager's deal: its owner, the owner's head, admins.
EDITORS = {"manager", "head", "admin"}


@pytest.fixture
def deals(personas: dict[str, User], pipeline: Pipeline) -> dict[str, Deal]:
    made = {}
    for persona in ["manager", "teammate", "outsider", "agent"]:
        user = personas[persona]
        company = client_services.company_create(by=user, name=f"{persona.title()} Client Ltd")
        made[persona] = services.deal_create(by=user, title=f"{persona.title()}'s deal", company=company)
    return made


def moved(deal: Deal, name: str, by: User, **extra: Any) -> Deal:
    return services.deal_move_to_stage(by=by, deal=deal, stage=stage(deal.pipeline, name), **extra)


# ---- Pipelines and reasons ------------------------------------------------------------------


def test_pipelines_list_stages_gates_and_checkpoint_types(manager: User, pipeline: Pipeline) -> None:
    response = bearer(manager).get(f"{API}/pipelines")
    assert response.status_code == 200
    [body] = response.json()
    assert (body["name"], body["is_active"]) == ("New sales", True)
    kinds = {kind["name"]: kind for kind in body["checkpoint_types"]}
    assert [(kind["name"], kind["due_days"]) for kind in body["checkpoint_types"]] == [
        ("Presentation", 7),
        ("Commercial proposal", 14),
        ("Contract", 30),
    ]
    stages = {row["name"]: row for row in body["stages"]}
    assert [row["name"] for row in body["stages"]] == [
        "Qualification",
        "Presentation",
        "Proposal",
        "Negotiation",
        "Won",
        "Lost",
    ]
    proposal = stages["Proposal"]
    assert (proposal["kind"], proposal["probability"], proposal["colour"], proposal["norm_days"]) == (
        "open",
        50,
        "blue",
        21,
    )
    assert proposal["gate"] == {
        "required_fields": ["amount"],
        "required_checkpoints": [kinds["Commercial proposal"]["id"]],
    }
    assert (stages["Won"]["kind"], stages["Won"]["norm_days"]) == ("won", None)


def test_pipelines_cost_a_fixed_number_of_queries(
    manager: User, pipeline: Pipeline, django_assert_max_num_queries: Any
) -> None:
    sales_pipeline("Distribution")
    client = client_for(manager)
    # The session and its user, the pipelines, their stages, the stages' checkpoints, the checkpoint types.
    with django_assert_max_num_queries(6):
        assert len(client.get(f"{API}/pipelines").json()) == 2


def test_lost_reasons_in_use(agent: User) -> None:
    lost_reason("Price too high")
    lost_reason("Went silent").__class__.objects.filter(name="Went silent").update(is_active=False)
    response = client_for(agent).get(f"{API}/lost-reasons")
    assert [row["name"] for row in response.json()] == ["Price too high"]


# ---- Who sees what --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_each_persona_lists_exactly_their_scope(
    personas: dict[str, User], deals: dict[str, Deal], persona: str
) -> None:
    response = caller(personas[persona]).get(f"{API}/deals")
    assert response.status_code == 200
    assert {row["title"] for row in response.json()["items"]} == {deals[key].title for key in VISIBLE[persona]}


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_a_deal_out_of_scope_answers_404_to_every_verb(
    personas: dict[str, User], deals: dict[str, Deal], persona: str
) -> None:
    client = caller(personas[persona])
    for key, deal in deals.items():
        if key in VISIBLE[persona]:
            continue
        checkpoint = deal.checkpoints.all()[0]
        url = f"{API}/deals/{deal.pk}"
        for method, path, data in [
            ("get", url, None),
            ("patch", url, {"version": 1, "notes": "x"}),
            ("delete", url, None),
            ("post", f"{url}/move", {"stage": stage(deal.pipeline, "Presentation").pk, "version": 1}),
            ("put", f"{url}/registrant", {"registrant": personas[persona].pk}),
            ("post", f"{url}/checkpoints/{checkpoint.pk}", {"done": True}),
            ("post", f"{url}/lines", {"sku": "none", "quantity": "1"}),
        ]:
            response = send(client, method, path, data)
            assert (response.status_code, response.json()) == (404, {"detail": "Not found."}), (key, method, path)
        deal.refresh_from_db()
        assert (deal.version, deal.notes, deal.deleted_at) == (1, "", None)


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_only_the_owner_the_head_and_admins_change_a_deal(
    personas: dict[str, User], deals: dict[str, Deal], persona: str
) -> None:
    deal = deals["manager"]
    response = send(caller(personas[persona]), "patch", f"{API}/deals/{deal.pk}", {"version": 1, "notes": "Big"})
    if persona in EDITORS:
        assert (response.status_code, response.json()["notes"]) == (200, "Big")
    elif persona in VISIBLE and "manager" in VISIBLE[persona]:
        assert response.status_code == 403
        assert response.json()["detail"].startswith("You may not change this deal:")
    else:
        assert response.status_code == 404


def test_read_only_roles_are_refused_every_write_with_a_reason(operator: User, deal: Deal) -> None:
    client = bearer(operator)
    url = f"{API}/deals/{deal.pk}"
    checkpoint = deal.checkpoints.all()[0]
    product_with_price()
    for method, path, data in [
        ("post", f"{API}/deals", {"title": "Mine", "company": deal.company_id}),
        ("patch", url, {"version": 1, "notes": "x"}),
        # Refused for who they are before anything is said about the input.
        ("patch", url, {"version": 1, "company": 999_999}),
        ("delete", url, None),
        ("post", f"{url}/move", {"stage": stage(deal.pipeline, "Presentation").pk, "version": 1}),
        ("post", f"{url}/move", {"stage": 999_999, "version": 1}),
        ("post", f"{url}/checkpoints/{checkpoint.pk}", {"done": True}),
        ("post", f"{url}/lines", {"sku": "CH-1", "quantity": "1"}),
    ]:
        response = send(client, method, path, data)
        assert response.status_code == 403, (method, path)
        assert response.json()["detail"] != "Permission denied."
    deal.refresh_from_db()
    assert (Deal.objects.count(), deal.version, deal.stage.name) == (1, 1, "Qualification")


def test_the_registrant_who_no_longer_owns_the_deal_only_reads_it(
    manager: User, teammate: User, head: User, deal: Deal
) -> None:
    services.deal_update(by=head, deal=deal, version=None, owner=teammate)
    client = bearer(manager)
    assert client.get(f"{API}/deals/{deal.pk}").json()["owner"] == teammate.pk
    assert send(client, "patch", f"{API}/deals/{deal.pk}", {"version": 2, "notes": "x"}).status_code == 403


# ---- The list -------------------------------------------------------------------------------


def test_the_list_filters(head: User, manager: User, teammate: User, deals: dict[str, Deal]) -> None:
    won = moved(deals["teammate"], "Presentation", teammate)
    client = bearer(head)

    def titles(**filters: Any) -> set[str]:
        response = client.get(f"{API}/deals", filters)
        assert response.status_code == 200, response.content
        return {row["title"] for row in response.json()["items"]}

    assert titles(owner=teammate.pk) == {"Teammate's deal"}
    assert titles(stage=won.stage_id) == {"Teammate's deal"}
    assert titles(company=deals["manager"].company_id) == {"Manager's deal"}
    assert titles(pipeline=deals["manager"].pipeline_id) == {"Manager's deal", "Teammate's deal", "Agent's deal"}
    assert titles(pipeline=sales_pipeline("Distribution").pk) == set()
    services.deal_update(
        by=head, deal=deals["manager"], version=None, contact=client_services.contact_create(by=manager, last_name="Li")
    )
    assert titles(contact=Deal.objects.get(pk=deals["manager"].pk).contact_id) == {"Manager's deal"}
    proposal = stage(won.pipeline, "Won")
    Deal.objects.filter(pk=deals["agent"].pk).update(stage=proposal, closed_at=timezone.now())
    assert titles(status="won") == {"Agent's deal"}
    assert titles(status="open") == {"Manager's deal", "Teammate's deal"}
    assert titles(status="lost") == set()
    later = timezone.now()
    assert titles(updated_since=later.isoformat()) == set()
    services.deal_update(by=head, deal=deals["teammate"], version=None, notes="Call on Monday")
    assert titles(updated_since=later.isoformat()) == {"Teammate's deal"}
    assert client.get(f"{API}/deals", {"status": "sleeping"}).status_code == 422


def test_the_list_pages_by_limit_and_offset(manager: User, acme: Company, pipeline: Pipeline) -> None:
    for number in range(5):
        services.deal_create(by=manager, title=f"Deal {number}", company=acme)
    client = bearer(manager)
    first = client.get(f"{API}/deals", {"limit": 2}).json()
    last = client.get(f"{API}/deals", {"limit": 2, "offset": 4}).json()
    assert ([row["title"] for row in first["items"]], first["has_more"]) == (["Deal 4", "Deal 3"], True)
    assert ([row["title"] for row in last["items"]], last["has_more"]) == (["Deal 0"], False)
    assert client.get(f"{API}/deals", {"limit": 101}).status_code == 422


def test_the_list_costs_a_fixed_number_of_queries(
    manager: User, acme: Company, pipeline: Pipeline, django_assert_max_num_queries: Any
) -> None:
    for number in range(30):
        services.deal_create(by=manager, title=f"Deal {number}", company=acme)
    client = bearer(manager)
    client.get(f"{API}/deals")  # the token's first use writes last_used_at
    # The token and the page (with the stages, for the status).
    with django_assert_max_num_queries(2):
        response = client.get(f"{API}/deals", {"limit": 100})
    assert len(response.json()["items"]) == 30


# ---- Reading and writing one deal -----------------------------------------------------------


def test_create_answers_201_with_the_caller_as_registrant(
    head: User, manager: User, acme: Company, ivanov: Contact, pipeline: Pipeline
) -> None:
    negotiation = stage(pipeline, "Presentation")
    response = send(
        bearer(head),
        "post",
        f"{API}/deals",
        {
            "title": " Chairs ",
            "contact": ivanov.pk,
            "amount": "1200.50",
            "currency": "usd",
            "stage": negotiation.pk,
            "owner": manager.pk,
            "expected_close": "2026-12-31",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["title"], body["company"], body["contact"], body["stage"], body["status"]) == (
        "Chairs",
        acme.pk,
        ivanov.pk,
        negotiation.pk,
        "open",
    )
    assert (body["owner"], body["registrant"], body["amount"], body["currency"], body["version"]) == (
        manager.pk,
        head.pk,
        "1200.50",
        "USD",
        1,
    )
    assert [row["name"] for row in body["checkpoints"]] == ["Presentation", "Commercial proposal", "Contract"]
    assert body["lines"] == []
    assert Deal.objects.get(pk=body["id"]).history.first().history_user == head


def test_create_refuses_what_the_caller_may_not_choose(
    manager: User, outsider: User, acme: Company, pipeline: Pipeline
) -> None:
    other = sales_pipeline("Distribution")
    far = client_services.company_create(by=outsider, name="Far Away Ltd")
    client = bearer(manager)
    for data, field, message in [
        ({"title": "X", "company": far.pk}, "company", "Choose a company you can see."),
        ({"title": "X"}, "company", "Choose the company or the person the deal is with."),
        ({"title": "X", "company": acme.pk, "owner": outsider.pk}, "owner", "managers of your own team"),
        (
            {"title": "X", "company": acme.pk, "pipeline": pipeline.pk, "stage": stage(other, "Proposal").pk},
            "stage",
            "“Proposal” is a stage of another pipeline.",
        ),
        ({"title": "X", "company": acme.pk, "stage": stage(pipeline, "Lost").pk}, "stage", "cannot start lost"),
        ({"title": "X", "company": acme.pk, "currency": "XYZ"}, "currency", "Choose one of:"),
        ({"title": "X", "company": acme.pk, "pipeline": 999_999}, "pipeline", "Select a valid choice."),
    ]:
        response = send(client, "post", f"{API}/deals", data)
        assert response.status_code == 422, (data, response.content)
        assert message in response.json()["detail"][field][0], data
    assert not Deal.objects.exists()


def test_create_through_a_gate_answers_what_is_missing(manager: User, acme: Company, pipeline: Pipeline) -> None:
    response = send(
        bearer(manager),
        "post",
        f"{API}/deals",
        {"title": "X", "company": acme.pk, "stage": stage(pipeline, "Proposal").pk},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0].startswith("To move to “Proposal” the deal needs: amount")
    assert not Deal.objects.exists()


def test_detail_has_checkpoints_and_lines(manager: User, deal: Deal, django_assert_max_num_queries: Any) -> None:
    product = product_with_price(price="100.00")
    services.deal_line_add(by=manager, deal=deal, product=product, quantity=Decimal(3), discount=Decimal(10))
    client = bearer(manager)
    client.get(f"{API}/deals/{deal.pk}")
    with django_assert_max_num_queries(4):
        body = client.get(f"{API}/deals/{deal.pk}").json()
    assert body["amount"] == "270.00"
    assert [(line["sku"], line["quantity"], line["price"], line["total"]) for line in body["lines"]] == [
        ("CH-1", "3.000", "100.00", "270.00")
    ]
    first = body["checkpoints"][0]
    assert (first["name"], first["state"], first["done_at"]) == (
        "Presentation",
        "due",
        None,
    )


def test_update_changes_only_the_fields_sent(manager: User, deal: Deal, ivanov: Contact) -> None:
    response = send(
        bearer(manager),
        "patch",
        f"{API}/deals/{deal.pk}",
        {"version": 1, "next_step": "Send the catalogue", "contact": ivanov.pk, "amount": "500"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["next_step"], body["contact"], body["amount"], body["title"], body["version"]) == (
        "Send the catalogue",
        ivanov.pk,
        "500.00",
        "Chairs for the office",
        2,
    )
    # null clears a field.
    cleared = send(bearer(manager), "patch", f"{API}/deals/{deal.pk}", {"version": 2, "amount": None}).json()
    assert (cleared["amount"], cleared["version"]) == (None, 3)


def test_a_stale_version_is_409_saying_who_changed_it_and_changes_nothing(
    manager: User, head: User, deal: Deal
) -> None:
    services.deal_update(by=head, deal=deal, version=1, notes="Head's note")
    client = bearer(manager)
    for method, path, data in [
        ("patch", f"{API}/deals/{deal.pk}", {"version": 1, "notes": "Mine"}),
        ("post", f"{API}/deals/{deal.pk}/move", {"version": 1, "stage": stage(deal.pipeline, "Presentation").pk}),
    ]:
        response = send(client, method, path, data)
        assert response.status_code == 409
        assert response.json()["detail"].startswith("Changed by Hanna Head at ")
    deal.refresh_from_db()
    assert (deal.notes, deal.version, deal.stage.name) == ("Head's note", 2, "Qualification")
    response = send(client, "patch", f"{API}/deals/{deal.pk}", {"version": 2, "notes": "Mine"})
    assert (response.status_code, response.json()["version"]) == (200, 3)


def test_delete_is_soft_and_hides_the_deal(manager: User, deal: Deal) -> None:
    client = bearer(manager)
    assert client.delete(f"{API}/deals/{deal.pk}").status_code == 204
    deal.refresh_from_db()
    assert deal.deleted_at is not None
    assert client.get(f"{API}/deals/{deal.pk}").status_code == 404
    assert client.get(f"{API}/deals").json()["items"] == []


# ---- Moves ----------------------------------------------------------------------------------


def test_a_gate_refusal_names_what_is_missing_and_nothing_changes(manager: User, deal: Deal) -> None:
    proposal = stage(deal.pipeline, "Proposal")
    response = send(bearer(manager), "post", f"{API}/deals/{deal.pk}/move", {"stage": proposal.pk, "version": 1})
    assert (response.status_code, response.json()) == (
        422,
        {"detail": ["To move to “Proposal” the deal needs: amount, the “Commercial proposal” checkpoint done."]},
    )
    deal.refresh_from_db()
    assert (deal.stage.name, deal.version, DealStageChange.objects.filter(deal=deal).count()) == ("Qualification", 1, 1)


def test_a_move_through_an_open_gate_is_recorded(manager: User, deal: Deal) -> None:
    client = bearer(manager)
    checkpoint = deal.checkpoints.get(type__name="Commercial proposal")
    done = send(client, "post", f"{API}/deals/{deal.pk}/checkpoints/{checkpoint.pk}", {"done": True})
    assert (done.status_code, done.json()["state"], done.json()["done_by"]) == (200, "done", manager.pk)
    version = send(client, "patch", f"{API}/deals/{deal.pk}", {"version": 2, "amount": "900"}).json()["version"]
    proposal = stage(deal.pipeline, "Proposal")
    response = send(client, "post", f"{API}/deals/{deal.pk}/move", {"stage": proposal.pk, "version": version})
    assert response.status_code == 200, response.content
    assert (response.json()["stage"], response.json()["version"]) == (proposal.pk, version + 1)
    change = DealStageChange.objects.filter(deal=deal)[0]
    assert (change.to_stage, change.by) == (proposal, manager)
    # A checkpoint the stage requires cannot be undone while the deal stands there.
    undo = send(client, "post", f"{API}/deals/{deal.pk}/checkpoints/{checkpoint.pk}", {"done": False})
    assert undo.status_code == 422
    assert "requires this checkpoint" in undo.json()["detail"][0]
    checkpoint.refresh_from_db()
    assert checkpoint.done_at is not None


def test_lost_needs_a_reason_and_closes_the_deal(manager: User, deal: Deal) -> None:
    client = bearer(manager)
    lost = stage(deal.pipeline, "Lost")
    url = f"{API}/deals/{deal.pk}/move"
    response = send(client, "post", url, {"stage": lost.pk, "version": 1})
    assert (response.status_code, response.json()) == (
        422,
        {"detail": {"lost_reason": ["Choose why the deal was lost."]}},
    )
    reason = lost_reason()
    response = send(
        client, "post", url, {"stage": lost.pk, "version": 1, "lost_reason": reason.pk, "lost_note": "Too dear"}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["lost_reason"], body["lost_note"]) == ("lost", reason.pk, "Too dear")
    assert body["closed_at"] is not None


def test_a_stage_of_another_pipeline_is_refused(manager: User, deal: Deal) -> None:
    other = stage(sales_pipeline("Distribution"), "Presentation")
    response = send(bearer(manager), "post", f"{API}/deals/{deal.pk}/move", {"stage": other.pk, "version": 1})
    assert (response.status_code, response.json()) == (
        422,
        {"detail": {"stage": ["“Presentation” is a stage of another pipeline."]}},
    )
    deal.refresh_from_db()
    assert deal.stage.name == "Qualification"


def test_a_checkpoint_of_another_deal_is_404(manager: User, deal: Deal, acme: Company) -> None:
    other = services.deal_create(by=manager, title="Other", company=acme)
    checkpoint = other.checkpoints.all()[0]
    response = send(bearer(manager), "post", f"{API}/deals/{deal.pk}/checkpoints/{checkpoint.pk}", {"done": True})
    assert response.status_code == 404


# ---- The registrant -------------------------------------------------------------------------


def test_only_admins_change_the_registrant(
    personas: dict[str, User], deal: Deal, teammate: User, admin_user: User
) -> None:
    url = f"{API}/deals/{deal.pk}/registrant"
    for persona in ["manager", "head", "operator"]:
        response = send(caller(personas[persona]), "put", url, {"registrant": teammate.pk})
        assert (response.status_code, response.json()) == (
            403,
            {"detail": "Only admins change who registered a deal."},
        ), persona
    response = send(bearer(admin_user), "put", url, {"registrant": teammate.pk})
    assert (response.status_code, response.json()["registrant"]) == (200, teammate.pk)
    refused = send(bearer(admin_user), "put", url, {"registrant": personas["operator"].pk})
    assert refused.status_code == 422
    assert "cannot be credited with deals" in refused.json()["detail"]["registrant"][0]
    deal.refresh_from_db()
    assert deal.registrant == teammate


# ---- Lines ----------------------------------------------------------------------------------


def test_lines_are_added_changed_and_removed(manager: User, deal: Deal) -> None:
    chair = product_with_price(sku="CH-1", price="100.00")
    desk = product_with_price(sku="DK-1", name="Desk", price="300.00")
    client = bearer(manager)
    url = f"{API}/deals/{deal.pk}/lines"
    by_sku = send(client, "post", url, {"sku": "CH-1", "quantity": "2"})
    assert by_sku.status_code == 201, by_sku.content
    assert (by_sku.json()["product"], by_sku.json()["price"], by_sku.json()["total"]) == (chair.pk, "100.00", "200.00")
    by_id = send(client, "post", url, {"product": desk.pk, "quantity": "1", "price": "250", "currency": "usd"})
    assert (by_id.status_code, by_id.json()["total"]) == (201, "250.00")
    deal.refresh_from_db()
    assert deal.amount == Decimal("450.00")
    line_id = by_sku.json()["id"]
    changed = send(client, "patch", f"{url}/{line_id}", {"quantity": "4", "discount": "50"})
    assert (changed.status_code, changed.json()["total"]) == (200, "200.00")
    assert client.delete(f"{url}/{by_id.json()['id']}").status_code == 204
    deal.refresh_from_db()
    assert (deal.amount, list(deal.lines.values_list("pk", flat=True))) == (Decimal("200.00"), [line_id])


def test_a_line_in_another_currency_or_without_a_sane_quantity_is_refused(manager: User, deal: Deal) -> None:
    product_with_price()
    client = bearer(manager)
    url = f"{API}/deals/{deal.pk}/lines"
    for data, field, message in [
        (
            {"sku": "CH-1", "quantity": "1", "price": "90", "currency": "EUR"},
            "price",
            "Prices of this deal are in USD, not EUR.",
        ),
        ({"sku": "CH-1", "quantity": "0"}, "quantity", "The quantity must be more than zero."),
        ({"sku": "CH-1", "quantity": "-1"}, "quantity", "The quantity must be more than zero."),
        ({"sku": "CH-1", "quantity": "1", "price": "-5"}, "price", "The price cannot be negative."),
        ({"sku": "CH-1", "quantity": "1", "discount": "120"}, "discount", "less than or equal to 100"),
        ({"sku": "NOPE", "quantity": "1"}, "sku", "No product has this SKU."),
        ({"quantity": "1"}, "product", "Give either the product's id or its SKU."),
        ({"product": 1, "sku": "CH-1", "quantity": "1"}, "product", "Give either the product's id or its SKU."),
    ]:
        response = send(client, "post", url, data)
        assert response.status_code == 422, (data, response.content)
        assert message in response.json()["detail"][field][0], data
    for data in [{"sku": "CH-1", "quantity": "NaN"}, {"sku": "CH-1", "quantity": "1e20"}]:
        assert send(client, "post", url, data).status_code == 422
    deal.refresh_from_db()
    assert (deal.lines.count(), deal.amount, deal.version) == (0, None, 1)


def test_a_line_of_another_deal_is_404(manager: User, deal: Deal, acme: Company) -> None:
    other = services.deal_create(by=manager, title="Other", company=acme)
    line = services.deal_line_add(by=manager, deal=other, product=product_with_price(), quantity=Decimal(1))
    client = bearer(manager)
    assert send(client, "patch", f"{API}/deals/{deal.pk}/lines/{line.pk}", {"quantity": "2"}).status_code == 404
    assert client.delete(f"{API}/deals/{deal.pk}/lines/{line.pk}").status_code == 404
    assert DealLine.objects.get(pk=line.pk).quantity == 1


# ---- Signing in and documentation ------------------------------------------------------------


def test_token_and_session_both_sign_in(manager: User, deal: Deal) -> None:
    for client in [bearer(manager), client_for(manager)]:
        assert [row["id"] for row in client.get(f"{API}/deals").json()["items"]] == [deal.pk]
    assert Client().get(f"{API}/deals").status_code == 401
    refused = Client(headers={"Authorization": "Bearer rpt_made-up"}).get(f"{API}/pipelines")
    assert refused.status_code == 401


def test_ids_beyond_any_row_are_404_or_422(manager: User, pipeline: Pipeline) -> None:
    client = bearer(manager)
    for number in [2**31, 2**63]:
        assert client.get(f"{API}/deals/{number}").status_code == 404
    assert client.get(f"{API}/deals", {"owner": 2**63}).status_code == 422


def test_the_url_names(deal: Deal) -> None:
    assert reverse("api:deal_detail", kwargs={"deal_id": deal.pk}) == f"{API}/deals/{deal.pk}"
    assert reverse("api:deal_move", kwargs={"deal_id": deal.pk}) == f"{API}/deals/{deal.pk}/move"


def test_the_openapi_document_lists_the_sales_endpoints(manager: User) -> None:
    schema = client_for(manager).get("/api/openapi.json").json()
    paths = schema["paths"]
    assert set(paths[f"{API}/deals"]) == {"get", "post"}
    assert set(paths[f"{API}/deals/{{deal_id}}"]) == {"get", "patch", "delete"}
    assert set(paths[f"{API}/deals/{{deal_id}}/move"]) == {"post"}
    assert set(paths[f"{API}/deals/{{deal_id}}/registrant"]) == {"put"}
    assert set(paths[f"{API}/deals/{{deal_id}}/checkpoints/{{checkpoint_id}}"]) == {"post"}
    assert set(paths[f"{API}/deals/{{deal_id}}/lines"]) == {"post"}
    assert set(paths[f"{API}/deals/{{deal_id}}/lines/{{line_id}}"]) == {"patch", "delete"}
    assert set(paths[f"{API}/pipelines"]) == {"get"}
    assert set(paths[f"{API}/lost-reasons"]) == {"get"}
    assert "409" in paths[f"{API}/deals/{{deal_id}}/move"]["post"]["responses"]
    assert schema["components"]["schemas"]["MoveIn"]["required"] == ["stage", "version"]


# ---- Products and stock ---------------------------------------------------------------------


@pytest.fixture
def catalogue(db: None) -> dict[str, Product]:
    chair = product_with_price(sku="CH-1", name="Office chair", price="100.00", stock=10)
    desk = product_with_price(sku="DK-1", name="Desk", price="300.00", stock=2)
    eur = product_with_price(sku="CH-2", name="Chair, export", price="90.00", currency="EUR", stock=0)
    old = product_with_price(sku="OLD-1", name="Old stool", price="5.00")
    Product.objects.filter(pk=old.pk).update(is_active=False)
    StockLevel.objects.filter(product=chair).update(reserved=Decimal(4))
    return {"chair": chair, "desk": desk, "eur": eur, "old": old}


def test_products_list_prices_and_stock(agent: User, catalogue: dict[str, Product]) -> None:
    response = client_for(agent).get(f"{API}/products")
    assert response.status_code == 200
    body = response.json()
    assert [row["sku"] for row in body["items"]] == ["CH-2", "DK-1", "CH-1"]  # by name; on sale only
    chair = body["items"][2]
    assert [(row["name"], row["currency"], row["price"]) for row in chair["prices"]] == [("Base USD", "USD", "100.00")]
    assert [(row["name"], row["quantity"], row["reserved"], row["available"]) for row in chair["stock"]] == [
        ("Main warehouse", "10.000", "4.000", "6.000")
    ]


def test_products_search_and_page(manager: User, catalogue: dict[str, Product]) -> None:
    client = bearer(manager)

    def skus(**filters: Any) -> list[str]:
        return [row["sku"] for row in client.get(f"{API}/products", filters).json()["items"]]

    assert skus(q="chair") == ["CH-2", "CH-1"]
    assert skus(q="dk") == ["DK-1"]
    assert skus(q="stool") == []
    assert skus(q="stool", include_inactive=True) == ["OLD-1"]
    page = client.get(f"{API}/products", {"limit": 2}).json()
    assert (len(page["items"]), page["has_more"]) == (2, True)
    assert client.get(f"{API}/products/{catalogue['old'].pk}").json()["is_active"] is False
    assert client.get(f"{API}/products/999999").status_code == 404


def test_the_product_list_costs_a_fixed_number_of_queries(
    manager: User, catalogue: dict[str, Product], django_assert_max_num_queries: Any
) -> None:
    for number in range(20):
        product_with_price(sku=f"X-{number}", name=f"Extra {number}")
    client = client_for(manager)
    # The session and its user, the page, its prices, its stock.
    with django_assert_max_num_queries(5):
        assert len(client.get(f"{API}/products", {"limit": 100}).json()["items"]) == 23


def test_only_admins_change_the_catalogue(personas: dict[str, User], catalogue: dict[str, Product]) -> None:
    chair = catalogue["chair"]
    warehouse = Warehouse.objects.get()
    price_list = chair.prices.get().price_list
    for persona, user in personas.items():
        if persona == "admin":
            continue
        client = caller(user)
        for method, path, data in [
            ("post", "/products", {"sku": "N-1", "name": "New"}),
            ("patch", f"/products/{chair.pk}", {"name": "Renamed"}),
            ("put", f"/products/{chair.pk}/prices", {"prices": [{"price_list": price_list.pk, "price": "1"}]}),
            ("put", f"/products/{chair.pk}/stock", {"stock": [{"warehouse": warehouse.pk, "quantity": "1"}]}),
        ]:
            response = send(client, method, API + path, data)
            assert (response.status_code, response.json()) == (
                403,
                {"detail": "Only admins change the catalogue."},
            ), (persona, path)
    chair.refresh_from_db()
    assert (chair.name, Product.objects.count(), str(chair.prices.get().price)) == ("Office chair", 4, "100.00")


def test_an_admin_adds_and_changes_a_product(admin_user: User, catalogue: dict[str, Product]) -> None:
    client = bearer(admin_user)
    created = send(client, "post", f"{API}/products", {"sku": " LMP-1 ", "name": "Lamp", "unit": "pcs"})
    assert created.status_code == 201, created.content
    assert (created.json()["sku"], created.json()["prices"], created.json()["stock"]) == ("LMP-1", [], [])
    taken = send(client, "post", f"{API}/products", {"sku": "CH-1", "name": "Another chair"})
    assert (taken.status_code, taken.json()) == (
        422,
        {"detail": {"sku": ["Another product already has the SKU “CH-1”."]}},
    )
    url = f"{API}/products/{created.json()['id']}"
    changed = send(client, "patch", url, {"name": "Desk lamp", "is_active": False})
    assert (changed.status_code, changed.json()["name"], changed.json()["is_active"]) == (200, "Desk lamp", False)
    assert Product.objects.get(sku="LMP-1").history.first().history_user == admin_user
    assert send(client, "patch", url, {"name": ""}).status_code == 422


def test_an_admin_sets_prices_exactly(admin_user: User, catalogue: dict[str, Product]) -> None:
    chair = catalogue["chair"]
    usd = chair.prices.get().price_list
    eur = catalogue["eur"].prices.get().price_list
    client = bearer(admin_user)
    url = f"{API}/products/{chair.pk}/prices"
    response = send(client, "put", url, {"prices": [{"price_list": eur.pk, "price": "95.50"}]})
    assert response.status_code == 200, response.content
    # The lists not named lose their price.
    assert [(row["currency"], row["price"]) for row in response.json()["prices"]] == [("EUR", "95.50")]
    for data, field in [
        ({"prices": [{"price_list": usd.pk, "price": "-1"}]}, f"price_{usd.pk}"),
        ({"prices": [{"price_list": 999_999, "price": "1"}]}, "prices"),
        ({"prices": [{"price_list": usd.pk, "price": "1"}, {"price_list": usd.pk, "price": "2"}]}, "prices"),
    ]:
        refused = send(client, "put", url, data)
        assert refused.status_code == 422, data
        assert field in refused.json()["detail"], data
    assert send(client, "put", url, {"prices": [{"price_list": usd.pk, "price": "1e20"}]}).status_code == 422
    assert [str(price) for price in chair.prices.values_list("price", flat=True)] == ["95.50"]


def test_an_admin_sets_stock_and_a_negative_quantity_is_refused(
    admin_user: User, catalogue: dict[str, Product]
) -> None:
    chair = catalogue["chair"]
    main = Warehouse.objects.get()
    north = Warehouse.objects.create(name="North")
    client = bearer(admin_user)
    url = f"{API}/products/{chair.pk}/stock"
    refused = send(client, "put", url, {"stock": [{"warehouse": main.pk, "quantity": "-3"}]})
    assert (refused.status_code, refused.json()) == (
        422,
        {"detail": {f"stock_{main.pk}": ["A quantity cannot be negative."]}},
    )
    level = StockLevel.objects.get(product=chair)
    assert (level.quantity, level.reserved) == (Decimal(10), Decimal(4))
    response = send(
        client,
        "put",
        url,
        {"stock": [{"warehouse": north.pk, "quantity": "7.5", "reserved": "2"}, {"warehouse": main.pk, "quantity": 1}]},
    )
    assert response.status_code == 200, response.content
    assert [(row["name"], row["available"]) for row in response.json()["stock"]] == [
        ("Main warehouse", "1.000"),
        ("North", "5.500"),
    ]


def test_the_openapi_document_lists_the_catalogue(manager: User) -> None:
    paths = client_for(manager).get("/api/openapi.json").json()["paths"]
    assert set(paths[f"{API}/products"]) == {"get", "post"}
    assert set(paths[f"{API}/products/{{product_id}}"]) == {"get", "patch"}
    assert set(paths[f"{API}/products/{{product_id}}/prices"]) == {"put"}
    assert set(paths[f"{API}/products/{{product_id}}/stock"]) == {"put"}


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("post", "/deals", {"title": "", "company": "{company}"}),
        ("post", "/deals", {"title": "X", "company": "{company}", "amount": "-5"}),
        ("post", "/deals", {"title": "X", "company": "{company}", "amount": "NaN"}),
        ("post", "/deals", {"title": "X", "company": "{company}", "amount": "1.005"}),
        ("post", "/deals", {"title": "X", "company": "{company}", "expected_close": "soon"}),
        ("post", "/deals", {"title": "X", "company": "{company}", "registrant": 1}),
        ("patch", "/deals/{deal}", {"notes": "No version"}),
        ("patch", "/deals/{deal}", {"version": 1, "stage": 1}),
        ("patch", "/deals/{deal}", {"version": 1, "title": None}),
        ("patch", "/deals/{deal}", {"version": 1, "owner": None}),
        ("post", "/deals/{deal}/move", {"stage": 1}),
        ("post", "/deals/{deal}/checkpoints/{checkpoint}", {}),
        ("get", "/deals?updated_since=yesterday", None),
        ("get", "/products?limit=0", None),
    ],
)
def test_bad_input_is_422_never_500(manager: User, deal: Deal, method: str, path: str, data: Any) -> None:
    ids = {"company": deal.company_id, "deal": deal.pk, "checkpoint": deal.checkpoints.all()[0].pk}
    url = API + path.format(**ids)
    if data and data.get("company") == "{company}":
        data = {**data, "company": deal.company_id}
    response = send(bearer(manager), method, url, data)
    assert response.status_code == 422, response.content
    assert "detail" in response.json()
    deal.refresh_from_db()
    assert (Deal.objects.count(), deal.version) == (1, 1)
