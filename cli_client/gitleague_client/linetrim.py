"""The bytes-level half of a line diff: common ends, lines, unchanged counts.

Two versions of a file mostly share long leading and trailing runs: they are
found by comparing bytes (C speed), so only the changed middle is split into
lines (``xdl_trim_ends``, done before anything is split). The unchanged part
still matters to xdiff, which counts each line over the whole files: the
shared part is counted once, for the lines that need it (:class:`Unchanged`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from .xdlclean import count_known

# With fewer distinct lines to count than this, searching the file for each is
# cheaper than splitting the unchanged part of the file into lines.
_FIND_MAX_KEYS = 8
# Blocks up to this size are compared in one big-int XOR rather than bisected.
_XOR_WINDOW = 2048


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


def trim(a: bytes, b: bytes) -> tuple[int, int, int]:
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


def split_lines(data: bytes, start: int, end: int) -> list[bytes]:
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


class Unchanged:
    """Counts of lines in the trimmed, unchanged part of a file (both sides share it)."""

    def __init__(self, data: bytes, start: int, end: int) -> None:
        self.data, self.start, self.end = data, start, end
        self.cache: dict[bytes, int] = {}
        self.counter: Counter[bytes] | None = None

    def line_count(self) -> int:
        """Number of lines in the unchanged part (xdiff's limits depend on whole files)."""
        data, end = self.data, self.end
        n = data.count(b"\n", 0, self.start) + data.count(b"\n", end)
        if end < len(data) and data[-1:] != b"\n":
            n += 1  # a last line without newline, shared by both
        return n

    def numbered(self, numbers: dict[bytes, int], limit: int) -> list[int]:
        """Occurrences of each numbered line (``line -> number``), exact below ``limit``."""
        if self.start == 0 and self.end == len(self.data):
            return [0] * len(numbers)  # nothing unchanged: a rewrite
        if len(numbers) <= _FIND_MAX_KEYS:
            return [self._find(key, limit) for key in numbers]  # numbers run 0, 1, ...
        return count_known(numbers, self._lines())

    def _lines(self) -> list[bytes]:
        data = self.data
        lines = data[: self.start].split(b"\n")
        lines.pop()  # split() leaves an empty piece after the last newline
        lines += split_lines(data, self.end, len(data))
        return lines

    def counts(self, keys: set[bytes], limit: int) -> Callable[..., int]:
        """A lookup ``key -> occurrences`` for ``keys``, exact below ``limit``.

        Few keys are searched for one by one; for many, splitting the
        unchanged part once is cheaper.
        """
        if self.start == 0 and self.end == len(self.data):
            return _NOTHING.get  # nothing unchanged: a rewrite
        if self.counter is None and len(keys) > _FIND_MAX_KEYS:
            self.counter = Counter(self._lines())
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
