from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import client_for
from rapport.accounts.models import User
from rapport.clients import services
from rapport.clients.models import ClientStatus, Company, LeadSource
from rapport.clients.queries import COUNT_CAP
from rapport.clients.services import PointInput
from rapport.clients.tests.factories import CompanyFactory, ContactFactory
from rapport.core.paging import PAGE_SIZE


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    import html
    import re

    return [html.unescape(name) for name in re.findall(r'class="client-link">(.*?)</a>', response.content.decode())]


@pytest.fixture
def book(personas: dict[str, User]) -> None:
    now = timezone.now()
    web = LeadSource.objects.create(name="Website")
    CompanyFactory.create(name="Old Mine", owner=personas["manager"], last_contact_at=now - timedelta(days=90))
    CompanyFactory.create(name="Fresh Mine", owner=personas["manager"], last_contact_at=now, lead_source=web)
    CompanyFactory.create(name="Frozen Mine", owner=personas["manager"], status=ClientStatus.FROZEN)
    CompanyFactory.create(name="Teammate's", owner=personas["teammate"], last_contact_at=now - timedelta(days=5))
    CompanyFactory.create(name="Outsider's", owner=personas["outsider"])
    CompanyFactory.create(name="In the pool", owner=None, status=ClientStatus.POOL)


def test_manager_sees_own_and_pool_oldest_contact_first(book: None, as_manager: Client) -> None:
    # Never contacted first (the most neglected), then the longest ago.
    listed = names(as_manager.get("/clients/companies/"))
    assert set(listed[:2]) == {"Frozen Mine", "In the pool"}
    assert listed[2:] == ["Old Mine", "Fresh Mine"]
    assert names(as_manager.get("/clients/companies/", {"sort": "-last_contact"}))[:2] == ["Fresh Mine", "Old Mine"]


def test_filters(book: None, personas: dict[str, User], as_manager: Client) -> None:
    source = LeadSource.objects.get(name="Website")
    assert names(as_manager.get("/clients/companies/", {"status": "frozen"})) == ["Frozen Mine"]
    assert names(as_manager.get("/clients/companies/", {"owner": "none"})) == ["In the pool"]
    assert names(as_manager.get("/clients/companies/", {"source": source.pk})) == ["Fresh Mine"]
    week_ago = (timezone.localdate() - timedelta(days=7)).isoformat()
    assert names(as_manager.get("/clients/companies/", {"contacted_after": week_ago})) == ["Fresh Mine"]
    assert set(names(as_manager.get("/clients/companies/", {"sort": "name"}))) == {
        "Old Mine",
        "Fresh Mine",
        "Frozen Mine",
        "In the pool",
    }


def test_head_sees_the_team_and_filters_by_member(book: None, personas: dict[str, User]) -> None:
    head = client_for(personas["head"])
    assert set(names(head.get("/clients/companies/"))) == {
        "Old Mine",
        "Fresh Mine",
        "Frozen Mine",
        "Teammate's",
        "In the pool",
    }
    teammate = personas["teammate"]
    assert names(head.get("/clients/companies/", {"owner": teammate.pk})) == ["Teammate's"]


def test_owner_outside_the_scope_is_not_a_choice(book: None, personas: dict[str, User], as_manager: Client) -> None:
    response = as_manager.get("/clients/companies/", {"owner": personas["outsider"].pk})
    assert "Select a valid choice" in response.content.decode()
    assert "Outsider's" not in names(response)


def test_bad_dates_are_explained(book: None, as_manager: Client) -> None:
    response = as_manager.get(
        "/clients/companies/", {"contacted_after": "2026-05-01", "contacted_before": "2026-04-01"}
    )
    assert "This date is before the “from” date." in response.content.decode()
    response = as_manager.get("/clients/companies/", {"contacted_after": "yesterday"})
    assert response.status_code == 200
    assert "Enter a valid date." in response.content.decode()


def test_birthday_filter_on_contacts(manager: User, as_manager: Client) -> None:
    today = timezone.localdate()
    ContactFactory.create(last_name="Born This Month", owner=manager, birthday=today.replace(year=1985, day=1))
    ContactFactory.create(last_name="No Birthday", owner=manager)
    response = as_manager.get("/clients/contacts/", {"birthday_month": today.month})
    assert [name.split()[0] for name in names(response)] == ["Born"]


