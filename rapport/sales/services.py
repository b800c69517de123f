"""Every change to deals goes through these functions: the board, forms, the API, imports and jobs alike.

Each runs in one transaction, checks the access policy's edit rights itself, refuses a
stale version, enforces the stage gates, and leaves history behind (simple-history for
fields, a DealStageChange row for every stage move).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from rapport.accounts import access
from rapport.accounts.models import Role, User
from rapport.clients.models import Company, Contact
from rapport.sales.gates import gate_message, gate_missing
from rapport.sales.models import (
    Deal,
    DealCheckpoint,
    DealLine,
    DealStageChange,
    LostReason,
    Pipeline,
    PriceList,
    Product,
    ProductPrice,
    Stage,
    StageKind,
    checkpoint_due,
)

# What deal_update accepts (stages move through deal_move_to_stage, registrants through deal_set_registrant).
EDITABLE_FIELDS = {
    "title",
    "company",
    "contact",
    "amount",
    "currency",
    "price_list",
    "owner",
    "lead_source",
    "expected_close",
    "next_step",
    "next_step_at",
    "notes",
}
SELLING_ROLES = {Role.MANAGER, Role.HEAD, Role.AGENT}


def _check_owner(*, by: User, owner: User | None) -> None:
    """Managers own what they register; heads assign within their team; admins to any seller."""
    if owner is None:
        raise ValidationError({"owner": _("A deal needs an owner.")})
    if not owner.is_active or owner.role not in SELLING_ROLES:
        raise ValidationError({"owner": _("%(name)s cannot own deals.") % {"name": owner.display_name}})
    if owner == by or by.is_admin:
        return
    if by.role == Role.HEAD and by.team_id is not None and owner.team_id == by.team_id:
        return
    raise ValidationError({"owner": _("You can only give deals to managers of your own team.")})


def _check_client(*, by: User, company: Company | None, contact: Contact | None) -> None:
    if company is None and contact is None:
        raise ValidationError({"company": _("Choose the company or the person the deal is with.")})
    if company is not None and not access.companies_visible_to(by).filter(pk=company.pk).exists():
        raise ValidationError({"company": _("Choose a company you can see.")})
    if contact is not None and not access.contacts_visible_to(by).filter(pk=contact.pk).exists():
        raise ValidationError({"contact": _("Choose a person you can see.")})
    if company is not None and contact is not None and contact.company_id not in (None, company.pk):
        raise ValidationError({"contact": _("This person works for another company.")})


def _check_currency(currency: str) -> None:
    if currency not in settings.RAPPORT_CURRENCIES:
        raise ValidationError(
            {"currency": _("Choose one of: %(codes)s.") % {"codes": ", ".join(settings.RAPPORT_CURRENCIES)}}
        )


def _check_amount(amount: Decimal | None) -> None:
    if amount is not None and amount < 0:
        raise ValidationError({"amount": _("The amount cannot be negative.")})


def _check_stage(pipeline: Pipeline, stage: Stage) -> None:
    if stage.pipeline_id != pipeline.pk:
        raise ValidationError(
            {"stage": _("“%(stage)s” is a stage of another pipeline.") % {"stage": stage.name}}, code="pipeline"
        )


def _check_gate(deal: Deal, stage: Stage) -> None:
    missing = gate_missing(deal, stage)
    if missing:
        raise ValidationError(gate_message(stage, missing), code="gate")


def default_pipeline() -> Pipeline:
    pipeline = Pipeline.objects.filter(is_active=True).first()
    if pipeline is None:
        raise ValidationError({"pipeline": _("No pipeline is set up yet: ask an administrator to add one.")})
    return pipeline


def first_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.filter(kind=StageKind.OPEN).first()
    if stage is None:
        raise ValidationError({"stage": _("The pipeline “%(name)s” has no open stage.") % {"name": pipeline.name}})
    return stage


@transaction.atomic
def deal_create(
    *,
    by: User,
    title: str,
    company: Company | None = None,
    contact: Contact | None = None,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    owner: User | None = None,
    currency: str | None = None,
    **fields: Any,
) -> Deal:
    """Register a deal: a client and a title are enough; the stage's gate asks for the rest."""
    if not access.can_create_deals(by):
        raise PermissionDenied
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(
            _("These fields cannot be set here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    owner = owner or by
    _check_owner(by=by, owner=owner)
    _check_client(by=by, company=company, contact=contact)
    if contact is not None and company is None and contact.company_id is not None:
        company = contact.company
    pipeline = pipeline or (stage.pipeline if stage else default_pipeline())
    stage = stage or first_stage(pipeline)
    _check_stage(pipeline, stage)
    currency = (currency or settings.RAPPORT_DEFAULT_CURRENCY).upper()
    _check_currency(currency)
    _check_amount(fields.get("amount"))
    deal = Deal(
        title=title.strip(),
        company=company,
        contact=contact,
        pipeline=pipeline,
        stage=stage,
        owner=owner,
        registrant=by,
        currency=currency,
        **fields,
    )
    if deal.lead_source_id is None:
        client = company or contact
        deal.lead_source_id = client.lead_source_id if client else None
    deal.full_clean()
    if stage.kind == StageKind.LOST:
        raise ValidationError({"stage": _("A new deal cannot start lost.")})
    _check_gate(deal, stage)
    if stage.kind == StageKind.WON:
        deal.closed_at, deal.closer = timezone.now(), owner
    deal._history_user = by  # type: ignore[attr-defined]
    deal.save()
    today = timezone.localdate()
    DealCheckpoint.objects.bulk_create(
        DealCheckpoint(deal=deal, type=kind, due_date=checkpoint_due(today, kind))
        for kind in pipeline.checkpoint_types.all()
    )
    DealStageChange.objects.create(deal=deal, from_stage=None, to_stage=stage, by=by, at=deal.created_at)
    return deal


def _lock(deal: Deal) -> Deal:
    # The row is locked by a query of its own: on PostgreSQL a locking query with joins can
    # come back empty when another transaction has just changed the row (test_concurrency).
    Deal.objects.select_for_update().filter(pk=deal.pk).values_list("pk").get()
    return Deal.objects.select_related("pipeline", "stage", "owner").get(pk=deal.pk)


def _check_editable(by: User, deal: Deal) -> None:
    if not access.can_edit_deal(by, deal):
        raise PermissionDenied


def _check_version(deal: Deal, version: int | None) -> None:
    """Refuse a save based on an old copy of the deal, naming who changed it since and when."""
    if version is None or deal.version == version:
        return
    latest = deal.history.first()
    who = latest.history_user.display_name if latest and latest.history_user else _("someone")
    when = formats.date_format(timezone.localtime(deal.updated_at), "SHORT_DATETIME_FORMAT")
    raise ValidationError(
        _("Changed by %(who)s at %(when)s — reload to see their changes, then edit again.")
        % {"who": who, "when": when},
        code="stale",
    )


def _save(deal: Deal, by: User, fields: list[str]) -> Deal:
    """Save a locked deal's changed fields with the next version (the lock makes counting here safe)."""
    deal.version += 1
    deal._history_user = by  # type: ignore[attr-defined]
    deal.save(update_fields=[*fields, "version", "updated_at"])
    return deal


@transaction.atomic
def deal_update(*, by: User, deal: Deal, version: int | None, **changes: Any) -> Deal:
    """Change some fields of a deal, within the editor's rights and the current stage's gate."""
    locked = _lock(deal)
    _check_editable(by, locked)
    _check_version(locked, version)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(
            _("These fields cannot be set here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    if "owner" in changes and changes["owner"] != locked.owner:
        _check_owner(by=by, owner=changes["owner"])
    if {"company", "contact"} & set(changes):
        _check_client(
            by=by, company=changes.get("company", locked.company), contact=changes.get("contact", locked.contact)
        )
    if "currency" in changes:
        changes["currency"] = str(changes["currency"]).upper()
        _check_currency(changes["currency"])
        if changes["currency"] != locked.currency and locked.lines.exists():
            raise ValidationError({"currency": _("Remove the products first: their prices are in another currency.")})
    if "amount" in changes:
        _check_amount(changes["amount"])
    if "amount" in changes and changes["amount"] != locked.amount and locked.lines.exists():
        raise ValidationError({"amount": _("The amount follows the products of the deal: change them instead.")})
    for field, value in changes.items():
        setattr(locked, field, value)
    if isinstance(locked.title, str):
        locked.title = locked.title.strip()
    locked.full_clean()
    # Emptying a field the current stage requires would let the deal sit where its gate forbids.
    if locked.stage.kind != StageKind.LOST:
        _check_gate(locked, locked.stage)
    return _save(locked, by, list(changes))


@transaction.atomic
def deal_move_to_stage(
    *,
    by: User,
    deal: Deal,
    stage: Stage,
    version: int | None = None,
    lost_reason: LostReason | None = None,
    lost_note: str = "",
) -> Deal:
    """Move a deal to another stage of its pipeline, through the stage's gate; won and lost close it."""
    locked = _lock(deal)
    _check_editable(by, locked)
    _check_version(locked, version)
    _check_stage(locked.pipeline, stage)
    if stage.pk == locked.stage_id:
        return locked
    fields = ["stage", "stage_entered_at", "closed_at", "closer", "lost_reason", "lost_note"]
    if stage.kind == StageKind.LOST:
        if lost_reason is None or not lost_reason.is_active:
            raise ValidationError({"lost_reason": _("Choose why the deal was lost.")}, code="lost_reason")
        locked.lost_reason, locked.lost_note = lost_reason, lost_note.strip()[:300]
    else:
        _check_gate(locked, stage)
        locked.lost_reason, locked.lost_note = None, ""
    now = timezone.now()
    previous = locked.stage
    locked.stage, locked.stage_entered_at = stage, now
    locked.closed_at = None if stage.kind == StageKind.OPEN else (locked.closed_at or now)
    if previous.kind != StageKind.OPEN and stage.kind != StageKind.OPEN:
        locked.closed_at = now  # won after lost or the other way round: closed again, now
    locked.closer_id = locked.owner_id if stage.kind == StageKind.WON else None
    DealStageChange.objects.create(deal=locked, from_stage=previous, to_stage=stage, by=by, at=now)
    return _save(locked, by, fields)


@transaction.atomic
def deal_set_registrant(*, by: User, deal: Deal, registrant: User) -> Deal:
    """Only an admin corrects who registered a deal; the history keeps the old name and who changed it."""
    if not access.can_change_registrant(by):
        raise PermissionDenied
    if not registrant.is_active or registrant.role not in SELLING_ROLES:
        raise ValidationError({"registrant": _("%(name)s cannot be credited with deals.") % {"name": registrant}})
    locked = _lock(deal)
    locked.registrant = registrant
    return _save(locked, by, ["registrant"])


@transaction.atomic
def deal_delete(*, by: User, deal: Deal) -> None:
    locked = _lock(deal)
    _check_editable(by, locked)
    locked.deleted_at = timezone.now()
    _save(locked, by, ["deleted_at"])


@transaction.atomic
def deal_checkpoint_set(*, by: User, checkpoint: DealCheckpoint, done: bool) -> DealCheckpoint:
    """Mark a checkpoint done (or undo it, unless the deal's stage requires it)."""
    locked = _lock(checkpoint.deal)
    _check_editable(by, locked)
    checkpoint = DealCheckpoint.objects.select_for_update().select_related("type").get(pk=checkpoint.pk)
    if done == (checkpoint.done_at is not None):
        return checkpoint
    if done:
        checkpoint.done_at, checkpoint.done_by = timezone.now(), by
    else:
        checkpoint.done_at, checkpoint.done_by = None, None
    checkpoint.save(update_fields=["done_at", "done_by"])
    if not done and locked.stage.kind != StageKind.LOST and gate_missing(locked, locked.stage):
        # Raising rolls the transaction back: the checkpoint stays done.
        raise ValidationError(
            _("“%(stage)s” requires this checkpoint: move the deal back first.") % {"stage": locked.stage.name}
        )
    _save(locked, by, [])
    return checkpoint


# ---- Lines ----------------------------------------------------------------------------------


def _price_of(deal: Deal, product: Product) -> Decimal:
    """The product's price in the deal's price list (or the default list of the deal's currency)."""
    price_list = deal.price_list or PriceList.objects.filter(currency=deal.currency).first()
    if price_list is None:
        raise ValidationError(
            {"price": _("Give the price: no price list is in %(currency)s.") % {"currency": deal.currency}}
        )
    if price_list.currency != deal.currency:
        raise ValidationError(
            {
                "price": _("The price list is in %(list)s, the deal in %(deal)s.")
                % {"list": price_list.currency, "deal": deal.currency}
            }
        )
    price = ProductPrice.objects.filter(product=product, price_list=price_list).values_list("price", flat=True).first()
    if price is None:
        raise ValidationError(
            {
                "price": _("“%(product)s” has no price in %(list)s: give it.")
                % {"product": product.name, "list": price_list.name}
            }
        )
    return Decimal(price)


def _check_line(line: DealLine, currency: str | None, deal: Deal) -> None:
    if currency is not None and currency.upper() != deal.currency:
        raise ValidationError(
            {
                "price": _("Prices of this deal are in %(deal)s, not %(given)s.")
                % {"deal": deal.currency, "given": currency.upper()}
            }
        )
    if line.quantity is None or line.quantity <= 0:
        raise ValidationError({"quantity": _("The quantity must be more than zero.")})
    if line.price is None or line.price < 0:
        raise ValidationError({"price": _("The price cannot be negative.")})
    line.full_clean(exclude=["deal"])


def _follow_lines(locked: Deal, by: User) -> Deal:
    """The deal's amount is the sum of its lines whenever it has any."""
    lines = list(locked.lines.all())
    if lines:
        locked.amount = sum((line.total for line in lines), Decimal(0))
        return _save(locked, by, ["amount"])
    return _save(locked, by, [])


@transaction.atomic
def deal_line_add(
    *,
    by: User,
    deal: Deal,
    product: Product,
    quantity: Decimal,
    price: Decimal | None = None,
    discount: Decimal = Decimal(0),
    currency: str | None = None,
) -> DealLine:
    locked = _lock(deal)
    _check_editable(by, locked)
    if not product.is_active:
        raise ValidationError({"product": _("“%(product)s” is no longer on sale.") % {"product": product.name}})
    line = DealLine(
        deal=locked,
        product=product,
        quantity=quantity,
        price=_price_of(locked, product) if price is None else price,
        discount=discount,
        position=locked.lines.count(),
    )
    _check_line(line, currency, locked)
    line.save()
    _follow_lines(locked, by)
    return line


@transaction.atomic
def deal_line_update(
    *,
    by: User,
    line: DealLine,
    quantity: Decimal | None = None,
    price: Decimal | None = None,
    discount: Decimal | None = None,
    currency: str | None = None,
) -> DealLine:
    locked = _lock(line.deal)
    _check_editable(by, locked)
    line = DealLine.objects.select_for_update().get(pk=line.pk)
    for field, value in {"quantity": quantity, "price": price, "discount": discount}.items():
        if value is not None:
            setattr(line, field, value)
    _check_line(line, currency, locked)
    line.save(update_fields=["quantity", "price", "discount"])
    _follow_lines(locked, by)
    return line


@transaction.atomic
def deal_line_remove(*, by: User, line: DealLine) -> None:
    locked = _lock(line.deal)
    _check_editable(by, locked)
    line.delete()
    if locked.stage.kind != StageKind.LOST and gate_missing(locked, locked.stage):
        raise ValidationError(
            _("“%(stage)s” requires products: move the deal back first.") % {"stage": locked.stage.name}
        )
    _follow_lines(locked, by)
