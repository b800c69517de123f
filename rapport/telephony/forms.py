"""The telephony settings' forms: an integration, and a line of its extension map."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from rapport.accounts.models import User
from rapport.core.imports import ImportForm
from rapport.telephony.cdr import CdrError, mapping_parse
from rapport.telephony.models import Integration
from rapport.telephony.services import ANSWERING_ROLES, INTEGRATION_FIELDS


def answering_people() -> Any:
    return User.objects.filter(is_active=True, role__in=ANSWERING_ROLES).order_by("first_name", "last_name")


class IntegrationForm(forms.ModelForm[Integration]):
    # Never drawn with its value: typed to set or change it, left empty to keep it.
    ami_secret = forms.CharField(
        label=_("AMI password"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Integration
        # The service's settings but the AMI password, declared above: kept out of the instance, so that an empty
        # field keeps the stored one.
        fields: ClassVar = [name for name in INTEGRATION_FIELDS if name != "ami_secret"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        duty: forms.ModelChoiceField[User] = self.fields["duty_manager"]  # type: ignore[assignment]
        duty.queryset = answering_people()
        if self.instance.pk and self.instance.ami_secret:
            self.fields["ami_secret"].help_text = _("Stored. Leave empty to keep it; type a new one to change it.")


class ExtensionForm(forms.Form):
    number = forms.CharField(label=_("Extension"), max_length=40)
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        person: forms.ModelChoiceField[User] = self.fields["user"]  # type: ignore[assignment]
        person.queryset = answering_people()


class CdrImportForm(ImportForm):
    """A CDR file; without a mapping it is Asterisk's Master.csv, with one a CSV whose header it names."""

    mapping = forms.CharField(
        label=_("Column mapping"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "call_id=Call ID\nstart=Started\nfrom=From\nto=To"}),
        help_text=_("Empty for Asterisk's Master.csv. Otherwise one line per field: field=column of your file."),
    )

    def clean_mapping(self) -> dict[str, str] | None:
        try:
            return mapping_parse(str(self.cleaned_data.get("mapping") or "").splitlines())
        except CdrError as error:
            raise forms.ValidationError(str(error)) from None
