"""Commit extraction: the commits to push, with ``git log --numstat`` line counts.

:func:`iter_commits` streams one JSON-ready dict per commit, parents before
children. This is the client's hot path; what keeps it fast in pure Python:

- objects are read raw, straight from the pack files (objects.py, with one
  bounded cache of resolved objects), and parsed minimally, never through
  dulwich's ``Commit``/``Tree`` classes;
- trees are diffed by entry sha: a subtree whose sha did not change is never
  read, and of a changed tree only the entries between the bytes it shares
  with its old version are parsed (treediff.py, with a small cache: a
  commit's new trees are the next commit's old ones, as children follow
  their parents);
- only blobs whose sha changed are read, and the line diff trims common
  leading/trailing lines on bytes before splitting anything (linediff.py);
- caches are bounded, so memory stays flat however long the history.

Non-UTF-8 text: a commit's ``encoding`` header is honoured; without one,
bytes that are not valid UTF-8 are decoded as Latin-1 (git prints the raw
bytes; Latin-1 keeps every byte, and shows the usual legacy names right).
"""

from __future__ import annotations

import binascii
import codecs
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone

from dulwich.repo import BaseRepo

from .attributes import DiffAttributes
from .linediff import count_changes, count_lines
from .objects import CACHE_BYTES, PackStore
from .treediff import TreeDiff
from .walk import ordered, walk

_GITLINK_MODE = b"160000"
_FILE_MODES = (b"100644", b"100755")
# git looks for a NUL byte in the first 8000 bytes to call a blob binary
# (buffer_is_binary, FIRST_FEW_BYTES).
_BINARY_PROBE = 8000
#: Fewer commits are extracted in one process whatever ``workers`` says. Two
#: workers (each starts an interpreter, imports dulwich, fills a cold cache)
#: measured on the newest commits of the benchmark history: 1,000 commits,
#: 1.02 s -> 0.78 s wall for 30% more CPU; 2,000: 1.84 s -> 1.20 s for 20% more;
#: and ~200 MB more memory either way, not worth it for a few tenths of a second.
PARALLEL_MIN_COMMITS = 2000
# A line diff of files this large (both sides) makes room for its tables in the cache.
_HUGE_DIFF_BYTES = 1 << 20
# Root trees of the last commits made into records (their children's old trees).
_TREES_KEPT = 256


def iter_commits(
    repo: BaseRepo,
    heads: Sequence[bytes],
    exclude: Sequence[bytes] = (),
    workers: int = 1,
    cache_bytes: int | None = None,
) -> Iterator[dict]:
    """Commits reachable from ``heads`` and not from ``exclude``, parents before children.

    ``heads`` and ``exclude`` are hex commit shas (bytes); excluded shas that
    the repository lacks are ignored. Each commit is a JSON-ready dict with
    ``sha``, ``parents``, author and committer name/email/ISO-8601 time (its
    own UTC offset kept), ``message``, ``additions``, ``deletions``,
    ``files_changed`` (as ``git log --numstat --no-renames``; 0 for merges)
    and ``is_merge``.

    Whether a file is binary (no line counts) follows the ``.gitattributes``
    of the first head's tree, as git does in a working clone checked out at
    that head (attributes.py), then git's NUL-byte test.

    ``workers > 1`` diffs in that many processes (parallel.py) when there are
    at least :data:`PARALLEL_MIN_COMMITS` commits and the repository is on
    disk; the records are the same, in the same order. The processes are
    started with ``spawn``, so a script calling this must guard its entry
    point (``if __name__ == "__main__":``), as for any ``multiprocessing``
    use. ``cache_bytes`` is the object cache of each process that diffs
    (default: 32 MiB for one process, ``parallel.WORKER_CACHE_BYTES`` each
    for workers).
    """
    tip = heads[0] if heads else None
    reader = _Reader(repo, cache_bytes or CACHE_BYTES, attributes_of=tip)
    try:
        order = ordered(reader, heads, exclude)
        if workers > 1 and len(order) >= PARALLEL_MIN_COMMITS:
            from . import parallel

            path = parallel.repo_path(repo)
            if path is not None and parallel.can_spawn():
                reader.store.close()  # the workers read everything from here on
                reader.commit_trees.clear()
                yield from parallel.iter_records(
                    path, _HexShas(order), workers, cache_bytes, tip=tip
                )
                return
        for sha in order:
            yield reader.commit_dict(binascii.hexlify(sha))
    finally:
        reader.store.close()


def count_commits(repo: BaseRepo, heads: Sequence[bytes], exclude: Sequence[bytes] = ()) -> int:
    """Number of commits :func:`iter_commits` would yield, without diffing anything."""
    reader = _Reader(repo)
    try:
        graph = walk(reader, heads, exclude)
        return len(graph.excluded) - sum(graph.excluded)
    finally:
        reader.store.close()


