"""Supervision: redistribution rules and their proposals, the shared pool's limits, purchase regularity.

A rule says which clients (its scope), when they are neglected (its condition) and where they go
(its action); a review — on the rule's schedule, or on demand as a dry run — makes a proposal
listing each client that would move, where and why. In approval mode a head approves or
excludes lines; in automatic mode it is applied at once. Moves themselves are the client base's
transfers (``clients.ClientTransfer``), which name the rule and who approved them.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rapport.clients.models import ClientStatus, ClientTransfer, Company, Contact, Tag, user_link
from rapport.core.models import TimeStampedModel

# ---- Redistribution -------------------------------------------------------------------------------


class RuleCondition(models.TextChoices):
    STALE = "stale", _("No logged contact for a number of days")
    MISSED_CALLBACKS = "missed_callbacks", _("Callbacks missed")


class RuleAction(models.TextChoices):
    POOL = "pool", _("Move to the shared pool")
    ROUND_ROBIN = "round_robin", _("Reassign in turn within the team")
    LEAST_LOADED = "least_loaded", _("Reassign to the least-loaded manager")


class RuleSchedule(models.TextChoices):
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every week")
    BIWEEKLY = "biweekly", _("Every two weeks")


class RuleMode(models.TextChoices):
    APPROVAL = "approval", _("A head approves each move")
    AUTOMATIC = "automatic", _("Applied at once")


class RedistributionRule(TimeStampedModel):
    """Which clients a review looks at, when they count as neglected, and where they go."""

    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("in use"), default=True)
    # Scope: every condition given narrows it; none given means every client with an owner.
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("team")
    )
    pipeline = models.ForeignKey(
        "sales.Pipeline",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("with an open deal in pipeline"),
    )
    client_status = models.CharField(
        _("client status"),
        max_length=10,
        blank=True,
        choices=[(value, label) for value, label in ClientStatus.choices if value != ClientStatus.POOL],
    )
    tag = models.ForeignKey(
        Tag, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("tag")
    )
    # Condition.
    condition = models.CharField(_("condition"), max_length=20, choices=RuleCondition.choices)
    days = models.PositiveIntegerField(
        _("days without a logged contact"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    without_open_deal = models.BooleanField(_("and no open deal"), default=True)
    missed_callbacks = models.PositiveIntegerField(
        _("callbacks missed"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    # Action.
    action = models.CharField(_("action"), max_length=20, choices=RuleAction.choices)
    schedule = models.CharField(_("review"), max_length=10, choices=RuleSchedule.choices, default=RuleSchedule.WEEKLY)
    mode = models.CharField(_("mode"), max_length=10, choices=RuleMode.choices, default=RuleMode.APPROVAL)
    last_review_at = models.DateTimeField(_("last review"), null=True, blank=True)
    created_by = user_link(_("created by"))

    class Meta:
        ordering: ClassVar = ["name", "id"]
        verbose_name = _("redistribution rule")
        verbose_name_plural = _("redistribution rules")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(condition=RuleCondition.STALE, days__isnull=False)
                | Q(condition=RuleCondition.MISSED_CALLBACKS, missed_callbacks__isnull=False),
                name="redistribution_rule_has_its_condition",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProposalStatus(models.TextChoices):
    OPEN = "open", _("Awaiting approval")
    APPLIED = "applied", _("Applied")
    DISMISSED = "dismissed", _("Dismissed")


class Proposal(models.Model):
    """What a review of a rule found: the clients that would move, where and why (its lines)."""

    rule = models.ForeignKey(
        RedistributionRule, on_delete=models.CASCADE, related_name="proposals", verbose_name=_("rule")
    )
    created_at = models.DateTimeField(_("reviewed"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.OPEN)
    decided_by = user_link(_("decided by"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)  # approving or excluding twice at once: the second is refused

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        indexes: ClassVar = [models.Index(fields=["status", "created_at"], name="proposal_status_idx")]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.created_at:%Y-%m-%d}"


class ProposalLine(models.Model):
    """One client a proposal would move: from its owner to another manager, or to the pool, and why."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="lines", verbose_name=_("proposal"))
    company = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    from_user = user_link(_("from"))
    to_user = user_link(_("to"))  # none: the shared pool
    reason = models.CharField(_("reason"), max_length=300)
    excluded = models.BooleanField(_("excluded"), default=False)
    transfer = models.OneToOneField(
        ClientTransfer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("transfer")
    )

    class Meta:
        ordering: ClassVar = ["proposal_id", "id"]
        verbose_name = _("proposal line")
        verbose_name_plural = _("proposal lines")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(company__isnull=False, contact__isnull=True)
                | Q(company__isnull=True, contact__isnull=False),
                name="proposal_line_has_one_client",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.company_id or self.contact_id}"


