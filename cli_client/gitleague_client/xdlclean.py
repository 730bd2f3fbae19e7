"""Which frequent lines xdiff discards before its Myers pass (``xdl_cleanup_records``).

linediff.py classifies each line of the changed middle of a file by how often
it appears in the other file (xdiff's ``dis``: 0 nowhere, 1 some, 2 frequent).
Lines marked 0 are changed for sure; a frequent line is discarded too when it
sits in a run of such lines (``xdl_clean_mmatch``). This module is that last
pass, written as xdiff's own loops over a window of lines.

Like xdlsplit.py it is fully typed so that the client's setup.py can compile it
with mypyc: the loops then run as C, about five times as fast as the pure
Python, which is itself faster than the searches by bytes methods it replaced
(on git.git's translation files, about a third of all lines are frequent).
Nothing here may depend on being compiled or not: tests compare the two.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # mypyc's native integer; annotations only, never needed at run time
    from mypy_extensions import i64

# xdiff's constants (xprepare.c).
KPDIS_RUN = 4
SIMSCAN_WINDOW = 100


def kept_marks(dis: bytes) -> bytes:
    """``dis`` with each frequent line that xdiff discards turned to 0.

    The lines xdiff keeps for its Myers pass are those whose mark stays non-zero.
    """
    if dis.find(b"\2") < 0 or dis.find(b"\0") < 0:
        return dis  # a frequent line is discarded only next to an unmatched one
    last: i64 = len(dis) - 1
    marks = bytearray(dis)
    i: i64
    for i in range(last + 1):
        if dis[i] == 2 and _clean_mmatch(dis, i, last):
            marks[i] = 0
    return bytes(marks)


def _clean_mmatch(dis: bytes, i: i64, e: i64) -> bool:
    """``xdl_clean_mmatch``: does frequent line ``i`` sit among unmatched lines?

    Looks at most ``SIMSCAN_WINDOW`` lines each way over unmatched (0) and
    frequent (2) lines; both sides need an unmatched line, and the frequent
    ones (each side counted from 1) must be fewer than a ``KPDIS_RUN``-th of
    the lines seen.
    """
    s: i64 = i - SIMSCAN_WINDOW if i > SIMSCAN_WINDOW else 0
    unmatched_before, frequent_before = _run(dis, i - 1, s - 1, -1)
    if unmatched_before == 0:
        return False
    unmatched_after, frequent_after = _run(dis, i + 1, min(e, i + SIMSCAN_WINDOW) + 1, 1)
    if unmatched_after == 0:
        return False
    frequent = frequent_before + frequent_after + 2
    return frequent * KPDIS_RUN < frequent + unmatched_before + unmatched_after


def _run(dis: bytes, start: i64, stop: i64, step: i64) -> tuple[i64, i64]:
    """Unmatched and frequent lines from ``start`` towards ``stop`` (excluded), up to any other."""
    unmatched: i64 = 0
    frequent: i64 = 0
    r: i64 = start
    while r != stop:
        mark = dis[r]
        if mark == 0:
            unmatched += 1
        elif mark == 2:
            frequent += 1
        else:
            break
        r += step
    return unmatched, frequent
