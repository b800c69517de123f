"""The telephony settings (admins): integrations, the secret shown once, the extension map.

Plain forms that post and come back with a message; every write is a service in
``telephony.services``, which checks the rights again.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.accounts import access
from rapport.core.forms import apply_validation_error
from rapport.core.http import RapportRequest, allowed_by
from rapport.telephony import services
from rapport.telephony.cdr import CdrError, CdrReport, cdr_import
from rapport.telephony.forms import CdrImportForm, ExtensionForm, IntegrationForm
from rapport.telephony.models import Extension, Integration

# A file with more bad rows than this is wrong as a whole: the first ones say how.
CDR_ERRORS_SHOWN = 50


# Signed in and allowed to configure this; anyone else gets 403.
_admin = allowed_by(access.can_configure_telephony)


def _webhook_url(request: RapportRequest, integration: Integration) -> str:
    return request.build_absolute_uri(reverse("telephony:call-events", args=[integration.name]))


def _secret_page(request: RapportRequest, integration: Integration, secret: str, *, created: bool) -> HttpResponse:
    """The one time the secret is shown: not stored in a message or the session, drawn in this answer only."""
    context = {
        "integration": integration,
        "secret": secret,
        "created": created,
        "webhook_url": _webhook_url(request, integration),
    }
    response = render(request, "telephony/integration_secret.html", context)
    response["Cache-Control"] = "no-store"
    return response


@_admin
def integration_list(request: RapportRequest) -> HttpResponse:
    integrations = Integration.objects.select_related("duty_manager").annotate(extension_count=Count("extensions"))
    rows = [(integration, _webhook_url(request, integration)) for integration in integrations]
    return render(request, "telephony/integration_list.html", {"rows": rows})


@_admin
def integration_create(request: RapportRequest) -> HttpResponse:
    form = IntegrationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            integration, secret = services.integration_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return _secret_page(request, integration, secret, created=True)
    status = 422 if form.errors else 200
    return render(request, "telephony/integration_form.html", {"form": form, "integration": None}, status=status)


def _edit_page(
    request: RapportRequest,
    integration: Integration,
    form: IntegrationForm,
    extension_form: ExtensionForm,
    status: int = 200,
    cdr_form: CdrImportForm | None = None,
    cdr_report: CdrReport | None = None,
) -> HttpResponse:
    context = {
        "integration": integration,
        "form": form,
        "extension_form": extension_form,
        "cdr_form": cdr_form or CdrImportForm(),
        "cdr_report": cdr_report,
        "cdr_errors_shown": cdr_report.errors[:CDR_ERRORS_SHOWN] if cdr_report else [],
        "extensions": integration.extensions.select_related("user").order_by("number"),
        "webhook_url": _webhook_url(request, integration),
    }
    return render(request, "telephony/integration_form.html", context, status=status)


@_admin
def integration_edit(request: RapportRequest, integration_id: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=integration_id)
    form = IntegrationForm(request.POST if request.method == "POST" else None, instance=integration)
    if request.method == "POST" and form.is_valid():
        try:
            services.integration_update(by=request.user, integration=integration, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Integration “%(name)s” saved.") % {"name": integration.name})
            return redirect("telephony:integration-list")
    return _edit_page(request, integration, form, ExtensionForm(), status=422 if form.errors else 200)


@require_POST
@_admin
def integration_secret_renew(request: RapportRequest, integration_id: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=integration_id)
    secret = services.integration_secret_renew(by=request.user, integration=integration)
    return _secret_page(request, integration, secret, created=False)


@require_POST
@_admin
def extension_add(request: RapportRequest, integration_id: int) -> HttpResponse:
    integration = get_object_or_404(Integration, pk=integration_id)
    extension_form = ExtensionForm(request.POST)
    if extension_form.is_valid():
        try:
            extension = services.extension_set(by=request.user, integration=integration, **extension_form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(extension_form, error)
        else:
            messages.success(
                request,
                _("Extension %(number)s rings for %(name)s.")
                % {"number": extension.number, "name": extension.user.display_name},
            )
            return redirect(f"{reverse('telephony:integration-edit', args=[integration.pk])}#extensions")
    return _edit_page(request, integration, IntegrationForm(instance=integration), extension_form, status=422)


@require_POST
@_admin
def extension_remove(request: RapportRequest, extension_id: int) -> HttpResponse:
    extension = get_object_or_404(Extension.objects.select_related("integration"), pk=extension_id)
    services.extension_remove(by=request.user, extension=extension)
    messages.success(request, _("Extension %(number)s removed.") % {"number": extension.number})
    return redirect(f"{reverse('telephony:integration-edit', args=[extension.integration_id])}#extensions")


@require_POST
@_admin
def cdr_upload(request: RapportRequest, integration_id: int) -> HttpResponse:
    """Import a CDR file; importing it again adds nothing, so there is no dry run: the report says what went in."""
    integration = get_object_or_404(Integration, pk=integration_id)
    cdr_form = CdrImportForm(request.POST, request.FILES)
    report = None
    if cdr_form.is_valid():
        # A caller's name in another encoding (old trunks) must not stop the import: it only blurs that name.
        text = cdr_form.cleaned_data["file"].read().decode("utf-8-sig", errors="replace")
        try:
            report = cdr_import(
                integration=integration, file=io.StringIO(text), mapping=cdr_form.cleaned_data["mapping"]
            )
        except CdrError as error:
            cdr_form.add_error("mapping", str(error))
    status = 422 if cdr_form.errors else 200
    return _edit_page(
        request,
        integration,
        IntegrationForm(instance=integration),
        ExtensionForm(),
        status=status,
        cdr_form=cdr_form if cdr_form.errors else CdrImportForm(),
        cdr_report=report,
    )
