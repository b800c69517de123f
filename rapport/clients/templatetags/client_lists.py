"""Cheap pieces of the client lists, which are timed to 30 ms a page (see shared/DESIGN.md).

Django's widget templates render each <option> through a template of its own; for the
list's filters that cost more than the 25 rows under them. ``filter_field`` draws the same
markup as ``components/field.html`` in Python.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django import forms, template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rapport.activities.models import ActivityKind
from rapport.activities.timeline import ActivityUrls
from rapport.clients.columns import ColumnChoice, Point
from rapport.clients.models import ClientStatus

register = template.Library()

# The standard library's escape: Django's is the same plus a lazy-string check that costs
# more than the escaping at a few hundred calls a page. Only plain str goes in.
_escape = html.escape


def _options(field: forms.BoundField, value: str) -> str:
    choices = getattr(field.field, "choices", [])
    parts = []
    for choice, label in choices:
        key = "" if choice is None else str(choice)
        selected = " selected" if key == value else ""
        parts.append(f'<option value="{_escape(key)}"{selected}>{_escape(str(label))}</option>')
    return "".join(parts)


@register.simple_tag
def filter_field(field: forms.BoundField) -> SafeString:
    """A select or date filter with its label and error, as ``field_row`` draws it."""
    raw = field.value()
    value = "" if raw is None else str(raw)
    css = "form-select" if isinstance(field.field.widget, forms.Select) else "form-control"
    error = ""
    described = ""
    if field.errors:
        css += " is-invalid"
        described = format_html(' aria-invalid="true" aria-describedby="{}-error"', field.auto_id)
        error = format_html(
            '<div class="invalid-feedback d-block" id="{}-error">{}</div>',
            field.auto_id,
            " ".join(str(error) for error in field.errors),
        )
    if isinstance(field.field.widget, forms.Select):
        control = format_html(
            '<select name="{}" class="{}" id="{}"{}>{}</select>',
            field.html_name,
            css,
            field.auto_id,
            described,
            mark_safe(_options(field, value)),  # noqa: S308  (each part escaped in _options)
        )
    else:
        control = format_html(
            '<input type="{}" name="{}" value="{}" class="{}" id="{}"{}>',
            getattr(field.field.widget, "input_type", "text"),
            field.html_name,
            value,
            css,
            field.auto_id,
            described,
        )
    return format_html(
        '<div class="mb-3" id="field-{}"><label class="form-label" for="{}">{}</label>{}{}</div>',
        field.html_name,
        field.auto_id,
        field.label,
        control,
        error,
    )


@register.filter
def since(moment: datetime | None, today: date | None = None) -> str:
    """How long ago, in whole days or coarser: what a manager needs of a last contact, cheaper than naturaltime."""
    if moment is None:
        return ""
    today = today or timezone.localdate()
    days = (today - timezone.localtime(moment).date()).days
    if days < 0:
        return moment.date().isoformat()
    if days == 0:
        return _("today")
    if days == 1:
        return _("yesterday")
    if days < 31:
        return ngettext("%(count)d day ago", "%(count)d days ago", days) % {"count": days}
    if days < 365:
        months = days // 30
        return ngettext("%(count)d month ago", "%(count)d months ago", months) % {"count": months}
    years = days // 365
    return ngettext("%(count)d year ago", "%(count)d years ago", years) % {"count": years}


# ---- Table rows ------------------------------------------------------------------------------
# The rows are built here rather than in the template: at 25 rows and up to 13 columns the
# template engine's per-node cost was most of the page's time (the target is 30 ms a page).
# The markup of each column's cell is in ``ClientRows``; the table's header, the empty list
# and everything else stay in client_list.html.

STATUS_BADGES = {"active": "bg-green-lt", "pool": "bg-azure-lt", "frozen": "bg-secondary-lt"}


class ClientRows:
    """Draws the <tr> of each row (as columns.read_rows reads them): the bulk checkbox, the name
    linking to the card, the chosen columns. Words and today's date are looked up once a page."""

    def __init__(self, columns: ColumnChoice, detail_prefix: str, selectable: bool) -> None:
        # A contact's position is a second line under the name, as it always was, not a column of its own.
        self.position = "position" in columns.keys
        self.cells = [getattr(self, f"cell_{key}") for key in columns.keys if key != "position"]
        self.detail_prefix = _escape(detail_prefix)
        self.selectable = selectable
        self.today = timezone.localdate()
        self.statuses = {value: _escape(str(label)) for value, label in ClientStatus.choices}
        self.pool = format_html('<span class="text-secondary">{}</span>', _("the pool"))
        self.never = format_html('<span class="text-secondary">{}</span>', _("never"))
        self.no_next_step = format_html('<span class="badge bg-orange-lt no-next-step">{}</span>', _("No next step"))
        self.kinds = {value: _escape(str(label)) for value, label in ActivityKind.choices}
        self.activity_url = ActivityUrls()
        self.ago: dict[int, str] = {}

    def render(self, rows: Iterable[dict[str, Any]]) -> SafeString:
        return mark_safe("".join(self.row(row) for row in rows))  # noqa: S308  (escaped piece by piece)

    def row(self, row: dict[str, Any]) -> str:
        pk = row["id"]
        parts = ["<tr>"]
        if self.selectable:
            parts.append(
                f'<td><input type="checkbox" class="form-check-input m-0" name="ids" value="{pk}" data-bulk-row'
                f' aria-labelledby="client-{pk}"></td>'
            )
        position = (
            f'<div class="small text-secondary">{_escape(row["position"])}</div>'
            if self.position and row["position"]
            else ""
        )
        parts.append(
            f'<td class="client-name"><a href="{self.detail_prefix}{pk}/" id="client-{pk}" class="client-link">'
            f"{_escape(row['display_name'])}</a>{position}</td>"
        )
        parts.extend(cell(row) for cell in self.cells)
        parts.append("</tr>")
        return "".join(parts)

    @staticmethod
    def _text(value: str | None, css: str = "") -> str:
        text = _escape(value) if value else ""
        return f'<td class="{css}">{text}</td>' if css else f"<td>{text}</td>"

    @staticmethod
    def _point(point: Point | None, css: str = "") -> str:
        link = f'<a href="{_escape(point.href)}">{_escape(point.value)}</a>' if point else ""
        return f'<td class="{css}">{link}</td>' if css else f"<td>{link}</td>"

    @staticmethod
    def _date(value: date | datetime | None) -> str:
        if value is None:
            return '<td class="text-nowrap"></td>'
        if isinstance(value, datetime):
            value = timezone.localtime(value).date()
        return f'<td class="text-nowrap">{_escape(date_format(value, "SHORT_DATE_FORMAT"))}</td>'

    def cell_company(self, row: dict[str, Any]) -> str:
        return self._text(row["company"], "client-company")

    def cell_phone(self, row: dict[str, Any]) -> str:
        return self._point(row["phone"], "text-nowrap")

    def cell_email(self, row: dict[str, Any]) -> str:
        return self._point(row["email"])

    def cell_owner(self, row: dict[str, Any]) -> str:
        return f'<td class="text-nowrap">{_escape(row["owner"]) if row["owner"] else self.pool}</td>'

    def cell_status(self, row: dict[str, Any]) -> str:
        status = row["status"]
        return f'<td><span class="badge {STATUS_BADGES.get(status, "")}">{self.statuses.get(status, "")}</span></td>'

    def cell_last_contact(self, row: dict[str, Any]) -> str:
        moment = row["last_contact_at"]
        if moment is None:
            return f'<td class="text-nowrap">{self.never}</td>'
        local = timezone.localtime(moment)
        days = (self.today - local.date()).days
        if days not in self.ago:
            self.ago[days] = _escape(since(moment, self.today))
        title = _escape(date_format(local, "SHORT_DATETIME_FORMAT"))
        time_tag = f'<time datetime="{moment.isoformat()}" title="{title}">{self.ago[days]}</time>'
        return f'<td class="text-nowrap">{time_tag}</td>'

    def cell_next_step(self, row: dict[str, Any]) -> str:
        step = row["next_step"]
        if step is None:
            # Only an active client waits for one: a frozen client waits on purpose, the pool for an owner.
            return f'<td class="text-nowrap">{self.no_next_step if row["status"] == ClientStatus.ACTIVE else ""}</td>'
        local = timezone.localtime(step.at)
        overdue = ' class="text-danger"' if local.date() < self.today else ""
        label = _escape(step.subject or self.kinds.get(step.kind, ""))
        when = _escape(date_format(local, "SHORT_DATE_FORMAT"))
        # The date alone keeps the column narrow; what is planned shows on hover.
        url = self.activity_url.of(step.pk)
        return f'<td class="text-nowrap"><a href="{url}" title="{label}"{overdue}>{when}</a></td>'

    def cell_birthday(self, row: dict[str, Any]) -> str:
        return self._date(row["birthday"])

    def cell_lead_source(self, row: dict[str, Any]) -> str:
        return self._text(row["lead_source"])

    def cell_tags(self, row: dict[str, Any]) -> str:
        tags = "".join(f'<span class="badge bg-blue-lt me-1">{_escape(name)}</span>' for name in row["tags"])
        return f"<td>{tags}</td>"

    def cell_industry(self, row: dict[str, Any]) -> str:
        return self._text(row["industry"])

    def cell_tax_id(self, row: dict[str, Any]) -> str:
        return self._text(row["tax_id"], "text-nowrap")

    def cell_created(self, row: dict[str, Any]) -> str:
        return self._date(row["created_at"])


@register.simple_tag
def client_rows(
    rows: Iterable[dict[str, Any]], columns: ColumnChoice, detail_prefix: str, selectable: bool
) -> SafeString:
    """The list's table rows (see ClientRows)."""
    return ClientRows(columns, detail_prefix, selectable).render(rows)
