"""Changes to many clients at once, from the lists: a new owner, a tag, active or frozen.

Each record goes through the same service as a change on its card, in its own
transaction, so the same rights apply and no record is left half-changed; one refused
record does not undo the others. Ids are resolved only through the access policy: an id
the user may not see is simply not found, never an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rapport.accounts import access
from rapport.accounts.models import Role, User
from rapport.clients import services
from rapport.clients.models import ClientStatus, Company, Contact
from rapport.clients.services import AnyClient

# At most this many clients in one go: each is its own transaction with a history row.
BULK_LIMIT = 1_000

OWNER, TAG, ACTIVE, FROZEN = "owner", "tag", "active", "frozen"


def actions_for(user: User) -> list[str]:
    """The bulk actions a user's role can do (each record is still checked by its service)."""
    if not user.is_active or user.role not in access.EDITING_ROLES:
        return []
    actions = [TAG, ACTIVE, FROZEN]
    # Transfers: heads within their team, admins anywhere (access.can_transfer_client).
    if user.is_admin or user.role == Role.HEAD:
        actions.insert(0, OWNER)
    return actions


@dataclass
class BulkResult:
    changed: int = 0
    unchanged: int = 0  # already so: nothing to do
    skipped: int = 0  # visible, but not this user's to change
    missing: int = 0  # not found: out of scope, deleted, or never there
    problems: list[str] = field(default_factory=list)  # why some were refused, other than rights

    @property
    def message(self) -> str:
        parts = [
            ngettext("%(count)d changed", "%(count)d changed", self.changed) % {"count": self.changed},
            ngettext("%(count)d skipped (not yours to change)", "%(count)d skipped (not yours to change)", self.skipped)
            % {"count": self.skipped},
        ]
        if self.unchanged:
            parts.append(
                ngettext("%(count)d already so", "%(count)d already so", self.unchanged) % {"count": self.unchanged}
            )
        if self.missing:
            parts.append(
                ngettext(
                    "%(count)d not found (no longer in your list)",
                    "%(count)d not found (no longer in your list)",
                    self.missing,
                )
                % {"count": self.missing}
            )
        text = ", ".join(parts) + "."
        if self.problems:
            text += " " + " ".join(self.problems)
        return text


# A change returns False when the record is already as asked.
Change = Callable[[AnyClient], bool]


def _apply(*, by: User, model: type[Company] | type[Contact], ids: Iterable[int], change: Change) -> BulkResult:
    wanted = list(dict.fromkeys(ids))[:BULK_LIMIT]
    clients = access.clients_visible_to(by, model).filter(pk__in=wanted).select_related("owner").order_by("pk")
    result = BulkResult()
    found = 0
    for client in clients:
        found += 1
        try:
            with transaction.atomic():
                done = change(client)
        except PermissionDenied:
            result.skipped += 1
        except ValidationError as error:
            result.skipped += 1
            for message in error.messages:
                if message not in result.problems:
                    result.problems.append(message)
        else:
            if done:
                result.changed += 1
            else:
                result.unchanged += 1
    result.missing = len(wanted) - found
    return result


def clients_transfer(
    *, by: User, model: type[Company] | type[Contact], ids: Iterable[int], to_user: User | None
) -> BulkResult:
    """Give the clients to another manager (or the pool), each through services.client_transfer."""

    def change(client: AnyClient) -> bool:
        if client.owner_id == (to_user.pk if to_user else None):
            if not access.can_transfer_client(by, client):
                raise PermissionDenied
            return False
        services.client_transfer(by=by, client=client, to_user=to_user, reason=_("Bulk change from the list"))
        return True

    return _apply(by=by, model=model, ids=ids, change=change)


def clients_tag_add(*, by: User, model: type[Company] | type[Contact], ids: Iterable[int], name: str) -> BulkResult:
    """Add one tag to each client (their other tags stay), through services.client_tag_add."""

    def change(client: AnyClient) -> bool:
        services.client_tag_add(by=by, client=client, name=name)
        return True

    return _apply(by=by, model=model, ids=ids, change=change)


def clients_set_status(
    *, by: User, model: type[Company] | type[Contact], ids: Iterable[int], status: str
) -> BulkResult:
    """Make the clients active or frozen, through services.client_update. Pool clients are taken or given instead."""
    if status not in {ClientStatus.ACTIVE, ClientStatus.FROZEN}:
        raise ValidationError(_("Choose active or frozen."))

    def change(client: AnyClient) -> bool:
        if not access.can_edit_client(by, client):
            raise PermissionDenied
        if client.status == ClientStatus.POOL:
            raise ValidationError(_("Clients in the shared pool are taken or given an owner, not re-statused."))
        if client.status == status:
            return False
        services.client_update(by=by, client=client, version=client.version, status=status)
        return True

    return _apply(by=by, model=model, ids=ids, change=change)


def bulk_run(
    *, by: User, model: type[Company] | type[Contact], action: str, ids: Iterable[int], **options: Any
) -> BulkResult:
    """Run one bulk action by name; an action the user's role cannot do is refused as a whole."""
    if action not in actions_for(by):
        raise PermissionDenied
    if action == OWNER:
        return clients_transfer(by=by, model=model, ids=ids, to_user=options.get("to_user"))
    if action == TAG:
        return clients_tag_add(by=by, model=model, ids=ids, name=options["tag"])
    return clients_set_status(by=by, model=model, ids=ids, status=action)
