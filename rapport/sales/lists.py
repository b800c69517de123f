"""The deal list's filters, sort orders and pages: what a list shows, read from its query string.

Other screens link here with these parameters (a client card's "deals", a report's cell, the
board's "as a list"), so their names are part of the interface: ``pipeline``, ``stage``,
``status`` (open / won / lost / all; open when absent), ``owner`` (``me`` or a user id),
``team``, ``source``, ``close_month`` (YYYY-MM, on the expected close date), ``company``,
``contact``, ``q`` (a fragment of the title), ``sort`` and ``cols``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Count, F, QuerySet, Sum
from django.http import QueryDict
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.accounts.models import Team, User
from rapport.clients.models import LeadSource
from rapport.core.paging import PAGE_SIZE, PageNumbering
from rapport.sales.columns import ColumnChoice, columns_chosen, read_rows
from rapport.sales.models import Deal, Stage, StageKind
from rapport.sales.queries import off_track
from rapport.sales.services import SELLING_ROLES

# Lists never count more than this; the totals line adds up amounts only below it.
COUNT_CAP = 2_000

STATUS_OPEN, STATUS_WON, STATUS_LOST, STATUS_ALL = "open", "won", "lost", "all"
DEFAULT_STATUS = STATUS_OPEN
ATTENTION_OFF = "off"
OWNER_ME = "me"
DEFAULT_SORT = "-created"
# Deals without an amount or a date go last whichever way the list is sorted (said
# explicitly, since SQLite and PostgreSQL place NULLs differently by default).
SORTS: dict[str, tuple[Any, list[Any]]] = {
    "-created": (_("Newest first"), ["-created_at", "-id"]),
    "created": (_("Oldest first"), ["created_at", "id"]),
    "expected_close": (_("Closing soonest first"), [F("expected_close").asc(nulls_last=True), "id"]),
    "-expected_close": (_("Closing latest first"), [F("expected_close").desc(nulls_last=True), "-id"]),
    "-amount": (_("Largest amount first"), [F("amount").desc(nulls_last=True), "-id"]),
    "amount": (_("Smallest amount first"), [F("amount").asc(nulls_last=True), "id"]),
    "title": (_("Title, A to Z"), ["title", "id"]),
    "-title": (_("Title, Z to A"), ["-title", "-id"]),
}


class StageBook:
    """Every pipeline's stages, read once a request (one query): for the filters and the rows' badges."""

    def __init__(self) -> None:
        self.stages: dict[int, Stage] = {
            stage.pk: stage
            for stage in Stage.objects.select_related("pipeline").order_by(
                "pipeline__position", "pipeline_id", "position", "id"
            )
        }

    def pipelines(self) -> list[tuple[int, str]]:
        seen: dict[int, str] = {}
        for stage in self.stages.values():
            pipeline = stage.pipeline
            name = pipeline.name if pipeline.is_active else _("%(name)s (no longer used)") % {"name": pipeline.name}
            seen.setdefault(pipeline.pk, str(name))
        return list(seen.items())

    def stage_choices(self, pipeline_id: int | None) -> list[tuple[int, str]]:
        if pipeline_id is not None:
            return [(pk, stage.name) for pk, stage in self.stages.items() if stage.pipeline_id == pipeline_id]
        several = len({stage.pipeline_id for stage in self.stages.values()}) > 1
        return [
            (pk, f"{stage.pipeline.name}: {stage.name}" if several else stage.name) for pk, stage in self.stages.items()
        ]


class _ChoicesOnce(BaseChoiceIterator):
    """Choices read from the database when first needed (to validate or to draw), then kept."""

    def __init__(self, load: Callable[[], list[tuple[Any, Any]]]) -> None:
        self.load = load
        self.items: list[tuple[Any, Any]] | None = None

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        if self.items is None:
            self.items = self.load()
        yield from self.items


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


class DealFilterForm(forms.Form):
    """The filters above the deal list; every choice is limited to what the user may see."""

    q = forms.CharField(label=_("Title contains"), required=False, max_length=100)
    pipeline = forms.TypedChoiceField(label=_("Pipeline"), required=False, coerce=int, empty_value=None)
    stage = forms.TypedChoiceField(label=_("Stage"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            (STATUS_OPEN, _("Open")),
            (STATUS_WON, _("Won")),
            (STATUS_LOST, _("Lost")),
            (STATUS_ALL, _("Any status")),
        ],
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    source = forms.TypedChoiceField(label=_("Lead source"), required=False, coerce=int, empty_value=None)
    close_month = forms.CharField(
        label=_("Expected to close in"), required=False, widget=forms.DateInput(attrs={"type": "month"})
    )
    attention = forms.ChoiceField(
        label=_("Needs attention"),
        required=False,
        choices=[("", _("Any deal")), (ATTENTION_OFF, _("Off track: a checkpoint overdue or too long in its stage"))],
    )
    company = forms.IntegerField(required=False, widget=forms.HiddenInput)
    contact = forms.IntegerField(required=False, widget=forms.HiddenInput)
    sort = forms.ChoiceField(
        label=_("Sort"), required=False, choices=[(key, label) for key, (label, _order) in SORTS.items()]
    )

    def __init__(self, *args: Any, user: User, stages: StageBook, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.client_name = ""  # of the company or contact filtered by, when there is one
        scope = access.client_scope(user)
        pipeline_field: forms.ChoiceField = self.fields["pipeline"]  # type: ignore[assignment]
        pipeline_field.choices = [("", _("Any pipeline")), *stages.pipelines()]
        chosen_pipeline = _int_or_none(self.data.get("pipeline", "")) if self.is_bound else None
        if chosen_pipeline not in {pk for pk, _name in stages.pipelines()}:
            chosen_pipeline = None
        stage_field: forms.ChoiceField = self.fields["stage"]  # type: ignore[assignment]
        stage_field.choices = [("", _("Any stage")), *stages.stage_choices(chosen_pipeline)]
        # The people whose deals the user sees (None: only their own, so "me" is the only choice).
        self.people: list[User] | None = None
        owners: list[tuple[str, Any]] = [(OWNER_ME, _("Me"))]
        if scope != access.Scope.OWN:
            people = access.people_in_scope(user, SELLING_ROLES).only(
                "id", "first_name", "last_name", "username", "team_id"
            )
            self.people = sorted(people, key=lambda person: person.display_name.lower())
            owners += [(str(person.pk), person.display_name) for person in self.people if person.pk != user.pk]
        owner_field: forms.ChoiceField = self.fields["owner"]  # type: ignore[assignment]
        owner_field.choices = [("", _("Anyone")), *owners]
        team_field: forms.ChoiceField = self.fields["team"]  # type: ignore[assignment]
        # Only those who see every deal choose among teams; others may narrow to their own.
        self.show_team = scope == access.Scope.ALL
        if self.show_team:
            team_field.choices = _ChoicesOnce(
                lambda: [("", _("Any team")), *Team.objects.order_by("name").values_list("pk", "name")]
            )
        else:
            team_field.choices = [("", _("Any team")), *([(user.team_id, _("My team"))] if user.team_id else [])]
        source_field: forms.ChoiceField = self.fields["source"]  # type: ignore[assignment]
        source_field.choices = _ChoicesOnce(
            lambda: [("", _("Any source")), *LeadSource.objects.order_by("name").values_list("pk", "name")]
        )

    def clean_close_month(self) -> date | None:
        value = str(self.cleaned_data.get("close_month") or "").strip()
        if not value:
            return None
        try:
            year, month = (int(part) for part in value.split("-"))
            return date(year, month, 1)
        except ValueError:
            raise forms.ValidationError(_("Give a month as YYYY-MM, e.g. 2026-03.")) from None

    def clean_company(self) -> int | None:
        return self._client("company")

    def clean_contact(self) -> int | None:
        return self._client("contact")

    def _client(self, kind: str) -> int | None:
        pk = self.cleaned_data.get(kind)
        if pk is None:
            return None
        visible = access.companies_visible_to(self.user) if kind == "company" else access.contacts_visible_to(self.user)
        client = visible.filter(pk=pk).first()
        if client is None:
            raise forms.ValidationError(_("There is no such client among those you can see."))
        self.client_name = client.display_name
        return int(pk)


def deal_list(user: User, filters: dict[str, Any]) -> QuerySet[Deal]:
    """The visible deals matching the list filters, in the chosen order; what is read of them is the caller's choice."""
    rows = access.deals_visible_to(user)
    status = filters.get("status") or DEFAULT_STATUS
    if status == STATUS_OPEN:
        rows = rows.filter(closed_at__isnull=True)
    elif status == STATUS_WON:
        rows = rows.filter(closed_at__isnull=False, stage__kind=StageKind.WON)
    elif status == STATUS_LOST:
        rows = rows.filter(closed_at__isnull=False, stage__kind=StageKind.LOST)
    owner = filters.get("owner")
    if owner == OWNER_ME:
        rows = rows.filter(owner=user)
    elif owner:
        rows = rows.filter(owner_id=int(owner))
    if filters.get("team"):
        rows = rows.filter(owner_id__in=User.objects.filter(team_id=filters["team"]).values("pk"))
    for name in ("pipeline", "stage", "company", "contact"):
        if filters.get(name):
            rows = rows.filter(**{f"{name}_id": filters[name]})
    if filters.get("source"):
        rows = rows.filter(lead_source_id=filters["source"])
    month: date | None = filters.get("close_month")
    if month:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        rows = rows.filter(expected_close__gte=month, expected_close__lt=following)
    if filters.get("q"):
        rows = rows.filter(title__icontains=filters["q"].strip())
    if filters.get("attention") == ATTENTION_OFF:
        now = timezone.now()
        rows = rows.filter(closed_at__isnull=True).filter(off_track(now, timezone.localdate(now)))
    return rows.order_by(*SORTS.get(filters.get("sort") or DEFAULT_SORT, SORTS[DEFAULT_SORT])[1])


