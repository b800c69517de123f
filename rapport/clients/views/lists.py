"""The company and contact lists: filters, chosen columns, saved views and bulk actions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect, push_url

from rapport.accounts.models import User
from rapport.clients import bulk_actions, queries, saved_views
from rapport.clients.columns import COLUMNS, ColumnChoice, columns_chosen
from rapport.clients.forms import BulkActionForm, ClientFilterForm, SavedViewForm, bulk_owners, bulk_owners_among
from rapport.clients.models import CLIENT_MODELS, Company, Contact
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest
from rapport.core.paging import page_number, with_page

DEFAULT_SORT = "last_contact"
BULK_ACTION_LABELS = {
    bulk_actions.OWNER: gettext_lazy("Assign owner"),
    bulk_actions.TAG: gettext_lazy("Add a tag"),
    bulk_actions.ACTIVE: gettext_lazy("Make active"),
    bulk_actions.FROZEN: gettext_lazy("Freeze"),
}


def kind_of(model: type[Company] | type[Contact]) -> str:
    return "contact" if model is Contact else "company"


def model_of_kind(kind: str) -> type[Company] | type[Contact]:
    """The model a URL's kind word names; any other word is a page that does not exist."""
    try:
        return CLIENT_MODELS[kind]
    except KeyError:
        raise Http404 from None


def list_url(kind: str, query: str = "") -> str:
    url = reverse("clients:contact-list" if kind == "contact" else "clients:company-list")
    return f"{url}?{query}" if query else url


@dataclass(frozen=True)
class ListState:
    """What a list shows, read from its query string: filters, columns, and that query in its shortest form."""

    kind: str
    model: type[Company] | type[Contact]
    form: ClientFilterForm
    filters: dict[str, Any]
    columns: ColumnChoice
    query: str  # filters, sort and columns, without the page: for links, exports and saved views


def list_state(user: User, model: type[Company] | type[Contact], data: QueryDict) -> ListState:
    """Parse a list's query string. A filter that is not valid for this user is reported and left out, never fatal."""
    kind = kind_of(model)
    form = ClientFilterForm(data, user=user, with_birthdays=kind == "contact")
    form.is_valid()
    # Only the valid fields are in cleaned_data: one bad filter does not drop the others.
    filters = {name: value for name, value in form.cleaned_data.items() if value not in (None, "")}
    columns = columns_chosen(kind, data.getlist("cols") if "cols" in data else None)
    query = QueryDict(mutable=True)
    for name in form.fields:
        if name in filters and not (name == "sort" and filters[name] == DEFAULT_SORT):
            query[name] = data.get(name, "")
    if columns.query_value:
        query["cols"] = columns.query_value
    return ListState(kind, model, form, filters, columns, query.urlencode(safe=","))


def _bulk_owners(user: User, form: ClientFilterForm) -> list[User]:
    if form.people is not None:
        return bulk_owners_among(user, form.people)
    return list(bulk_owners(user))


def _client_list(request: RapportRequest, model: type[Company] | type[Contact]) -> HttpResponse:
    user = request.user
    state = list_state(user, model, request.GET)
    number = page_number(request.GET)
    page = queries.client_page(queries.client_list(user, model, state.filters), number, state.columns)
    actions = bulk_actions.actions_for(user)
    detail = "clients:contact-detail" if state.kind == "contact" else "clients:company-detail"
    context = {
        "form": state.form,
        "page": page,
        "kind": state.kind,
        "is_contacts": state.kind == "contact",
        "title": _("Contacts") if state.kind == "contact" else _("Companies"),
        # Not "query": the layout's search box shows that one.
        "list_query": state.query,
        "columns": state.columns,
        "show": state.columns.shown,
        "available_columns": COLUMNS[state.kind],
        # Rows link to their cards by id: one reverse() for the page instead of one per row.
        "detail_prefix": reverse(detail, args=[0])[:-2],
        "bulk_actions": actions,
        "selectable": bool(actions),
        "bulk_owners": _bulk_owners(user, state.form) if bulk_actions.OWNER in actions else None,
        "bulk_limit": bulk_actions.BULK_LIMIT,
        "bulk_capped": page.total_capped or page.total > bulk_actions.BULK_LIMIT,
        # The name, the shown columns (a position is a line under the name), the selection box.
        "column_count": 1 + len([key for key in state.columns.keys if key != "position"]) + (1 if actions else 0),
    }
    if request.htmx and request.htmx.target == "client-table":
        html = render_to_string("clients/client_list.html#client-table", context, request)
        html += render_to_string("clients/client_list.html#list-tools", {**context, "oob": True}, request)
        response = HttpResponse(html)
        # The address bar shows the short form of the query, which is what bookmarks and saved views keep.
        return push_url(response, list_url(state.kind, with_page(state.query, page.number)))
    return render(request, "clients/client_list.html", context)


