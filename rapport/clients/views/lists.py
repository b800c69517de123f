"""The company and contact lists."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from rapport.clients import queries
from rapport.clients.forms import ClientFilterForm
from rapport.clients.models import Company, Contact
from rapport.core.http import RapportRequest


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
