"""Telephony: the PBX integrations, their extensions, the call events they send and the calls made of them.

An event is stored once per (integration, event id): a replay finds it and changes nothing.
A call is the sum of its events, whatever order they came in (see ``ingest``).
"""

from __future__ import annotations

import secrets
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapport.activities.models import Direction
from rapport.clients.models import Company, Contact, user_link
from rapport.core.models import TimeStampedModel


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Integration(TimeStampedModel):
    """One PBX or cloud telephony account sending events to ``/telephony/<name>/events``."""

    name = models.SlugField(_("name"), max_length=50, unique=True, help_text=_("Part of the webhook's address."))
    # The key of the events' HMAC signatures: shown once when the integration is created, never again.
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    is_active = models.BooleanField(_("in use"), default=True)
    # Local numbers ("8 912 …", "0 88 …") are read as numbers of this region.
    region = models.CharField(_("phone region"), max_length=2, blank=True, help_text=_("Two letters, e.g. US."))
    duty_manager = user_link(_("duty manager"), help_text=_("Gets the callbacks of missed calls from unknown numbers."))
    callback_minutes = models.PositiveIntegerField(
        _("callback due after, minutes"), default=30, help_text=_("A missed call's callback is due this much later.")
    )
    # Asterisk's Manager Interface: the listener reads call events from it, click-to-call asks it to originate.
    ami_host = models.CharField(
        _("AMI host"), max_length=200, blank=True, help_text=_("Asterisk only; empty for none.")
    )
    ami_port = models.PositiveIntegerField(_("AMI port"), default=5038)
    ami_username = models.CharField(_("AMI user"), max_length=100, blank=True)
    # Like the webhook's secret, the AMI password is written, never shown back.
    ami_secret = models.CharField(_("AMI password"), max_length=200, blank=True)
    ami_context = models.CharField(
        _("dial plan context"),
        max_length=80,
        default="from-internal",
        help_text=_("Where click-to-call dials the client's number from."),
    )

    class Meta:
        ordering: ClassVar = ["name"]
        verbose_name = _("telephony integration")
        verbose_name_plural = _("telephony integrations")

    def __str__(self) -> str:
        return self.name

    @property
    def phone_region(self) -> str:
        return (self.region or settings.DEFAULT_PHONE_REGION).upper()

    @property
    def has_ami(self) -> bool:
        """Asterisk's Manager Interface is set up: the listener can run, and click-to-call can originate."""
        return bool(self.ami_host and self.ami_username)


class Extension(models.Model):
    """An extension of the PBX and the person who answers it."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="extensions")
    number = models.CharField(_("extension"), max_length=40)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="extensions", verbose_name=_("person")
    )

    class Meta:
        ordering: ClassVar = ["integration", "number"]
        verbose_name = _("extension")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["integration", "number"], name="extension_unique_per_integration"),
        ]

    def __str__(self) -> str:
        return self.number


class EventType(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    ENDED = "ended", _("Ended")
    MISSED = "missed", _("Missed")
    RECORDING = "recording", _("Recording available")


class CallEvent(models.Model):
    """One event as received: the proof of what the PBX said, and what makes a replay a no-op."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    event_id = models.CharField(max_length=100)
    call_id = models.CharField(max_length=100)
    type = models.CharField(max_length=10, choices=EventType.choices)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["integration", "event_id"], name="call_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.call_id}: {self.type}"


class Call(TimeStampedModel):
    """A phone call, put together from its events in whatever order they came."""

    integration = models.ForeignKey(Integration, on_delete=models.PROTECT, related_name="calls")
    call_id = models.CharField(max_length=100)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    # The client's side of the call as the PBX wrote it, and as E.164 when it could be read.
    number = models.CharField(_("number"), max_length=64, blank=True)
    number_e164 = models.CharField(max_length=20, blank=True, db_index=True)
    number_unreadable = models.BooleanField(_("number not readable"), default=False)
    extension = models.CharField(_("extension"), max_length=40, blank=True)
    user = user_link(_("manager"))
    started_at = models.DateTimeField(_("started"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # Talk time in seconds, as the PBX counted it.
    duration = models.PositiveIntegerField(_("duration, seconds"), null=True, blank=True)
    disposition = models.CharField(_("disposition"), max_length=40, blank=True)
    missed = models.BooleanField(_("missed"), default=False)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    company = models.ForeignKey(Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The call on the client's timeline, once it ended (a missed incoming call has none: its callback stands for it).
    activity = models.OneToOneField(
        "activities.Activity", on_delete=models.SET_NULL, null=True, blank=True, related_name="phone_call"
    )
    # A missed incoming call's callback: planned for the client's owner (or the duty manager), done by the call back.
    callback = models.ForeignKey(
        "activities.Activity", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-started_at", "-id"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["integration", "call_id"], name="call_once_per_integration"),
        ]
        indexes: ClassVar = [
            # The screen-pop: a person's latest call, asked several times a second by each open stream.
            models.Index(fields=["user", "-started_at"], name="call_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.number}"
