"""The timeline's entries drawn in Python: the client card shows fifty of them and is timed to 40 ms.

Through the template language each entry cost a dozen node renders; here it is one string.
The markup is Tabler's timeline, shared by the client card and the deal card. An item is a
``clients.timeline.TimelineEntry``, or anything with such an ``entry`` and ``changes``
(field, old, new) to list under it, as the deal's timeline gives.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from rapport.core.templatetags.rapport import icon

register = template.Library()
_escape = html.escape


def _change(change: Any) -> str:
    old = _escape(str(change.old)) if change.old not in (None, "") else "—"
    new = _escape(str(change.new)) if change.new not in (None, "") else "—"
    return (
        f'<div class="small"><strong>{_escape(str(capfirst(change.field)))}</strong>: '
        f'<span class="text-secondary text-decoration-line-through">{old}</span> → {new}</div>'
    )


def _event(item: Any, icons: dict[str, str], oob: bool = False) -> str:
    entry = getattr(item, "entry", item)
    if entry.icon not in icons:
        icons[entry.icon] = str(icon(entry.icon))
    at = timezone.localtime(entry.at)
    title = _escape(entry.title)
    exact, ago = _escape(date_format(at, "SHORT_DATETIME_FORMAT")), _escape(str(naturaltime(entry.at)))
    if entry.url:
        title = f'<a href="{_escape(entry.url)}">{title}</a>'
    element_id = f' id="timeline-{_escape(entry.key)}"' if entry.key else ""
    swap = ' hx-swap-oob="true"' if oob and entry.key else ""
    parts = [
        f'<li class="timeline-event" data-kind="{_escape(entry.kind)}"{element_id}{swap}>',
        f'<div class="timeline-event-icon bg-primary-lt">{icons[entry.icon]}</div>',
        '<div class="card timeline-event-card"><div class="card-body">',
        '<div class="d-flex flex-wrap justify-content-between column-gap-3">',
        f'<h4 class="mb-1">{title}{_badge(entry.badge)}</h4>',
        f'<div class="text-secondary small"><time datetime="{at.isoformat()}" title="{exact}">{ago}</time></div>',
        "</div>",
    ]
    if entry.body:
        parts.append(f'<p class="text-secondary mb-1">{_escape(entry.body)}</p>')
    if entry.recording_url:
        parts.append(
            f'<div class="mb-1"><a href="{_escape(entry.recording_url)}" class="timeline-recording" target="_blank" '
            f'rel="noopener">{_escape(str(_("Listen to the recording")))}</a></div>'
        )
    parts.extend(_change(change) for change in getattr(item, "changes", ()))
    if entry.by:
        parts.append(f'<div class="small text-secondary">{_escape(entry.by)}</div>')
    parts.append("</div></div></li>")
    return "".join(parts)


def _badge(text: str) -> str:
    return f' <span class="badge bg-warning-lt ms-1 timeline-badge">{_escape(text)}</span>' if text else ""


@register.simple_tag
def timeline_events(items: Iterable[Any], oob: bool = False) -> SafeString:
    """The entries as list items; ``oob``: each keyed one replaces its drawn self (an htmx out-of-band swap)."""
    icons: dict[str, str] = {}  # each icon's markup drawn once a timeline (it looks up the static file's name)
    return mark_safe("".join(_event(item, icons, oob) for item in items))  # noqa: S308  (every value above is escaped)
