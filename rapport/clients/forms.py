from __future__ import annotations

import calendar
from typing import Any

from django import forms
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.clients.models import ClientStatus, LeadSource, Tag

# Never-contacted clients count as the most neglected: first when oldest come first, last otherwise
# (said explicitly, since SQLite and PostgreSQL place NULLs differently by default).
SORTS: dict[str, tuple[Any, list[Any] | None]] = {
    "last_contact": (_("Last contact, longest ago first"), [F("last_contact_at").asc(nulls_first=True), "id"]),
    "-last_contact": (_("Last contact, most recent first"), [F("last_contact_at").desc(nulls_last=True), "-id"]),
    "name": (_("Name"), None),  # the model's own order: companies by name, contacts by last and first name
    "-created": (_("Newest first"), ["-created_at", "-id"]),
}
OWNER_ME, OWNER_NONE = "me", "none"


class ClientFilterForm(forms.Form):
    """The filters above a client list; every choice is limited to what the user may see."""

    owner = forms.ChoiceField(label=_("Owner"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *ClientStatus.choices]
    )
    source = forms.ModelChoiceField(
        label=_("Lead source"), required=False, queryset=LeadSource.objects.all(), empty_label=_("Any source")
    )
    tag = forms.ModelChoiceField(label=_("Tag"), required=False, queryset=Tag.objects.all(), empty_label=_("Any tag"))
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
    sort = forms.ChoiceField(
        label=_("Sort"), required=False, choices=[(key, label) for key, (label, _order) in SORTS.items()]
    )

    def __init__(self, *args: Any, user: User, with_birthdays: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = access.people_visible_to(user)
        scope = access.client_scope(user)
        if scope == access.Scope.OWN:
            owners: list[tuple[str, Any]] = [(OWNER_ME, _("Me"))]
        else:
            team = people.filter(team=user.team) if scope == access.Scope.TEAM else people
            owners = [
                (OWNER_ME, _("Me")),
                *[(str(person.pk), person.display_name) for person in team.exclude(pk=user.pk)],
            ]
        owner_field: forms.ChoiceField = self.fields["owner"]  # type: ignore[assignment]
        owner_field.choices = [("", _("Anyone")), *owners, (OWNER_NONE, _("Nobody (the pool)"))]
        if not with_birthdays:
            del self.fields["birthday_month"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        after, before = cleaned.get("contacted_after"), cleaned.get("contacted_before")
        if after and before and after > before:
            self.add_error("contacted_before", _("This date is before the “from” date."))
        return cleaned
