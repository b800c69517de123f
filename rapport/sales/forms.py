"""Forms of the deal screens: registering a deal, its details editor, stage moves, lines, the registrant."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Model, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.accounts.models import Role, User
from rapport.clients.models import Company, Contact, LeadSource
from rapport.sales.models import Deal, LostReason, Pipeline, Product, Stage, StageKind
from rapport.sales.queries import sellers

NO_RESULTS = _("Nothing found. Type at least three letters or digits.")


class PickerWidget(forms.Select):
    """A picker that renders only the chosen record: Tom Select asks the server for the rest (deal.js)."""

    def __init__(self, model: type[Model], url: str, *, min_length: int = 3, placeholder: Any = "") -> None:
        super().__init__(
            attrs={
                "data-picker-url": url,
                "data-min-length": str(min_length),
                "data-placeholder": placeholder,
                "data-no-results": NO_RESULTS if min_length > 1 else _("Nothing found."),
            }
        )
        self.model = model

    def optgroups(self, name: str, value: list[str], attrs: dict[str, Any] | None = None) -> Any:
        chosen = [int(v) for v in value if v and str(v).isdigit()]
        records = self.model._default_manager.filter(pk__in=chosen) if chosen else []
        self.choices = [("", "—"), *[(record.pk, _label(record)) for record in records]]
        return super().optgroups(name, value, attrs)


def _label(record: Model) -> str:
    return str(getattr(record, "display_name", None) or record)


def client_picker(kind: str) -> PickerWidget:
    model = Company if kind == "company" else Contact
    return PickerWidget(
        model, reverse("clients:autocomplete", args=[kind]), placeholder=_("Type a name, phone or e-mail…")
    )


def product_picker() -> PickerWidget:
    return PickerWidget(
        Product, reverse("sales:product-autocomplete"), min_length=1, placeholder=_("Type a SKU or a name…")
    )


def _client_field(kind: str, user: User, current: int | None) -> forms.ModelChoiceField[Any]:
    """Visible clients of one kind; the deal's current one stays a valid choice even when out of sight."""
    model = Company if kind == "company" else Contact
    keep = Q(pk=current) if current else Q(pk__in=[])
    return forms.ModelChoiceField(
        label=_("Company") if kind == "company" else _("Contact person"),
        queryset=model.objects.alive().filter(access.client_visibility(user) | keep),
        required=False,
        widget=client_picker(kind),
    )


def _amount_field() -> forms.DecimalField:
    return forms.DecimalField(
        label=_("Amount"),
        max_digits=14,
        decimal_places=2,
        required=False,
        validators=[MinValueValidator(Decimal(0), message=_("The amount cannot be negative."))],
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )


def _currency_field() -> forms.ChoiceField:
    codes = list(settings.RAPPORT_CURRENCIES)
    return forms.ChoiceField(
        label=_("Currency"),
        choices=[(code, code) for code in codes],
        initial=settings.RAPPORT_DEFAULT_CURRENCY,
        error_messages={"invalid_choice": _("Choose one of: %(codes)s.") % {"codes": ", ".join(codes)}},
    )


def _date_field(label: Any) -> forms.DateField:
    return forms.DateField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _owner_choices(user: User) -> Any:
    """Heads give deals within their team, admins to any seller; others keep what they register."""
    if user.is_admin:
        return sellers()
    if user.role == Role.HEAD and user.team_id is not None:
        return sellers().filter(team_id=user.team_id)
    return None


