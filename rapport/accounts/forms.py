from __future__ import annotations

import functools
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.forms.renderers import BaseRenderer
from django.forms.utils import flatatt
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from rapport.accounts import throttle
from rapport.accounts.models import Role, Team, User, time_zone_choices


def client_address(request: HttpRequest | None) -> str:
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


class LoginForm(AuthenticationForm):
    """Django's login form, paused after repeated failures; its errors never say which part was wrong."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Wrong username or password."),
        "paused": _("Too many failed attempts. Wait a few minutes and try again."),
    }

    def clean(self) -> dict[str, Any]:
        username = self.data.get("username", "")
        address = client_address(self.request)
        if throttle.login_is_paused(username=username, address=address):
            raise ValidationError(self.error_messages["paused"], code="paused")
        try:
            cleaned = super().clean()
        except ValidationError:
            throttle.login_failed(username=username, address=address)
            raise
        throttle.login_succeeded(username=username)
        return cleaned


def _language_choices() -> list[tuple[str, Any]]:
    return [("", _("As my browser asks")), *settings.LANGUAGES]


@functools.cache
def _time_zone_options() -> str:
    """The ~400 zones as <option> markup, built once per process: through Django's option templates they cost ms."""
    return "".join(format_html('<option value="{}">{}</option>', value, label) for value, label in time_zone_choices())


class TimeZoneSelect(forms.Select):
    """A select of every time zone that renders in microseconds; the chosen zone is marked in the cached markup."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: BaseRenderer | None = None
    ) -> SafeString:
        chosen = str(value or "")
        options = _time_zone_options()
        if chosen:
            marker = format_html('<option value="{}">', chosen)
            options = options.replace(marker, marker[:-1] + " selected>", 1)
        blank = format_html(
            '<option value=""{}>{}</option>', "" if chosen else " selected", _("The company's time zone")
        )
        final_attrs = self.build_attrs(self.attrs, attrs)
        return format_html(
            '<select name="{}"{}>{}{}</select>',
            name,
            flatatt(final_attrs),
            blank,
            mark_safe(options),  # noqa: S308  (built by format_html above)
        )


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=_language_choices, required=False)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=lambda: [("", _("The company's time zone")), *time_zone_choices()],
        required=False,
        widget=TimeZoneSelect,
    )


class UserForm(forms.Form):
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        error_messages={"invalid": _("Use letters, digits and @ . + - _ only.")},
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False, help_text=_("Password reset links are sent here."))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False)
    is_active = forms.BooleanField(
        label=_("Active"), required=False, initial=True, help_text=_("Inactive users cannot sign in.")
    )

    def __init__(self, *args: Any, editing: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing is not None:
            # The username is the sign-in name; changing it would lock the person out unawares.
            self.fields["username"].disabled = True


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=100)
    head = forms.ModelChoiceField(
        label=_("Head"),
        queryset=User.objects.filter(is_active=True, role__in=[Role.HEAD, Role.ADMIN]),
        required=False,
        help_text=_("A head of sales or an administrator."),
    )
