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


def _event(item: Any, icons: dict[str, str]) -> str:
    entry = getattr(item, "entry", item)
    if entry.icon not in icons:
        icons[entry.icon] = str(icon(entry.icon))
    at = timezone.localtime(entry.at)
    title = _escape(entry.title)
    exact, ago = _escape(date_format(at, "SHORT_DATETIME_FORMAT")), _escape(str(naturaltime(entry.at)))
    if entry.url:
        title = f'<a href="{_escape(entry.url)}">{title}</a>'
    parts = [
        f'<li class="timeline-event" data-kind="{_escape(entry.kind)}">',
        f'<div class="timeline-event-icon bg-primary-lt">{icons[entry.icon]}</div>',
        '<div class="card timeline-event-card"><div class="card-body">',
        '<div class="d-flex flex-wrap justify-content-between column-gap-3">',
        f'<h4 class="mb-1">{title}</h4>',
        f'<div class="text-secondary small"><time datetime="{at.isoformat()}" title="{exact}">{ago}</time></div>',
        "</div>",
    ]
    if entry.body:
        parts.append(f'<p class="text-secondary mb-1">{_escape(entry.body)}</p>')
    parts.extend(_change(change) for change in getattr(item, "changes", ()))
    if entry.by:
        parts.append(f'<div class="small text-secondary">{_escape(entry.by)}</div>')
    parts.append("</div></div></li>")
    return "".join(parts)


@register.simple_tag
def timeline_events(items: Iterable[Any]) -> SafeString:
    icons: dict[str, str] = {}  # each icon's markup drawn once a timeline (it looks up the static file's name)
    return mark_safe("".join(_event(item, icons) for item in items))  # noqa: S308  (every value above is escaped)
