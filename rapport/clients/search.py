"""Finding clients: by any fragment of a name, by a phone typed any way (or its last digits), by e-mail, by tax id.

Names are matched on ``search_text`` (names folded: lower case, accents removed) through
trigram indexes — FTS5 on SQLite, pg_trgm on PostgreSQL (migration 0003) — and phones
through their reversed digits, so no search reads a whole table.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

from rapport.clients.models import Company, Contact, ContactPoint, ContactPointKind
from rapport.core.phones import phone_search_key, prefix_range

if TYPE_CHECKING:
    from rapport.clients.services import AnyClient

LIKE_SPECIALS = re.compile(r"[%_\\]")


def search_fold(text: str) -> str:
    """Lower case without accents, so "Hoàng", "hoang" and "HOANG" meet (and "Фёдор" with "федор")."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().split())


def search_text_of(client: AnyClient) -> str:
    if isinstance(client, Company):
        parts = [client.name, client.tax_id]
    else:
        parts = [client.last_name, client.first_name, client.middle_name, client.tax_id]
    return search_fold(" ".join(part for part in parts if part))[:500]


def _name_condition(model: type[Company] | type[Contact], query: str) -> Q | None:
    words = [LIKE_SPECIALS.sub("", word) for word in search_fold(query).split()]
    words = [word for word in words if word]
    if not words:
        return None
    condition = Q()
    for word in words:
        if connection.vendor == "sqlite" and len(word) >= 3:
            # The FTS5 trigram table answers LIKE '%word%' from its index.
            fts = f"{model._meta.db_table}_fts"
            matches = RawSQL(f"SELECT rowid FROM {fts} WHERE search_text LIKE %s", [f"%{word}%"])  # noqa: S608, S611  (table name is ours, the word is bound)
            condition &= Q(id__in=matches)
        else:
            condition &= Q(search_text__contains=word)
    return condition


def _points_condition(query: str) -> Q | None:
    """Contact points the query names: a phone (any format, or its tail) or an e-mail (or its start)."""
    text = query.strip()
    if "@" in text:
        low, high = prefix_range(text.lower())
        return Q(kind=ContactPointKind.EMAIL, normalized__gte=low, normalized__lt=high)
    if text.startswith("+"):
        digits = re.sub(r"\D", "", text)
        if len(digits) >= 4:
            low, high = prefix_range("+" + digits)
            return Q(kind=ContactPointKind.PHONE, normalized__gte=low, normalized__lt=high)
        return None
    key = phone_search_key(text)
    if key is None:
        return None
    low, high = prefix_range(key)
    return Q(kind=ContactPointKind.PHONE, digits_reversed__gte=low, digits_reversed__lt=high)


def clients_matching[M: (Company, Contact)](visible: QuerySet[M], query: str) -> QuerySet[M]:
    """The visible clients the query finds by name, tax id, phone or e-mail."""
    model = visible.model
    owner_field = "company_id" if model is Company else "contact_id"
    conditions = Q(pk__in=[])
    by_name = _name_condition(model, query)
    if by_name is not None:
        conditions |= by_name
    by_point = _points_condition(query)
    if by_point is not None:
        point_owners = ContactPoint.objects.filter(by_point).values(owner_field)
        conditions |= Q(pk__in=point_owners)
    primary_points = Prefetch("points", queryset=ContactPoint.objects.filter(is_primary=True), to_attr="primary_points")
    return visible.filter(conditions).prefetch_related(primary_points)
