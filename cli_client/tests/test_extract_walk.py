"""The streaming walk: shallow clones and the compact commit graph, against git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from dulwich.repo import Repo
from gitleague_client import walk
from gitleague_client.extract import _Reader, count_commits, iter_commits
from gitleague_client.walk import ordered

from .test_extract import assert_matches_git, run_git  # type: ignore[import-not-found]


def test_shallow_clone_matches_git(make_repo, tmp_path: Path) -> None:
    r = make_repo()
    for n in range(12):
        r.write(f"f{n % 3}.txt", f"{n}\n" * (n + 1))
        r.commit(f"c{n}")
    r.git("checkout", "-q", "-b", "side", "HEAD~4")
    r.write("side.txt", "s\n")
    r.commit("on side")
    r.git("checkout", "-q", "main")
    r.git("merge", "-q", "--no-edit", "side")
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "3", f"file://{r.path}", str(shallow)], check=True
    )
    head = run_git(shallow, "rev-parse", "HEAD").decode().strip()
    commits = assert_matches_git(shallow, head)
    assert len(commits) == len(run_git(shallow, "rev-list", "HEAD").split())
    assert [c for c in commits if not c["parents"]]  # the shallow boundary is a root


def test_walk_keeps_only_binary_shas(history_small: Path) -> None:
    head = run_git(history_small, "rev-parse", "main").strip()
    expected = run_git(history_small, "rev-list", "--topo-order", "--reverse", "main").split()
    with Repo(str(history_small)) as repo:
        reader = _Reader(repo)
        order = ordered(reader, [head], [])
        reader.store.close()
        assert count_commits(repo, [head]) == len(expected)
    assert all(len(sha) == 20 for sha in order)
    assert sorted(sha.hex().encode() for sha in order) == sorted(expected)


@pytest.fixture
def history_small(make_repo) -> Path:
    r = make_repo("small")
    for n in range(30):
        if n % 7 == 3:
            r.git("checkout", "-q", "-b", f"b{n}")
            r.write(f"b{n}.txt", "x\n")
            r.commit(f"branch {n}")
            r.git("checkout", "-q", "main")
            r.write("main.txt", f"{n}\n")
            r.commit(f"main {n}")
            r.git("merge", "-q", "--no-edit", f"b{n}")
        else:
            r.write("main.txt", f"{n}\n")
            r.commit(f"c{n}")
    return r.path


def test_an_excluded_commit_met_late_excludes_its_walked_ancestors(make_repo) -> None:
    """Clock skew: the excluded commit's parent is dated after it and walked first."""
    r = make_repo()
    r.write("f.txt", "0\n")
    root = r.commit("c0", date="1700001000 +0000")
    r.write("f.txt", "b\n")
    base = r.commit("B, its clock ahead", date="1700005000 +0000")
    r.write("f.txt", "x\n")
    excluded = r.commit("X, already synced", date="1700002000 +0000")
    r.git("checkout", "-q", "-b", "old", root)
    r.write("d.txt", "d\n")
    side = r.commit("D, on c0", date="1700003500 +0000")
    r.git("checkout", "-q", "-b", "topic", base)
    r.write("g.txt", "c\n")
    r.commit("C", date="1700003000 +0000")
    r.git("merge", "-q", "--no-edit", side, env={"GIT_COMMITTER_DATE": "1700004000 +0000"})
    head = r.head()
    expected = run_git(r.path, "rev-list", "--reverse", head, f"^{excluded}").decode().split()
    # C, D and the merge: B and c0 are X's ancestors, c0 reached through D as well.
    assert len(expected) == 3
    with Repo(str(r.path)) as repo:
        got = [c["sha"] for c in iter_commits(repo, [head.encode()], [excluded.encode()])]
        assert count_commits(repo, [head.encode()], [excluded.encode()]) == 3
    assert got == expected


class _Graph:
    """Commits named by one letter, as ``{name: (parents, minutes)}``, with shas of a width."""

    def __init__(self, commits: dict[str, tuple[str, int]], width: int = 20) -> None:
        self.sha = {name: name.encode() * width for name in commits}
        self.name = {sha: name for name, sha in self.sha.items()}
        self.commits = commits

    def commit_links(self, sha: bytes) -> tuple[list[bytes], int]:
        parents, minutes = self.commits[self.name[sha]]  # KeyError: not in the repository
        return [self.sha[p] if p in self.sha else p.encode() * 20 for p in parents], 60 * minutes

    def order(self, heads: str, exclude: str = "") -> str:
        hexes = [
            [self.sha.get(n, n.encode() * 20).hex().encode() for n in names]
            for names in (heads, exclude)
        ]
        return "".join(self.name[sha] for sha in ordered(self, *hexes))


