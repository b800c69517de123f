"""Every change to orders goes through these functions: the client card, the deal card, the API and the import.

An order (or shipment) is a client's: whoever may edit the client records, corrects and deletes
its orders (``access.can_record_orders``). A won deal makes at most one order — its amount and
currency, on the day it was won. What purchase regularity reads from orders lives in
``supervision.regularity``; here only the records and their checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.clients.models import Company, Contact
from rapport.sales.models import Deal, Order, StageKind

type AnyClient = Company | Contact

# What order_update changes (the client, the deal and the external id stay as recorded).
EDITABLE_FIELDS = {"on", "amount", "currency", "volume"}
# Dates outside these bounds are typing mistakes: an order from before 2000, or more than a year ahead.
EARLIEST = date(2000, 1, 1)
AHEAD_DAYS = 366
# money_field: 14 digits, 2 after the point; quantity_field: 12 digits, 3 after the point.
AMOUNT_LIMIT = Decimal(10) ** 12
VOLUME_LIMIT = Decimal(10) ** 9


@dataclass(frozen=True)
class OrderFields:
    """An order's own fields, checked and normalised (``order_check``)."""

    on: date
    amount: Decimal
    currency: str
    volume: Decimal | None


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _number_problem(value: Any, *, limit: Decimal, places: int, negative: str) -> str | None:
    if not isinstance(value, Decimal):
        try:
            value = Decimal(str(value))
        except ArithmeticError:
            return _("Enter a number.")
    if not value.is_finite():
        return _("Enter a number.")
    if value < 0:
        return negative
    if value >= limit:
        return _("It is too large.")
    if _decimals(value) > places:
        return _("Give at most %(places)s decimals.") % {"places": places}
    return None


def order_check(
    *, on: date | None, amount: Decimal | None, currency: str | None, volume: Decimal | None, today: date | None = None
) -> OrderFields:
    """Check an order's fields all at once; a ValidationError names each field that is wrong, and why.

    The import checks its rows with this same function, so a file is refused exactly as a form.
    """
    today = today or timezone.localdate()
    problems: dict[str, str] = {}
    if on is None:
        problems["on"] = _("Give the order's date.")
    elif on < EARLIEST:
        problems["on"] = _("Give a date from %(year)s on.") % {"year": EARLIEST.year}
    elif on > today + timedelta(days=AHEAD_DAYS):
        problems["on"] = _("The date is more than a year ahead.")
    if amount is None:
        problems["amount"] = _("Give the order's amount (0 for a free shipment).")
    elif problem := _number_problem(amount, limit=AMOUNT_LIMIT, places=2, negative=_("The amount cannot be negative.")):
        problems["amount"] = problem
    if volume is not None and (
        problem := _number_problem(volume, limit=VOLUME_LIMIT, places=3, negative=_("The volume cannot be negative."))
    ):
        problems["volume"] = problem
    code = (currency or settings.RAPPORT_DEFAULT_CURRENCY).strip().upper()
    if code not in settings.RAPPORT_CURRENCIES:
        problems["currency"] = _("Choose one of: %(codes)s.") % {"codes": ", ".join(settings.RAPPORT_CURRENCIES)}
    if problems:
        raise ValidationError(problems)
    assert on is not None
    assert amount is not None
    # As the database keeps them, so what a caller gets back reads as what it reads later.
    return OrderFields(
        on=on,
        amount=Decimal(amount).quantize(Decimal("0.01")),
        currency=code,
        volume=None if volume is None else Decimal(volume).quantize(Decimal("0.001")),
    )


def client_of(order: Order) -> AnyClient:
    client = order.company if order.company_id else order.contact
    assert client is not None
    return client


def _check_client(by: User, client: AnyClient) -> None:
    if not access.can_record_orders(by, client):
        raise PermissionDenied
    if client.is_deleted:
        raise ValidationError(_("This client is in the trash: restore it first."))


def _check_external_id(external_id: str) -> str:
    external_id = external_id.strip()
    if len(external_id) > 100:
        raise ValidationError({"external_id": _("An external id has at most 100 characters.")})
    # A deleted order keeps its id: the file it came from, imported again, does not bring it back.
    if external_id and Order.everything.filter(external_id=external_id).exists():
        raise ValidationError({"external_id": _("An order with this external id is recorded already.")})
    return external_id


