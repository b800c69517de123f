"""The Rapport API: /api/v1/ for programs, /api/docs for people.

Callers sign in with a Bearer token (``api.auth``) or, from the browser, with their
session (CSRF checked on unsafe methods). Errors answer as JSON ``{"detail": …}``: a
service's ValidationError is a 422 keyed by field, except a stale ``version`` (409),
PermissionDenied a 403 (with the reason the endpoint gave, if any), a record out of the
caller's scope a 404 — never a 500 for bad input. docs/api.md describes it for callers.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.security import django_auth

from rapport.activities.api import router as activities_router
from rapport.api.auth import BearerToken
from rapport.clients.api import router as clients_router
from rapport.sales.api import router as sales_router
from rapport.sales.api_products import router as products_router

api = NinjaAPI(
    title="Rapport API",
    version="1",
    urls_namespace="api",
    auth=[BearerToken(), django_auth],
    # The schema is for the company's own people and programs, not for the open internet.
    docs_decorator=login_required,
)
api.add_router("/v1/", clients_router)
api.add_router("/v1/", sales_router)
api.add_router("/v1/", products_router)
api.add_router("/v1/", "rapport.sales.api_orders.router")
api.add_router("/v1/", activities_router)
api.add_router("/v1/", "rapport.motivation.api.router")
api.add_router("/v1/", "rapport.motivation.api_quality.router")
api.add_router("/v1/", "rapport.motivation.api_reports.router")
api.add_router("/v1/", "rapport.motivation.api_bonus.router")
api.add_router("/v1/", "rapport.supervision.api_pool.router")
api.add_router("/v1/", "rapport.supervision.api_rules.router")
api.add_router("/v1/", "rapport.supervision.api_regularity.router")


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    if getattr(exc, "code", None) == "stale":
        # Someone saved the record since the caller read it: nothing is wrong with the input,
        # so a program can tell "reload and try again" (409) from "fix the request" (422).
        return api.create_response(request, {"detail": exc.messages[0]}, status=409)
    detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    # Services refuse without words; an endpoint may add the reason (clients.api.refused_because).
    return api.create_response(request, {"detail": str(exc) or "Permission denied."}, status=403)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found."}, status=404)
