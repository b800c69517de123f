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


# Candidate ids are read from the indexes in chunks of this size, at most MAX_CHUNKS of them.
CANDIDATE_CHUNK = 2_000
MAX_CHUNKS = 5


def _words(query: str) -> list[str]:
    return [word for word in (LIKE_SPECIALS.sub("", word) for word in search_fold(query).split()) if word]


def _searches_names(query: str) -> bool:
    """Letters mean a name; bare digits may be a tax id; "345-67-89" is only a phone."""
    text = query.strip()
    return any(ch.isalpha() for ch in text) or text.isdigit()


def _name_candidates(model: type[Company] | type[Contact], word: str, *, after: int) -> list[int]:
    """The next CANDIDATE_CHUNK ids (above ``after``, ascending) whose folded names contain ``word``."""
    if connection.vendor == "sqlite" and len(word) >= 3:
        # The FTS5 trigram table answers LIKE '%word%' from its index, and walks rowids in order.
        fts = f"{model._meta.db_table}_fts"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid FROM {fts} WHERE search_text LIKE %s AND rowid > %s ORDER BY rowid LIMIT %s",  # noqa: S608  (our table name; values bound)
                [f"%{word}%", after, CANDIDATE_CHUNK],
            )
            return [row[0] for row in cursor.fetchall()]
    rows = model.objects.filter(search_text__contains=word, pk__gt=after).order_by("pk")
    return list(rows.values_list("pk", flat=True)[:CANDIDATE_CHUNK])


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


def find_clients[M: (Company, Contact)](visible: QuerySet[M], query: str, *, limit: int) -> list[M]:
    """Up to ``limit`` visible clients the query finds by name, tax id, phone or e-mail.

    Matches are listed from the indexes first (a phone's reversed digits, the name
    trigrams) in chunks and checked against the access policy by primary key, so the
    cost follows the matches, not the size of the base or of the user's book. A very
    common fragment stops after MAX_CHUNKS chunks: the user types on to narrow it.
    """
    model = visible.model
    owner_field = "company_id" if model is Company else "contact_id"
    primary_points = Prefetch("points", queryset=ContactPoint.objects.filter(is_primary=True), to_attr="primary_points")
    visible = visible.prefetch_related(primary_points)
    found: dict[int, M] = {}

    by_point = _points_condition(query)
    if by_point is not None:
        owners = ContactPoint.objects.filter(by_point).exclude(**{owner_field: None}).order_by()
        owner_ids = list(owners.values_list(owner_field, flat=True)[:CANDIDATE_CHUNK])
        for client in visible.filter(pk__in=owner_ids)[:limit]:
            found[client.pk] = client

    words = _words(query) if _searches_names(query) else []
    if words:
        longest = max(words, key=len)
        every_word = Q()
        for word in words:
            every_word &= Q(search_text__contains=word)
        after = 0
        for _ in range(MAX_CHUNKS):
            if len(found) >= limit:
                break
            candidates = _name_candidates(model, longest, after=after)
            if not candidates:
                break
            after = candidates[-1]
            for client in visible.filter(every_word, pk__in=candidates).exclude(pk__in=found)[: limit - len(found)]:
                found[client.pk] = client
    return list(found.values())
