"""The compiled modules (``xdlsplit``, ``xdlclean``: mypyc, see cli_client/setup.py) against their source.

The tests of the other modules run whichever the interpreter imports (the
compiled module where it was built); these check that the two agree and that
the compiled one is not stale. The source module is loaded under another
name, so both can run in one process.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from types import ModuleType

import pytest
from gitleague_client import xdlclean, xdlsplit
from hypothesis import given, settings
from hypothesis import strategies as st

COMPILED_MODULES = (xdlsplit, xdlclean)
COMPILED = xdlsplit.COMPILED


needs_compiled = pytest.mark.skipif(
    not COMPILED and not os.environ.get("CI"),
    reason="the client is not compiled here (no C compiler, or GITLEAGUE_CLIENT_PURE=1)",
)


@needs_compiled
@pytest.mark.parametrize("module", COMPILED_MODULES, ids=lambda m: m.__name__)
def test_compiled_module_is_built_and_current(module: ModuleType) -> None:
    """CI installs with a compiler: each extension must exist and be newer than its source.

    An editable install keeps the extension beside the source; after an edit
    it would shadow the new code until ``pip install -e ./cli_client`` runs again.
    """
    built = Path(module.__file__ or "")
    source = built.with_name(module.__name__.rsplit(".", 1)[1] + ".py")
    assert built.suffix == ".so", f"{module.__name__} was not compiled: see the pip install output"
    assert built.stat().st_mtime >= source.stat().st_mtime, (
        f"{built} is older than {source}: run pip install -e ./cli_client"
    )


def test_the_source_knows_it_is_not_compiled(
    xdlsplit_source: ModuleType, xdlclean_source: ModuleType
) -> None:
    """linediff picks its methods by ``COMPILED``: each source module must say False,
    and each imported module True exactly when it is an extension."""
    assert xdlsplit_source.COMPILED is False
    assert xdlclean_source.COMPILED is False
    for module in COMPILED_MODULES:
        assert module.COMPILED is (Path(module.__file__ or "").suffix in (".so", ".pyd"))


def random_pairs(seed: int, count: int) -> list[tuple[list[int], list[int]]]:
    """Rewrites big enough for the cut-off, the long-snake heuristic and replays."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        n = rng.choice([300, 3000, 12000])
        alphabet = rng.choice([4, 60, 20000])
        a = [rng.randrange(alphabet) for _ in range(n)]
        keep = rng.choice([0.2, 0.6, 0.9])
        b = [x if rng.random() < keep else rng.randrange(alphabet) for x in a]
        if rng.random() < 0.5:
            cut = rng.randrange(n)
            b = b[cut:] + b[:cut]  # a moved block: long snakes far from the corners
        pairs.append((a, b))
    return pairs


@needs_compiled
@pytest.mark.parametrize("seed", range(3))
def test_compiled_equals_source_on_rewrites(xdlsplit_source: ModuleType, seed: int) -> None:
    for a, b in random_pairs(seed, 8):
        assert xdlsplit.numbered_changed_counts(a, b) == xdlsplit_source.numbered_changed_counts(
            a, b
        )


lines = st.lists(st.integers(0, 6), max_size=400)


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(lines, lines)
def test_compiled_equals_source_on_small_inputs(
    xdlsplit_source: ModuleType, a: list[int], b: list[int]
) -> None:
    assert xdlsplit.changed_counts(a, b) == xdlsplit_source.changed_counts(a, b)


marks = st.lists(st.sampled_from([0, 1, 2, 2, 0]), max_size=600).map(bytes)


@needs_compiled
@settings(max_examples=400, deadline=None)
@given(marks)
def test_compiled_cleanup_equals_source(xdlclean_source: ModuleType, dis: bytes) -> None:
    assert xdlclean.kept_marks(dis) == xdlclean_source.kept_marks(dis)


numbered = st.lists(st.integers(0, 5), max_size=300)


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(numbered, numbered, st.lists(st.integers(0, 20), min_size=6, max_size=6), st.integers(1, 16))
def test_compiled_preparation_equals_source(
    xdlclean_source: ModuleType, h_old: list[int], h_new: list[int], base: list[int], mlim: int
) -> None:
    """Numbering and the kept records, compiled and from source, on the same lines."""
    old, new = [b"%d" % k for k in h_old], [b"%d" % k for k in h_new]
    numbered_lines = xdlclean.number_lines(old, new)
    assert numbered_lines == xdlclean_source.number_lines(old, new)
    numbers, h1, h2, in_old, in_new = numbered_lines
    assert xdlclean.count_known(numbers, old + new) == xdlclean_source.count_known(
        numbers, old + new
    )
    base = base[: len(numbers)]
    for h, in_other in ((h1, in_new), (h2, in_old)):
        assert xdlclean.kept_records(h, in_other, base, mlim) == xdlclean_source.kept_records(
            h, in_other, base, mlim
        )
