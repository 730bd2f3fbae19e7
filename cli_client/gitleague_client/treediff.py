"""Changed files between two root trees, reading as little of each tree as it can.

:class:`TreeDiff` yields the ``(old, new)`` pairs of ``git diff-tree -r``
(without rename detection) for two root trees. It recurses only into
subtrees whose sha differs, and within a tree it parses only the part that
changed: two versions of a tree share most of their bytes, so the common
leading and trailing entries are found by comparing bytes (C speed) against
the cached old version, and only the entries between them are parsed.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator
from itertools import accumulate

from .linediff import common_prefix, common_suffix

TREE_CACHE_SIZE = 512
# Below this size a tree is parsed whole: trimming it costs more than it saves.
_TRIM_MIN_BYTES = 4096

# A file as the diff sees it: (mode, binary sha).
FileId = tuple[bytes, bytes]


class _Tree:
    """A tree's raw bytes, its entries in order, and where each entry starts."""

    __slots__ = ("raw", "entries", "_bounds")

    def __init__(self, raw: bytes, entries: list[bytes]) -> None:
        self.raw = raw
        self.entries = entries
        self._bounds: list[int] | None = None

    @property
    def bounds(self) -> list[int]:
        """Start offsets of the entries, then the end of the tree."""
        if self._bounds is None:
            self._bounds = list(accumulate(map(len, self.entries), initial=0))
        return self._bounds


_EMPTY = _Tree(b"", [])


class TreeDiff:
    """Diff root trees, with a bounded LRU cache of the trees last parsed.

    Commits come parents first, so a commit's old trees are the new trees
    of the commit before it: they are nearly always in the cache.
    """

    def __init__(
        self,
        get_raw: Callable[[bytes], tuple[int, bytes]],
        oid_length: int = 20,
        cache_size: int = TREE_CACHE_SIZE,
    ) -> None:
        self.get_raw = get_raw
        self.width = oid_length
        self.cache_size = cache_size
        self.trees: OrderedDict[bytes, _Tree] = OrderedDict()
        # One tree entry: "<mode> <name>\0<binary sha>" (names hold no NUL).
        self.parse = re.compile(rb"[^\0]*\0.{%d}" % oid_length, re.S).findall

    def changes(self, old_tree: bytes | None, new_tree: bytes) -> Iterator[tuple]:
        """Changed files as ``(FileId | None, FileId | None)`` pairs.

        A path that is a file on one side and a folder on the other is a
        deletion plus additions, as in git.
        """
        width = self.width
        stack: list[tuple[bytes | None, bytes | None]] = [(old_tree, new_tree)]
        while stack:
            old_sha, new_sha = stack.pop()
            gone, came = self._entry_changes(old_sha, new_sha)
            pairs: dict[bytes, list] = {}
            for side, entries in ((0, gone), (1, came)):
                for entry in entries:
                    space = entry.index(b" ")
                    name = entry[space + 1 : -width - 1]
                    pairs.setdefault(name, [None, None])[side] = (entry[:space], entry[-width:])
            for o, n in pairs.values():
                o_dir = o is not None and _is_tree(o[0])
                n_dir = n is not None and _is_tree(n[0])
                if o_dir or n_dir:
                    stack.append((o[1] if o_dir else None, n[1] if n_dir else None))
                    o = None if o_dir else o
                    n = None if n_dir else n
                    if o is None and n is None:
                        continue
                yield o, n

    def _entry_changes(
        self, old_sha: bytes | None, new_sha: bytes | None
    ) -> tuple[list[bytes], list[bytes]]:
        """Raw entries only in the old tree, and only in the new one."""
        if old_sha == new_sha:
            return [], []
        old = _EMPTY if old_sha is None else self._cached(old_sha)
        if new_sha is None:
            return old.entries, []
        new = self.trees.get(new_sha)
        if new is not None:  # seen before (a revert, a merge's tree)
            self.trees.move_to_end(new_sha)
            return _differences(old.entries, new.entries)
        new_raw = self.get_raw(new_sha)[1]
        if len(new_raw) < _TRIM_MIN_BYTES:
            # A small tree: parsing it whole is cheaper than trimming it.
            new = _Tree(new_raw, self.parse(new_raw))
            self._remember(new_sha, new)
            return _differences(old.entries, new.entries)
        old_raw = old.raw
        # Entries wholly inside the common leading bytes are unchanged...
        bounds = old.bounds
        i = bisect_right(bounds, common_prefix(old_raw, new_raw)) - 1
        start = bounds[i]
        if i == len(old.entries):
            j = i  # the old tree is a prefix of the new one
        else:
            # ...and so are those wholly inside the common trailing bytes.
            limit = min(len(old_raw), len(new_raw)) - start
            j = bisect_left(bounds, len(old_raw) - common_suffix(old_raw, new_raw, limit), i)
        shift = len(new_raw) - len(old_raw)
        end = bounds[j] + shift
        middle = self.parse(new_raw, start, end)
        if sum(map(len, middle)) != end - start:
            # The old boundary is not one in the new tree (possible only when
            # binary shas happen to look like entries): parse to the end.
            j = len(old.entries)
            middle = self.parse(new_raw, start)
        new = _Tree(new_raw, old.entries[:i] + middle + old.entries[j:])
        # The new tree's offsets, from the old ones: a changed file changes
        # only a sha, so mostly shift == 0 and this is two slices.
        new._bounds = bounds[:i] + list(accumulate(map(len, middle), initial=start))
        tail = bounds[j + 1 :]
        new._bounds += list(map(shift.__add__, tail)) if shift else tail
        self._remember(new_sha, new)
        return _differences(old.entries[i:j], middle)

    def _cached(self, sha: bytes) -> _Tree:
        tree = self.trees.get(sha)
        if tree is not None:
            self.trees.move_to_end(sha)
            return tree
        raw = self.get_raw(sha)[1]
        tree = _Tree(raw, self.parse(raw))
        self._remember(sha, tree)
        return tree

    def _remember(self, sha: bytes, tree: _Tree) -> None:
        self.trees[sha] = tree
        if len(self.trees) > self.cache_size:
            self.trees.popitem(last=False)


def _differences(old: list[bytes], new: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    """Entries only in ``old``, and only in ``new``."""
    if not old or not new:
        return old, new
    new_set = set(new)
    changed = new_set.symmetric_difference(old)
    return [e for e in changed if e not in new_set], [e for e in changed if e in new_set]


def _is_tree(mode: bytes) -> bool:
    # Canonical git writes "40000"; some old tools wrote "040000".
    return mode == b"40000" or int(mode, 8) & 0o170000 == 0o040000
