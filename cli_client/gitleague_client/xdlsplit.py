"""git's Myers where it is not minimal: a port of ``xdl_recs_cmp``/``xdl_split``.

For edits costing more than ``myers.EXACT_MAX_COST`` lines, git's xdiff
(xdiff/xdiffi.c) stops searching a box after ``mxcost`` steps and splits it
at the furthest-reaching path, or earlier at an "interesting" long snake:
its answer can then be non-minimal, and only following its algorithm gives
its counts. The port mirrors the C code's names and steps.

What keeps it affordable in Python:

- each step of a search computes all its diagonals in one loop over slices of
  the previous step's values, writing its own in place as the C code does, and
  the paths' meeting is checked on slices afterwards;
- a box split at its cut-off leaves a sub-box with the same end (or start):
  the search from that corner is the same as the one just made, as long as it
  never came near the side that moved, so its recorded steps are replayed
  instead of recomputed. On a translation file rewritten by 18,000 lines,
  97 boxes in a row share their end;
- a box whose minimal cost is within git's exact range is answered by a
  minimal diff (compiled, Myers' greedy search when cheap; else a bit-parallel LCS)
  instead of being split further;
- the module is fully typed so that mypyc can compile it (the client's
  setup.py does when a C compiler is present): the loops over diagonals then
  run as C on native 64-bit integers (``i64``, a plain ``int`` when not
  compiled), about four times as fast on such a file as this source.
  Nothing here may depend on being compiled or not: the tests compare the
  compiled module with this source.
"""

from __future__ import annotations

from array import array
from collections.abc import Hashable, Sequence
from operator import le
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # mypyc's native integer; annotations only, never needed at run time
    from mypy_extensions import i64

from .myers import EXACT_MAX_COST, bogosqrt, lcs_length

# xdiff's constants (xdiffi.c, xprepare.c).
MAX_COST_MIN = 256
HEUR_MIN_COST = 256
SNAKE_CNT = 20
K_HEUR = 4
# Boxes of the port up to this many line pairs are first tried with the
# bit-parallel LCS (~1.5 ms for 2,000 x 2,000 lines); a 20,000-line rewrite
# took 0.14 s in the port alone, split into 2,599 boxes.
BOX_LCS_CELLS = 4_000_000
#: Whether this module runs compiled (mypyc): its loops then cost a few
#: nanoseconds a step, and callers may pick them over C-level tricks.
COMPILED = not __file__.endswith((".py", ".pyc"))
# Before that LCS, Myers' greedy search up to this cost: ~D^2/2 diagonals, a few
# microseconds when compiled, where the LCS costs a millisecond whatever the cost.
# Such boxes of translation files rewritten by thousands of lines mostly cost
# under 64 (measured on git.git's po/ files): this halved the compiled port's
# time there. As pure Python (~0.3 us a diagonal) it cost 15% more on the same
# files than the LCS alone, so there it is off.
GREEDY_MAX_COST = 128 if COMPILED else 0
# Past any line index; below 2**62, the largest int compiled code keeps unboxed.
_BIG = 1 << 60


def changed_counts(a: Sequence[Hashable], b: Sequence[Hashable]) -> tuple[int, int]:
    """Changed line counts of ``a`` and ``b`` by xdiff's Myers with its heuristics.

    Returns ``(changed_in_a, changed_in_b)``.
    """
    ids: dict[Hashable, int] = {}
    h1 = [ids.setdefault(x, len(ids)) for x in a]
    h2 = [ids.setdefault(x, len(ids)) for x in b]
    return numbered_changed_counts(h1, h2)


def minimal_cost(h1: list[int], h2: list[int], max_cost: int) -> int:
    """Minimal edit cost of two numbered line lists, or -1 if it is over ``max_cost``."""
    return _greedy_cost(h1, h2, 0, len(h1), 0, len(h2), max_cost)


