from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count, F

from conftest import load_tiny_demo
from rapport.accounts import access
from rapport.accounts.models import Role, User
from rapport.clients import services
from rapport.clients.models import ClientStatus, Company, Contact, ContactPoint
from rapport.clients.search import find_clients, search_index_suspended
from rapport.core.bulk import bulk_insert


@pytest.fixture
def demo_data(db: None) -> None:
    load_tiny_demo(companies=60, contacts=150, deals=0, activities=0)


def test_demo_clients_are_coherent(demo_data: None) -> None:
    assert (Company.objects.count(), Contact.objects.count()) == (60, 150)
    # Pool clients have no owner; everyone else is owned by a manager.
    assert not Company.objects.filter(status=ClientStatus.POOL, owner__isnull=False).exists()
    assert not Company.objects.exclude(status=ClientStatus.POOL).filter(owner__isnull=True).exists()
    # A contact at a company shares its owner.
    at_companies = Contact.objects.filter(company__isnull=False)
    assert not at_companies.exclude(owner=F("company__owner")).exclude(owner__isnull=True).exists()
    # Every client has exactly one primary phone, stored the way search reads it.
    phones = ContactPoint.objects.filter(kind="phone", is_primary=True)
    assert phones.values("contact").exclude(contact=None).annotate(n=Count("id")).filter(n__gt=1).count() == 0
    assert phones.count() == 60 + 150
    for phone in phones[:20]:
        assert phone.normalized.startswith("+")
        assert phone.digits_reversed == phone.normalized[1:][::-1]


def test_search_finds_the_demo_clients_and_new_ones_after_the_load(demo_data: None) -> None:
    operator = User.objects.get(username="operator")
    contacts, companies = access.contacts_visible_to(operator), access.companies_visible_to(operator)
    for contact in Contact.objects.order_by("-pk")[:5]:
        assert contact in find_clients(contacts, f"{contact.last_name} {contact.first_name}", limit=150)
        phone = contact.points.get(kind="phone")
        assert find_clients(contacts, phone.value[-9:], limit=8) == [contact]
    company = Company.objects.exclude(tax_id="").order_by("-pk").first()
    assert company is not None
    assert company in find_clients(companies, company.name, limit=60)
    assert find_clients(companies, company.tax_id, limit=8) == [company]
    # The index follows later changes again.
    manager = User.objects.filter(role=Role.MANAGER).first()
    assert manager is not None
    added = services.company_create(by=manager, name="Zephyr Logistics")
    assert find_clients(companies, "zephyr", limit=8) == [added]


def _search_index_parts() -> set[str]:
    """The triggers (SQLite) or indexes (PostgreSQL) that keep name search current."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname FROM pg_indexes WHERE indexdef LIKE %s", ["%gin_trgm_ops%"])
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s", ["%fts%"])
        return {row[0] for row in cursor.fetchall()}


def _load_company(owner: User, name: str) -> None:
    bulk_insert(
        Company, ["name", "search_text", "owner_id", "registrant_id"], [(name, name.lower(), owner.pk, owner.pk)]
    )


def test_rows_loaded_while_the_search_index_is_suspended_are_found(manager: User) -> None:
    parts = _search_index_parts()
    assert len(parts) >= 2
    with search_index_suspended():
        assert _search_index_parts() == set()
        _load_company(manager, "Quasar Freight")
    assert _search_index_parts() == parts
    visible = access.companies_visible_to(manager)
    assert [company.name for company in find_clients(visible, "quasar", limit=8)] == ["Quasar Freight"]
    added = services.company_create(by=manager, name="Zephyr Logistics")
    assert find_clients(visible, "zephyr", limit=8) == [added]


def test_a_failed_load_leaves_the_search_index_as_it_was(manager: User) -> None:
    def broken_load() -> None:
        with search_index_suspended():
            _load_company(manager, "Quasar Freight")
            raise RuntimeError("the load broke")

    parts = _search_index_parts()
    with pytest.raises(RuntimeError):
        broken_load()
    assert _search_index_parts() == parts
    assert not Company.objects.filter(name="Quasar Freight").exists()
    added = services.company_create(by=manager, name="Zephyr Logistics")
    assert find_clients(access.companies_visible_to(manager), "zephyr", limit=8) == [added]
