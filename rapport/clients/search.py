"""Finding clients: by any fragment of a name, by a phone typed any way (or its last digits), by e-mail, by tax id.

Names are matched on ``search_text`` (names folded: lower case, accents removed) through
trigram indexes — FTS5 on SQLite, pg_trgm on PostgreSQL (migration 0003) — phones through
their reversed digits and tax ids through their unique index, so no search reads a whole
table.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connections, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import RawSQL

from rapport.clients.models import Company, Contact, ContactPoint, ContactPointKind
from rapport.core.phones import phone_search_key, prefix_range

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

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


# A search reads at most this many matches from each index before the access policy
# filters them: the cost of a very common fragment stops there (the user types on to
# narrow it), and no search walks a whole table. A contact point costs a row more to
# check than a name, and few candidates for a two-letter word qualify: smaller bounds.
MAX_CANDIDATES = 10_000
MAX_POINT_CANDIDATES = 2_000
MAX_WHOLE_WORD_CANDIDATES = 2_000
# Trigram indexes need three characters; a shorter word only narrows the matches of a
# longer one, or, alone, matches a whole word ("Lê", "Hồ", "Võ").
TRIGRAM = 3
SHORT_WORD = 2


@dataclass(frozen=True)
class _Source:
    """SQL listing ids of clients, as ``match_id``, and its parameters."""

    sql: str
    params: tuple[Any, ...]


def find_clients[M: (Company, Contact)](visible: QuerySet[M], query: str, *, limit: int) -> list[M]:
    """Up to ``limit`` visible clients the query finds by name, tax id, phone or e-mail, in the order found.

    Two queries: the first lists the ids (see ``_visible_matches``), the second loads them
    through ``visible`` with whatever it selects. Found first stays first, so a longer
    ``limit`` only adds to the end (pages of results do not overlap).
    """
    matches = _visible_matches(visible, query, limit=limit)
    if matches is None:
        return []
    with connections[visible.db].cursor() as cursor:
        cursor.execute(matches.sql, matches.params)
        ids = list(dict.fromkeys(row[0] for row in cursor.fetchall()))[:limit]
    if not ids:
        return []
    by_id = {client.pk: client for client in visible.filter(pk__in=ids).order_by()}
    return [by_id[pk] for pk in ids if pk in by_id]


def _visible_matches(visible: QuerySet[Any], query: str, *, limit: int) -> _Source | None:
    """SQL listing the ids of the first clients the query finds that ``visible`` lets through.

    It walks the indexes' matches (a trigram index, a phone's reversed digits, a tax id's
    unique index), checks each against ``visible`` (the access policy's queryset, with
    any filters of the caller) and stops at ``limit`` of them, so its cost follows the
    matches read (at most MAX_CANDIDATES per index), not the size of the base or of the
    user's book. One id may be listed twice (by its phone and its tax id); at most
    ``limit`` distinct ones come out. None when the query names nothing to look up.
    """
    connection = connections[visible.db]
    sources, narrowing = _sources(visible.model, query, connection)
    if not sources or limit < 1:
        return None
    # The access policy, checked per match: EXISTS (visible row with this id), correlated to the match.
    check = visible.filter(narrowing, pk=RawSQL("m.match_id", ())).order_by().values("pk")
    check_sql: str
    check_params: tuple[Any, ...]
    check_sql, check_params = _compiled(check, connection)
    listed = " UNION ALL ".join(
        f"SELECT match_id FROM ({source.sql}) AS s{n}"  # noqa: S608  (our SQL; values bound)
        for n, source in enumerate(sources)
    )
    # The candidates stream from the indexes and the LIMIT stops them (SQLite runs ``m`` as a
    # co-routine, PostgreSQL as a nested loop); the limit leaves room for an id listed twice.
    sql = f"SELECT m.match_id FROM ({listed}) AS m WHERE EXISTS ({check_sql}) LIMIT %s"  # noqa: S608  (our SQL; values bound)
    params = [param for source in sources for param in source.params] + [*check_params, limit * len(sources)]
    return _Source(sql, tuple(params))


def _sources(
    model: type[Company] | type[Contact], query: str, connection: BaseDatabaseWrapper
) -> tuple[list[_Source], Q]:
    """Where the query's matches are listed, and what else a match must satisfy (short words of a name)."""
    text = query.strip()
    sources = []
    points = _points_condition(text)
    if points is not None:
        owner = "company_id" if model is Company else "contact_id"
        owners = ContactPoint.objects.filter(points).exclude(**{owner: None}).order_by().values(match_id=F(owner))
        sources.append(_Source(*_compiled(owners[:MAX_POINT_CANDIDATES], connection)))
    if text.isdigit():
        # A tax id, from its first digits, through the unique index (whose condition the filter repeats).
        low, high = prefix_range(text)
        taxed = model.objects.filter(tax_id__gte=low, tax_id__lt=high, deleted_at__isnull=True).exclude(tax_id="")
        sources.append(_Source(*_compiled(taxed.order_by().values(match_id=F("pk"))[:MAX_CANDIDATES], connection)))
        return sources, Q()
    if "@" in text or not any(ch.isalpha() for ch in text):
        return sources, Q()
    words = [word for word in (LIKE_SPECIALS.sub("", word) for word in search_fold(text).split()) if word]
    names = _name_source(model, words, connection)
    if names is None:
        return sources, Q()
    source, narrowing = names
    return [*sources, source], narrowing


