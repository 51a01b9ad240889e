"""Model fields of our own."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models


class TextJSONField(models.TextField):
    """JSON kept as plain text in the database.

    For values that are stored and shown but never queried inside: the raw record as the
    database exported it. PostgreSQL parses every jsonb value into its binary form on insert;
    for 100,000 imported records with their raw fields that was a large share of the server's
    time, for nothing we use.
    """

    description = "JSON stored as text"

    def from_db_value(self, value: Any, expression, connection) -> Any:
        if value is None or value == "":
            return {}
        return json.loads(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value) if value else {}
            except json.JSONDecodeError as exc:
                raise ValidationError(f"Not JSON: {exc.msg}.") from None
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        # ASCII with \u escapes, as the import's COPY rows write it
        # (identification/importers/pgcopy.py): json's C encoder is a third faster so, and
        # json.loads gives the same value back.
        return json.dumps(value)

    def value_to_string(self, obj) -> str:
        return json.dumps(self.value_from_object(obj), ensure_ascii=False)
