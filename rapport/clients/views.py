from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.accounts import access
from rapport.accounts.models import Role
from rapport.clients import queries, services, timeline
from rapport.clients.forms import ClientFilterForm, CompanyCreateForm, ContactCreateForm, TransferForm
from rapport.clients.models import ClientStatus, Company, Contact
from rapport.clients.services import AnyClient
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest


def _card_context(request: RapportRequest, client: AnyClient) -> dict[str, object]:
    user = request.user
    can_transfer = access.can_transfer_client(user, client)
    return {
        "transfer_form": TransferForm(user=user, initial={"to_user": client.owner}) if can_transfer else None,
        "can_take": client.status == ClientStatus.POOL and user.role in {Role.MANAGER, Role.HEAD},
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


def _client_for(request: RapportRequest, kind: str, client_id: int) -> AnyClient:
    if kind not in {"company", "contact"}:
        raise Http404
    if kind == "company":
        return access.company_for_user(request.user, client_id)
    return access.contact_for_user(request.user, client_id)


@require_POST
@login_required
def client_transfer(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    client = _client_for(request, kind, client_id)
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
        return redirect("clients:company-list" if kind == "company" else "clients:contact-list")
    return redirect(client.get_absolute_url())


@require_POST
@login_required
def client_take(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    client = _client_for(request, kind, client_id)
    try:
        services.client_take_from_pool(by=request.user, client=client)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(client)s is yours now.") % {"client": client.display_name})
    return redirect(client.get_absolute_url())


def _still_visible(request: RapportRequest, client: AnyClient) -> bool:
    return access.clients_visible_to(request.user, type(client)).filter(pk=client.pk).exists()


def _create(request: RapportRequest, kind: str) -> HttpResponse:
    form_class = CompanyCreateForm if kind == "company" else ContactCreateForm
    form = form_class(request.POST or None, user=request.user)
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
        request.user, phone=request.GET.get("phone", "")[:40], email=request.GET.get("email", "")[:254], name=name[:300]
    )
    return render(request, "clients/client_form.html#duplicates", {"duplicates": found})
