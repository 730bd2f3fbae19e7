"""Edit costs of line sequences: minimal ones, and git's Myers where it is not minimal.

:func:`edit_cost` is the minimal number of deleted plus added lines (Myers'
greedy algorithm, with a bit-parallel LCS for costly edits). Up to
``EXACT_MAX_COST`` that is what git's xdiff finds too: its Myers meets in the
middle at cost/2 <= 256, before any of its cut-offs.

Beyond it, :func:`changed_counts` ports ``xdl_recs_cmp``/``xdl_split``
(git's xdiff/xdiffi.c) with its cost cut-offs and "interesting path"
heuristic, which can make git's diff non-minimal; the port follows the C code
step by step, so names and loops mirror it rather than idiomatic Python.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

# xdiff's constants (xdiffi.c, xprepare.c).
MAX_COST_MIN = 256
HEUR_MIN_COST = 256
SNAKE_CNT = 20
K_HEUR = 4
# Up to this edit cost xdiff's Myers never reaches a heuristic cut-off, so it
# is minimal and equals :func:`edit_cost`.
EXACT_MAX_COST = 2 * HEUR_MIN_COST
# Boxes of the port up to this many line pairs are first tried with the
# bit-parallel LCS (~1.5 ms for 2,000 x 2,000 lines); a 20,000-line rewrite
# took 0.14 s in the port alone, split into 2,599 boxes.
BOX_LCS_CELLS = 4_000_000


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


def edit_cost(a: Sequence[Hashable], b: Sequence[Hashable], lcs: bool = True) -> int | None:
    """Lines deleted plus lines added by a minimal diff of ``a`` and ``b``.

    Myers' greedy algorithm (O(D²) steps) with snakes followed by C-level
    slice compares: a few-line edit in a long file costs a handful of steps
    whatever the file length. Costly edits go to the bit-parallel LCS, or,
    with ``lcs=False``, give None. The answer is exact; above
    ``EXACT_MAX_COST`` git's own diff may not be minimal, see
    :func:`changed_counts`.
    """
    n, m = len(a), len(b)
    max_d = min(EXACT_MAX_COST, 8 + int((n + m) ** 0.5))
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


def changed_counts(a: list[bytes], b: list[bytes]) -> tuple[int, int]:
    """Changed line counts of ``a`` and ``b`` by xdiff's Myers with its heuristics.

    A port of ``xdl_recs_cmp``/``xdl_split`` (git's xdiff/xdiffi.c), used
    only for large edits where those heuristics can make git's diff
    non-minimal. Returns ``(changed_in_a, changed_in_b)``.
    """
    ids: dict[bytes, int] = {}
    h1 = [ids.setdefault(x, len(ids)) for x in a]
    h2 = [ids.setdefault(x, len(ids)) for x in b]
    return numbered_changed_counts(h1, h2)


def numbered_changed_counts(h1: list[int], h2: list[int]) -> tuple[int, int]:
    """:func:`changed_counts` of lines already numbered (equal lines, equal numbers)."""
    n1, n2 = len(h1), len(h2)
    ndiags = n1 + n2 + 3
    mxcost = max(bogosqrt(ndiags), MAX_COST_MIN)
    kvdf = [0] * (2 * ndiags + 2)
    kvdb = [0] * (2 * ndiags + 2)
    base = n2 + 1  # diagonal d lives at index d + base
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
            # and so are its sub-boxes: xdiff solves it minimally, and the
            # bit-parallel LCS (C big ints) finds that answer far faster.
            common = lcs_length(h1[off1:lim1], h2[off2:lim2])
            if n + m - 2 * common <= EXACT_MAX_COST:
                changed1 += n - common
                changed2 += m - common
                continue
        i1, i2, min_lo, min_hi = _split_box(
            h1, h2, off1, lim1, off2, lim2, kvdf, kvdb, base, need_min, mxcost
        )
        stack.append((i1, lim1, i2, lim2, min_hi))
        stack.append((off1, i1, off2, i2, min_lo))
    return changed1, changed2


def _split_box(h1, h2, off1, lim1, off2, lim2, kvdf, kvdb, base, need_min, mxcost):
    """Port of ``xdl_split``: the split point of a box and the sub-boxes' need_min.

    Diagonal ``d`` is read at index ``j = d + base`` throughout (so ``i2 =
    i1 - j + base``): the loops below run a few hundred thousand times on a
    big rewrite, and every addition saved there counts.
    """
    big = 1 << 62
    dmin, dmax = off1 - lim2 + base, lim1 - off2 + base
    fmid, bmid = off1 - off2 + base, lim1 - lim2 + base
    odd = (fmid - bmid) & 1
    fmin = fmax = fmid
    bmin = bmax = bmid
    kvdf[fmid] = off1
    kvdb[bmid] = lim1
    ec = 0
    while True:
        ec += 1
        got_snake = False
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
        shift = base
        for j in range(fmax, fmin - 1, -2):
            below = kvdf[j - 1]
            above = kvdf[j + 1]
            i1 = below + 1 if below >= above else above
            i2 = i1 - j + shift
            if i1 < lim1 and i2 < lim2 and h1[i1] == h2[i2]:
                prev1 = i1
                i1 += 1
                i2 += 1
                while i1 < lim1 and i2 < lim2 and h1[i1] == h2[i2]:
                    i1 += 1
                    i2 += 1
                if i1 - prev1 > SNAKE_CNT:
                    got_snake = True
            kvdf[j] = i1
            if odd and bmin <= j <= bmax and kvdb[j] <= i1:
                return i1, i2, True, True
        if bmin > dmin:
            bmin -= 1
            kvdb[bmin - 1] = big
        else:
            bmin += 1
        if bmax < dmax:
            bmax += 1
            kvdb[bmax + 1] = big
        else:
            bmax -= 1
        for j in range(bmax, bmin - 1, -2):
            below = kvdb[j - 1]
            above = kvdb[j + 1]
            i1 = below if below < above else above - 1
            i2 = i1 - j + shift
            if i1 > off1 and i2 > off2 and h1[i1 - 1] == h2[i2 - 1]:
                prev1 = i1
                i1 -= 1
                i2 -= 1
                while i1 > off1 and i2 > off2 and h1[i1 - 1] == h2[i2 - 1]:
                    i1 -= 1
                    i2 -= 1
                if prev1 - i1 > SNAKE_CNT:
                    got_snake = True
            kvdb[j] = i1
            if not odd and fmin <= j <= fmax and i1 <= kvdf[j]:
                return i1, i2, True, True
        if need_min:
            continue
        if got_snake and ec > HEUR_MIN_COST:
            found = _heuristic_snake(
                h1,
                h2,
                off1,
                lim1,
                off2,
                lim2,
                kvdf,
                kvdb,
                base,
                ec,
                fmin - base,
                fmax - base,
                fmid - base,
                bmin - base,
                bmax - base,
                bmid - base,
            )
            if found is not None:
                return found
        if ec >= mxcost:
            return _cutoff(
                off1,
                lim1,
                off2,
                lim2,
                kvdf,
                kvdb,
                base,
                fmin - base,
                fmax - base,
                bmin - base,
                bmax - base,
            )


def _heuristic_snake(
    h1, h2, off1, lim1, off2, lim2, kvdf, kvdb, base, ec, fmin, fmax, fmid, bmin, bmax, bmid
):
    """The "interesting path" heuristic of ``xdl_split`` (long snakes far along)."""
    best = 0
    spl = None
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
                    spl = (i1, i2)
                    break
                k += 1
    if best > 0:
        return spl[0], spl[1], True, False
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
                    spl = (i1, i2)
                    break
                k += 1
    if best > 0:
        return spl[0], spl[1], False, True
    return None


def _cutoff(off1, lim1, off2, lim2, kvdf, kvdb, base, fmin, fmax, bmin, bmax):
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