# --------------------------------------------------------------------------
# Reading objects
# --------------------------------------------------------------------------


class _Reader:
    """Raw object access with the small caches the extraction needs.

    Commits are named by hex sha (as in refs and commit headers), trees and
    blobs by binary sha (as in tree entries), so nothing is converted twice.
    """

    def __init__(
        self, repo: BaseRepo, cache_bytes: int = CACHE_BYTES, attributes_of: bytes | None = None
    ) -> None:
        object_format = getattr(repo.object_store, "object_format", None)
        self.oid_length = getattr(object_format, "oid_length", 20)
        self.store = PackStore(repo.object_store, self.oid_length, cache_bytes)
        self.get_raw = self.store.get_raw
        self.tree_diff = TreeDiff(self.get_raw, self.oid_length)
        try:
            self.shallow = set(repo.get_shallow())
        except (AttributeError, NotImplementedError):
            self.shallow = set()
        self.commit_trees: dict[bytes, bytes] = {}
        # The diff attributes of the tip's tree apply to every commit.
        self.attributes: DiffAttributes | None = None
        if attributes_of is not None:
            tip_tree = self.tree_of(attributes_of)
            self.attributes = DiffAttributes(self.get_raw, tip_tree, self.oid_length)

    def _commit_raw(self, sha: bytes) -> bytes:
        type_num, raw = self.get_raw(binascii.unhexlify(sha))
        if type_num != 1:
            raise KeyError(sha)
        return raw

    def commit_links(self, sha: bytes) -> tuple[list[bytes], int]:
        """Binary parent shas and committer timestamp of a commit given its binary sha.

        Read without keeping it in the object cache: the walk reads every
        commit once, long before its record is made.
        """
        type_num, raw = self.store.get_raw(sha, keep=False)
        if type_num != 1:
            raise KeyError(sha)
        end = raw.find(b"\n\n")
        parents = []
        when = 0
        for line in (raw if end < 0 else raw[:end]).split(b"\n"):
            if line.startswith(b"parent "):
                parents.append(binascii.unhexlify(line[7:]))
            elif line.startswith(b"committer "):
                when = _parse_ident(line[10:])[2]
        if self.shallow and binascii.hexlify(sha) in self.shallow:
            parents = []
        return parents, when

    def commit_dict(self, sha: bytes) -> dict:
        """The JSON-ready record of one commit, line counts included."""
        raw = self._commit_raw(sha)
        end = raw.find(b"\n\n")
        head, message = (raw, b"") if end < 0 else (raw[:end], raw[end + 2 :])
        tree = b""
        parents: list[bytes] = []
        author = committer = b""
        encoding = None
        for line in head.split(b"\n"):
            key, _, value = line.partition(b" ")
            if key == b"tree":
                tree = value
            elif key == b"parent":
                parents.append(value)
            elif key == b"author":
                author = value
            elif key == b"committer":
                committer = value
            elif key == b"encoding":
                encoding = value.decode("ascii", "replace")
        if sha in self.shallow:
            parents = []
        # Its children, next in the order, diff against this tree.
        self.commit_trees[sha] = binascii.unhexlify(tree)
        if len(self.commit_trees) > _TREES_KEPT:
            del self.commit_trees[next(iter(self.commit_trees))]
        a_name, a_email, a_time, a_tz = _parse_ident(author)
        c_name, c_email, c_time, c_tz = _parse_ident(committer)
        is_merge = len(parents) > 1
        if is_merge:
            adds = dels = files = 0
        else:
            old_tree = self.tree_of(parents[0]) if parents else None
            adds, dels, files = self.numstat(old_tree, binascii.unhexlify(tree))
        return {
            "sha": sha.decode("ascii"),
            "parents": [p.decode("ascii") for p in parents],
            "author_name": _decode(a_name, encoding),
            "author_email": _decode(a_email, encoding),
            "authored_at": _iso(a_time, a_tz),
            "committer_name": _decode(c_name, encoding),
            "committer_email": _decode(c_email, encoding),
            "committed_at": _iso(c_time, c_tz),
            "message": _decode(message, encoding),
            "additions": adds,
            "deletions": dels,
            "files_changed": files,
            "is_merge": is_merge,
        }

    def tree_of(self, commit: bytes) -> bytes:
        """The binary root tree sha of a commit."""
        tree = self.commit_trees.get(commit)
        if tree is None:
            raw = self._commit_raw(commit)
            # "tree <hex>" is always the first header line.
            tree = binascii.unhexlify(raw[5 : raw.index(b"\n")])
        return tree

    def blob(self, mode: bytes, sha: bytes) -> bytes:
        """Contents of a blob as git diffs it (a gitlink is "Subproject commit")."""
        if mode == _GITLINK_MODE:
            return b"Subproject commit " + binascii.hexlify(sha) + b"\n"
        # The pack store's cache keeps the versions just read: the next change
        # to a file diffs against the version this commit wrote.
        return self.get_raw(sha)[1]

    def numstat(self, old_tree: bytes | None, new_tree: bytes) -> tuple[int, int, int]:
        """Sum of (added, deleted, files) between two root trees, as git numstat."""
        adds = dels = files = 0
        for path, old, new in self.tree_diff.changes(old_tree, new_tree):
            files += 1
            a, d = self._file_counts(path, old, new)
            adds += a
            dels += d
        return adds, dels, files

    def _file_counts(self, path: bytes, old: tuple | None, new: tuple | None) -> tuple[int, int]:
        if old is not None and new is not None and old[1] == new[1]:
            return 0, 0  # mode change only
        # The attributes speak for regular files only (git's diff drivers).
        verdict = None
        if self.attributes is not None and (
            (old is not None and old[0] in _FILE_MODES)
            or (new is not None and new[0] in _FILE_MODES)
        ):
            verdict = self.attributes.binary(path)
            if (
                verdict
                and (old is None or old[0] in _FILE_MODES)
                and (new is None or new[0] in _FILE_MODES)
            ):
                return 0, 0  # binary by attribute: no need to read the blobs
        a = b"" if old is None else self.blob(*old)
        b = b"" if new is None else self.blob(*new)
        if _binary(old, a, verdict) or _binary(new, b, verdict):
            return 0, 0
        if not a:
            return count_lines(b), 0
        if not b:
            return 0, count_lines(a)
        if len(a) + len(b) > _HUGE_DIFF_BYTES:
            # Its tables take ~5x the two files' size: make them room in the
            # cache rather than on top of it (two workers diffing such files at
            # once went over 300 MB).
            self.store.make_room(5 * (len(a) + len(b)))
        return count_changes(a, b)


