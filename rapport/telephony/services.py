"""Setting up telephony: integrations, their secrets and the extension map. Admins only, checked here.

The secret signs the webhook's events. It is given back once, when made (on creation or
renewal), and never shown again: the caller shows it to the admin then, and only then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from rapport.accounts import access
from rapport.accounts.models import Role, User
from rapport.core.phones import phone_parse
from rapport.telephony.ami import OriginateError, ami_originate
from rapport.telephony.models import Extension, Integration, new_secret

# What an integration's settings are, in the order its form shows them.
INTEGRATION_FIELDS = (
    "name",
    "region",
    "duty_manager",
    "callback_minutes",
    "is_active",
    "ami_host",
    "ami_port",
    "ami_username",
    "ami_secret",
    "ami_context",
)
EXTENSION_LENGTH = Extension._meta.get_field("number").max_length or 40
# Who answers calls: the people who own clients and log activities.
ANSWERING_ROLES = {Role.MANAGER, Role.HEAD, Role.AGENT, Role.OPERATOR}


def _check(by: User) -> None:
    if not access.can_configure_telephony(by):
        raise PermissionDenied


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields).difference(INTEGRATION_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))})


def _save(integration: Integration) -> None:
    integration.region = integration.region.strip().upper()
    integration.full_clean()
    if integration.duty_manager is not None and integration.duty_manager.role not in ANSWERING_ROLES:
        raise ValidationError({"duty_manager": _("Choose someone who calls clients.")})
    try:
        with transaction.atomic():
            integration.save()
    except IntegrityError as error:
        raise ValidationError({"name": _("Another integration has this name.")}) from error


@transaction.atomic
def integration_create(*, by: User, **fields: Any) -> tuple[Integration, str]:
    """A new integration and its secret, which is shown this once."""
    _check(by)
    _check_fields(fields)
    integration = Integration(**fields)
    _save(integration)
    return integration, integration.secret


@transaction.atomic
def integration_update(*, by: User, integration: Integration, **changes: Any) -> Integration:
    """Change the settings; an empty AMI password keeps the one stored (it is never shown to be typed again)."""
    _check(by)
    _check_fields(changes)
    if not changes.get("ami_secret"):
        changes.pop("ami_secret", None)
    for name, value in changes.items():
        setattr(integration, name, value)
    _save(integration)
    return integration


@transaction.atomic
def integration_secret_renew(*, by: User, integration: Integration) -> str:
    """A new secret, shown this once; the old one signs nothing from now on."""
    _check(by)
    integration.secret = new_secret()
    integration.save(update_fields=["secret", "updated_at"])
    return integration.secret


@transaction.atomic
def extension_set(*, by: User, integration: Integration, number: str, user: User) -> Extension:
    """Map an extension to the person who answers it; an extension mapped before moves to them."""
    _check(by)
    number = number.strip()
    if not number:
        raise ValidationError({"number": _("Give the extension's number.")})
    if len(number) > EXTENSION_LENGTH:
        raise ValidationError(
            {"number": _("An extension is at most %(count)d characters.") % {"count": EXTENSION_LENGTH}}
        )
    if not user.is_active or user.role not in ANSWERING_ROLES:
        raise ValidationError({"user": _("Choose someone who calls clients.")})
    extension, _created = Extension.objects.update_or_create(
        integration=integration, number=number, defaults={"user": user}
    )
    return extension


@transaction.atomic
def extension_remove(*, by: User, extension: Extension) -> None:
    _check(by)
    extension.delete()


# ---- Click-to-call -----------------------------------------------------------------------------


class ClickToCallUnavailableError(Exception):
    """The person has no extension on a PBX that originates calls: their phone's own tel: handling dials instead."""


@dataclass(frozen=True)
class ClickToCall:
    extension: str
    number: str  # E.164, as dialled


def click_to_call(*, by: User, number: str) -> ClickToCall:
    """Ask the PBX to ring the person's extension, then dial ``number`` (AMI Originate).

    The call itself is then recorded like any other, by the listener. ValidationError: the
    number cannot be read, or the PBX refused (its reason, in a sentence of ours).
    """
    if not access.can_log_activities(by):
        raise PermissionDenied
    extension = (
        Extension.objects.filter(user=by, integration__is_active=True)
        .exclude(integration__ami_host="")
        .exclude(integration__ami_username="")
        .select_related("integration")
        .order_by("integration__name", "number")
        .first()
    )
    if extension is None:
        raise ClickToCallUnavailableError
    integration = extension.integration
    try:
        e164 = phone_parse(number, region=integration.phone_region).e164
    except ValidationError as error:
        raise ValidationError({"number": error.messages}) from error
    try:
        ami_originate(integration, extension=extension.number, number=e164)
    except OriginateError as refused:
        raise ValidationError(
            {"number": _("The PBX could not place the call: %(reason)s.") % {"reason": str(refused).rstrip(".")}}
        ) from refused
    return ClickToCall(extension=extension.number, number=e164)
