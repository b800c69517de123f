"""Model fields of our own: few, each for a reason the database gives.

``ChoiceField`` is a CharField whose equality with one of its choices is written into the SQL
as a literal rather than bound as a parameter. SQLite uses a partial index (``WHERE status =
'done'``) without reading the table only when it can prove that condition from the query's
text; with ``status = ?`` it must read every row the index finds to check it. Counting a
team's month of done calls took 50 ms that way instead of 1 ms. The choices are constants of
our code, never input, so writing them into the SQL is safe; any other value is bound as usual.
PostgreSQL receives literals anyway (psycopg binds on the client), so nothing changes there.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models.expressions import Combinable
from django.db.models.lookups import Exact

if TYPE_CHECKING:
    _CharField = models.CharField[str | int | Combinable, str]
else:
    _CharField = models.CharField

# What a literal may hold: the identifiers our choices are made of.
_PLAIN = re.compile(r"[a-z][a-z0-9_]*")


class ChoiceField(_CharField):
    def deconstruct(self) -> Any:
        # Migrations see a CharField: the difference is only in how queries are written.
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


@ChoiceField.register_lookup
class ChoiceExact(Exact):
    lookup_name = "exact"

    def process_rhs(self, compiler: Any, connection: Any) -> tuple[str, tuple[str | int, ...]]:
        value = self.rhs
        choices = {str(choice) for choice, _label in self.lhs.output_field.flatchoices}
        if isinstance(value, str) and value in choices and _PLAIN.fullmatch(value):
            return f"'{value}'", ()
        return super().process_rhs(compiler, connection)
