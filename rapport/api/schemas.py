"""The error bodies every endpoint may answer, so the OpenAPI document shows them too (see ``api.api``)."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class Message(Schema):
    """401, 403, 404, 409: one sentence saying what went wrong."""

    detail: str


class Invalid(Schema):
    """422: messages keyed by the field they concern, a list of messages about the whole request,
    or (for a body that does not match the schema) the validator's list of `{loc, msg, type}`."""

    detail: dict[str, list[str]] | list[Any]


READ_ERRORS: dict[int, type[Schema]] = {401: Message, 404: Message}
WRITE_ERRORS: dict[int, type[Schema]] = {**READ_ERRORS, 403: Message, 422: Invalid}
UPDATE_ERRORS: dict[int, type[Schema]] = {**WRITE_ERRORS, 409: Message}
