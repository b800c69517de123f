"""Forms of the activity settings: an outcome, the minimum-data matrix, a person's reminders. The services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from rapport.activities.models import REQUIREMENTS, ActivityKind, ActivityStatus
from rapport.activities.reminders import LONGEST_OFFSET

# The reminder times a person picks from, in minutes before the due time.
OFFSET_CHOICES = [0, 5, 15, 30, 60, 120, 1440, 2880]


def offset_label(minutes: int) -> str:
    """ "At the due time", "15 minutes before", "2 hours before", "1 day before"."""
    if minutes == 0:
        return str(_("At the due time"))
    if minutes % 1440 == 0:
        days = minutes // 1440
        return ngettext("%(count)s day before", "%(count)s days before", days) % {"count": days}
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)s hour before", "%(count)s hours before", hours) % {"count": hours}
    return ngettext("%(count)s minute before", "%(count)s minutes before", minutes) % {"count": minutes}


class OutcomeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ActivityKind.choices)
    name = forms.CharField(label=_("Name"), max_length=80)
    asks_follow_up = forms.BooleanField(
        label=_("Asks for a follow-up"),
        required=False,
        help_text=_("Choosing it asks when to follow up, as “call back later” does."),
    )
    is_active = forms.BooleanField(
        label=_("In use"),
        required=False,
        initial=True,
        help_text=_("A retired outcome stays on the activities that have it."),
    )

    def __init__(self, *args: Any, new: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if new:
            del self.fields["is_active"]


def rule_field_name(kind: str, status: str) -> str:
    return f"{kind}-{status}"


class MinimumDataRulesForm(forms.Form):
    """One set of checkboxes (the REQUIREMENTS) per kind and status."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(key, label) for key, label in REQUIREMENTS.items()]
        for kind in ActivityKind.values:
            for status in ActivityStatus.values:
                self.fields[rule_field_name(kind, status)] = forms.MultipleChoiceField(
                    choices=choices, required=False, widget=forms.CheckboxSelectMultiple
                )

    def rules(self) -> dict[tuple[str, str], list[str]]:
        return {
            (kind, status): list(self.cleaned_data[rule_field_name(kind, status)])
            for kind in ActivityKind.values
            for status in ActivityStatus.values
        }


class ReminderOffsetsForm(forms.Form):
    offsets = forms.TypedMultipleChoiceField(
        label=_("Remind me"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    other = forms.IntegerField(
        label=_("Another time, minutes before"),
        required=False,
        validators=[
            MinValueValidator(0, message=_("A reminder comes before the due time: minutes cannot be below zero.")),
            MaxValueValidator(LONGEST_OFFSET, message=_("A reminder can come at most a week (10080 minutes) before.")),
        ],
        widget=forms.NumberInput(attrs={"min": "0", "max": str(LONGEST_OFFSET), "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, current: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The person's own times stay offered (and checked) even when they are not among the usual ones.
        minutes = sorted({*OFFSET_CHOICES, *current})
        self.fields["offsets"].choices = [(value, offset_label(value)) for value in minutes]  # type: ignore[attr-defined]
        self.initial.setdefault("offsets", current)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        other = data.get("other")
        chosen = list(data.get("offsets") or [])
        if other is not None:
            if other in chosen:
                self.add_error("other", _("This time is already chosen above."))
            else:
                chosen.append(other)
        data["chosen"] = sorted(chosen)
        return data
