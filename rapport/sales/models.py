"""Sales: pipelines and their stages, deals with owner and registrant, checkpoints, products and stock."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rapport.clients.models import Company, Contact, LeadSource, user_link
from rapport.core.models import TimeStampedModel


def money_field(label: Any, **options: Any) -> models.DecimalField[Any, Any]:
    return models.DecimalField(label, max_digits=14, decimal_places=2, **options)


def quantity_field(label: Any, **options: Any) -> models.DecimalField[Any, Any]:
    return models.DecimalField(label, max_digits=12, decimal_places=3, **options)


def default_currency() -> str:
    return str(settings.RAPPORT_DEFAULT_CURRENCY)


def currency_field() -> models.CharField[str, str]:
    # A callable default: the company's currency is a setting, not part of the schema.
    return models.CharField(_("currency"), max_length=3, default=default_currency)


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class StageColour(models.TextChoices):
    # Tabler's palette, so a stage's colour is a class name, never inline style.
    BLUE = "blue", _("Blue")
    AZURE = "azure", _("Azure")
    CYAN = "cyan", _("Cyan")
    TEAL = "teal", _("Teal")
    GREEN = "green", _("Green")
    LIME = "lime", _("Lime")
    YELLOW = "yellow", _("Yellow")
    ORANGE = "orange", _("Orange")
    RED = "red", _("Red")
    PINK = "pink", _("Pink")
    PURPLE = "purple", _("Purple")
    INDIGO = "indigo", _("Indigo")
    SECONDARY = "secondary", _("Grey")


# Deal fields a stage gate may require, with their labels (the gate names them when they are missing).
GATE_FIELDS: dict[str, object] = {
    "amount": _("amount"),
    "contact": _("contact person"),
    "expected_close": _("expected close date"),
    "next_step_at": _("next step date"),
    "lines": _("products"),
}


class Pipeline(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering: ClassVar = ["position", "id"]
        constraints: ClassVar = [models.UniqueConstraint(Lower("name"), name="pipeline_name_unique")]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("sales:board", args=[self.pk])


class CheckpointType(models.Model):
    """A milestone every deal of a pipeline should pass (presentation, commercial proposal, contract …)."""

    pipeline = models.ForeignKey(
        Pipeline, on_delete=models.CASCADE, related_name="checkpoint_types", verbose_name=_("pipeline")
    )
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    due_days = models.PositiveSmallIntegerField(
        _("due within (days)"), default=7, help_text=_("Days after the deal is registered.")
    )

    class Meta:
        ordering: ClassVar = ["pipeline", "position", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint("pipeline", Lower("name"), name="checkpoint_type_name_unique"),
        ]
        verbose_name = _("checkpoint type")
        verbose_name_plural = _("checkpoint types")

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages", verbose_name=_("pipeline"))
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=StageKind.choices, default=StageKind.OPEN)
    probability = models.PositiveSmallIntegerField(_("probability, %"), default=10, validators=[MaxValueValidator(100)])
    colour = models.CharField(_("colour"), max_length=20, choices=StageColour.choices, default=StageColour.BLUE)
    stale_after_days = models.PositiveSmallIntegerField(
        _("norm (days)"),
        null=True,
        blank=True,
        help_text=_("A deal longer in this stage is reported as stuck. Empty: no norm."),
    )
    # The stage gate: what a deal needs to enter this stage.
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)
    required_checkpoints = models.ManyToManyField(
        CheckpointType, blank=True, related_name="+", verbose_name=_("required checkpoints")
    )

    class Meta:
        ordering: ClassVar = ["pipeline", "position", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint("pipeline", Lower("name"), name="stage_name_unique"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability_percent"),
        ]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.kind == StageKind.OPEN


class LostReason(models.Model):
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering: ClassVar = ["position", "name"]
        constraints: ClassVar = [models.UniqueConstraint(Lower("name"), name="lost_reason_name_unique")]
        verbose_name = _("reason for losing")
        verbose_name_plural = _("reasons for losing")

    def __str__(self) -> str:
        return self.name


# ---- Products -------------------------------------------------------------------------------


class PriceList(models.Model):
    name = models.CharField(_("name"), max_length=100)
    currency = currency_field()
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        ordering: ClassVar = ["-is_default", "name"]
        constraints: ClassVar = [models.UniqueConstraint(Lower("name"), name="price_list_name_unique")]
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class Warehouse(models.Model):
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [models.UniqueConstraint(Lower("name"), name="warehouse_name_unique")]
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")

    def __str__(self) -> str:
        return self.name


class Product(TimeStampedModel):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=20, default="pcs")
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("on sale"), default=True)

    history = HistoricalRecords()

    class Meta:
        ordering: ClassVar = ["name", "id"]
        indexes: ClassVar = [models.Index(Lower("name"), name="product_name_idx")]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.sku} · {self.name}"


class ProductPrice(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices", verbose_name=_("product"))
    price_list = models.ForeignKey(
        PriceList, on_delete=models.CASCADE, related_name="prices", verbose_name=_("price list")
    )
    price = money_field(_("price"), validators=[MinValueValidator(Decimal(0))])

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["product", "price_list"], name="product_price_unique"),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
        ]
        verbose_name = _("price")
        verbose_name_plural = _("prices")

    def __str__(self) -> str:
        return f"{self.product_id} @ {self.price_list_id}: {self.price}"


class StockLevel(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock", verbose_name=_("product"))
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.CASCADE, related_name="stock", verbose_name=_("warehouse")
    )
    quantity = quantity_field(_("in stock"), default=Decimal(0))
    reserved = quantity_field(_("reserved"), default=Decimal(0))

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="stock_level_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0, reserved__gte=0), name="stock_level_not_negative"),
        ]
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")

    def __str__(self) -> str:
        return f"{self.product_id} @ {self.warehouse_id}: {self.quantity}"

    @property
    def available(self) -> Decimal:
        return Decimal(self.quantity - self.reserved)


# ---- Deals ----------------------------------------------------------------------------------


class DealQuerySet(models.QuerySet["Deal"]):
    def alive(self) -> DealQuerySet:
        return self.filter(deleted_at__isnull=True)

    def open(self) -> DealQuerySet:
        return self.alive().filter(closed_at__isnull=True)

    def of_client(self, client: Company | Contact) -> DealQuerySet:
        return self.filter(**{client.kind: client})


class Deal(TimeStampedModel):
    title = models.CharField(_("title"), max_length=200)
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, null=True, blank=True, related_name="deals", verbose_name=_("company")
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="deals", verbose_name=_("contact person")
    )
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals", verbose_name=_("pipeline"))
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals", verbose_name=_("stage"))
    amount = money_field(_("amount"), null=True, blank=True)
    currency = currency_field()
    price_list = models.ForeignKey(
        PriceList, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("price list")
    )
    owner = user_link(_("owner"))
    # Who registered the opportunity first: the bonus rules credit them whoever closes it.
    registrant = user_link(_("registrant"), help_text=_("Who registered the opportunity first."))
    # The owner when it was won: the closer's bonus share and "deals won" go to them, whoever owns it later.
    closer = user_link(_("won by"))
    lead_source = models.ForeignKey(
        LeadSource, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("lead source")
    )
    expected_close = models.DateField(_("expected close date"), null=True, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_at = models.DateField(_("next step date"), null=True, blank=True)
    stage_entered_at = models.DateTimeField(_("in this stage since"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    lost_reason = models.ForeignKey(
        LostReason,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reason for losing"),
    )
    lost_note = models.CharField(_("why it was lost"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at", "stage_entered_at"])
    objects = DealQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(company__isnull=False) | Q(contact__isnull=False), name="deal_has_a_client"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0) | Q(amount__isnull=True), name="deal_amount_not_negative"
            ),
        ]
        indexes: ClassVar = [
            # The board: open deals of a pipeline by stage, for one owner or a team's owners.
            models.Index(
                fields=["pipeline", "owner", "stage", "-created_at"],
                condition=Q(closed_at__isnull=True, deleted_at__isnull=True),
                name="deal_board_idx",
            ),
            models.Index(fields=["owner", "-created_at"], name="deal_owner_idx"),
            models.Index(fields=["registrant", "-created_at"], name="deal_registrant_idx"),
            models.Index(fields=["stage", "stage_entered_at"], name="deal_stage_since_idx"),
            # The deal list of a head (or of anyone seeing every deal): open deals filtered by owner
            # or registrant and sorted newest first from the index alone, without reading the rows.
            models.Index(
                fields=["owner", "registrant", "-created_at"],
                condition=Q(closed_at__isnull=True, deleted_at__isnull=True),
                name="deal_open_people_idx",
            ),
            # Every deal newest first (the deal list with any status, for those who see them all).
            models.Index(fields=["-created_at"], name="deal_created_idx"),
            # A person's deals per stage and since when: the board's totals and its won/lost columns.
            models.Index(fields=["owner", "stage", "stage_entered_at"], name="deal_owner_stage_idx"),
            models.Index(fields=["registrant", "stage", "stage_entered_at"], name="deal_registrant_stage_idx"),
            # Plans and bonuses: the deals a person won in a period.
            models.Index(fields=["closer", "closed_at"], condition=Q(closer__isnull=False), name="deal_closer_idx"),
        ]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("sales:deal-detail", args=[self.pk])

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def client_name(self) -> str:
        return (
            self.company.display_name
            if self.company_id and self.company
            else (self.contact.display_name if self.contact else "")
        )

    @property
    def weighted_amount(self) -> Decimal | None:
        return None if self.amount is None else self.amount * self.stage.probability / 100

    def days_in_stage(self, now: date | None = None) -> int:
        return ((now or timezone.localdate()) - timezone.localdate(self.stage_entered_at)).days


class DealStageChange(models.Model):
    """Every stage move, the first placement included: the deal's history and the funnel reports' input."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes", verbose_name=_("deal"))
    from_stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("from")
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+", verbose_name=_("to"))
    by = user_link(_("by"))
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["deal", "-at"], name="deal_stage_change_deal_idx"),
            models.Index(fields=["to_stage", "at"], name="deal_stage_change_funnel_idx"),
        ]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")

    def __str__(self) -> str:
        return f"{self.from_stage_id} → {self.to_stage_id}"


