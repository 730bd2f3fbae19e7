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
   of a minimal diff, and past a cost of 512 even the lines that cannot match
   change git's answer, so this step is ported faithfully. Compiled, it runs
   as xdlclean.py's loops over numbered lines; as pure Python, as C-level
   maps over the distinct lines, with only its last pass in xdlclean.py.
4. The kept lines are compared by Myers' greedy algorithm (as pure Python,
   with snakes followed by slice compares at C speed), so a few-line edit
   costs a few steps however long the file. That equals xdiff's Myers result
   whenever xdiff's cost cut-offs cannot trigger (edit cost at most 512
   lines); beyond that a port
   of ``xdl_recs_cmp`` with its heuristics gives git's (non-minimal) answer.
   Compiled, every edit is searched on the numbered lines (xdlsplit.py's
   greedy search, as C); as pure Python, costly edits have their lines
   numbered and find their minimal cost by a bit-parallel LCS on Python
   integers (myers.py). When that cost is over 512 (or the sizes alone prove
   it), the port (xdlsplit.py).

Compaction (``xdl_change_compact``, the indent heuristic) moves changed lines
without changing how many there are, so it does not matter for counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from itertools import chain, compress, count, repeat
from operator import add, not_

from . import xdlclean, xdlsplit
from .linetrim import Unchanged, split_lines, trim
from .myers import EXACT_MAX_COST, bogosqrt, edit_cost, lcs_length
from .xdlclean import kept_marks, kept_records, number_lines, shares_a_line
from .xdlsplit import minimal_cost, numbered_changed_counts

# xdiff's constant (xprepare.c).
_MAX_EQLIMIT = 1024
#: Prepare the lines as loops over numbers (xdlclean, compiled) rather than with
#: C-level maps over the distinct lines: compiled, the loops are the faster
#: (git.git's translation updates: the preparation took ~40% of line counting).
BY_NUMBERS = xdlclean.COMPILED and xdlsplit.COMPILED
# Above this many line pairs the bit-parallel LCS costs more than the port of
# git's Myers (measured: 20,000 x 20,000 lines, cost ~300: 44 ms against 16 ms;
# 5,000 x 5,000: 2 ms against 8 ms).
_LCS_MAX_CELLS = 10**8


def count_lines(data: bytes) -> int:
    """Number of lines as git counts them (a last line without newline counts)."""
    n = data.count(b"\n")
    return n + 1 if data and data[-1:] != b"\n" else n


def count_changes(old: bytes, new: bytes) -> tuple[int, int]:
    """Return ``(added, deleted)`` line counts between two text blobs, as git."""
    if BY_NUMBERS:
        return _count_numbered(old, new)
    old_total, new_total, keep_old, keep_new = _kept_middle(old, new)
    if not keep_old or not keep_new:
        return new_total, old_total
    n, m = len(keep_old), len(keep_new)
    # One method picked from the sizes: the greedy Myers on the lines for
    # edits in git's exact range; past it, the bit-parallel LCS on numbered
    # lines, and when even that cost is over the range (or the sizes alone
    # prove it), the port of git's own Myers.
    cost = None
    if abs(n - m) <= EXACT_MAX_COST:
        cost = edit_cost(keep_old, keep_new, lcs=False)
    if cost is None:
        # A costly edit: compare numbers, and let the lines go first (on a
        # 50,000-line rewrite they are much of the memory).
        h1, h2 = _numbered(keep_old, keep_new)
        del keep_old, keep_new
        if abs(n - m) <= EXACT_MAX_COST and n * m <= _LCS_MAX_CELLS:
            cost = n + m - 2 * lcs_length(h1, h2)
        if cost is None or cost > EXACT_MAX_COST:
            cost = sum(numbered_changed_counts(h1, h2))
    lcs = (n + m - cost) // 2
    return new_total - lcs, old_total - lcs


def _count_numbered(old: bytes, new: bytes) -> tuple[int, int]:
    """:func:`count_changes` with every step on numbered lines (compiled loops)."""
    old_total, new_total, keep_old, keep_new = _kept_records(old, new)
    if not keep_old or not keep_new:
        return new_total, old_total
    n, m = len(keep_old), len(keep_new)
    # Myers' greedy search, in git's exact range; past it, git's own Myers.
    cost = minimal_cost(keep_old, keep_new, EXACT_MAX_COST) if abs(n - m) <= EXACT_MAX_COST else -1
    if cost < 0:
        cost = sum(numbered_changed_counts(keep_old, keep_new))
    lcs = (n + m - cost) // 2
    return new_total - lcs, old_total - lcs


