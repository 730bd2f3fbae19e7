"""Line counts of a text diff, equal to what ``git diff --numstat`` reports.

:func:`count_changes` returns ``(added, deleted)`` for two versions of a text
file. It reproduces git's xdiff (the default "myers" algorithm) as far as the
counts are concerned:

1. Lines are split on ``b"\\n"`` only; a last line without a newline is a
   different line from the same text with one (``\\ No newline at end of file``).
2. Common leading and trailing lines are trimmed (``xdl_trim_ends``). We do it
   on bytes, before splitting, so a few-line edit in a large file never splits
   the whole file: splitting dominated an earlier prototype's run time.
3. Lines of the rest that appear nowhere in the other file, and frequent lines
   sitting among such lines, are discarded as changed (``xdl_cleanup_records``).
   The discarded frequent lines are why git's counts are sometimes not those
   of a minimal diff, so this step is ported faithfully (its last pass, in
   loops that the client's build compiles, is xdlclean.py).
4. The kept lines are compared by Myers' greedy algorithm with snakes followed
   by slice compares (C speed), so a few-line edit costs a few steps however
   long the file. That equals xdiff's Myers result whenever xdiff's cost
   cut-offs cannot trigger (edit cost at most 512 lines); beyond that a port
   of ``xdl_recs_cmp`` with its heuristics gives git's (non-minimal) answer.
   Costly edits have their lines numbered, then find their minimal cost by
   the greedy search on numbers where the client is compiled, else by a
   bit-parallel LCS on Python integers for small files (myers.py); when that
   cost is over 512 (or the sizes alone prove it), the port (xdlsplit.py).

Compaction (``xdl_change_compact``, the indent heuristic) moves changed lines
without changing how many there are, so it does not matter for counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from itertools import chain, compress, count, repeat
from operator import add, not_

from .myers import EXACT_MAX_COST, bogosqrt, edit_cost, lcs_length
from .xdlclean import kept_marks
from .xdlsplit import COMPILED, minimal_cost, numbered_changed_counts

# xdiff's constant (xprepare.c).
_MAX_EQLIMIT = 1024
# With fewer distinct lines to count than this, searching the file for each is
# cheaper than splitting the unchanged part of the file into lines.
_FIND_MAX_KEYS = 8
# Above this many line pairs the bit-parallel LCS costs more than the port of
# git's Myers (measured: 20,000 x 20,000 lines, cost ~300: 44 ms against 16 ms;
# 5,000 x 5,000: 2 ms against 8 ms).
_LCS_MAX_CELLS = 10**8
# Edit costs up to this are searched on the lines themselves (snakes by slice
# compares); past it the lines are numbered first. Compiled, xdlsplit searches
# numbers as C, so only the cheapest edits are worth the search on lines: a
# git.git translation update costs thousands, and the search on lines spent
# ~15 ms on each such file before giving up.
_LINES_MAX_COST = 32 if COMPILED else EXACT_MAX_COST
# Blocks up to this size are compared in one big-int XOR rather than bisected.
_XOR_WINDOW = 2048


def count_lines(data: bytes) -> int:
    """Number of lines as git counts them (a last line without newline counts)."""
    n = data.count(b"\n")
    return n + 1 if data and data[-1:] != b"\n" else n


def count_changes(old: bytes, new: bytes) -> tuple[int, int]:
    """Return ``(added, deleted)`` line counts between two text blobs, as git."""
    old_total, new_total, keep_old, keep_new = _kept_middle(old, new)
    if not keep_old or not keep_new:
        return new_total, old_total
    n, m = len(keep_old), len(keep_new)
    # One method picked from the sizes: the greedy Myers for cheap edits; an
    # edit surely costlier than git's exact range goes straight to the port
    # of git's own Myers; in between, a minimal diff of numbered lines.
    cost = None
    if abs(n - m) <= EXACT_MAX_COST:
        cost = edit_cost(keep_old, keep_new, lcs=False, max_cost=_LINES_MAX_COST)
    if cost is None:
        # A costly edit: compare numbers, and let the lines go first (on a
        # 50,000-line rewrite they are much of the memory).
        h1, h2 = _numbered(keep_old, keep_new)
        del keep_old, keep_new
        if abs(n - m) <= EXACT_MAX_COST:
            cost = _minimal_numbered_cost(h1, h2)
        if cost is None or cost > EXACT_MAX_COST:
            cost = sum(numbered_changed_counts(h1, h2))
    lcs = (n + m - cost) // 2
    return new_total - lcs, old_total - lcs


def _minimal_numbered_cost(h1: list[int], h2: list[int]) -> int | None:
    """The minimal cost if it is within git's exact range and cheap to find, else None.

    Compiled, Myers' greedy search on the numbers (a few milliseconds at
    worst); pure Python, the bit-parallel LCS where it is cheaper than the
    port of git's Myers (it costs the same whatever the edit).
    """
    if COMPILED:
        cost = minimal_cost(h1, h2, EXACT_MAX_COST)
        return cost if cost >= 0 else None
    if len(h1) * len(h2) <= _LCS_MAX_CELLS:
        return len(h1) + len(h2) - 2 * lcs_length(h1, h2)
    return None


def _numbered(a: list[bytes], b: list[bytes]) -> tuple[list[int], list[int]]:
    """The lines as numbers: equal lines, equal numbers (C-level passes)."""
    numbers = dict(zip(dict.fromkeys(chain(a, b)), count()))
    return list(map(numbers.__getitem__, a)), list(map(numbers.__getitem__, b))


def _kept_middle(old: bytes, new: bytes) -> tuple[int, int, list[bytes], list[bytes]]:
    """Lines of the changed middle of each file, and the lines xdiff compares.

    Returns ``(old lines, new lines, kept old, kept new)``; the kept lists
    are empty when nothing can match. The split lines, their counts and the
    cleanup's tables are freed on return, before the edit cost is found.
    """
    start, old_end, new_end = _trim(old, new)
    old_lines = _split(old, start, old_end)
    new_lines = _split(new, start, new_end)
    if not old_lines or not new_lines:
        return len(old_lines), len(new_lines), [], []
    old_count, new_count = Counter(old_lines), Counter(new_lines)
    shared = old_count.keys() & new_count.keys()
    if not shared:
        return len(old_lines), len(new_lines), [], []
    # Lines of the whole files (xdiff's limits depend on them): the unchanged
    # part is common to both, so it is counted once.
    unchanged = old.count(b"\n", 0, start) + old.count(b"\n", old_end)
    if old_end < len(old) and old[-1:] != b"\n":
        unchanged += 1  # a last line without newline, shared by both
    keep_old, keep_new = _cleanup(
        (old_lines, old_count, unchanged + len(old_lines)),
        (new_lines, new_count, unchanged + len(new_lines)),
        shared,
        _Unchanged(old, start, old_end),
    )
    return len(old_lines), len(new_lines), keep_old, keep_new


# --------------------------------------------------------------------------
# Trimming and splitting
# --------------------------------------------------------------------------


def common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix of two byte strings, in C-speed slices."""
    n = min(len(a), len(b))
    lo, step = 0, 4096
    # Gallop over equal blocks, then bisect inside the first unequal one.
    while lo < n:
        hi = min(n, lo + step)
        if a[lo:hi] != b[lo:hi]:
            break
        lo, step = hi, step * 2
    else:
        return n
    while hi - lo > _XOR_WINDOW:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    # The highest set bit of the XOR of the two blocks is the first difference.
    diff = int.from_bytes(a[lo:hi], "big") ^ int.from_bytes(b[lo:hi], "big")
    return hi - (diff.bit_length() + 7) // 8


