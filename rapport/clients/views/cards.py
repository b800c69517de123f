from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.accounts import access
from rapport.accounts.models import Role, User
from rapport.activities.next_steps import next_step_of
from rapport.activities.views.quick_log import quick_log_for
from rapport.clients import queries, services, timeline
from rapport.clients.card_forms import TagsForm
from rapport.clients.card_panels import card_panels
from rapport.clients.forms import TransferForm
from rapport.clients.models import ClientStatus, Company, Contact, Tag
from rapport.clients.services import AnyClient
from rapport.clients.views.lists import list_url, model_of_kind
from rapport.core.http import RapportRequest
from rapport.motivation.quality import client_quality
from rapport.sales.queries import CLIENT_DEALS_SHOWN, deals_of_client
from rapport.supervision.pool import pool_claim

# Existing tags offered while typing one (alphabetically, at most this many).
TAG_SUGGESTIONS = 200


def card_context(request: RapportRequest, client: AnyClient) -> dict[str, object]:
    """What every region of the card needs; the htmx views render one region from it."""
    user = request.user
    can_transfer = access.can_transfer_client(user, client)
    can_edit = access.can_edit_client(user, client)
    tags = sorted(client.tags.all(), key=lambda tag: tag.name.lower())
    points = queries.points_of(client)
    next_step = next_step_of(client)
    return {
        "transfer_form": TransferForm(user=user, initial={"to_user": client.owner}) if can_transfer else None,
        "can_take": client.status == ClientStatus.POOL and user.role in {Role.MANAGER, Role.HEAD},
        "client": client,
        "points": points,
        "timeline": timeline.timeline_for(client, viewer=user),
        "tags": tags,
        "tag_names": list(Tag.objects.values_list("name", flat=True)[:TAG_SUGGESTIONS]) if can_edit else [],
        # A contact's company is shown by name; a link only where the user may open it.
        "company_link": isinstance(client, Contact)
        and client.company_id is not None
        and access.companies_visible_to(user).filter(pk=client.company_id).exists(),
        "tags_form": TagsForm(initial={"tags": ", ".join(tag.name for tag in tags)}) if can_edit else None,
        "can_edit": can_edit,
        "can_edit_personal": access.can_edit_personal_data(user, client),
        "can_delete": can_edit and user.role != Role.AGENT,
        "can_merge": access.can_merge_clients(user),
        "can_create": access.can_create_clients(user),
        # Calls logged by their outcome, for those who log activities (two queries: the outcomes, a recorded call).
        "quick_log": quick_log_for(user, client),
        "next_step": next_step,
        # The Details header's badge: checked on the phones and next step read above (no query of its own).
        "quality": client_quality(client, points=points, next_step=next_step),
        "can_plan": access.can_log_activities(user),
        **_deals_panel(user, client),
        # Other apps' panels (supervision, sales): registered with clients.card_panels.
        "side_panels": card_panels(request, client, "side"),
        "main_panels": card_panels(request, client, "main"),
    }


def _deals_panel(user: User, client: AnyClient) -> dict[str, object]:
    """The client's deals the user may see (open first), capped; "all deals" opens the deal list."""
    deals = deals_of_client(user, client)
    return {
        "deals": deals[:CLIENT_DEALS_SHOWN],
        "more_deals": len(deals) > CLIENT_DEALS_SHOWN,
        "can_create_deals": access.can_create_deals(user),
    }


@login_required
def company_detail(request: RapportRequest, company_id: int) -> HttpResponse:
    company = access.company_for_user(request.user, company_id)
    context = card_context(request, company)
    context["people"] = (
        access.contacts_visible_to(request.user).filter(company=company).order_by("last_name", "first_name", "id")
    )
    return render(request, "clients/client_detail.html", context)


@login_required
def contact_detail(request: RapportRequest, contact_id: int) -> HttpResponse:
    contact = access.contact_for_user(request.user, contact_id)
    context = card_context(request, contact)
    return render(request, "clients/client_detail.html", context)


# The card's tabs beyond the timeline load when first opened: most visits never open them.
@login_required
def client_transfers(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    client = client_for(request, kind, client_id)
    context = {"client": client, "transfers": queries.transfers_of(client)}
    return render(request, "clients/client_detail.html#client-transfers", context)


@login_required
def client_changes(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    client = client_for(request, kind, client_id)
    context = {"client": client, "history": queries.history_of(client)}
    return render(request, "clients/client_detail.html#client-changes", context)


def client_for(request: RapportRequest, kind: str, client_id: int) -> AnyClient:
    if model_of_kind(kind) is Company:
        return access.company_for_user(request.user, client_id)
    return access.contact_for_user(request.user, client_id)


@require_POST
@login_required
def client_transfer(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    client = client_for(request, kind, client_id)
    form = TransferForm(request.POST, user=request.user)
    if not access.can_transfer_client(request.user, client):
        raise PermissionDenied
    if form.is_valid():
        try:
            services.client_transfer(
                by=request.user, client=client, to_user=form.cleaned_data["to_user"], reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(client)s has a new owner.") % {"client": client.display_name})
    else:
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
    if not _still_visible(request, client):
        return redirect(list_url(client.kind))
    return redirect(client.get_absolute_url())


@require_POST
@login_required
def client_take(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    client = client_for(request, kind, client_id)
    try:
        # The pool's own service: its weekly limit applies here as on the pool's page.
        pool_claim(by=request.user, client=client)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(client)s is yours now.") % {"client": client.display_name})
    return redirect(client.get_absolute_url())


def _still_visible(request: RapportRequest, client: AnyClient) -> bool:
    return access.clients_visible_to(request.user, type(client)).filter(pk=client.pk).exists()