# ---- State and pages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ListState:
    """What the list shows, read from its query string: filters, columns, and that query in its shortest form."""

    form: DealFilterForm
    filters: dict[str, Any]
    columns: ColumnChoice
    stages: StageBook
    query: str  # filters, sort and columns without the page: for links, exports and saved views


DEFAULTS = {"status": DEFAULT_STATUS, "sort": DEFAULT_SORT}


def list_state(user: User, data: QueryDict) -> ListState:
    """Parse the list's query string. A filter not valid for this user is reported and left out, never fatal."""
    stages = StageBook()
    form = DealFilterForm(data, user=user, stages=stages)
    form.is_valid()
    # Only the valid fields are in cleaned_data: one bad filter does not drop the others.
    filters = {name: value for name, value in form.cleaned_data.items() if value not in (None, "")}
    columns = columns_chosen(data.getlist("cols") if "cols" in data else None)
    query = QueryDict(mutable=True)
    for name in form.fields:
        if name in filters and DEFAULTS.get(name) != filters[name]:
            query[name] = data.get(name, "")
    if columns.query_value:
        query["cols"] = columns.query_value
    return ListState(form, filters, columns, stages, query.urlencode(safe=","))


@dataclass(frozen=True)
class DealPage(PageNumbering):
    rows: list[dict[str, Any]]
    number: int
    has_next: bool
    total: int
    total_capped: bool
    # Amounts per currency of every matching deal, when they were few enough to add up.
    sums: list[tuple[str, Decimal]] = field(default_factory=list)


