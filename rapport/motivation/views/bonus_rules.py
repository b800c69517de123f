"""Bonus rules for admins: the list, a rule's form (a change to a rule in use makes a new version).

Admins only (``access.can_configure_bonus_rules``); anyone else gets 403, as on the other
settings screens. Every write is ``statements.rule_save``, which checks the right again and
refuses bad input by field; its words are shown next to the fields they name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_safe

from rapport.accounts import access
from rapport.core.forms import apply_validation_error, moment_sent
from rapport.core.http import RapportRequest, allowed_by
from rapport.motivation.forms_bonus import BonusRuleForm, kind_asked
from rapport.motivation.models import BonusRule, BonusRuleKind, Metric, StatementLine, StatementStatus
from rapport.motivation.statements import rule_save

LIST = "motivation/bonus_rules.html"
FORM = "motivation/bonus_rule_form.html"
# The form is drawn again for another kind when this comes with the post (the kind's select, or its button without JS).
REDRAW = "redraw"
KIND_ORDER = {kind: position for position, kind in enumerate(BonusRuleKind.values)}


# Signed in and allowed to configure this; anyone else gets 403.
_admin = allowed_by(access.can_configure_bonus_rules)


# ---- A rule in plain words ------------------------------------------------------------------------


def _number(value: Decimal, *, cents: bool = False) -> str:
    """2.50 % reads 2.5 %, 5.00 % reads 5 %; money keeps its cents."""
    exponent = value.normalize().as_tuple().exponent
    places = 2 if cents else max(0, -exponent) if isinstance(exponent, int) else 0
    return formats.number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)


def _day(value: date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def _listed(parts: list[str]) -> str:
    if len(parts) < 2:
        return "".join(parts)
    return _("%(first)s and %(last)s") % {"first": ", ".join(parts[:-1]), "last": parts[-1]}


def rule_sentence(rule: BonusRule) -> str:
    """What the rule pays, to whom and on which conditions, as one sentence."""
    percent = _number(rule.percent) if rule.percent is not None else "–"
    metric = str(Metric(rule.metric).label) if rule.metric in Metric.values else rule.metric
    if rule.kind == BonusRuleKind.REGISTRANT_SHARE:
        pays = _("%(percent)s %% of each won deal's amount to its registrant, whoever closed it") % {"percent": percent}
    elif rule.kind == BonusRuleKind.CLOSER_SHARE:
        pays = _("%(percent)s %% of each won deal's amount to the person who closed it") % {"percent": percent}
    elif rule.kind == BonusRuleKind.PER_UNIT_ABOVE_PLAN:
        amount = _number(rule.amount, cents=True) if rule.amount is not None else "–"
        pays = _("%(amount)s %(currency)s for each unit of “%(metric)s” above the person's plan") % {
            "amount": amount,
            "currency": rule.currency,
            "metric": metric,
        }
    else:
        pays = _("%(percent)s %% of the “%(metric)s” above 100 %% of the person's plan, in %(currency)s") % {
            "percent": percent,
            "metric": metric,
            "currency": rule.currency,
        }
    if rule.is_share and rule.currency:
        pays = _("%(pays)s (deals in %(currency)s only)") % {"pays": pays, "currency": rule.currency}
    conditions = []
    if rule.min_activities:
        conditions.append(
            ngettext(
                "≥ %(count)d logged contact with the client before the win",
                "≥ %(count)d logged contacts with the client before the win",
                rule.min_activities,
            )
            % {"count": rule.min_activities}
        )
    if rule.checkpoints_required:
        conditions.append(_("all the deal's checkpoints done"))
    if rule.min_quality is not None:
        conditions.append(_("a data-quality score of at least %(score)d") % {"score": rule.min_quality})
    if not conditions:
        return _("%(pays)s.") % {"pays": pays}
    return _("%(pays)s, if %(conditions)s.") % {"pays": pays, "conditions": _listed(conditions)}


# ---- The list ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleRow:
    rule: BonusRule
    sentence: str
    state: str  # "in-force", "upcoming", "ended", "off"
    replaces: BonusRule | None
    replaced_by: BonusRule | None

    @property
    def is_current(self) -> bool:
        return self.state in {"in-force", "upcoming"}


def _state(rule: BonusRule, today: date) -> str:
    if not rule.is_active:
        return "off"
    if rule.effective_until is not None and rule.effective_until < today:
        return "ended"
    return "upcoming" if rule.effective_from > today else "in-force"


def _used_in_approved() -> Exists:
    return Exists(StatementLine.objects.filter(rule=OuterRef("pk"), statement__status=StatementStatus.APPROVED))


def rule_rows(today: date) -> list[RuleRow]:
    """Every rule, current ones (in force or starting later) first, each with its versions; one query.

    Rules are few (an admin writes each), so they are all read and their versions linked here.
    """
    rules = list(BonusRule.objects.annotate(used=_used_in_approved()))
    by_id = {rule.pk: rule for rule in rules}
    newer = {rule.replaces_id: rule for rule in rules if rule.replaces_id is not None}
    rows = [
        RuleRow(
            rule=rule,
            sentence=rule_sentence(rule),
            state=_state(rule, today),
            replaces=by_id.get(rule.replaces_id) if rule.replaces_id else None,
            replaced_by=newer.get(rule.pk),
        )
        for rule in rules
    ]
    rows.sort(key=lambda row: (not row.is_current, KIND_ORDER.get(row.rule.kind, 99), row.rule.effective_from))
    return rows


@require_safe
@_admin
def rule_list(request: RapportRequest) -> HttpResponse:
    rows = rule_rows(timezone.localdate())
    return render(
        request,
        LIST,
        {
            "current": [row for row in rows if row.is_current],
            "past": [row for row in rows if not row.is_current],
        },
    )


# ---- The form ---------------------------------------------------------------------------------------


def _saved_message(rule: BonusRule | None, saved: BonusRule) -> str:
    if rule is None:
        return _("Rule “%(name)s” added.") % {"name": saved.name}
    if saved.pk != rule.pk:
        return _(
            "“%(name)s” was used by approved statements, so a new version starts on %(day)s; "
            "the approved statements keep the terms they were computed with."
        ) % {"name": saved.name, "day": _day(saved.effective_from)}
    return _("Rule “%(name)s” saved.") % {"name": saved.name}


def _form_page(request: RapportRequest, form: BonusRuleForm, rule: BonusRule | None, *, status: int) -> HttpResponse:
    context: dict[str, Any] = {"form": form, "rule": rule, "redraw": REDRAW, "kind": form.rule_kind}
    if rule is not None:
        context["replaced_by"] = BonusRule.objects.filter(replaces=rule).first()
        context["used"] = StatementLine.objects.filter(rule=rule, statement__status=StatementStatus.APPROVED).exists()
    if request.htmx:
        return render(request, f"{FORM}#bonus-rule-form", context, status=status)
    return render(request, FORM, context, status=status)


def _rule_form(request: RapportRequest, rule: BonusRule | None) -> HttpResponse:
    """The rule's form: drawn for its kind; posted, saved by ``rule_save`` or shown again with its refusals."""
    if rule is not None:
        kind = rule.kind
    else:
        kind = kind_asked(request.POST.get("kind") if request.method == "POST" else request.GET.get("kind"))
    if request.method != "POST":
        form = BonusRuleForm.for_rule(rule) if rule is not None else BonusRuleForm.blank(kind)
        return _form_page(request, form, rule, status=200)
    if REDRAW in request.POST:
        return _form_page(request, BonusRuleForm.redrawn(request.POST, kind=kind, rule=rule), rule, status=200)
    form = BonusRuleForm(request.POST, kind=kind, rule=rule)
    if form.is_valid():
        try:
            seen = moment_sent(request.POST.get("seen", "")) if rule is not None else None
            if rule is not None and seen is None:
                raise ValidationError(_("The form came back incomplete: reload the rule and make your change again."))
            saved = rule_save(by=request.user, rule=rule, seen=seen, **form.terms())
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _saved_message(rule, saved))
            return redirect("motivation:bonus-rules")
    return _form_page(request, form, rule, status=422)


@require_http_methods(["GET", "HEAD", "POST"])
@_admin
def rule_new(request: RapportRequest) -> HttpResponse:
    return _rule_form(request, None)


@require_http_methods(["GET", "HEAD", "POST"])
@_admin
def rule_edit(request: RapportRequest, rule_id: int) -> HttpResponse:
    return _rule_form(request, get_object_or_404(BonusRule, pk=rule_id))


urlpatterns: list[URLPattern] = [
    path("bonuses/rules/", rule_list, name="bonus-rules"),
    path("bonuses/rules/new/", rule_new, name="bonus-rule-new"),
    path("bonuses/rules/<int:rule_id>/", rule_edit, name="bonus-rule-edit"),
]
