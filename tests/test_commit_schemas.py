"""The fast wire decoder and the documented schema accept the same commits."""

from __future__ import annotations

import json

import marshmallow as ma
import msgspec
import pytest

from app.schemas.commit_wire import decode_items
from app.schemas.commits import CommitIn
from tests.helpers import commit_json, fake_sha

BASE = commit_json(fake_sha("base"), [fake_sha("p")])
VARIANTS = {
    "valid": {},
    "sha256": {"sha": "a" * 64},
    "upper sha": {"sha": fake_sha("x").upper()},
    "short sha": {"sha": "abc"},
    "sha with a trailing newline": {"sha": fake_sha("n") + "\n"},
    "bad parent": {"parents": ["zz"]},
    "merge flag wrong": {"is_merge": True},
    "merge": {"parents": [fake_sha("a"), fake_sha("b")], "is_merge": True},
    "naive time": {"authored_at": "2024-01-01T00:00:00"},
    "zulu time": {"committed_at": "2024-01-01T00:00:00Z"},
    "year 1969": {"authored_at": "1969-12-31T23:59:59+00:00"},
    "year 2100": {"committed_at": "2100-01-01T00:00:00+00:00"},
    "negative": {"deletions": -1},
    "too big": {"files_changed": 2**31},
    "float count": {"additions": 1.5},
    "string count": {"additions": "3"},
    "bool count": {"additions": True},
    "nul": {"author_name": "a\x00b"},
    "long name": {"author_email": "x" * 4097},
    "long message": {"message": "m" * 1_048_577},
    "non-ascii": {"author_name": "Zoë Ünïcode ✓", "message": "naïve\r\n"},
    "empty name": {"author_name": "", "author_email": ""},
    "unknown field": {"branch": "main"},
    "null message": {"message": None},
    "string merge flag": {"is_merge": "false"},
}


def marshmallow_ok(item: dict) -> bool:
    try:
        CommitIn().load(item)
    except ma.ValidationError:
        return False
    return True


def wire_ok(item: dict) -> bool:
    rows, rejected = decode_items([msgspec.Raw(json.dumps(item).encode())])
    return bool(rows) and not rejected


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_both_decoders_agree(name):
    item = {**BASE, **VARIANTS[name]}
    assert wire_ok(item) == marshmallow_ok(item), name


def test_missing_fields_are_refused_by_both():
    for field in BASE:
        item = {k: v for k, v in BASE.items() if k != field}
        assert not wire_ok(item) and not marshmallow_ok(item), field
