"""Redistribution screens: the rules (admins), their dry runs and reviews, proposals (heads and admins), the rules
that apply to me (everyone), and the countdown panel on a client's card.

Rules are admins' (``access.can_configure_redistribution``; anyone else gets 403, as on the other
settings screens); every write is ``rules.rule_save`` / ``rules.rule_delete``, whose refusals are shown
next to the fields they name. Proposals are read and decided by the head of their team and by admins
(``access.proposals_visible_to``: out of sight is 404; ``review.proposal_decide`` decides).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import retarget

from rapport.accounts import access
from rapport.accounts.models import Team
from rapport.clients.models import ClientStatus, Company, Contact, Tag
from rapport.core.forms import apply_validation_error, moment_sent
from rapport.core.http import RapportRequest, allowed_by
from rapport.core.paging import PAGE_SIZE, page_number
from rapport.sales.models import Pipeline
from rapport.supervision import review as reviews
from rapport.supervision.models import (
    Proposal,
    ProposalLine,
    ProposalStatus,
    RedistributionRule,
    RuleAction,
    RuleCondition,
    RuleMode,
    RuleSchedule,
)
from rapport.supervision.rules import (
    Countdown,
    days_before_move,
    next_review_at,
    pending_moves,
    rule_delete,
    rule_draft,
    rule_save,
    rule_sentence,
    rules_applying_to,
)

LIST = "supervision/rules.html"
FORM = "supervision/rule_form.html"
DRY_RUN = "supervision/rule_dry_run.html"
PROPOSALS = "supervision/proposals.html"
PROPOSAL = "supervision/proposal.html"
MY_RULES = "supervision/my_rules.html"
CARD_PANEL = "supervision/rule_card_panel.html"
# The clients "rules that apply to me" lists as the nearest to a move, per kind.
NEAREST = 10


# Signed in and allowed to configure this; anyone else gets 403.
_admin = allowed_by(access.can_configure_redistribution)


# ---- The form ---------------------------------------------------------------------------------------


def _choose(first: Any, rows: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    return [("", first), *rows]


class RuleForm(forms.Form):
    """A rule's fields as text; ``rules.rule_save`` decides what a rule may say."""

    name = forms.CharField(
        label=gettext_lazy("Name"),
        required=False,
        help_text=gettext_lazy("As managers will see it, e.g. “Stale clients to the pool”."),
    )
    team = forms.ChoiceField(label=gettext_lazy("Team"), required=False)
    client_status = forms.ChoiceField(label=gettext_lazy("Client status"), required=False)
    tag = forms.ChoiceField(label=gettext_lazy("Tag"), required=False)
    pipeline = forms.ChoiceField(
        label=gettext_lazy("With an open deal in pipeline"),
        required=False,
        help_text=gettext_lazy("Only clients with an open deal in this pipeline."),
    )
    condition = forms.ChoiceField(label=gettext_lazy("Condition"), required=False)
    days = forms.IntegerField(
        label=gettext_lazy("Days without a logged contact"),
        required=False,
        widget=forms.NumberInput(attrs={"min": "1", "max": "3650", "step": "1"}),
        help_text=gettext_lazy("For “no logged contact”: a client never contacted counts from when it was entered."),
    )
    missed_callbacks = forms.IntegerField(
        label=gettext_lazy("Callbacks missed"),
        required=False,
        widget=forms.NumberInput(attrs={"min": "1", "max": "100", "step": "1"}),
        help_text=gettext_lazy(
            "For “callbacks missed”: the owner's callbacks on the client still planned after their day."
        ),
    )
    without_open_deal = forms.BooleanField(label=gettext_lazy("And no open deal"), required=False)
    action = forms.ChoiceField(label=gettext_lazy("Where the clients go"), required=False)
    schedule = forms.ChoiceField(label=gettext_lazy("Review"), required=False, choices=RuleSchedule.choices)
    mode = forms.ChoiceField(label=gettext_lazy("Mode"), required=False, choices=RuleMode.choices)
    is_active = forms.BooleanField(
        label=gettext_lazy("In use"), required=False, help_text=gettext_lazy("A rule not in use is never reviewed.")
    )

    SECTIONS = (
        (gettext_lazy("Which clients"), ("name", "team", "client_status", "tag", "pipeline")),
        (gettext_lazy("When they count as neglected"), ("condition", "days", "missed_callbacks", "without_open_deal")),
        (gettext_lazy("What happens"), ("action", "schedule", "mode", "is_active")),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = _choose(_("Every team"), list(Team.objects.values_list("pk", "name")))  # type: ignore[attr-defined]
        self.fields["client_status"].choices = _choose(  # type: ignore[attr-defined]
            _("Any status"), [(value, label) for value, label in ClientStatus.choices if value != ClientStatus.POOL]
        )
        self.fields["tag"].choices = _choose(_("Any tag"), list(Tag.objects.values_list("pk", "name")))  # type: ignore[attr-defined]
        self.fields["pipeline"].choices = _choose(_("Any client"), list(Pipeline.objects.values_list("pk", "name")))  # type: ignore[attr-defined]
        self.fields["condition"].choices = _choose(_("Choose the condition…"), RuleCondition.choices)  # type: ignore[attr-defined]
        self.fields["action"].choices = _choose(_("Choose the action…"), RuleAction.choices)  # type: ignore[attr-defined]

    @classmethod
    def for_rule(cls, rule: RedistributionRule) -> RuleForm:
        initial = {
            "name": rule.name,
            "team": rule.team_id or "",
            "client_status": rule.client_status,
            "tag": rule.tag_id or "",
            "pipeline": rule.pipeline_id or "",
            "condition": rule.condition,
            "days": rule.days,
            "missed_callbacks": rule.missed_callbacks,
            "without_open_deal": rule.without_open_deal,
            "action": rule.action,
            "schedule": rule.schedule,
            "mode": rule.mode,
            "is_active": rule.is_active,
        }
        return cls(initial=initial)

    @classmethod
    def blank(cls) -> RuleForm:
        return cls(
            initial={
                "condition": RuleCondition.STALE,
                "days": 30,
                "without_open_deal": True,
                "schedule": RuleSchedule.WEEKLY,
                "mode": RuleMode.APPROVAL,
                "is_active": True,
            }
        )

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(str(title), [self[name] for name in names]) for title, names in self.SECTIONS]

    def terms(self) -> dict[str, Any]:
        """The cleaned fields as ``rule_save``'s keyword arguments (team, tag and pipeline as ids)."""
        return dict(self.cleaned_data)


