"""Commit extraction against the git binary, on real repositories.

Every commit's additions/deletions/files_changed must equal
``git log --numstat --no-renames``; dates must equal ``%aI``/``%cI``.

Known differences from git: none on these histories. Where git's own diff is
not minimal (xdiff's cost cut-offs on huge rewrites) linediff ports those
heuristics. The tip's ``.gitattributes`` are applied (test_extract_attributes.py);
textconv drivers and ``core.bigFileThreshold`` are not, so a repository that
configures a textconv, or holds text blobs over 512 MiB, would differ.
"""

from __future__ import annotations

import binascii
import random
import re
import subprocess
from pathlib import Path

import pytest
from dulwich.repo import Repo
from gitleague_client import treediff
from gitleague_client.extract import count_commits, iter_commits
from gitleague_client.linediff import count_changes
from gitleague_client.myers import edit_cost
from gitleague_client.objects import PackStore
from gitleague_client.treediff import TreeDiff, canon_mode
from gitleague_client.xdlsplit import changed_counts

from .conftest import git_diff_counts  # type: ignore[import-not-found]

KEYS = {
    "sha",
    "parents",
    "author_name",
    "author_email",
    "authored_at",
    "committer_name",
    "committer_email",
    "committed_at",
    "message",
    "additions",
    "deletions",
    "files_changed",
    "is_merge",
}
FIELDS = ["%H", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B"]


def run_git(path: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=path, capture_output=True, check=True).stdout


def extract(path: Path, heads: list[str], exclude: list[str] = ()) -> list[dict]:
    with Repo(str(path)) as repo:
        return list(iter_commits(repo, [h.encode() for h in heads], [e.encode() for e in exclude]))


def git_numstat(path: Path, *revs: str) -> dict[str, tuple[int, int, int]]:
    """``{sha: (additions, deletions, files)}`` as ``git log --numstat --no-renames``."""
    out = run_git(path, "log", "--numstat", "--no-renames", "--format=@@%H", *revs)
    stats: dict[str, list[int]] = {}
    current: list[int] = []
    for line in out.split(b"\n"):
        if line.startswith(b"@@"):
            current = stats.setdefault(line[2:].decode(), [0, 0, 0])
        elif line:
            added, deleted, _ = line.split(b"\t", 2)
            current[2] += 1
            if added != b"-":  # binary
                current[0] += int(added)
                current[1] += int(deleted)
    return {sha: tuple(v) for sha, v in stats.items()}


def as_git_shows(raw: bytes) -> str:
    # git prints bytes; ours are str: UTF-8 if valid, else Latin-1 (documented).
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def git_meta(path: Path, *revs: str) -> dict[str, dict]:
    out = run_git(path, "log", "-z", "--format=" + "%x00".join(FIELDS), *revs)
    values = out.split(b"\0")
    meta = {}
    for i in range(0, len(values) - len(FIELDS) + 1, len(FIELDS)):
        sha, parents, an, ae, ad, cn, ce, cd, body = values[i : i + len(FIELDS)]
        meta[sha.decode()] = {
            "parents": parents.decode().split(),
            "author_name": as_git_shows(an),
            "author_email": as_git_shows(ae),
            "authored_at": ad.decode(),
            "committer_name": as_git_shows(cn),
            "committer_email": as_git_shows(ce),
            "committed_at": cd.decode(),
            "message": as_git_shows(body),
        }
    return meta


def assert_matches_git(path: Path, head: str, exclude: list[str] = ()) -> list[dict]:
    """Extract ``head ^exclude`` and compare every commit with git's own view."""
    commits = extract(path, [head], exclude)
    revs = [head, *(f"^{e}" for e in exclude)]
    stats = git_numstat(path, *revs)
    meta = git_meta(path, *revs)
    assert {c["sha"] for c in commits} == set(stats)
    mismatches = []
    for c in commits:
        assert set(c) == KEYS
        expect = meta[c["sha"]]
        is_merge = len(expect["parents"]) > 1
        numbers = (c["additions"], c["deletions"], c["files_changed"])
        if numbers != ((0, 0, 0) if is_merge else stats[c["sha"]]):
            mismatches.append((c["sha"], numbers, stats[c["sha"]]))
        assert c["is_merge"] is is_merge
        for key in ("parents", "authored_at", "committed_at", "author_name", "author_email"):
            assert c[key] == expect[key], (c["sha"], key)
        assert c["committer_name"] == expect["committer_name"]
        assert c["message"].rstrip("\n") == expect["message"].rstrip("\n")
    assert mismatches == []
    assert_parents_first(commits)
    return commits


def assert_parents_first(commits: list[dict]) -> None:
    seen: set[str] = set()
    emitted = {c["sha"] for c in commits}
    for c in commits:
        for parent in c["parents"]:
            if parent in emitted:
                assert parent in seen, f"{parent} after its child {c['sha']}"
        seen.add(c["sha"])


# --------------------------------------------------------------------------
# Hand-built histories: one commit per edge case
# --------------------------------------------------------------------------


def test_edge_cases_match_git(make_repo) -> None:
    r = make_repo()
    r.write("a.txt", "one\ntwo\nthree\n")
    r.write("empty", b"")
    r.write("bin.dat", b"\x89PNG\0\x01\x02")
    r.write("crlf.txt", b"l1\r\nl2\r\nl3\r\n")
    r.write("noeol.txt", b"x\ny")
    r.write("tool.sh", "#!/bin/sh\necho hi\n")
    r.symlink("link", "a.txt")
    r.write("dir/sub/deep.txt", "deep\n")
    r.commit("root commit")  # root: diff against the empty tree
    r.write("crlf.txt", b"l1\r\nL2\r\nl3\r\nl4\n")
    r.commit("crlf edit")
    r.write("noeol.txt", b"x\ny\n")
    r.commit("add final newline")
    r.write("noeol.txt", b"x\ny\nz")
    r.commit("append without newline")
    (r.path / "tool.sh").chmod(0o755)
    r.commit("mode only")
    r.write("tool.sh", "#!/bin/sh\necho bye\n", mode=0o644)
    r.commit("mode and content")
    r.write("bin.dat", b"\x89PNG\0\x03")
    r.commit("binary changed")
    r.write("bin.dat", "now text\n")
    r.commit("binary to text")
    r.write("late-nul.txt", b"a\n" * 4100 + b"\0\n")  # NUL after 8000 bytes: text to git
    r.commit("nul late")
    r.write("late-nul.txt", b"b\n" + b"a\n" * 4100 + b"\0\n")
    r.commit("nul late edit")
    r.symlink("link", "tool.sh")
    r.commit("symlink retarget")
    r.remove("a.txt")
    r.symlink("a.txt", "tool.sh")
    r.commit("file to symlink")
    r.git("mv", "dir/sub/deep.txt", "dir/moved.txt")
    r.commit("rename is delete plus add")
    r.remove("empty")
    r.write("empty/inner.txt", "file became a folder\n")
    r.commit("file to folder")
    r.remove("dir")
    r.write("dir", "folder became a file\n")
    r.commit("folder to file")
    r.commit("nothing", allow_empty=True)
    gitlink = "160000,{},sub"
    r.git("update-index", "--add", "--cacheinfo", gitlink.format("1" * 40))
    r.git("commit", "-q", "-m", "add submodule")
    r.git("update-index", "--cacheinfo", gitlink.format("2" * 40))
    r.git("commit", "-q", "-m", "move submodule")
    r.git("update-index", "--force-remove", "sub")
    r.git("commit", "-q", "-m", "drop submodule")
    r.write("blanks.txt", "a\n\n\nb\n\n\nc\n\n\n" * 30)
    r.commit("many blank lines")
    r.write("blanks.txt", "a\n\n\nB\n\n\nc\n\n\n" * 15 + "x\n\n" * 40)
    r.commit("edit among frequent lines")
    r.write("a.txt", "")
    r.commit("emptied")
    commits = assert_matches_git(r.path, r.head())
    by_message = {c["message"].strip(): c for c in commits}
    assert by_message["mode only"]["files_changed"] == 1
    assert by_message["mode only"]["additions"] == 0
    assert by_message["nothing"]["files_changed"] == 0


def test_merges_and_octopus(make_repo) -> None:
    r = make_repo()
    r.write("base.txt", "base\n")
    r.commit("base")
    for name in ("x", "y", "z"):
        r.git("checkout", "-q", "-b", name, "main")
        r.write(f"{name}.txt", f"{name}\n")
        r.commit(f"on {name}")
    r.git("checkout", "-q", "main")
    r.write("main.txt", "main\n")
    r.commit("on main")
    r.git("merge", "-q", "--no-edit", "x")
    r.git("merge", "-q", "--no-edit", "y", "z")  # octopus
    commits = assert_matches_git(r.path, r.head())
    merges = [c for c in commits if c["is_merge"]]
    assert [len(c["parents"]) for c in merges] == [2, 3]
    assert all(c["additions"] == c["deletions"] == c["files_changed"] == 0 for c in merges)
    assert commits[-1]["sha"] == r.head()


def test_non_utf8_identities_and_messages(make_repo) -> None:
    r = make_repo()
    r.write("f", "1\n")
    r.commit(
        b"caf\xe9 latin-1 with header\n",
        author=(b"Ren\xe9 L", b"rene@example.com"),
        encoding="ISO-8859-1",
    )
    r.write("f", "2\n")
    r.commit(b"caf\xe9 latin-1 without header\n", author=(b"Ren\xe9 L", b"rene@example.com"))
    r.write("f", "3\n")
    r.commit("日本語 utf-8\n".encode(), author=("Zoë 山田", "zoe@example.com"))
    r.write("f", "4\n")
    r.commit("sjis \u65e5\u672c\n".encode("shift_jis"), encoding="Shift_JIS")
    commits = assert_matches_git(r.path, r.head())
    assert [c["author_name"] for c in commits] == ["René L", "René L", "Zoë 山田", "Test User"]
    assert commits[0]["message"] == "café latin-1 with header\n"
    assert commits[1]["message"] == "café latin-1 without header\n"  # the Latin-1 fallback
    assert commits[3]["message"] == "sjis \u65e5\u672c\n"


@pytest.mark.parametrize("offset", ["+0000", "+0530", "-0700", "+1245", "-0330", "-0000"])
def test_dates_keep_their_offset(make_repo, offset: str) -> None:
    r = make_repo()
    r.write("f", "x\n")
    r.commit("dated", date=f"1709294400 {offset}")
    (commit,) = assert_matches_git(r.path, r.head())
    assert commit["authored_at"].endswith(f"{offset[:3]}:{offset[3:]}".replace("-00:00", "+00:00"))


# --------------------------------------------------------------------------
# Generated history (git fast-import), walking and exclusion
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def history(generated_repo) -> Path:
    return generated_repo(2500, seed=7, profile="torture")


def test_generated_history_matches_git_on_every_commit(history: Path) -> None:
    head = run_git(history, "rev-parse", "main").decode().strip()
    commits = assert_matches_git(history, head)
    assert len(commits) == 2500
    assert sum(c["is_merge"] for c in commits) > 50
    with Repo(str(history)) as repo:
        assert count_commits(repo, [head.encode()]) == 2500


def test_exclude_walks_only_new_commits(history: Path) -> None:
    shas = run_git(history, "rev-list", "--first-parent", "main").decode().split()
    head, base = shas[0], shas[40]
    commits = assert_matches_git(history, head, [base])
    expected = run_git(history, "rev-list", head, f"^{base}").decode().split()
    assert sorted(c["sha"] for c in commits) == sorted(expected)
    with Repo(str(history)) as repo:
        assert count_commits(repo, [head.encode()], [base.encode()]) == len(expected)
        assert list(iter_commits(repo, [head.encode()], [head.encode()])) == []
        # An excluded sha the repository lacks (a rewritten history) excludes nothing.
        missing = b"0" * 40
        assert count_commits(repo, [shas[-3].encode()], [missing]) == 3


def test_several_heads(history: Path) -> None:
    shas = run_git(history, "rev-list", "--first-parent", "main").decode().split()
    commits = extract(history, [shas[5], shas[0]], [shas[10]])
    expected = run_git(history, "rev-list", shas[0], f"^{shas[10]}").decode().split()
    assert sorted(c["sha"] for c in commits) == sorted(expected)
    assert_parents_first(commits)


# --------------------------------------------------------------------------
# The line diff alone, against git diff --no-index
# --------------------------------------------------------------------------


def _random_pair(rng: random.Random) -> tuple[bytes, bytes]:
    vocab = [b"", b"}", b"a", b"b", b"x = 1", b"  return"]
    vocab += [b"line %d" % i for i in range(rng.choice([3, 40, 400]))]
    old = [rng.choice(vocab) for _ in range(rng.choice([1, 8, 60, 400, 1200]))]
    new = list(old)
    for _ in range(rng.randint(1, 6)):
        at = rng.randint(0, len(new))
        new[at : at + rng.randint(0, 4)] = [rng.choice(vocab) for _ in range(rng.randint(0, 4))]
    if rng.random() < 0.15:
        rng.shuffle(new)  # a rewrite: large edit cost, xdiff's heuristics apply

    def render(lines: list[bytes]) -> bytes:
        return b"\n".join(lines) + (b"\n" if rng.random() < 0.9 else b"")

    return render(old), render(new)


@pytest.mark.parametrize("seed", range(6))
def test_line_counts_equal_git_diff(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(25):
        old, new = _random_pair(rng)
        assert count_changes(old, new) == git_diff_counts(tmp_path, old, new)


@pytest.mark.parametrize("by_numbers", [False, True], ids=["maps-lcs", "numbers-greedy"])
def test_costly_edits_equal_git_by_either_method(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, by_numbers: bool
) -> None:
    """Edits past the greedy search on lines get their minimal cost from the
    bit-parallel LCS (C-level maps, pure Python), or every edit from the greedy
    search on numbers (the compiled loops): both give git's counts."""
    from gitleague_client import linediff

    used = {"minimal_cost": 0, "lcs_length": 0}

    def counted(name: str):
        original = getattr(linediff, name)

        def spy(*args):
            used[name] += 1
            return original(*args)

        return spy

    monkeypatch.setattr(linediff, "BY_NUMBERS", by_numbers)
    for name in used:
        monkeypatch.setattr(linediff, name, counted(name))
    rng = random.Random(8)
    for _ in range(40):
        old, new = _random_pair(rng)
        assert count_changes(old, new) == git_diff_counts(tmp_path, old, new)
    assert used["minimal_cost" if by_numbers else "lcs_length"] > 3
    assert used["lcs_length" if by_numbers else "minimal_cost"] == 0


def _costly_pair_sharing_lines_with_its_ends(rng: random.Random) -> tuple[bytes, bytes]:
    """A rewrite costing over 512 lines; some removed lines also sit in the unchanged ends."""
    head = [b"h%d" % rng.randrange(50) for _ in range(20)]
    tail = [b"t%d" % rng.randrange(50) for _ in range(20)]
    old = [rng.choice([b"m%d" % rng.randrange(50), rng.choice(head + tail)]) for _ in range(700)]
    new = [x if rng.random() < 0.5 else b"m%d" % rng.randrange(50) for x in old]
    new[:233] = rng.sample(new[:233], 233)

    def render(middle: list[bytes], first: bytes, last: bytes) -> bytes:
        return b"\n".join(head + [first] + middle + [last] + tail) + b"\n"

    return render(old, b"X", b"Y"), render(new, b"Z", b"W")


@pytest.mark.parametrize("by_numbers", [False, True], ids=["maps", "numbers"])
def test_unmatched_lines_found_in_the_unchanged_part_count_toward_the_cost(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, by_numbers: bool
) -> None:
    """xdiff keeps a changed line that appears in the other file's unchanged part
    (it cannot match, but it is in the sequence its Myers searches): past a cost of
    512 its cut-offs then give other counts than on the shorter sequence. An
    earlier version dropped such lines whenever no line was frequent: it was off
    by 1-6 lines on 5 of these 40 pairs."""
    from gitleague_client import linediff

    monkeypatch.setattr(linediff, "BY_NUMBERS", by_numbers)
    rng = random.Random(1)
    for _ in range(40):
        old, new = _costly_pair_sharing_lines_with_its_ends(rng)
        assert count_changes(old, new) == git_diff_counts(tmp_path, old, new)


def test_frequent_line_among_changed_lines_is_discarded_as_git_does(tmp_path: Path) -> None:
    """A blank line that is frequent in the other file, between changed lines, is
    dropped before the Myers pass (``xdl_clean_mmatch``): git's counts are then
    one line more each way than a minimal diff's. Found by a random search."""
    kept = [b"o52645", b"", b"", b"o765095", b"o344323", b"o169254", b"", b"o541396", b""]
    old = kept[:3] + [b"o113998", b"", b"o983035"] + kept[3:] + [b"o445962", b"", b""]
    old += [b"o166442", b"o799086", b"", b"o697373", b"o76480", b"o567692", b"o284053"]
    old += [b"o274415", b"o571413", b"", b"o144241", b"o768519"]
    new = kept[:3] + [b"n91526", b"", b"n166062"] + kept[3:] + [b"n38299", b"", b""]
    new += [b"o166442", b"n993431", b"", b"o697373", b"n137497", b"n546759", b"n527069"]
    new += [b"n17657", b"n71624", b"", b"n708351", b"n953722"]
    old_blob, new_blob = b"\n".join(old) + b"\n", b"\n".join(new) + b"\n"
    assert git_diff_counts(tmp_path, old_blob, new_blob) == (12, 12)
    assert edit_cost(old, new) == 22  # the minimal diff: 11 and 11
    assert count_changes(old_blob, new_blob) == (12, 12)


# --------------------------------------------------------------------------
# The modules under the extraction: pack reader, tree diff, Myers port
# --------------------------------------------------------------------------


@pytest.mark.parametrize("offset_deltas", [True, False])
def test_pack_store_reads_every_object_as_dulwich(make_repo, offset_deltas: bool) -> None:
    """Deltas by offset or by sha, chains, two packs and loose objects; a tiny cache."""
    r = make_repo()
    rng = random.Random(3)
    lines = [b"line %d\n" % i for i in range(400)]
    for round_ in range(3):
        for _ in range(12):
            at = rng.randrange(len(lines))
            lines[at : at + 2] = [b"edit %d\n" % rng.randrange(10**6)]
            r.write("big.txt", b"".join(lines))
            r.write(f"dir{rng.randrange(4)}/small.txt", b"%d\n" % rng.randrange(100))
            r.commit()
        if round_ == 0:
            flag = "true" if offset_deltas else "false"
            r.git("-c", f"repack.useDeltaBaseOffset={flag}", "repack", "-a", "-d", "-f", "-q")
        elif round_ == 1:
            r.git("repack", "-d", "-q")  # a second pack; the last round stays loose
    packs = sorted((r.path / ".git" / "objects" / "pack").glob("*.idx"))
    assert b"chain length = 3" in r.git("verify-pack", "-v", *map(str, packs))  # deltas of deltas
    with Repo(str(r.path)) as repo:
        store = PackStore(repo.object_store, 20, cache_bytes=4096)
        # Only loose objects may go to dulwich: a packed one found there would mean
        # our index lookup missed it (right answer, at dulwich's speed).
        loose = {p.parent.name + p.name for p in r.path.glob(".git/objects/??/*")}
        asked: set[str] = set()
        dulwich_get = store.fallback
        store.fallback = lambda sha: asked.add(sha.decode()) or dulwich_get(sha)
        try:
            assert len(store.packs) == 2
            shas = list(repo.object_store)
            assert len(shas) > 150
            for sha in shas:  # a short run: the index files are bisected
                assert store.get_raw(binascii.unhexlify(sha)) == repo.object_store.get_raw(sha)
            for pack in store.packs:
                pack.starts = pack._sorted_offsets()  # what a long run switches to
            store.cache.clear()
            for sha in shas:
                assert store.get_raw(binascii.unhexlify(sha)) == repo.object_store.get_raw(sha)
            assert asked == loose and loose
        finally:
            store.close()
        roomy = PackStore(repo.object_store, 20)
        try:
            for sha in shas:  # read once (the walk): right, and only delta bases kept
                got = roomy.get_raw(binascii.unhexlify(sha), keep=False)
                assert got == repo.object_store.get_raw(sha)
            kept = len(roomy.cache)
            assert 0 < kept < len(shas) - len(list(r.path.glob(".git/objects/??/*")))
            # Room made for a huge diff: the oldest objects go, the newest stay.
            for sha in shas:
                roomy.get_raw(binascii.unhexlify(sha))
            newest = list(roomy.cache)[-3:]
            before = roomy.cache_bytes
            roomy.make_room(roomy.cache_limit - before // 2)
            assert 0 < roomy.cache_bytes <= before // 2
            assert roomy.cache_bytes == sum(len(data) for _, data in roomy.cache.values())
            assert list(roomy.cache)[-3:] == newest
            roomy.make_room(roomy.cache_limit * 2)
            assert roomy.cache_bytes == 0 and not roomy.cache
            for sha in shas[:20]:  # and everything still reads right after
                assert roomy.get_raw(binascii.unhexlify(sha)) == repo.object_store.get_raw(sha)
        finally:
            roomy.close()


def test_pack_index_lookup_finds_every_name_and_nothing_else(make_repo) -> None:
    """Fan-out table, bisection and the final scan: every object of a 3,000-object
    pack is found at git's offset, and a sha next to each name is not found."""
    r = make_repo()
    # 3,000 blobs in one commit: about 12 names in each fan-out bucket.
    stream = [b"commit refs/heads/main\ncommitter A <a@example.com> 0 +0000\ndata 0\n"]
    stream += [
        b"M 100644 inline f%d\ndata %d\n%s\n" % (i, len(b"%d" % i), b"%d" % i) for i in range(3000)
    ]
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=r.path, input=b"".join(stream), check=True
    )
    r.git("repack", "-a", "-d", "-q")
    (idx_path,) = (r.path / ".git" / "objects" / "pack").glob("*.idx")
    listing = r.git("verify-pack", "-v", str(idx_path)).decode()
    offsets = {
        bytes.fromhex(m[0]): int(m[1])
        for m in re.findall(r"^([0-9a-f]{40}) \w+ +\d+ \d+ (\d+)", listing, re.M)
    }
    assert len(offsets) > 3000
    with Repo(str(r.path)) as repo:
        store = PackStore(repo.object_store, 20)
        try:
            (pack,) = store.packs
            for sha, offset in offsets.items():
                assert pack.find(sha) == offset
                for neighbour in (sha[:-1] + bytes([sha[-1] ^ 1]), sha[:4] + bytes(16)):
                    if neighbour not in offsets:
                        assert pack.find(neighbour) is None
            assert pack.find(bytes(20)) is None and pack.find(b"\xff" * 20) is None
            assert list(pack._sorted_offsets()) == [*sorted(offsets.values()), pack.data_end]
        finally:
            store.close()


_ENTRY = re.compile(rb"[^\0]*\0.{20}", re.S)


def _naive_changes(old: bytes, new: bytes) -> set:
    def parse(raw: bytes) -> dict:
        entries = {}
        for e in _ENTRY.findall(raw):
            mode, _, name = e[:-21].partition(b" ")
            entries[name] = (canon_mode(mode), e[-20:])
        return entries

    a, b = parse(old), parse(new)
    return {(a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


def _tree(entries: list[tuple[bytes, bytes, bytes]]) -> bytes:
    return b"".join(mode + b" " + name + b"\0" + sha for mode, name, sha in entries)


def _sha(rng: random.Random) -> bytes:
    # Binary shas full of NULs and entry-like bytes, the worst case for trimming.
    return bytes(rng.choice([0, 0, 32, 48, 49, 52, 97, rng.randrange(256)]) for _ in range(20))


@pytest.mark.parametrize("seed", range(4))
def test_tree_diff_parses_only_what_changed_and_agrees(seed: int) -> None:
    rng = random.Random(seed)
    names = sorted({b"f%05d" % rng.randrange(10**5) for _ in range(300)})
    current = [(b"100644", name, _sha(rng)) for name in names]
    objects: dict[bytes, bytes] = {}
    diff = TreeDiff(lambda sha: (2, objects[sha]), cache_bytes=4 * 4096)
    old_id = None
    old_raw = b""
    for step in range(60):
        entries = list(current)
        for _ in range(rng.choice([1, 1, 2, 5])):
            at = rng.randrange(len(entries))
            kind = rng.random()
            if kind < 0.6:
                entries[at] = (entries[at][0], entries[at][1], _sha(rng))
            elif kind < 0.8:
                del entries[at]
            else:
                name = entries[at][1] + b"x" * rng.randint(1, 3)
                if name not in {e[1] for e in entries}:  # names are unique in a tree
                    entries.insert(at + 1, (b"100755", name, _sha(rng)))
        entries.sort(key=lambda e: e[1])
        current = entries
        new_id = b"%020d" % step
        objects[new_id] = raw = _tree(current)
        assert len(raw) > 4096  # the trimming path, not the small-tree one
        got = {(o, n) for _, o, n in diff.changes(old_id, new_id)}
        assert got == _naive_changes(old_raw, raw), step
        old_id, old_raw = new_id, raw


def test_tree_diff_parses_the_entries_around_a_change_only() -> None:
    rng = random.Random(5)
    entries = [(b"100644", b"f%05d" % n, rng.randbytes(20)) for n in range(400)]
    objects = {b"0": _tree(entries)}
    diff = TreeDiff(lambda sha: (2, objects[sha]))
    parse = diff.parse
    parsed: list[int] = []
    diff.parse = lambda *args: parsed.append(len(found := parse(*args))) or found
    for step in range(1, 41):
        at = rng.randrange(len(entries))
        if step % 4:  # a changed file
            entries[at] = (b"100644", entries[at][1], rng.randbytes(20))
        else:  # a new file: the tree grows, what follows the change shifts
            entries.insert(at + 1, (b"100755", entries[at][1] + b"n", rng.randbytes(20)))
        objects[b"%d" % step] = _tree(entries)
        assert len(list(diff.changes(b"%d" % (step - 1), b"%d" % step))) == 1
    # The first diff parses the old tree whole; then a few entries a step, not the tree.
    assert parsed[0] == 400
    assert sum(parsed[1:]) <= 40 * 3


def test_tree_cache_is_bounded_by_bytes_and_rereads_what_it_let_go() -> None:
    """Trees beyond the byte budget are dropped oldest first, read again when asked."""
    rng = random.Random(7)
    versions = []
    objects: dict[bytes, bytes] = {}
    for v in range(40):
        entries = [(b"100644", b"f%04d" % i, _sha(rng)) for i in range(200 + v)]
        versions.append(b"%020d" % v)
        objects[versions[-1]] = _tree(entries)
    reads: list[bytes] = []

    def get_raw(sha: bytes) -> tuple[int, bytes]:
        reads.append(sha)
        return 2, objects[sha]

    budget = 5 * len(objects[versions[0]])
    diff = TreeDiff(get_raw, cache_bytes=budget)
    for _ in range(120):
        old, new = rng.sample(versions, 2)
        got = {(o, n) for _, o, n in diff.changes(old, new)}
        assert got == _naive_changes(objects[old], objects[new])
        held = sum(len(tree.raw) for tree in diff.trees.values())
        assert diff.cached_bytes == held
        assert held <= budget or len(diff.trees) <= 8
    assert len(diff.trees) < len(versions)
    assert len(reads) > len(versions)  # dropped trees were read again


def test_tree_cache_drops_the_least_recently_used_tree() -> None:
    """A commit's new trees are the next commit's old trees: those are the ones kept."""
    rng = random.Random(3)
    names = [b"v%02d" % v for v in range(12)]
    objects = {
        name: _tree([(b"100644", b"f%04d" % i, _sha(rng)) for i in range(200)]) for name in names
    }
    # Room for three trees, so only the minimum of trees kept whatever their size stays.
    diff = TreeDiff(lambda sha: (2, objects[sha]), cache_bytes=3 * len(objects[names[0]]))
    kept = treediff._TREES_KEPT_MIN
    for old, new in zip(names, names[1:10], strict=False):
        assert len(list(diff.changes(old, new))) == 200
        assert new in diff.trees  # the next commit's old tree
    assert list(diff.trees) == names[10 - kept : 10]
    # v02 (the oldest kept) seen again as a new tree becomes the most recent...
    list(diff.changes(names[9], names[10 - kept]))
    list(diff.changes(names[9], names[10]))
    # ...so the one dropped for v10 is v03; v09, read as the old tree, is fresh again.
    assert names[10 - kept] in diff.trees
    assert names[10 - kept + 1] not in diff.trees
    assert list(diff.trees)[-3:] == [names[10 - kept], names[9], names[10]]
    assert len(diff.trees) == kept


def test_small_trees_are_cached_for_the_next_commit_too() -> None:
    objects = {
        b"a": _tree([(b"100644", b"f", b"\1" * 20)]),
        b"b": _tree([(b"100644", b"f", b"\2" * 20)]),
    }
    diff = TreeDiff(lambda sha: (2, objects[sha]))
    assert len(list(diff.changes(b"a", b"b"))) == 1
    assert list(diff.trees) == [b"a", b"b"]


def test_tree_cache_keeps_the_last_trees_however_big() -> None:
    entries = [(b"100644", b"f%05d" % i, b"\1" * 20) for i in range(3000)]
    objects = {b"a": _tree(entries), b"b": _tree(entries[:-1])}
    diff = TreeDiff(lambda sha: (2, objects[sha]), cache_bytes=1)
    assert len(list(diff.changes(b"a", b"b"))) == 1
    assert set(diff.trees) == {b"a", b"b"}


def test_tree_diff_when_an_old_boundary_is_not_a_new_one() -> None:
    """Bytes shared at the end can start mid-entry in the new tree: parse on."""
    filler = [(b"100644", b"a%04d" % i, b"\1" * 20) for i in range(200)]
    tail_sha = b"x100644 weird" + b"y" * 7  # no NUL: the next entry runs on into it
    old = _tree([*filler, (b"100644", b"e", b"\2" * 20)]) + b"100644 b\0" + tail_sha
    old += _tree([(b"100644", b"c", b"\3" * 20)])
    # A new entry of 15 sha bytes + the old "b" entry's first bytes: the old
    # "b" boundary lands inside it.
    new = _tree(filler) + b"100644 z\0" + b"\4" * 15 + b"100644 b\0" + tail_sha
    new += _tree([(b"100644", b"c", b"\3" * 20)])
    objects = {b"old": old, b"new": new}
    diff = TreeDiff(lambda sha: (2, objects[sha]))
    got = {(o, n) for _, o, n in diff.changes(b"old", b"new")}
    assert got == _naive_changes(old, new)
    # "e" gone, "z" new, and "b" parsed in the new tree as mode "4" (a gitlink to git).
    assert len(got) == 3
    assert ((b"100644", tail_sha), (b"160000", tail_sha)) in got


def _lcs(a: list, b: list) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        prev = 0
        for j, y in enumerate(b):
            prev, row[j + 1] = row[j + 1], prev + 1 if x == y else max(row[j + 1], row[j])
    return row[-1]


@pytest.mark.parametrize("seed", range(3))
def test_myers_port_is_minimal_for_small_edits(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        a = [rng.choice(b"abcdefgh") for _ in range(rng.randint(0, 120))]
        b = list(a)
        for _ in range(rng.randint(0, 8)):
            at = rng.randint(0, len(b))
            b[at : at + rng.randint(0, 3)] = [
                rng.choice(b"abcxyz") for _ in range(rng.randint(0, 3))
            ]
        lcs = _lcs(a, b)
        assert changed_counts(a, b) == (len(a) - lcs, len(b) - lcs)