def deal_page(rows: QuerySet[Deal], number: int, columns: ColumnChoice) -> DealPage:
    """One page of the list, read for its columns; how many match (up to COUNT_CAP) and, below it, the sums.

    The page's ids are found first and only those 26 rows are joined to their clients and
    people: sorting a head's few thousand open deals with the joins done for each of them
    cost ten times more. The count and the sums come from one query over at most
    COUNT_CAP + 1 matching rows.
    """
    number = max(1, number)
    start = (number - 1) * PAGE_SIZE
    ids = list(rows.values_list("pk", flat=True)[start : start + PAGE_SIZE + 1])
    if not ids:
        return DealPage(rows=[], number=number, has_next=False, total=0, total_capped=False)
    by_id = {row["id"]: row for row in read_rows(Deal.objects.filter(pk__in=ids).order_by(), columns)}
    found = [by_id[pk] for pk in ids if pk in by_id]
    total, sums = 0, []
    if number == 1 and len(found) <= PAGE_SIZE:
        # A first page that is not full has counted and can add itself up.
        total = len(found)
        added: dict[str, Decimal] = {}
        for row in found:
            if row["amount"] is not None:
                added[row["currency"]] = added.get(row["currency"], Decimal(0)) + row["amount"]
        sums = list(added.items())
    else:
        capped = Deal.objects.filter(pk__in=rows.order_by().values("pk")[: COUNT_CAP + 1]).order_by()
        for currency, count, amount in capped.values_list("currency").annotate(Count("pk"), Sum("amount")):
            total += count
            if amount is not None:
                sums.append((currency, amount))
    return DealPage(
        rows=found[:PAGE_SIZE],
        number=number,
        has_next=len(ids) > PAGE_SIZE,
        total=min(total, COUNT_CAP),
        total_capped=total > COUNT_CAP,
        sums=sorted(sums) if total <= COUNT_CAP else [],
    )