# ---- Rules ------------------------------------------------------------------------------------------


@require_safe
@_admin
def rule_list(request: RapportRequest) -> HttpResponse:
    """Every rule with its sentence, last and next review and open proposals; one query."""
    rules = list(
        RedistributionRule.objects.select_related("team", "pipeline", "tag").annotate(
            open_proposals=Count("proposals", filter=Q(proposals__status=ProposalStatus.OPEN))
        )
    )
    rows = [{"rule": rule, "sentence": rule_sentence(rule), "next_review": next_review_at(rule)} for rule in rules]
    return render(request, LIST, {"rows": rows})


def _form_page(
    request: RapportRequest, form: RuleForm, rule: RedistributionRule | None, *, status: int
) -> HttpResponse:
    context = {"form": form, "rule": rule}
    if request.htmx:
        return render(request, f"{FORM}#rule-form", context, status=status)
    return render(request, FORM, context, status=status)


def _rule_form(request: RapportRequest, rule: RedistributionRule | None) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, RuleForm.for_rule(rule) if rule else RuleForm.blank(), rule, status=200)
    form = RuleForm(request.POST)
    if form.is_valid():
        try:
            seen = moment_sent(request.POST.get("seen", "")) if rule is not None else None
            if rule is not None and seen is None:
                raise ValidationError(_("The form came back incomplete: reload the rule and make your change again."))
            saved = rule_save(by=request.user, rule=rule, seen=seen, **form.terms())
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if rule is None:
                messages.success(request, _("Rule “%(name)s” added.") % {"name": saved.name})
            else:
                messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
            return redirect("supervision:rules")
    return _form_page(request, form, rule, status=422)


@require_http_methods(["GET", "HEAD", "POST"])
@_admin
def rule_new(request: RapportRequest) -> HttpResponse:
    return _rule_form(request, None)


@require_http_methods(["GET", "HEAD", "POST"])
@_admin
def rule_edit(request: RapportRequest, rule_id: int) -> HttpResponse:
    return _rule_form(request, get_object_or_404(RedistributionRule, pk=rule_id))


