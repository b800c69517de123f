"""Every change to users and teams goes through these functions (views, commands and the demo alike)."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rapport.accounts.models import Role, Team, User


def role_group_sync(user: User) -> None:
    """Membership in exactly the group of the user's role."""
    user.groups.set([Group.objects.get_or_create(name=user.role)[0]])


def _check_admins_remain(*, user: User, role: str, is_active: bool) -> None:
    """Refuse a change that would leave the company without an active administrator."""
    loses_admin = user.role == Role.ADMIN and user.is_active and (role != Role.ADMIN or not is_active)
    if loses_admin and not User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk).exists():
        raise ValidationError({"role": _("This is the last active administrator; make someone else one first.")})


def _check_head_fits(*, team: Team | None, head: User | None) -> None:
    if head is not None and head.role not in {Role.HEAD, Role.ADMIN}:
        raise ValidationError({"head": _("Only a head of sales or an administrator can head a team.")})
    if head is not None and head.team_id is not None and (team is None or head.team_id != team.pk):
        raise ValidationError({"head": _("%(name)s belongs to another team.") % {"name": head.display_name}})


@transaction.atomic
def user_create(
    *,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    role: str = Role.MANAGER,
    team: Team | None = None,
    language: str = "",
    time_zone: str = "",
    password: str | None = None,
) -> User:
    """Create a user; without a password the user sets one through "forgot password"."""
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("A user with this username already exists.")})
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        team=team,
        language=language,
        time_zone=time_zone,
        is_staff=role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    role_group_sync(user)
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    team: Team | None,
    is_active: bool,
) -> User:
    _check_admins_remain(user=user, role=role, is_active=is_active)
    role_changed = user.role != role
    user.email, user.first_name, user.last_name = email, first_name, last_name
    user.role, user.team, user.is_active = role, team, is_active
    user.is_staff = role == Role.ADMIN
    user.full_clean(exclude=["password"])
    user.save(update_fields=["email", "first_name", "last_name", "role", "team", "is_active", "is_staff"])
    if role_changed:
        role_group_sync(user)
    return user


def user_set_preferences(*, user: User, language: str, time_zone: str) -> User:
    user.language, user.time_zone = language, time_zone
    user.full_clean(exclude=["password"])
    user.save(update_fields=["language", "time_zone"])
    return user


@transaction.atomic
def team_create(*, name: str, head: User | None = None) -> Team:
    if Team.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": _("A team with this name already exists.")})
    _check_head_fits(team=None, head=head)
    team = Team(name=name, head=head)
    team.full_clean()
    team.save()
    if head is not None and head.team_id is None:
        head.team = team
        head.save(update_fields=["team"])
    return team


@transaction.atomic
def team_update(*, team: Team, name: str, head: User | None) -> Team:
    if Team.objects.filter(name__iexact=name).exclude(pk=team.pk).exists():
        raise ValidationError({"name": _("A team with this name already exists.")})
    _check_head_fits(team=team, head=head)
    team.name, team.head = name, head
    team.full_clean()
    team.save(update_fields=["name", "head", "updated_at"])
    if head is not None and head.team_id is None:
        head.team = team
        head.save(update_fields=["team"])
    return team


def first_admin_ensure(*, username: str, password: str | None) -> tuple[User, str] | None:
    """Create the first administrator when there is none; return it with its password, shown once."""
    if User.objects.filter(role=Role.ADMIN).exists() or User.objects.filter(is_superuser=True).exists():
        return None
    password = password or secrets.token_urlsafe(12)
    user = user_create(username=username, first_name="Admin", role=Role.ADMIN, password=password)
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user, password
