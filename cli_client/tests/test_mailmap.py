"""The client sends the .mailmap at the synced head only when it changed, and its removal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .conftest import GitRepo, Scripted, run_git  # type: ignore[import-not-found]
from .test_cli import Protocol, run, write_config  # type: ignore[import-not-found]


def mailmap_calls(server: Scripted) -> list[tuple[str, str | None]]:
    return [(s.method, (s.body or {}).get("blob_sha")) for s in server.seen
            if s.path.endswith("/mailmap") and s.method != "GET"]  # fmt: skip


def test_mailmap_sent_when_changed_and_removed(
    tmp_path: Path,
    protocol: Protocol,  # noqa: F811 (the fixture)
    scripted_server: Scripted,
    make_repo: Callable[..., GitRepo],
) -> None:
    work = make_repo("work")
    work.write("f.txt", "1\n")
    work.write(".mailmap", "Ada Lovelace <ada@example.org> <ada@home.org>\n")
    work.commit("with a mailmap")
    protocol.add_repo("abc123", str(work.path))
    repos = [{"path": str(work.path), "git_url": str(work.path)}]
    cfg = write_config(tmp_path, scripted_server.url, repos)
    assert run("sync", "--config", str(cfg), "--no-fetch").exit_code == 0
    blob = run_git(work.path, "rev-parse", "HEAD:.mailmap").decode().strip()
    assert mailmap_calls(scripted_server) == [("PUT", blob)]
    put = next(s for s in scripted_server.seen if s.method == "PUT")
    assert put.body["content"] == "Ada Lovelace <ada@example.org> <ada@home.org>\n"

    work.write("f.txt", "2\n")
    work.commit("no change to the mailmap")
    assert run("sync", "--config", str(cfg), "--no-fetch").exit_code == 0
    assert mailmap_calls(scripted_server) == [("PUT", blob)]

    run_git(work.path, "rm", "-q", ".mailmap")
    work.commit("no mailmap")
    assert run("sync", "--config", str(cfg), "--no-fetch").exit_code == 0
    assert mailmap_calls(scripted_server) == [("PUT", blob), ("DELETE", None)]
