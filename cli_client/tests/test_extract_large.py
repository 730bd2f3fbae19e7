"""Huge edits (the outliers of real histories) against ``git diff --no-index``.

Files of 12,000 to 40,000 lines: a vendored library replaced by its next
version, a regenerated file, translation updates, scattered edits. These take
the paths the small random pairs of test_extract.py never reach: sizes that
skip the bit-parallel LCS, size differences over 512 lines, and xdiff's cost
cut-offs (non-minimal answers).
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path
from types import ModuleType

import pytest
from gitleague_client.linediff import count_changes

from .conftest import git_diff_counts  # type: ignore[import-not-found]

WORDS = b"var function return this value node index data result event".split()


def code(rng: random.Random) -> bytes:
    if rng.random() < 0.12:
        return rng.choice([b"", b"}", b"  });", b"return;"])
    return b" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))) + b" %d;" % rng.randint(
        0, 999
    )


def new_version(rng: random.Random, lines: list[bytes], dropped: float, added: float):
    out: list[bytes] = []
    i = 0
    while i < len(lines):
        block = rng.randint(5, 200)
        if rng.random() >= dropped:
            out += lines[i : i + block]
        i += block
        if rng.random() < added:
            out += [code(rng) for _ in range(rng.randint(20, 400))]
    return out


def po(rng: random.Random, entries: int) -> list[bytes]:
    lines = []
    for n in range(entries):
        lines += [b"#: src/f.c:%d" % rng.randint(1, 3000), b'msgid "m %d"' % n, b'msgstr "t"', b""]
    return lines


def cases() -> list[tuple[str, list[bytes], list[bytes]]]:
    rng = random.Random(11)
    vendor = [code(rng) for _ in range(30000)]
    generated = [code(rng) for _ in range(20000)]
    scattered = list(generated)
    for _ in range(150):
        at = rng.randrange(len(scattered))
        scattered[at : at + rng.randint(0, 2)] = [code(rng) for _ in range(rng.randint(0, 2))]
    translation = po(rng, 3000)
    updated = [
        b"#: src/g.c:%d" % rng.randint(1, 3000)
        if ln.startswith(b"#:") and rng.random() < 0.6
        else ln
        for ln in translation
    ]
    return [
        ("vendored library, next version", vendor, new_version(rng, vendor, 0.25, 0.5)),
        (
            "regenerated file",
            generated,
            [x if rng.random() < 0.3 else code(rng) for x in generated],
        ),
        ("150 scattered edits", generated, scattered),
        ("translation update", translation, updated),
    ]


@pytest.mark.parametrize("case", range(4))
def test_huge_edits_equal_git(tmp_path: Path, case: int) -> None:
    name, old_lines, new_lines = cases()[case]
    old, new = b"\n".join(old_lines) + b"\n", b"\n".join(new_lines) + b"\n"
    assert count_changes(old, new) == git_diff_counts(tmp_path, old, new), name


@pytest.mark.parametrize("seed", range(3))
def test_box_lcs_shortcut_equals_the_port(
    monkeypatch: pytest.MonkeyPatch, xdlsplit_source: ModuleType, seed: int
) -> None:
    """Boxes solved by the bit-parallel LCS give what the port of xdl_split gives.

    Run on the source module, which can be patched (test_compiled.py compares the build).
    """
    xdlsplit = xdlsplit_source
    rng = random.Random(seed)
    pairs = []
    for _ in range(25):
        n = rng.choice([300, 1500, 4000])
        alphabet = rng.choice([5, 40, 5000])
        a = [rng.randrange(alphabet) for _ in range(n)]
        keep = rng.choice([0.3, 0.7, 0.95])
        pairs.append((a, [x if rng.random() < keep else rng.randrange(alphabet) for x in a]))
    fast = [xdlsplit.changed_counts(a, b) for a, b in pairs]
    for greedy in (-1, 128):  # the LCS alone; the greedy search first (the compiled default)
        monkeypatch.setattr(xdlsplit, "GREEDY_MAX_COST", greedy)
        assert [xdlsplit.changed_counts(a, b) for a, b in pairs] == fast
    monkeypatch.setattr(xdlsplit, "BOX_LCS_CELLS", 0)  # the port alone
    assert [xdlsplit.changed_counts(a, b) for a, b in pairs] == fast


@pytest.mark.parametrize("compiled", [False, True])
def test_greedy_box_cost_is_minimal_or_refused(xdlsplit_source: ModuleType, compiled: bool) -> None:
    """``_greedy_cost`` on a box inside longer lists: the minimal cost, or -1 past its bound."""
    from gitleague_client import xdlsplit as built
    from gitleague_client.myers import edit_cost

    xdlsplit = built if compiled else xdlsplit_source
    rng = random.Random(4)
    seen = {True: 0, False: 0}
    for _ in range(300):
        a = [rng.randrange(rng.choice([3, 30, 3000])) for _ in range(rng.randint(0, 400))]
        b = [x for x in a if rng.random() < 0.9] + [
            rng.randrange(30) for _ in range(rng.randint(0, 5))
        ]
        if rng.random() < 0.2:
            rng.shuffle(b)
        off1, off2 = rng.randint(0, len(a)), rng.randint(0, len(b))
        lim1, lim2 = rng.randint(off1, len(a)), rng.randint(off2, len(b))
        max_d = rng.choice([0, 1, 16, 128])
        cost = edit_cost(a[off1:lim1], b[off2:lim2])
        got = xdlsplit._greedy_cost(a, b, off1, lim1, off2, lim2, max_d)
        assert got == (cost if cost <= max_d else -1), (off1, lim1, off2, lim2, max_d)
        seen[got >= 0] += 1
    assert min(seen.values()) > 30  # both answers were given


def test_replayed_searches_give_what_fresh_searches_give(
    monkeypatch: pytest.MonkeyPatch, xdlsplit_source: ModuleType
) -> None:
    """A box's search replayed from the previous box's (same corner) equals a fresh one.

    Rewrites large enough for the cut-off (and, past 65,536 lines in all, for
    the long-snake heuristic), where boxes split at their cut-off share a corner.
    """
    xdlsplit = xdlsplit_source
    rng = random.Random(5)
    pairs = []
    for n, alphabet, keep in ((6000, 5000, 0.3), (20000, 50, 0.9), (36000, 100000, 0.9)):
        a = [rng.randrange(alphabet) for _ in range(n)]
        b = [x if rng.random() < keep else rng.randrange(alphabet) for x in a]
        pairs.append((a, b[n // 3 :] + b[: n // 3]))  # a moved block: long snakes
    replayed = []
    forward, backward = xdlsplit._Box._replayable_forward, xdlsplit._Box._replayable_backward

    def counted(original):
        def replayable(self, *bounds):
            steps = original(self, *bounds)
            replayed.append(steps is not None)
            return steps

        return replayable

    monkeypatch.setattr(xdlsplit._Box, "_replayable_forward", counted(forward))
    monkeypatch.setattr(xdlsplit._Box, "_replayable_backward", counted(backward))
    with_replay = [xdlsplit.numbered_changed_counts(a, b) for a, b in pairs]
    assert sum(replayed) > 50  # the path under test really ran
    monkeypatch.setattr(xdlsplit._Box, "_replayable_forward", lambda self, *bounds: None)
    monkeypatch.setattr(xdlsplit._Box, "_replayable_backward", lambda self, *bounds: None)
    assert [xdlsplit.numbered_changed_counts(a, b) for a, b in pairs] == with_replay


def test_translation_rewrite_equals_git(tmp_path: Path) -> None:
    """A .po file retranslated and renumbered throughout (git.git's l10n updates):
    boxes split at their cut-off one after another, each replaying a search."""
    rng = random.Random(7)
    old_lines, new_lines = [], []
    for n in range(4500):
        msgid = b'msgid "%s %d"' % (rng.choice(WORDS), n)
        old_lines += [b"#: src/f.c:%d" % rng.randint(1, 3000), msgid, b'msgstr "a %d"' % n, b""]
        if rng.random() < 0.9:
            new_lines += [b"#: src/g.c:%d" % rng.randint(1, 3000), msgid]
            new_lines += [b'msgstr "b %d"' % rng.randint(0, 10**6), b""]
    old, new = b"\n".join(old_lines) + b"\n", b"\n".join(new_lines) + b"\n"
    (tmp_path / "a").write_bytes(old)
    (tmp_path / "b").write_bytes(new)
    out = subprocess.run(
        ["git", "diff", "--no-index", "--numstat", "a", "b"], cwd=tmp_path, capture_output=True
    ).stdout.split()
    assert count_changes(old, new) == (int(out[0]), int(out[1]))
