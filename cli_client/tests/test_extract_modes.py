"""Old file modes: trees written by early git (``100664``, ``040000``) against git's numstat.

git compares tree entries by their canonical mode (a regular file is 100644
or 100755), so a ``100664`` entry that became ``100644`` with the same content
is no change. The trees are written byte for byte with ``git hash-object
--literally``, as 2005-era git wrote them.
"""

from __future__ import annotations

import pytest
from gitleague_client.treediff import canon_mode

from .test_extract import assert_matches_git  # type: ignore[import-not-found]

Entry = tuple[str, str, str]  # (mode, name, hex sha)


def raw_tree(git, entries: list[Entry]) -> str:
    """Write a tree object exactly as given (modes unchecked); return its sha."""
    raw = b"".join(
        mode.encode() + b" " + name.encode() + b"\0" + bytes.fromhex(sha)
        for mode, name, sha in sorted(entries, key=lambda e: e[1])
    )
    return (
        git("hash-object", "-w", "--literally", "-t", "tree", "--stdin", input=raw).decode().strip()
    )


def blob(git, data: bytes) -> str:
    return git("hash-object", "-w", "--stdin", input=data).decode().strip()


def build_history(git) -> str:
    """Commits moving entries between old and canonical modes; return the head sha."""
    a, b, c = (blob(git, b"line %d\n" % i * (i + 2)) for i in range(3))
    b2 = blob(git, b"changed\n" + b"line 1\n" * 3)
    sub = raw_tree(git, [("100664", "deep.txt", a)])
    trees = [
        # 2005 style: group-writable files, a zero-padded folder mode.
        [
            ("100664", "a.txt", a),
            ("100664", "b.txt", b),
            ("100775", "run", c),
            ("040000", "lib", sub),
        ],
        # Canonical modes, same contents: git sees no change at all.
        [
            ("100644", "a.txt", a),
            ("100644", "b.txt", b),
            ("100755", "run", c),
            ("40000", "lib", sub),
        ],
        # Back to old spellings, one content change and one real mode change.
        [
            ("100664", "a.txt", a),
            ("100664", "b.txt", b2),
            ("100644", "run", c),
            ("040000", "lib", sub),
        ],
        # 100600 is a regular file too (100644 to git).
        [
            ("100600", "a.txt", a),
            ("100664", "b.txt", b2),
            ("100600", "run", c),
            ("40000", "lib", sub),
        ],
        # a.txt gains the executable bit (a change git counts); run is only respelled.
        [
            ("100755", "a.txt", a),
            ("100664", "b.txt", b2),
            ("100644", "run", c),
            ("40000", "lib", sub),
        ],
    ]
    parent: list[str] = []
    for n, entries in enumerate(trees):
        tree = raw_tree(git, entries)
        env = {"GIT_AUTHOR_DATE": f"{1_700_000_000 + n * 60} +0000"}
        env["GIT_COMMITTER_DATE"] = env["GIT_AUTHOR_DATE"]
        args = ["commit-tree", tree, "-m", f"step {n}", *(x for p in parent for x in ("-p", p))]
        parent = [git(*args, env=env).decode().strip()]
    git("update-ref", "refs/heads/main", parent[0])
    return parent[0]


@pytest.mark.parametrize("bare", [False, True])
def test_old_modes_are_compared_as_git_does(make_repo, bare: bool) -> None:
    r = make_repo(bare=bare)
    head = build_history(r.git)
    commits = assert_matches_git(r.path, head)
    files = [c["files_changed"] for c in commits]
    # Root: 4 files; canonical respelling: none; b.txt edited and run's mode;
    # respelled again: none; a.txt made executable.
    assert files == [4, 0, 2, 0, 1]


@pytest.mark.parametrize(
    ("mode", "canonical"),
    [
        (b"100644", b"100644"),
        (b"100664", b"100644"),
        (b"100600", b"100644"),
        (b"100755", b"100755"),
        (b"100775", b"100755"),
        (b"100700", b"100755"),
        (b"100641", b"100644"),  # executable by others only: not to git
        (b"120000", b"120000"),
        (b"40000", b"40000"),
        (b"040000", b"40000"),
        (b"160000", b"160000"),
        (b"4", b"160000"),  # neither file, link nor folder: git calls it a gitlink
        # Not octal: git stops on such a tree; counted as a gitlink, one sync does not stop.
        (b"10064x", b"160000"),
        (b"", b"160000"),
    ],
)
def test_canon_mode(mode: bytes, canonical: bytes) -> None:
    assert canon_mode(mode) == canonical
