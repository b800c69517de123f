"""Every change to the client base goes through these functions: UI, API, imports and jobs alike.

Each runs in one transaction, checks the access policy's edit rights itself (so no path
can skip them), refuses a stale version, and leaves history rows behind (simple-history
for field changes, ClientTransfer for owners).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from rapport.accounts import access
from rapport.accounts.models import Role, User
from rapport.clients.models import (
    ClientMerge,
    ClientStatus,
    ClientTransfer,
    Company,
    Contact,
    ContactPoint,
    ContactPointKind,
    Tag,
    TransferKind,
)
from rapport.clients.search import search_text_of
from rapport.core.phones import digits_of, phone_parse

type AnyClient = Company | Contact

# Fields that hold a person's personal data (see access.can_edit_personal_data).
PERSONAL_FIELDS = {"last_name", "first_name", "middle_name", "birthday"}
# What the edit services accept, per kind (owner changes go through client_transfer).
SHARED_FIELDS = {
    "tax_id",
    "industry",
    "address",
    "website",
    "notes",
    "lead_source",
    "status",
    "consent_email",
    "consent_sms",
}
COMPANY_FIELDS = SHARED_FIELDS | {"name"}
CONTACT_FIELDS = SHARED_FIELDS | {"last_name", "first_name", "middle_name", "position", "company", "birthday"}


@dataclass(frozen=True)
class PointInput:
    kind: str
    value: str
    label: str = ""
    is_primary: bool = False


def _client_kwargs(client: AnyClient) -> dict[str, AnyClient]:
    return {client.kind: client}


def _check_owner(*, by: User, owner: User | None) -> None:
    """Managers own what they enter; heads assign within their team; admins and operators to anyone."""
    if owner is None or owner == by:
        return
    if not owner.is_active or owner.role not in {Role.MANAGER, Role.HEAD, Role.AGENT}:
        raise ValidationError({"owner": _("%(name)s cannot own clients.") % {"name": owner.display_name}})
    if by.is_admin or by.role == Role.OPERATOR:
        return
    if by.role == Role.HEAD and by.team_id is not None and owner.team_id == by.team_id:
        return
    raise ValidationError({"owner": _("You can only assign clients to managers of your own team.")})


def _save_new(client: AnyClient) -> None:
    client.search_text = search_text_of(client)
    client.full_clean(exclude=["tags"])
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError as error:
        # The partial unique index is the last word when two people save the same tax id at once.
        raise ValidationError({"tax_id": _("Another client already has this tax id.")}) from error


def _check_tax_id(model: type[AnyClient], tax_id: str, *, exclude_pk: int | None = None) -> None:
    if not tax_id:
        return
    others = model.objects.alive().filter(tax_id=tax_id)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    holder = others.first()
    if holder is not None:
        raise ValidationError({"tax_id": _("This tax id belongs to %(name)s already.") % {"name": holder.display_name}})


@transaction.atomic
def company_create(
    *, by: User, name: str, owner: User | None = None, points: list[PointInput] | None = None, **fields: Any
) -> Company:
    if not access.can_create_clients(by):
        raise PermissionDenied
    owner = owner or (by if by.role in {Role.MANAGER, Role.HEAD, Role.AGENT} else None)
    _check_owner(by=by, owner=owner)
    _check_fields(fields, allowed=COMPANY_FIELDS)
    _check_tax_id(Company, fields.get("tax_id", ""))
    if owner is None:
        fields["status"] = ClientStatus.POOL  # nobody's client is the shared pool's
    company = Company(name=name.strip(), owner=owner, registrant=by, **fields)
    company._history_user = by  # type: ignore[attr-defined]
    _save_new(company)
    for point in points or []:
        contact_point_add(by=by, client=company, point=point)
    return company


@transaction.atomic
def contact_create(
    *, by: User, owner: User | None = None, points: list[PointInput] | None = None, **fields: Any
) -> Contact:
    if not access.can_create_clients(by):
        raise PermissionDenied
    owner = owner or (by if by.role in {Role.MANAGER, Role.HEAD, Role.AGENT} else None)
    _check_owner(by=by, owner=owner)
    _check_fields(fields, allowed=CONTACT_FIELDS)
    if not (fields.get("last_name", "").strip() or fields.get("first_name", "").strip()):
        raise ValidationError({"last_name": _("Give at least a last or a first name.")})
    _check_company_visible(by=by, company=fields.get("company"))
    _check_tax_id(Contact, fields.get("tax_id", ""))
    if owner is None:
        fields["status"] = ClientStatus.POOL
    contact = Contact(owner=owner, registrant=by, **fields)
    contact._history_user = by  # type: ignore[attr-defined]
    _save_new(contact)
    for point in points or []:
        contact_point_add(by=by, client=contact, point=point)
    return contact


@transaction.atomic
def lead_from_call_create(*, number: str, e164: str, owner: User | None, tag_name: str) -> Contact:
    """A caller nobody knows, entered by the telephony: a contact named by its number, with that phone.

    Owned by the manager who answered (credited as its registrant), or, unanswered, the shared
    pool's. The telephony is the witness, not a person, so no person's rights are asked; the
    tag marks it for its owner to complete (a name, a company).
    """
    contact = Contact(
        last_name=number.strip()[:100],
        owner=owner,
        registrant=owner,
        status=ClientStatus.ACTIVE if owner is not None else ClientStatus.POOL,
    )
    contact._history_user = owner  # type: ignore[attr-defined]
    _save_new(contact)
    digits = digits_of(e164)
    ContactPoint.objects.create(
        contact=contact,
        kind=ContactPointKind.PHONE,
        value=number.strip()[:100],
        normalized=e164,
        digits_reversed=digits[::-1],
        is_primary=True,
    )
    contact.tags.add(tag_get_or_create(tag_name))
    return contact


def _check_company_visible(*, by: User, company: Company | None) -> None:
    if company is not None and not access.companies_visible_to(by).filter(pk=company.pk).exists():
        raise ValidationError({"company": _("Choose a company you can see.")})


def _check_fields(fields: dict[str, Any], *, allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(
            _("These fields cannot be set here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )


def _check_version(client: AnyClient, version: int) -> None:
    """Refuse a save based on an old copy of the record, naming who changed it since and when."""
    if client.version == version:
        return
    latest = client.history.first()
    who = latest.history_user.display_name if latest and latest.history_user else _("someone")
    when = formats.date_format(timezone.localtime(client.updated_at), "SHORT_DATETIME_FORMAT")
    raise ValidationError(
        _("Changed by %(who)s at %(when)s — reload to see their changes, then edit again.")
        % {"who": who, "when": when},
        code="stale",
    )


@transaction.atomic
def client_update(*, by: User, client: AnyClient, version: int, **changes: Any) -> AnyClient:
    """Change some fields of a company or contact, within the editor's rights."""
    model = type(client)
    locked = _lock(client)
    if not access.can_edit_client(by, locked) and not access.can_edit_personal_data(by, locked):
        raise PermissionDenied
    _check_version(locked, version)
    _check_fields(changes, allowed=COMPANY_FIELDS if isinstance(locked, Company) else CONTACT_FIELDS)
    personal = set(changes) & (PERSONAL_FIELDS | ({"name"} if isinstance(locked, Contact) else set()))
    if personal and not access.can_edit_personal_data(by, locked):
        raise ValidationError(
            {field: _("Only operators may change personal data.") for field in personal}, code="personal_data"
        )
    if set(changes) - personal and not access.can_edit_client(by, locked):
        raise PermissionDenied
    if "tax_id" in changes:
        _check_tax_id(model, changes["tax_id"], exclude_pk=locked.pk)
    if "company" in changes:
        _check_company_visible(by=by, company=changes["company"])
    if "status" in changes and changes["status"] not in ClientStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    for field, value in changes.items():
        setattr(locked, field, value)
    if isinstance(locked, Contact) and not (locked.last_name.strip() or locked.first_name.strip()):
        raise ValidationError({"last_name": _("Give at least a last or a first name.")})
    locked.full_clean(exclude=["tags"])
    locked.search_text = search_text_of(locked)
    locked.version = F("version") + 1
    # simple-history records who changed it, also outside a web request (API, imports, jobs).
    locked._history_user = by  # type: ignore[union-attr]
    locked.save(update_fields=[*changes, "search_text", "version", "updated_at"])
    locked.refresh_from_db()
    return locked


