"""An activity's own pages: planning or logging one, its page with the editor, marking it done, cancelling, deleting.

The page is one region (``activity_detail.html#activity-page``): the editor opens in place
and a save redraws the region, so the "mark as done" form under it carries the new version.
Marking done, cancelling and deleting are plain posts that come back to the page; after
marking done it offers the next step, prefilled.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from rapport.accounts import access
from rapport.accounts.models import User
from rapport.activities import services
from rapport.activities.forms import ActivityForm, due_preset
from rapport.activities.models import Activity, ActivityKind, ActivityStatus
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest

PAGE = "activities/activity_detail.html"
NEXT_STEP_DUE = "tomorrow"  # the next step after one done is due tomorrow at ten (forms.due_presets)


def _digits(request: RapportRequest, name: str) -> int | None:
    raw = request.GET.get(name, "")
    return int(raw) if raw.isdigit() else None


def _safe_next(request: RapportRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return target if target and allowed else None


# ---- Planning or logging one -----------------------------------------------------------------


def _prefill(request: RapportRequest) -> dict[str, Any]:
    """What the links bring: ``?company=``, ``?contact=``, ``?deal=``, ``?kind=``, ``?status=``, ``?due=`` (a preset),
    ``?due_at=`` (a calendar slot)
    and ``?after=`` (the activity this one follows up: its kind, client and deal come along). Unseen records are 404."""
    user = request.user
    initial: dict[str, Any] = {"owner": user.pk}
    after_id = _digits(request, "after")
    if after_id is not None:
        earlier = access.activity_for_user(user, after_id)
        initial.update(
            follow_up_of=earlier.pk,
            kind=earlier.kind,
            company=earlier.company_id,
            contact=earlier.contact_id,
            deal=earlier.deal_id,
            due_at=due_preset(NEXT_STEP_DUE),
        )
    deal_id = _digits(request, "deal")
    if deal_id is not None:
        deal = access.deal_for_user(user, deal_id)
        initial.update(deal=deal.pk, company=deal.company_id, contact=deal.contact_id)
    company_id, contact_id = _digits(request, "company"), _digits(request, "contact")
    if company_id is not None:
        initial["company"] = access.company_for_user(user, company_id).pk
    if contact_id is not None:
        contact = access.contact_for_user(user, contact_id)
        initial["contact"] = contact.pk
        if contact.company_id and company_id is None and deal_id is None:
            initial["company"] = contact.company_id
    if request.GET.get("kind") in ActivityKind.values:
        initial["kind"] = request.GET["kind"]
    if request.GET.get("status") in {ActivityStatus.PLANNED, ActivityStatus.DONE}:
        initial["status"] = request.GET["status"]
    due = due_preset(request.GET.get("due", ""))
    if due is not None:
        initial["due_at"] = due
    # A click on an empty slot of the calendar gives the slot's local time.
    slot = parse_datetime(request.GET.get("due_at", "") or "")
    if slot is not None:
        initial["due_at"] = timezone.make_aware(slot) if timezone.is_naive(slot) else slot
    initial.setdefault("kind", ActivityKind.CALL)
    return {name: value for name, value in initial.items() if value is not None}


def _back_url(user: User, initial: dict[str, Any]) -> str:
    """Where "Cancel" goes: the deal or the client the form was opened from."""
    if initial.get("deal"):
        return reverse("sales:deal-detail", args=[initial["deal"]])
    if initial.get("contact"):
        return reverse("clients:contact-detail", args=[initial["contact"]])
    if initial.get("company"):
        return reverse("clients:company-detail", args=[initial["company"]])
    return reverse("core:home")


@login_required
def activity_create(request: RapportRequest) -> HttpResponse:
    user = request.user
    if not access.can_log_activities(user):
        raise PermissionDenied
    initial = _prefill(request)
    form = ActivityForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        earlier_id = form.cleaned_data.get("follow_up_of")
        earlier = access.activity_for_user(user, earlier_id) if earlier_id else None
        try:
            activity = services.activity_create(by=user, follow_up_of=earlier, **form.create_arguments())
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if activity.status == ActivityStatus.DONE:
                messages.success(request, _("The %(kind)s is saved.") % {"kind": activity.get_kind_display().lower()})
            else:
                messages.success(request, _("The %(kind)s is planned.") % {"kind": activity.get_kind_display().lower()})
            return redirect(_safe_next(request) or activity.get_absolute_url())
    context = {"form": form, "back_url": _safe_next(request) or _back_url(user, initial), "next": _safe_next(request)}
    return render(request, "activities/activity_form.html", context, status=422 if form.errors else 200)


# ---- Its page ----------------------------------------------------------------------------------


def _links(user: User, activity: Activity) -> dict[str, bool]:
    """Link the client and the deal only where the user may open their cards."""
    everything = access.client_scope(user) == access.Scope.ALL and user.is_active
    return {
        "company_link": activity.company_id is not None
        and (everything or access.companies_visible_to(user).filter(pk=activity.company_id).exists()),
        "contact_link": activity.contact_id is not None
        and (everything or access.contacts_visible_to(user).filter(pk=activity.contact_id).exists()),
        "deal_link": activity.deal_id is not None
        and access.deals_visible_to(user).filter(pk=activity.deal_id).exists(),
    }


def _next_step_form(user: User, activity: Activity) -> ActivityForm:
    """The next step offered after one is done: same kind, client and deal, due tomorrow."""
    initial = {
        "follow_up_of": activity.pk,
        "kind": activity.kind,
        "status": ActivityStatus.PLANNED,
        "company": activity.company_id,
        "contact": activity.contact_id,
        "deal": activity.deal_id,
        "owner": user.pk,
        "due_at": due_preset(NEXT_STEP_DUE),
    }
    return ActivityForm(user=user, initial=initial, auto_id="next_%s")


def page_context(request: RapportRequest, activity: Activity, **forms: Any) -> dict[str, Any]:
    user = request.user
    can_edit = access.can_edit_activity(user, activity)
    planned = activity.status == ActivityStatus.PLANNED
    context: dict[str, Any] = {
        "activity": activity,
        "can_edit": can_edit,
        "can_plan": access.can_log_activities(user),
        "overdue": planned and activity.due_at is not None and activity.due_at < timezone.now(),
        "edit_form": None,
        "complete_form": None,
        "next_form": None,
        **_links(user, activity),
    }
    if can_edit and planned:
        context["complete_form"] = ActivityForm(user=user, activity=activity, only=ActivityForm.COMPLETE)
    if request.GET.get("next_step") and activity.status == ActivityStatus.DONE and context["can_plan"]:
        context["next_form"] = _next_step_form(user, activity)
    context.update(forms)
    return context


def _page(request: RapportRequest, activity: Activity, *, status: int = 200, **forms: Any) -> HttpResponse:
    template = f"{PAGE}#activity-page" if request.htmx else PAGE
    return render(request, template, page_context(request, activity, **forms), status=status)


def _editable(request: RapportRequest, activity_id: int) -> Activity:
    activity = access.activity_for_user(request.user, activity_id)  # 404 when out of sight
    if not access.can_edit_activity(request.user, activity):
        raise PermissionDenied
    return activity


@login_required
def activity_detail(request: RapportRequest, activity_id: int) -> HttpResponse:
    """Everything about the activity; ``?edit=1`` opens the editor, a POST saves it."""
    if request.method != "POST":
        activity = access.activity_for_user(request.user, activity_id)
        if request.GET.get("edit") and access.can_edit_activity(request.user, activity):
            return _page(
                request, activity, edit_form=ActivityForm(user=request.user, activity=activity, auto_id="edit_%s")
            )
        return _page(request, activity)
    activity = _editable(request, activity_id)
    form = ActivityForm(request.POST, user=request.user, activity=activity, auto_id="edit_%s")
    if form.is_valid():
        changes = form.changes()
        try:
            if changes:
                services.activity_update(
                    by=request.user, activity=activity, version=form.cleaned_data["version"], **changes
                )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if not request.htmx:
                messages.success(request, _("The changes are saved."))
                return redirect(activity.get_absolute_url())
            if {"kind", "subject"} & set(changes):
                return HttpResponseClientRefresh()  # the page's title names them
            return _page(request, access.activity_for_user(request.user, activity.pk))
    return _page(request, activity, status=422, edit_form=form)


@require_POST
@login_required
def activity_complete(request: RapportRequest, activity_id: int) -> HttpResponse:
    """Mark done with what the form adds; a refusal lists what is missing, each item linking to its field."""
    activity = _editable(request, activity_id)
    form = ActivityForm(request.POST, user=request.user, activity=activity, only=ActivityForm.COMPLETE)
    if form.is_valid():
        try:
            services.activity_complete(
                by=request.user, activity=activity, version=form.cleaned_data["version"], **form.changes()
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Done. What is the next step?"))
            target = f"{activity.get_absolute_url()}?next_step=1"
            return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
    return _page(request, activity, status=422, complete_form=form)


@require_POST
@login_required
def activity_cancel(request: RapportRequest, activity_id: int) -> HttpResponse:
    activity = _editable(request, activity_id)
    try:
        services.activity_cancel(by=request.user, activity=activity)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The %(kind)s is cancelled.") % {"kind": activity.get_kind_display().lower()})
    return redirect(activity.get_absolute_url())


@require_POST
@login_required
def activity_delete(request: RapportRequest, activity_id: int) -> HttpResponse:
    activity = _editable(request, activity_id)
    links = _links(request.user, activity)
    services.activity_delete(by=request.user, activity=activity)
    messages.success(request, _("The %(kind)s is deleted.") % {"kind": activity.get_kind_display().lower()})
    if links["deal_link"] and activity.deal is not None:
        target = activity.deal.get_absolute_url()
    elif links["contact_link"] and activity.contact is not None:
        target = activity.contact.get_absolute_url()
    elif links["company_link"] and activity.company is not None:
        target = activity.company.get_absolute_url()
    else:
        target = reverse("core:home")
    return HttpResponseClientRedirect(target) if request.htmx else redirect(target)


urlpatterns = [
    path("new/", activity_create, name="activity-create"),
    path("<int:activity_id>/", activity_detail, name="activity-detail"),
    path("<int:activity_id>/complete/", activity_complete, name="activity-complete"),
    path("<int:activity_id>/cancel/", activity_cancel, name="activity-cancel"),
    path("<int:activity_id>/delete/", activity_delete, name="activity-delete"),
]
