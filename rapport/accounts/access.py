"""The access policy: the one place that decides who sees and edits what.

Every query that returns records to a person goes through a function here. Later
apps add their record types (clients, deals …) with the same shape: a ``*_visible_to``
QuerySet filter and a ``*_for_user`` getter that answers 404 for what is out of scope.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from rapport.accounts.models import Role, Team, User


def can_manage_users(user: User) -> bool:
    return user.is_active and user.is_admin


def can_see_system_status(user: User) -> bool:
    return can_manage_users(user)


def people_visible_to(user: User) -> QuerySet[User]:
    """Colleagues a user can look up: everyone in the company, but an outside agent sees only themself."""
    if user.role == Role.AGENT and not user.is_admin:
        return User.objects.filter(pk=user.pk)
    return User.objects.filter(is_active=True)


def user_for_admin(user: User, user_id: int) -> User:
    if not can_manage_users(user):
        raise PermissionDenied
    return get_object_or_404(User.objects.select_related("team"), pk=user_id)


def team_for_admin(user: User, team_id: int) -> Team:
    if not can_manage_users(user):
        raise PermissionDenied
    return get_object_or_404(Team.objects.select_related("head"), pk=team_id)