@login_required
def company_list(request: RapportRequest) -> HttpResponse:
    return _client_list(request, Company)


@login_required
def contact_list(request: RapportRequest) -> HttpResponse:
    return _client_list(request, Contact)


# ---- Saved views ------------------------------------------------------------------------------


@require_safe
@login_required
def saved_view_menu(request: RapportRequest, kind: str) -> HttpResponse:
    """The Views menu of a list, read when it is opened: my views, shared ones, and saving the current query."""
    user = request.user
    state = list_state(user, model_of_kind(kind), request.GET)
    views = list(saved_views.saved_views_for(user, kind))
    for view in views:
        view.can_delete = saved_views.can_delete_view(user, view)  # type: ignore[attr-defined]
    context = {
        "kind": kind,
        "list_query": state.query,
        "saved_views": views,
        "active_view": next((view for view in views if view.query == state.query), None),
        "can_share_views": saved_views.can_share_views(user),
        "view_form": SavedViewForm(initial={"query": state.query}),
    }
    return render(request, "clients/client_list.html#saved-views-menu", context)


@require_POST
@login_required
def saved_view_save(request: RapportRequest, kind: str) -> HttpResponse:
    model = model_of_kind(kind)
    form = SavedViewForm(request.POST)
    # Saved in its shortest form, with only the filters valid for the author.
    query = list_state(request.user, model, QueryDict(request.POST.get("query", ""))).query
    if form.is_valid():
        try:
            view = saved_views.saved_view_create(
                by=request.user,
                kind=kind,
                name=form.cleaned_data["name"],
                query=query,
                is_shared=form.cleaned_data["is_shared"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
            target = list_url(kind, view.query)
            return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
    if request.htmx:
        context = {"view_form": form, "kind": kind, "can_share_views": saved_views.can_share_views(request.user)}
        return render(request, "clients/client_list.html#saved-view-form", context, status=422)
    messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
    return redirect(list_url(kind, query))


@require_POST
@login_required
def saved_view_delete(request: RapportRequest, view_id: int) -> HttpResponse:
    view = saved_views.saved_view_for_user(request.user, view_id)
    model = model_of_kind(view.kind)  # a deal list's view is deleted from the deal list
    saved_views.saved_view_delete(by=request.user, view=view)
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    back = list_state(request.user, model, QueryDict(request.POST.get("query", ""))).query
    return redirect(list_url(view.kind, back))


# ---- Bulk actions -----------------------------------------------------------------------------


def _posted_ids(data: QueryDict) -> list[int]:
    ids = []
    for value in data.getlist("ids"):
        try:
            ids.append(int(value))
        except ValueError:
            continue  # not an id: nothing to find
    return ids


@require_POST
@login_required
def client_bulk(request: RapportRequest, kind: str) -> HttpResponseRedirect:
    model = model_of_kind(kind)
    user = request.user
    allowed = bulk_actions.actions_for(user)
    if request.POST.get("action") in BULK_ACTION_LABELS and request.POST["action"] not in allowed:
        raise PermissionDenied
    form = BulkActionForm(request.POST, user=user, actions=[(action, BULK_ACTION_LABELS[action]) for action in allowed])
    state = list_state(user, model, QueryDict(request.POST.get("query", "")))
    back = list_url(kind, with_page(state.query, page_number(request.POST)))
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return redirect(back)
    if form.cleaned_data["all_matching"]:
        rows = queries.client_list(user, model, state.filters)
        ids = list(rows.values_list("pk", flat=True)[: bulk_actions.BULK_LIMIT])
    else:
        ids = _posted_ids(request.POST)
    if not ids:
        messages.error(request, _("Select some clients first."))
        return redirect(back)
    result = bulk_actions.bulk_run(
        by=user,
        model=model,
        action=form.cleaned_data["action"],
        ids=ids,
        to_user=form.cleaned_data["to_user"],
        tag=form.cleaned_data["tag"],
    )
    (messages.success if result.changed else messages.warning)(request, result.message)
    return redirect(back)
