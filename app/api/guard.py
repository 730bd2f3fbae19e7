"""Checks every API request gets before a route parses it.

Routes validate their fields with marshmallow schemas; what those cannot see
is caught here once for all routes, so no bad input reaches the database
and comes back as a 500:

- NUL characters (PostgreSQL refuses them in text) and lone surrogates (no
  UTF-8 form) in path parts, query parameters, web form fields and any JSON
  string or key; form bodies that are not UTF-8 (Werkzeug would quietly turn
  the bytes into U+FFFD and the page store the changed text);
- JSON nested deeper than :data:`MAX_JSON_DEPTH` (the JSON decoders recurse);
- integers in paths beyond the range of the id columns (:class:`IdConverter`).

The ingest body is decoded by msgspec in its service, which refuses lone
surrogates and checks NUL per commit itself, so it is not decoded twice.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, request
from werkzeug.routing import IntegerConverter, Map

from ..errors import BadRequestError, ValidationFailedError
from ..schemas.common import MAX_INT_ID, text_problem

MAX_JSON_DEPTH = 32
RAW_BODY_ENDPOINTS = frozenset({"sync.Commits"})
FORM_TYPE = "application/x-www-form-urlencoded"
_OPEN, _CLOSE, _QUOTE, _BACKSLASH = frozenset(b"[{"), frozenset(b"]}"), 0x22, 0x5C


class IdConverter(IntegerConverter):
    """``<int:…>`` bounded to the id columns (int4 on PostgreSQL): larger is a 404."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", MAX_INT_ID)
        super().__init__(map, *args, **kwargs)


def _check_text(where: str, value: str) -> None:
    problem = text_problem(value)
    if problem:
        raise ValidationFailedError(f"{where}: {problem}")


def _check_json(value: Any, where: str, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise BadRequestError(f"JSON body nested more than {MAX_JSON_DEPTH} levels deep")
    if isinstance(value, str):
        _check_text(where or "body", value)
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{where}.{key}" if where else key
            _check_text(f"{where or 'body'} key", key)
            _check_json(item, name, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]", depth + 1)


def _check_form() -> None:
    if request.mimetype == FORM_TYPE:
        # Read (and keep) the raw body: request.form parses the same bytes later.
        for pair in request.get_data(cache=True).split(b"&"):
            name, _, value = pair.partition(b"=")
            try:
                unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                label = unquote_to_bytes(name).decode("utf-8", "replace")
                raise BadRequestError(f"form field {label!r}: not valid UTF-8") from None
    for field, text in request.form.items(multi=True):
        _check_text(f"form field {field!r}", text)


def check_request() -> None:
    """Refuse unstorable text and over-deep JSON anywhere in the request."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            _check_text(name, value)
    for name, value in request.args.items(multi=True):
        _check_text(f"query parameter {name!r}", name)
        _check_text(name, value)
    if request.mimetype in (FORM_TYPE, "multipart/form-data"):
        _check_form()
    if not request.is_json:
        return
    if request.endpoint in RAW_BODY_ENDPOINTS:
        # Read (and keep) the body now: its route decodes it, and should the
        # decoder hit its recursion limit, deep_json_error measures it.
        request.get_data(cache=True)
        return
    try:
        body = json.loads(request.get_data(cache=True))
    except RecursionError:
        raise BadRequestError(f"JSON body nested more than {MAX_JSON_DEPTH} levels deep") from None
    except ValueError:  # malformed: the route's own parser says how
        return
    _check_json(body, "", 0)


def json_depth(data: bytes) -> int:
    """How deep arrays and objects nest in a JSON text (strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif byte in _CLOSE:
            depth -= 1
    return deepest


def deep_json_error(error: RecursionError) -> BadRequestError:
    """A decoder's RecursionError on an over-deep body is the client's 400.

    Only the raw-body routes get here (the others were checked before); any
    other RecursionError is a real bug and is raised again, to be a logged 500.
    """
    if request.is_json and json_depth(request.get_data(cache=True)) > MAX_JSON_DEPTH:
        return BadRequestError(f"JSON body nested more than {MAX_JSON_DEPTH} levels deep")
    raise error


def install_converters(app: Flask) -> None:
    """Bound ``<int:…>`` path parts (before any route is registered)."""
    app.url_map.converters["int"] = IdConverter
