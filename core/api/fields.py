"""Serializer fields that refuse the wrong JSON type instead of coercing it.

DRF turns `123` into "123" and `true` into 1; a contract with typed fields answers 400.
Strings "true"/"false" are still read as booleans, because multipart forms only send text.
"""

from typing import Any

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ReadsAsNullCharField(StrictCharField):
    """A string in requests that may read back as null (a secret's value): the OpenAPI
    schema (core/api/schema.py) says nullable for answers only."""


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data.lower() in {"true", "false"}:
            return data.lower() == "true"
        self.fail("invalid")
        raise AssertionError  # unreachable: fail() raises


_DATETIME = serializers.DateTimeField()


def iso_datetime(value: Any) -> str | None:
    """A datetime as DateTimeField renders it (ISO 8601, UTC as "Z"), for hand-written
    representations on hot paths."""
    return None if value is None else _DATETIME.to_representation(value)
