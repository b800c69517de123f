"""Trigram indexes for searching clients by any fragment of a name.

PostgreSQL: pg_trgm GIN indexes on search_text (LIKE '%…%' uses them).
SQLite: FTS5 tables with the trigram tokenizer over search_text, kept in step by triggers.
"""

from django.db import migrations

TABLES = ["clients_company", "clients_contact"]


def create(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for table in TABLES:
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {table}_search_trgm ON {table} USING gin (search_text gin_trgm_ops)"
                )
        elif connection.vendor == "sqlite":
            for table in TABLES:
                fts = f"{table}_fts"
                cursor.execute(
                    f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5("
                    f"search_text, content='{table}', content_rowid='id', tokenize='trigram')"
                )
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {fts}_insert AFTER INSERT ON {table} BEGIN "
                    f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END"
                )
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {fts}_delete AFTER DELETE ON {table} BEGIN "
                    f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text); END"
                )
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {fts}_update AFTER UPDATE OF search_text ON {table} BEGIN "
                    f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
                    f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END"
                )
                cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def drop(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for table in TABLES:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP INDEX IF EXISTS {table}_search_trgm")
            elif connection.vendor == "sqlite":
                for trigger in ("insert", "delete", "update"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{trigger}")
                cursor.execute(f"DROP TABLE IF EXISTS {table}_fts")


class Migration(migrations.Migration):
    dependencies = [("clients", "0002_search_text")]

    operations = [migrations.RunPython(create, drop)]
