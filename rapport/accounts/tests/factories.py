from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from rapport.accounts.models import Role, Team, User
from rapport.accounts.services import role_group_sync


class TeamFactory(DjangoModelFactory[Team]):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    role = Role.MANAGER
    password = factory.django.Password("secret-pass-123")

    @factory.post_generation
    def role_group(user: User, create: bool, extracted: object, **kwargs: object) -> None:  # noqa: N805  (factory-boy passes the built user)
        if create:
            role_group_sync(user)