def _lock(client: AnyClient) -> AnyClient:
    return type(client).objects.select_for_update().get(pk=client.pk)


def _move_owner(
    *,
    by: User | None,
    locked: AnyClient,
    to_user: User | None,
    reason: str,
    kind: str = TransferKind.HAND_OVER,
    rule: str = "",
    approved_by: User | None = None,
) -> ClientTransfer:
    """Set a locked client's owner and log it; no owner means the shared pool (``by`` None: Rapport itself,
    a rule applied automatically). What follows the client (its planned activities) is moved by the callbacks
    registered with ``register_owner_moved``, in the same transaction: from the previous owner, or for a client
    taken out of the pool, from its owner before the pool."""
    previous = locked.owner
    # Out of the pool, what its last owner left planned follows the client to whoever takes it.
    holder = _owner_before_pool(locked) if previous is None and locked.status == ClientStatus.POOL else previous
    locked.owner = to_user
    if to_user is None:
        locked.status = ClientStatus.POOL
    elif locked.status == ClientStatus.POOL:
        locked.status = ClientStatus.ACTIVE
    locked.version = F("version") + 1
    locked._history_user = by  # type: ignore[union-attr]
    locked.save(update_fields=["owner", "status", "version", "updated_at"])
    transfer = ClientTransfer.objects.create(
        **_client_kwargs(locked),
        from_user=previous,
        to_user=to_user,
        by=by,
        reason=reason[:300],
        kind=kind,
        rule=rule[:120],
        approved_by=approved_by,
    )
    for callback in _owner_moved:
        callback(locked, holder, to_user)
    return transfer


