"""The company's client base: companies, contacts and their phones, e-mails and messengers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, OrderBy, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rapport.core.models import TimeStampedModel

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.backends.ddl_references import Statement


class ClientStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    FROZEN = "frozen", _("Frozen")
    POOL = "pool", _("In the shared pool")


class LeadSource(TimeStampedModel):
    """Where a client came from (an admin-kept picklist; campaigns measure their return by it)."""

    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [models.UniqueConstraint(Lower("name"), name="lead_source_name_unique")]
        verbose_name = _("lead source")
        verbose_name_plural = _("lead sources")

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [models.UniqueConstraint(Lower("name"), name="tag_name_unique")]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class ClientQuerySet[M: models.Model](models.QuerySet[M]):
    def alive(self) -> ClientQuerySet[M]:
        return self.filter(deleted_at__isnull=True)

    def deleted(self) -> ClientQuerySet[M]:
        """The trash."""
        return self.filter(deleted_at__isnull=False)


def user_link(label: Any = None, **options: Any) -> models.ForeignKey[Any, Any]:
    """An optional link to a person that must not vanish with them (accounts are deactivated, not deleted)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=label,
        **options,
    )


class Client(TimeStampedModel):
    """What companies and contacts share: ownership, status, source, consent, stamps, soft delete."""

    owner = user_link(_("owner"))
    registrant = user_link(_("registrant"), help_text=_("Who first entered the client."))
    status = models.CharField(_("status"), max_length=10, choices=ClientStatus.choices, default=ClientStatus.ACTIVE)
    lead_source = models.ForeignKey(
        LeadSource, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("lead source")
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="+", verbose_name=_("tags"))
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    website = models.URLField(_("website"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    consent_email = models.BooleanField(_("agrees to e-mail"), default=False)
    consent_sms = models.BooleanField(_("agrees to SMS"), default=False)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    # Names and tax id folded for search (lower case, no accents); indexed by trigrams (see clients.search).
    search_text = models.CharField(max_length=500, blank=True, editable=False)
    # Optimistic locking: a form carries the version it was drawn from; a stale one is refused.
    version = models.PositiveIntegerField(_("version"), default=1)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    deleted_by = user_link()

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_company(self) -> bool:
        return isinstance(self, Company)

    @property
    def kind(self) -> str:
        """ "company" or "contact": the word in URLs shared by both kinds."""
        return "company" if isinstance(self, Company) else "contact"


def client_constraints(prefix: str) -> list[models.BaseConstraint]:
    """Unique tax id among clients not in the trash; unique external id (imports upsert by it)."""
    return [
        models.UniqueConstraint(
            "tax_id", condition=Q(deleted_at__isnull=True) & ~Q(tax_id=""), name=f"{prefix}_tax_id_unique"
        ),
        models.UniqueConstraint("external_id", condition=~Q(external_id=""), name=f"{prefix}_external_id_unique"),
    ]


class ListIndex(models.Index):
    """An index in a list's sort order, NULLS FIRST included.

    SQLite cannot say NULLS FIRST in an index, but its ascending order puts NULLs first
    anyway: there the index is created without the words, and serves the same order.
    """

    def create_sql(
        self, model: type[models.Model], schema_editor: BaseDatabaseSchemaEditor, using: str = "", **kwargs: Any
    ) -> Statement:
        if schema_editor.connection.vendor != "sqlite":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        plain = self.clone()
        plain.expressions = tuple(
            OrderBy(expression.expression, descending=expression.descending)
            if isinstance(expression, OrderBy)
            else expression
            for expression in self.expressions
        )
        return models.Index.create_sql(plain, model, schema_editor, using=using, **kwargs)


def client_indexes(prefix: str) -> list[models.Index]:
    """The list screens filter by owner and status and sort by the last contact, never contacted first.

    Each is ordered exactly as the lists sort (clients.forms.SORTS: NULLs first, then the id),
    so a page is read straight off it; PostgreSQL's default order puts NULLs last, which cannot
    serve that. ``deleted_at`` comes last so that a list's capped count is answered from the
    index alone. They are not partial indexes (deleted_at IS NULL): SQLite then no longer
    combines them for "mine or the pool", and would scan instead.
    """
    last_contact = F("last_contact_at").asc(nulls_first=True)
    rest = (last_contact, F("id"), F("deleted_at"))
    return [
        ListIndex(F("owner"), F("status"), *rest, name=f"{prefix}_owner_status_lc"),
        ListIndex(F("status"), *rest, name=f"{prefix}_status_lc"),
        ListIndex(*rest, name=f"{prefix}_last_contact_lc"),
        # Plans: the clients a person registered in a period.
        models.Index(fields=["registrant", "created_at"], name=f"{prefix}_registrant_idx"),
        # Pool clients entered without an owner, newest first (the shared pool's list).
        models.Index(fields=["status", "created_at", "id"], name=f"{prefix}_status_created_idx"),
    ]


class Company(Client):
    name = models.CharField(_("name"), max_length=200)
    tax_id = models.CharField(_("tax id"), max_length=32, blank=True)

    objects = ClientQuerySet["Company"].as_manager()
    history = HistoricalRecords(excluded_fields=["version", "updated_at", "search_text"], m2m_fields=["tags"])

    class Meta:
        ordering: ClassVar = ["name", "id"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        constraints: ClassVar = client_constraints("company")
        indexes: ClassVar = client_indexes("company")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("clients:company-detail", args=[self.pk])


class Contact(Client):
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    position = models.CharField(_("position"), max_length=100, blank=True)
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, null=True, blank=True, related_name="contacts", verbose_name=_("company")
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    tax_id = models.CharField(_("tax id"), max_length=32, blank=True)

    objects = ClientQuerySet["Contact"].as_manager()
    history = HistoricalRecords(excluded_fields=["version", "updated_at", "search_text"], m2m_fields=["tags"])

    class Meta:
        ordering: ClassVar = ["last_name", "first_name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints: ClassVar = [
            models.CheckConstraint(condition=~Q(last_name="", first_name=""), name="contact_has_a_name"),
            *client_constraints("contact"),
        ]
        indexes: ClassVar = client_indexes("contact")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return " ".join(part for part in [self.last_name, self.first_name, self.middle_name] if part)

    def get_absolute_url(self) -> str:
        return reverse("clients:contact-detail", args=[self.pk])


# The word in URLs and APIs → the model it names.
CLIENT_MODELS: dict[str, type[Company] | type[Contact]] = {"company": Company, "contact": Contact}


class ContactPointKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    MESSENGER = "messenger", _("Messenger")


class ContactPoint(TimeStampedModel):
    """One phone, e-mail or messenger handle of a contact or a company."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True, related_name="points")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="points")
    kind = models.CharField(_("kind"), max_length=10, choices=ContactPointKind.choices)
    value = models.CharField(_("value"), max_length=254, help_text=_("As written."))
    label = models.CharField(_("label"), max_length=30, blank=True, help_text=_("Work, mobile, home…"))
    # E.164 for phones, lower-cased address for e-mails, the handle for messengers: what matching uses.
    normalized = models.CharField(max_length=254, db_index=True)
    # A phone's digits reversed: its last digits become a prefix (see core.phones).
    digits_reversed = models.CharField(max_length=20, blank=True, db_index=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering: ClassVar = ["kind", "-is_primary", "id"]
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(company__isnull=True, contact__isnull=False)
                | Q(company__isnull=False, contact__isnull=True),
                name="contact_point_has_one_owner",
            ),
            models.UniqueConstraint(
                "contact",
                "kind",
                condition=Q(is_primary=True, contact__isnull=False),
                name="contact_one_primary_per_kind",
            ),
            models.UniqueConstraint(
                "company",
                "kind",
                condition=Q(is_primary=True, company__isnull=False),
                name="company_one_primary_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.value

    @property
    def href(self) -> str:
        if self.kind == ContactPointKind.PHONE:
            return f"tel:{self.normalized}"
        if self.kind == ContactPointKind.EMAIL:
            return f"mailto:{self.normalized}"
        return ""


class TransferKind(models.TextChoices):
    HAND_OVER = "hand_over", _("Handed over")
    POOL_CLAIM = "pool_claim", _("Taken from the pool")
    RULE = "rule", _("Moved by a rule")


class ClientTransfer(models.Model):
    """Every change of a client's owner: from whom, to whom, by whom, when and why — and, for a move a
    redistribution rule proposed, which rule and who approved it."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True, related_name="transfers")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="transfers")
    from_user = user_link(_("from"))
    to_user = user_link(_("to"))
    by = user_link(_("by"))
    at = models.DateTimeField(_("when"), auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=TransferKind.choices, default=TransferKind.HAND_OVER)
    # The redistribution rule that moved it, by name (the log outlives rules), and who approved the move.
    rule = models.CharField(_("rule"), max_length=120, blank=True)
    approved_by = user_link(_("approved by"))

    class Meta:
        ordering: ClassVar = ["-at", "-id"]
        indexes: ClassVar = [
            # A manager's claims from the pool this week (the weekly limit).
            models.Index(fields=["by", "kind", "at"], name="transfer_by_kind_idx"),
            # Moves to nobody (into the pool), newest first: the pool list's "entered the pool" without a sort.
            models.Index(fields=["to_user", "at", "id"], name="transfer_to_user_at_idx"),
        ]
        verbose_name = _("client transfer")
        verbose_name_plural = _("client transfers")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(company__isnull=True, contact__isnull=False)
                | Q(company__isnull=False, contact__isnull=True),
                name="client_transfer_has_one_client",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_user} → {self.to_user}"


class ClientMerge(models.Model):
    """Two records of one client made into one: what was merged into what, by whom, and what moved."""

    kind = models.CharField(_("kind"), max_length=10)  # "company" or "contact"
    survivor_id = models.PositiveBigIntegerField(_("kept record"))
    merged_id = models.PositiveBigIntegerField(_("merged record"))
    merged_name = models.CharField(_("merged name"), max_length=300)
    # Counts of what moved to the survivor, e.g. {"points": 2, "contacts": 1, "transfers": 3}.
    moved = models.JSONField(_("moved"), default=dict)
    by = user_link(_("by"))
    at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-at", "-id"]
        verbose_name = _("client merge")
        verbose_name_plural = _("client merges")
        indexes: ClassVar = [models.Index(fields=["kind", "survivor_id"], name="client_merge_survivor_idx")]

    def __str__(self) -> str:
        return f"{self.merged_name} → {self.kind} {self.survivor_id}"


class SavedView(TimeStampedModel):
    """A named set of list filters, columns and sort order: personal, or shared with everyone."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views", verbose_name=_("author")
    )
    kind = models.CharField(_("list"), max_length=10)  # "company" or "contact"
    name = models.CharField(_("name"), max_length=80)
    # The list's query string without the page number: filters, sort and columns.
    query = models.CharField(_("filters"), max_length=2000, blank=True)
    is_shared = models.BooleanField(_("shared with everyone"), default=False)

    class Meta:
        ordering: ClassVar = ["name", "id"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints: ClassVar = [
            models.UniqueConstraint("user", "kind", Lower("name"), name="saved_view_name_unique_per_user"),
        ]

    def __str__(self) -> str:
        return self.name
