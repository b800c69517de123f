"""Forms for the catalogue and the sales settings: they read input; the services decide and write."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MinValueValidator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rapport.sales.models import (
    GATE_FIELDS,
    CheckpointType,
    Pipeline,
    PriceList,
    Product,
    Stage,
    StageColour,
    StageKind,
    Warehouse,
)

NOT_NEGATIVE_PRICE = _("A price cannot be negative.")
NOT_NEGATIVE_QUANTITY = _("A quantity cannot be negative.")


class NameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)


class ProductForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=200)
    unit = forms.CharField(label=_("Unit"), max_length=20, initial="pcs", help_text=_("pcs, box, hour, year …"))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    is_active = forms.BooleanField(label=_("On sale"), required=False, initial=True)

    @classmethod
    def for_product(cls, product: Product, data: Any = None) -> ProductForm:
        return cls(data, initial={name: getattr(product, name) for name in cls.base_fields})


def _amount(label: str, *, places: int, digits: int, message: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=digits,
        decimal_places=places,
        validators=[MinValueValidator(Decimal(0), message=message)],
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"}),
    )


class PricesAndStockForm(forms.Form):
    """One price per price list and quantity/reserved per warehouse; an empty price or quantity removes it."""

    def __init__(
        self, data: Any = None, *, product: Product, price_lists: list[PriceList], warehouses: list[Warehouse]
    ):
        prices = {price.price_list_id: price.price for price in product.prices.all()}
        stock = {level.warehouse_id: level for level in product.stock.all()}
        initial: dict[str, Any] = {}
        for price_list in price_lists:
            initial[f"price_{price_list.pk}"] = prices.get(price_list.pk)
        for warehouse in warehouses:
            level = stock.get(warehouse.pk)
            initial[f"stock_{warehouse.pk}"] = level.quantity if level else None
            initial[f"reserved_{warehouse.pk}"] = level.reserved if level else None
        super().__init__(data, initial=initial)
        self.price_lists, self.warehouses = price_lists, warehouses
        for price_list in price_lists:
            self.fields[f"price_{price_list.pk}"] = _amount(
                str(price_list), places=2, digits=14, message=str(NOT_NEGATIVE_PRICE)
            )
        for warehouse in warehouses:
            self.fields[f"stock_{warehouse.pk}"] = _amount(
                gettext("%(warehouse)s: in stock") % {"warehouse": warehouse.name},
                places=3,
                digits=12,
                message=str(NOT_NEGATIVE_QUANTITY),
            )
            self.fields[f"reserved_{warehouse.pk}"] = _amount(
                gettext("%(warehouse)s: reserved") % {"warehouse": warehouse.name},
                places=3,
                digits=12,
                message=str(NOT_NEGATIVE_QUANTITY),
            )

    def price_fields(self) -> list[forms.BoundField]:
        return [self[f"price_{price_list.pk}"] for price_list in self.price_lists]

    def stock_fields(self) -> list[tuple[Warehouse, forms.BoundField, forms.BoundField]]:
        return [
            (warehouse, self[f"stock_{warehouse.pk}"], self[f"reserved_{warehouse.pk}"])
            for warehouse in self.warehouses
        ]

    def prices(self) -> dict[PriceList, Decimal | None]:
        return {price_list: self.cleaned_data.get(f"price_{price_list.pk}") for price_list in self.price_lists}

    def stock(self) -> dict[Warehouse, tuple[Decimal, Decimal] | None]:
        result: dict[Warehouse, tuple[Decimal, Decimal] | None] = {}
        for warehouse in self.warehouses:
            quantity = self.cleaned_data.get(f"stock_{warehouse.pk}")
            reserved = self.cleaned_data.get(f"reserved_{warehouse.pk}")
            if quantity is None and reserved is None:
                result[warehouse] = None
            else:
                result[warehouse] = (quantity or Decimal(0), reserved or Decimal(0))
        return result


# ---- Settings ----------------------------------------------------------------------------------


class StageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=StageKind.choices,
        help_text=_("Won and lost stages close a deal."),
    )
    probability = forms.IntegerField(label=_("Probability, %"), min_value=0, max_value=100, initial=10)
    colour = forms.ChoiceField(label=_("Colour"), choices=StageColour.choices)
    stale_after_days = forms.IntegerField(
        label=_("Norm (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("A deal longer in this stage is reported as stuck. Empty: no norm."),
    )
    required_fields = forms.MultipleChoiceField(
        label=_("Required to enter"),
        required=False,
        choices=[(name, str(label).capitalize()) for name, label in GATE_FIELDS.items()],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    required_checkpoints = forms.ModelMultipleChoiceField(
        label=_("Checkpoints done before entering"),
        required=False,
        queryset=CheckpointType.objects.none(),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )

    def __init__(self, data: Any = None, *, pipeline: Pipeline, stage: Stage | None = None) -> None:
        initial: dict[str, Any] = {}
        if stage is not None:
            initial = {name: getattr(stage, name) for name in self.base_fields if name != "required_checkpoints"}
            initial["required_checkpoints"] = list(stage.required_checkpoints.values_list("pk", flat=True))
        super().__init__(data, initial=initial)
        field = self.fields["required_checkpoints"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = pipeline.checkpoint_types.all()


class CheckpointTypeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    due_days = forms.IntegerField(
        label=_("Due within (days)"),
        min_value=0,
        max_value=3650,
        initial=7,
        help_text=_("Days after the deal is registered."),
    )


class LostReasonForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    is_active = forms.BooleanField(label=_("Offered when a deal is lost"), required=False, initial=True)


class PriceListForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    currency = forms.ChoiceField(label=_("Currency"), choices=[])
    is_default = forms.BooleanField(label=_("Default price list"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["currency"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(code, code) for code in settings.RAPPORT_CURRENCIES]