def _owner_before_pool(client: AnyClient) -> User | None:
    """Who owned a pooled client before it went into the pool (None if it was entered without an owner)."""
    entry = (
        ClientTransfer.objects.filter(**_client_kwargs(client), to_user__isnull=True)
        .select_related("from_user")
        .order_by("-at", "-id")
        .first()
    )
    return entry.from_user if entry else None


@transaction.atomic
def client_transfer(*, by: User, client: AnyClient, to_user: User | None, reason: str = "") -> ClientTransfer:
    """Give a client to another manager (or to nobody, into the pool), logged in the transfer log."""
    if not access.can_transfer_client(by, client):
        raise PermissionDenied
    _check_owner(by=by, owner=to_user)
    return _move_owner(by=by, locked=_lock(client), to_user=to_user, reason=reason)


@transaction.atomic
def client_take_from_pool(*, by: User, client: AnyClient) -> ClientTransfer:
    """A manager takes a client from the shared pool: it becomes theirs and active."""
    if by.role not in {Role.MANAGER, Role.HEAD}:
        raise PermissionDenied
    locked = _lock(client)
    if locked.status != ClientStatus.POOL or locked.is_deleted:
        raise ValidationError(_("This client is no longer in the pool."))
    return _move_owner(by=by, locked=locked, to_user=by, reason=_("Taken from the pool"), kind=TransferKind.POOL_CLAIM)


@transaction.atomic
def client_delete(*, by: User, client: AnyClient) -> None:
    """Soft delete: the client goes to the trash, from where admins restore it."""
    if not access.can_edit_client(by, client) or by.role == Role.AGENT:
        raise PermissionDenied
    client.deleted_at, client.deleted_by = timezone.now(), by
    client._history_user = by  # type: ignore[union-attr]
    client.save(update_fields=["deleted_at", "deleted_by", "updated_at"])


@transaction.atomic
def client_restore(*, by: User, client: AnyClient) -> None:
    if not access.can_see_trash(by):
        raise PermissionDenied
    if ClientMerge.objects.filter(kind=client.kind, merged_id=client.pk).exists():
        raise ValidationError(
            _("%(name)s was merged into another record; everything it had is there now.")
            % {"name": client.display_name}
        )
    _check_tax_id(type(client), client.tax_id, exclude_pk=client.pk)
    client.deleted_at, client.deleted_by = None, None
    client._history_user = by  # type: ignore[union-attr]
    client.save(update_fields=["deleted_at", "deleted_by", "updated_at"])


