"""The streaming walk: shallow clones and the compact commit graph, against git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from dulwich.repo import Repo
from gitleague_client.extract import _Reader, count_commits
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
