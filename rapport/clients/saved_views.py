"""Saved views of the client lists: a name for a set of filters, sort order and columns.

A view stores a query string, never rows: whoever opens it sees what their own access
policy lets them see, and a filter they may not use (another team's manager as owner)
is reported and ignored by the list like any hand-typed one.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from rapport.accounts.models import Role, User
from rapport.clients.models import SavedView

KINDS = ("company", "contact", "deal")  # "deal": the deal list (rapport/sales/views/lists.py)
NAME_MAX_LENGTH = 80
QUERY_MAX_LENGTH = 2000
# Parameters that describe where one is in a list, not what it shows.
NOT_SAVED = {"page", "csrfmiddlewaretoken"}


def can_share_views(user: User) -> bool:
    """Heads, operators and admins set up views for everyone; anyone keeps views of their own."""
    return user.is_active and (user.is_admin or user.role in {Role.HEAD, Role.OPERATOR, Role.ADMIN})


def can_delete_view(user: User, view: SavedView) -> bool:
    return user.is_active and (view.user_id == user.pk or (view.is_shared and user.is_admin))


def saved_views_for(user: User, kind: str) -> QuerySet[SavedView]:
    """A user's own views of a list and those shared with everyone, theirs first."""
    return SavedView.objects.filter(Q(user=user) | Q(is_shared=True), kind=kind).order_by("is_shared", "name", "id")


def saved_view_for_user(user: User, view_id: int) -> SavedView:
    """A view the user may open (their own or a shared one); 404 otherwise."""
    return get_object_or_404(SavedView.objects.filter(Q(user=user) | Q(is_shared=True)), pk=view_id)


def _clean_query(query: str) -> str:
    pairs = [(key, value) for key, value in parse_qsl(query.lstrip("?")) if key not in NOT_SAVED and value]
    return urlencode(pairs, safe=",")  # cols=phone,owner, as the lists write it


@transaction.atomic
def saved_view_create(*, by: User, kind: str, name: str, query: str, is_shared: bool) -> SavedView:
    """Save a list's filters under a name, personal or (heads, operators, admins) shared with everyone."""
    if kind not in KINDS:
        raise ValidationError(_("Unknown list."))
    if is_shared and not can_share_views(by):
        raise PermissionDenied
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("Give the view a name.")})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": _("A view's name is at most %(count)d characters long.") % {"count": NAME_MAX_LENGTH}}
        )
    query = _clean_query(query)
    if len(query) > QUERY_MAX_LENGTH:
        raise ValidationError(_("These filters are too long to save."))
    duplicate = _("You already have a view called “%(name)s”.") % {"name": name}
    if SavedView.objects.filter(user=by, kind=kind, name__iexact=name).exists():
        raise ValidationError({"name": duplicate})
    try:
        with transaction.atomic():
            return SavedView.objects.create(user=by, kind=kind, name=name, query=query, is_shared=is_shared)
    except IntegrityError as error:  # the same name saved a moment ago, from another tab
        raise ValidationError({"name": duplicate}) from error


@transaction.atomic
def saved_view_delete(*, by: User, view: SavedView) -> None:
    """The author deletes their view; admins may also delete a shared one."""
    if not can_delete_view(by, view):
        raise PermissionDenied
    view.delete()
