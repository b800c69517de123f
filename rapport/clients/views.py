from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from rapport.accounts import access
from rapport.clients import queries, timeline
from rapport.clients.forms import ClientFilterForm
from rapport.clients.models import Company, Contact
from rapport.clients.services import AnyClient
from rapport.core.http import RapportRequest


def _card_context(request: RapportRequest, client: AnyClient) -> dict[str, object]:
    user = request.user
    return {
        "client": client,
        "points": queries.points_of(client),
        "timeline": timeline.timeline_for(client),
        "transfers": queries.transfers_of(client),
        "history": queries.history_of(client),
        "can_edit": access.can_edit_client(user, client),
        "can_edit_personal": access.can_edit_personal_data(user, client),
    }


@login_required
def company_detail(request: RapportRequest, company_id: int) -> HttpResponse:
    company = access.company_for_user(request.user, company_id)
    context = _card_context(request, company)
    context["people"] = (
        access.contacts_visible_to(request.user).filter(company=company).order_by("last_name", "first_name", "id")
    )
    return render(request, "clients/client_detail.html", context)


@login_required
def contact_detail(request: RapportRequest, contact_id: int) -> HttpResponse:
    contact = access.contact_for_user(request.user, contact_id)
    context = _card_context(request, contact)
    # The company is shown by name; a link only where the user may open it.
    visible_company = contact.company_id is not None and (
        access.companies_visible_to(request.user).filter(pk=contact.company_id).exists()
    )
    context["company_link"] = visible_company
    return render(request, "clients/client_detail.html", context)


def _client_list(request: RapportRequest, model: type[Company] | type[Contact]) -> HttpResponse:
    is_contacts = model is Contact
    form = ClientFilterForm(request.GET or None, user=request.user, with_birthdays=is_contacts)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    page = queries.client_page(queries.client_list(request.user, model, filters), number)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "is_contacts": is_contacts,
        "query_string": query.urlencode(),
        "title": _("Contacts") if is_contacts else _("Companies"),
    }
    if request.htmx and request.htmx.target == "client-table":
        return render(request, "clients/client_list.html#client-table", context)
    return render(request, "clients/client_list.html", context)


@login_required
def company_list(request: RapportRequest) -> HttpResponse:
    return _client_list(request, Company)


@login_required
def contact_list(request: RapportRequest) -> HttpResponse:
    return _client_list(request, Contact)
