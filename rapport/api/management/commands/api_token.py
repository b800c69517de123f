from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from rapport.accounts.models import User
from rapport.api.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user; the key is printed once (only its hash is stored)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("name", help="What the token is for, e.g. 'telephony bridge'.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['username']!r}.")
        try:
            # Whoever runs commands on the server acts for the user, as the user would on the token screen.
            token, key = api_token_create(by=user, user=user, name=options["name"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        except PermissionDenied as error:
            raise CommandError(str(error) or "this user cannot have API tokens.") from None
        self.stdout.write(f"Token {token.name!r} for {user.username} — shown only now:\n{key}")
