"""The deal list: filters, chosen columns, saved views and the export of what it matches."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect, push_url

from rapport.clients import saved_views
from rapport.clients.exports import streamed
from rapport.clients.forms import SavedViewForm
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest
from rapport.core.paging import page_number, with_page
from rapport.sales import exports
from rapport.sales.columns import COLUMNS, DealRows
from rapport.sales.lists import deal_list, deal_page, list_state

KIND = "deal"  # the deal list's saved views, beside the client lists' "company" and "contact"
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def list_url(query: str = "") -> str:
    url = reverse("sales:deal-list")
    return f"{url}?{query}" if query else url


@require_safe
@login_required
def deal_list_view(request: RapportRequest) -> HttpResponse:
    user = request.user
    state = list_state(user, request.GET)
    page = deal_page(deal_list(user, state.filters), page_number(request.GET), state.columns)
    # Rows link to their cards by id: one reverse() for the page instead of one per row.
    detail_prefix = reverse("sales:deal-detail", args=[0])[:-2]
    context = {
        "form": state.form,
        "page": page,
        "rows": DealRows(state.columns, state.stages.stages, detail_prefix).render(page.rows),
        # Not "query": the layout's search box shows that one.
        "list_query": state.query,
        "columns": state.columns,
        "show": state.columns.shown,
        "available_columns": COLUMNS,
        "column_count": 1 + len(state.columns.columns),
        "kind": KIND,
    }
    if request.htmx and request.htmx.target == "deal-table":
        html = render_to_string("sales/deal_list.html#deal-table", context, request)
        html += render_to_string("sales/deal_list.html#list-tools", {**context, "oob": True}, request)
        # The address bar shows the short form of the query, which is what bookmarks and saved views keep.
        return push_url(HttpResponse(html), list_url(with_page(state.query, page.number)))
    return render(request, "sales/deal_list.html", context)


# ---- Saved views ------------------------------------------------------------------------------


@require_safe
@login_required
def deal_view_menu(request: RapportRequest) -> HttpResponse:
    """The Views menu, read when it is opened: my views, shared ones, and saving the current query."""
    user = request.user
    query = list_state(user, request.GET).query
    views = list(saved_views.saved_views_for(user, KIND))
    for view in views:
        view.can_delete = saved_views.can_delete_view(user, view)  # type: ignore[attr-defined]
    context = {
        "list_query": query,
        "saved_views": views,
        "active_view": next((view for view in views if view.query == query), None),
        "can_share_views": saved_views.can_share_views(user),
        "view_form": SavedViewForm(initial={"query": query}),
    }
    return render(request, "sales/deal_list.html#saved-views-menu", context)


@require_POST
@login_required
def deal_view_save(request: RapportRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    # Saved in its shortest form, with only the filters valid for the author.
    query = list_state(request.user, QueryDict(request.POST.get("query", ""))).query
    if form.is_valid():
        try:
            view = saved_views.saved_view_create(
                by=request.user,
                kind=KIND,
                name=form.cleaned_data["name"],
                query=query,
                is_shared=form.cleaned_data["is_shared"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
            target = list_url(view.query)
            return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
    if request.htmx:
        context = {"view_form": form, "can_share_views": saved_views.can_share_views(request.user)}
        return render(request, "sales/deal_list.html#saved-view-form", context, status=422)
    messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
    return redirect(list_url(query))


@require_POST
@login_required
def deal_view_delete(request: RapportRequest, view_id: int) -> HttpResponse:
    view = saved_views.saved_view_for_user(request.user, view_id)
    if view.kind != KIND:
        raise Http404
    saved_views.saved_view_delete(by=request.user, view=view)
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return redirect(list_url(list_state(request.user, QueryDict(request.POST.get("query", ""))).query))


# ---- Export -----------------------------------------------------------------------------------


@require_safe
@login_required
def deal_export(request: RapportRequest, fmt: str) -> HttpResponseBase:
    """Every deal the list matches that the user may see, with the columns shown: not just the page."""
    if fmt not in FORMATS:
        return HttpResponseBadRequest(
            _("Unknown export format “%(format)s”: choose csv or xlsx.") % {"format": fmt[:20]},
            content_type="text/plain; charset=utf-8",
        )
    user = request.user
    state = list_state(user, request.GET)
    filename = f"{_('deals')}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    rows = deal_list(user, state.filters)
    if fmt == "xlsx":
        file = exports.xlsx_file(rows, state.columns, state.stages.stages, title=_("Deals"))
        return FileResponse(file, as_attachment=True, filename=filename, content_type=FORMATS[fmt])
    lines = exports.csv_lines(rows, state.columns, state.stages.stages)
    response = StreamingHttpResponse(streamed(lines), content_type=FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