def numbered_changed_counts(h1: list[int], h2: list[int]) -> tuple[int, int]:
    """:func:`changed_counts` of lines already numbered (equal lines, equal numbers)."""
    n1, n2 = len(h1), len(h2)
    ndiags = n1 + n2 + 3
    mxcost = max(bogosqrt(ndiags), MAX_COST_MIN)
    kvdf = [0] * (2 * ndiags + 2)
    kvdb = [0] * (2 * ndiags + 2)
    base = n2 + 1  # diagonal d lives at index d + base
    box = _Box(h1, h2, kvdf, kvdb, base, mxcost)
    changed1 = changed2 = 0
    stack = [(0, n1, 0, n2, False)]
    while stack:
        off1, lim1, off2, lim2, need_min = stack.pop()
        while off1 < lim1 and off2 < lim2 and h1[off1] == h2[off2]:
            off1 += 1
            off2 += 1
        while off1 < lim1 and off2 < lim2 and h1[lim1 - 1] == h2[lim2 - 1]:
            lim1 -= 1
            lim2 -= 1
        if off1 == lim1:
            changed2 += lim2 - off2
            continue
        if off2 == lim2:
            changed1 += lim1 - off1
            continue
        n, m = lim1 - off1, lim2 - off2
        if n * m <= BOX_LCS_CELLS and abs(n - m) <= EXACT_MAX_COST:
            # A box of cost <= 512 is split at ec <= 256, before any cut-off,
            # and so are its sub-boxes: xdiff solves it minimally, and a
            # minimal diff gives that answer far faster: the greedy search
            # for a cheap box, else the bit-parallel LCS (C big ints).
            cost = _greedy_cost(h1, h2, off1, lim1, off2, lim2, GREEDY_MAX_COST)
            if cost >= 0:
                common = (n + m - cost) // 2
            else:
                common = lcs_length(h1[off1:lim1], h2[off2:lim2])
            if n + m - 2 * common <= EXACT_MAX_COST:
                changed1 += n - common
                changed2 += m - common
                continue
        i1, i2, min_lo, min_hi = box.split(off1, lim1, off2, lim2, need_min)
        stack.append((i1, lim1, i2, lim2, min_hi))
        stack.append((off1, i1, off2, i2, min_lo))
    return changed1, changed2


class _Search:
    """The recorded steps of one search (forward from a box's start, or backward from its end).

    Each step is ``(lowest diagonal, highest diagonal, values, got_snake)``,
    the values in an array: a search of 512 steps holds ~260,000 of them.
    """

    __slots__ = ("corner", "steps")

    def __init__(self, corner: tuple[int, int]) -> None:
        self.corner = corner
        self.steps: list[tuple[int, int, array[int], bool]] = []

    def reach(self, base: int) -> tuple[int, int, int, int]:
        """Smallest and largest (i1, i2) of any point the search reached.

        Each diagonal's latest value is its furthest (a diagonal only moves
        outward), so the last two steps, one of each parity, bound them all.
        """
        lo1 = lo2 = _BIG
        hi1 = hi2 = -_BIG
        for first, last, values, _ in self.steps[-2:]:
            lo1, hi1 = min(lo1, min(values)), max(hi1, max(values))
            i2s = [i1 - j + base for j, i1 in zip(range(first, last + 1, 2), values, strict=True)]
            lo2, hi2 = min(lo2, min(i2s)), max(hi2, max(i2s))
        return lo1, hi1, lo2, hi2