def _kept_records(old: bytes, new: bytes) -> tuple[int, int, list[int], list[int]]:
    """Lines of the changed middle of each file, and the numbers of those xdiff keeps.

    Returns ``(old lines, new lines, kept old, kept new)``, as xdiff's
    ``xdl_cleanup_records`` leaves them (the kept lists are empty when
    nothing can match). The lines are freed on return.
    """
    start, old_end, new_end = trim(old, new)
    old_lines = split_lines(old, start, old_end)
    new_lines = split_lines(new, start, new_end)
    if not old_lines or not new_lines:
        return len(old_lines), len(new_lines), [], []
    numbers, h_old, h_new, in_old, in_new = number_lines(old_lines, new_lines)
    if not shares_a_line(in_old, in_new):
        return len(old_lines), len(new_lines), [], []
    common = Unchanged(old, start, old_end)
    unchanged = common.line_count()
    mlim_old = min(bogosqrt(unchanged + len(old_lines)), _MAX_EQLIMIT)
    mlim_new = min(bogosqrt(unchanged + len(new_lines)), _MAX_EQLIMIT)
    base = common.numbered(numbers, max(mlim_old, mlim_new))
    return (
        len(old_lines),
        len(new_lines),
        kept_records(h_old, in_new, base, mlim_old),
        kept_records(h_new, in_old, base, mlim_new),
    )


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
    start, old_end, new_end = trim(old, new)
    old_lines = split_lines(old, start, old_end)
    new_lines = split_lines(new, start, new_end)
    if not old_lines or not new_lines:
        return len(old_lines), len(new_lines), [], []
    old_count, new_count = Counter(old_lines), Counter(new_lines)
    shared = old_count.keys() & new_count.keys()
    if not shared:
        return len(old_lines), len(new_lines), [], []
    common = Unchanged(old, start, old_end)
    # Lines of the whole files (xdiff's limits depend on them).
    unchanged = common.line_count()
    keep_old, keep_new = _cleanup(
        (old_lines, old_count, unchanged + len(old_lines)),
        (new_lines, new_count, unchanged + len(new_lines)),
        shared,
        common,
    )
    return len(old_lines), len(new_lines), keep_old, keep_new


# --------------------------------------------------------------------------
# xdl_cleanup_records
# --------------------------------------------------------------------------


def _cleanup(
    old_side: tuple[list[bytes], Counter[bytes], int],
    new_side: tuple[list[bytes], Counter[bytes], int],
    shared: set[bytes],
    common: Unchanged,
) -> tuple[list[bytes], list[bytes]]:
    """Return the lines xdiff keeps for its Myers pass (``xdl_cleanup_records``).

    A line whose count in the whole other file is 0 is dropped (it cannot
    match); a line seen at least ``mlim`` times there (a "frequent" line) is
    dropped too when it sits inside a run of unmatched lines. The other lines
    are kept, even those that cannot match (seen only in the other file's
    unchanged part): they make the edit's cost, and past 512 xdiff's answer
    depends on it. Each side is ``(lines of the middle, their counts, number
    of lines in the whole file)``.
    """
    old, old_count, old_nrec = old_side
    new, new_count, new_nrec = new_side
    mlim_old = min(bogosqrt(old_nrec), _MAX_EQLIMIT)
    mlim_new = min(bogosqrt(new_nrec), _MAX_EQLIMIT)
    limit = max(mlim_old, mlim_new)
    get = common.counts(shared, limit)
    # Whole-file counts of the shared lines, with C-level maps.
    keys = list(shared)
    base = list(map(get, keys, repeat(0)))
    in_new = map(add, base, map(new_count.__getitem__, keys))
    in_old = map(add, base, map(old_count.__getitem__, keys))
    # Shared lines frequent in the new file (judged for old lines), and in the old.
    freq_in_new = list(compress(keys, map(mlim_old.__le__, in_new)))
    freq_in_old = list(compress(keys, map(mlim_new.__le__, in_old)))
    only_old = list(old_count.keys() - shared)
    only_new = list(new_count.keys() - shared)
    get = common.counts({*only_old, *only_new}, limit)
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
