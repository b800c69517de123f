"""Keeping the base clean: the trash (admins restore from it) and merging duplicates (operators, admins)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.accounts import access
from rapport.clients import merge, queries
from rapport.clients.models import ClientMerge
from rapport.clients.search import find_clients
from rapport.clients.services import AnyClient, client_restore
from rapport.clients.views.cards import client_for
from rapport.clients.views.lists import model_of_kind
from rapport.core.http import RapportRequest

TRASH_SHOWN = 100
AUTOCOMPLETE_SIZE = 10
# Name search works on trigrams: fewer characters cannot be looked up by index.
AUTOCOMPLETE_MIN_LENGTH = 3


@login_required
def trash(request: RapportRequest) -> HttpResponse:
    """The latest deleted companies and contacts, newest first."""
    if not access.can_see_trash(request.user):
        raise PermissionDenied
    rows = queries.trash_rows(limit=TRASH_SHOWN)
    merged = {
        (merge_row.kind, merge_row.merged_id)
        for merge_row in ClientMerge.objects.filter(merged_id__in=[client.pk for client in rows])
    }
    entries = [(client, (client.kind, client.pk) in merged) for client in rows]
    return render(request, "clients/trash.html", {"entries": entries, "limit": TRASH_SHOWN})


@require_POST
@login_required
def restore(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    if not access.can_see_trash(request.user):
        raise PermissionDenied
    client: AnyClient = get_object_or_404(model_of_kind(kind).objects.deleted(), pk=client_id)  # type: ignore[assignment]
    try:
        client_restore(by=request.user, client=client)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("clients:trash")
    messages.success(request, _("%(client)s is back in the base.") % {"client": client.display_name})
    return redirect(client.get_absolute_url())


@login_required
def autocomplete(request: RapportRequest, kind: str) -> JsonResponse:
    """Companies or contacts matching a name fragment, phone or e-mail, for pickers (Tom Select)."""
    query = request.GET.get("q", "").strip()[:100]
    visible = access.clients_visible_to(request.user, model_of_kind(kind))
    exclude = request.GET.get("exclude", "")
    if exclude.isdigit():
        visible = visible.exclude(pk=int(exclude))
    found = find_clients(visible, query, limit=AUTOCOMPLETE_SIZE) if len(query) >= AUTOCOMPLETE_MIN_LENGTH else []
    return JsonResponse({"results": [{"value": client.pk, "text": client.display_name} for client in found]})


@login_required
def merge_client(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    """Pick the other record, compare the two, choose the values to keep, merge."""
    if not access.can_merge_clients(request.user):
        raise PermissionDenied
    survivor = client_for(request, kind, client_id)
    other_id = request.POST.get("other") or request.GET.get("other") or ""
    other = client_for(request, kind, int(other_id)) if other_id.isdigit() else None
    if other is not None and other.pk == survivor.pk:
        messages.error(request, _("Choose another record of the same kind to merge with."))
        other = None
    if request.method == "POST" and other is not None:
        take = [name for name in merge.MERGE_FIELDS[kind] if request.POST.get(f"keep_{name}") == "merged"]
        try:
            merge.client_merge(by=request.user, survivor=survivor, merged=other, take_from_merged=take)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(merged)s is merged into this record.") % {"merged": other.display_name})
            return redirect(survivor.get_absolute_url())
    context = {
        "client": survivor,
        "other": other,
        "differences": merge.merge_differences(survivor, other) if other is not None else [],
    }
    return render(request, "clients/client_merge.html", context)