class _Box:
    """``xdl_split`` over one diff's numbered lines, remembering its last two searches."""

    def __init__(
        self, h1: list[int], h2: list[int], kvdf: list[int], kvdb: list[int], base: int, mxcost: int
    ) -> None:
        self.h1, self.h2 = h1, h2
        self.kvdf, self.kvdb = kvdf, kvdb
        self.base, self.mxcost = base, mxcost
        self.forward: _Search | None = None
        self.backward: _Search | None = None

    def split(
        self, off1: int, lim1: int, off2: int, lim2: int, need_min: bool
    ) -> tuple[int, int, bool, bool]:
        """The split point of a box and the sub-boxes' need_min (``xdl_split``)."""
        h1, h2, kvdf, kvdb, base = self.h1, self.h2, self.kvdf, self.kvdb, self.base
        dmin, dmax = off1 - lim2 + base, lim1 - off2 + base
        fmid, bmid = off1 - off2 + base, lim1 - lim2 + base
        odd = (fmid - bmid) & 1
        fmin = fmax = fmid
        bmin = bmax = bmid
        kvdf[fmid] = off1
        kvdb[bmid] = lim1
        fwd_old = self._replayable_forward(off1, lim1, off2, lim2, dmin, dmax)
        bwd_old = self._replayable_backward(off1, lim1, off2, lim2, dmin, dmax)
        fwd = self.forward = _Search((off1, off2))
        bwd = self.backward = _Search((lim1, lim2))
        ec = 0
        while True:
            ec += 1
            # Long snakes matter to the heuristic past HEUR_MIN_COST steps only (noted
            # even when this box will not use them: a box replaying its steps may).
            track = ec > HEUR_MIN_COST
            if fwd_old is not None and ec <= len(fwd_old):
                step = fwd_old[ec - 1]
                fmin, fmax, values, got_f = step
                kvdf[fmin : fmax + 1 : 2] = values
            else:
                if fmin > dmin:
                    fmin -= 1
                    kvdf[fmin - 1] = -1
                else:
                    fmin += 1
                if fmax < dmax:
                    fmax += 1
                    kvdf[fmax + 1] = -1
                else:
                    fmax -= 1
                got_f = _forward(h1, h2, kvdf, fmin, fmax, lim1, lim2, base, track)
                step = (fmin, fmax, array("q", kvdf[fmin : fmax + 1 : 2]), got_f)
            fwd.steps.append(step)
            if odd:
                j = _meet(kvdb, kvdf, max(fmin, bmin), min(fmax, bmax), fmax)
                if j is not None:
                    return kvdf[j], kvdf[j] - j + base, True, True
            if bwd_old is not None and ec <= len(bwd_old):
                step = bwd_old[ec - 1]
                bmin, bmax, values, got_b = step
                kvdb[bmin : bmax + 1 : 2] = values
            else:
                if bmin > dmin:
                    bmin -= 1
                    kvdb[bmin - 1] = _BIG
                else:
                    bmin += 1
                if bmax < dmax:
                    bmax += 1
                    kvdb[bmax + 1] = _BIG
                else:
                    bmax -= 1
                got_b = _backward(h1, h2, kvdb, bmin, bmax, off1, off2, base, track)
                step = (bmin, bmax, array("q", kvdb[bmin : bmax + 1 : 2]), got_b)
            bwd.steps.append(step)
            if not odd:
                j = _meet(kvdb, kvdf, max(fmin, bmin), min(fmax, bmax), bmax)
                if j is not None:
                    return kvdb[j], kvdb[j] - j + base, True, True
            if need_min:
                continue
            if (got_f or got_b) and ec > HEUR_MIN_COST:
                found = _heuristic_snake(
                    h1, h2, off1, lim1, off2, lim2, kvdf, kvdb, base, ec,
                    fmin - base, fmax - base, fmid - base, bmin - base, bmax - base, bmid - base,
                )  # fmt: skip
                if found is not None:
                    return found
            if ec >= self.mxcost:
                return _cutoff(
                    off1, lim1, off2, lim2, kvdf, kvdb, base,
                    fmin - base, fmax - base, bmin - base, bmax - base,
                )  # fmt: skip

    def _replayable_forward(
        self, off1: int, lim1: int, off2: int, lim2: int, dmin: int, dmax: int
    ) -> list[tuple[int, int, array[int], bool]] | None:
        """The last forward search's steps if this box's own would repeat them.

        Same start, and it never came within reach of this box's end: no
        diagonal range clamped by it, every point strictly inside it.
        """
        old = self.forward
        if old is None or old.corner != (off1, off2) or not old.steps:
            return None
        lo = min(step[0] for step in old.steps[-2:])
        hi = max(step[1] for step in old.steps[-2:])
        _, hi1, _, hi2 = old.reach(self.base)
        if lo - 1 > dmin and hi + 1 < dmax and hi1 < lim1 and hi2 < lim2:
            return old.steps
        return None

    def _replayable_backward(
        self, off1: int, lim1: int, off2: int, lim2: int, dmin: int, dmax: int
    ) -> list[tuple[int, int, array[int], bool]] | None:
        """The last backward search's steps if this box's own would repeat them."""
        old = self.backward
        if old is None or old.corner != (lim1, lim2) or not old.steps:
            return None
        lo = min(step[0] for step in old.steps[-2:])
        hi = max(step[1] for step in old.steps[-2:])
        lo1, _, lo2, _ = old.reach(self.base)
        if lo - 1 > dmin and hi + 1 < dmax and lo1 > off1 and lo2 > off2:
            return old.steps
        return None


