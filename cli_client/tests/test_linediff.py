"""The two ways linediff prepares the lines for the Myers pass give one answer.

Compiled, the preparation runs as loops over numbered lines (xdlclean's
``number_lines``/``kept_records``); as pure Python, as C-level maps over the
distinct lines (``linediff._cleanup``). Both must leave exactly the lines
xdiff's ``xdl_cleanup_records`` keeps: equal lists up to the naming of lines.
"""

from __future__ import annotations

import random
from pathlib import Path
from types import ModuleType

import pytest
from gitleague_client import linediff, xdlclean
from gitleague_client.linetrim import Unchanged
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import git_diff_counts  # type: ignore[import-not-found]

# Few distinct lines, so that some are frequent (seen at least xdiff's mlim,
# a power of two near the square root of the file's length, times), and
# middles mostly made of lines the other file lacks: xdiff discards a frequent
# line inside such a run.
SHARED = st.sampled_from([b"", b"}", b"a", b"x = 1"])


def _middle(only: bytes) -> st.SearchStrategy[list[bytes]]:
    """Runs of lines the other side lacks, each followed by a shared line."""
    run = st.tuples(st.integers(0, 8), st.sampled_from([only, only + b"2"]), SHARED)
    return st.lists(run, max_size=30).map(
        lambda runs: [line for n, alone, shared in runs for line in [alone] * n + [shared]]
    )