@require_POST
@_admin
def rule_dry_run(request: RapportRequest) -> HttpResponse:
    """The proposal a review of the rule as written in the form would make now, applying nothing: the form's
    fields (``rule``: the id of the rule being edited, so the turn goes on from its last review)."""
    rule = None
    if request.POST.get("rule", "").isdigit():
        rule = RedistributionRule.objects.filter(pk=int(request.POST["rule"])).first()
    form = RuleForm(request.POST)
    draft = None
    if form.is_valid():
        try:
            draft = rule_draft(**form.terms())
        except ValidationError as error:
            apply_validation_error(form, error)
    if draft is None:
        response = _form_page(request, form, rule, status=422)
        return retarget(response, "#rule-form") if request.htmx else response
    if rule is not None:
        draft.pk = rule.pk
    result = reviews.review(draft, dry_run=True)
    context = {"result": result, "sentence": rule_sentence(draft), "rule": rule}
    if request.htmx:
        return render(request, f"{DRY_RUN}#rule-dry-run", context)
    return render(request, DRY_RUN, context)


@require_POST
@_admin
def rule_review(request: RapportRequest, rule_id: int) -> HttpResponse:
    """Review the rule now, as its schedule would: a proposal to approve, or (automatic mode) the moves made."""
    rule = get_object_or_404(RedistributionRule, pk=rule_id)
    if not rule.is_active:
        messages.error(request, _("“%(name)s” is not in use: put it in use to review it.") % {"name": rule.name})
        return redirect("supervision:rules")
    result = reviews.review(rule, dry_run=False)
    if not result.lines:
        messages.info(request, _("No client meets “%(name)s” now: nothing to propose.") % {"name": rule.name})
        return redirect("supervision:rules")
    count = len(result.lines)
    if rule.mode == RuleMode.AUTOMATIC:
        messages.success(
            request,
            ngettext("%(count)d client moved by “%(name)s”.", "%(count)d clients moved by “%(name)s”.", result.moved)
            % {"count": result.moved, "name": rule.name},
        )
    else:
        messages.success(
            request,
            ngettext(
                "%(count)d client proposed for a move: the head of the team approves it.",
                "%(count)d clients proposed for a move: the heads of their teams approve them.",
                count,
            )
            % {"count": count},
        )
    return redirect("supervision:proposals")