def _forward(
    h1: list[int], h2: list[int], kvd: list[int],
    fmin: i64, fmax: i64, lim1: i64, lim2: i64, base: i64, track: bool,
) -> bool:  # fmt: skip
    """One forward step, written into ``kvd``: the furthest point of each diagonal.

    Returns whether a long snake was seen.
    """
    got_snake = False
    d: i64 = fmin - base
    j: i64
    for j in range(fmin, fmax + 1, 2):
        below: i64 = kvd[j - 1]
        above: i64 = kvd[j + 1]
        i1 = below + 1 if below >= above else above
        i2 = i1 - d
        d += 2
        if i1 < lim1 and i2 < lim2 and h1[i1] == h2[i2]:
            start = i1
            i1 += 1
            i2 += 1
            while i1 < lim1 and i2 < lim2 and h1[i1] == h2[i2]:
                i1 += 1
                i2 += 1
            if track and i1 - start > SNAKE_CNT:
                got_snake = True
        kvd[j] = i1
    return got_snake


def _backward(
    h1: list[int], h2: list[int], kvd: list[int],
    bmin: i64, bmax: i64, off1: i64, off2: i64, base: i64, track: bool,
) -> bool:  # fmt: skip
    """One backward step (towards the box's start), written into ``kvd`` likewise."""
    got_snake = False
    d: i64 = bmin - base
    j: i64
    for j in range(bmin, bmax + 1, 2):
        below: i64 = kvd[j - 1]
        above: i64 = kvd[j + 1]
        i1 = below if below < above else above - 1
        i2 = i1 - d
        d += 2
        if i1 > off1 and i2 > off2 and h1[i1 - 1] == h2[i2 - 1]:
            start = i1
            i1 -= 1
            i2 -= 1
            while i1 > off1 and i2 > off2 and h1[i1 - 1] == h2[i2 - 1]:
                i1 -= 1
                i2 -= 1
            if track and start - i1 > SNAKE_CNT:
                got_snake = True
        kvd[j] = i1
    return got_snake


def _meet(kvdb: list[int], kvdf: list[int], lo: int, hi: int, top: int) -> int | None:
    """The highest diagonal in ``[lo, hi]`` of ``top``'s parity where the paths overlap.

    xdiff checks each diagonal as it computes it, highest first, and stops at
    the first overlap; checking the finished step's values in that order
    finds the same one.
    """
    if (top - hi) & 1:
        hi -= 1
    if hi < lo or not any(map(le, kvdb[lo : hi + 1 : 2], kvdf[lo : hi + 1 : 2])):
        return None
    for j in range(hi, lo - 1, -2):
        if kvdb[j] <= kvdf[j]:
            return j
    return None


