from __future__ import annotations

import pytest

from rapport.accounts.models import User
from rapport.clients import services as client_services
from rapport.clients.models import Company
from rapport.sales.models import Pipeline
from rapport.sales.tests.factories import sales_pipeline


@pytest.fixture
def pipeline(db: None) -> Pipeline:
    return sales_pipeline()


@pytest.fixture
def acme(manager: User) -> Company:
    return client_services.company_create(by=manager, name="Acme Trading")
