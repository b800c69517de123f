"""Forms of the activity screens: the quick log's due-time chooser; planning, editing and completing an activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.accounts.models import Role, User
from rapport.activities.models import Activity, ActivityKind, ActivityStatus, Direction, Outcome
from rapport.activities.services import OWNING_ROLES
from rapport.clients.models import Company, Contact
from rapport.sales.forms import client_picker
from rapport.sales.models import Deal

# A datetime-local input sends and shows minutes in the user's time zone.
LOCAL_INPUT = "%Y-%m-%dT%H:%M"
# The deals a form offers to link: the client's open deals, or the person's own; a picker would do for more.
DEAL_CHOICES = 100
OUTCOME_OF_A_CALL = _("Choose one of the outcomes of a call.")
TEXT_FIELDS = {"subject", "result", "direction"}


def _local_datetime_field(label: Any, **kwargs: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=forms.DateTimeInput(format=LOCAL_INPUT, attrs={"type": "datetime-local"}),
        **kwargs,
    )


# ---- When to follow up ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DuePreset:
    key: str
    label: str
    at: datetime


def due_presets(now: datetime | None = None) -> list[DuePreset]:
    """The quick choices of a due time, in the active (the user's) time zone: "in 1 hour" … "next Monday 10:00"."""
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    today = timezone.localtime(now, zone).date()

    def at_ten(day: date) -> datetime:
        return datetime.combine(day, time(10), tzinfo=zone)

    return [
        DuePreset("1h", str(_("In 1 hour")), now + timedelta(hours=1)),
        DuePreset("3h", str(_("In 3 hours")), now + timedelta(hours=3)),
        DuePreset("tomorrow", str(_("Tomorrow, 10:00")), at_ten(today + timedelta(days=1))),
        DuePreset("2days", str(_("In 2 days, 10:00")), at_ten(today + timedelta(days=2))),
        DuePreset("monday", str(_("Next Monday, 10:00")), at_ten(today + timedelta(days=7 - today.weekday()))),
    ]


def due_preset(key: str) -> datetime | None:
    return next((preset.at for preset in due_presets() if preset.key == key), None)


# ---- The quick log -------------------------------------------------------------------------------


class QuickLogForm(forms.Form):
    """A call's outcome and, when the outcome asks for it, when to call back (a preset or a time)."""

    outcome = forms.IntegerField(error_messages={"required": OUTCOME_OF_A_CALL, "invalid": OUTCOME_OF_A_CALL})
    follow_up = forms.CharField(required=False)
    follow_up_at = _local_datetime_field(_("Another time"))

    def __init__(self, *args: Any, outcomes: list[Outcome], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcomes = outcomes

    def clean_outcome(self) -> Outcome:
        chosen = next((outcome for outcome in self.outcomes if outcome.pk == self.cleaned_data["outcome"]), None)
        if chosen is None:
            raise forms.ValidationError(OUTCOME_OF_A_CALL)
        return chosen

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        key = cleaned.get("follow_up")
        if key:
            at = due_preset(key)
            if at is None:
                self.add_error("follow_up_at", _("Choose one of the times offered, or give one."))
            else:
                cleaned["follow_up_at"] = at
        return cleaned


# ---- Planning, logging and editing an activity ---------------------------------------------------


class OutcomeSelect(forms.Select):
    """Outcomes grouped by kind, each option naming its kind (``data-kind``) for the page to narrow."""

    def __init__(self, kinds: dict[int, str]) -> None:
        super().__init__()
        self.kinds = kinds

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        pk = getattr(value, "value", value)
        if pk in self.kinds:
            option["attrs"]["data-kind"] = self.kinds[pk]
        return option


def _owners(user: User) -> Any:
    """Heads give activities within their team, admins to anyone who works with clients; others keep their own."""
    people = User.objects.filter(is_active=True, role__in=OWNING_ROLES).order_by("first_name", "last_name", "id")
    if user.is_admin:
        return people
    if user.role == Role.HEAD and user.team_id is not None:
        return people.filter(team_id=user.team_id)
    return None


def _deal_choices(user: User, *, company: int | None, contact: int | None, current: int | None) -> list[Any]:
    """Open deals of the client (or, with none chosen, the person's own), and the linked one whatever its state."""
    deals = access.deals_visible_to(user)
    if company or contact:
        offered = Q(company_id=company) if company else Q(pk__in=[])
        if contact:
            offered |= Q(contact_id=contact)
    else:
        offered = Q(owner=user)
    wanted = (Q(closed_at__isnull=True) & offered) | Q(pk=current or 0)
    rows = deals.filter(wanted).order_by("-created_at", "-id").values_list("pk", "title")[:DEAL_CHOICES]
    return [("", "—"), *rows]


def _initial_id(value: Any) -> int | None:
    value = getattr(value, "pk", value)
    return int(value) if isinstance(value, int) or (isinstance(value, str) and value.isdigit()) else None


class ActivityForm(forms.Form):
    """Every field of an activity. ``activity`` given: its editor (with a version); otherwise a new one."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    follow_up_of = forms.IntegerField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("Kind"), choices=ActivityKind.choices)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[(ActivityStatus.PLANNED, _("Planned")), (ActivityStatus.DONE, _("Done already"))],
        initial=ActivityStatus.PLANNED,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    direction = forms.ChoiceField(label=_("Direction"), choices=[("", "—"), *Direction.choices], required=False)
    due_at = _local_datetime_field(_("Due"))
    done_at = _local_datetime_field(_("Done at"), help_text=_("Leave empty for now."))
    duration = forms.IntegerField(
        label=_("Duration, minutes"),
        required=False,
        min_value=0,
        error_messages={"min_value": _("The duration cannot be below zero.")},
        widget=forms.NumberInput(attrs={"min": "0", "step": "1", "inputmode": "numeric"}),
    )
    outcome = forms.ModelChoiceField(label=_("Outcome"), queryset=Outcome.objects.none(), required=False)
    result = forms.CharField(label=_("Result"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), empty_label=None)
    company = forms.ModelChoiceField(label=_("Company"), queryset=Company.objects.none(), required=False)
    contact = forms.ModelChoiceField(label=_("Contact person"), queryset=Contact.objects.none(), required=False)
    deal = forms.ModelChoiceField(label=_("Deal"), queryset=Deal.objects.none(), required=False)

    # What each screen shows: the new activity, its editor, and the "mark as done" form (which carries
    # every field a minimum-data rule may ask of a finished activity, so a refusal points at each).
    EDIT = (
        "version",
        *("kind", "subject", "direction", "due_at", "done_at", "duration", "outcome", "result"),
        *("owner", "company", "contact", "deal"),
    )
    CREATE = ("follow_up_of", "status", *EDIT[1:])
    COMPLETE = ("version", "done_at", "outcome", "subject", "result", "duration", "contact", "deal")

    def __init__(
        self,
        *args: Any,
        user: User,
        activity: Activity | None = None,
        only: tuple[str, ...] | None = None,
        **kwargs: Any,
    ) -> None:
        if activity is not None:
            initial = {name: getattr(activity, name) for name in self.EDIT if name != "version"}
            kwargs["initial"] = {**initial, "version": activity.version, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        self.activity = activity
        keep = set(only or (self.CREATE if activity is None else self.EDIT))
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        self._set_up_choices(user)

    def _set_up_choices(self, user: User) -> None:
        current = self.activity
        if "outcome" in self.fields:
            keep = Q(pk=current.outcome_id) if current and current.outcome_id else Q(pk__in=[])
            offered = Outcome.objects.filter(Q(is_active=True) | keep)
            if current is not None and "kind" not in self.fields:
                offered = offered.filter(kind=current.kind)  # marking done keeps the kind: its outcomes only
            outcomes = list(offered.order_by("kind", "position", "id"))
            field: forms.ModelChoiceField[Outcome] = self.fields["outcome"]  # type: ignore[assignment]
            field.queryset = Outcome.objects.filter(pk__in=[outcome.pk for outcome in outcomes])
            field.widget = OutcomeSelect({outcome.pk: outcome.kind for outcome in outcomes})
            groups: dict[str, list[tuple[int, str]]] = {str(label): [] for label in ActivityKind.labels}
            for outcome in outcomes:
                groups[str(ActivityKind(outcome.kind).label)].append((outcome.pk, outcome.name))
            field.widget.choices = [("", "—"), *((label, group) for label, group in groups.items() if group)]
        if "owner" in self.fields:
            owners = _owners(user)
            if owners is None:
                del self.fields["owner"]
            else:
                owner: forms.ModelChoiceField[User] = self.fields["owner"]  # type: ignore[assignment]
                owner.queryset = owners | User.objects.filter(pk__in=[current.owner_id if current else user.pk])
                owner.initial = owner.initial or user.pk
        for kind, model in (("company", Company), ("contact", Contact)):
            if kind in self.fields:
                client: forms.ModelChoiceField[Any] = self.fields[kind]  # type: ignore[assignment]
                linked = getattr(current, f"{kind}_id", None) if current else None
                keep = Q(pk=linked) if linked else Q(pk__in=[])
                client.queryset = model.objects.alive().filter(access.client_visibility(user) | keep)
                client.widget = client_picker(kind)
        if "deal" in self.fields:
            deal: forms.ModelChoiceField[Deal] = self.fields["deal"]  # type: ignore[assignment]
            linked_deal = current.deal_id if current else _initial_id(self.initial.get("deal"))
            deal.queryset = access.deals_visible_to(user) | Deal.objects.filter(pk__in=[linked_deal or 0])
            deal.widget.choices = _deal_choices(
                user,
                company=_initial_id(self._value("company")),
                contact=_initial_id(self._value("contact")),
                current=_initial_id(self._value("deal")),
            )

    def _value(self, name: str) -> Any:
        if self.is_bound:
            return self.data.get(self.add_prefix(name))
        if name in self.initial:
            return self.initial[name]
        return getattr(self.activity, f"{name}_id", None) if self.activity else None

    def clean_follow_up_of(self) -> int | None:
        return self.cleaned_data.get("follow_up_of") or None

    def create_arguments(self) -> dict[str, Any]:
        """The arguments of ``services.activity_create`` (the follow-up is resolved by the view)."""
        data = {name: value for name, value in self.cleaned_data.items() if name != "follow_up_of"}
        for text in TEXT_FIELDS & set(data):
            data[text] = data[text] or ""
        return data

    def changes(self) -> dict[str, Any]:
        """The fields that differ from the activity: only they are written and checked for rights."""
        assert self.activity is not None
        changed = {}
        for name, value in self.cleaned_data.items():
            if name == "version":
                continue
            if name in TEXT_FIELDS:
                value = value or ""
            if not _same(value, getattr(self.activity, name)):
                changed[name] = value
        return changed


def _same(value: Any, current: Any) -> bool:
    """Equal as the form shows them: a time to the minute (the input has no seconds)."""
    if isinstance(value, datetime) and isinstance(current, datetime):
        return value.replace(second=0, microsecond=0) == current.replace(second=0, microsecond=0)
    return bool(value == current)
