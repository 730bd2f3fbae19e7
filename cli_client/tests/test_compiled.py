"""The compiled build of ``xdlsplit`` (mypyc, see cli_client/setup.py) against its source.

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
from gitleague_client import xdlsplit
from hypothesis import given, settings
from hypothesis import strategies as st

COMPILED = not xdlsplit.__file__.endswith(".py")
XDLSPLIT_SOURCE = Path(xdlsplit.__file__).with_name("xdlsplit.py")


needs_compiled = pytest.mark.skipif(
    not COMPILED and not os.environ.get("CI"),
    reason="xdlsplit is not compiled here (no C compiler, or GITLEAGUE_CLIENT_PURE=1)",
)


@needs_compiled
def test_compiled_module_is_built_and_current() -> None:
    """CI installs with a compiler: the extension must exist and be newer than its source.

    An editable install keeps the extension beside the source; after an edit
    it would shadow the new code until ``pip install -e ./cli_client`` runs again.
    """
    assert COMPILED, "xdlsplit was not compiled: see the pip install output"
    assert Path(xdlsplit.__file__).stat().st_mtime >= XDLSPLIT_SOURCE.stat().st_mtime, (
        f"{xdlsplit.__file__} is older than {XDLSPLIT_SOURCE}: run pip install -e ./cli_client"
    )


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
