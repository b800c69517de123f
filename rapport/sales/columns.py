"""The columns of the deal list (and of its exports), how they are read and how a row is drawn.

As on the client lists (rapport/clients/columns.py), the chosen columns travel in the query
string as ``cols=stage,amount`` and rows are read as plain values, joining only what the
chosen columns show. The title always shows; ``cols=title`` means the title alone.

Stages are not joined: every list reads the stages once for its filters (``StageBook``), and
a row's stage name and colour are looked up there by id.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import dateformat, numberformat, timezone
from django.utils.formats import get_format
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from rapport.sales.models import Stage

TITLE = "title"
PERSON = ("first_name", "last_name", "username")


def _person_fields(relation: str) -> tuple[str, ...]:
    return (f"{relation}_id", *(f"{relation}__{name}" for name in PERSON))


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    fields: tuple[str, ...] = ()  # the values() it needs, relations' fields included


# In the order they appear on screen and in exports, after the title.
COLUMNS: list[Column] = [
    Column(
        "client",
        _("Client"),
        ("company_id", "company__name", "contact_id", "contact__last_name", "contact__first_name"),
    ),
    Column("pipeline", _("Pipeline"), ("stage_id",)),
    Column("stage", _("Stage"), ("stage_id",)),
    Column("amount", _("Amount"), ("amount", "currency")),
    Column("owner", _("Owner"), _person_fields("owner")),
    Column("registrant", _("Registrant"), _person_fields("registrant")),
    Column("lead_source", _("Lead source"), ("lead_source__name",)),
    Column("next_step", _("Next step"), ("next_step", "next_step_at")),
    Column("expected_close", _("Expected close"), ("expected_close", "closed_at")),
    Column("created", _("Created"), ("created_at",)),
    Column("closed", _("Closed"), ("closed_at",)),
]
DEFAULT_COLUMNS: tuple[str, ...] = ("client", "stage", "amount", "owner", "expected_close", "created")
# Read for every row: the amount too, so that a short list adds itself up without another query.
TITLE_FIELDS = ("id", "title", "amount", "currency")


@dataclass(frozen=True)
class ColumnChoice:
    """The columns a list shows, and what was asked for that the list has not."""

    columns: list[Column]
    unknown: list[str]

    @property
    def keys(self) -> list[str]:
        return [column.key for column in self.columns]

    @property
    def shown(self) -> dict[str, bool]:
        return {column.key: True for column in self.columns}

    @property
    def query_value(self) -> str:
        """The ``cols`` value that brings these columns back ("" for the defaults)."""
        if tuple(self.keys) == DEFAULT_COLUMNS:
            return ""
        return ",".join(self.keys) or TITLE

    @property
    def fields(self) -> list[str]:
        return list(dict.fromkeys([*TITLE_FIELDS, *(field for column in self.columns for field in column.fields)]))


def columns_chosen(values: Iterable[str] | None) -> ColumnChoice:
    """The columns asked for by the ``cols`` values; None: the defaults. Unknown keys are reported, not fatal."""
    available = {column.key: column for column in COLUMNS}
    if values is None:
        return ColumnChoice([available[key] for key in DEFAULT_COLUMNS], [])
    asked = {part.strip() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(asked - set(available) - {TITLE})
    return ColumnChoice([column for column in COLUMNS if column.key in asked], unknown)


# ---- Reading rows ----------------------------------------------------------------------------


def _person(row: dict[str, Any], relation: str) -> str | None:
    # As User.display_name: the full name, else the username.
    if not row[f"{relation}_id"]:
        return None
    first, last, username = (row[f"{relation}__{name}"] for name in PERSON)
    return f"{first or ''} {last or ''}".strip() or (username or "")


def _finish(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        if "company_id" in row:
            if row["company_id"]:
                row["client"] = row["company__name"] or ""
            else:
                parts = (row["contact__last_name"], row["contact__first_name"])
                row["client"] = " ".join(part for part in parts if part)
        for relation in ("owner", "registrant"):
            if f"{relation}_id" in row:
                row[relation] = _person(row, relation)
        if "lead_source__name" in row:
            row["lead_source"] = row["lead_source__name"] or ""
    return rows


def read_rows(rows: QuerySet[Any], choice: ColumnChoice) -> list[dict[str, Any]]:
    """The rows of a (sliced) queryset as dicts: ``id``, ``title`` and what the chosen columns need."""
    return _finish(list(rows.values(*choice.fields)))


def iter_rows(rows: QuerySet[Any], choice: ColumnChoice, *, chunk_size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows.values(*choice.fields).iterator(chunk_size=chunk_size):
        batch.append(row)
        if len(batch) == chunk_size:
            yield _finish(batch)
            batch = []
    if batch:
        yield _finish(batch)


# ---- Drawing rows ----------------------------------------------------------------------------
# Built in Python, as the client lists' rows are: at 25 rows and up to 12 columns the template
# engine's per-node cost would be most of a page timed to 30 ms.

_escape = html.escape


class DealRows:
    """The <tr> of each row: the title linking to the deal's card, then the chosen columns."""

    def __init__(self, columns: ColumnChoice, stages: dict[int, Stage], detail_prefix: str) -> None:
        self.cells = [getattr(self, f"cell_{key}") for key in columns.keys]
        self.stages = stages
        self.detail_prefix = _escape(detail_prefix)
        self.today = timezone.localdate()
        # Formats looked up once a page: date_format() and number_format() look them up on every call.
        self.date_format = get_format("SHORT_DATE_FORMAT")
        self.dates: dict[date, str] = {}
        self.number = {
            "decimal_sep": get_format("DECIMAL_SEPARATOR"),
            "thousand_sep": get_format("THOUSAND_SEPARATOR"),
            "grouping": get_format("NUMBER_GROUPING"),
            "use_l10n": True,
            "force_grouping": True,  # amounts are read at a glance: 2,950,690 rather than 2950690
        }

    def render(self, rows: Iterable[dict[str, Any]]) -> SafeString:
        return mark_safe("".join(self.row(row) for row in rows))  # noqa: S308  (escaped piece by piece)

    def row(self, row: dict[str, Any]) -> str:
        pk, title = row["id"], _escape(row["title"])
        link = f'<a href="{self.detail_prefix}{pk}/" id="deal-{pk}" class="deal-link">{title}</a>'
        parts = [f'<tr><td class="client-name deal-title">{link}</td>']
        parts.extend(cell(row) for cell in self.cells)
        parts.append("</tr>")
        return "".join(parts)

    @staticmethod
    def _text(value: str | None, css: str = "") -> str:
        text = _escape(value) if value else ""
        return f'<td class="{css}">{text}</td>' if css else f"<td>{text}</td>"

    def _day(self, value: date) -> str:
        if value not in self.dates:
            self.dates[value] = _escape(dateformat.format(value, self.date_format))
        return self.dates[value]

    def _date(self, value: date | datetime | None, css: str = "text-nowrap") -> str:
        if value is None:
            return f'<td class="{css}"></td>'
        if isinstance(value, datetime):
            value = timezone.localtime(value).date()
        return f'<td class="{css}">{self._day(value)}</td>'

    def cell_client(self, row: dict[str, Any]) -> str:
        return self._text(row["client"], "deal-client")

    def cell_pipeline(self, row: dict[str, Any]) -> str:
        stage = self.stages.get(row["stage_id"])
        return self._text(stage.pipeline.name if stage else "")

    def cell_stage(self, row: dict[str, Any]) -> str:
        stage = self.stages.get(row["stage_id"])
        if stage is None:
            return "<td></td>"
        return f'<td><span class="badge bg-{stage.colour}-lt">{_escape(stage.name)}</span></td>'

    def cell_amount(self, row: dict[str, Any]) -> str:
        amount: Decimal | None = row["amount"]
        if amount is None:
            return '<td class="text-end text-nowrap"></td>'
        places = 0 if amount == amount.to_integral_value() else 2
        shown = _escape(numberformat.format(amount, decimal_pos=places, **self.number))
        currency = _escape(row["currency"])
        return f'<td class="text-end text-nowrap">{shown} <span class="text-secondary">{currency}</span></td>'

    def cell_owner(self, row: dict[str, Any]) -> str:
        return self._text(row["owner"], "text-nowrap")

    def cell_registrant(self, row: dict[str, Any]) -> str:
        return self._text(row["registrant"], "text-nowrap")

    def cell_lead_source(self, row: dict[str, Any]) -> str:
        return self._text(row["lead_source"])

    def cell_next_step(self, row: dict[str, Any]) -> str:
        step, when = row["next_step"], row["next_step_at"]
        due = ""
        if when is not None:
            css = "text-danger" if when < self.today else "text-secondary"
            due = f' <span class="{css} text-nowrap">{self._day(when)}</span>'
        return f"<td>{_escape(step)}{due}</td>"

    def cell_expected_close(self, row: dict[str, Any]) -> str:
        when = row["expected_close"]
        # An open deal past its expected close needs a new date or a decision.
        late = when is not None and when < self.today and row["closed_at"] is None
        return self._date(when, "text-nowrap text-danger" if late else "text-nowrap")

    def cell_created(self, row: dict[str, Any]) -> str:
        return self._date(row["created_at"])

    def cell_closed(self, row: dict[str, Any]) -> str:
        return self._date(row["closed_at"])