def _heuristic_snake(
    h1: list[int], h2: list[int], off1: int, lim1: int, off2: int, lim2: int,
    kvdf: list[int], kvdb: list[int], base: int, ec: int,
    fmin: int, fmax: int, fmid: int, bmin: int, bmax: int, bmid: int,
) -> tuple[int, int, bool, bool] | None:  # fmt: skip
    """The "interesting path" heuristic of ``xdl_split`` (long snakes far along)."""
    best = 0
    spl1 = spl2 = 0
    for d in range(fmax, fmin - 1, -2):
        dd = d - fmid if d > fmid else fmid - d
        i1 = kvdf[d + base]
        i2 = i1 - d
        v = (i1 - off1) + (i2 - off2) - dd
        if (
            v > K_HEUR * ec
            and v > best
            and off1 + SNAKE_CNT <= i1 < lim1
            and off2 + SNAKE_CNT <= i2 < lim2
        ):
            k = 1
            while h1[i1 - k] == h2[i2 - k]:
                if k == SNAKE_CNT:
                    best = v
                    spl1, spl2 = i1, i2
                    break
                k += 1
    if best > 0:
        return spl1, spl2, True, False
    for d in range(bmax, bmin - 1, -2):
        dd = d - bmid if d > bmid else bmid - d
        i1 = kvdb[d + base]
        i2 = i1 - d
        v = (lim1 - i1) + (lim2 - i2) - dd
        if (
            v > K_HEUR * ec
            and v > best
            and off1 < i1 <= lim1 - SNAKE_CNT
            and off2 < i2 <= lim2 - SNAKE_CNT
        ):
            k = 0
            while h1[i1 + k] == h2[i2 + k]:
                if k == SNAKE_CNT - 1:
                    best = v
                    spl1, spl2 = i1, i2
                    break
                k += 1
    if best > 0:
        return spl1, spl2, False, True
    return None


def _cutoff(
    off1: int, lim1: int, off2: int, lim2: int, kvdf: list[int], kvdb: list[int],
    base: int, fmin: int, fmax: int, bmin: int, bmax: int,
) -> tuple[int, int, bool, bool]:  # fmt: skip
    """``xdl_split``'s "enough is enough": the furthest reaching path."""
    fbest = fbest1 = -1
    for d in range(fmax, fmin - 1, -2):
        i1 = min(kvdf[d + base], lim1)
        i2 = i1 - d
        if lim2 < i2:
            i1, i2 = lim2 + d, lim2
        if fbest < i1 + i2:
            fbest, fbest1 = i1 + i2, i1
    bbest = bbest1 = 1 << 62
    for d in range(bmax, bmin - 1, -2):
        i1 = max(off1, kvdb[d + base])
        i2 = i1 - d
        if i2 < off2:
            i1, i2 = off2 + d, off2
        if i1 + i2 < bbest:
            bbest, bbest1 = i1 + i2, i1
    if (lim1 + lim2) - bbest < fbest - (off1 + off2):
        return fbest1, fbest - fbest1, True, False
    return bbest1, bbest - bbest1, False, True


def _greedy_cost(
    h1: list[int], h2: list[int], off1: i64, lim1: i64, off2: i64, lim2: i64, max_d: i64
) -> i64:
    """Minimal edit cost of box ``h1[off1:lim1]``/``h2[off2:lim2]``, or -1 if over ``max_d``.

    Myers' greedy algorithm on the box in place (no slices): ``d`` steps cost
    ``d * d / 2`` diagonals plus the snakes they follow. The recurrence is
    :func:`myers.edit_cost`'s; that one follows snakes by slice compares,
    fast in pure Python on any lines, this one element by element on
    numbers, which compiled code runs as C.
    """
    n: i64 = lim1 - off1
    m: i64 = lim2 - off2
    v = [0] * (2 * max_d + 3)
    mid: i64 = max_d + 1
    d: i64
    k: i64
    x: i64
    y: i64
    for d in range(max_d + 1):
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[mid + k - 1] < v[mid + k + 1]):
                x = v[mid + k + 1]
            else:
                x = v[mid + k - 1] + 1
            y = x - k
            while x < n and y < m and h1[off1 + x] == h2[off2 + y]:
                x += 1
                y += 1
            v[mid + k] = x
            if x >= n and y >= m:
                return d
    return -1