def _binary(side: tuple | None, data: bytes, verdict: bool | None) -> bool:
    """Is one side of a file change binary to git (``diff_filespec_is_binary``)?"""
    if side is None:
        return False
    if verdict is not None and side[0] in _FILE_MODES:
        return verdict
    return data.find(b"\0", 0, _BINARY_PROBE) >= 0


class _HexShas(Sequence[bytes]):
    """Hex shas of a list of binary ones, made as they are asked for."""

    def __init__(self, shas: Sequence[bytes]) -> None:
        self.shas = shas

    def __len__(self) -> int:
        return len(self.shas)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [binascii.hexlify(sha) for sha in self.shas[index]]
        return binascii.hexlify(self.shas[index])


# --------------------------------------------------------------------------
# Identities, dates, text
# --------------------------------------------------------------------------


def _parse_ident(value: bytes) -> tuple[bytes, bytes, int, bytes]:
    """Split ``Name <email> 1700000000 +0530`` into its four parts, leniently."""
    lt = value.find(b"<")
    gt = value.rfind(b">")
    if lt < 0 or gt < lt:
        return value.strip(), b"", 0, b"+0000"
    name = value[:lt].strip()
    email = value[lt + 1 : gt]
    rest = value[gt + 1 :].split()
    try:
        when = int(rest[0])
    except (IndexError, ValueError):
        when = 0
    tz = rest[1] if len(rest) > 1 else b"+0000"
    return name, email, when, tz


_ZONES: dict[bytes, timezone] = {}


def _iso(when: int, tz: bytes) -> str:
    """ISO 8601 with the commit's own UTC offset, like ``git log --format=%aI``."""
    zone = _ZONES.get(tz)
    if zone is None:
        try:
            sign = -1 if tz[:1] == b"-" else 1
            hours, minutes = int(tz[-4:-2]), int(tz[-2:])
            zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
        except ValueError:
            zone = timezone.utc  # an offset git itself could not have written
        _ZONES[tz] = zone
    try:
        return datetime.fromtimestamp(when, zone).isoformat()
    except (OverflowError, OSError, ValueError):
        return datetime.fromtimestamp(0, zone).isoformat()


def _decode(data: bytes, encoding: str | None) -> str:
    """Text as git shows it: re-encoded from the ``encoding`` header, else UTF-8.

    Bytes invalid in the declared encoding (or in UTF-8 when there is none)
    fall back to Latin-1, which maps every byte, so nothing is dropped.
    """
    if encoding:
        try:
            codecs.lookup(encoding)
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")
