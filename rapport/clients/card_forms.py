"""Forms of the client card: the details editor, phones and e-mails, tags, merging."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.clients.models import ClientStatus, Company, ContactPointKind, LeadSource
from rapport.clients.services import PERSONAL_FIELDS, AnyClient


class ClientEditForm(forms.Form):
    """The card's details, drawn from one version of the record; fields outside the editor's rights are locked."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[(ClientStatus.ACTIVE, ClientStatus.ACTIVE.label), (ClientStatus.FROZEN, ClientStatus.FROZEN.label)],
    )
    lead_source = forms.ModelChoiceField(
        label=_("Lead source"), queryset=LeadSource.objects.filter(is_active=True), required=False, empty_label="—"
    )
    tax_id = forms.CharField(label=_("Tax id"), max_length=32, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    website = forms.URLField(label=_("Website"), max_length=200, required=False, assume_scheme="https")
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    consent_email = forms.BooleanField(label=_("Agrees to e-mail"), required=False)
    consent_sms = forms.BooleanField(label=_("Agrees to SMS"), required=False)

    personal_fields: set[str] = set()

    def __init__(self, *args: Any, client: AnyClient, user: User, **kwargs: Any) -> None:
        initial = {name: getattr(client, name) for name in self.base_fields if name != "version"}
        initial["version"] = client.version
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.client = client
        if client.status == ClientStatus.POOL:
            del self.fields["status"]  # the pool is left by a transfer or by taking the client
        may_edit_personal = access.can_edit_personal_data(user, client)
        may_edit_rest = access.can_edit_client(user, client)
        for name, field in self.fields.items():
            allowed = may_edit_personal if name in self.personal_fields else may_edit_rest
            if name != "version" and not allowed:
                field.disabled = True
                field.help_text = _("Only operators may change personal data.") if name in self.personal_fields else ""

    def changes(self) -> dict[str, Any]:
        """The fields this form changes: unchanged and locked ones are left out, so rights are asked only for these."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "version" and not self.fields[name].disabled and value != getattr(self.client, name)
        }


class CompanyEditForm(ClientEditForm):
    name = forms.CharField(label=_("Company name"), max_length=200)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)

    field_order = ["name", "status", "tax_id", "industry", "website", "address", "lead_source"]


class CompanyChoiceWidget(forms.Select):
    """A company picker that renders only the chosen company: Tom Select asks the server for the rest."""

    def optgroups(self, name: str, value: list[str], attrs: dict[str, Any] | None = None) -> Any:
        chosen = [v for v in value if v]
        companies = Company.objects.filter(pk__in=[int(v) for v in chosen if v.isdigit()])
        self.choices = [("", "—"), *[(company.pk, company.name) for company in companies]]
        return super().optgroups(name, value, attrs)


class ContactEditForm(ClientEditForm):
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    middle_name = forms.CharField(label=_("Middle name"), max_length=100, required=False)
    position = forms.CharField(label=_("Position"), max_length=100, required=False)
    company = forms.ModelChoiceField(label=_("Company"), queryset=Company.objects.none(), required=False)
    birthday = forms.DateField(label=_("Birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    personal_fields = PERSONAL_FIELDS
    field_order = ["last_name", "first_name", "middle_name", "position", "company", "birthday", "status", "tax_id"]

    def __init__(self, *args: Any, client: AnyClient, user: User, **kwargs: Any) -> None:
        super().__init__(*args, client=client, user=user, **kwargs)
        company: forms.ModelChoiceField[Company] = self.fields["company"]  # type: ignore[assignment]
        # The current company stays a valid choice even when it is out of the editor's sight.
        current = Q(pk=client.company_id) if client.company_id else Q(pk__in=[])  # type: ignore[union-attr]
        company.queryset = Company.objects.alive().filter(access.client_visibility(user) | current)
        company.widget = CompanyChoiceWidget(
            attrs={
                "data-autocomplete-url": reverse("clients:autocomplete", args=["company"]),
                "data-placeholder": _("Type a name…"),
                "data-no-results": _("Nothing found. Type at least three letters or digits."),
            }
        )
        company.initial = client.company_id  # type: ignore[union-attr]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        last, first = cleaned.get("last_name", self.client.last_name), cleaned.get("first_name", self.client.first_name)  # type: ignore[union-attr]
        if not (str(last).strip() or str(first).strip()):
            self.add_error("last_name", _("Give at least a last or a first name."))
        return cleaned


class PointForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ContactPointKind.choices)
    value = forms.CharField(label=_("Number or address"), max_length=254)
    label = forms.CharField(
        label=_("Label"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Work, mobile, home…")}),
    )
    is_primary = forms.BooleanField(label=_("Primary"), required=False)


class TagsForm(forms.Form):
    tags = forms.CharField(label=_("Tags"), max_length=1000, required=False, help_text=_("Separate tags with commas."))

    def names(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]
