"""The call-event webhook: POST /telephony/<integration>/events, signed with the integration's secret."""

from __future__ import annotations

import json
import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from rapport.telephony import signing
from rapport.telephony.events import EventsError, events_from_json
from rapport.telephony.ingest import events_ingest
from rapport.telephony.models import Integration

log = logging.getLogger(__name__)


def _refused(status: int, reason: str, integration: str) -> JsonResponse:
    log.warning("telephony webhook %s refused (%s): %s", integration, status, reason)
    return JsonResponse({"detail": reason}, status=status)


@csrf_exempt  # a machine's POST, authenticated by its signature instead of a session
@require_POST
def call_events(request: HttpRequest, name: str) -> JsonResponse:
    integration = Integration.objects.filter(name=name, is_active=True).first()
    # An unknown or switched-off integration is refused as an unsigned request is: 401, nothing stored.
    problem = (
        signing.signature_problem(
            integration.secret,
            request.headers.get(signing.TIMESTAMP_HEADER),
            request.headers.get(signing.SIGNATURE_HEADER),
            request.body,
        )
        if integration is not None
        else "Unknown or inactive integration."
    )
    if problem or integration is None:
        return _refused(401, problem or "", name)
    try:
        events = events_from_json(json.loads(request.body))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _refused(400, "The body is not JSON.", name)
    except EventsError as bad:
        return _refused(400, str(bad), name)
    report = events_ingest(integration, events)
    return JsonResponse({"stored": report.stored, "replayed": report.replayed})
