"""The board of a pipeline: columns of deals by stage, and moving a deal by dropping its card on another column."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from rapport.accounts import access
from rapport.accounts.models import Team, User
from rapport.clients.models import LeadSource
from rapport.core.http import RapportRequest
from rapport.sales import board as queries
from rapport.sales import services
from rapport.sales.models import LostReason, Pipeline, Stage, StageKind

OWNER_ME = "me"
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FILTER_NAMES = ("owner", "team", "source", "close_month")


class BoardFilterForm(forms.Form):
    """The filters above the board; the owner and team lists hold only people whose deals the user sees."""

    owner = forms.ChoiceField(label=gettext_lazy("Owner"), required=False)
    team = forms.TypedChoiceField(label=gettext_lazy("Team"), required=False, coerce=int, empty_value=None)
    source = forms.TypedChoiceField(label=gettext_lazy("Lead source"), required=False, coerce=int, empty_value=None)
    close_month = forms.CharField(
        label=gettext_lazy("Expected to close in"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        scope = access.client_scope(user)
        owner_field: forms.ChoiceField = self.fields["owner"]  # type: ignore[assignment]
        team_field: forms.ChoiceField = self.fields["team"]  # type: ignore[assignment]
        if scope == access.Scope.OWN:
            # A manager sees their own deals (and those they registered): nobody else to pick.
            del self.fields["owner"]
        else:
            people = access.people_in_scope(user, services.SELLING_ROLES).only(
                "first_name", "last_name", "username", "team_id"
            )
            owner_field.choices = [
                ("", _("Anyone")),
                (OWNER_ME, _("Me")),
                *[(str(person.pk), person.display_name) for person in people if person.pk != user.pk],
            ]
        if scope == access.Scope.ALL:
            team_field.choices = [("", _("Any team")), *Team.objects.values_list("pk", "name")]
        else:
            del self.fields["team"]
        source_field: forms.ChoiceField = self.fields["source"]  # type: ignore[assignment]
        source_field.choices = [("", _("Any source")), *LeadSource.objects.values_list("pk", "name")]

    def clean_close_month(self) -> date | None:
        value = str(self.cleaned_data.get("close_month") or "").strip()
        if not value:
            return None
        match = MONTH.match(value)
        if match is None or not 1 <= int(match[2]) <= 12:
            raise ValidationError(_("Give the month as year and month, e.g. 2026-03."))
        return date(int(match[1]), int(match[2]), 1)

    def filters(self) -> queries.BoardFilters:
        """The valid filters; a bad one is reported next to its field and left out, never fatal."""
        self.is_valid()
        data = self.cleaned_data
        owner = data.get("owner") or None
        return queries.BoardFilters(
            owner=self.user.pk if owner == OWNER_ME else (int(owner) if owner else None),
            team=data.get("team"),
            source=data.get("source"),
            close_month=data.get("close_month"),
        )

    def query(self) -> str:
        """The valid filters as a query string, for the pipeline tabs and the "more" links."""
        self.is_valid()
        query = QueryDict(mutable=True)
        for name in FILTER_NAMES:
            if self.cleaned_data.get(name) not in (None, "") and name in self.data:
                query[name] = self.data[name]
        return query.urlencode()


class DealMoveForm(forms.Form):
    stage = forms.ModelChoiceField(
        queryset=Stage.objects.select_related("pipeline"),
        error_messages={
            "required": gettext_lazy("Choose the stage to move the deal to."),
            "invalid_choice": gettext_lazy("This stage does not exist any more: reload the board."),
        },
    )
    # Without a version the move is not checked against someone else's change (the board always sends it).
    version = forms.IntegerField(required=False, min_value=1)
    lost_reason = forms.ModelChoiceField(
        queryset=LostReason.objects.filter(is_active=True),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose one of the reasons in the list.")},
    )
    lost_note = forms.CharField(required=False, max_length=300)
    # How many cards the two columns show once the card is dropped, for their "N more" links.
    cards_from = forms.IntegerField(required=False, min_value=0)
    cards_to = forms.IntegerField(required=False, min_value=0)


def _columns_context(user: User, board: queries.Board, query: str) -> dict[str, Any]:
    return {
        "board": board,
        # "N more" opens the deal list filtered to the column (and the board's filters).
        "list_base": f"{reverse('sales:deal-list')}?pipeline={board.pipeline.pk}",
        "list_query": f"&{query}" if query else "",
        "closed_days": queries.CLOSED_WITHIN_DAYS,
        "show_owner": access.client_scope(user) != access.Scope.OWN,
    }


@require_safe
@login_required
def board_default(request: RapportRequest) -> HttpResponse:
    """The first pipeline's board, or a page saying there is none yet."""
    pipeline = queries.first_pipeline()
    if pipeline is not None:
        url = reverse("sales:board", args=[pipeline.pk])
        return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)
    settings_url = reverse("sales:pipeline-list") if access.can_configure_sales(request.user) else ""
    return render(request, "sales/board.html", {"no_pipeline": True, "settings_url": settings_url})


