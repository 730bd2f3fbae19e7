"""Guards for the wire decoder's limits at their exact values (issue 14).

app/schemas/commit_wire.py is what stands between a pushed body and the
database: every limit is checked here one step inside and one step outside.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from app.errors import BadRequestError, ValidationFailedError
from app.schemas.commit_wire import (
    WireBatchTyped,
    WireCommit,
    decode_batch,
    decode_items,
    offset_minutes,
)
from tests.helpers import commit_json, fake_sha

SHA = fake_sha("guard")
PARENT = fake_sha("guard-parent")
NAME_FIELDS = ("author_name", "author_email", "committer_name", "committer_email")
COUNT_FIELDS = ("additions", "deletions", "files_changed")


def item(**changes: Any) -> dict[str, Any]:
    """A valid commit with one parent, changed by ``changes``."""
    return {**commit_json(SHA, [PARENT]), **changes}


def outcome(commit: dict[str, Any] | list[Any] | int) -> tuple[bool, list[dict[str, Any]]]:
    """Whether the raw item decodes and passes, and its rejections."""
    rows, rejected = decode_items([msgspec.Raw(json.dumps(commit).encode())])
    assert len(rows) + len(rejected) == 1
    return bool(rows), rejected


def accepted(commit: dict[str, Any]) -> bool:
    ok, _ = outcome(commit)
    return ok


def error_of(commit: dict[str, Any]) -> str:
    ok, rejected = outcome(commit)
    assert not ok
    return str(rejected[0]["error"])


BAD_SHAS = [
    "a" * 41,
    "a" * 39,
    "a" * 63,
    "a" * 65,
    "xyz" + "a" * 40,
    "a" * 40 + "xyz",
    "a" * 40 + "\n",
    "A" * 40,
    "g" * 40,
    "",
]


@pytest.mark.parametrize("sha", BAD_SHAS)
def test_malformed_sha_is_refused_as_the_sha(sha):
    assert error_of(item(sha=sha)).startswith("sha:")


@pytest.mark.parametrize("sha", BAD_SHAS)
def test_malformed_sha_is_refused_as_a_parent(sha):
    assert error_of(item(parents=[sha])).startswith("parents")


@pytest.mark.parametrize("sha", BAD_SHAS)
def test_malformed_resume_sha_is_422(sha):
    body = {"commits": [item()], "resume_sha": sha}
    with pytest.raises(ValidationFailedError, match="resume_sha"):
        decode_batch(json.dumps(body).encode())


def test_both_sha_lengths_are_accepted():
    assert accepted(item(sha="0" * 40, parents=["f" * 64]))
    assert accepted(item(sha="9" * 64, parents=[]))


@pytest.mark.parametrize("field", NAME_FIELDS)
def test_names_hold_4096_characters_and_no_more(field):
    assert accepted(item(**{field: "é" * 4096}))
    assert error_of(item(**{field: "x" * 4097})).startswith(f"{field}:")


def test_message_holds_one_mebibyte_and_no_more():
    assert accepted(item(message="m" * 1_048_576))
    assert error_of(item(message="m" * 1_048_577)).startswith("message:")


@pytest.mark.parametrize("field", COUNT_FIELDS)
def test_counts_run_from_0_to_2_31_minus_1(field):
    assert accepted(item(**{field: 0}))
    assert accepted(item(**{field: 2**31 - 1}))
    assert error_of(item(**{field: 2**31})).startswith(f"{field}:")
    assert error_of(item(**{field: -1})).startswith(f"{field}:")


def test_a_merge_holds_up_to_1000_parents():
    parents = [fake_sha(f"p{i}") for i in range(1001)]
    assert accepted(item(parents=parents[:1000], is_merge=True))
    assert error_of(item(parents=parents, is_merge=True)).startswith("parents:")


@pytest.mark.parametrize("field", ["authored_at", "committed_at"])
def test_dates_run_from_1970_to_the_end_of_2099(field):
    for ok in (
        "1970-01-01T00:00:00Z",
        "1970-01-01T01:00:00+01:00",
        "2099-12-31T23:59:59.999999Z",
        "2099-12-31T22:59:59-01:00",
    ):
        assert accepted(item(**{field: ok})), ok
    for bad in (
        "1969-12-31T23:59:59.999999Z",
        "1970-01-01T00:59:59+01:00",
        "2100-01-01T00:00:00Z",
        "2099-12-31T23:30:00-01:00",
    ):
        assert error_of(item(**{field: bad})).startswith(f"{field}: must be between"), bad


@pytest.mark.parametrize("field", ["authored_at", "committed_at"])
def test_naive_dates_are_refused(field):
    assert error_of(item(**{field: "2024-01-01T00:00:00"})).startswith(f"{field}:")


def test_is_merge_must_match_the_parent_count():
    assert accepted(item(parents=[], is_merge=False))
    assert accepted(item(parents=[PARENT], is_merge=False))
    assert accepted(item(parents=[PARENT, SHA], is_merge=True))
    for parents, flag in (([], True), ([PARENT], True), ([PARENT, SHA], False)):
        assert error_of(item(parents=parents, is_merge=flag)).startswith("is_merge"), parents


@pytest.mark.parametrize("field", [*NAME_FIELDS, "message"])
def test_nul_is_refused_in_every_text_field(field):
    assert error_of(item(**{field: "a\x00b"})) == f"{field}: must not contain NUL characters"


def test_nul_scan_is_skipped_only_when_the_caller_says_so():
    raw = msgspec.Raw(json.dumps(item(message="a\x00b")).encode())
    rows, rejected = decode_items([raw], may_have_nul=False)
    assert len(rows) == 1 and not rejected


def test_the_sha_of_an_item_that_fails_to_decode_is_reported():
    cases: list[tuple[Any, Any]] = [
        (item(additions="3"), SHA),
        (item(sha="x" * 70, additions="3"), "x" * 64),
        (item(sha=12, additions="3"), None),
        ([SHA], None),
        (7, None),
        ({"additions": 1}, None),
    ]
    for raw, sha in cases:
        ok, rejected = outcome(raw)
        assert not ok and rejected == [{"index": 0, "sha": sha, "error": rejected[0]["error"]}]


def test_rejections_carry_their_index_and_the_field_first():
    good, bad = item(), item(additions=-5)
    items = [msgspec.Raw(json.dumps(c).encode()) for c in (good, bad, good)]
    rows, rejected = decode_items(items)
    assert len(rows) == 2
    assert [r["index"] for r in rejected] == [1]
    assert rejected[0]["error"] == "additions: Expected `int` >= 0"


def test_unknown_fields_are_refused_in_items_and_envelope():
    assert "unknown field `branch`" in error_of(item(branch="main"))
    with pytest.raises(ValidationFailedError, match="extra"):
        decode_batch(json.dumps({"commits": [item()], "extra": 1}).encode())


def test_a_fully_valid_batch_decodes_typed_in_one_pass():
    batch = decode_batch(json.dumps({"commits": [item()], "sync_run_id": 4}).encode())
    assert isinstance(batch, WireBatchTyped) and batch.sync_run_id == 4
    assert isinstance(batch.commits[0], WireCommit)
    rows, rejected = decode_items(batch.commits)
    assert len(rows) == 1 and not rejected


def test_one_bad_item_keeps_the_others_raw():
    batch = decode_batch(json.dumps({"commits": [item(), item(additions=-1)]}).encode())
    assert not isinstance(batch, WireBatchTyped)
    rows, rejected = decode_items(batch.commits)
    assert len(rows) == 1 and len(rejected) == 1


def test_envelope_errors_name_the_field_and_malformed_json_is_400():
    with pytest.raises(ValidationFailedError) as bad_field:
        decode_batch(b'{"commits": [], "sync_run_id": "x"}')
    assert str(bad_field.value.message).startswith("sync_run_id: Expected `int | null`")
    with pytest.raises(ValidationFailedError, match="commits"):
        decode_batch(b'{"sync_run_id": 1}')
    with pytest.raises(BadRequestError) as malformed:
        decode_batch(b'{"commits": [')
    message = str(malformed.value.message)
    assert message.startswith("malformed JSON body: ") and "JSON is malformed" not in message


def test_offsets_are_whole_minutes_either_side_of_utc():
    decoder = msgspec.json.Decoder(WireCommit)
    for text, minutes in (("+05:30", 330), ("-03:45", -225), ("Z", 0), ("+17:00", 1020)):
        commit = decoder.decode(json.dumps(item(authored_at=f"2024-01-01T00:00:00{text}")))
        assert offset_minutes(commit.authored_at) == minutes, text
