from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from typing import Any

from django import forms
from django.db.models import CharField, F, QuerySet, Value
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.clients.models import ClientStatus, LeadSource, Tag
from rapport.core.phones import phone_parse

# Never-contacted clients count as the most neglected: first when oldest come first, last otherwise
# (said explicitly, since SQLite and PostgreSQL place NULLs differently by default).
SORTS: dict[str, tuple[Any, list[Any] | None]] = {
    "last_contact": (_("Last contact, longest ago first"), [F("last_contact_at").asc(nulls_first=True), "id"]),
    "-last_contact": (_("Last contact, most recent first"), [F("last_contact_at").desc(nulls_last=True), "-id"]),
    "name": (_("Name"), None),  # the model's own order: companies by name, contacts by last and first name
    "-created": (_("Newest first"), ["-created_at", "-id"]),
}
OWNER_ME, OWNER_NONE = "me", "none"
OPEN_DEAL_YES, OPEN_DEAL_NO = "yes", "no"
NEXT_STEP_YES, NEXT_STEP_NO = "planned", "none"


class _ChoicesOnce(BaseChoiceIterator):
    """Choices read from the database when first needed (to validate or to draw), then kept for this form."""

    def __init__(self, load: Callable[[], list[tuple[Any, Any]]]) -> None:
        self.load = load
        self.items: list[tuple[Any, Any]] | None = None

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        if self.items is None:
            self.items = self.load()
        yield from self.items


class _Picklists:
    """Lead sources and tags for the filters, read together in one query when first needed."""

    def __init__(self) -> None:
        self.lists: dict[str, list[tuple[int, str]]] | None = None

    def get(self, name: str) -> list[tuple[int, str]]:
        if self.lists is None:
            label = CharField()
            sources = LeadSource.objects.order_by().annotate(list=Value("source", label))
            tags = Tag.objects.order_by().annotate(list=Value("tag", label))
            rows = sources.values_list("list", "pk", "name").union(tags.values_list("list", "pk", "name"), all=True)
            self.lists = {"source": [], "tag": []}
            for list_name, pk, item in sorted(rows, key=lambda row: row[2].lower()):
                self.lists[list_name].append((pk, item))
        return self.lists[name]