class DealCreateForm(forms.Form):
    company = forms.ModelChoiceField(queryset=Company.objects.none(), required=False)
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False)
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("What is being sold, e.g. “Office chairs, 40 pcs”")}),
    )
    amount = _amount_field()
    currency = _currency_field()
    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=Pipeline.objects.none(), empty_label=None)
    stage = forms.ModelChoiceField(
        label=_("Stage"),
        queryset=Stage.objects.none(),
        required=False,
        empty_label=_("The first stage"),
        help_text=_("Leave it for a new opportunity; pick a later stage for one already under way."),
    )
    expected_close = _date_field(_("Expected close date"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["company"] = _client_field("company", user, None)
        self.fields["contact"] = _client_field("contact", user, None)
        self.order_fields(["company", "contact", "title", "amount", "currency", "pipeline", "stage", "expected_close"])
        pipelines = Pipeline.objects.filter(is_active=True)
        pipeline: forms.ModelChoiceField[Pipeline] = self.fields["pipeline"]  # type: ignore[assignment]
        pipeline.queryset = pipelines
        stages = list(
            Stage.objects.filter(pipeline__is_active=True)
            .exclude(kind=StageKind.LOST)
            .select_related("pipeline")
            .order_by("pipeline__position", "pipeline_id", "position")
        )
        self.several_pipelines = len({stage.pipeline_id for stage in stages}) > 1
        stage: forms.ModelChoiceField[Stage] = self.fields["stage"]  # type: ignore[assignment]
        stage.queryset = Stage.objects.filter(pk__in=[s.pk for s in stages])
        stage.choices = [
            ("", _("The first stage")),
            *[(s.pk, f"{s.pipeline.name} · {s.name}" if self.several_pipelines else s.name) for s in stages],
        ]
        if not self.several_pipelines:
            pipeline.required = False
            pipeline.widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("company") and not cleaned.get("contact") and not self.has_error("company"):
            self.add_error("company", _("Choose the company or the person the deal is with."))
        return cleaned

    def service_arguments(self) -> dict[str, Any]:
        data = {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}
        if data.get("stage"):
            # Each stage names its pipeline: the pipeline picker matters only for "the first stage".
            data["pipeline"] = data["stage"].pipeline
        return data


class DealEditForm(forms.Form):
    """The card's details, drawn from one version of the deal; a stale version is refused by the service."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), max_length=200)
    amount = _amount_field()
    currency = _currency_field()
    expected_close = _date_field(_("Expected close date"))
    next_step = forms.CharField(label=_("Next step"), max_length=200, required=False)
    next_step_at = _date_field(_("Next step date"))
    lead_source = forms.ModelChoiceField(
        label=_("Lead source"), queryset=LeadSource.objects.filter(is_active=True), required=False, empty_label="—"
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), empty_label=None)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, deal: Deal, user: User, has_lines: bool, **kwargs: Any) -> None:
        initial = {name: getattr(deal, name) for name in self.base_fields if name != "version"}
        initial.update(version=deal.version, company=deal.company_id, contact=deal.contact_id)
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.deal = deal
        self.fields["company"] = _client_field("company", user, deal.company_id)
        self.fields["contact"] = _client_field("contact", user, deal.contact_id)
        # The current lead source stays valid even if it is no longer offered.
        lead_source: forms.ModelChoiceField[LeadSource] = self.fields["lead_source"]  # type: ignore[assignment]
        keep = Q(pk=deal.lead_source_id) if deal.lead_source_id else Q(pk__in=[])
        lead_source.queryset = LeadSource.objects.filter(Q(is_active=True) | keep)
        owners = _owner_choices(user)
        if owners is None:
            del self.fields["owner"]
        else:
            owner: forms.ModelChoiceField[User] = self.fields["owner"]  # type: ignore[assignment]
            owner.queryset = owners | User.objects.filter(pk__in=[deal.owner_id])
        if has_lines:
            for name in ("amount", "currency"):
                self.fields[name].disabled = True
            self.fields["amount"].help_text = _("The sum of the products below.")
        self.order_fields(
            ["title", "company", "contact", "amount", "currency", "expected_close", "next_step", "next_step_at"]
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "company" in cleaned and "contact" in cleaned and not cleaned["company"] and not cleaned["contact"]:
            self.add_error("company", _("Choose the company or the person the deal is with."))
        return cleaned

    def changes(self) -> dict[str, Any]:
        """The fields this form changes: unchanged and locked ones are left out, so rights are asked only for these."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "version" and not self.fields[name].disabled and value != getattr(self.deal, name)
        }


class StageMoveForm(forms.Form):
    stage = forms.ModelChoiceField(queryset=Stage.objects.none())
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    lost_reason = forms.ModelChoiceField(
        label=_("Why was it lost?"),
        queryset=LostReason.objects.filter(is_active=True),
        required=False,
        empty_label=_("Choose a reason…"),
    )
    lost_note = forms.CharField(
        label=_("A word on it"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("What the client said, who won it instead…")}),
    )

    def __init__(self, *args: Any, deal: Deal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stage: forms.ModelChoiceField[Stage] = self.fields["stage"]  # type: ignore[assignment]
        stage.queryset = Stage.objects.filter(pipeline_id=deal.pipeline_id)
        stage.error_messages["invalid_choice"] = _("Choose a stage of this deal's pipeline.")


class LineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.filter(is_active=True),
        error_messages={"invalid_choice": _("Choose a product that is on sale.")},
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=12,
        decimal_places=3,
        initial=1,
        validators=[MinValueValidator(Decimal("0.001"), message=_("The quantity must be more than zero."))],
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"}),
    )
    price = forms.DecimalField(
        label=_("Price"),
        max_digits=14,
        decimal_places=2,
        required=False,
        validators=[MinValueValidator(Decimal(0), message=_("The price cannot be negative."))],
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "placeholder": _("List price")}),
    )
    discount = forms.DecimalField(
        label=_("Discount, %"),
        max_digits=5,
        decimal_places=2,
        required=False,
        validators=[
            # The validators format their message: "%%" is a percent sign.
            MinValueValidator(Decimal(0), message=_("A discount is from 0 to 100%%.")),
            MaxValueValidator(Decimal(100), message=_("A discount is from 0 to 100%%.")),
        ],
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "100"}),
    )
    currency = forms.CharField(required=False, max_length=3, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product"].widget = product_picker()

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["discount"] = data.get("discount") or Decimal(0)
        data["currency"] = data.get("currency") or None
        return data


class LineEditForm(LineForm):
    """Quantity, price and discount of a line already on the deal (its product stays)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["product"]
        self.fields["price"].required = True
        self.fields["discount"].initial = 0


class RegistrantForm(forms.Form):
    registrant = forms.ModelChoiceField(label=_("Registered by"), queryset=User.objects.none(), empty_label=None)

    def __init__(self, *args: Any, deal: Deal, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"registrant": deal.registrant_id})
        super().__init__(*args, **kwargs)
        registrant: forms.ModelChoiceField[User] = self.fields["registrant"]  # type: ignore[assignment]
        registrant.queryset = sellers()
