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
   of a minimal diff, so this step is ported faithfully.
4. The rest is compared with a bit-parallel LCS on Python integers (one big-int
   operation per line rather than per cell). That equals xdiff's Myers result
   whenever xdiff's cost cut-offs cannot trigger (edit cost at most 512 lines);
   beyond that a port of ``xdl_recs_cmp`` with its heuristics gives git's
   (non-minimal) answer.

Compaction (``xdl_change_compact``, the indent heuristic) moves changed lines
without changing how many there are, so it does not matter for counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from itertools import compress, repeat
from operator import add

# xdiff's constants (xprepare.c, xdiffi.c).
_KPDIS_RUN = 4
_MAX_EQLIMIT = 1024
_SIMSCAN_WINDOW = 100
_MAX_COST_MIN = 256
_HEUR_MIN_COST = 256
_SNAKE_CNT = 20
_K_HEUR = 4
# Up to this edit cost xdiff's Myers never reaches a heuristic cut-off (it
# meets in the middle at cost/2 <= 256 = _HEUR_MIN_COST), so it is minimal and
# the LCS gives the same counts.
_EXACT_LCS_MAX_COST = 2 * _HEUR_MIN_COST
# With fewer distinct lines to count than this, searching the file for each is
# cheaper than splitting the unchanged part of the file into lines.
_FIND_MAX_KEYS = 8


def count_lines(data: bytes) -> int:
    """Number of lines as git counts them (a last line without newline counts)."""
    n = data.count(b"\n")
    return n + 1 if data and data[-1:] != b"\n" else n


def count_changes(old: bytes, new: bytes) -> tuple[int, int]:
    """Return ``(added, deleted)`` line counts between two text blobs, as git."""
    start, old_end, new_end = _trim(old, new)
    old_lines = _split(old, start, old_end)
    new_lines = _split(new, start, new_end)
    if not old_lines or not new_lines:
        return len(new_lines), len(old_lines)
    shared = set(old_lines).intersection(new_lines)
    if not shared:
        return len(new_lines), len(old_lines)
    common = _Unchanged(old, start, old_end)
    keep_old, keep_new = _cleanup(
        old_lines, new_lines, count_lines(old), count_lines(new), shared, common
    )
    # Lines between two edits match again once the unmatched lines are gone:
    # trimming the kept lines like the ends of the file usually leaves little.
    head, tail = _common_ends(keep_old, keep_new)
    lcs = (
        head
        + tail
        + _lcs_length(keep_old[head : len(keep_old) - tail], keep_new[head : len(keep_new) - tail])
    )
    cost = len(keep_old) + len(keep_new) - 2 * lcs
    if cost > _EXACT_LCS_MAX_COST:
        lcs = len(keep_old) - _xdiff_changed(keep_old, keep_new)[0]
    return len(new_lines) - lcs, len(old_lines) - lcs


# --------------------------------------------------------------------------
# Trimming and splitting
# --------------------------------------------------------------------------


def _common_prefix(a: bytes, b: bytes) -> int:
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
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
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
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
            lo = mid
        else:
            hi = mid
    return lo


def _trim(a: bytes, b: bytes) -> tuple[int, int, int]:
    """Trim common whole lines at both ends: return ``(start, a_end, b_end)``.

    ``a[:start] == b[:start]`` and ``a[a_end:] == b[b_end:]`` are whole lines.
    """
    p = _common_prefix(a, b)
    if p == len(a) == len(b):
        return p, p, p
    start = a.rfind(b"\n", 0, p) + 1
    limit = min(len(a), len(b)) - start
    s = _common_suffix(a, b, limit)
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


def _bogosqrt(n: int) -> int:
    i = 1
    while n > 0:
        i <<= 1
        n >>= 2
    return i