# ---- The shared pool ---------------------------------------------------------------------------------


class PoolPolicy(models.Model):
    """The pool's limits, set by admins; one row (``PoolPolicy.current()``)."""

    claims_per_week = models.PositiveIntegerField(
        _("claims per manager and week"), default=20, validators=[MinValueValidator(0), MaxValueValidator(10_000)]
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = user_link(_("updated by"))

    class Meta:
        verbose_name = _("pool policy")
        verbose_name_plural = _("pool policy")

    def __str__(self) -> str:
        return str(self.claims_per_week)

    @classmethod
    def current(cls) -> PoolPolicy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


# ---- Purchase regularity --------------------------------------------------------------------------


class RegularityPolicy(models.Model):
    """How late is "overdue" and how big a fall in volume is worth a head's look; one row (``current()``)."""

    margin_percent = models.PositiveIntegerField(
        _("overdue after the interval plus this share of it, %"),
        default=20,
        validators=[MinValueValidator(0), MaxValueValidator(500)],
    )
    fall_percent = models.PositiveIntegerField(
        _("volume fall worth a look, %"), default=30, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = user_link(_("updated by"))

    class Meta:
        verbose_name = _("regularity policy")
        verbose_name_plural = _("regularity policy")

    def __str__(self) -> str:
        return f"{self.margin_percent} / {self.fall_percent}"

    @classmethod
    def current(cls) -> RegularityPolicy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class Regularity(models.Model):
    """A client's buying rhythm: the reorder interval learned from its orders (median gap) or set by hand,
    a monthly volume target, and whether it is overdue now (kept by the periodic job)."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, null=True, blank=True, related_name="regularity")
    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="regularity")
    learned_days = models.PositiveIntegerField(_("learned interval, days"), null=True, blank=True)
    set_days = models.PositiveIntegerField(
        _("interval set by hand, days"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    monthly_volume_target = models.DecimalField(
        _("monthly volume target"),
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    last_order_on = models.DateField(_("last order"), null=True, blank=True)
    overdue_since = models.DateField(_("overdue since"), null=True, blank=True)
    notified_on = models.DateField(_("owner and head told on"), null=True, blank=True)
    # The last full month's shipped volume and the average month of the six before it, as the job last
    # counted them (``volumes_of``: that month's first day). The team's falling clients read these few
    # columns instead of every order of the team.
    volumes_of = models.DateField(null=True, blank=True)
    month_volume = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    average_volume = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("purchase regularity")
        verbose_name_plural = _("purchase regularity")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(company__isnull=False, contact__isnull=True)
                | Q(company__isnull=True, contact__isnull=False),
                name="regularity_has_one_client",
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["overdue_since"], condition=Q(overdue_since__isnull=False), name="regularity_overdue_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_id or self.contact_id}: {self.interval_days}"

    @property
    def interval_days(self) -> int | None:
        """The interval in force: set by hand, else learned."""
        return self.set_days or self.learned_days


# ---- The control room -----------------------------------------------------------------------------


class DeviationSnapshot(models.Model):
    """A person's deviations as the morning job counted them: the control room's figures that cost too much to
    count live for a team, and what the daily digest compares with to report only what is new."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    on = models.DateField(_("day"))
    overdue = models.PositiveIntegerField(_("activities overdue"), default=0)
    without_next_step = models.PositiveIntegerField(_("clients without a next step"), default=0)
    stale = models.PositiveIntegerField(_("stale clients"), default=0)
    deals_off = models.PositiveIntegerField(_("deals off their checkpoints"), default=0)

    class Meta:
        ordering: ClassVar = ["user_id", "-on"]
        verbose_name = _("deviation snapshot")
        verbose_name_plural = _("deviation snapshots")
        constraints: ClassVar = [models.UniqueConstraint(fields=["user", "on"], name="deviation_snapshot_once_a_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.on}"
