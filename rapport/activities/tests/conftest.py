from __future__ import annotations

import pytest

from rapport.accounts.models import User
from rapport.clients import services as client_services
from rapport.clients.models import Company, Contact
from rapport.sales import services
from rapport.sales.models import Deal, Pipeline
from rapport.sales.tests.factories import sales_pipeline


@pytest.fixture
def pipeline(db: None) -> Pipeline:
    return sales_pipeline()


@pytest.fixture
def acme(manager: User) -> Company:
    return client_services.company_create(by=manager, name="Acme Trading")


@pytest.fixture
def ivanov(manager: User, acme: Company) -> Contact:
    return client_services.contact_create(by=manager, last_name="Ivanov", first_name="Fedor", company=acme)


@pytest.fixture
def deal(manager: User, acme: Company, pipeline: Pipeline) -> Deal:
    return services.deal_create(by=manager, title="Chairs for the office", company=acme, pipeline=pipeline)
