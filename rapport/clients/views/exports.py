"""Export a client list as it is filtered: every matching row the user may see, not just the page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from rapport.clients import exports, queries
from rapport.clients.models import Company, Contact
from rapport.clients.views.lists import list_state
from rapport.core.http import RapportRequest

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "vcf": "text/vcard; charset=utf-8",
}


def _export(request: RapportRequest, model: type[Company] | type[Contact], fmt: str) -> HttpResponseBase:
    if fmt not in FORMATS:
        return HttpResponseBadRequest(
            _("Unknown export format “%(format)s”: choose csv, xlsx or vcf.") % {"format": fmt[:20]},
            content_type="text/plain; charset=utf-8",
        )
    user = request.user
    state = list_state(user, model, request.GET)
    name = _("contacts") if state.kind == "contact" else _("companies")
    filename = f"{name}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    rows = queries.client_list(user, model, state.filters)
    if fmt == "vcf":
        # A vCard has its own fields, whatever columns the list shows.
        response: HttpResponseBase = StreamingHttpResponse(
            exports.streamed(exports.vcards(rows, state.kind)), content_type=FORMATS[fmt]
        )
    else:
        if fmt == "csv":
            response = StreamingHttpResponse(
                exports.streamed(exports.csv_lines(rows, state.columns)), content_type=FORMATS[fmt]
            )
        else:
            file = exports.xlsx_file(rows, state.columns, title=name)
            return FileResponse(file, as_attachment=True, filename=filename, content_type=FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


@login_required
def company_export(request: RapportRequest, fmt: str) -> HttpResponseBase:
    return _export(request, Company, fmt)


@login_required
def contact_export(request: RapportRequest, fmt: str) -> HttpResponseBase:
    return _export(request, Contact, fmt)
