"""The bonus rule form: it reads the input a rule's kind needs; ``statements.rule_save`` decides and writes.

The form only turns text into numbers and dates: every rule about what a rule may say (a
percentage above 0 and at most 100, a per-unit rule's metric and amount, dates in order, no
overlap) is the service's, so the screens and the API refuse the same input with the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from rapport.motivation.metrics import MONEY
from rapport.motivation.models import SHARE_KINDS, BonusRule, BonusRuleKind, Metric

COMMON = ("name", "kind", "min_quality", "effective_from", "effective_until", "is_active")
# What each kind asks for besides the common fields, in the order of the form.
TERMS_OF_KIND: dict[str, tuple[str, ...]] = {
    BonusRuleKind.REGISTRANT_SHARE: ("percent", "currency", "min_activities", "checkpoints_required"),
    BonusRuleKind.CLOSER_SHARE: ("percent", "currency", "min_activities", "checkpoints_required"),
    BonusRuleKind.PER_UNIT_ABOVE_PLAN: ("amount", "metric", "currency"),
    BonusRuleKind.ACCELERATOR: ("percent", "metric", "currency"),
}
SECTIONS: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (_("What it pays"), ("name", "kind", "percent", "amount", "metric", "currency")),
    (_("Who qualifies"), ("min_activities", "checkpoints_required", "min_quality")),
    (_("When"), ("effective_from", "effective_until", "is_active")),
)
PERCENT_HELP: dict[str, Any] = {
    BonusRuleKind.REGISTRANT_SHARE: _("Of each won deal's amount, paid to whoever registered the deal."),
    BonusRuleKind.CLOSER_SHARE: _("Of each won deal's amount, paid to whoever closed it."),
    BonusRuleKind.ACCELERATOR: _("Of the revenue won above the person's plan (above 100 %)."),
}


def _day_input() -> forms.DateInput:
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def _number_input() -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})


def kind_asked(value: object) -> str:
    """The kind whose fields to show: the one given when it is one, else the first."""
    return str(value) if value in BonusRuleKind.values else BonusRuleKind.REGISTRANT_SHARE.value


def _shown(value: Decimal | None) -> Decimal | None:
    """5.00 shown as 5, 2.50 as 2.50: what an admin typed, not the column's padding."""
    if value is None:
        return None
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


class BonusRuleForm(forms.Form):
    """A rule's fields for one kind (``kind``); on an existing rule (``rule``) the kind is fixed."""

    name = forms.CharField(
        label=_("Name"), required=False, help_text=_("As people will see it on their statements, e.g. “Finder's fee”.")
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=BonusRuleKind.choices)
    percent = forms.DecimalField(label=_("Percentage"), required=False, localize=True, widget=_number_input())
    amount = forms.DecimalField(
        label=_("Amount per unit"),
        required=False,
        localize=True,
        widget=_number_input(),
        help_text=_("Paid for each unit of the metric above the person's plan."),
    )
    metric = forms.ChoiceField(label=_("Metric"), required=False)
    currency = forms.ChoiceField(label=_("Currency"), required=False)
    min_activities = forms.IntegerField(
        label=_("Contacts with the client before the win"),
        required=False,
        widget=forms.NumberInput(attrs={"min": "0", "step": "1"}),
        help_text=_("At least this many logged calls, meetings or e-mails with the client before the deal was won."),
    )
    checkpoints_required = forms.BooleanField(label=_("All the deal's checkpoints done"), required=False)
    min_quality = forms.IntegerField(
        label=_("Minimum data-quality score"),
        required=False,
        widget=forms.NumberInput(attrs={"min": "0", "max": "100", "step": "1"}),
        help_text=_("From 0 to 100: the person's latest score. Empty: not asked."),
    )
    effective_from = forms.DateField(label=_("In force from"), required=False, widget=_day_input())
    effective_until = forms.DateField(
        label=_("In force until"),
        required=False,
        widget=_day_input(),
        help_text=_("Empty: until further notice."),
    )
    is_active = forms.BooleanField(
        label=_("In use"), required=False, help_text=_("A rule not in use pays nothing, whatever its dates.")
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        kind: str,
        rule: BonusRule | None = None,
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, initial=initial)
        self.rule_kind = kind
        wanted = {*COMMON, *TERMS_OF_KIND[kind]}
        for name in [name for name in self.fields if name not in wanted]:
            del self.fields[name]
        if rule is not None:
            # A rule keeps its kind (rule_save refuses another): shown, never read from the input.
            self.fields["kind"].disabled = True
            self.fields["kind"].initial = rule.kind
        is_share = kind in SHARE_KINDS
        if "percent" in self.fields:
            self.fields["percent"].help_text = PERCENT_HELP[kind]
        if "metric" in self.fields:
            if kind == BonusRuleKind.ACCELERATOR:
                _offer(self.fields["metric"], [(value, label) for value, label in Metric.choices if value in MONEY])
            else:
                _offer(self.fields["metric"], [("", _("Choose the metric…")), *Metric.choices])
        currencies = [(code, code) for code in settings.RAPPORT_CURRENCIES]
        if is_share:
            self.fields["currency"].label = _("Deals in")
            _offer(self.fields["currency"], [("", _("Any currency (each deal paid in its own)")), *currencies])
        else:
            self.fields["currency"].label = _("Paid in")
            _offer(self.fields["currency"], currencies)

    @classmethod
    def for_rule(cls, rule: BonusRule) -> BonusRuleForm:
        initial = {name: getattr(rule, name) for name in (*COMMON, *TERMS_OF_KIND[rule.kind])}
        initial["percent"] = _shown(rule.percent)
        initial["amount"] = _shown(rule.amount)
        return cls(kind=rule.kind, rule=rule, initial=initial)

    @classmethod
    def blank(cls, kind: str) -> BonusRuleForm:
        return cls(kind=kind, initial={"kind": kind, "is_active": True, "currency": _default_currency(kind)})

    @classmethod
    def redrawn(cls, data: Mapping[str, Any], *, kind: str, rule: BonusRule | None = None) -> BonusRuleForm:
        """The form for another kind, keeping what was typed, without judging it yet (nothing is saved)."""
        typed = cls(data, kind=kind, rule=rule)
        initial = {name: typed[name].data for name in typed.fields}
        if rule is not None:
            initial["kind"] = rule.kind
        if not initial.get("currency"):
            initial["currency"] = _default_currency(kind)
        return cls(kind=kind, rule=rule, initial=initial)

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The fields this kind asks for, under the questions they answer (a heading each)."""
        return [
            (str(title), [self[name] for name in names if name in self.fields])
            for title, names in SECTIONS
            if any(name in self.fields for name in names)
        ]

    def terms(self) -> dict[str, Any]:
        """The cleaned fields as ``rule_save``'s keyword arguments; what the kind does not ask for keeps its default."""
        terms = dict(self.cleaned_data)
        for optional in ("metric", "currency"):
            if optional in terms and terms[optional] is None:
                terms[optional] = ""
        return terms


def _offer(field: forms.Field, choices: list[tuple[str, Any]]) -> None:
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def _default_currency(kind: str) -> str:
    return "" if kind in SHARE_KINDS else settings.RAPPORT_DEFAULT_CURRENCY
