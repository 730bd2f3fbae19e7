"""Shared schema pieces: strict base, paging, errors, validators."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from ..services.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE

# \Z, not $: $ also matches before a trailing newline.
SHA_RE = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)


class StrictSchema(ma.Schema):
    """Refuses unknown fields (marshmallow's default, stated on purpose)."""

    class Meta:
        unknown = ma.RAISE


def clean_text(value: str) -> None:
    """Refuse text PostgreSQL cannot store: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ma.ValidationError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ma.ValidationError("is not valid Unicode (lone surrogate)") from None


def Text(max_length: int, **kwargs: Any) -> fields.String:  # noqa: N802 (reads like a field)
    """A string field with a length limit and storable characters."""
    extra = kwargs.pop("validate", [])
    extra = extra if isinstance(extra, list) else [extra]
    return fields.String(validate=[validate.Length(max=max_length), clean_text, *extra], **kwargs)


def check_sha(value: str) -> None:
    """A full commit id: 40 (SHA-1) or 64 (SHA-256) lowercase hex characters."""
    if not SHA_RE.match(value):
        raise ma.ValidationError("must be 40 or 64 lowercase hex characters")


def Sha(**kwargs: Any) -> fields.String:  # noqa: N802
    """A full commit id field."""
    return fields.String(validate=check_sha, **kwargs)


def check_time_range(value: dt.datetime) -> None:
    """Dates outside 1970..2099 are refused as implausible."""
    if not EARLIEST <= value < LATEST:
        raise ma.ValidationError("must be between 1970-01-01 and 2099-12-31")


class PageArgs(StrictSchema):
    """``?page=&per_page=`` (default 30, at most 100)."""

    class Meta:
        unknown = ma.EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(
        load_default=DEFAULT_PER_PAGE, validate=validate.Range(min=1, max=MAX_PER_PAGE)
    )


def page_of(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A list envelope schema whose items dump with ``item_schema``."""
    return ma.Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "total": fields.Integer(),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
        },
        name=name,
    )


class ErrorBody(ma.Schema):
    """``{"code", "message"}``; some errors add fields such as ``limit``."""

    code = fields.String()
    message = fields.String()


class ErrorSchema(ma.Schema):
    """The one error shape of the API."""

    error = fields.Nested(ErrorBody)


def describe_messages(messages: Any) -> str:
    """marshmallow's error messages as one readable line naming each field."""
    if isinstance(messages, dict):
        parts = []
        for key, value in messages.items():
            inner = describe_messages(value)
            parts.append(inner if key == "_schema" else f"{key}: {inner}")
        return "; ".join(parts)
    if isinstance(messages, list):
        return " ".join(describe_messages(m) for m in messages)
    return str(messages)