def common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """Length of the common suffix of ``a`` and ``b``, at most ``limit``."""
    la, lb = len(a), len(b)
    lo, step = 0, 4096
    while lo < limit:
        hi = min(limit, lo + step)
        if a[la - hi : la - lo] != b[lb - hi : lb - lo]:
            break
        lo, step = hi, step * 2
    else:
        return limit
    # Invariant: the last lo bytes are equal, the last hi are not.
    while hi - lo > _XOR_WINDOW:
        mid = (lo + hi) // 2
        if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
            lo = mid
        else:
            hi = mid
    # Read little-endian, the last differing byte is the highest set bit.
    diff = int.from_bytes(a[la - hi : la - lo], "little") ^ int.from_bytes(
        b[lb - hi : lb - lo], "little"
    )
    return hi - (diff.bit_length() + 7) // 8


def _trim(a: bytes, b: bytes) -> tuple[int, int, int]:
    """Trim common whole lines at both ends: return ``(start, a_end, b_end)``.

    ``a[:start] == b[:start]`` and ``a[a_end:] == b[b_end:]`` are whole lines.
    """
    p = common_prefix(a, b)
    if p == len(a) == len(b):
        return p, p, p
    start = a.rfind(b"\n", 0, p) + 1
    limit = min(len(a), len(b)) - start
    s = common_suffix(a, b, limit)
    qa, qb = len(a) - s, len(b) - s
    # Move forward to the first position that starts a line in both files;
    # past the first newline inside the common suffix that holds for both.
    while qa < len(a) and not (
        (qa == start or a[qa - 1] == 10) and (qb == start or b[qb - 1] == 10)
    ):
        nl = a.find(b"\n", qa)
        qa = len(a) if nl < 0 else nl + 1
        qb = len(b) - (len(a) - qa)
    return start, qa, qb


