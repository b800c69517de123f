"""A file import's two steps on a page: check the chosen file (a dry run), then import that same file.

The checked file waits in the cache under a random token the page carries, so "Import now"
does not ask for the file again; it is kept for an hour, per person.
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from rapport.core.http import RapportRequest

KEEP_SECONDS = 3600


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, separated by commas or semicolons."))

    MAX_BYTES = 50 * 1024 * 1024

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 50 MB: split it into parts."))
        return upload


class ExpiredError(Exception):
    """The token names a checked file no longer kept."""


def _key(request: RapportRequest, namespace: str, token: str) -> str:
    return f"{namespace}:import:{request.user.pk}:{token}"


def chosen_file(request: RapportRequest, form: ImportForm, namespace: str) -> tuple[bytes | None, str]:
    """The file of this POST and its token: the checked one the token names, else the uploaded one (None
    when the form is invalid). Raises ExpiredError when the token's file is gone."""
    token = request.POST.get("token", "")
    if token:
        data = cache.get(_key(request, namespace, token))
        if data is None:
            raise ExpiredError
        return data, token
    if form.is_valid():
        return form.cleaned_data["file"].read(), ""
    return None, ""


def keep(request: RapportRequest, namespace: str, data: bytes, token: str) -> str:
    """Keep a checked file for "Import now"; the token to carry."""
    token = token or secrets.token_urlsafe(16)
    cache.set(_key(request, namespace, token), data, KEEP_SECONDS)
    return token


def forget(request: RapportRequest, namespace: str, token: str) -> None:
    cache.delete(_key(request, namespace, token))
