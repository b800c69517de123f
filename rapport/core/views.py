from __future__ import annotations

from django.apps import apps as django_apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from rapport.accounts import access
from rapport.accounts.models import Role
from rapport.core import health, notifications
from rapport.core.http import RapportRequest
from rapport.core.models import Notification
from rapport.core.search import MIN_QUERY_LENGTH, search_everything

NOTIFICATIONS_PER_PAGE = 25


# People who sell start the day with their activities: their home page is "my day".
MY_DAY_ROLES = {Role.MANAGER, Role.HEAD, Role.AGENT}


@login_required
def home(request: RapportRequest) -> HttpResponse:
    user = request.user
    if user.role in MY_DAY_ROLES and django_apps.is_installed("rapport.activities"):
        from rapport.activities.views.my_day import my_day

        return my_day(request)
    teammates = access.people_visible_to(user).filter(team=user.team).exclude(pk=user.pk)[:12] if user.team_id else []
    recent = Notification.objects.for_user(user)[:5]
    context: dict[str, object] = {"teammates": teammates, "recent_notifications": recent}
    if access.can_see_system_status(user):
        context["status"] = health.system_status()
    return render(request, "core/home.html", context)


@login_required
def search(request: RapportRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    groups = search_everything(request.user, query)
    context = {"query": query, "groups": groups, "min_length": MIN_QUERY_LENGTH}
    if request.htmx:
        return render(request, "core/search.html#results", context)
    return render(request, "core/search.html", context)


@login_required
def notification_list(request: RapportRequest) -> HttpResponse:
    page = Paginator(Notification.objects.for_user(request.user), NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "core/notification_list.html", {"page": page})


@login_required
def notification_bell(request: RapportRequest) -> HttpResponse:
    """The bell and its dropdown, refreshed by htmx every minute."""
    latest = Notification.objects.for_user(request.user)[: notifications.BELL_SIZE]
    return render(request, "core/_bell.html", {"latest": latest, "unread": notifications.unread_count(request.user)})


@require_POST
@login_required
def notification_open(request: RapportRequest, notification_id: int) -> HttpResponse:
    try:
        notification = notifications.notification_mark_read(user=request.user, notification_id=notification_id)
    except Notification.DoesNotExist:
        raise Http404 from None
    target = notification.url
    if not target or not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect("core:notification-list")
    return redirect(target)


@require_POST
@login_required
def notifications_read_all(request: RapportRequest) -> HttpResponse:
    notifications.notifications_mark_all_read(user=request.user)
    if request.htmx:
        return notification_bell(request)
    return redirect("core:notification-list")


@login_required
def system_status(request: RapportRequest) -> HttpResponse:
    if not access.can_see_system_status(request.user):
        raise PermissionDenied
    return render(request, "core/system_status.html", {"status": health.system_status()})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and queue health for load balancers and monitors; 503 when something is wrong."""
    report = health.health_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)


@require_GET
def ping(request: HttpRequest) -> HttpResponse:
    """The trivial view `make bench` compares every operation with."""
    return HttpResponse("pong", content_type="text/plain")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)
