"""Fast inserts and updates of many rows, for demo data, imports and the telephony's batches.

Django's bulk_create spends ~50 µs a row building model instances and SQL; at data set
M's millions of rows that is most of the time. Here rows are plain tuples: COPY on
PostgreSQL, one executemany on SQLite. Columns left out get the field's default,
computed once. Nothing here checks anything: callers pass rows they have validated.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.utils import timezone

Converter = Callable[[Any], Any]
# Distinct date and time values adapted once per load (see _converter).
CONVERTED_VALUES = 1 << 16
# Bound values in one UPDATE of update_rows: far below SQLite's limit, and a statement PostgreSQL plans at once.
VALUES_PER_UPDATE = 2_000


def _sqlite_moment(value: Any) -> Any:
    """What Django's SQLite backend stores for a moment (its UTC time as text), without its checks for the
    usual case of a UTC moment: millions of distinct times (activities) made that adapter a good part of a load."""
    if isinstance(value, datetime) and value.tzinfo is UTC:
        return str(value.replace(tzinfo=None))
    return connection.ops.adapt_datetimefield_value(value)


def _converter(field: models.Field[Any, Any]) -> Converter | None:
    # Loads repeat the same dates and times (the load's "now", a few hundred creation days):
    # each distinct value is adapted once, not once per row.
    if isinstance(field, models.DateTimeField):
        if connection.vendor == "sqlite" and settings.USE_TZ and connection.timezone is UTC:
            return _sqlite_moment
        return functools.lru_cache(maxsize=CONVERTED_VALUES)(connection.ops.adapt_datetimefield_value)
    if isinstance(field, models.DateField):
        return functools.lru_cache(maxsize=CONVERTED_VALUES)(connection.ops.adapt_datefield_value)
    return None


def _default(field: models.Field[Any, Any]) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return timezone.now()
    return field.get_default()


def bulk_insert(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``, field names or ``<fk>_id``); return how many.

    ``rows`` may be a generator, but it must not query the database: on PostgreSQL it is
    consumed inside a COPY, which holds the connection.
    """
    meta = model._meta
    by_name = {**{field.name: field for field in meta.concrete_fields}, **{f.attname: f for f in meta.concrete_fields}}
    given = [by_name[name] for name in columns]
    defaults = [field for field in meta.concrete_fields if field not in given and not field.primary_key]
    fields = [*given, *defaults]
    constants = tuple(field.get_db_prep_save(_default(field), connection) for field in defaults)
    converted = [(index, convert) for index, convert in enumerate(map(_converter, given)) if convert is not None]
    quote = connection.ops.quote_name
    column_list = ", ".join(quote(str(field.column)) for field in fields)

    def prepared() -> Iterable[tuple[Any, ...]]:
        # Only the few date columns are touched: a pass over every value of every row costs seconds at scale M.
        for row in rows:
            if len(row) != len(given):
                raise ValueError(f"a row of {len(row)} values for {len(given)} columns: {row!r}")
            values = list(row)
            for index, convert in converted:
                if values[index] is not None:
                    values[index] = convert(values[index])
            yield (*values, *constants)

    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({column_list}) FROM STDIN") as copy:
                for values in prepared():
                    copy.write_row(values)
                    count += 1
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            batch: list[tuple[Any, ...]] = []
            sql = f"INSERT INTO {quote(meta.db_table)} ({column_list}) VALUES ({placeholders})"  # noqa: S608  (names quoted, values bound)
            for values in prepared():
                batch.append(values)
                if len(batch) >= 10_000:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
    return count


