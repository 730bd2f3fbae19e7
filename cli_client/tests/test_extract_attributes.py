"""``.gitattributes`` of the tip, against the git binary.

In a working clone git applies the checked-out ``.gitattributes`` to every
commit it diffs (numstat ``-  -`` for ``binary``/``-diff`` files, line counts
for ``diff`` ones even with NUL bytes). The extractor applies the tip's
attributes the same way, so a working clone, a bare clone (where git 2.39
reads no attributes at all) and the server's mirror all give the working
clone's answer. Each attribute decision is also checked path by path against
``git check-attr``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from dulwich.repo import Repo
from gitleague_client import parallel
from gitleague_client.attributes import DiffAttributes, parse_lines
from gitleague_client.extract import _Reader, iter_commits

from .test_extract import assert_matches_git, git_numstat  # type: ignore[import-not-found]

ROOT_ATTRIBUTES = b"""\
# the issue's real cases
*.fixture binary
/t0110/url-* binary
# NUL bytes, yet text to git
*.bin diff
# a folder pattern matches no file; ** does
logs/ -diff
gen/** -diff
# a later line wins; !diff makes diff unspecified again
*.lock -diff
*.lock !diff
keep.md -diff
[attr]nodiff -diff -merge
*.gen nodiff
*.py diff=python
*.drv diff=nosuchdriver
# -binary keeps a lower binary from expanding; a negative pattern is ignored
*.fixture2 binary
special.fixture2 -binary
!neg.txt -diff
"quoted name.txt" -diff
docs/*.txt binary
"""
NESTED_ATTRIBUTES = b"""\
*.txt -diff
keep.txt diff
[attr]nested_macro -diff
*.nm nested_macro
"""
DEEP_ATTRIBUTES = b"*.txt !diff\n"

# Files, their first and second versions: text unless they hold NUL bytes.
FILES = {
    "a.fixture": (b"one\ntwo\n", b"one\nthree\nfour\n"),
    "t0110/url-1": (b"x\n", b"x\ny\n"),
    "t0110/other": (b"x\n", b"x\ny\n"),
    "deep/t0110/url-2": (b"x\n", b"x\ny\n"),
    "blob.bin": (b"a\0b\nc\n", b"a\0b\nc\nd\n"),
    "logs/app.log": (b"l1\n", b"l1\nl2\n"),
    "gen/x/y.c": (b"int a;\n", b"int b;\n"),
    "pkg.lock": (b"v1\n", b"v2\n"),
    "keep.md": (b"k\n", b"k\nk2\n"),
    "out.gen": (b"g\n", b"g\nh\n"),
    "tool.py": (b"pass\n", b"pass\npass\n"),
    "nul.py": (b"a\0\n", b"a\0\nb\n"),
    "x.drv": (b"a\0\n", b"b\0\n"),
    "plain.drv": (b"a\n", b"b\n"),
    "one.fixture2": (b"a\n", b"b\n"),
    "special.fixture2": (b"a\n", b"b\n"),
    "neg.txt": (b"n\n", b"n\nm\n"),
    "quoted name.txt": (b"q\n", b"q\nr\n"),
    "docs/guide.txt": (b"d\n", b"d\ne\n"),
    "docs/sub/guide.txt": (b"d\n", b"d\ne\n"),
    "sub/a.txt": (b"s\n", b"s\nt\n"),
    "sub/keep.txt": (b"s\n", b"s\nt\n"),
    "sub/x.nm": (b"s\n", b"s\nt\n"),
    "sub/x.md": (b"s\n", b"s\nt\n"),
    "sub/inner/b.txt": (b"s\n", b"s\nt\n"),
    "sub/inner/c.TXT": (b"s\n", b"s\nt\n"),
}


@pytest.fixture
def attributed(make_repo):
    """A history whose attributes arrive late: earlier commits are judged by them too."""
    r = make_repo()
    for name, (first, _) in FILES.items():
        r.write(name, first)
    r.commit("files, no attributes yet")
    for name, (_, second) in FILES.items():
        r.write(name, second)
    r.commit("every file edited")
    r.write("sub/inner/b.txt", b"s\nt\nu\n")
    r.write("a.fixture", b"replaced\n")
    r.commit("two more edits")
    r.write(".gitattributes", ROOT_ATTRIBUTES)
    r.write("sub/.gitattributes", NESTED_ATTRIBUTES)
    r.write("sub/inner/.gitattributes", DEEP_ATTRIBUTES)
    r.commit("attributes, late in history")
    r.write("a.fixture", b"after\n")
    r.write("sub/a.txt", b"after\n")
    r.remove("t0110/url-1")
    r.commit("edits after the attributes")
    return r


def test_working_clone_matches_git(attributed) -> None:
    commits = assert_matches_git(attributed.path, attributed.head())
    second = commits[1]
    # git's figures: every file changed, the lines of those the attributes
    # leave as text (with NUL bytes alone, as before, it would be 24 and 6).
    assert second["files_changed"] == len(FILES)
    assert (second["additions"], second["deletions"]) == (15, 3)


def test_bare_clone_and_workers_give_the_working_clones_answer(attributed, tmp_path) -> None:
    expected = git_numstat(attributed.path, attributed.head())
    bare = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(attributed.path), str(bare)], check=True)
    head = attributed.head().encode()
    with Repo(str(bare)) as repo:
        records = list(iter_commits(repo, [head]))
    got = {c["sha"]: (c["additions"], c["deletions"], c["files_changed"]) for c in records}
    assert got == expected
    # git itself reads no attributes in a bare repository (2.39): the rule matters here.
    assert git_numstat(bare, attributed.head()) != expected
    shas = [c["sha"].encode() for c in records]
    in_workers = list(parallel.iter_records(str(bare), shas, 2, chunk=2, tip=head))
    assert in_workers == records


def check_attr(path: Path, names: list[str]) -> dict[str, bool | None]:
    """git's verdict per path: True binary (diff unset), False text (diff set), None look."""
    out = subprocess.run(
        ["git", "check-attr", "-z", "diff", "--", *names], cwd=path, capture_output=True, check=True
    ).stdout.split(b"\0")
    verdicts = {}
    for i in range(0, len(out) - 2, 3):
        value = out[i + 2]
        verdicts[out[i].decode()] = (
            True if value == b"unset" else False if value == b"set" else None
        )
    return verdicts


def test_each_path_as_git_check_attr(attributed) -> None:
    names = [*FILES, "sub/inner/deeper/z.txt", "missing/dir/f.txt", "t0110/url-", "x.lock"]
    expected = check_attr(attributed.path, names)
    with Repo(str(attributed.path)) as repo:
        reader = _Reader(repo, attributes_of=attributed.head().encode())
        assert reader.attributes is not None
        got = {name: reader.attributes.binary(name.encode()) for name in names}
        reader.store.close()
    assert got == expected
    assert set(got.values()) == {True, False, None}


def test_no_attributes_costs_nothing(make_repo) -> None:
    r = make_repo()
    r.write("a/b/c.txt", "x\n")
    r.commit()
    with Repo(str(r.path)) as repo:
        reader = _Reader(repo, attributes_of=r.head().encode())
        attributes = reader.attributes
        assert attributes is not None
        assert attributes.binary(b"a/b/c.txt") is None
        assert attributes.verdicts == {}  # no rule anywhere: nothing matched or kept
        reader.store.close()


@pytest.mark.parametrize(
    ("text", "rules"),
    [
        (b"", 0),
        (b"# comment\n\n   \n", 0),
        (b"*.a -diff\n", 1),
        (b"*.a -diff\r\n", 1),
        (b"!*.a -diff\n", 0),  # negative patterns are ignored
        (b"dir/ -diff\n", 0),  # folder-only: no file matches
        (b"*.a -diff bad$name\n", 0),  # an invalid attribute name drops the line
        (b"[attr]m -diff\n", 0),  # a macro, not a rule
        (b"*.a " + b"x" * 2100 + b"\n", 0),  # over git's line limit
        (b"\xef\xbb\xbf*.a -diff\n", 1),  # a UTF-8 BOM
    ],
)
def test_parse_lines(text: bytes, rules: int) -> None:
    assert len(parse_lines(text, b"", macros_ok=True)[0]) == rules


def test_macros_only_from_the_root() -> None:
    assert parse_lines(b"[attr]m -diff\n", b"", macros_ok=True)[1] == {b"m": [(b"diff", False)]}
    assert parse_lines(b"[attr]m -diff\n", b"sub", macros_ok=False)[1] == {}


def test_diff_attributes_on_sha256_width_entries() -> None:
    """Tree entries are read with the repository's object id length."""
    blob, tree = b"\1" * 32, b"\2" * 32
    objects = {
        tree: (2, b"100644 .gitattributes\0" + blob),
        blob: (3, b"*.x -diff\n"),
    }
    attributes = DiffAttributes(objects.__getitem__, tree, oid_length=32)
    assert attributes.binary(b"a.x") is True
    assert attributes.binary(b"a.y") is None
