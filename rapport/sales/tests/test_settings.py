"""Sales settings: only admins configure pipelines, stages and gates, checkpoints, reasons, price lists, warehouses."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import client_for
from rapport.accounts.models import User
from rapport.sales import services
from rapport.sales.models import (
    CheckpointType,
    Deal,
    LostReason,
    Pipeline,
    PriceList,
    Stage,
    StageKind,
    Warehouse,
)
from rapport.sales.tests.factories import stage


def messages_of(client: Client, url: str) -> str:
    return client.get(url).content.decode()


@pytest.mark.parametrize("persona", ["manager", "head", "operator", "agent"])
def test_only_admins_open_the_settings(persona: str, personas: dict[str, User], pipeline: Pipeline) -> None:
    client = client_for(personas[persona])
    qualification = stage(pipeline, "Qualification")
    checkpoint = pipeline.checkpoint_types.first()
    assert checkpoint
    for url in [
        "/sales/settings/pipelines/",
        f"/sales/settings/pipelines/{pipeline.pk}/",
        f"/sales/settings/pipelines/{pipeline.pk}/rename/",
        f"/sales/settings/pipelines/{pipeline.pk}/stages/new/",
        f"/sales/settings/stages/{qualification.pk}/",
        f"/sales/settings/pipelines/{pipeline.pk}/checkpoints/new/",
        f"/sales/settings/checkpoints/{checkpoint.pk}/",
        "/sales/settings/lost-reasons/",
        "/sales/settings/catalogue/",
        "/sales/settings/price-lists/new/",
        "/sales/settings/warehouses/new/",
    ]:
        assert client.get(url).status_code == 403, url
    for url in [
        "/sales/settings/pipelines/",
        f"/sales/settings/pipelines/{pipeline.pk}/move/",
        f"/sales/settings/pipelines/{pipeline.pk}/active/",
        f"/sales/settings/stages/{qualification.pk}/delete/",
        f"/sales/settings/stages/{qualification.pk}/move/",
        f"/sales/settings/checkpoints/{checkpoint.pk}/delete/",
        "/sales/settings/lost-reasons/",
        "/sales/settings/price-lists/new/",
    ]:
        assert client.post(url, {"name": "Sneaky"}).status_code == 403, url
    assert Stage.objects.filter(pk=qualification.pk).exists()
    assert not Pipeline.objects.filter(name="Sneaky").exists()
    assert not LostReason.objects.exists()


def test_admin_sees_pipelines_with_stages_and_adds_one(pipeline: Pipeline, as_admin: Client) -> None:
    page = as_admin.get("/sales/settings/pipelines/").content.decode()
    assert "New sales" in page
    assert "Negotiation" in page

    response = as_admin.post("/sales/settings/pipelines/", {"name": "Distribution"})
    distribution = Pipeline.objects.get(name="Distribution")
    assert response["Location"] == f"/sales/settings/pipelines/{distribution.pk}/"
    # A new pipeline starts with what every pipeline must have.
    assert sorted(distribution.stages.values_list("kind", flat=True)) == ["lost", "open", "won"]

    taken = as_admin.post("/sales/settings/pipelines/", {"name": "new SALES"})
    assert taken.status_code == 422
    assert "“new SALES” is already taken." in taken.content.decode()


def test_rename_reorder_and_stop_using_pipelines(pipeline: Pipeline, as_admin: Client) -> None:
    as_admin.post("/sales/settings/pipelines/", {"name": "Distribution"})
    distribution = Pipeline.objects.get(name="Distribution")
    as_admin.post(f"/sales/settings/pipelines/{distribution.pk}/move/", {"direction": "up"})
    assert list(Pipeline.objects.values_list("name", flat=True)) == ["Distribution", "New sales"]

    as_admin.post(f"/sales/settings/pipelines/{distribution.pk}/rename/", {"name": "Dealers"})
    distribution.refresh_from_db()
    assert distribution.name == "Dealers"

    as_admin.post(f"/sales/settings/pipelines/{distribution.pk}/active/", {})
    distribution.refresh_from_db()
    assert not distribution.is_active
    # The last pipeline in use stays in use.
    response = as_admin.post(f"/sales/settings/pipelines/{pipeline.pk}/active/", {}, follow=True)
    assert "At least one pipeline must stay in use" in response.content.decode()
    pipeline.refresh_from_db()
    assert pipeline.is_active


def test_stage_with_its_gate_is_saved(pipeline: Pipeline, as_admin: Client) -> None:
    proposal = CheckpointType.objects.get(pipeline=pipeline, name="Commercial proposal")
    response = as_admin.post(
        f"/sales/settings/pipelines/{pipeline.pk}/stages/new/",
        {
            "name": "Contract signing",
            "kind": StageKind.OPEN,
            "probability": "90",
            "colour": "purple",
            "stale_after_days": "10",
            "required_fields": ["amount", "expected_close"],
            "required_checkpoints": [str(proposal.pk)],
        },
    )
    assert response.status_code == 302
    signing = Stage.objects.get(pipeline=pipeline, name="Contract signing")
    assert signing.required_fields == ["amount", "expected_close"]
    assert list(signing.required_checkpoints.all()) == [proposal]
    assert (signing.probability, signing.colour, signing.stale_after_days) == (90, "purple", 10)
    # A new open stage goes before the won and lost stages.
    names = list(pipeline.stages.order_by("position").values_list("name", flat=True))
    assert names[-3:] == ["Contract signing", "Won", "Lost"]

    page = as_admin.get(f"/sales/settings/pipelines/{pipeline.pk}/").content.decode()
    assert "expected close date" in page

    # A checkpoint of another pipeline is not offered, so it cannot be chosen.
    other = Pipeline.objects.create(name="Other")
    foreign = CheckpointType.objects.create(pipeline=other, name="Foreign")
    response = as_admin.post(
        f"/sales/settings/stages/{signing.pk}/",
        {
            "name": "Contract signing",
            "kind": "open",
            "probability": "150",
            "colour": "purple",
            "required_checkpoints": [str(foreign.pk)],
        },
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_probability-error"' in page
    assert "Select a valid choice" in page
    signing.refresh_from_db()
    assert signing.probability == 90


def test_each_pipeline_keeps_an_open_a_won_and_a_lost_stage(pipeline: Pipeline, as_admin: Client) -> None:
    won = stage(pipeline, "Won")
    response = as_admin.post(f"/sales/settings/stages/{won.pk}/delete/", follow=True)
    assert "at least one open stage, one won stage and one lost stage" in response.content.decode()
    assert Stage.objects.filter(pk=won.pk).exists()

    lost = stage(pipeline, "Lost")
    response = as_admin.post(
        f"/sales/settings/stages/{lost.pk}/",
        {"name": "Lost", "kind": "open", "probability": "0", "colour": "red"},
    )
    assert response.status_code == 422
    assert "at least one open stage, one won stage and one lost stage" in response.content.decode()
    lost.refresh_from_db()
    assert lost.kind == StageKind.LOST


def test_a_stage_with_deals_is_not_deleted(pipeline: Pipeline, deal: Deal, as_admin: Client) -> None:
    first = deal.stage
    response = as_admin.post(f"/sales/settings/stages/{first.pk}/delete/", follow=True)
    assert "1 deals are in the stage “Qualification”: move them to another stage first." in response.content.decode()
    assert Stage.objects.filter(pk=first.pk).exists()

    # An empty stage without history goes.
    presentation = stage(pipeline, "Presentation")
    response = as_admin.post(f"/sales/settings/stages/{presentation.pk}/delete/", follow=True)
    assert "The stage “Presentation” is deleted." in response.content.decode()
    assert not Stage.objects.filter(pk=presentation.pk).exists()


def test_a_stage_deals_have_passed_through_stays(
    pipeline: Pipeline, deal: Deal, manager: User, as_admin: Client
) -> None:
    services.deal_move_to_stage(by=manager, deal=deal, stage=stage(pipeline, "Presentation"))
    qualification = stage(pipeline, "Qualification")
    response = as_admin.post(f"/sales/settings/stages/{qualification.pk}/delete/", follow=True)
    assert "their history needs it" in response.content.decode()
    assert Stage.objects.filter(pk=qualification.pk).exists()


def test_stage_kind_does_not_change_under_deals(pipeline: Pipeline, deal: Deal, as_admin: Client) -> None:
    response = as_admin.post(
        f"/sales/settings/stages/{deal.stage_id}/",
        {"name": "Qualification", "kind": "won", "probability": "10", "colour": "blue"},
    )
    assert response.status_code == 422
    assert "Deals are in this stage" in response.content.decode()


def test_reorder_stages_with_up_and_down(pipeline: Pipeline, as_admin: Client) -> None:
    presentation = stage(pipeline, "Presentation")
    as_admin.post(f"/sales/settings/stages/{presentation.pk}/move/", {"direction": "up"})
    names = list(pipeline.stages.order_by("position").values_list("name", flat=True))
    assert names[:2] == ["Presentation", "Qualification"]
    as_admin.post(f"/sales/settings/stages/{presentation.pk}/move/", {"direction": "up"})  # already first
    as_admin.post(f"/sales/settings/stages/{presentation.pk}/move/", {"direction": "down"})
    names = list(pipeline.stages.order_by("position").values_list("name", flat=True))
    assert names[:2] == ["Qualification", "Presentation"]


def test_checkpoint_types(pipeline: Pipeline, deal: Deal, as_admin: Client) -> None:
    response = as_admin.post(
        f"/sales/settings/pipelines/{pipeline.pk}/checkpoints/new/", {"name": "Demo", "due_days": "3"}
    )
    assert response.status_code == 302
    demo = CheckpointType.objects.get(pipeline=pipeline, name="Demo")
    assert demo.due_days == 3
    as_admin.post(f"/sales/settings/checkpoints/{demo.pk}/move/", {"direction": "up"})
    names = list(pipeline.checkpoint_types.values_list("name", flat=True))
    assert names == ["Presentation", "Commercial proposal", "Demo", "Contract"]

    bad = as_admin.post(f"/sales/settings/checkpoints/{demo.pk}/", {"name": "Demo", "due_days": "-1"})
    assert bad.status_code == 422
    as_admin.post(f"/sales/settings/checkpoints/{demo.pk}/delete/")
    assert not CheckpointType.objects.filter(pk=demo.pk).exists()

    # The deal tracks the pipeline's checkpoints (added when it was registered): those stay.
    tracked = CheckpointType.objects.get(pipeline=pipeline, name="Presentation")
    assert deal.checkpoints.filter(type=tracked).exists()
    response = as_admin.post(f"/sales/settings/checkpoints/{tracked.pk}/delete/", follow=True)
    assert "Deals already track the checkpoint “Presentation”" in response.content.decode()
    assert CheckpointType.objects.filter(pk=tracked.pk).exists()


def test_lost_reasons_are_added_renamed_and_retired(as_admin: Client) -> None:
    as_admin.post("/sales/settings/lost-reasons/", {"name": "Price too high"})
    reason = LostReason.objects.get()
    assert as_admin.post("/sales/settings/lost-reasons/", {"name": "price too high"}).status_code == 422
    as_admin.post(f"/sales/settings/lost-reasons/{reason.pk}/", {"name": "Too expensive"})
    reason.refresh_from_db()
    assert (reason.name, reason.is_active) == ("Too expensive", False)
    page = as_admin.get("/sales/settings/lost-reasons/").content.decode()
    assert "Too expensive" in page
    assert "not offered" in page


def test_price_lists_and_warehouses(as_admin: Client) -> None:
    as_admin.post("/sales/settings/price-lists/new/", {"name": "Retail", "currency": "USD", "is_default": "on"})
    as_admin.post("/sales/settings/price-lists/new/", {"name": "Dealers", "currency": "EUR", "is_default": "on"})
    assert list(PriceList.objects.filter(is_default=True).values_list("name", flat=True)) == ["Dealers"]
    # ZWL is a real ISO code, just not one of RAPPORT_CURRENCIES.
    bad = as_admin.post("/sales/settings/price-lists/new/", {"name": "Odd", "currency": "ZWL"})
    assert bad.status_code == 422
    assert 'id="id_currency-error"' in bad.content.decode()

    as_admin.post("/sales/settings/warehouses/new/", {"name": "Main"})
    warehouse = Warehouse.objects.get()
    as_admin.post(f"/sales/settings/warehouses/{warehouse.pk}/", {"name": "Central"})
    page = as_admin.get("/sales/settings/catalogue/").content.decode()
    assert "Central" in page
    assert "Dealers" in page


def test_settings_pages_cost_a_fixed_number_of_queries(
    pipeline: Pipeline, as_admin: Client, django_assert_max_num_queries: object
) -> None:
    for number in range(5):
        as_admin.post("/sales/settings/pipelines/", {"name": f"Pipeline {number}"})
    with django_assert_max_num_queries(10):  # type: ignore[operator]
        assert as_admin.get("/sales/settings/pipelines/").status_code == 200
    with django_assert_max_num_queries(10):  # type: ignore[operator]
        assert as_admin.get(f"/sales/settings/pipelines/{pipeline.pk}/").status_code == 200
