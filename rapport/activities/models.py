"""Activities: calls, meetings, tasks, notes and e-mails, their outcomes, and what a finished one must say."""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.clients.models import Company, Contact, user_link
from rapport.core.fields import ChoiceField
from rapport.core.models import TimeStampedModel


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    TASK = "task", _("Task")
    NOTE = "note", _("Note")
    EMAIL = "email", _("E-mail")


class Direction(models.TextChoices):
    OUT = "out", _("Outgoing")
    IN = "in", _("Incoming")


class ActivityStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


# Kinds that count as a contact with the client: finishing one sets the client's last contact.
CONTACT_KINDS = frozenset({ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.EMAIL})


class Outcome(TimeStampedModel):
    """One entry of a kind's outcome picklist ("no answer", "call back later" …), edited by admins."""

    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices)
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # "Call back later" asks when; "wrong number" asks for nothing more.
    asks_follow_up = models.BooleanField(
        _("asks for a follow-up"), default=False, help_text=_("Choosing it asks when to follow up.")
    )
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering: ClassVar = ["kind", "position", "id"]
        verbose_name = _("outcome")

    def __str__(self) -> str:
        return self.name


# What a minimum-data rule may require, with the words a refusal uses for each.
REQUIREMENTS: dict[str, Any] = {
    "date": _("the date"),
    "client_name": _("the client's last and first name"),
    "contact_point": _("at least one contact detail of the client"),
    "subject": _("the subject"),
    "result": _("the result"),
    "outcome": _("the outcome"),
    "duration": _("the duration"),
    "deal": _("the deal"),
}


class MinimumDataRule(TimeStampedModel):
    """What an activity of a kind must carry to be saved with a status (a meeting marked done, say)."""

    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=ActivityStatus.choices)
    required = models.JSONField(_("required"), default=list)  # keys of REQUIREMENTS

    class Meta:
        ordering: ClassVar = ["kind", "status"]
        verbose_name = _("minimum data rule")
        constraints: ClassVar = [models.UniqueConstraint(fields=["kind", "status"], name="minimum_data_rule_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.get_status_display()}"


class ActivityQuerySet(models.QuerySet["Activity"]):
    def alive(self) -> ActivityQuerySet:
        return self.filter(deleted_at__isnull=True)

    def planned(self) -> ActivityQuerySet:
        return self.alive().filter(status=ActivityStatus.PLANNED)


class Activity(TimeStampedModel):
    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    result = models.TextField(_("result"), blank=True)
    outcome = models.ForeignKey(
        Outcome, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("outcome")
    )
    # Written into queries as a literal: SQLite then reads the partial indexes below without the table.
    status = ChoiceField(_("status"), max_length=10, choices=ActivityStatus.choices, default=ActivityStatus.PLANNED)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    duration = models.PositiveIntegerField(
        _("duration, minutes"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    # When it happened or is to happen: done, else due, else created. The timeline and the
    # calendar sort by it, so it is a column with an index, kept by the services.
    at = models.DateTimeField(_("when"))
    owner = user_link(_("owner"))
    created_by = user_link(_("created by"))
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, null=True, blank=True, related_name="activities", verbose_name=_("company")
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("contact person"),
    )
    deal = models.ForeignKey(
        "sales.Deal",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("deal"),
    )
    # The activity this one follows up (a callback after "call back later", the next step after a meeting).
    follow_up_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("follows up")
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-at", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(duration__gte=0) | Q(duration__isnull=True), name="activity_duration_not_negative"
            ),
        ]
        indexes: ClassVar = [
            # My day and the calendar: a person's activities by time.
            models.Index(fields=["owner", "at"], name="activity_owner_at_idx"),
            # Overdue and due-soon planned activities (my day, reminders).
            models.Index(
                fields=["owner", "due_at"],
                condition=Q(status=ActivityStatus.PLANNED, deleted_at__isnull=True),
                name="activity_planned_idx",
            ),
            models.Index(
                fields=["due_at"],
                condition=Q(status=ActivityStatus.PLANNED, deleted_at__isnull=True),
                name="activity_due_idx",
            ),
            # The next step of clients (the card, a list page's rows, the "no next step" filter): their
            # planned activities, a few percent of all.
            models.Index(
                fields=["company", "at"],
                condition=Q(status=ActivityStatus.PLANNED, deleted_at__isnull=True),
                name="activity_planned_company_idx",
            ),
            models.Index(
                fields=["contact", "at"],
                condition=Q(status=ActivityStatus.PLANNED, deleted_at__isnull=True),
                name="activity_planned_contact_idx",
            ),
            # Plans: how many calls or meetings people did in a period, counted from the index alone. Done ones
            # only: a planned one's query must not find it (SQLite would walk a person's every activity).
            models.Index(
                fields=["owner", "kind", "at"],
                condition=Q(status=ActivityStatus.DONE, deleted_at__isnull=True),
                name="activity_done_idx",
            ),
            # Everyone's activities newest first (the list of those who see them all).
            models.Index(fields=["-at", "-id"], name="activity_at_idx"),
            # The timelines of a company, a contact and a deal.
            models.Index(fields=["company", "-at"], name="activity_company_idx"),
            models.Index(fields=["contact", "-at"], name="activity_contact_idx"),
            models.Index(fields=["deal", "-at"], name="activity_deal_idx"),
        ]

    def __str__(self) -> str:
        return self.subject or self.get_kind_display()

    def get_absolute_url(self) -> str:
        return reverse("activities:activity-detail", args=[self.pk])

    @property
    def is_planned(self) -> bool:
        return self.status == ActivityStatus.PLANNED

    @property
    def is_overdue(self) -> bool:
        return self.is_planned and self.due_at is not None and self.due_at < timezone.now()

    @property
    def client(self) -> Company | Contact | None:
        return self.contact or self.company


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


def default_reminder_offsets() -> list[int]:
    return list(settings.RAPPORT_REMINDER_OFFSETS)


class ActivitySettings(models.Model):
    """A person's reminder offsets and the secret of their calendar feed (revoked by drawing a new one)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity_settings", primary_key=True
    )
    # Minutes before the due time; 15 and 1440 (a day) unless the person chose others.
    reminder_offsets = models.JSONField(_("reminders, minutes before"), default=default_reminder_offsets)
    feed_token = models.CharField(_("calendar feed secret"), max_length=64, unique=True, default=new_feed_token)

    class Meta:
        verbose_name = _("activity settings")

    def __str__(self) -> str:
        return str(self.user)


class ReminderSent(models.Model):
    """A reminder already sent, so the periodic job sends each once, also after a restart."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+")
    offset = models.PositiveIntegerField()  # minutes before the due time
    due_at = models.DateTimeField()  # the due time it was sent for: rescheduling reminds again
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["activity", "offset", "due_at"], name="reminder_sent_once")
        ]

    def __str__(self) -> str:
        return f"{self.activity_id} −{self.offset} min"


class BirthdayReminderSent(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint(fields=["contact", "year"], name="birthday_reminder_once")]

    def __str__(self) -> str:
        return f"{self.contact_id} {self.year}"