class ClientFilterForm(forms.Form):
    """The filters above a client list; every choice is limited to what the user may see."""

    owner = forms.ChoiceField(label=_("Owner"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *ClientStatus.choices]
    )
    # Ids, not model instances: the list is timed per page, and filters by id anyway.
    source = forms.TypedChoiceField(label=_("Lead source"), required=False, coerce=int, empty_value=None)
    tag = forms.TypedChoiceField(label=_("Tag"), required=False, coerce=int, empty_value=None)
    contacted_after = forms.DateField(
        label=_("Last contact from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    contacted_before = forms.DateField(
        label=_("Last contact until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    birthday_month = forms.TypedChoiceField(
        label=_("Birthday in"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=lambda: [("", _("Any month")), *[(n, calendar.month_name[n]) for n in range(1, 13)]],
    )
    open_deal = forms.ChoiceField(
        label=_("Open deals"),
        required=False,
        choices=[("", _("With or without")), (OPEN_DEAL_YES, _("Has an open deal")), (OPEN_DEAL_NO, _("No open deal"))],
    )
    next_step = forms.ChoiceField(
        label=_("Next step"),
        required=False,
        choices=[("", _("Planned or not")), (NEXT_STEP_YES, _("Planned")), (NEXT_STEP_NO, _("No next step"))],
    )
    sort = forms.ChoiceField(
        label=_("Sort"), required=False, choices=[(key, label) for key, (label, _order) in SORTS.items()]
    )

    def __init__(self, *args: Any, user: User, with_birthdays: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = access.people_visible_to(user)
        scope = access.client_scope(user)
        # The people whose clients the user sees, themself included (None: only their own).
        self.people: list[User] | None = None
        if scope == access.Scope.OWN:
            owners: list[tuple[str, Any]] = [(OWNER_ME, _("Me"))]
        else:
            people = people.only("id", "first_name", "last_name", "username", "role", "team_id")
            if scope == access.Scope.TEAM:
                people = people.filter(team_id=user.team_id) if user.team_id else people.none()
            self.people = list(people)
            owners = [
                (OWNER_ME, _("Me")),
                *[(str(person.pk), person.display_name) for person in self.people if person.pk != user.pk],
            ]
        owner_field: forms.ChoiceField = self.fields["owner"]  # type: ignore[assignment]
        owner_field.choices = [("", _("Anyone")), *owners, (OWNER_NONE, _("Nobody (the pool)"))]
        source_field: forms.ChoiceField = self.fields["source"]  # type: ignore[assignment]
        picklists = _Picklists()
        source_field.choices = _ChoicesOnce(lambda: [("", _("Any source")), *picklists.get("source")])
        tag_field: forms.ChoiceField = self.fields["tag"]  # type: ignore[assignment]
        tag_field.choices = _ChoicesOnce(lambda: [("", _("Any tag")), *picklists.get("tag")])
        if not with_birthdays:
            del self.fields["birthday_month"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        after, before = cleaned.get("contacted_after"), cleaned.get("contacted_before")
        if after and before and after > before:
            self.add_error("contacted_before", _("This date is before the “from” date."))
        return cleaned


class SavedViewForm(forms.Form):
    """Save a list's current filters, sort and columns under a name."""

    name = forms.CharField(label=_("Name"), max_length=80, error_messages={"required": _("Give the view a name.")})
    is_shared = forms.BooleanField(label=_("Share with everyone"), required=False)
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)


class BulkActionForm(forms.Form):
    """One action on the selected clients (or all matching the filters); the ids come as a list beside it."""

    action = forms.ChoiceField(label=_("Action"), choices=[])
    to_user = forms.ModelChoiceField(
        label=_("New owner"), queryset=User.objects.none(), required=False, empty_label=_("Nobody — to the pool")
    )
    tag = forms.CharField(label=_("Tag"), max_length=50, required=False)
    all_matching = forms.BooleanField(required=False)
    query = forms.CharField(required=False, max_length=4000)

    def __init__(self, *args: Any, user: User, actions: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action_field: forms.ChoiceField = self.fields["action"]  # type: ignore[assignment]
        action_field.choices = actions
        owner_field: forms.ModelChoiceField[User] = self.fields["to_user"]  # type: ignore[assignment]
        owner_field.queryset = bulk_owners(user)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("action") == "tag" and "tag" not in self.errors and not cleaned.get("tag", "").strip():
            self.add_error("tag", _("Give the tag a name."))
        return cleaned


OWNER_ROLES = ("manager", "head", "agent")


def bulk_owners(user: User) -> QuerySet[User]:
    """Whom clients may be given to from a list: as on a client's card (TransferForm), by team id."""
    owners = User.objects.filter(is_active=True, role__in=OWNER_ROLES)
    if not user.is_admin:
        owners = owners.filter(team_id=user.team_id) if user.team_id else owners.none()
    return owners.order_by("first_name", "last_name")


def bulk_owners_among(user: User, people: list[User]) -> list[User]:
    """bulk_owners() picked from people already read (the list's owner filter), to save a query."""
    return [
        person
        for person in people
        if person.role in OWNER_ROLES and (user.is_admin or (user.team_id and person.team_id == user.team_id))
    ]


class TransferForm(forms.Form):
    to_user = forms.ModelChoiceField(
        label=_("New owner"), queryset=User.objects.none(), required=False, empty_label=_("Nobody — to the pool")
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owners = User.objects.filter(is_active=True, role__in=["manager", "head", "agent"])
        if not user.is_admin:
            owners = owners.filter(team=user.team) if user.team_id else owners.none()
        field: forms.ModelChoiceField[User] = self.fields["to_user"]  # type: ignore[assignment]
        field.queryset = owners.order_by("first_name", "last_name")


def _owner_choices(user: User) -> Any:
    """Whom a new client may be given to: yourself, your team (heads), anyone (admins, operators)."""
    owners = User.objects.filter(is_active=True, role__in=["manager", "head", "agent"])
    if user.is_admin or user.role == "operator":
        return owners
    if user.role == "head" and user.team_id:
        return owners.filter(team=user.team)
    return owners.filter(pk=user.pk)


class ClientCreateForm(forms.Form):
    """What a new company or contact needs; phones and e-mails are checked here so errors sit by their field."""

    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    lead_source = forms.ModelChoiceField(
        label=_("Lead source"), queryset=LeadSource.objects.filter(is_active=True), required=False, empty_label="—"
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    consent_email = forms.BooleanField(label=_("Agrees to e-mail"), required=False)
    consent_sms = forms.BooleanField(label=_("Agrees to SMS"), required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner_field: forms.ModelChoiceField[User] = self.fields["owner"]  # type: ignore[assignment]
        owner_field.queryset = _owner_choices(user)
        owner_field.empty_label = _("Me") if user.role in {"manager", "head", "agent"} else _("Nobody — the pool")

    def clean_phone(self) -> str:
        phone = str(self.cleaned_data.get("phone", "")).strip()
        if phone:
            phone_parse(phone)  # raises the message with the expected format
        return phone


class CompanyCreateForm(ClientCreateForm):
    name = forms.CharField(label=_("Company name"), max_length=200)
    tax_id = forms.CharField(label=_("Tax id"), max_length=32, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    website = forms.URLField(label=_("Website"), max_length=200, required=False, assume_scheme="https")

    field_order = ["name", "tax_id", "phone", "email", "industry", "website", "address", "owner", "lead_source"]


class ContactCreateForm(ClientCreateForm):
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    middle_name = forms.CharField(label=_("Middle name"), max_length=100, required=False)
    position = forms.CharField(label=_("Position"), max_length=100, required=False)
    birthday = forms.DateField(label=_("Birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    field_order = ["last_name", "first_name", "middle_name", "position", "phone", "email", "birthday", "owner"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not (cleaned.get("last_name", "").strip() or cleaned.get("first_name", "").strip()):
            self.add_error("last_name", _("Give at least a last or a first name."))
        return cleaned