def _split(data: bytes, start: int, end: int) -> list[bytes]:
    """Lines of ``data[start:end]``; a last line with no newline gets one added.

    The added ``b"\\n"`` makes it a key no ordinary line can equal (those
    contain no newline), so it differs from the same text with a newline.
    """
    if start == end:
        return []
    lines = data[start:end].split(b"\n")
    last = lines.pop()
    if last:
        lines.append(last + b"\n")
    return lines


_NOTHING: dict[bytes, int] = {}


class _Unchanged:
    """Counts of lines in the trimmed, unchanged part of a file (both sides share it)."""

    def __init__(self, data: bytes, start: int, end: int) -> None:
        self.data, self.start, self.end = data, start, end
        self.cache: dict[bytes, int] = {}
        self.counter: Counter[bytes] | None = None

    def counts(self, keys: set[bytes], limit: int) -> Callable[..., int]:
        """A lookup ``key -> occurrences`` for ``keys``, exact below ``limit``.

        Few keys are searched for one by one; for many, splitting the
        unchanged part once is cheaper.
        """
        if self.start == 0 and self.end == len(self.data):
            return _NOTHING.get  # nothing unchanged: a rewrite
        if self.counter is None and len(keys) > _FIND_MAX_KEYS:
            data = self.data
            counter = Counter(data[: self.start].split(b"\n"))
            counter[b""] -= 1  # split() leaves an empty piece after the last newline
            counter.update(_split(data, self.end, len(data)))
            self.counter = counter
        if self.counter is not None:
            return self.counter.get
        cache = self.cache
        for key in keys:
            if key not in cache:
                cache[key] = self._find(key, limit)
        return cache.get

    def _find(self, key: bytes, limit: int) -> int:
        data, start, end = self.data, self.start, self.end
        if key[-1:] == b"\n":
            # A line with no newline can only be the file's last line.
            if end < len(data) and data[-1:] != b"\n":
                return int(data[data.rfind(b"\n") + 1 :] == key[:-1])
            return 0
        line = key + b"\n"
        pattern = b"\n" + line
        n = 0
        # Region before the change: [0, start); after it: [end, len).
        for lo, hi in ((0, start), (end, len(data))):
            if hi <= lo:
                continue
            if data.startswith(line, lo, hi):
                n += 1
            i = data.find(pattern, lo, hi)
            while i >= 0 and n < limit:
                n += 1
                # Restart on the newline that ends this line: adjacent equal
                # lines share it.
                i = data.find(pattern, i + len(line), hi)
            if n >= limit:
                break
        return n