@require_POST
@_admin
def rule_remove(request: RapportRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(RedistributionRule, pk=rule_id)
    try:
        rule_delete(by=request.user, rule=rule)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("supervision:rule-edit", rule_id=rule.pk)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("supervision:rules")


# ---- Proposals --------------------------------------------------------------------------------------

SHOWN = {"open": Q(status=ProposalStatus.OPEN), "decided": ~Q(status=ProposalStatus.OPEN)}


@require_safe
@login_required
def proposal_list(request: RapportRequest) -> HttpResponse:
    """The proposals the user decides (a head's team's, every one for admins), awaiting ones first by default;
    a page of 25 in one query."""
    if not access.sees_proposals(request.user):
        raise PermissionDenied
    shown = request.GET.get("status", "open")
    if shown not in SHOWN:
        shown = "open"
    number = page_number(request.GET)
    first_line = ProposalLine.objects.filter(proposal=OuterRef("pk")).order_by("pk")
    proposals = list(
        access.proposals_visible_to(request.user)
        .filter(SHOWN[shown])
        .select_related("rule", "decided_by")
        .annotate(
            line_count=Count("lines"),
            moved=Count("lines", filter=Q(lines__transfer__isnull=False)),
            team_name=Subquery(first_line.values("from_user__team__name")[:1]),
        )
        .order_by("-created_at", "-pk")[(number - 1) * PAGE_SIZE : number * PAGE_SIZE + 1]
    )
    return render(
        request,
        PROPOSALS,
        {
            "proposals": proposals[:PAGE_SIZE],
            "shown": shown,
            "number": number,
            "has_next": len(proposals) > PAGE_SIZE,
        },
    )


def proposal_context(request: RapportRequest, proposal: Proposal) -> dict[str, Any]:
    lines = list(proposal.lines.select_related("company", "contact", "from_user", "to_user", "transfer").order_by("pk"))
    decided = proposal.status != ProposalStatus.OPEN
    return {
        "proposal": proposal,
        "sentence": rule_sentence(proposal.rule),
        "lines": lines,
        "can_decide": not decided and access.can_decide_proposal(request.user, proposal),
        "decided": decided,
        "moved": sum(1 for line in lines if line.transfer_id),
        "excluded": sum(1 for line in lines if line.excluded),
    }


@require_safe
@login_required
def proposal_detail(request: RapportRequest, proposal_id: int) -> HttpResponse:
    proposal = access.proposal_for_user(request.user, proposal_id)
    return render(request, PROPOSAL, proposal_context(request, proposal))


def _whole(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


@require_POST
@login_required
def proposal_decide_view(request: RapportRequest, proposal_id: int) -> HttpResponse:
    """Approve the proposal as the head saw it (the form sends its version), but the lines ticked to exclude."""
    proposal = access.proposal_for_user(request.user, proposal_id)
    detail = reverse("supervision:proposal", args=[proposal.pk])
    if not access.can_decide_proposal(request.user, proposal):
        messages.error(request, _("Only the head of the clients' team or an administrator decides this proposal."))
        return render(request, PROPOSAL, proposal_context(request, proposal), status=403)
    version = _whole(request.POST.get("version", ""))
    excluded = [_whole(value) for value in request.POST.getlist("exclude")]
    if version is None or None in excluded:
        messages.error(request, _("The proposal could not be decided: reload it and decide again."))
        return redirect(detail)
    try:
        decided = reviews.proposal_decide(
            by=request.user,
            proposal=proposal,
            excluded_line_ids=[pk for pk in excluded if pk is not None],
            seen_version=version,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(detail)
    moved = decided.lines.filter(transfer__isnull=False).count()
    if decided.status == ProposalStatus.DISMISSED:
        messages.success(request, _("Proposal dismissed: every client stays with its owner."))
    else:
        messages.success(
            request,
            ngettext(
                "Approved: %(count)d client moved; the owners are told why.",
                "Approved: %(count)d clients moved; the owners are told why.",
                moved,
            )
            % {"count": moved},
        )
    return redirect(detail)


# ---- Transparency -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Nearest:
    client: Company | Contact
    countdown: Countdown


@require_safe
@login_required
def my_rules(request: RapportRequest) -> HttpResponse:
    """The rules that apply to the user's clients, in plain words, and their clients nearest to a move."""
    user = request.user
    rules = rules_applying_to(user)
    nearest: list[Nearest] = []
    if any(rule.condition == RuleCondition.STALE for rule in rules):
        clients: list[Company | Contact] = []
        for model in (Company, Contact):
            clients += list(
                model.objects.alive()
                .filter(owner=user)
                .exclude(status=ClientStatus.POOL)
                .order_by(Coalesce("last_contact_at", "created_at"), "pk")[:NEAREST]
            )
        countdowns = days_before_move(clients, rules=rules)
        nearest = sorted(
            (
                Nearest(client, countdowns[client.kind, client.pk][0])
                for client in clients
                if (client.kind, client.pk) in countdowns
            ),
            key=lambda row: (row.countdown.days, row.countdown.since),
        )[:NEAREST]
    rows = [{"rule": rule, "sentence": rule_sentence(rule), "next_review": next_review_at(rule)} for rule in rules]
    return render(request, MY_RULES, {"rows": rows, "nearest": nearest, "now": timezone.now()})


def card_panel(request: HttpRequest, client: Company | Contact) -> str:
    """On a client's card, for its owner and those who may hand it over: the days before each rule would move it,
    and a move awaiting a head's decision. Nothing for anyone else, or when no rule concerns the client."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    if client.owner_id != user.pk and not access.can_transfer_client(user, client):
        return ""
    # Rules are few, and without any there is neither a countdown nor a pending move: one query then.
    rules = list(RedistributionRule.objects.all())
    if not rules:
        return ""
    countdowns = days_before_move([client], rules=rules).get((client.kind, client.pk), [])
    pending = pending_moves(client)
    if not countdowns and not pending:
        return ""
    return render_to_string(
        CARD_PANEL, {"client": client, "countdowns": countdowns, "pending": pending}, request=request
    )


urlpatterns: list[URLPattern] = [
    path("rules/", rule_list, name="rules"),
    path("rules/new/", rule_new, name="rule-new"),
    path("rules/dry-run/", rule_dry_run, name="rule-dry-run"),
    path("rules/<int:rule_id>/", rule_edit, name="rule-edit"),
    path("rules/<int:rule_id>/review/", rule_review, name="rule-review"),
    path("rules/<int:rule_id>/delete/", rule_remove, name="rule-delete"),
    path("proposals/", proposal_list, name="proposals"),
    path("proposals/<int:proposal_id>/", proposal_detail, name="proposal"),
    path("proposals/<int:proposal_id>/decide/", proposal_decide_view, name="proposal-decide"),
    path("my-rules/", my_rules, name="my-rules"),
]
