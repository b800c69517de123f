"""Plans (targets per person or team and period), and the data-quality scores kept per day."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
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
