"""Three people with five emails and a .mailmap, synced by the real client: the league
equals ``git shortlog -sne --no-merges`` (which applies the mailmap) person by person."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_client_sync import git
from tests.e2e.test_league_vs_git import commit_as, sync_and_read_league

pytestmark = pytest.mark.e2e

EMAILS = [("Ada", "ada@example.org"), ("ada", "ada@home.org"), ("Bo", "bo@example.org"),
          ("Bo D", "BO@Work.org"), ("Cy", "cy@example.org")]  # fmt: skip
MAILMAP = b"""\
Ada Lovelace <ada@example.org>
Ada Lovelace <ada@example.org> <ada@home.org>
Bo Diddley <bo@example.org> Bo D <bo@work.org>
Bo Diddley <bo@example.org>
"""


def shortlog(repo: Path) -> dict[str, tuple[int, str]]:
    """email (lower case) -> (commits, name) as git shortlog shows them."""
    out = {}
    for line in git(repo, "shortlog", "-sne", "--no-merges", "HEAD").splitlines():
        count, who = line.strip().split("\t", 1)
        name, email = who.rsplit(" <", 1)
        assert email.rstrip(">").lower() not in out, "one person per email in this test"
        out[email.rstrip(">").lower()] = (int(count), name)
    return out


def test_league_applies_the_mailmap_like_git(live_server: Any, seed: Any, tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    tick = 1_700_000_000
    for i in range(23):
        files = {f"f{i % 3}.txt": f"{i}\n".encode() * (i % 4 + 1)}
        if i == 5:
            files[".mailmap"] = MAILMAP
        commit_as(work, EMAILS[(i * 3) % 5], tick := tick + 3600, files)
    resp = sync_and_read_league(live_server, seed, work, tmp_path)
    served = {r["author_email"]: (r["commits"], r["author_name"]) for r in resp.json()["items"]}
    expected = shortlog(work)
    assert len(expected) == 3 and served == expected
    merged = {r["author_email"]: r["emails"] for r in resp.json()["items"]}
    assert merged["bo@example.org"] == ["bo@example.org", "bo@work.org"]