def _cleanup(
    old: list[bytes],
    new: list[bytes],
    old_nrec: int,
    new_nrec: int,
    shared: set[bytes],
    common: _Unchanged,
) -> tuple[list[bytes], list[bytes]]:
    """Return the lines xdiff keeps for its Myers pass (``xdl_cleanup_records``).

    A line whose count in the whole other file is 0 is dropped (it cannot
    match); a line seen at least ``mlim`` times there (a "frequent" line) is
    dropped too when it sits inside a run of unmatched lines. Only the latter
    changes the outcome, so the whole-file counts are looked up only when some
    shared line is frequent.
    """
    old_count, new_count = Counter(old), Counter(new)
    mlim_old = min(_bogosqrt(old_nrec), _MAX_EQLIMIT)
    mlim_new = min(_bogosqrt(new_nrec), _MAX_EQLIMIT)
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
    freq_in_new = {k for k, n in zip(keys, in_new, strict=True) if n >= mlim_old}
    freq_in_old = {k for k, n in zip(keys, in_old, strict=True) if n >= mlim_new}
    get = common.counts(set(old_count) | set(new_count), max(mlim_old, mlim_new))

    def dis(lines: list[bytes], counts: Counter[bytes], frequent: set[bytes], mlim: int) -> bytes:
        # dis as xdiff: 0 = absent from the other file, 2 = frequent there, else 1.
        value = {}
        for key in counts:
            if key in shared:
                value[key] = 2 if key in frequent else 1
            else:
                n = get(key, 0)
                value[key] = 0 if n == 0 else (2 if n >= mlim else 1)
        return bytes(map(value.__getitem__, lines))

    return (
        _keep(old, dis(old, old_count, freq_in_new, mlim_old)),
        _keep(new, dis(new, new_count, freq_in_old, mlim_new)),
    )


def _keep(lines: list[bytes], dis: bytes) -> list[bytes]:
    """The lines xdiff keeps: dis 1, and dis 2 unless inside an unmatched run."""
    end = len(lines) - 1
    dropped = [i for i in _positions(dis, 2) if _clean_mmatch(dis, i, 0, end)]
    if dropped:
        marks = bytearray(dis)
        for i in dropped:
            marks[i] = 0
        dis = bytes(marks)
    return list(compress(lines, dis))


def _positions(data: bytes, value: int) -> Iterator[int]:
    """Indexes of ``value`` in ``data``, found by C-level search."""
    needle = bytes((value,))
    i = data.find(needle)
    while i >= 0:
        yield i
        i = data.find(needle, i + 1)


def _clean_mmatch(dis: bytes, i: int, s: int, e: int) -> bool:
    """Port of ``xdl_clean_mmatch``: is frequent line ``i`` inside an unmatched run?"""
    s = max(s, i - _SIMSCAN_WINDOW)
    e = min(e, i + _SIMSCAN_WINDOW)
    rdis0, rpdis0 = 0, 1
    r = i - 1
    while r >= s:
        if dis[r] == 0:
            rdis0 += 1
        elif dis[r] == 2:
            rpdis0 += 1
        else:
            break
        r -= 1
    if rdis0 == 0:
        return False
    rdis1, rpdis1 = 0, 1
    r = i + 1
    while r <= e:
        if dis[r] == 0:
            rdis1 += 1
        elif dis[r] == 2:
            rpdis1 += 1
        else:
            break
        r += 1
    if rdis1 == 0:
        return False
    rdis1 += rdis0
    rpdis1 += rpdis0
    return rpdis1 * _KPDIS_RUN < rpdis1 + rdis1


# --------------------------------------------------------------------------
# LCS and the xdiff Myers port
# --------------------------------------------------------------------------


def _common_ends(a: list[bytes], b: list[bytes]) -> tuple[int, int]:
    """Lengths of the common head and (non-overlapping) tail of two lists."""
    n = min(len(a), len(b))
    head = 0
    while head < n and a[head] == b[head]:
        head += 1
    tail = 0
    n -= head
    while tail < n and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return head, tail


def _lcs_length(a: list[bytes], b: list[bytes]) -> int:
    """Length of a longest common subsequence (Hyyrö's bit-parallel algorithm).

    Bits of one integer stand for the positions of the longer sequence; each
    line of the shorter one costs a few big-int operations.
    """
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return 0
    masks: dict[bytes, int] = {}
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


