from __future__ import annotations

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime


def apply_validation_error(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError next to the fields it names (or above the form)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def moment_sent(value: str) -> datetime | None:
    """A moment a form sent back as it was drawn (when the figures were computed, when the record was saved), as
    ISO 8601 with its offset; None when it is not one — the caller refuses, never a 500."""
    try:
        moment = parse_datetime(value.strip())
    except ValueError:
        return None
    return moment if moment is not None and timezone.is_aware(moment) else None
