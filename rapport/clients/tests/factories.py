from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from rapport.clients.models import Company, Contact


class CompanyFactory(DjangoModelFactory[Company]):
    class Meta:
        model = Company

    name = factory.Faker("company")


class ContactFactory(DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    last_name = factory.Faker("last_name")
    first_name = factory.Faker("first_name")
