"""docs/migration-guide.md, typed as written.

Every ``console`` block of the guide is a session: ``$ `` lines are commands,
the lines after them the output they must print. The commands run in
document order against the guide's world (12 pull + 2 push repos, see
tests/migration_helpers.py), each in a subprocess with only ``DATABASE_URL``
set, as an admin would type them. A ``…`` in an expected line stands for
text that changes from run to run (dates). A command the test cannot type
fails the test, so the guide cannot show one that was never run.

``GUIDE_PRINT=1`` prints what each command really printed, to update the guide.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.migration_helpers import build_world

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "migration-guide.md"
BIN = Path(sys.executable).parent


def sessions(text: str) -> list[list[tuple[str, list[str]]]]:
    """``[(command, expected output lines), ...]`` per console block."""
    blocks = re.findall(r"^```console\n(.*?)^```", text, flags=re.M | re.S)
    out = []
    for block in blocks:
        steps: list[tuple[str, list[str]]] = []
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                assert steps, f"output before any command in a console block: {line!r}"
                steps[-1][1].append(line)
        out.append(steps)
    return out


def argv(command: str) -> list[str]:
    words = shlex.split(command)
    if words[0] == "python" and words[1].startswith("scripts/"):
        return [sys.executable, *words[1:]]
    if words[:3] == ["flask", "--app", "wsgi"]:
        return [str(BIN / "flask"), *words[1:]]
    raise AssertionError(f"the guide shows a command this test cannot type: {command}")


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line; ``…`` inside a line is any text, a line of ``…`` alone any lines."""
    pattern = "".join(
        r"(?:.*\n)*?" if want == "…" else ".*".join(map(re.escape, want.split("…"))) + r"\n"
        for want in expected
    )
    return re.fullmatch(pattern, "".join(line + "\n" for line in actual)) is not None


def test_every_console_session_of_the_guide(app: Any, seed: Any, database_url: str) -> None:
    build_world(app, seed)
    text = GUIDE.read_text(encoding="utf-8")
    steps = [step for block in sessions(text) for step in block]
    assert len(steps) >= 8, "the guide lost its typed examples"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATABASE_URL": database_url,
        "PYTHONIOENCODING": "utf-8",
    }
    for command, expected in steps:
        result = subprocess.run(
            argv(command), cwd=ROOT, env=env, capture_output=True, text=True,
            encoding="utf-8", timeout=120, check=False,
        )  # fmt: skip
        actual = (result.stdout + result.stderr).rstrip("\n").splitlines()
        while expected and expected[-1] == "":
            expected = expected[:-1]
        if os.environ.get("GUIDE_PRINT"):
            print(f"$ {command}\n" + "\n".join(actual) + "\n")
            continue
        assert matches(expected, actual), (
            f"$ {command}\nexpected:\n" + "\n".join(expected) + "\nactual:\n" + "\n".join(actual)
        )


def test_sessions_parser_reads_commands_and_outputs() -> None:
    text = "x\n```console\n$ python scripts/a.py --status\nline 1\n\n$ flask --app wsgi b\n```\n"
    assert sessions(text) == [[("python scripts/a.py --status", ["line 1", ""]),
                               ("flask --app wsgi b", [])]]  # fmt: skip
    assert matches(["last sync … (Frontend)"], ["last sync 2026-11-28 01:00 (Frontend)"])
    assert not matches(["a"], ["b"])
    assert matches(["head", "…", "tail"], ["head", "x", "y", "tail"])
    assert matches(["head", "…", "tail"], ["head", "tail"])
    assert not matches(["head", "…"], ["tail"])
    with pytest.raises(AssertionError, match="cannot type"):
        argv("curl https://example.org")
