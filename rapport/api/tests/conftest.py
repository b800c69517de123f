from __future__ import annotations

import pytest

from rapport.accounts.models import User
from rapport.clients.models import ClientStatus, Company
from rapport.clients.search import search_text_of
from rapport.clients.tests.factories import CompanyFactory


@pytest.fixture
def clients(personas: dict[str, User]) -> dict[str, Company]:
    """One company per owner of interest, keyed as in clients.tests.test_access.VISIBLE."""
    made = {
        "manager's": CompanyFactory.create(name="Manager Ltd", owner=personas["manager"]),
        "teammate's": CompanyFactory.create(name="Teammate Ltd", owner=personas["teammate"]),
        "outsider's": CompanyFactory.create(name="Outsider Ltd", owner=personas["outsider"]),
        "agent's": CompanyFactory.create(name="Agent Ltd", owner=personas["agent"]),
        "pool": CompanyFactory.create(name="Pool Ltd", owner=None, status=ClientStatus.POOL),
    }
    for company in made.values():  # the factory skips the services, which fill the search column
        Company.objects.filter(pk=company.pk).update(search_text=search_text_of(company))
    return made