class CheckpointState(models.TextChoices):
    DONE = "done", _("Done")
    DUE = "due", _("Due")
    OVERDUE = "overdue", _("Overdue")


class DealCheckpoint(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="checkpoints", verbose_name=_("deal"))
    type = models.ForeignKey(CheckpointType, on_delete=models.PROTECT, related_name="+", verbose_name=_("checkpoint"))
    due_date = models.DateField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = user_link(_("done by"))

    class Meta:
        ordering: ClassVar = ["due_date", "type__position", "id"]
        constraints: ClassVar = [models.UniqueConstraint(fields=["deal", "type"], name="deal_checkpoint_unique")]
        indexes: ClassVar = [
            models.Index(fields=["due_date"], condition=Q(done_at__isnull=True), name="deal_checkpoint_open_idx"),
            # Plans: the checkpoints a person passed in a period.
            models.Index(fields=["done_by", "done_at"], name="deal_checkpoint_done_idx"),
        ]
        verbose_name = _("deal checkpoint")
        verbose_name_plural = _("deal checkpoints")

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.type_id}"

    def state(self, today: date | None = None) -> str:
        if self.done_at is not None:
            return CheckpointState.DONE
        return CheckpointState.OVERDUE if self.due_date < (today or timezone.localdate()) else CheckpointState.DUE


