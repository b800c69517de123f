"""What accounts adds to the shell: the admin sections and the people search (colleagues by name or e-mail)."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.core import navigation, search


def search_people(user: User, query: str, limit: int) -> list[search.SearchHit]:
    condition = Q()
    for word in query.split():
        condition &= (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
            | Q(email__icontains=word)
        )
    people = access.people_visible_to(user).filter(condition).select_related("team")[:limit]
    can_edit = access.can_manage_users(user)
    return [
        search.SearchHit(
            title=person.display_name,
            subtitle=" · ".join(
                part
                for part in [str(person.get_role_display()), person.team.name if person.team else "", person.email]
                if part
            ),
            url=reverse("accounts:user-edit", args=[person.pk])
            if can_edit
            else f"mailto:{person.email}"
            if person.email
            else "",
        )
        for person in people
    ]


search.register(
    search.SearchProvider(key="people", label=_("Colleagues"), icon="users", search=search_people, order=900)
)

navigation.register(
    navigation.NavItem(
        key="users",
        label=_("Users"),
        url_name="accounts:user-list",
        icon="user-cog",
        order=10,
        visible=access.can_manage_users,
        group="settings",
    )
)
navigation.register(
    navigation.NavItem(
        key="teams",
        label=_("Teams"),
        url_name="accounts:team-list",
        icon="users-group",
        order=20,
        visible=access.can_manage_users,
        group="settings",
    )
)
