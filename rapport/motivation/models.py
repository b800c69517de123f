"""Plans (targets per person or team and period), the data-quality scores kept per day, and bonuses:
the rules admins configure and the statements computed from them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from rapport.core.models import TimeStampedModel


class Metric(models.TextChoices):
    """What a plan counts, each computed from the CRM's own records (motivation.metrics)."""

    CALLS = "calls", _("Calls made")
    MEETINGS = "meetings", _("Meetings held")
    NEW_CLIENTS = "new_clients", _("New clients")
    DEALS_REGISTERED = "deals_registered", _("Deals registered")
    DEALS_WON = "deals_won", _("Deals won")
    REVENUE_WON = "revenue_won", _("Revenue won")
    CHECKPOINTS = "checkpoints", _("Checkpoints passed")
    DATA_QUALITY = "data_quality", _("Data quality")


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    CUSTOM = "custom", _("Custom dates")


class Target(TimeStampedModel):
    """One plan figure: a metric to reach by a person, or by a team together, between two dates (both included)."""

    metric = models.CharField(_("metric"), max_length=20, choices=Metric.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="targets",
        verbose_name=_("person"),
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="targets", verbose_name=_("team")
    )
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices, default=PeriodKind.MONTH)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    value = models.DecimalField(_("target"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])
    # Revenue is counted in this currency (deals in others are not converted); empty for counts.
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("set by"),
    )

    class Meta:
        ordering: ClassVar = ["-starts_on", "metric", "id"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True) | Q(user__isnull=True, team__isnull=False),
                name="target_person_or_team",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="target_not_negative"),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="target_period_ordered"),
        ]
        indexes: ClassVar = [
            # My day's counters: a person's (or their team's) targets running today.
            models.Index(fields=["user", "ends_on"], name="target_user_idx"),
            models.Index(fields=["team", "ends_on"], name="target_team_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} {self.starts_on}–{self.ends_on}: {self.value}"


class QualitySnapshot(models.Model):
    """A person's data-quality score on a day, kept by the daily job so heads see it over time."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    on = models.DateField(_("day"))
    score = models.PositiveSmallIntegerField(_("score"))  # 0–100
    clients_score = models.PositiveSmallIntegerField(_("clients' average"))
    activities_share = models.PositiveSmallIntegerField(_("activities with their minimum data, %"))
    clients = models.PositiveIntegerField(_("clients"))

    class Meta:
        ordering: ClassVar = ["user", "-on"]
        constraints: ClassVar = [models.UniqueConstraint(fields=["user", "on"], name="quality_snapshot_once_a_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.on}: {self.score}"


# ---- Bonuses -------------------------------------------------------------------------------------


class BonusRuleKind(models.TextChoices):
    REGISTRANT_SHARE = "registrant_share", _("Share of a won deal to its registrant")
    CLOSER_SHARE = "closer_share", _("Share of a won deal to its closer")
    PER_UNIT_ABOVE_PLAN = "per_unit_above_plan", _("Amount per unit above plan")
    ACCELERATOR = "accelerator", _("Accelerator above the plan")


# Rules paying a share of each won deal, and rules paying for a plan exceeded.
SHARE_KINDS = frozenset({BonusRuleKind.REGISTRANT_SHARE, BonusRuleKind.CLOSER_SHARE})
PLAN_KINDS = frozenset({BonusRuleKind.PER_UNIT_ABOVE_PLAN, BonusRuleKind.ACCELERATOR})


class BonusRule(TimeStampedModel):
    """How a bonus is earned, in force between two dates. Admins configure rules (motivation.statements.rule_save).

    A rule that an approved statement used is never changed in its terms: a change makes a new
    row that ``replaces`` it, and the old one stops the day before the new one starts (or
    altogether, when the new one starts no later), so the approved lines keep pointing at the
    terms they were computed with.
    """

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=24, choices=BonusRuleKind.choices)
    # Shares and accelerators: a percentage of the deal's amount, or of the revenue above plan.
    percent = models.DecimalField(_("percentage"), max_digits=5, decimal_places=2, null=True, blank=True)
    # Per unit above plan: the amount paid for each unit of the metric beyond the plan.
    amount = models.DecimalField(_("amount per unit"), max_digits=14, decimal_places=2, null=True, blank=True)
    metric = models.CharField(_("metric"), max_length=20, choices=Metric.choices, blank=True)
    # Empty for a share: deals in any currency, each paid in its own. Plan rules pay in this one.
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    # Eligibility: logged calls, meetings or e-mails with the client before the win (0: not asked) …
    min_activities = models.PositiveSmallIntegerField(_("contact history needed"), default=0)
    # … every checkpoint of the deal done …
    checkpoints_required = models.BooleanField(_("checkpoints done"), default=False)
    # … and the person's data-quality score at least this (empty: not asked).
    min_quality = models.PositiveSmallIntegerField(_("minimum data quality"), null=True, blank=True)
    effective_from = models.DateField(_("in force from"))
    effective_until = models.DateField(_("in force until"), null=True, blank=True)
    is_active = models.BooleanField(_("in use"), default=True)
    replaces = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("replaces"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["kind", "-effective_from", "id"]
        verbose_name = _("bonus rule")
        verbose_name_plural = _("bonus rules")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | Q(percent__gt=0, percent__lte=100), name="bonus_rule_percent"
            ),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0), name="bonus_rule_amount"),
            models.CheckConstraint(
                condition=Q(min_quality__isnull=True) | Q(min_quality__lte=100), name="bonus_rule_quality"
            ),
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True) | Q(effective_until__gte=models.F("effective_from")),
                name="bonus_rule_dates_ordered",
            ),
            # Every rule pays something, by its kind's measure: an "empty" rule is refused.
            models.CheckConstraint(
                condition=(
                    Q(kind__in=sorted(SHARE_KINDS), percent__isnull=False, amount__isnull=True, metric="")
                    | (
                        Q(kind=BonusRuleKind.PER_UNIT_ABOVE_PLAN, amount__isnull=False, percent__isnull=True)
                        & ~Q(metric="")
                    )
                    | (Q(kind=BonusRuleKind.ACCELERATOR, percent__isnull=False, amount__isnull=True) & ~Q(metric=""))
                ),
                name="bonus_rule_pays_something",
            ),
            # A version is replaced once: the versions of a rule form one line.
            models.UniqueConstraint(
                fields=["replaces"], condition=Q(replaces__isnull=False), name="bonus_rule_replaced_once"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_share(self) -> bool:
        return self.kind in SHARE_KINDS

    def in_force_on(self, day: date) -> bool:
        return (
            self.is_active
            and self.effective_from <= day
            and (self.effective_until is None or day <= self.effective_until)
        )


class StatementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")


class ApprovedStatementError(Exception):
    """Something tried to change or delete an approved statement or its lines: they never change."""


class StatementQuerySet(models.QuerySet["Statement"]):
    def approved(self) -> StatementQuerySet:
        return self.filter(status=StatementStatus.APPROVED)

    def drafts(self) -> StatementQuerySet:
        return self.filter(status=StatementStatus.DRAFT)

    def update(self, **kwargs: Any) -> int:
        if self.approved().exists():
            raise ApprovedStatementError("an approved statement never changes")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.approved().exists():
            raise ApprovedStatementError("an approved statement is never deleted")
        return super().delete()


class Statement(models.Model):
    """A person's bonus for a period in one currency: a version of it, a draft until a head approves it.

    Approval locks it for good: ``save`` and ``delete`` refuse an approved statement, whatever
    calls them. A later recomputation that finds other figures makes the next version (a
    draft whose ``previous`` is the approved one), so the difference can be shown.
    """

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bonus_statements", verbose_name=_("person")
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    currency = models.CharField(_("currency"), max_length=3)
    version = models.PositiveIntegerField(_("version"), default=1)
    status = models.CharField(
        _("status"), max_length=10, choices=StatementStatus.choices, default=StatementStatus.DRAFT
    )
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal(0))
    # When these figures were computed: a head approves the figures they saw, or is asked to look again.
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    previous = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supersedes"),
    )

    objects = StatementQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-period_start", "person_id", "currency", "-version"]
        verbose_name = _("bonus statement")
        verbose_name_plural = _("bonus statements")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["person", "period_start", "period_end", "currency", "version"], name="statement_version_once"
            ),
            # Only the latest version is a draft: at most one per person, period and currency.
            models.UniqueConstraint(
                fields=["person", "period_start", "period_end", "currency"],
                condition=Q(status=StatementStatus.DRAFT),
                name="statement_one_draft",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="statement_period_ordered"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="statement_version_positive"),
            models.CheckConstraint(
                condition=Q(status=StatementStatus.DRAFT, approved_at__isnull=True, approved_by__isnull=True)
                | Q(status=StatementStatus.APPROVED, approved_at__isnull=False, approved_by__isnull=False),
                name="statement_approval_recorded",
            ),
        ]
        indexes: ClassVar = [
            # Everyone's statements of a period (a head's team, the admin's list).
            models.Index(fields=["period_start", "period_end"], name="statement_period_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.period_start}–{self.period_end} {self.currency} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The row as stored decides, not this copy: approving saves a draft once, nothing saves it after.
        if self._stored_approved():
            raise ApprovedStatementError("an approved statement never changes")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.is_approved or self._stored_approved():
            raise ApprovedStatementError("an approved statement is never deleted")
        return super().delete(*args, **kwargs)

    @property
    def is_approved(self) -> bool:
        return self.status == StatementStatus.APPROVED

    def _stored_approved(self) -> bool:
        return self.pk is not None and Statement.objects.filter(pk=self.pk, status=StatementStatus.APPROVED).exists()


class LineKind(models.TextChoices):
    CREDIT = "credit", _("Credit")
    CLAWBACK = "clawback", _("Claw-back")
    REFUSED = "refused", _("No bonus")


# What each line's reason says, by code; the parameters are stored with the line and the words
# are chosen in the reader's language when it is shown (StatementLine.reason).
REASONS: dict[str, Any] = {
    "registrant_share": _("Registered the deal: %(percent)s %% of its %(base)s %(currency)s."),
    "closer_share": _("Won the deal: %(percent)s %% of its %(base)s %(currency)s."),
    "no_amount": _("No bonus: the deal has no amount."),
    "no_contact_history": _(
        "No bonus: %(found)s of the %(needed)s calls, meetings or e-mails with the client needed before the win."
    ),
    "checkpoints_not_done": _("No bonus: checkpoints not done: %(names)s."),
    "quality_below": _("No bonus: data quality %(score)s, below the %(needed)s required."),
    "quality_unknown": _("No bonus: no data-quality score was recorded in the month up to %(day)s."),
    "already_credited": _("Already credited on the statement for %(start)s – %(end)s."),
    "adjustment": _("%(paid)s %(currency)s paid before, %(due)s due now: the difference."),
    "clawback_reopened": _("The deal was reopened: the %(paid)s %(currency)s paid is taken back."),
    "clawback_lost": _("The deal was lost after all: the %(paid)s %(currency)s paid is taken back."),
    "clawback_deleted": _("The deal was deleted: the %(paid)s %(currency)s paid is taken back."),
    "clawback_not_registrant": _("No longer the deal's registrant: the %(paid)s %(currency)s paid is taken back."),
    "clawback_not_closer": _("The deal was won again by someone else: the %(paid)s %(currency)s paid is taken back."),
    "clawback_currency": _("The deal's currency changed: the %(paid)s %(currency)s paid is taken back."),
    "clawback_adjustment": _("%(paid)s %(currency)s paid before, %(due)s due now: the excess is taken back."),
    "above_plan": _("%(metric)s: %(fact)s against a plan of %(plan)s; %(excess)s above it × %(amount)s %(currency)s."),
    "accelerator": _("%(metric)s: %(fact)s against a plan of %(plan)s; %(percent)s %% of the %(excess)s above it."),
    "plan_not_exceeded": _("No bonus: %(metric)s %(fact)s against a plan of %(plan)s, nothing above it."),
}
# Parameters shown as numbers (amounts, percentages, plan figures) and as days.
NUMBER_PARAMS = frozenset({"base", "paid", "due", "amount", "percent", "fact", "plan", "excess"})
DAY_PARAMS = frozenset({"start", "end", "day"})


class StatementLineQuerySet(models.QuerySet["StatementLine"]):
    def _touches_approved(self) -> bool:
        return self.filter(statement__status=StatementStatus.APPROVED).exists()

    def update(self, **kwargs: Any) -> int:
        if self._touches_approved():
            raise ApprovedStatementError("the lines of an approved statement never change")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self._touches_approved():
            raise ApprovedStatementError("the lines of an approved statement are never deleted")
        return super().delete()

    def bulk_create(self, objs: Iterable[StatementLine], *args: Any, **kwargs: Any) -> list[StatementLine]:
        objs = list(objs)
        ids = {line.statement_id for line in objs}
        if ids and Statement.objects.filter(pk__in=ids, status=StatementStatus.APPROVED).exists():
            raise ApprovedStatementError("an approved statement takes no more lines")
        return super().bulk_create(objs, *args, **kwargs)


class StatementLine(models.Model):
    """One amount of a statement, with the rule and the records that produced it (or why they paid nothing)."""

    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="lines", verbose_name=_("statement")
    )
    rule = models.ForeignKey(BonusRule, on_delete=models.PROTECT, related_name="+", verbose_name=_("rule"))
    deal = models.ForeignKey(
        "sales.Deal", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("deal")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=LineKind.choices)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    reason_code = models.CharField(_("reason"), max_length=40)
    reason_params = models.JSONField(_("reason's figures"), default=dict, blank=True)
    # The activities that made the deal eligible (its contact history before the win), to link them.
    evidence = models.JSONField(_("evidence"), default=list, blank=True)

    objects = StatementLineQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["statement_id", "id"]
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(kind=LineKind.CREDIT, amount__gt=0)
                | Q(kind=LineKind.CLAWBACK, amount__lt=0)
                | Q(kind=LineKind.REFUSED, amount=0),
                name="statement_line_amount_by_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}: {self.kind} {self.amount}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._statement_approved():
            raise ApprovedStatementError("the lines of an approved statement never change")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self._statement_approved():
            raise ApprovedStatementError("the lines of an approved statement are never deleted")
        return super().delete(*args, **kwargs)

    def _statement_approved(self) -> bool:
        return Statement.objects.filter(pk=self.statement_id, status=StatementStatus.APPROVED).exists()

    @property
    def activity_ids(self) -> list[int]:
        return [int(pk) for pk in self.evidence]

    @property
    def reason(self) -> str:
        """The reason in the current language, with its figures formatted for it."""
        template = REASONS.get(self.reason_code)
        if template is None:
            return self.reason_code
        return str(template) % _Figures({key: _shown(key, value) for key, value in self.reason_params.items()})


class _Figures(dict[str, str]):
    """A reason's figures; one missing (a line stored before its reason's words changed) shows as a dash."""

    def __missing__(self, key: str) -> str:
        return "–"


def _shown(key: str, value: Any) -> str:
    if key in NUMBER_PARAMS:
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            return str(value)
        places = 0 if number == number.to_integral_value() else 2
        return formats.number_format(number, decimal_pos=places, use_l10n=True, force_grouping=True)
    if key in DAY_PARAMS:
        return formats.date_format(date.fromisoformat(str(value)), "DATE_FORMAT")
    if key == "metric":
        return str(Metric(value).label) if value in Metric.values else str(value)
    if key == "names" and isinstance(value, list):
        return ", ".join(str(name) for name in value)
    return str(value)
