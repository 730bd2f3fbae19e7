"""Outlier commits for bench_extract.py: huge edits of the kind that dominate real histories.

Real histories spend most of the extraction time in a handful of commits: a
vendored 30,000-line JavaScript file replaced by its next version, translation
files (``po/*.po``) updated by thousands of lines, a generated file rewritten.
:func:`add_outliers` appends such commits (13, each followed by a few small
ones) at the tip of a generated repository's ``main`` with ``git
fast-import``, so that the benchmark's ratio to git includes them and it can
report the slowest commit.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

#: Outlier commits made by :func:`outlier_commits`.
COMMITS = 1 + 4 * 3
_WORDS = (
    "var function return this prototype length value node element callback "
    "options data index result object array string event handler module"
).split()


def _js_line(rng: random.Random) -> bytes:
    r = rng.random()
    if r < 0.12:
        return rng.choice([b"", b"}", b"  }", b"    });", b"  return this;", b"};"])
    indent = b"  " * rng.randint(0, 4)
    words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 8)))
    return indent + f"{words}({rng.randint(0, 9999)});".encode()


def _po_entry(rng: random.Random, n: int) -> list[bytes]:
    refs = " ".join(f"src/{rng.choice(_WORDS)}.c:{rng.randint(1, 3000)}" for _ in range(2))
    msg = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 9)))
    return [
        f"#: {refs}".encode(),
        f'msgid "{msg} {n}"'.encode(),
        f'msgstr "{msg[::-1]} {n}"'.encode(),
        b"",
    ]


def _po_file(rng: random.Random, entries: int) -> list[list[bytes]]:
    return [_po_entry(rng, n) for n in range(entries)]


def _po_update(rng: random.Random, po: list[list[bytes]], share: float) -> list[list[bytes]]:
    """A translation update: moved references, retranslations, new and dropped entries."""
    out = []
    for n, entry in enumerate(po):
        r = rng.random()
        if r < share * 0.15:
            continue  # an obsolete message dropped
        entry = list(entry)
        if rng.random() < share:
            entry[0] = _po_entry(rng, n)[0]  # the source lines moved
        if rng.random() < share * 0.4:
            entry[2] = entry[2][:-1] + b' (rev)"'
        out.append(entry)
        if rng.random() < share * 0.1:
            out.append(_po_entry(rng, len(po) + n))
    return out


def _vendor_update(rng: random.Random, lines: list[bytes], dropped: float, added: float):
    """A vendored library's next version: blocks dropped, blocks of new code inserted."""
    out: list[bytes] = []
    i = 0
    while i < len(lines):
        block = rng.randint(5, 200)
        if rng.random() < dropped:
            i += block
            continue
        out += lines[i : i + block]
        i += block
        if rng.random() < added:
            out += [_js_line(rng) for _ in range(rng.randint(20, 400))]
    return out


def outlier_commits(seed: int) -> list[tuple[str, dict[str, bytes]]]:
    """``(message, {path: content})`` of each outlier commit, in order."""
    rng = random.Random(seed)
    commits: list[tuple[str, dict[str, bytes]]] = []
    vendor = [_js_line(rng) for _ in range(30000)]
    generated = [_js_line(rng) for _ in range(20000)]
    big = [_js_line(rng) for _ in range(50000)]
    pos = {lang: _po_file(rng, 2500) for lang in ("ca", "de", "fr")}

    def render(lines: list[bytes]) -> bytes:
        return b"\n".join(lines) + b"\n"

    def render_po(po: list[list[bytes]]) -> bytes:
        return render([line for entry in po for line in entry])

    commits.append(
        (
            "vendor a 30,000-line library, a generated file, a big module, translations",
            {
                "vendor/lib.js": render(vendor),
                "gen/parser.js": render(generated),
                "src/big.js": render(big),
                **{f"po/{lang}.po": render_po(po) for lang, po in pos.items()},
            },
        )
    )
    for round_ in range(3):
        vendor = _vendor_update(rng, vendor, dropped=0.25, added=0.5)
        commits.append(
            (f"update the vendored library ({round_})", {"vendor/lib.js": render(vendor)})
        )
        for lang in pos:
            pos[lang] = _po_update(rng, pos[lang], share=0.4 + 0.2 * round_)
        commits.append(
            (
                f"translation update ({round_})",
                {f"po/{lang}.po": render_po(po) for lang, po in pos.items()},
            )
        )
        generated = [ln if rng.random() < 0.3 else _js_line(rng) for ln in generated]
        commits.append((f"regenerate the parser ({round_})", {"gen/parser.js": render(generated)}))
        for _ in range(300):  # scattered small edits all over a 50,000-line file
            at = rng.randrange(len(big))
            big[at : at + rng.randint(0, 3)] = [_js_line(rng) for _ in range(rng.randint(0, 3))]
        commits.append((f"refactor the big module ({round_})", {"src/big.js": render(big)}))
    return commits