def _insert(order: Order) -> Order:
    """Save a new order; a constraint another request won meanwhile (external id, the deal's one order) is a
    refusal, not a 500."""
    order._history_user = order.created_by  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:
        if order.deal_id is not None:
            raise ValidationError({"deal": _("This deal has its order already.")}) from None
        raise ValidationError({"external_id": _("An order with this external id is recorded already.")}) from None
    return order


@transaction.atomic
def order_create(
    *,
    by: User,
    client: AnyClient,
    on: date | None,
    amount: Decimal | None,
    currency: str | None = None,
    volume: Decimal | None = None,
    external_id: str = "",
) -> Order:
    """Record an order of a client the person may edit."""
    _check_client(by, client)
    fields = order_check(on=on, amount=amount, currency=currency, volume=volume)
    order = Order(
        **{client.kind: client},
        on=fields.on,
        amount=fields.amount,
        currency=fields.currency,
        volume=fields.volume,
        external_id=_check_external_id(external_id),
        created_by=by,
    )
    return _insert(order)


def _lock(order: Order) -> Order:
    # The row is locked by a query of its own: PostgreSQL locks no row on the nullable side of an outer join.
    Order.objects.select_for_update().filter(pk=order.pk).values_list("pk").get()
    return Order.objects.select_related("company__owner", "contact__owner").get(pk=order.pk)


@transaction.atomic
def order_update(*, by: User, order: Order, **changes: Any) -> Order:
    """Correct an order's date, amount, currency or volume."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    locked = _lock(order)
    _check_client(by, client_of(locked))
    current = {"on": locked.on, "amount": locked.amount, "currency": locked.currency, "volume": locked.volume}
    fields = order_check(**(current | changes))
    locked.on, locked.amount, locked.currency, locked.volume = fields.on, fields.amount, fields.currency, fields.volume
    return _save(locked, by, ["on", "amount", "currency", "volume"])


def _save(order: Order, by: User, fields: list[str]) -> Order:
    order._history_user = by  # type: ignore[attr-defined]
    order.save(update_fields=[*fields, "updated_at"])
    return order


@transaction.atomic
def order_delete(*, by: User, order: Order) -> None:
    """Delete an order: softly, as every business record (its history keeps who deleted it, and when)."""
    locked = _lock(order)
    if not access.can_record_orders(by, client_of(locked)):
        raise PermissionDenied
    locked.deleted_at = timezone.now()
    _save(locked, by, ["deleted_at"])


def deal_client(deal: Deal) -> AnyClient:
    """The client a deal's order is recorded for: its company, else its person."""
    client = deal.company if deal.company_id else deal.contact
    assert client is not None
    return client


@transaction.atomic
def order_from_deal(*, by: User, deal: Deal, volume: Decimal | None = None) -> Order:
    """Record the order of a won deal: its amount and currency, dated the day it was won; one per deal."""
    # The deal's row is locked, so two clicks on "Record the order" make one order, the second a refusal.
    Deal.objects.select_for_update().filter(pk=deal.pk).values_list("pk").get()
    locked = Deal.objects.select_related("stage", "company__owner", "contact__owner").get(pk=deal.pk)
    client = deal_client(locked)
    _check_client(by, client)
    if locked.stage.kind != StageKind.WON or locked.closed_at is None:
        if locked.stage.kind == StageKind.LOST:
            raise ValidationError({"deal": _("This deal was lost: only a won deal makes an order.")})
        raise ValidationError({"deal": _("This deal is still open: only a won deal makes an order.")})
    existing = Order.everything.filter(deal=locked).first()
    if existing is not None and existing.deleted_at is None:
        raise ValidationError(
            {
                "deal": _("This deal has its order already, of %(date)s.")
                % {"date": formats.date_format(existing.on, "SHORT_DATE_FORMAT")}
            }
        )
    if locked.amount is None:
        raise ValidationError({"amount": _("The deal has no amount: set it first.")})
    fields = order_check(
        on=timezone.localdate(locked.closed_at), amount=locked.amount, currency=locked.currency, volume=volume
    )
    if existing is not None:
        # Its deleted order, recorded again: brought back with the deal's figures of today.
        existing.on, existing.amount, existing.currency = fields.on, fields.amount, fields.currency
        existing.volume, existing.deleted_at = fields.volume, None
        return _save(existing, by, ["on", "amount", "currency", "volume", "deleted_at"])
    order = Order(
        **{client.kind: client},
        on=fields.on,
        amount=fields.amount,
        currency=fields.currency,
        volume=fields.volume,
        deal=locked,
        created_by=by,
    )
    return _insert(order)
