"""Fast decoding of pushed commit batches (msgspec).

Ingest is the hot path: a batch holds up to 1,000 commits and the server
aims at tens of thousands of commits per second. marshmallow costs about
0.4 ms per commit, msgspec a few microseconds, so batches are decoded
here. :class:`app.schemas.commits.CommitIn` stays the documented schema;
tests check that both accept and refuse the same items.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any

import msgspec

from ..errors import BadRequestError, ValidationFailedError
from .common import EARLIEST, LATEST, MAX_INT_ID

# msgspec patterns are searched, not matched: both anchors are needed, and
# \Z rather than $, which also matches before a trailing newline.
Sha = Annotated[str, msgspec.Meta(pattern=r"^(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")]
Name = Annotated[str, msgspec.Meta(max_length=4096)]
Message = Annotated[str, msgspec.Meta(max_length=1_048_576)]
When = Annotated[dt.datetime, msgspec.Meta(tz=True)]
Count = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
RunId = Annotated[int, msgspec.Meta(ge=1, le=MAX_INT_ID)]  # int4 column
_TEXT_FIELDS = ("author_name", "author_email", "committer_name", "committer_email", "message")


class WireCommit(msgspec.Struct, forbid_unknown_fields=True):
    """One pushed commit, as the protocol names its fields."""

    sha: Sha
    parents: Annotated[list[Sha], msgspec.Meta(max_length=1000)]
    author_name: Name
    author_email: Name
    authored_at: When
    committer_name: Name
    committer_email: Name
    committed_at: When
    message: Message
    additions: Count
    deletions: Count
    files_changed: Count
    is_merge: bool


def offset_minutes(value: dt.datetime) -> int:
    """The UTC offset of an aware datetime, in minutes (as stored)."""
    return int(value.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]


class WireBatch(msgspec.Struct, forbid_unknown_fields=True):
    """A batch; items stay raw so that each is checked on its own."""

    commits: list[msgspec.Raw]
    sync_run_id: RunId | None = None
    resume_sha: Sha | None = None


class WireBatchTyped(msgspec.Struct, forbid_unknown_fields=True):
    """The same batch with every item typed: one C call when all items are valid."""

    commits: list[WireCommit]
    sync_run_id: RunId | None = None
    resume_sha: Sha | None = None


_BATCH = msgspec.json.Decoder(WireBatch)
_TYPED_BATCH = msgspec.json.Decoder(WireBatchTyped)
_COMMIT = msgspec.json.Decoder(WireCommit)


def _field_error(exc: msgspec.ValidationError) -> str:
    # msgspec says "... - at `$.additions`"; name the field first, like the API does elsewhere.
    text = str(exc)
    message, sep, path = text.rpartition(" - at `$.")
    if sep:
        return f"{path.rstrip('`')}: {message}"
    return text


def decode_batch(body: bytes) -> WireBatch | WireBatchTyped:
    """The batch; 400 for malformed JSON, 422 naming a bad envelope field.

    The common case, every item valid, decodes in one pass; otherwise the
    items stay raw so that :func:`decode_items` can reject them one by one.
    """
    try:
        return _TYPED_BATCH.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        pass
    try:
        return _BATCH.decode(body)
    except msgspec.ValidationError as exc:
        raise ValidationFailedError(_field_error(exc)) from None
    except msgspec.DecodeError as exc:
        raise BadRequestError(
            f"malformed JSON body: {exc}".replace("JSON is malformed: ", "")
        ) from None


_EARLIEST_TS = EARLIEST.timestamp()
_LATEST_TS = LATEST.timestamp()


def _check(commit: WireCommit, may_have_nul: bool) -> str | None:
    if may_have_nul:
        for name in _TEXT_FIELDS:
            if "\x00" in getattr(commit, name):
                return f"{name}: must not contain NUL characters"
    if not _EARLIEST_TS <= commit.authored_at.timestamp() < _LATEST_TS:
        return "authored_at: must be between 1970-01-01 and 2099-12-31"
    if not _EARLIEST_TS <= commit.committed_at.timestamp() < _LATEST_TS:
        return "committed_at: must be between 1970-01-01 and 2099-12-31"
    if commit.is_merge != (len(commit.parents) > 1):
        return "is_merge must be true exactly when there are 2+ parents"
    return None


def decode_items(
    items: Sequence[msgspec.Raw | WireCommit], *, may_have_nul: bool = True
) -> tuple[list[WireCommit], list[dict[str, Any]]]:
    """Valid commits, and per-item rejections ``{index, sha, error}``.

    ``may_have_nul=False`` skips the NUL scan when the caller knows the JSON
    body has no ``\\u0000`` escape (the only way JSON can carry a NUL).
    """
    rows: list[WireCommit] = []
    rejected: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if isinstance(item, WireCommit):
            commit = item
        else:
            try:
                commit = _COMMIT.decode(item)
            except msgspec.ValidationError as exc:
                rejected.append({"index": index, "sha": _sha_of(item), "error": _field_error(exc)})
                continue
        problem = _check(commit, may_have_nul)
        if problem:
            rejected.append({"index": index, "sha": commit.sha, "error": problem})
        else:
            rows.append(commit)
    return rows, rejected


def _sha_of(raw: msgspec.Raw) -> str | None:
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    sha = value.get("sha") if isinstance(value, dict) else None
    return sha[:64] if isinstance(sha, str) else None