@pytest.mark.parametrize("width", [20, 32])
def test_the_order_is_a_depth_first_post_order_parents_in_their_order(width: int) -> None:
    # An octopus m of a, b and c; b a merge of d and e; f on c; the heads a then m.
    graph = _Graph(
        {
            "a": ("", 1),
            "d": ("", 2),
            "e": ("", 3),
            "b": ("de", 4),
            "c": ("", 5),
            "f": ("c", 6),
            "m": ("abf", 7),
        },
        width,
    )
    # a first (a head), then m's parents in order: a is done, b after d and e, then f
    # after c, and m last.
    assert graph.order("am") == "adebcfm"
    assert graph.order("m") == "adebcfm"
    assert graph.order("m", exclude="b") == "acfm"


def test_a_missing_commit_raises_and_a_missing_excluded_one_excludes_nothing() -> None:
    graph = _Graph({"a": ("", 1), "b": ("a", 2), "c": ("bz", 3), "x": ("y", 4)})
    with pytest.raises(KeyError):  # z, a parent of c, is not in the repository
        graph.order("c")
    # x's first parent y is missing: excluded, it only excludes nothing.
    assert _Graph({"a": ("", 1), "b": ("a", 2), "x": ("ya", 3)}).order("b", exclude="x") == "b"
    assert graph.order("b", exclude="q") == "ab"  # (q itself unknown)


class _Chain:
    """A linear history of commits one minute apart, counting the commits read."""

    def __init__(self, length: int) -> None:
        self.shas = [b"%020d" % n for n in range(length)]
        self.reads = 0

    def commit_links(self, sha: bytes) -> tuple[list[bytes], int]:
        self.reads += 1
        n = int(sha)
        return ([self.shas[n - 1]] if n else []), 1_700_000_000 + 60 * n


def test_an_incremental_walk_reads_the_new_commits_and_the_slop_only() -> None:
    chain = _Chain(300)
    head, synced = chain.shas[299].hex().encode(), chain.shas[200].hex().encode()
    order = ordered(chain, [head], [synced])
    assert list(order) == chain.shas[201:]
    # The 99 new commits, the synced one, then _SLOP of its ancestors in case of skew.
    assert chain.reads == 99 + 1 + walk._SLOP


def test_the_graph_keeps_extra_parents_of_merges_only(history_small: Path) -> None:
    head = run_git(history_small, "rev-parse", "main").strip()
    merges = run_git(history_small, "rev-list", "--merges", "main").split()
    with Repo(str(history_small)) as repo:
        reader = _Reader(repo)
        graph = walk.walk(reader, [head], [])
        reader.store.close()
    assert len(merges) == 4
    assert sorted(graph.shas[n].hex().encode() for n in graph.more) == sorted(merges)


class _CountingFlags(bytearray):
    """A flag array that counts how often it is written."""

    writes = 0

    def __setitem__(self, index, value) -> None:  # type: ignore[override]
        self.writes += 1
        super().__setitem__(index, value)


def test_painting_marks_each_commit_once_however_many_paths_lead_to_it() -> None:
    """A ladder of merges has 2^levels paths to its root: painting must not follow each."""
    graph = walk.Graph()
    graph.excluded = _CountingFlags()
    levels = 18
    below: list[int] = []
    for level in range(levels):
        pair = [graph.add(b"%019d%d" % (level, side), False) for side in (0, 1)]
        for n in pair:
            graph.walked[n] = True
            if below:
                graph.first[n] = below[0]
                graph.more[n] = (below[1],)
        below = pair
    graph.paint(below[0])
    assert graph.excluded == bytearray([1] * (2 * levels - 1) + [0])
    assert graph.excluded.writes == 2 * levels - 1


@pytest.mark.parametrize("width", [20, 32])
def test_sha_list_behaves_as_the_list_of_its_shas(width: int) -> None:
    shas = [bytes([n]) * width for n in range(7)]
    packed = walk.ShaList(b"".join(shas), width)
    assert len(packed) == 7
    assert list(packed) == shas
    for index in range(-7, 7):
        assert packed[index] == shas[index]
    for index in (7, -8):
        with pytest.raises(IndexError):
            packed[index]
    for piece in (slice(2, 5), slice(None, -2), slice(5, None), slice(1, 6, 2), slice(6, 0, -1)):
        assert packed[piece] == shas[piece]
    assert len(walk.ShaList(b"", width)) == 0