def _normalize_point(kind: str, value: str) -> tuple[str, str]:
    """(normalized, digits_reversed) of a contact point, or a ValidationError saying what is expected."""
    value = value.strip()
    if not value:
        raise ValidationError({"value": _("Fill this in.")})
    if kind == ContactPointKind.PHONE:
        try:
            phone = phone_parse(value)
        except ValidationError as error:
            raise ValidationError({"value": error.messages}) from error
        return phone.e164, phone.digits_reversed
    if kind == ContactPointKind.EMAIL:
        try:
            validate_email(value)
        except ValidationError as error:
            raise ValidationError({"value": _("Enter an e-mail address like name@example.com.")}) from error
        return value.lower(), ""
    if kind == ContactPointKind.MESSENGER:
        return value.lower(), ""
    raise ValidationError({"kind": _("Unknown kind of contact.")})


@transaction.atomic
def contact_point_add(*, by: User, client: AnyClient, point: PointInput) -> ContactPoint:
    if not access.can_edit_personal_data(by, client):
        raise PermissionDenied
    normalized, digits_reversed = _normalize_point(point.kind, point.value)
    existing = ContactPoint.objects.filter(**_client_kwargs(client), kind=point.kind)
    if existing.filter(normalized=normalized).exists():
        raise ValidationError({"value": _("This client already has %(value)s.") % {"value": point.value.strip()}})
    is_primary = point.is_primary or not existing.exists()
    if is_primary:
        existing.filter(is_primary=True).update(is_primary=False)
    contact_point = ContactPoint(
        **_client_kwargs(client),
        kind=point.kind,
        value=point.value.strip(),
        label=point.label.strip(),
        normalized=normalized,
        digits_reversed=digits_reversed,
        is_primary=is_primary,
    )
    contact_point.full_clean()
    contact_point.save()
    return contact_point


@transaction.atomic
def contact_point_remove(*, by: User, point: ContactPoint) -> None:
    client: AnyClient = point.company or point.contact  # type: ignore[assignment]
    if not access.can_edit_personal_data(by, client):
        raise PermissionDenied
    was_primary = point.is_primary
    siblings = ContactPoint.objects.filter(**_client_kwargs(client), kind=point.kind).exclude(pk=point.pk)
    point.delete()
    if was_primary:
        successor = siblings.order_by("id").first()
        if successor is not None:
            successor.is_primary = True
            successor.save(update_fields=["is_primary", "updated_at"])


TAG_MAX_LENGTH = 50


def tag_get_or_create(name: str) -> Tag:
    """The tag of this name, whatever its case, or a new one."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"tags": _("A tag needs a name.")})
    if len(name) > TAG_MAX_LENGTH:
        raise ValidationError({"tags": _("A tag is at most %(count)d characters long.") % {"count": TAG_MAX_LENGTH}})
    tag = Tag.objects.filter(name__iexact=name).first()
    if tag is not None:
        return tag
    try:
        with transaction.atomic():
            return Tag.objects.create(name=name)
    except IntegrityError:  # someone created it a moment ago
        return Tag.objects.get(name__iexact=name)


def _bump_version(locked: AnyClient, by: User) -> None:
    locked.version = F("version") + 1
    locked._history_user = by  # type: ignore[union-attr]
    locked.save(update_fields=["version", "updated_at"])


@transaction.atomic
def client_tags_set(*, by: User, client: AnyClient, names: Iterable[str]) -> list[Tag]:
    """Make a client's tags exactly these (new names become new tags)."""
    locked = _lock(client)
    if not access.can_edit_client(by, locked):
        raise PermissionDenied
    tags = [tag_get_or_create(name) for name in dict.fromkeys(name for name in names if name.strip())]
    locked._history_user = by  # type: ignore[union-attr]
    locked.tags.set(tags)
    _bump_version(locked, by)
    return sorted(set(tags), key=lambda tag: tag.name.lower())


