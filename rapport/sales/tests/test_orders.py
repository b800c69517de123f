"""Orders: recorded, corrected and deleted by whoever may edit the client, refused with a reason per field, made
once from a won deal — through the services and on the client and deal cards."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client, RequestFactory
from django.utils import timezone

from conftest import client_for
from rapport.accounts import access
from rapport.accounts.models import Role, User
from rapport.accounts.tests.factories import UserFactory
from rapport.clients import services as client_services
from rapport.clients.models import ClientStatus, Company, Contact
from rapport.sales import orders, services
from rapport.sales.models import Deal, Order, Pipeline, Stage, StageKind
from rapport.sales.tests.factories import lost_reason
from rapport.sales.views.orders import orders_panel
from rapport.supervision.regularity import volume_by_month

HTMX = {"HX-Request": "true"}
DAY = date(2026, 3, 10)


def record(by: User, client: Company | Contact, **fields: object) -> Order:
    values: dict[str, object] = {"on": DAY, "amount": Decimal("100.00"), "volume": Decimal(5)} | fields
    return orders.order_create(by=by, client=client, **values)  # type: ignore[arg-type]


@pytest.fixture
def simple(db: None) -> Pipeline:
    """A pipeline without gates, so a deal is won in one move."""
    pipeline = Pipeline.objects.create(name="Simple")
    for position, (name, kind) in enumerate(
        [("Open", StageKind.OPEN), ("Won", StageKind.WON), ("Lost", StageKind.LOST)]
    ):
        Stage.objects.create(pipeline=pipeline, name=name, position=position, kind=kind)
    return pipeline


def won_deal(by: User, client: Company | Contact, pipeline: Pipeline, amount: str | None = "1500.00") -> Deal:
    deal = services.deal_create(
        by=by,
        title="Pallets",
        company=client if isinstance(client, Company) else None,
        contact=client if isinstance(client, Contact) else None,
        pipeline=pipeline,
        amount=None if amount is None else Decimal(amount),
        currency="EUR",
    )
    return services.deal_move_to_stage(by=by, deal=deal, stage=pipeline.stages.get(kind=StageKind.WON))


# ---- Services: recording and refusals ------------------------------------------------------------


def test_an_order_is_recorded_for_the_client(manager: User, acme: Company) -> None:
    order = record(manager, acme, currency="eur", volume=Decimal("12.5"), external_id=" INV-1 ")

    order.refresh_from_db()
    assert (order.company_id, order.contact_id, order.on, order.amount, order.currency, order.volume) == (
        acme.pk,
        None,
        DAY,
        Decimal("100.00"),
        "EUR",
        Decimal("12.500"),
    )
    assert order.external_id == "INV-1"
    assert order.created_by == manager


def test_the_currency_defaults_to_the_companys(manager: User, acme: Company, settings: object) -> None:
    assert record(manager, acme).currency == "USD"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"amount": Decimal("-1")}, "amount", "The amount cannot be negative."),
        ({"amount": None}, "amount", "Give the order's amount (0 for a free shipment)."),
        ({"amount": Decimal("1.005")}, "amount", "Give at most 2 decimals."),
        ({"amount": Decimal("1e12")}, "amount", "It is too large."),
        ({"volume": Decimal("-0.5")}, "volume", "The volume cannot be negative."),
        ({"volume": Decimal("1.0001")}, "volume", "Give at most 3 decimals."),
        ({"on": date(1999, 12, 31)}, "on", "Give a date from 2000 on."),
        ({"on": None}, "on", "Give the order's date."),
        ({"currency": "XYZ"}, "currency", "Choose one of: USD, EUR, RUB, VND, BGN."),
    ],
)
def test_bad_fields_are_refused_by_name_and_nothing_is_written(
    manager: User, acme: Company, fields: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        record(manager, acme, **fields)

    assert refused.value.message_dict == {field: [message]}
    assert not Order.objects.exists()


def test_a_date_more_than_a_year_ahead_is_refused(manager: User, acme: Company) -> None:
    ahead = timezone.localdate() + timedelta(days=400)
    with pytest.raises(ValidationError) as refused:
        record(manager, acme, on=ahead)

    assert refused.value.message_dict == {"on": ["The date is more than a year ahead."]}
    assert record(manager, acme, on=timezone.localdate() + timedelta(days=30)).pk


def test_every_wrong_field_is_named_at_once(manager: User, acme: Company) -> None:
    with pytest.raises(ValidationError) as refused:
        record(manager, acme, amount=Decimal(-5), volume=Decimal(-1), currency="ABC")

    assert set(refused.value.message_dict) == {"amount", "volume", "currency"}


def test_an_external_id_is_recorded_once(manager: User, acme: Company) -> None:
    record(manager, acme, external_id="INV-1")
    with pytest.raises(ValidationError) as refused:
        record(manager, acme, external_id="INV-1")

    assert refused.value.message_dict == {"external_id": ["An order with this external id is recorded already."]}
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("manager", True),
        ("head", True),
        ("operator", True),
        ("admin", True),
        ("teammate", False),
        ("outsider", False),
        ("agent", False),
    ],
)
def test_whoever_may_edit_the_client_records_its_orders(
    personas: dict[str, User], acme: Company, persona: str, allowed: bool
) -> None:
    if allowed:
        assert record(personas[persona], acme).pk
    else:
        with pytest.raises(PermissionDenied):
            record(personas[persona], acme)
        assert not Order.objects.exists()


def test_analysts_and_pool_clients_are_refused(manager: User, acme: Company) -> None:
    analyst = UserFactory.create(username="analyst", role=Role.ANALYST)
    with pytest.raises(PermissionDenied):
        record(analyst, acme)
    client_services.client_transfer(by=UserFactory.create(role=Role.ADMIN), client=acme, to_user=None, reason="")
    acme.refresh_from_db()
    assert acme.status == ClientStatus.POOL
    with pytest.raises(PermissionDenied):
        record(manager, acme)


def test_an_order_is_corrected_and_deleted(manager: User, head: User, acme: Company) -> None:
    order = record(manager, acme)

    orders.order_update(by=head, order=order, amount=Decimal("80.50"), volume=None, on=date(2026, 3, 11))
    order.refresh_from_db()
    assert (order.amount, order.volume, order.on) == (Decimal("80.50"), None, date(2026, 3, 11))

    with pytest.raises(ValidationError) as refused:
        orders.order_update(by=manager, order=order, amount=Decimal(-3))
    assert refused.value.message_dict == {"amount": ["The amount cannot be negative."]}
    with pytest.raises(ValidationError):
        orders.order_update(by=manager, order=order, external_id="X")
    order.refresh_from_db()
    assert order.amount == Decimal("80.50")

    orders.order_delete(by=manager, order=order)
    assert not Order.objects.exists()
    # Softly, as every business record: the history tells who entered, corrected and deleted it.
    deleted = Order.everything.get()
    assert deleted.deleted_at is not None
    assert [(entry.history_type, entry.history_user) for entry in deleted.history.order_by("history_id")] == [
        ("+", manager),
        ("~", head),
        ("~", manager),
    ]


def test_a_deleted_order_leaves_every_list_and_the_regularity(manager: User, acme: Company) -> None:
    record(manager, acme, on=DAY - timedelta(days=30))
    last = record(manager, acme, on=DAY)
    orders.order_delete(by=manager, order=last)

    history = volume_by_month(acme, months=2, today=DAY)
    assert [month.orders for month in history.months] == [1, 0]
    assert list(acme.orders.values_list("on", flat=True)) == [DAY - timedelta(days=30)]
    with pytest.raises(Http404):
        access.order_for_user(manager, last.pk)


def test_a_teammate_neither_corrects_nor_deletes(manager: User, teammate: User, acme: Company) -> None:
    order = record(manager, acme)
    with pytest.raises(PermissionDenied):
        orders.order_update(by=teammate, order=order, amount=Decimal(1))
    with pytest.raises(PermissionDenied):
        orders.order_delete(by=teammate, order=order)
    assert Order.objects.get().amount == Decimal("100.00")


# ---- From a won deal ---------------------------------------------------------------------------


def test_a_won_deal_makes_its_order_once(manager: User, acme: Company, simple: Pipeline) -> None:
    deal = won_deal(manager, acme, simple)

    order = orders.order_from_deal(by=manager, deal=deal, volume=Decimal(3))

    assert (order.company_id, order.deal_id, order.amount, order.currency, order.volume) == (
        acme.pk,
        deal.pk,
        Decimal("1500.00"),
        "EUR",
        Decimal(3),
    )
    assert deal.closed_at is not None
    assert order.on == timezone.localdate(deal.closed_at)
    with pytest.raises(ValidationError) as refused:
        orders.order_from_deal(by=manager, deal=deal)
    assert "This deal has its order already" in refused.value.message_dict["deal"][0]
    assert Order.objects.count() == 1

    # Deleted, it may be recorded again: the same order comes back, with the deal's figures of today.
    orders.order_delete(by=manager, order=order)
    again = orders.order_from_deal(by=manager, deal=deal)
    assert (again.pk, again.volume, again.deleted_at) == (order.pk, None, None)
    assert Order.objects.count() == 1


def test_an_open_or_lost_deal_or_one_without_amount_makes_none(manager: User, acme: Company, simple: Pipeline) -> None:
    deal = services.deal_create(by=manager, title="Open", company=acme, pipeline=simple, amount=Decimal(10))
    with pytest.raises(ValidationError) as refused:
        orders.order_from_deal(by=manager, deal=deal)
    assert refused.value.message_dict == {"deal": ["This deal is still open: only a won deal makes an order."]}

    lost = services.deal_move_to_stage(
        by=manager, deal=deal, stage=simple.stages.get(kind=StageKind.LOST), lost_reason=lost_reason()
    )
    with pytest.raises(ValidationError) as refused:
        orders.order_from_deal(by=manager, deal=lost)
    assert refused.value.message_dict == {"deal": ["This deal was lost: only a won deal makes an order."]}

    with pytest.raises(ValidationError) as refused:
        orders.order_from_deal(by=manager, deal=won_deal(manager, acme, simple, amount=None))
    assert refused.value.message_dict == {"amount": ["The deal has no amount: set it first."]}
    assert not Order.objects.exists()


def test_a_deal_with_a_person_only_makes_the_persons_order(manager: User, simple: Pipeline) -> None:
    person = client_services.contact_create(by=manager, last_name="Petrova", first_name="Anna")
    order = orders.order_from_deal(by=manager, deal=won_deal(manager, person, simple))
    assert (order.company_id, order.contact_id) == (None, person.pk)


def test_someone_who_may_not_edit_the_client_makes_no_order(
    manager: User, teammate: User, acme: Company, simple: Pipeline
) -> None:
    deal = won_deal(manager, acme, simple)
    with pytest.raises(PermissionDenied):
        orders.order_from_deal(by=teammate, deal=deal)


# ---- The client card's panel -------------------------------------------------------------------


def _card(client: Client, company: Company) -> str:
    response = client.get(company.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_the_card_lists_the_clients_orders_latest_first(manager: User, as_manager: Client, acme: Company) -> None:
    record(manager, acme, on=date(2026, 1, 5), amount=Decimal("10.00"))
    record(manager, acme, on=date(2026, 2, 5), amount=Decimal("20.00"))

    page = _card(as_manager, acme)

    assert 'id="client-orders"' in page
    assert page.index("20.00 USD") < page.index("10.00 USD")
    assert 'id="order-add-open"' in page


def test_a_reader_sees_orders_without_buttons_and_no_panel_without_orders(manager: User, acme: Company) -> None:
    analyst = UserFactory.create(username="analyst", role=Role.ANALYST)
    assert 'id="client-orders"' not in _card(client_for(analyst), acme)
    record(manager, acme)

    page = _card(client_for(analyst), acme)

    assert 'class="client-order"' in page
    assert 'id="order-add-open"' not in page
    assert "order-delete" not in page


def test_an_order_is_added_on_the_card(manager: User, as_manager: Client, acme: Company) -> None:
    url = f"/sales/orders/company/{acme.pk}/new/"
    form = as_manager.get(url, headers=HTMX)
    assert 'id="order-add-form"' in form.content.decode()

    response = as_manager.post(
        url, {"on": "2026-03-10", "amount": "250.00", "currency": "EUR", "volume": "4"}, headers=HTMX
    )

    assert response.status_code == 200
    assert "orders-changed" in response.headers["HX-Trigger"]
    assert "250.00 EUR" in response.content.decode()
    assert Order.objects.get().volume == Decimal(4)


def test_a_negative_amount_is_refused_next_to_its_field(as_manager: Client, acme: Company) -> None:
    response = as_manager.post(
        f"/sales/orders/company/{acme.pk}/new/",
        {"on": "2026-03-10", "amount": "-5", "currency": "USD"},
        headers=HTMX,
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_amount-error"' in page
    assert "The amount cannot be negative." in page
    assert not Order.objects.exists()


def test_without_javascript_a_post_goes_back_to_the_card(as_manager: Client, acme: Company) -> None:
    response = as_manager.post(
        f"/sales/orders/company/{acme.pk}/new/", {"on": "2026-03-10", "amount": "5", "currency": "USD"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{acme.get_absolute_url()}#client-orders"


def test_an_order_is_corrected_and_deleted_on_the_card(manager: User, as_manager: Client, acme: Company) -> None:
    order = record(manager, acme)
    editor = as_manager.get(f"/sales/orders/{order.pk}/edit/", headers=HTMX).content.decode()
    assert 'id="order-edit-form"' in editor

    refused = as_manager.post(
        f"/sales/orders/{order.pk}/edit/", {"on": "1990-01-01", "amount": "7", "currency": "USD"}, headers=HTMX
    )
    assert refused.status_code == 422
    assert "Give a date from 2000 on." in refused.content.decode()

    saved = as_manager.post(
        f"/sales/orders/{order.pk}/edit/", {"on": "2026-03-12", "amount": "7", "currency": "USD"}, headers=HTMX
    )
    assert saved.status_code == 200
    order.refresh_from_db()
    assert (order.on, order.amount) == (date(2026, 3, 12), Decimal(7))

    deleted = as_manager.post(f"/sales/orders/{order.pk}/delete/", headers=HTMX)
    assert deleted.status_code == 200
    assert 'id="no-orders"' in deleted.content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("teammate", 404), ("outsider", 404), ("agent", 404), ("head", 200)])
def test_who_may_use_the_order_screens(
    personas: dict[str, User], manager: User, acme: Company, persona: str, status: int
) -> None:
    order = record(manager, acme)
    client = client_for(personas[persona])
    assert client.get(f"/sales/orders/company/{acme.pk}/new/", headers=HTMX).status_code == status
    assert client.get(f"/sales/orders/{order.pk}/edit/", headers=HTMX).status_code == status
    assert client.get(f"/sales/orders/company/{acme.pk}/", headers=HTMX).status_code == status
    response = client.post(f"/sales/orders/{order.pk}/delete/", headers=HTMX)
    assert response.status_code == status
    assert Order.objects.exists() == (status != 200)


def test_a_reader_who_sees_the_client_may_not_change_its_orders(manager: User, acme: Company) -> None:
    order = record(manager, acme)
    analyst = client_for(UserFactory.create(username="analyst", role=Role.ANALYST))
    assert analyst.get(f"/sales/orders/company/{acme.pk}/", headers=HTMX).status_code == 200
    assert analyst.get(f"/sales/orders/company/{acme.pk}/new/", headers=HTMX).status_code == 403
    assert analyst.post(f"/sales/orders/{order.pk}/edit/", {"amount": "1"}, headers=HTMX).status_code == 403
    assert analyst.post(f"/sales/orders/{order.pk}/delete/", headers=HTMX).status_code == 403
    assert Order.objects.get().amount == Decimal("100.00")


def test_the_panel_costs_one_query_whatever_the_number_of_orders(
    manager: User, acme: Company, simple: Pipeline, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for day in range(30):
        record(manager, acme, on=DAY - timedelta(days=day))
    orders.order_from_deal(by=manager, deal=won_deal(manager, acme, simple))
    request = RequestFactory().get("/")
    request.user = manager

    with django_assert_num_queries(1):
        html = orders_panel(request, acme)

    assert html.count('class="client-order"') == 10
    assert 'id="all-client-orders"' in html
    assert "Pallets" in html  # the won deal's order links its deal


# ---- The won deal's card ----------------------------------------------------------------------


def test_a_won_deals_card_records_its_order(manager: User, as_manager: Client, acme: Company, simple: Pipeline) -> None:
    deal = won_deal(manager, acme, simple)
    assert 'id="record-order"' in as_manager.get(deal.get_absolute_url()).content.decode()

    response = as_manager.post(f"/sales/deals/{deal.pk}/order/", {"volume": "2.5"}, follow=True)

    page = response.content.decode()
    assert "The order of 1500.00 EUR is recorded for Acme Trading." in page
    assert 'id="record-order"' not in page
    assert 'id="deal-order"' in page
    assert Order.objects.get().volume == Decimal("2.5")

    again = as_manager.post(f"/sales/deals/{deal.pk}/order/", follow=True)
    assert "This deal has its order already" in again.content.decode()
    assert Order.objects.count() == 1


def test_an_open_deals_card_offers_no_order(manager: User, as_manager: Client, deal: Deal) -> None:
    page = as_manager.get(deal.get_absolute_url()).content.decode()
    assert 'id="record-order"' not in page

    response = as_manager.post(f"/sales/deals/{deal.pk}/order/", follow=True)
    assert "This deal is still open" in response.content.decode()
    assert not Order.objects.exists()


def test_a_deal_out_of_sight_answers_404(manager: User, acme: Company, simple: Pipeline, outsider: User) -> None:
    deal = won_deal(manager, acme, simple)
    assert client_for(outsider).post(f"/sales/deals/{deal.pk}/order/").status_code == 404
    assert not Order.objects.exists()