@require_safe
@login_required
def board(request: RapportRequest, pipeline_id: int) -> HttpResponse:
    pipelines = queries.board_pipelines()
    pipeline = next((each for each in pipelines if each.pk == pipeline_id), None)
    if pipeline is None:
        # A pipeline no longer in use still opens by its address, with a tab of its own.
        pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
        pipelines.append(pipeline)
    form = BoardFilterForm(request.GET, user=request.user)
    filters = form.filters()
    query = form.query()
    board = queries.board_for(request.user, pipeline, filters, closed=False)
    can_move = any(card.can_move for column in board.columns for card in column.cards)
    closed_url = reverse("sales:board-closed", args=[pipeline.pk]) + (f"?{query}" if query else "")
    context = {
        **_columns_context(request.user, board, query),
        "pipeline": pipeline,
        "pipelines": pipelines,
        "form": form,
        "query": query,
        "filtered": bool(query),
        "lost_reasons": list(LostReason.objects.filter(is_active=True)) if can_move else [],
        "closed_url": closed_url if any(not column.loaded for column in board.columns) else "",
    }
    return render(request, "sales/board.html", context)


@require_safe
@login_required
def board_closed(request: RapportRequest, pipeline_id: int) -> HttpResponse:
    """The won and lost columns, which the board's page fetches once it is shown; each replaces its placeholder."""
    pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
    form = BoardFilterForm(request.GET, user=request.user)
    closed = Stage.objects.filter(pipeline=pipeline).exclude(kind=StageKind.OPEN).values_list("pk", flat=True)
    board = queries.board_for(request.user, pipeline, form.filters(), only_stages=set(closed))
    context = {**_columns_context(request.user, board, form.query()), "oob": True}
    html = "".join(
        render_to_string("sales/board.html#board-column", {**context, "column": column}, request)
        for column in board.columns
    )
    return HttpResponse(html)


def _refused(message: str, status: int) -> HttpResponse:
    """A refusal the board's script shows as it is: plain text, in the user's language."""
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _messages(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


@require_POST
@login_required
def deal_move(request: RapportRequest, deal_id: int) -> HttpResponse:
    """Move a deal to the stage its card was dropped on; answer with both columns' headers and the card, redrawn."""
    user = request.user
    deal = access.deal_for_user(user, deal_id, related=("owner",))  # the service reads the rest, locked
    if not access.can_edit_deal(user, deal):
        return _refused(_("You can see this deal but not change it."), 403)
    form = DealMoveForm(request.POST)
    if not form.is_valid():
        return _refused(" ".join(str(error) for errors in form.errors.values() for error in errors), 422)
    previous_stage_id = deal.stage_id
    stage: Stage = form.cleaned_data["stage"]
    try:
        moved = services.deal_move_to_stage(
            by=user,
            deal=deal,
            stage=stage,
            version=form.cleaned_data["version"],
            lost_reason=form.cleaned_data["lost_reason"],
            lost_note=form.cleaned_data["lost_note"],
        )
    except ValidationError as error:
        return _refused(_messages(error), 422)
    except PermissionDenied:
        return _refused(_("You can see this deal but not change it."), 403)
    # The board's filters come along in the query string, so the redrawn headers add up like the rest.
    filters, query = queries.BoardFilters(), ""
    if request.GET:
        filter_form = BoardFilterForm(request.GET, user=user)
        filters, query = filter_form.filters(), filter_form.query()
    board = queries.board_for(
        user, moved.pipeline, filters, only_stages={previous_stage_id, moved.stage_id}, only_deal=moved.pk
    )
    shown = {previous_stage_id: form.cleaned_data["cards_from"], moved.stage_id: form.cleaned_data["cards_to"]}
    for column in board.columns:
        column.shown = shown.get(column.stage.pk)
        if column.shown is None:  # not said: as many as a full board shows
            column.shown = min(column.count, queries.CARD_LIMIT)
    return render(request, "sales/board.html#moved-columns", _columns_context(user, board, query))