@st.composite
def file_pairs(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """Two versions of a file: shared ends, different middles, an optional last newline."""
    head = [b""] * draw(st.integers(0, 40)) + draw(st.lists(SHARED, max_size=40))
    tail = draw(st.lists(SHARED, max_size=40))
    old, new = draw(_middle(b"old")), draw(_middle(b"new"))
    end = b"" if draw(st.booleans()) else b"\n"
    return b"\n".join(head + old + tail) + end, b"\n".join(head + new + tail) + end


def shape(a: list, b: list) -> tuple[list[int], int]:
    """``a + b`` with each item renamed by its first appearance: equal for lists
    equal up to a one-to-one renaming."""
    ids: dict[object, int] = {}
    return [ids.setdefault(x, len(ids)) for x in a + b], len(a)


@settings(max_examples=400, deadline=None)
@given(file_pairs())
def test_both_preparations_keep_the_same_lines(pair: tuple[bytes, bytes]) -> None:
    old, new = pair
    old_total, new_total, keep_old, keep_new = linediff._kept_middle(old, new)
    old_total2, new_total2, kept_old, kept_new = linediff._kept_records(old, new)
    assert (old_total, new_total) == (old_total2, new_total2)
    if keep_old and keep_new:
        assert shape(keep_old, keep_new) == shape(kept_old, kept_new)
    else:
        assert not kept_old or not kept_new


@pytest.mark.parametrize("by_numbers", [False, True], ids=["maps", "numbers"])
# One patch for every input, and git's two files are rewritten by each: the
# function-scoped fixtures are safe to share between inputs.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pair=file_pairs())
def test_either_preparation_counts_as_git(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, by_numbers: bool, pair: tuple[bytes, bytes]
) -> None:
    monkeypatch.setattr(linediff, "BY_NUMBERS", by_numbers)
    assert linediff.count_changes(*pair) == git_diff_counts(tmp_path, *pair)


def test_unchanged_counts_search_few_lines_and_split_for_many() -> None:
    """Counts of lines in the shared ends, by either method, capped only above the limit."""
    data = b"a\nb\na\n" + b"MIDDLE\n" + b"a\nc\nno newline"
    common = Unchanged(data, 6, 13)
    few = {b"a": 0, b"c": 1, b"no newline\n": 2, b"no newline": 3, b"zz": 4}
    assert common.numbered(few, 100) == [3, 1, 1, 0, 0]
    assert common.numbered(few, 2) == [2, 1, 1, 0, 0]  # "a" capped at the limit
    many = dict(few) | {b"x%d" % i: 5 + i for i in range(10)}
    assert common.numbered(many, 100) == [3, 1, 1, 0, 0] + [0] * 10
    assert common.line_count() == 6
    rewrite = Unchanged(data, 0, len(data))
    assert rewrite.numbered(few, 100) == [0] * 5
    assert rewrite.line_count() == 0


def test_numbering_counts_each_side(xdlclean_source: ModuleType) -> None:
    for module in (xdlclean, xdlclean_source):
        numbers, h_old, h_new, in_old, in_new = module.number_lines(
            [b"a", b"b", b"a"], [b"c", b"a", b"c", b"c"]
        )
        assert numbers == {b"a": 0, b"b": 1, b"c": 2}
        assert (h_old, h_new) == ([0, 1, 0], [2, 0, 2, 2])
        assert (in_old, in_new) == ([2, 1, 0], [1, 0, 3])
        assert module.shares_a_line(in_old, in_new)
        assert not module.shares_a_line([1, 0], [0, 2])
        assert module.count_known(numbers, [b"c", b"zz", b"c", b"a"]) == [1, 0, 2]


@pytest.mark.parametrize("by_numbers", [False, True], ids=["maps", "numbers"])
def test_frequent_lines_are_judged_over_100_lines_each_way(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, by_numbers: bool
) -> None:
    """21 blank lines (frequent in the new file) after 100 lines the new file
    lacks: xdiff looks 100 lines back from each (``SIMSCAN_WINDOW``), sees more
    than three unmatched lines per frequent one and discards them all. Looking
    50 lines back would keep them and count 30/101."""
    monkeypatch.setattr(linediff, "BY_NUMBERS", by_numbers)
    head = [b""] * 40
    old = head + [b"old%d" % i for i in range(100)] + [b""] * 21 + [b"old-last", b"shared"]
    new = head + [b"new%d" % i for i in range(30)] + [b""] * 21 + [b"shared"]
    old_blob, new_blob = b"\n".join(old) + b"\n", b"\n".join(new) + b"\n"
    assert git_diff_counts(tmp_path, old_blob, new_blob) == (51, 122)
    assert linediff.count_changes(old_blob, new_blob) == (51, 122)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"a\ny", b"a\nz"),  # last lines without newline, differing in the last byte only
        (b"a\nb\nversion = 1.2.3", b"a\nb\nversion = 1.2.4"),
        (b"p\nq\nr", b"p\ns\nt"),
        (b"a\nb", b"a\nb\n"),  # a newline added at the end
        (b"a\nb\n", b"a\nb"),
        (b"x", b"y"),
        (b"same\nx", b"same\nx\nmore"),
        (b"\n\n1", b"\n\n2"),
    ],
)
def test_the_last_byte_decides_as_git_does(tmp_path: Path, old: bytes, new: bytes) -> None:
    """The common suffix starts from the very last byte: a file whose last line
    (with no newline) changes in its last character has that line changed."""
    assert linediff.count_changes(old, new) == git_diff_counts(tmp_path, old, new)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(linediff, "BY_NUMBERS", not linediff.BY_NUMBERS)
        assert linediff.count_changes(old, new) == git_diff_counts(tmp_path, old, new)


@pytest.mark.parametrize("by_numbers", [False, True], ids=["maps", "numbers"])
def test_sides_of_very_different_lengths_go_to_gits_own_myers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, by_numbers: bool
) -> None:
    """When the kept lines of the two sides differ by more than 512, the edit
    costs more than git's exact range whatever it is: the port alone answers."""
    monkeypatch.setattr(linediff, "BY_NUMBERS", by_numbers)
    rng = random.Random(5)
    old = [b"line %d" % rng.randrange(300) for _ in range(200)]
    new = [x for x in old for _ in range(4)] + [b"line %d" % rng.randrange(300) for _ in range(100)]
    rng.shuffle(new)
    old_blob, new_blob = b"\n".join(old) + b"\n", b"\n".join(new) + b"\n"
    assert linediff.count_changes(old_blob, new_blob) == git_diff_counts(
        tmp_path, old_blob, new_blob
    )