def _points_condition(text: str) -> Q | None:
    """Contact points the query names: a phone (any format, or its tail) or an e-mail (or its start)."""
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


def _containing(words: Iterable[str]) -> Q:
    condition = Q()
    for word in words:
        condition &= Q(search_text__contains=word)
    return condition


def _whole_word(word: str) -> Q:
    return (
        Q(search_text=word)
        | Q(search_text__startswith=f"{word} ")
        | Q(search_text__endswith=f" {word}")
        | Q(search_text__contains=f" {word} ")
    )


def _name_source(
    model: type[Company] | type[Contact], words: list[str], connection: BaseDatabaseWrapper
) -> tuple[_Source, Q] | None:
    """Candidates whose folded names hold every word, and what a candidate must satisfy besides.

    Words of three letters or more are looked up in the trigram index; shorter ones only
    narrow those matches. Without a longer word, the longest short one must be a whole
    word of the name, found through the trigrams it makes with a space before or after
    ("le " or " le"); such candidates are many and few qualify, hence their smaller bound.
    """
    indexed = [word for word in words if len(word) >= TRIGRAM]
    if indexed:
        match = " AND ".join(_fts_phrase(word) for word in indexed)
        wanted, others = _containing(indexed), _containing(word for word in words if len(word) < TRIGRAM)
        limit = MAX_CANDIDATES
    else:
        longest = max(words, key=len, default="")
        if len(longest) < SHORT_WORD:
            return None
        match = f"{_fts_phrase(longest + ' ')} OR {_fts_phrase(' ' + longest)}"
        wanted, others = _whole_word(longest), _containing(word for word in words if word != longest)
        limit = MAX_WHOLE_WORD_CANDIDATES
    if connection.vendor == "sqlite":
        # A trigram phrase is a substring match, answered from the FTS5 index alone (LIKE would
        # re-read every candidate's text), in rowid order, and read only as far as needed.
        fts = f"{model._meta.db_table}_fts"
        sql = f"SELECT rowid AS match_id FROM {fts} WHERE {fts} MATCH %s LIMIT {limit}"  # noqa: S608  (our table; values bound)
        return _Source(sql, (match,)), others if indexed else wanted & others
    # pg_trgm serves the wanted words exactly; a word shorter than a trigram would make it read
    # the whole index, so those are checked per candidate.
    rows = model.objects.filter(wanted).order_by().values(match_id=F("pk"))
    return _Source(*_compiled(rows[:limit], connection)), others


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _compiled(rows: QuerySet[Any, Any], connection: BaseDatabaseWrapper) -> tuple[str, tuple[Any, ...]]:
    """The SQL of a queryset and its parameters, to place inside a larger statement."""
    sql, params = rows.query.get_compiler(connection=connection).as_sql()
    return sql, tuple(params)


# ---- Bulk loads -----------------------------------------------------------------------------

SEARCHED_TABLES = (Company._meta.db_table, Contact._meta.db_table)


@contextmanager
def search_index_suspended(using: str = "default") -> Iterator[None]:
    """Stop maintaining the name-search indexes during a bulk load; rebuild them once at the end.

    Kept up to date row by row, the trigram indexes cost more than the inserts themselves;
    built once from the loaded tables they cost a fraction of that. SQLite: the FTS5
    triggers are dropped, then the FTS tables rebuilt and the triggers put back as they
    were. PostgreSQL: the trigram indexes are dropped, then created again as they were and
    the tables analysed. All in one transaction (a savepoint inside the caller's), so an
    error leaves the indexes as they were. Until the block ends, name search does not see
    the new rows; on PostgreSQL other sessions wait for these tables.
    """
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (%s, %s) "
                "AND name LIKE %s ESCAPE '\\'",
                [*SEARCHED_TABLES, "%\\_fts\\_%"],
            )
            saved = cursor.fetchall()
            for name, _ in saved:
                cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
            yield
            for table in SEARCHED_TABLES:
                fts = f"{table}_fts"
                cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")  # noqa: S608  (our table names)
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename IN (%s, %s) AND indexdef LIKE %s",
                [*SEARCHED_TABLES, "%gin_trgm_ops%"],
            )
            saved = cursor.fetchall()
            for name, _ in saved:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
            yield
            # Foreign keys are checked at commit: check them now, as an index cannot be built with checks pending.
            connection.check_constraints()
            # A GIN index builds much faster in memory; the setting lasts until the transaction ends.
            cursor.execute("SELECT set_config('maintenance_work_mem', '256MB', true)")
        else:
            saved = []
            yield
        for _, definition in saved:
            cursor.execute(definition)
        if connection.vendor == "postgresql":
            for table in SEARCHED_TABLES:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