@transaction.atomic
def client_tag_add(*, by: User, client: AnyClient, name: str) -> Tag:
    """Add one tag to a client (bulk tagging adds, it never removes the tags a client has)."""
    locked = _lock(client)
    if not access.can_edit_client(by, locked):
        raise PermissionDenied
    tag = tag_get_or_create(name)
    locked._history_user = by  # type: ignore[union-attr]
    locked.tags.add(tag)
    _bump_version(locked, by)
    return tag


@transaction.atomic
def contact_point_update(
    *, by: User, point: ContactPoint, value: str, label: str = "", is_primary: bool
) -> ContactPoint:
    """Correct a phone, e-mail or handle; making it primary takes the star from its sibling."""
    client: AnyClient = point.company or point.contact  # type: ignore[assignment]
    if not access.can_edit_personal_data(by, client):
        raise PermissionDenied
    normalized, digits_reversed = _normalize_point(point.kind, value)
    siblings = ContactPoint.objects.filter(**_client_kwargs(client), kind=point.kind).exclude(pk=point.pk)
    if siblings.filter(normalized=normalized).exists():
        raise ValidationError({"value": _("This client already has %(value)s.") % {"value": value.strip()}})
    if is_primary and not point.is_primary:
        siblings.filter(is_primary=True).update(is_primary=False)
    # A primary point stays primary until another one takes the star: a kind always has one.
    point.is_primary = is_primary or point.is_primary or not siblings.exists()
    point.value, point.label = value.strip(), label.strip()
    point.normalized, point.digits_reversed = normalized, digits_reversed
    point.full_clean()
    point.save()
    return point


# ---- Moves by redistribution rules, and what follows a client ------------------------------------

# Called after every change of a client's owner (hand-overs, pool claims, rules) with the client, the
# previous owner and the new one (None: the pool), inside the move's transaction; activities registers
# the callback that moves the client's planned activities (activities.owner_moves).
type OwnerMoved = Callable[[AnyClient, User | None, User | None], object]
_owner_moved: list[OwnerMoved] = []


def register_owner_moved(callback: OwnerMoved) -> None:
    if callback not in _owner_moved:
        _owner_moved.append(callback)


# Who may receive a client a rule moves: the sellers of a team (agents are outside partners).
RULE_RECIPIENT_ROLES = {Role.MANAGER, Role.HEAD}


@transaction.atomic
def client_move_by_rule(
    *,
    by: User | None,
    client: AnyClient,
    to_user: User | None,
    reason: str,
    rule: str,
    approved_by: User | None,
    team_id: int | None = None,
) -> ClientTransfer:
    """Move a client as a redistribution rule proposed: into the pool (``to_user`` None) or to a colleague
    of its owner's team (and of ``team_id``, the rule's team, when the rule has one), logged as a rule's move
    naming the rule and who approved it. ``by`` None: applied automatically.

    Refused: a client no longer owned or deleted, a recipient outside the team, one who cannot own
    clients, or the owner themself; ``by`` must be allowed to transfer the client.
    """
    if by is not None and not access.can_transfer_client(by, client):
        raise PermissionDenied
    locked = _lock(client)
    owner = User.objects.filter(pk=locked.owner_id).first() if locked.owner_id else None
    if owner is None or locked.is_deleted or locked.status == ClientStatus.POOL:
        raise ValidationError(
            _("%(client)s has no owner any more: there is nothing to move.") % {"client": locked.display_name}
        )
    if to_user is not None:
        if to_user.pk == owner.pk:
            raise ValidationError({"to_user": _("%(name)s owns this client already.") % {"name": to_user.display_name}})
        if not to_user.is_active or to_user.role not in RULE_RECIPIENT_ROLES:
            raise ValidationError({"to_user": _("%(name)s cannot own clients.") % {"name": to_user.display_name}})
        same_team = owner.team_id is not None and to_user.team_id == owner.team_id
        if not same_team or (team_id is not None and to_user.team_id != team_id):
            raise ValidationError(
                {
                    "to_user": _(
                        "%(name)s is not in the team of %(owner)s: a rule reassigns clients within the team only."
                    )
                    % {"name": to_user.display_name, "owner": owner.display_name}
                }
            )
    return _move_owner(
        by=by,
        locked=locked,
        to_user=to_user,
        reason=reason,
        kind=TransferKind.RULE,
        rule=rule,
        approved_by=approved_by,
    )
