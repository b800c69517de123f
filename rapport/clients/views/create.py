"""New companies and contacts, with live duplicate hints."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from rapport.accounts import access
from rapport.clients import queries, services
from rapport.clients.forms import CompanyCreateForm, ContactCreateForm
from rapport.clients.services import AnyClient
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest


def _create(request: RapportRequest, kind: str) -> HttpResponse:
    if not access.can_create_clients(request.user):
        raise PermissionDenied
    form_class = CompanyCreateForm if kind == "company" else ContactCreateForm
    # "?phone=" prefills the phone: the screen-pop's "full form" for a caller nobody knows.
    form = form_class(request.POST or None, user=request.user, initial={"phone": request.GET.get("phone", "")[:40]})
    company = None
    if kind == "contact" and request.GET.get("company"):
        # "Add a person" on a company card: the contact joins that company.
        company = access.company_for_user(
            request.user, int(request.GET["company"]) if request.GET["company"].isdigit() else 0
        )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        phone, email, owner = data.pop("phone"), data.pop("email"), data.pop("owner")
        points = [services.PointInput(kind, value) for kind, value in (("phone", phone), ("email", email)) if value]
        try:
            if kind == "company":
                client: AnyClient = services.company_create(by=request.user, owner=owner, points=points, **data)
            else:
                client = services.contact_create(by=request.user, owner=owner, company=company, points=points, **data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("%(client)s is in the base.") % {"client": client.display_name})
            return redirect(client.get_absolute_url())
    context = {"form": form, "kind": kind, "company": company}
    return render(request, "clients/client_form.html", context, status=422 if form.errors else 200)


@login_required
def company_create(request: RapportRequest) -> HttpResponse:
    return _create(request, "company")


@login_required
def contact_create(request: RapportRequest) -> HttpResponse:
    return _create(request, "contact")


@login_required
def duplicates(request: RapportRequest) -> HttpResponse:
    """While a client is typed in: who is already in the base with this phone, e-mail or name."""
    name = " ".join(
        part
        for part in [
            request.GET.get("last_name", ""),
            request.GET.get("first_name", ""),
            request.GET.get("middle_name", ""),
        ]
        if part
    ) or request.GET.get("name", "")
    found = queries.possible_duplicates(
        request.user,
        phone=request.GET.get("phone", "")[:40],
        email=request.GET.get("email", "")[:254],
        name=name[:300],
        company_id=int(company) if (company := request.GET.get("company", "")).isdigit() else None,
    )
    return render(request, "clients/client_form.html#duplicates", {"duplicates": found})
