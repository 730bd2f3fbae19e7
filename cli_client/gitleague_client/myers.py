"""Minimal edit costs of line sequences.

:func:`edit_cost` is the minimal number of deleted plus added lines (Myers'
greedy algorithm, with a bit-parallel LCS for costly edits). Up to
``EXACT_MAX_COST`` that is what git's xdiff finds too: its Myers meets in the
middle at cost/2 <= 256, before any of its cut-offs. Beyond it git's answer
may not be minimal: xdlsplit.py ports git's own algorithm for those.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

# xdiff's HEUR_MIN_COST (xdiffi.c): up to twice this edit cost xdiff's Myers
# never reaches a heuristic cut-off, so it is minimal and equals
# :func:`edit_cost`.
EXACT_MAX_COST = 2 * 256


def bogosqrt(n: int) -> int:
    """xdiff's ``xdl_bogosqrt``: a power of two near the square root of ``n``."""
    i = 1
    while n > 0:
        i <<= 1
        n >>= 2
    return i


def _run_length(a: Sequence[Hashable], i: int, b: Sequence[Hashable], j: int) -> int:
    """Length of the common run ``a[i:]``/``b[j:]``, by galloping list-slice compares."""
    n = min(len(a) - i, len(b) - j)
    lo, step = 0, 8
    while lo < n:
        hi = min(n, lo + step)
        if a[i + lo : i + hi] != b[j + lo : j + hi]:
            break
        lo, step = hi, step * 2
    else:
        return n
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[i + lo : i + mid] == b[j + lo : j + mid]:
            lo = mid
        else:
            hi = mid
    return lo


def edit_cost(
    a: Sequence[Hashable], b: Sequence[Hashable], lcs: bool = True, max_cost: int = EXACT_MAX_COST
) -> int | None:
    """Lines deleted plus lines added by a minimal diff of ``a`` and ``b``.

    Myers' greedy algorithm (O(D²) steps) with snakes followed by C-level
    slice compares: a few-line edit in a long file costs a handful of steps
    whatever the file length. Costly edits (past ``max_cost``, or past
    ``8 + sqrt(len(a) + len(b))``) go to the bit-parallel LCS, or, with
    ``lcs=False``, give None. The answer is exact; above ``EXACT_MAX_COST``
    git's own diff may not be minimal, see :func:`changed_counts`.
    """
    n, m = len(a), len(b)
    max_d = min(max_cost, 8 + int((n + m) ** 0.5))
    v = [0] * (2 * max_d + 3)
    mid = max_d + 1  # diagonal k lives at v[mid + k]
    for d in range(max_d + 1):
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[mid + k - 1] < v[mid + k + 1]):
                x = v[mid + k + 1]
            else:
                x = v[mid + k - 1] + 1
            y = x - k
            if x < n and y < m and a[x] == b[y]:
                x += _run_length(a, x, b, y)
                y = x - k
            v[mid + k] = x
            if x >= n and y >= m:
                return d
    return n + m - 2 * lcs_length(a, b) if lcs else None


def lcs_length(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Length of a longest common subsequence (Hyyrö's bit-parallel algorithm).

    Bits of one integer stand for the positions of the longer sequence; each
    line of the shorter one costs a few big-int operations.
    """
    head = _run_length(a, 0, b, 0)
    if head:
        return head + lcs_length(a[head:], b[head:])
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return 0
    masks: dict[Hashable, int] = {}
    bit = 1
    for key in a:
        masks[key] = masks.get(key, 0) | bit
        bit <<= 1
    full = bit - 1
    v = full
    get = masks.get
    for key in b:
        m = get(key)
        if m:
            u = v & m
            v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()
