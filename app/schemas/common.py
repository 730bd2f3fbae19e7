"""Shared schema pieces: strict base, paging, errors, validators."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

import marshmallow as ma
from marshmallow import fields, validate

from ..services.pagination import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE

# \Z, not $: $ also matches before a trailing newline.
SHA_RE = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)
# Integer ids (users, API keys, sync runs) are int4 on PostgreSQL.
MAX_INT_ID = 2**31 - 1


class StrictSchema(ma.Schema):
    """Refuses unknown fields (marshmallow's default, stated on purpose)."""

    class Meta:
        unknown = ma.RAISE


def text_problem(value: str) -> str | None:
    """Why PostgreSQL could not store ``value`` (NUL, lone surrogate), or None."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (lone surrogate)"
    return None


def clean_text(value: str) -> None:
    """Refuse text PostgreSQL cannot store: NUL characters and lone surrogates."""
    problem = text_problem(value)
    if problem:
        raise ma.ValidationError(problem)


def check_url_syntax(value: str) -> None:
    """Refuse URLs that Python's parser cannot split (bad IPv6 brackets, port)."""
    try:
        urlsplit(value).port  # noqa: B018 (parsing the port is the check)
    except ValueError as exc:
        raise ma.ValidationError(f"not a valid URL: {exc}") from None


def GitUrl(**kwargs: Any) -> fields.String:  # noqa: N802
    """A git remote URL (``https://``, ``ssh://``, ``git@host:path``, a path)."""
    return fields.String(
        validate=[validate.Length(min=1, max=2048), clean_text, check_url_syntax], **kwargs
    )


def Id(**kwargs: Any) -> fields.Integer:  # noqa: N802
    """An integer row id: within the column's range, so never an overflow."""
    return fields.Integer(strict=True, validate=validate.Range(1, MAX_INT_ID), **kwargs)


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
    try:
        plausible = EARLIEST <= value < LATEST
    except OverflowError:  # e.g. 9999-12-31T23:59:59-23:59 has no UTC form
        plausible = False
    if not plausible:
        raise ma.ValidationError("must be between 1970-01-01 and 2099-12-31")


def Moment(**kwargs: Any) -> fields.AwareDateTime:  # noqa: N802
    """An ISO 8601 time with an offset, within 1970..2099 (a filter bound)."""
    return fields.AwareDateTime(format="iso", validate=check_time_range, **kwargs)


class PageArgs(StrictSchema):
    """``?page=&per_page=`` (default 30, at most 100)."""

    class Meta:
        unknown = ma.EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
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

    class Meta:
        unknown = ma.INCLUDE  # documented as additionalProperties: true

    code = fields.String(
        required=True,
        metadata={"description": "stable, machine-readable: e.g. not_found, validation_error"},
    )
    message = fields.String(required=True, metadata={"description": "for people"})


class ErrorSchema(ma.Schema):
    """The one error shape of the API: ``{"error": {"code", "message", ...}}``."""

    error = fields.Nested(ErrorBody, required=True)


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