def test_pages_and_capped_count(manager: User, as_manager: Client, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    Company.objects.bulk_create(Company(name=f"Client {n:04}", owner=manager) for n in range(PAGE_SIZE + 5))
    with django_assert_max_num_queries(10):
        first = as_manager.get("/clients/companies/", {"sort": "name"})
    assert len(names(first)) == PAGE_SIZE
    assert f"1–{PAGE_SIZE} of {PAGE_SIZE + 5}" in first.content.decode()
    second = as_manager.get("/clients/companies/", {"sort": "name", "page": "2"})
    assert names(second) == [f"Client {n:04}" for n in range(PAGE_SIZE, PAGE_SIZE + 5)]
    assert as_manager.get("/clients/companies/", {"page": "x"}).status_code == 200


def test_count_is_capped(manager: User, as_manager: Client) -> None:
    Company.objects.bulk_create(Company(name=f"C{n}", owner=manager) for n in range(COUNT_CAP + 3))
    assert "of more than 1,000" in as_manager.get("/clients/companies/").content.decode()


def test_contact_list_query_count_and_htmx_partial(
    manager: User, as_manager: Client, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    company = services.company_create(by=manager, name="Acme")
    for number in range(10):
        services.contact_create(
            by=manager,
            last_name=f"Person{number}",
            company=company,
            points=[PointInput("phone", f"+1 201 555 01{number:02}")],
        )
    with django_assert_max_num_queries(10):
        response = as_manager.get("/clients/contacts/", headers={"HX-Request": "true", "HX-Target": "client-table"})
    page = response.content.decode()
    assert "<html" not in page
    assert "+1 201 555 0105" in page
    assert "Acme" in page
    assert len(names(response)) == 10


def test_filter_by_open_deal(personas: dict[str, User], as_manager: Client) -> None:
    from rapport.sales import services as sales
    from rapport.sales.tests.factories import lost_reason, sales_pipeline, stage

    manager = personas["manager"]
    pipeline = sales_pipeline()
    selling = services.company_create(by=manager, name="Selling to")
    closed = services.company_create(by=manager, name="Lost them")
    services.company_create(by=manager, name="Nothing yet")
    person = services.contact_create(by=manager, last_name="Buyer")
    services.contact_create(by=manager, last_name="Browser")
    sales.deal_create(by=manager, title="Chairs", company=selling, pipeline=pipeline)
    sales.deal_create(by=manager, title="Desks", contact=person, pipeline=pipeline)
    lost = sales.deal_create(by=manager, title="Toner", company=closed, pipeline=pipeline)
    sales.deal_move_to_stage(by=manager, deal=lost, stage=stage(pipeline, "Lost"), lost_reason=lost_reason())
    # A deleted deal is no deal.
    gone = sales.deal_create(by=manager, title="Gone", company=closed, pipeline=pipeline)
    sales.deal_delete(by=manager, deal=gone)

    assert names(as_manager.get("/clients/companies/", {"open_deal": "yes"})) == ["Selling to"]
    assert set(names(as_manager.get("/clients/companies/", {"open_deal": "no"}))) == {"Lost them", "Nothing yet"}
    assert names(as_manager.get("/clients/contacts/", {"open_deal": "yes"})) == ["Buyer"]
    assert names(as_manager.get("/clients/contacts/", {"open_deal": "no"})) == ["Browser"]
    page = as_manager.get("/clients/companies/", {"open_deal": "yes"}).content.decode()
    assert '<option value="yes" selected>Has an open deal</option>' in page
    assert "Select a valid choice" in as_manager.get("/clients/companies/", {"open_deal": "maybe"}).content.decode()


def test_the_search_box_does_not_repeat_the_list_filters(book: None, as_manager: Client) -> None:
    page = as_manager.get("/clients/companies/", {"status": "frozen"}).content.decode()
    assert re.search(r'id="global-search-input"\s+value=""', page)
    assert 'href="/clients/companies/export.csv?status=frozen"' in page