def add_outliers(path: Path, seed: int, every: int) -> int:
    """Append the outlier commits to ``main`` of the bare repository at ``path``,
    each followed by ``every`` ordinary small commits; return the commits made."""
    rng = random.Random(seed + 1)
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"], cwd=path, stdin=subprocess.PIPE
    )
    assert proc.stdin is not None
    w = proc.stdin.write
    when = 1_900_000_000
    made = 0
    first = True
    for message, files in outlier_commits(seed):
        batch = [(message, files)]
        batch += [
            ("small edit", {f"notes/n{rng.randint(0, 50)}.txt": b"%d\n" % rng.randint(0, 10**6)})
            for _ in range(every)
        ]
        for msg, changed in batch:
            when += 60
            data = msg.encode()
            w(b"commit refs/heads/main\n")
            w(b"committer Outlier Bench <bench@example.com> %d +0000\n" % when)
            w(b"data %d\n%s\n" % (len(data), data))
            if first:
                w(b"from refs/heads/main^0\n")
                first = False
            for name, content in changed.items():
                w(b"M 100644 inline %s\ndata %d\n%s\n" % (name.encode(), len(content), content))
            made += 1
    proc.communicate(b"done\n")
    if proc.returncode != 0:
        raise RuntimeError("git fast-import failed while adding the outlier commits")
    return made


def light_history(path: Path, commits: int, seed: int) -> None:
    """A long, cheap-to-make history in a new bare repository at ``path``.

    Each commit edits one line of one of 3,000 small files under 60 folders
    (a merge of a one-commit branch every 50 commits): the walk and the
    caches see a long history while generating it takes a minute, not the
    half hour of the realistic profile at 80,000 commits.
    """
    rng = random.Random(seed)
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(path)], check=True)
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"], cwd=path, stdin=subprocess.PIPE
    )
    assert proc.stdin is not None
    w = proc.stdin.write
    files = [[b"line %d of %d" % (i, f) for i in range(40)] for f in range(3000)]
    when = 1_500_000_000
    for n in range(1, commits + 1):
        when += 60
        f = rng.randrange(len(files))
        files[f][rng.randrange(40)] = b"edit %d" % n
        data = b"\n".join(files[f]) + b"\n"
        branch = b"side" if n % 50 == 49 else b"main"
        w(b"commit refs/heads/%s\nmark :%d\n" % (branch, n))
        message = b"commit %d" % n
        w(b"committer Light Bench <bench@example.com> %d +0000\n" % when)
        w(b"data %d\n%s\n" % (len(message), message))
        if branch == b"side":
            w(b"from :%d\n" % (n - 1))
        elif n % 50 == 0:
            w(b"merge :%d\n" % (n - 1))
        w(b"M 100644 inline d%d/f%d.txt\ndata %d\n%s\n" % (f % 60, f, len(data), data))
    proc.communicate(b"done\n")
    if proc.returncode != 0:
        raise RuntimeError("git fast-import failed while writing the light history")
