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
from gitleague_client import attributes, parallel
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


# Lines git reads in ways a plain pattern list does not show: C-style quoted
# names with every escape, a malformed quote, nothing between quote and states,
# "[attr]" alone (a pattern: one of the characters a, t, r), lines just under and
# at git's length limit (counted before leading blanks are skipped).
ODD_ROOT = b"".join(
    [
        b'"tab\\there.txt" -diff\n',
        b'"quote\\"d.txt" -diff\n',
        b'"back\\\\slash.txt" -diff\n',
        b'"caf\\303\\251.txt" -diff\n',
        b'"bell\\a\\b\\f\\n\\r\\v.txt" -diff\n',
        b'"nospace.txt"-diff\n',
        b'"bad\\q.txt" -diff\n',
        b'"unterminated.txt -diff\n',
        b"[attr] -diff\n",
        b"lonely.txt\n",  # a pattern and no attribute
        b"sp\\ ace.txt -diff\n",  # blanks cannot be escaped: a lone last backslash, no match
        b"bs\\\\ -diff\n",  # an escaped backslash matches the file "bs" + one backslash
        # Lengths: git ignores lines of 2,048 bytes or more, leading blanks
        # included, a CR before the LF not (it reads the file by lines).
        b"long-ok.txt -diff".ljust(2047) + b"\n",
        b"long-no.txt -diff".ljust(2048) + b"\n",
        b"   blank-led.txt -diff".ljust(2047) + b"\n",
        b"   lead-no.txt -diff".ljust(2048) + b"\n",
        b"crlf-short.txt -diff\r\n",
        b"crlf-ok.txt -diff".ljust(2047) + b"\r\n",  # (the last line with an LF)
        # The last line has no LF, so its CR stays and counts: 2,048 bytes.
        b"crlf-last.txt -diff".ljust(2047) + b"\r",
    ]
)
# Nested: anchored and slashed patterns are relative to the folder; macros
# are defined in the root file only.
ODD_NESTED = b"/top.md -diff\ndeeper/*.md -diff\n[attr]nested -diff\n*.q nested\n"


@pytest.fixture
def odd(make_repo):
    r = make_repo()
    r.write(".gitattributes", ODD_ROOT)
    r.write("sub/.gitattributes", ODD_NESTED)
    r.write("a/.gitattributes", b"*.txt -diff\n")  # must not reach the root's ab.txt
    r.write("exec/.gitattributes", b"*.e -diff\n", mode=0o755)
    r.write("link/keep", b"k\n")
    r.symlink("link/.gitattributes", "*.z -diff")  # git follows no such link
    for name in ODD_PATHS:
        r.write(name, b"one\n")
    r.commit("files and attributes")
    for name in ODD_PATHS:
        r.write(name, b"one\ntwo\n")
    r.commit("every file edited")
    return r


ODD_PATHS = [
    "tab\there.txt",
    'quote"d.txt',
    "back\\slash.txt",
    "café.txt",
    "bell\a\b\f\n\r\v.txt",
    "nospace.txt",
    '"bad\\q.txt"',
    "bad\\q.txt",
    '"unterminated.txt',
    "unterminated.txt",
    "t",  # (a file "a" would clash with the folder a/)
    "r",
    "b",
    "long-ok.txt",
    "long-no.txt",
    "blank-led.txt",
    "lead-no.txt",
    "crlf-ok.txt",
    "crlf-short.txt",
    "crlf-last.txt",
    "lonely.txt",
    "sp\\",
    "bs\\",
    "sub/top.md",
    "sub/x/top.md",
    "sub/deeper/d.md",
    "sub/x/deeper/d.md",
    "sub/f.q",
    "ab.txt",
    "a/c.txt",
    "exec/f.e",
    "link/f.z",
]


def test_quoted_nested_and_odd_lines_as_git(odd) -> None:
    expected = check_attr(odd.path, ODD_PATHS)
    # check-attr, unlike log, reads the index: refused the linked file, it parses the
    # link's blob there ("*.z -diff"). numstat, the reference, counts link/f.z as text.
    assert expected.pop("link/f.z") is True
    with Repo(str(odd.path)) as repo:
        reader = _Reader(repo, attributes_of=odd.head().encode())
        assert reader.attributes is not None
        got = {name: reader.attributes.binary(name.encode()) for name in ODD_PATHS}
        reader.store.close()
    assert got.pop("link/f.z") is None
    assert got == expected
    assert sum(v is True for v in got.values()) >= 10  # most lines do apply
    commits = assert_matches_git(odd.path, odd.head())
    assert commits[-1]["additions"] == 15  # git: 15 of the 32 files are text, link/f.z among them


def test_bom_is_skipped_not_part_of_the_first_pattern() -> None:
    rules, _ = parse_lines(b"\xef\xbb\xbf*.a -diff\n", b"", macros_ok=True)
    assert rules[0].match(b"x.a") and not rules[0].match(b"xa")


def _flat_tree(folders: int) -> tuple[dict[bytes, tuple[int, bytes]], bytes]:
    """Objects of a root tree holding ``folders`` folders, each with a .gitattributes."""
    blob = b"\1" * 20
    objects: dict[bytes, tuple[int, bytes]] = {blob: (3, b"*.x -diff\n")}
    root = b""
    for n in range(folders):
        sha = bytes([2, n]) + b"\0" * 18
        objects[sha] = (2, b"100644 .gitattributes\0" + blob)
        root += b"40000 d%02d\0" % n + sha
    objects[b"\3" * 20] = (2, root)
    return objects, b"\3" * 20


def test_parsed_trees_are_bounded_and_the_oldest_go_first(monkeypatch) -> None:
    monkeypatch.setattr(attributes, "_TREES_KEPT", 3)
    objects, root = _flat_tree(6)
    diff = DiffAttributes(objects.__getitem__, root)  # sha-1 width by default
    for n in range(6):
        assert diff.binary(b"d%02d/a.x" % n) is True
        assert diff.binary(b"d%02d/a.y" % n) is None
    assert list(diff.trees) == [bytes([2, n]) + b"\0" * 18 for n in (3, 4, 5)]


def test_verdicts_are_bounded_and_the_oldest_go_first(monkeypatch) -> None:
    monkeypatch.setattr(attributes, "VERDICT_CACHE_SIZE", 4)
    objects, root = _flat_tree(1)
    diff = DiffAttributes(objects.__getitem__, root)
    paths = [b"d00/f%d.x" % n for n in range(10)]
    assert [diff.binary(p) for p in paths] == [True] * 10
    assert list(diff.verdicts) == paths[-4:]


def test_files_of_git_size_limit_and_over_are_ignored(monkeypatch) -> None:
    assert attributes._MAX_FILE == 100 * 1024 * 1024  # git's ATTR_MAX_FILE_SIZE
    monkeypatch.setattr(attributes, "_MAX_FILE", 64)
    line = b"*.a -diff\n"
    assert len(parse_lines(line + b"#" * (63 - len(line)), b"", macros_ok=True)[0]) == 1
    assert parse_lines(line + b"#" * (64 - len(line)), b"", macros_ok=True) == ([], {})
