"""The activity list's filters, sort orders and pages, read from its query string.

Other screens may link here with these parameters, so their names are part of the interface:
``kind``, ``outcome`` (an id), ``owner`` (``me`` or a user id), ``from`` and ``to`` (dates,
both days included, on the moment the activity happened or is due), ``status`` and ``sort``.
The export takes the same query string.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import F, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityKind, ActivityStatus, Outcome
from rapport.activities.services import OWNING_ROLES
from rapport.core.paging import PAGE_SIZE, PageNumbering

# Lists never count more than this: past it the footer says "more than 2,000".
COUNT_CAP = 2_000

OWNER_ME = "me"
DEFAULT_SORT = "-at"
# Planned activities without a due time go last whichever way the list is sorted by it.
SORTS: dict[str, tuple[Any, list[Any]]] = {
    "-at": (_("Newest first"), ["-at", "-id"]),
    "at": (_("Oldest first"), ["at", "id"]),
    "due": (_("Due soonest first"), [F("due_at").asc(nulls_last=True), "id"]),
    "-due": (_("Due latest first"), [F("due_at").desc(nulls_last=True), "-id"]),
}
# Dates outside these years are typing mistakes, and would overflow the time zone arithmetic.
FIRST_YEAR, LAST_YEAR = 1900, 2999


class DateInput(forms.DateInput):
    input_type = "date"


def _period_field(label: Any) -> forms.DateField:
    return forms.DateField(label=label, required=False, widget=DateInput(format="%Y-%m-%d"))


class ActivityFilterForm(forms.Form):
    """The filters above the activity list; the owners offered are the people whose activities the user sees."""

    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any kind")), *ActivityKind.choices])
    outcome = forms.TypedChoiceField(label=_("Outcome"), required=False, coerce=int, empty_value=None)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *ActivityStatus.choices]
    )
    sort = forms.ChoiceField(
        label=_("Sort"), required=False, choices=[(key, label) for key, (label, _order) in SORTS.items()]
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        # "from" is a Python keyword, so these two cannot be declared above.
        self.fields["from"] = _period_field(_("From"))
        self.fields["to"] = _period_field(_("To"))
        owners: list[tuple[str, Any]] = [(OWNER_ME, _("Me"))]
        people = access.people_in_scope(user, OWNING_ROLES).exclude(pk=user.pk)
        chosen = people.only("id", "first_name", "last_name", "username")
        owners += sorted(((str(person.pk), person.display_name) for person in chosen), key=lambda pair: pair[1].lower())
        owner_field: forms.ChoiceField = self.fields["owner"]  # type: ignore[assignment]
        owner_field.choices = [("", _("Anyone")), *owners]
        outcome_field: forms.ChoiceField = self.fields["outcome"]  # type: ignore[assignment]
        kind = self.data.get("kind", "") if self.is_bound else ""
        outcome_field.choices = _outcome_choices(kind if kind in ActivityKind.values else None)

    def clean_from(self) -> date | None:
        return _sane(self.cleaned_data.get("from"))

    def clean_to(self) -> date | None:
        end = _sane(self.cleaned_data.get("to"))
        start = self.cleaned_data.get("from")
        if end is not None and start is not None and end < start:
            raise forms.ValidationError(_("The end of the period is before its start."))
        return end


def _sane(day: date | None) -> date | None:
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise forms.ValidationError(
            _("Give a date between the years %(first)s and %(last)s.") % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )
    return day


def _outcome_choices(kind: str | None) -> list[tuple[Any, Any]]:
    """The outcomes of the chosen kind, or of every kind with the kind's name; retired ones say so."""
    outcomes = Outcome.objects.order_by("kind", "-is_active", "position", "id")
    if kind is not None:
        outcomes = outcomes.filter(kind=kind)
    choices: list[tuple[Any, Any]] = [("", _("Any outcome"))]
    for outcome in outcomes:
        name = outcome.name if outcome.is_active else _("%(name)s (no longer used)") % {"name": outcome.name}
        if kind is None:
            name = f"{ActivityKind(outcome.kind).label}: {name}"
        choices.append((outcome.pk, name))
    return choices


def day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def activity_list(user: User, filters: dict[str, Any]) -> QuerySet[Activity]:
    """The visible activities matching the filters, in the chosen order; what is read of them is the caller's choice."""
    rows = access.activities_visible_to(user)
    if filters.get("kind"):
        rows = rows.filter(kind=filters["kind"])
    if filters.get("outcome"):
        rows = rows.filter(outcome_id=filters["outcome"])
    if filters.get("status"):
        rows = rows.filter(status=filters["status"])
    owner = filters.get("owner")
    if owner == OWNER_ME:
        rows = rows.filter(owner=user)
    elif owner:
        rows = rows.filter(owner_id=int(owner))
    start: date | None = filters.get("from")
    if start is not None:
        rows = rows.filter(at__gte=day_start(start))
    end: date | None = filters.get("to")
    if end is not None:
        rows = rows.filter(at__lt=day_start(end + timedelta(days=1)))
    return rows.order_by(*SORTS.get(filters.get("sort") or DEFAULT_SORT, SORTS[DEFAULT_SORT])[1])


# ---- State and pages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ListState:
    """What the list shows, read from its query string: the filters, and that query in its shortest form."""

    form: ActivityFilterForm
    filters: dict[str, Any]
    query: str  # filters and sort without the page: for the pages' links and the export


def list_state(user: User, data: QueryDict) -> ListState:
    """Parse the list's query string. A filter not valid for this user is reported and left out, never fatal."""
    form = ActivityFilterForm(data, user=user)
    form.is_valid()
    # Only the valid fields are in cleaned_data: one bad filter does not drop the others.
    filters = {name: value for name, value in form.cleaned_data.items() if value not in (None, "")}
    query = QueryDict(mutable=True)
    for name in form.fields:
        if name in filters and not (name == "sort" and filters[name] == DEFAULT_SORT):
            query[name] = data.get(name, "")
    return ListState(form, filters, query.urlencode())


@dataclass(frozen=True)
class ActivityPage(PageNumbering):
    rows: list[Activity]
    number: int
    has_next: bool
    total: int
    total_capped: bool


# What a row shows of the records it links to.
ROW_RELATED = ("outcome", "owner", "company", "contact", "deal")


def activity_page(rows: QuerySet[Activity], number: int) -> ActivityPage:
    """One page of the list and how many match (up to COUNT_CAP): three queries at most, whatever the page.

    The page's ids are found first and only those rows are joined to their clients, deals and
    owners, as the deal list does: joining before sorting would join every matching row.
    """
    number = max(1, number)
    start = (number - 1) * PAGE_SIZE
    ids = list(rows.values_list("pk", flat=True)[start : start + PAGE_SIZE + 1])
    if not ids:
        return ActivityPage(rows=[], number=number, has_next=False, total=0, total_capped=False)
    by_id = {row.pk: row for row in Activity.objects.filter(pk__in=ids).select_related(*ROW_RELATED).order_by()}
    found = [by_id[pk] for pk in ids if pk in by_id]
    if number == 1 and len(found) <= PAGE_SIZE:
        total = len(found)  # a first page that is not full has counted itself
    else:
        total = rows.order_by().values("pk")[: COUNT_CAP + 1].count()
    return ActivityPage(
        rows=found[:PAGE_SIZE],
        number=number,
        has_next=len(ids) > PAGE_SIZE,
        total=min(total, COUNT_CAP),
        total_capped=total > COUNT_CAP,
    )