# --------------------------------------------------------------------------
# xdl_cleanup_records
# --------------------------------------------------------------------------


def _cleanup(
    old_side: tuple[list[bytes], Counter[bytes], int],
    new_side: tuple[list[bytes], Counter[bytes], int],
    shared: set[bytes],
    common: _Unchanged,
) -> tuple[list[bytes], list[bytes]]:
    """Return the lines xdiff keeps for its Myers pass (``xdl_cleanup_records``).

    A line whose count in the whole other file is 0 is dropped (it cannot
    match); a line seen at least ``mlim`` times there (a "frequent" line) is
    dropped too when it sits inside a run of unmatched lines. Only the latter
    changes the outcome, so the whole-file counts are looked up only when some
    shared line is frequent. Each side is ``(lines of the middle, their
    counts, number of lines in the whole file)``.
    """
    old, old_count, old_nrec = old_side
    new, new_count, new_nrec = new_side
    mlim_old = min(bogosqrt(old_nrec), _MAX_EQLIMIT)
    mlim_new = min(bogosqrt(new_nrec), _MAX_EQLIMIT)
    get = common.counts(shared, max(mlim_old, mlim_new))
    # Whole-file counts of the shared lines, with C-level maps: this runs for
    # most multi-hunk edits.
    keys = list(shared)
    base = list(map(get, keys, repeat(0)))
    in_new = list(map(add, base, map(new_count.__getitem__, keys)))
    in_old = list(map(add, base, map(old_count.__getitem__, keys)))
    if max(in_new) < mlim_old and max(in_old) < mlim_new:
        # No shared line is frequent, so none is discarded: dropping the
        # unmatched lines leaves the LCS as it is.
        return (
            list(compress(old, map(shared.__contains__, old))),
            list(compress(new, map(shared.__contains__, new))),
        )
    # Shared lines frequent in the new file (judged for old lines), and in the old.
    freq_in_new = list(compress(keys, map(mlim_old.__le__, in_new)))
    freq_in_old = list(compress(keys, map(mlim_new.__le__, in_old)))
    only_old = list(old_count.keys() - shared)
    only_new = list(new_count.keys() - shared)
    get = common.counts({*only_old, *only_new}, max(mlim_old, mlim_new))
    return (
        _keep(old, _dis(old, shared, freq_in_new, only_old, get, mlim_old)),
        _keep(new, _dis(new, shared, freq_in_old, only_new, get, mlim_new)),
    )


def _dis(
    lines: list[bytes],
    shared: set[bytes],
    frequent: list[bytes],
    unshared: list[bytes],
    get: Callable[..., int],
    mlim: int,
) -> bytes:
    """xdiff's ``dis`` per line: 0 absent from the other file, 2 frequent there, else 1.

    Built with C-level maps over the distinct lines, never a Python loop:
    ``unshared`` lines are found in the other file only in its unchanged part.
    """
    value = dict.fromkeys(shared, 1)
    value.update(dict.fromkeys(frequent, 2))
    value.update(dict.fromkeys(unshared, 1))
    counts = list(map(get, unshared, repeat(0)))
    value.update(dict.fromkeys(compress(unshared, map(not_, counts)), 0))
    value.update(dict.fromkeys(compress(unshared, map(mlim.__le__, counts)), 2))
    return bytes(map(value.__getitem__, lines))


def _keep(lines: list[bytes], dis: bytes) -> list[bytes]:
    """The lines xdiff keeps: dis 1, and dis 2 unless inside an unmatched run."""
    return list(compress(lines, kept_marks(dis)))
