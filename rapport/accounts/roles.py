"""Roles as permission groups.

A user's role is one field on the user (the access policy reads it on every request
without a query); the group of the same name carries the Django permissions that
admin screens and later apps check. ``user_set_role`` in services keeps them in step.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

from rapport.accounts.models import Role

# Permission codenames ("app_label.codename") each role holds. Later apps add theirs here.
ROLE_PERMISSIONS: dict[str, set[str]] = {
    Role.ADMIN: {
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_user",
        "accounts.add_team",
        "accounts.change_team",
        "accounts.view_team",
        "core.view_jobrun",
    },
    Role.HEAD: {"accounts.view_user", "accounts.view_team"},
    Role.MANAGER: {"accounts.view_team"},
    Role.OPERATOR: {"accounts.view_team"},
    Role.MARKETER: {"accounts.view_team"},
    Role.ANALYST: {"accounts.view_user", "accounts.view_team"},
    Role.AGENT: set(),
}


def sync_role_groups() -> None:
    """Create one group per role and give it exactly the permissions listed above."""
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = ROLE_PERMISSIONS[role]
        permissions = [
            permission
            for permission in Permission.objects.select_related("content_type")
            if f"{permission.content_type.app_label}.{permission.codename}" in wanted
        ]
        group.permissions.set(permissions)


def sync_role_groups_after_migrate(*, using: str = "default", **kwargs: Any) -> None:
    # Our receiver may run before auth's own post_migrate receiver has created this
    # migrate's permissions, so create them first (it is idempotent).
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_role_groups()