def checkpoint_due(registered: date, checkpoint_type: CheckpointType) -> date:
    return registered + timedelta(days=checkpoint_type.due_days)


class DealLine(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="lines", verbose_name=_("deal"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    quantity = quantity_field(_("quantity"))
    price = money_field(_("price"))
    discount = models.DecimalField(
        _("discount, %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering: ClassVar = ["deal", "position", "id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="deal_line_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="deal_line_price_not_negative"),
            models.CheckConstraint(condition=Q(discount__gte=0, discount__lte=100), name="deal_line_discount_percent"),
        ]
        verbose_name = _("deal line")
        verbose_name_plural = _("deal lines")

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity}"

    @property
    def total(self) -> Decimal:
        return Decimal(self.quantity * self.price * (100 - self.discount) / 100).quantize(Decimal("0.01"))


class DealAlert(models.Model):
    """A deviation already reported, so the periodic job tells people once, not on every run."""

    class Kind(models.TextChoices):
        CHECKPOINT_OVERDUE = "checkpoint", _("Checkpoint overdue")
        STUCK = "stuck", _("Stuck in a stage")

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("deal"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # What exactly deviated: the checkpoint's id, or the stage id and when the deal entered it.
    subject = models.CharField(_("subject"), max_length=100)
    at = models.DateTimeField(_("reported"), default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["deal", "kind", "subject"], name="deal_alert_once"),
        ]
        verbose_name = _("deal alert")
        verbose_name_plural = _("deal alerts")

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.kind} {self.subject}"


class LiveOrders(models.Manager["Order"]):
    """Orders not deleted: every read of orders (the card, the API, purchase regularity) goes through it."""

    def get_queryset(self) -> models.QuerySet[Order]:
        return super().get_queryset().filter(deleted_at__isnull=True)


class Order(TimeStampedModel):
    """A client's order or shipment (date, amount, volume): what purchase regularity is read from.

    Entered by hand, imported from CSV (``external_id`` keeps a re-import from repeating it) or
    made from a won deal (``deal``, one order per deal). Deleting one is soft (``deleted_at``) and its
    changes are in its history, as for every business record; ``Order.objects`` hides deleted ones, and
    ``Order.everything`` keeps them for the checks that must see them (an external id, a deal's order).
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True, related_name="orders")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="orders")
    on = models.DateField(_("date"))
    amount = money_field(_("amount"))
    currency = currency_field()
    # In the client's own unit (pallets, tonnes, pieces): what the monthly volume target counts.
    volume = quantity_field(_("volume"), null=True, blank=True, validators=[MinValueValidator(0)])
    deal = models.OneToOneField(
        Deal, on_delete=models.SET_NULL, null=True, blank=True, related_name="order", verbose_name=_("deal")
    )
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    created_by = user_link(_("entered by"))
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = LiveOrders()
    everything = models.Manager()

    class Meta:
        # The deal's reverse accessor (deal.order) sees a deleted order too: it still holds the deal.
        base_manager_name = "everything"
        ordering: ClassVar = ["-on", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(company__isnull=False, contact__isnull=True)
                | Q(company__isnull=True, contact__isnull=False),
                name="order_has_one_client",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="order_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(volume__gte=0) | Q(volume__isnull=True), name="order_volume_not_negative"
            ),
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="order_external_id_unique"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["company", "on"], name="order_company_idx"),
            models.Index(fields=["contact", "on"], name="order_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.on} {self.amount} {self.currency}"
