"""Click-to-call, and the screen-pop's two ways to the browser: server-sent events, and a poll where they fail.

Both read the person's latest call from the database (``screen_pop``), so whichever process
took the PBX's event, any process can tell the browser. The stream asks the database a few
times a second and sends the panel when the call changed; it ends after STREAM_SECONDS and
the browser's EventSource reconnects, so a stream never outlives a deploy for long.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rapport.accounts import access
from rapport.core.http import RapportRequest
from rapport.telephony import services
from rapport.telephony.models import Extension
from rapport.telephony.screen_pop import State, pop_for, pop_state

POLL_SECONDS = 0.2
STREAM_SECONDS = 55
# Also how soon a stream whose browser left finds out (its next write fails) and ends.
KEEP_ALIVE_SECONDS = 5
# htmx's and our poller's word for "stop polling": this person has no extension.
STOP_POLLING = 286


def _panel(request: RapportRequest) -> str:
    return render_to_string("telephony/screen_pop.html", {"pop": pop_for(request.user)}, request=request)


def _takes_calls(request: RapportRequest) -> bool:
    user = request.user
    return access.can_log_activities(user) and Extension.objects.filter(user=user).exists()


@require_GET
@login_required
def screen_pop(request: RapportRequest) -> HttpResponse:
    """The panel as it is now (the poll); 286 tells a person without an extension's browser to stop asking."""
    if not _takes_calls(request):
        return HttpResponse(status=STOP_POLLING)
    return HttpResponse(_panel(request))


def _event(html: str) -> str:
    data = "\n".join(f"data: {line}" for line in html.strip().splitlines() or [""])
    return f"event: pop\n{data}\n\n"


def _stream(request: RapportRequest) -> Iterator[str]:
    # The browser reconnects half a second after the stream ends; the first answer is the panel as it is.
    yield "retry: 500\n\n"
    last: State | object = object()
    started = quiet_since = time.monotonic()
    while time.monotonic() - started < STREAM_SECONDS:
        state = pop_state(request.user)
        if state != last:
            last = state
            yield _event(_panel(request))
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > KEEP_ALIVE_SECONDS:
            yield ": still here\n\n"  # a comment: keeps proxies from closing an idle stream
            quiet_since = time.monotonic()
        time.sleep(POLL_SECONDS)


@require_GET
@login_required
def screen_pop_stream(request: RapportRequest) -> HttpResponseBase:
    if not _takes_calls(request):
        # 204 tells EventSource not to reconnect.
        return HttpResponse(status=204)
    response = StreamingHttpResponse(_stream(request), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


@require_POST
@login_required
def call_start(request: RapportRequest) -> JsonResponse:
    """Click-to-call: a tel: link clicked in Rapport. 204 when the person's PBX cannot originate: their device dials."""
    try:
        started = services.click_to_call(by=request.user, number=request.POST.get("number", ""))
    except services.ClickToCallUnavailableError:
        return JsonResponse({}, status=204)
    except PermissionDenied:
        return JsonResponse({"detail": _("You do not make calls in Rapport.")}, status=403)
    except ValidationError as error:
        return JsonResponse({"detail": " ".join(error.messages)}, status=400)
    message = _("Your phone (%(extension)s) rings first; pick up and Rapport's PBX dials %(number)s.") % {
        "extension": started.extension,
        "number": started.number,
    }
    return JsonResponse({"detail": message, "number": started.number})
