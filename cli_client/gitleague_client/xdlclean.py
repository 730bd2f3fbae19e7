"""The lines xdiff hands to its Myers pass (``xdl_prepare_ctx``, ``xdl_cleanup_records``).

Each line of the changed middle of a file is classified by how often it
appears in the whole other file (xdiff's ``dis``: 0 nowhere, 1 some, 2
frequent). Lines marked 0 are changed for sure; a frequent line is discarded
too when it sits in a run of such lines (``xdl_clean_mmatch``).

Two ways in, picked by linediff.py:

- compiled, :func:`number_lines`, :func:`count_known` and :func:`kept_records`
  do the whole preparation as loops: lines become numbers (equal lines, equal
  numbers, xdiff's classifier), counted per side, and only the numbers of the
  lines xdiff keeps come out, ready for xdlsplit.py;
- as pure Python, linediff.py classifies with C-level maps over the distinct
  lines, and only the last pass, :func:`kept_marks`, runs here.

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
#: Whether this module runs compiled (mypyc); see xdlsplit.COMPILED.
COMPILED = not __file__.endswith((".py", ".pyc"))


def number_lines(
    old: list[bytes], new: list[bytes]
) -> tuple[dict[bytes, int], list[int], list[int], list[int], list[int]]:
    """Number the lines of both sides: equal lines, equal numbers.

    Returns ``(numbers, old as numbers, new as numbers, count in old, count
    in new)``: ``numbers`` maps each distinct line to its number, in order
    of first appearance, and the counts are indexed by number.
    """
    numbers: dict[bytes, int] = {}
    in_old: list[int] = []
    in_new: list[int] = []
    h_old = _number(old, numbers, in_old, in_new)
    h_new = _number(new, numbers, in_new, in_old)
    return numbers, h_old, h_new, in_old, in_new


def _number(
    lines: list[bytes], numbers: dict[bytes, int], mine: list[int], other: list[int]
) -> list[int]:
    out: list[int] = []
    for line in lines:
        k = numbers.get(line, -1)
        if k < 0:
            k = len(mine)
            numbers[line] = k
            mine.append(1)
            other.append(0)  # both count lists stay indexed by number
        else:
            mine[k] += 1
        out.append(k)
    return out


def shares_a_line(in_old: list[int], in_new: list[int]) -> bool:
    """Does any number occur on both sides?"""
    k: i64
    for k in range(len(in_old)):
        if in_old[k] and in_new[k]:
            return True
    return False


def count_known(numbers: dict[bytes, int], lines: list[bytes]) -> list[int]:
    """Occurrences of each numbered line among ``lines`` (others are ignored)."""
    counts = [0] * len(numbers)
    for line in lines:
        k = numbers.get(line, -1)
        if k >= 0:
            counts[k] += 1
    return counts


def kept_records(h: list[int], in_other: list[int], base: list[int], mlim: int) -> list[int]:
    """The numbers of one side's lines that xdiff keeps for its Myers pass.

    ``h`` is the side's changed middle as numbers; a number occurs
    ``in_other[k]`` times in the other side's middle and ``base[k]`` times
    in the unchanged part both files share. ``mlim`` is xdiff's limit for
    this side: lines seen that often in the other file are frequent.
    """
    marks: list[int] = []
    frequent = unmatched = False
    for k in h:
        nm = in_other[k] + base[k]
        if nm == 0:
            marks.append(0)
            unmatched = True
        elif nm >= mlim:
            marks.append(2)
            frequent = True
        else:
            marks.append(1)
    dis = bytes(marks)
    # Without both kinds, no frequent line sits among unmatched ones.
    cleaning = frequent and unmatched
    last: i64 = len(dis) - 1
    kept: list[int] = []
    i: i64
    for i in range(last + 1):
        mark = dis[i]
        if mark == 1 or (mark == 2 and not (cleaning and _clean_mmatch(dis, i, last))):
            kept.append(h[i])
    return kept


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
