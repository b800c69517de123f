from __future__ import annotations

import functools
import zoneinfo
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from rapport.core.models import TimeStampedModel


class Role(models.TextChoices):
    """The roles of shared/DESIGN.md; each has a permission group of the same name."""

    ADMIN = "admin", _("Administrator")
    HEAD = "head", _("Head of sales")
    MANAGER = "manager", _("Sales manager")
    OPERATOR = "operator", _("Operator")
    MARKETER = "marketer", _("Marketer")
    ANALYST = "analyst", _("Analyst")
    AGENT = "agent", _("Agent / partner")


@functools.cache
def known_time_zones() -> frozenset[str]:
    """IANA zone names; read from disk once (available_timezones() walks the tz database each call)."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value and value not in known_time_zones():
        raise ValidationError(_("Unknown time zone: %(value)s."), params={"value": value})


@functools.cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(known_time_zones()) if "/" in name]


class Team(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="headed_teams",
        verbose_name=_("head"),
    )

    class Meta:
        ordering: ClassVar = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MANAGER)
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="members", verbose_name=_("team")
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True, help_text=_("Empty: as the browser asks.")
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("Empty: the company's time zone."),
    )

    objects: ClassVar[UserManager[User]] = UserManager()  # type: ignore[assignment]

    class Meta:
        ordering: ClassVar = ["first_name", "last_name", "username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def initials(self) -> str:
        parts = [self.first_name, self.last_name] if self.first_name or self.last_name else [self.username]
        return "".join(part[:1] for part in parts if part).upper()

    @property
    def language_or_default(self) -> str:
        """The language to write to this person in when no browser asks: theirs, else the company's."""
        return self.language or settings.LANGUAGE_CODE

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN
