"""A pulled repository's .mailmap reaches the league (the pull worker keeps it from its mirror)."""

from __future__ import annotations

from typing import Any

from tests.pull_helpers import _git, head_sha
from tests.test_pull_sync import git, new_repo, pull, sync  # noqa: F401 (fixtures)


def commit_mailmap(path: Any, text: str) -> None:
    head = head_sha(path)
    data = text.encode()
    stream = (
        b"commit refs/heads/main\n"
        b"author Ada <ada@example.org> 1700100000 +0000\n"
        b"committer Ada <ada@example.org> 1700100000 +0000\n"
        b"data 8\nmailmap\n" + f"from {head}\n".encode()
        + b"M 100644 inline .mailmap\n" + b"data %d\n%s\n" % (len(data), data)
    )  # fmt: skip
    _git("fast-import", "--quiet", cwd=path, stdin=stream)


def test_a_pulled_mailmap_names_the_contributor(app, seed, git, pull, client):  # noqa: F811
    rid = new_repo(app, seed, git, pull, "r.git", 5)
    result = sync(app, rid)
    assert result.exit_code == 0, result.output
    url = f"/api/v1/projects/{pull['pid']}/contributors"
    h = pull["owner"].headers()
    assert [r["author_email"] for r in client.get(url, headers=h).json["items"]] == [
        "ada@example.org"
    ]
    commit_mailmap(pull["root"] / "r.git", "Ada Lovelace <ada@lovelace.org> <ada@example.org>\n")
    assert sync(app, rid).exit_code == 0
    (row,) = client.get(url, headers=h).json["items"]
    assert (row["author_email"], row["author_name"], row["commits"]) == (
        "ada@lovelace.org", "Ada Lovelace", 6,
    )  # fmt: skip
    stored = client.get(f"/api/v1/repos/{rid}/mailmap", headers=h).json
    assert stored["blob_sha"] and "Ada Lovelace" in stored["content"]