def update_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    also: dict[str, Any] | None = None,
    forward: str | None = None,
) -> None:
    """Set ``columns`` from ``rows`` (their values, then the row's id): one UPDATE … FROM (VALUES …) per chunk.

    One statement for thousands of rows instead of one each; PostgreSQL and SQLite (3.33+) both read it. ``also``
    sets the same value in every row. ``forward``, one of ``columns``, only moves forward: a row whose value there is
    already later is left as it is (a client's last contact never moves back).
    """
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    fields = {field.column: field for field in model._meta.concrete_fields}
    converters = [_converter(fields[name]) for name in columns]
    assignments = [f"{quote(name)} = v.column{number}" for number, name in enumerate(columns, start=1)]
    constants: list[Any] = []
    for name, value in (also or {}).items():
        assignments.append(f"{quote(name)} = %s")
        constants.append(fields[name].get_db_prep_save(value, connection))
    condition = f"{table}.id = v.column{len(columns) + 1}"
    if forward is not None:
        column, value = f"{table}.{quote(forward)}", f"v.column{list(columns).index(forward) + 1}"
        condition += f" AND ({column} IS NULL OR {column} < {value})"
    placeholder = f"({', '.join(['%s'] * (len(columns) + 1))})"
    step = max(1, VALUES_PER_UPDATE // (len(columns) + 1))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            values = [
                convert(value) if convert is not None and value is not None else value
                for row in chunk
                for value, convert in zip(row, [*converters, None], strict=True)
            ]
            cursor.execute(
                f"UPDATE {table} SET {', '.join(assignments)} "  # noqa: S608  (quoted names, bound values)
                f"FROM (VALUES {', '.join([placeholder] * len(chunk))}) AS v WHERE {condition}",
                [*constants, *values],
            )


def ids_after(model: type[models.Model], last_id: int) -> list[int]:
    """Ids inserted after ``last_id``, in insertion order (one writer: ids grow as rows go in)."""
    return list(model._default_manager.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True))


def last_id(model: type[models.Model]) -> int:
    return model._default_manager.order_by("-pk").values_list("pk", flat=True).first() or 0


def _column_indexes(model: type[models.Model]) -> list[tuple[str, str]]:
    """The plain one-column indexes Django adds for foreign keys (not in Meta.indexes): name, column.

    Only B-tree indexes named as Django names them (``<table>_<column>_<hash>``): an index made
    by hand in a migration (a trigram index, a partial one) is left alone, since it could not be
    rebuilt from what introspection tells.
    """
    named = {index.name for index in model._meta.indexes}
    table = model._meta.db_table
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    plain = []
    for name, info in found.items():
        columns = info["columns"] or []
        if (
            info["index"]
            and not info["unique"]
            and not info["primary_key"]
            and not info.get("foreign_key")
            and name not in named
            and len(columns) == 1
            and name.startswith(f"{table}_{columns[0]}_")
            and info.get("type") in {"btree", "idx"}
            and info.get("orders") in (None, ["ASC"])
        ):
            plain.append((name, columns[0]))
    return plain


@contextlib.contextmanager
def indexes_dropped(model: type[models.Model]) -> Iterator[None]:
    """Load ``model`` without its indexes (its named ones and its foreign keys'), then build them once.

    Keeping a dozen indexes up to date row by row costs more than the rows themselves
    at millions of rows; building an index from the finished table is one sort. For loads
    into a table nobody else is using (the demo's), never for a live one. The statements are
    run as plain SQL: Django's SQLite schema editor refuses to open inside a transaction.
    """
    editor = connection.SchemaEditorClass(connection)
    editor.deferred_sql = []  # what entering the editor would set up; only its SQL is used here
    indexes = list(model._meta.indexes)
    plain = _column_indexes(model)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        for index in indexes:
            cursor.execute(str(index.remove_sql(model, editor)))
        for name, _column in plain:
            cursor.execute(f"DROP INDEX {quote(name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            # Inside a transaction PostgreSQL builds no index on a table with foreign-key checks
            # still pending: run them now, then defer again what was deferred.
            postgres = connection.vendor == "postgresql"
            if postgres:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for index in indexes:
                cursor.execute(str(index.create_sql(model, editor)))
            for name, column in plain:
                cursor.execute(f"CREATE INDEX {quote(name)} ON {table} ({quote(column)})")
            if postgres:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
