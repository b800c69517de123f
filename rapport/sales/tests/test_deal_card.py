"""The deal card: who sees and edits it, details in place, stage moves, checkpoints, products, registering a deal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from conftest import client_for
from rapport.accounts.models import User
from rapport.clients import services as client_services
from rapport.clients.models import Company, Contact
from rapport.sales import services
from rapport.sales.models import Deal, DealLine, Pipeline, Product
from rapport.sales.tests.factories import lost_reason, product_with_price, stage

HTMX = {"HX-Request": "true"}


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _messages(response: object) -> str:
    return " ".join(str(message) for message in response.context["messages"])  # type: ignore[attr-defined]


# ---- Who sees and who edits -------------------------------------------------------------------

CARD_ACCESS = {
    "manager": 200,  # owns and registered it
    "head": 200,  # heads the owner's team
    "admin": 200,
    "operator": 200,  # reads every deal, edits none
    "teammate": 404,  # a colleague's deal is out of a manager's scope
    "outsider": 404,
    "agent": 404,
}


@pytest.mark.parametrize(("persona", "status"), CARD_ACCESS.items())
def test_who_sees_the_card(personas: dict[str, User], deal: Deal, persona: str, status: int) -> None:
    assert client_for(personas[persona]).get(deal.get_absolute_url()).status_code == status


EDIT_ACCESS = {"manager": 200, "head": 200, "admin": 200, "operator": 403, "teammate": 404, "agent": 404}


@pytest.mark.parametrize(("persona", "status"), EDIT_ACCESS.items())
def test_who_may_edit(personas: dict[str, User], deal: Deal, persona: str, status: int) -> None:
    browser = client_for(personas[persona])
    assert browser.get(f"/sales/deals/{deal.pk}/edit/", headers=HTMX).status_code == status
    data = {"version": 1, "title": "Renamed", "company": deal.company_id, "currency": "USD", "owner": deal.owner_id}
    response = browser.post(f"/sales/deals/{deal.pk}/edit/", data, headers=HTMX)
    assert response.status_code == status
    deal.refresh_from_db()
    assert (deal.title == "Renamed") == (status == 200)


def test_readers_see_no_editing_controls(operator: User, deal: Deal) -> None:
    page = _page(client_for(operator), deal.get_absolute_url())
    assert "Chairs for the office" in page
    for control in (
        'id="edit-details"',
        'id="line-add-form"',
        'id="deal-won"',
        "checkpoint-toggle",
        'id="delete-deal"',
    ):
        assert control not in page


def test_card_shows_client_people_stage_track_checkpoints_and_timeline(
    manager: User, as_manager: Client, deal: Deal, pipeline: Pipeline
) -> None:
    page = _page(as_manager, deal.get_absolute_url())
    assert "Chairs for the office" in page
    assert f'href="{deal.company.get_absolute_url()}"' in page  # type: ignore[union-attr]
    assert "Registered by" in page
    assert "Mark Manager" in page
    # The track: every open stage in order, the current one marked, the others buttons to move.
    track = page[page.index('id="stage-track"') : page.index('id="deal-details"')]
    assert [name for name in ("Qualification", "Presentation", "Proposal", "Negotiation") if name in track] == [
        "Qualification",
        "Presentation",
        "Proposal",
        "Negotiation",
    ]
    assert 'aria-current="step">Qualification' in track
    assert track.count('name="stage"') == 3
    assert page.count('class="list-group-item d-flex align-items-center gap-2 checkpoint"') == 3
    assert "Presentation" in page
    assert "Contract" in page
    assert "Qualification" in page[page.index('id="timeline"') :]


def test_a_company_out_of_sight_is_named_without_a_link(
    manager: User, head: User, teammate: User, acme: Company, deal: Deal
) -> None:
    # The company goes to a teammate: the manager keeps the deal but no longer sees the company's card.
    client_services.client_transfer(by=head, client=acme, to_user=teammate, reason="Cover")
    page = _page(client_for(manager), deal.get_absolute_url())
    assert "Acme Trading" in page
    assert f'href="{acme.get_absolute_url()}"' not in page


# ---- Details in place --------------------------------------------------------------------------


def test_details_edit_in_place_and_a_stale_version_is_refused(
    manager: User, head: User, as_manager: Client, deal: Deal, ivanov: Contact
) -> None:
    form = as_manager.get(f"/sales/deals/{deal.pk}/edit/", headers=HTMX).content.decode()
    assert 'name="version" value="1"' in form
    data = {
        "version": 1,
        "title": "Chairs for the office",
        "company": deal.company_id,
        "contact": ivanov.pk,
        "amount": "1500.00",
        "currency": "USD",
        "next_step": "Call back",
        "next_step_at": "2030-01-10",
        "notes": "",
        "owner": manager.pk,  # only heads and admins have the field; others' posts leave it out
    }
    response = as_manager.post(f"/sales/deals/{deal.pk}/edit/", data, headers=HTMX)
    assert response.status_code == 200
    assert "deal-changed" in response.headers["HX-Trigger"]
    assert "Call back" in response.content.decode()
    deal.refresh_from_db()
    assert (deal.contact, deal.amount, deal.version) == (ivanov, Decimal("1500.00"), 2)
    # Someone saves again from the first copy: refused, naming who changed it since.
    stale = client_for(head).post(f"/sales/deals/{deal.pk}/edit/", {**data, "next_step": "Visit"}, headers=HTMX)
    assert stale.status_code == 422
    assert "Changed by Mark Manager" in stale.content.decode()
    deal.refresh_from_db()
    assert deal.next_step == "Call back"


def test_details_bad_input_is_shown_next_to_the_field(as_manager: Client, deal: Deal) -> None:
    # ZWL is a real ISO code, just not one of RAPPORT_CURRENCIES: refused like a typo would be.
    data = {"version": 1, "title": "", "company": deal.company_id, "amount": "-5", "currency": "ZWL"}
    response = as_manager.post(f"/sales/deals/{deal.pk}/edit/", data, headers=HTMX)
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_title-error"' in page
    assert "The amount cannot be negative." in page
    assert "Choose one of: USD" in page
    deal.refresh_from_db()
    assert deal.version == 1


def test_a_title_change_reloads_the_card(as_manager: Client, deal: Deal) -> None:
    data = {"version": 1, "title": "Desks", "company": deal.company_id, "currency": "USD"}
    response = as_manager.post(f"/sales/deals/{deal.pk}/edit/", data, headers=HTMX)
    assert response.headers["HX-Refresh"] == "true"


def test_only_heads_and_admins_reassign_the_owner(as_manager: Client, head: User, teammate: User, deal: Deal) -> None:
    assert 'name="owner"' not in as_manager.get(f"/sales/deals/{deal.pk}/edit/", headers=HTMX).content.decode()
    data = {"version": 1, "title": deal.title, "company": deal.company_id, "currency": "USD", "owner": teammate.pk}
    response = client_for(head).post(f"/sales/deals/{deal.pk}/edit/", data, headers=HTMX)
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.owner == teammate


# ---- Stages --------------------------------------------------------------------------------------


def test_a_stage_move_refused_by_the_gate_says_what_is_missing(
    as_manager: Client, deal: Deal, pipeline: Pipeline
) -> None:
    response = as_manager.post(f"/sales/deals/{deal.pk}/stage/", {"stage": stage(pipeline, "Proposal").pk}, follow=True)
    assert "To move to “Proposal” the deal needs: amount, the “Commercial proposal” checkpoint done." in _messages(
        response
    )
    deal.refresh_from_db()
    assert deal.stage.name == "Qualification"
    response = as_manager.post(f"/sales/deals/{deal.pk}/stage/", {"stage": stage(pipeline, "Presentation").pk})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.stage.name == "Presentation"
    assert "Qualification → Presentation" in _page(as_manager, deal.get_absolute_url())


def test_a_stage_of_another_pipeline_is_refused(as_manager: Client, deal: Deal) -> None:
    other = Pipeline.objects.create(name="Distribution")
    foreign = other.stages.create(name="Elsewhere", position=0)
    response = as_manager.post(f"/sales/deals/{deal.pk}/stage/", {"stage": foreign.pk}, follow=True)
    assert "Choose a stage of this deal's pipeline." in _messages(response)


def test_won_and_lost(manager: User, as_manager: Client, deal: Deal, pipeline: Pipeline) -> None:
    won = stage(pipeline, "Won")
    response = as_manager.post(f"/sales/deals/{deal.pk}/stage/", {"stage": won.pk}, follow=True)
    assert "the “Contract” checkpoint done" in _messages(response)
    lost = stage(pipeline, "Lost")
    response = as_manager.post(f"/sales/deals/{deal.pk}/stage/", {"stage": lost.pk}, follow=True)
    assert "Choose why the deal was lost." in _messages(response)
    deal.refresh_from_db()
    assert not deal.is_closed
    reason = lost_reason()
    response = as_manager.post(
        f"/sales/deals/{deal.pk}/stage/",
        {"stage": lost.pk, "lost_reason": reason.pk, "lost_note": "Went with a cheaper supplier"},
        follow=True,
    )
    page = response.content.decode()
    assert "The deal is closed as lost." in page
    assert "Price too high — Went with a cheaper supplier" in page
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason, deal.is_closed) == (lost, reason, True)
    # Reopened, then won once it has what every stage before asks for and the contract is signed.
    services.deal_move_to_stage(by=manager, deal=deal, stage=stage(pipeline, "Qualification"))
    contact = client_services.contact_create(by=manager, last_name="Petrov", company=deal.company)
    services.deal_update(by=manager, deal=deal, version=None, amount=Decimal(100), contact=contact)
    for checkpoint in deal.checkpoints.all():
        services.deal_checkpoint_set(by=manager, checkpoint=checkpoint, done=True)
    response = as_manager.post(f"/sales/deals/{deal.pk}/stage/", {"stage": won.pk}, follow=True)
    assert "The deal is won. Well done!" in _messages(response)


def test_readers_cannot_move_the_deal(operator: User, teammate: User, deal: Deal, pipeline: Pipeline) -> None:
    data = {"stage": stage(pipeline, "Presentation").pk}
    assert client_for(operator).post(f"/sales/deals/{deal.pk}/stage/", data).status_code == 403
    assert client_for(teammate).post(f"/sales/deals/{deal.pk}/stage/", data).status_code == 404


# ---- Checkpoints ---------------------------------------------------------------------------------


def test_checkpoint_toggle_and_a_required_one_cannot_be_undone(
    manager: User, as_manager: Client, operator: User, deal: Deal, pipeline: Pipeline
) -> None:
    proposal = deal.checkpoints.get(type__name="Commercial proposal")
    url = f"/sales/deals/{deal.pk}/checkpoints/{proposal.pk}/"
    assert client_for(operator).post(url, {"done": "1"}, headers=HTMX).status_code == 403
    response = as_manager.post(url, {"done": "1"}, headers=HTMX)
    assert response.status_code == 200
    assert "deal-changed" in response.headers["HX-Trigger"]
    assert 'data-state="done" data-checkpoint="Commercial proposal"' in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.done_by == manager
    assert "Checkpoint done: Commercial proposal" in _page(as_manager, deal.get_absolute_url())
    # In "Proposal" the checkpoint is required: undoing it is refused with the reason.
    services.deal_update(by=manager, deal=deal, version=None, amount=Decimal(100))
    services.deal_move_to_stage(by=manager, deal=deal, stage=stage(pipeline, "Proposal"))
    response = as_manager.post(url, {"done": "0"}, headers=HTMX)
    assert response.status_code == 422
    assert "“Proposal” requires this checkpoint" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.done_at is not None


def test_a_checkpoint_of_another_deal_is_not_found(manager: User, as_manager: Client, deal: Deal) -> None:
    other = services.deal_create(by=manager, title="Desks", company=deal.company)
    checkpoint = other.checkpoints.first()
    assert checkpoint is not None
    response = as_manager.post(f"/sales/deals/{deal.pk}/checkpoints/{checkpoint.pk}/", {"done": "1"}, headers=HTMX)
    assert response.status_code == 404


# ---- Lines ---------------------------------------------------------------------------------------


def test_lines_add_edit_remove_and_the_total_follows(as_manager: Client, operator: User, deal: Deal) -> None:
    chair = product_with_price(price="100.00", stock=7)
    url = f"/sales/deals/{deal.pk}/lines/"
    assert client_for(operator).post(url, {"product": chair.pk, "quantity": "1"}, headers=HTMX).status_code == 403
    response = as_manager.post(url, {"product": chair.pk, "quantity": "3", "discount": "10"}, headers=HTMX)
    assert response.status_code == 200
    assert "deal-changed" in response.headers["HX-Trigger"]
    page = response.content.decode()
    assert "CH-1" in page
    assert "Office chair" in page
    assert "270.00 USD" in page  # 3 × 100 less 10 %
    assert 'line-stock">7</td>' in " ".join(page.split()).replace('" >', '">')
    deal.refresh_from_db()
    assert deal.amount == Decimal("270.00")
    line = DealLine.objects.get(deal=deal)
    # The amount now follows the products: the details editor locks it.
    editor = as_manager.get(f"/sales/deals/{deal.pk}/edit/", headers=HTMX).content.decode()
    assert 'name="amount"' in editor
    assert "disabled" in editor[editor.index('name="amount"') - 200 :][:400]
    # Edit: the row turns into its editor, then saves.
    editor = as_manager.get(f"/sales/deals/lines/{line.pk}/", headers=HTMX).content.decode()
    assert 'class="line-editor"' in editor
    response = as_manager.post(
        f"/sales/deals/lines/{line.pk}/", {"quantity": "2", "price": "90", "discount": "0"}, headers=HTMX
    )
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.amount == Decimal("180.00")
    response = as_manager.post(f"/sales/deals/lines/{line.pk}/remove/", headers=HTMX)
    assert response.status_code == 200
    assert 'id="no-lines"' in response.content.decode()
    assert not DealLine.objects.filter(deal=deal).exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"quantity": "0"}, "quantity", "The quantity must be more than zero."),
        ({"quantity": "-2"}, "quantity", "The quantity must be more than zero."),
        ({"quantity": "1", "price": "-1"}, "price", "The price cannot be negative."),
        ({"quantity": "1", "price": "10", "currency": "EUR"}, "price", "Prices of this deal are in USD, not EUR."),
        ({"quantity": "1", "discount": "150"}, "discount", "A discount is from 0 to 100%."),
    ],
)
def test_bad_line_input_is_shown_next_to_the_field(
    as_manager: Client, deal: Deal, data: dict[str, str], field: str, message: str
) -> None:
    chair = product_with_price()
    response = as_manager.post(f"/sales/deals/{deal.pk}/lines/", {"product": chair.pk, **data}, headers=HTMX)
    assert response.status_code == 422
    page = response.content.decode()
    assert f'id="id_{field}-error"' in page
    assert message in page
    assert not DealLine.objects.exists()


def test_a_product_without_a_price_asks_for_one(as_manager: Client, deal: Deal) -> None:
    product_with_price()  # a price list in USD exists …
    bare = Product.objects.create(sku="DESK-1", name="Desk")  # … without this product
    response = as_manager.post(f"/sales/deals/{deal.pk}/lines/", {"product": bare.pk, "quantity": "1"}, headers=HTMX)
    assert response.status_code == 422
    assert "“Desk” has no price in Base USD: give it." in response.content.decode()
    response = as_manager.post(
        f"/sales/deals/{deal.pk}/lines/", {"product": bare.pk, "quantity": "1", "price": "55"}, headers=HTMX
    )
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.amount == Decimal("55.00")


def test_bad_line_edit_is_shown_in_the_row(as_manager: Client, manager: User, deal: Deal) -> None:
    line = services.deal_line_add(by=manager, deal=deal, product=product_with_price(), quantity=Decimal(1))
    response = as_manager.post(f"/sales/deals/lines/{line.pk}/", {"quantity": "0", "price": "10"}, headers=HTMX)
    assert response.status_code == 422
    assert "The quantity must be more than zero." in response.content.decode()
    line.refresh_from_db()
    assert line.quantity == 1


def test_lines_of_a_deal_out_of_scope_are_not_found(manager: User, teammate: User, deal: Deal) -> None:
    line = services.deal_line_add(by=manager, deal=deal, product=product_with_price(), quantity=Decimal(1))
    browser = client_for(teammate)
    assert browser.get(f"/sales/deals/lines/{line.pk}/", headers=HTMX).status_code == 404
    assert browser.post(f"/sales/deals/lines/{line.pk}/remove/", headers=HTMX).status_code == 404
    assert DealLine.objects.filter(pk=line.pk).exists()


def test_product_autocomplete_by_sku_or_name(as_manager: Client) -> None:
    product_with_price(sku="CH-1", name="Office chair")
    product_with_price(sku="DS-2", name="Standing desk")
    Product.objects.create(sku="CH-OLD", name="Old chair", is_active=False)
    found = as_manager.get("/sales/products/autocomplete/", {"q": "ch"}).json()["results"]
    assert [item["text"] for item in found] == ["CH-1 · Office chair"]
    found = as_manager.get("/sales/products/autocomplete/", {"q": "desk"}).json()["results"]
    assert [item["text"] for item in found] == ["DS-2 · Standing desk"]
    assert as_manager.get("/sales/products/autocomplete/", {"q": ""}).json()["results"] == []
    assert Client().get("/sales/products/autocomplete/", {"q": "ch"}).status_code == 302


# ---- Registrant, delete --------------------------------------------------------------------------


def test_only_an_admin_changes_the_registrant_and_the_timeline_tells(
    manager: User, head: User, teammate: User, admin_user: User, deal: Deal
) -> None:
    url = f"/sales/deals/{deal.pk}/registrant/"
    assert "registrant-editor" not in _page(client_for(head), deal.get_absolute_url())
    assert client_for(head).post(url, {"registrant": teammate.pk}).status_code == 403
    assert client_for(manager).post(url, {"registrant": teammate.pk}).status_code == 403
    as_admin = client_for(admin_user)
    response = as_admin.post(url, {"registrant": teammate.pk}, follow=True)
    assert "Tina Teammate is now credited with registering this deal." in _messages(response)
    deal.refresh_from_db()
    assert deal.registrant == teammate
    timeline = response.content.decode()
    timeline = timeline[timeline.index('id="timeline"') :]
    assert "Registrant" in timeline
    assert "Mark Manager" in timeline
    assert "Tina Teammate" in timeline
    assert "Ada Admin" in timeline


def test_delete_moves_the_deal_to_the_trash(
    personas: dict[str, User], as_manager: Client, deal: Deal, acme: Company
) -> None:
    url = f"/sales/deals/{deal.pk}/delete/"
    assert client_for(personas["operator"]).post(url).status_code == 403
    assert client_for(personas["teammate"]).post(url).status_code == 404
    response = as_manager.post(url, headers=HTMX)
    assert response.headers["HX-Redirect"] == acme.get_absolute_url()
    deal.refresh_from_db()
    assert deal.deleted_at is not None
    assert as_manager.get(deal.get_absolute_url()).status_code == 404


# ---- Registering a deal --------------------------------------------------------------------------


CREATE_ACCESS = {"manager": 200, "head": 200, "agent": 200, "admin": 200, "operator": 403}


@pytest.mark.parametrize(("persona", "status"), CREATE_ACCESS.items())
def test_who_registers_deals(personas: dict[str, User], pipeline: Pipeline, persona: str, status: int) -> None:
    assert client_for(personas[persona]).get("/sales/deals/new/").status_code == status


def test_register_from_a_client_card(manager: User, as_manager: Client, acme: Company, pipeline: Pipeline) -> None:
    form = _page(as_manager, f"/sales/deals/new/?company={acme.pk}")
    assert f'<option value="{acme.pk}" selected>Acme Trading</option>' in form
    response = as_manager.post(
        f"/sales/deals/new/?company={acme.pk}",
        {"company": acme.pk, "title": "Tables", "amount": "2500", "currency": "EUR", "expected_close": "2030-03-01"},
    )
    deal = Deal.objects.get(title="Tables")
    assert response.status_code == 302
    assert response.headers["Location"] == deal.get_absolute_url()
    assert (deal.company, deal.amount, deal.currency, deal.owner, deal.registrant) == (
        acme,
        Decimal(2500),
        "EUR",
        manager,
        manager,
    )
    assert deal.stage == stage(pipeline, "Qualification")


def test_register_for_a_person_takes_their_company(as_manager: Client, ivanov: Contact, pipeline: Pipeline) -> None:
    form = _page(as_manager, f"/sales/deals/new/?contact={ivanov.pk}")
    assert "Acme Trading" in form
    response = as_manager.post("/sales/deals/new/", {"contact": ivanov.pk, "title": "Chairs", "currency": "USD"})
    assert response.status_code == 302
    deal = Deal.objects.get()
    assert (deal.contact, deal.company) == (ivanov, ivanov.company)


def test_a_client_out_of_sight_cannot_prefill(outsider: User, acme: Company, pipeline: Pipeline) -> None:
    assert client_for(outsider).get(f"/sales/deals/new/?company={acme.pk}").status_code == 404


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": "Chairs", "currency": "USD"}, "company", "Choose the company or the person the deal is with."),
        ({"title": "Chairs", "currency": "USD", "amount": "-10"}, "amount", "The amount cannot be negative."),
        ({"title": "Chairs", "currency": "XYZ"}, "currency", "Choose one of: USD"),
        ({"currency": "USD"}, "title", "This field is required."),
    ],
)
def test_bad_registration_input(
    as_manager: Client, acme: Company, pipeline: Pipeline, data: dict[str, str], field: str, message: str
) -> None:
    if field != "company":
        data = {**data, "company": str(acme.pk)}
    response = as_manager.post("/sales/deals/new/", data)
    assert response.status_code == 422
    page = response.content.decode()
    assert f'id="id_{field}-error"' in page
    assert message in page
    assert not Deal.objects.exists()


def test_a_gate_refusal_at_registration_is_a_form_error(as_manager: Client, acme: Company, pipeline: Pipeline) -> None:
    data = {"company": acme.pk, "title": "Chairs", "currency": "USD", "stage": stage(pipeline, "Proposal").pk}
    response = as_manager.post("/sales/deals/new/", data)
    assert response.status_code == 422
    assert "To move to “Proposal” the deal needs: amount" in response.content.decode()
    assert not Deal.objects.exists()


# ---- Cost of the card and the client card's deals -----------------------------------------------


def test_card_query_count(  # type: ignore[no-untyped-def]
    manager: User, as_manager: Client, deal: Deal, pipeline: Pipeline, django_assert_num_queries
) -> None:
    for number in range(3):
        line = services.deal_line_add(
            by=manager, deal=deal, product=product_with_price(sku=f"P-{number}"), quantity=Decimal(1)
        )
    services.deal_line_update(by=manager, line=line, quantity=Decimal(2))
    services.deal_checkpoint_set(by=manager, checkpoint=deal.checkpoints.first(), done=True)  # type: ignore[arg-type]
    services.deal_move_to_stage(by=manager, deal=deal, stage=stage(pipeline, "Presentation"))
    # Session and user, the deal, checkpoints, stages, the company's visibility, lines with stock,
    # the timeline's stage moves and history (one more per kind of record a change names), its
    # activities, the bell, the reasons for losing.
    with django_assert_num_queries(12):
        page = _page(as_manager, deal.get_absolute_url())
    assert page.count('class="deal-line"') == 3


def test_client_card_lists_the_clients_visible_deals(
    manager: User, head: User, teammate: User, as_manager: Client, acme: Company, pipeline: Pipeline
) -> None:
    open_deal = services.deal_create(by=manager, title="Open chairs", company=acme, amount=Decimal(900))
    closed = services.deal_create(by=manager, title="Old desks", company=acme)
    services.deal_move_to_stage(by=manager, deal=closed, stage=stage(pipeline, "Lost"), lost_reason=lost_reason())
    services.deal_create(by=head, title="Head's own deal", company=acme)  # the head's deal: not the manager's
    page = _page(as_manager, acme.get_absolute_url())
    panel = page[page.index('id="client-deals"') :]
    assert panel.index("Open chairs") < panel.index("Old desks")  # open first
    assert "900.00 USD" in panel
    assert "own deal" not in panel[: panel.index("</div>\n    </div>")]
    assert f'href="/sales/deals/new/?company={acme.pk}"' in panel
    assert open_deal.get_absolute_url() in panel


def test_client_card_offers_no_new_deal_to_readers(operator: User, acme: Company, pipeline: Pipeline) -> None:
    page = _page(client_for(operator), acme.get_absolute_url())
    assert 'id="client-deals"' in page
    assert 'id="new-deal"' not in page


def test_client_card_links_to_all_deals_when_there_are_many(
    manager: User, as_manager: Client, acme: Company, pipeline: Pipeline
) -> None:
    for number in range(11):
        services.deal_create(by=manager, title=f"Deal {number}", company=acme)
    page = _page(as_manager, acme.get_absolute_url())
    assert page.count("list-group-item-action client-deal") == 10
    assert f'href="/sales/deals/?company={acme.pk}"' in page


def test_a_later_stage_of_another_pipeline_takes_that_pipeline(
    manager: User, as_manager: Client, acme: Company, pipeline: Pipeline
) -> None:
    distribution = Pipeline.objects.create(name="Distribution", position=1)
    samples = distribution.stages.create(name="Samples sent", position=1)
    distribution.stages.create(name="Lead", position=0)
    form = _page(as_manager, "/sales/deals/new/")
    assert 'name="pipeline"' in form
    assert "Distribution · Samples sent" in form
    response = as_manager.post(
        "/sales/deals/new/",
        {"company": acme.pk, "title": "Pallets", "currency": "USD", "pipeline": pipeline.pk, "stage": samples.pk},
    )
    assert response.status_code == 302
    deal = Deal.objects.get()
    assert (deal.pipeline, deal.stage) == (distribution, samples)


def test_regions_reload_on_their_own(as_manager: Client, teammate: User, deal: Deal) -> None:
    summary = as_manager.get(f"/sales/deals/{deal.pk}/regions/deal-summary/", headers=HTMX).content.decode()
    assert summary.lstrip().startswith('<div class="card mb-3" id="deal-summary"')
    timeline = as_manager.get(f"/sales/deals/{deal.pk}/regions/deal-timeline/", headers=HTMX).content.decode()
    assert "Registered in “Qualification”" in timeline
    assert as_manager.get(f"/sales/deals/{deal.pk}/regions/deal-lines-x/").status_code == 404
    assert client_for(teammate).get(f"/sales/deals/{deal.pk}/regions/deal-summary/").status_code == 404