def _xdiff_changed(a: list[bytes], b: list[bytes]) -> tuple[int, int]:
    """Changed line counts of ``a`` and ``b`` by xdiff's Myers with its heuristics.

    A port of ``xdl_recs_cmp``/``xdl_split`` (git's xdiff/xdiffi.c), used
    only for large edits where those heuristics can make git's diff
    non-minimal. Returns ``(changed_in_a, changed_in_b)``.
    """
    ids: dict[bytes, int] = {}
    h1 = [ids.setdefault(x, len(ids)) for x in a]
    h2 = [ids.setdefault(x, len(ids)) for x in b]
    n1, n2 = len(h1), len(h2)
    ndiags = n1 + n2 + 3
    mxcost = max(_bogosqrt(ndiags), _MAX_COST_MIN)
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
        elif off2 == lim2:
            changed1 += lim1 - off1
        else:
            i1, i2, min_lo, min_hi = _split_box(
                h1, h2, off1, lim1, off2, lim2, kvdf, kvdb, base, need_min, mxcost
            )
            stack.append((i1, lim1, i2, lim2, min_hi))
            stack.append((off1, i1, off2, i2, min_lo))
    return changed1, changed2


def _split_box(h1, h2, off1, lim1, off2, lim2, kvdf, kvdb, base, need_min, mxcost):
    """Port of ``xdl_split``: the split point of a box and the sub-boxes' need_min."""
    big = 1 << 62
    dmin, dmax = off1 - lim2, lim1 - off2
    fmid, bmid = off1 - off2, lim1 - lim2
    odd = (fmid - bmid) & 1
    fmin = fmax = fmid
    bmin = bmax = bmid
    kvdf[fmid + base] = off1
    kvdb[bmid + base] = lim1
    ec = 0
    while True:
        ec += 1
        got_snake = False
        if fmin > dmin:
            fmin -= 1
            kvdf[fmin - 1 + base] = -1
        else:
            fmin += 1
        if fmax < dmax:
            fmax += 1
            kvdf[fmax + 1 + base] = -1
        else:
            fmax -= 1
        for d in range(fmax, fmin - 1, -2):
            if kvdf[d - 1 + base] >= kvdf[d + 1 + base]:
                i1 = kvdf[d - 1 + base] + 1
            else:
                i1 = kvdf[d + 1 + base]
            prev1 = i1
            i2 = i1 - d
            while i1 < lim1 and i2 < lim2 and h1[i1] == h2[i2]:
                i1 += 1
                i2 += 1
            if i1 - prev1 > _SNAKE_CNT:
                got_snake = True
            kvdf[d + base] = i1
            if odd and bmin <= d <= bmax and kvdb[d + base] <= i1:
                return i1, i2, True, True
        if bmin > dmin:
            bmin -= 1
            kvdb[bmin - 1 + base] = big
        else:
            bmin += 1
        if bmax < dmax:
            bmax += 1
            kvdb[bmax + 1 + base] = big
        else:
            bmax -= 1
        for d in range(bmax, bmin - 1, -2):
            if kvdb[d - 1 + base] < kvdb[d + 1 + base]:
                i1 = kvdb[d - 1 + base]
            else:
                i1 = kvdb[d + 1 + base] - 1
            prev1 = i1
            i2 = i1 - d
            while i1 > off1 and i2 > off2 and h1[i1 - 1] == h2[i2 - 1]:
                i1 -= 1
                i2 -= 1
            if prev1 - i1 > _SNAKE_CNT:
                got_snake = True
            kvdb[d + base] = i1
            if not odd and fmin <= d <= fmax and i1 <= kvdf[d + base]:
                return i1, i2, True, True
        if need_min:
            continue
        if got_snake and ec > _HEUR_MIN_COST:
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
                fmin,
                fmax,
                fmid,
                bmin,
                bmax,
                bmid,
            )
            if found is not None:
                return found
        if ec >= mxcost:
            return _cutoff(off1, lim1, off2, lim2, kvdf, kvdb, base, fmin, fmax, bmin, bmax)


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
            v > _K_HEUR * ec
            and v > best
            and off1 + _SNAKE_CNT <= i1 < lim1
            and off2 + _SNAKE_CNT <= i2 < lim2
        ):
            k = 1
            while h1[i1 - k] == h2[i2 - k]:
                if k == _SNAKE_CNT:
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
            v > _K_HEUR * ec
            and v > best
            and off1 < i1 <= lim1 - _SNAKE_CNT
            and off2 < i2 <= lim2 - _SNAKE_CNT
        ):
            k = 0
            while h1[i1 + k] == h2[i2 + k]:
                if k == _SNAKE_CNT - 1:
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
