"""Editing on the client card: details, phones and e-mails, tags, moving to the trash.

Each view answers an htmx request with the card region it changed (`client_detail.html#…`)
and a plain form post with a redirect back to the card, so the card also works without
JavaScript.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from rapport.accounts import access
from rapport.clients import services
from rapport.clients.card_forms import ClientEditForm, CompanyEditForm, ContactEditForm, PointForm, TagsForm
from rapport.clients.models import Company, ContactPoint
from rapport.clients.services import AnyClient
from rapport.clients.views.cards import card_context, client_for
from rapport.clients.views.lists import list_url
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest

# A change to these shows in the page title too: the whole card is reloaded.
TITLE_FIELDS = {"name", "last_name", "first_name", "middle_name", "status"}


def _edit_form(request: RapportRequest, client: AnyClient) -> ClientEditForm:
    form_class = CompanyEditForm if isinstance(client, Company) else ContactEditForm
    return form_class(request.POST if request.method == "POST" else None, client=client, user=request.user)


def _card_region(request: RapportRequest, client: AnyClient, region: str, **extra: object) -> HttpResponse:
    """The changed region for htmx; for a plain form post, back to the card."""
    if not request.htmx:
        return redirect(client.get_absolute_url())
    context = {**card_context(request, client), **extra}
    status = 422 if any(getattr(form, "errors", None) for form in extra.values()) else 200
    return render(request, f"clients/client_detail.html#{region}", context, status=status)


@login_required
def client_edit(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    client = client_for(request, kind, client_id)
    if not (access.can_edit_client(request.user, client) or access.can_edit_personal_data(request.user, client)):
        raise PermissionDenied
    form = _edit_form(request, client)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        try:
            if changes:
                client = services.client_update(
                    by=request.user, client=client, version=form.cleaned_data["version"], **changes
                )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if set(changes) & TITLE_FIELDS and request.htmx:
                return HttpResponseClientRefresh()
            return _card_region(request, client, "client-details")
    if not request.htmx:
        context = {**card_context(request, client), "edit_form": form}
        return render(request, "clients/client_detail.html", context, status=422 if form.errors else 200)
    return _card_region(request, client, "client-details", edit_form=form)


@login_required
def client_details(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    """The details or the phones as shown: what "Cancel" in an editor goes back to."""
    region = "client-points" if request.GET.get("region") == "points" else "client-details"
    return _card_region(request, client_for(request, kind, client_id), region)


def _point_for(request: RapportRequest, point_id: int) -> tuple[ContactPoint, AnyClient]:
    point = get_object_or_404(ContactPoint, pk=point_id)
    if point.company_id:
        return point, access.company_for_user(request.user, point.company_id)
    if point.contact_id:
        return point, access.contact_for_user(request.user, point.contact_id)
    raise Http404


@login_required
def point_add(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    """GET opens the form under the phones (drawn only when asked for: it costs every card view); POST adds."""
    client = client_for(request, kind, client_id)
    if not access.can_edit_personal_data(request.user, client):
        raise PermissionDenied
    form = PointForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_point_add(by=request.user, client=client, point=services.PointInput(**form.cleaned_data))
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return _card_region(request, client, "client-points")
    if not request.htmx:
        context = {**card_context(request, client), "point_form": form, "adding_point": True}
        return render(request, "clients/client_detail.html", context, status=422 if form.errors else 200)
    return _card_region(request, client, "client-points", point_form=form, adding_point=True)


@require_POST
@login_required
def point_update(request: RapportRequest, point_id: int) -> HttpResponse:
    point, client = _point_for(request, point_id)
    if not access.can_edit_personal_data(request.user, client):
        raise PermissionDenied
    form = PointForm(request.POST, initial={"kind": point.kind})
    form.fields["kind"].disabled = True
    if form.is_valid():
        try:
            services.contact_point_update(
                by=request.user,
                point=point,
                value=form.cleaned_data["value"],
                label=form.cleaned_data["label"],
                is_primary=form.cleaned_data["is_primary"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
    if form.errors:
        return _card_region(request, client, "client-points", editing_point=point.pk, editing_form=form)
    return _card_region(request, client, "client-points")


@login_required
def point_edit(request: RapportRequest, point_id: int) -> HttpResponse:
    """The row of one phone or e-mail turned into its editor."""
    point, client = _point_for(request, point_id)
    if not access.can_edit_personal_data(request.user, client):
        raise PermissionDenied
    form = PointForm(
        initial={"kind": point.kind, "value": point.value, "label": point.label, "is_primary": point.is_primary}
    )
    return _card_region(request, client, "client-points", editing_point=point.pk, editing_form=form)


@require_POST
@login_required
def point_remove(request: RapportRequest, point_id: int) -> HttpResponse:
    point, client = _point_for(request, point_id)
    services.contact_point_remove(by=request.user, point=point)
    return _card_region(request, client, "client-points")


@require_POST
@login_required
def client_tags(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    client = client_for(request, kind, client_id)
    form = TagsForm(request.POST)
    if form.is_valid():
        try:
            services.client_tags_set(by=request.user, client=client, names=form.names())
        except ValidationError as error:
            apply_validation_error(form, error)
    return _card_region(request, client, "client-tags", tags_form=form)


@require_POST
@login_required
def client_delete(request: RapportRequest, kind: str, client_id: int) -> HttpResponse:
    client = client_for(request, kind, client_id)
    services.client_delete(by=request.user, client=client)
    messages.success(request, _("%(client)s is in the trash.") % {"client": client.display_name})
    target = list_url(client.kind)
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
