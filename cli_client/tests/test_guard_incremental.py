"""Guards for the upload plan's branches (issue 14): every way ``plan_upload`` decides.

Histories are real repositories built by git; the server's side of the
negotiation is the ``ask_known`` callable ``plan_upload`` takes, answered
here from the set of shas the server is said to hold, so each branch can be
reached on purpose and the questions asked can be checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from dulwich.repo import Repo
from gitleague_client.incremental import (
    MAX_CANDIDATES,
    RECENT_CANDIDATES,
    candidate_shas,
    plan_upload,
)

from .conftest import run_git


class Server:
    """The shas a server holds, and the questions it was asked."""

    def __init__(self, shas: Sequence[str] = ()) -> None:
        self.shas = set(shas)
        self.asked: list[list[str]] = []

    def __call__(self, shas: Sequence[str]) -> set[str]:
        self.asked.append(list(shas))
        return self.shas & set(shas)


def linear_history(path: Path, count: int) -> list[bytes]:
    """A repository of ``count`` empty commits on main; shas newest first."""
    run_git(path.parent, "init", "-q", path.name)
    stream = []
    for i in range(1, count + 1):
        stream.append(
            f"commit refs/heads/main\nmark :{i}\n"
            f"committer T <t@example.com> {1_700_000_000 + i * 60} +0000\n"
            f"data 3\nc{i % 10}\n" + (f"from :{i - 1}\n" if i > 1 else "") + "\n"
        )
    run_git(path, "fast-import", "--quiet", input="".join(stream).encode())
    out = run_git(path, "rev-list", "--first-parent", "refs/heads/main")
    return [line.encode() for line in out.decode().split()]


@pytest.fixture
def history(tmp_path: Path) -> tuple[Repo, list[bytes]]:
    """Twelve linear commits, newest first."""
    shas = linear_history(tmp_path / "repo", 12)
    repo = Repo(str(tmp_path / "repo"))
    yield repo, shas
    repo.close()


def text(shas: Sequence[bytes]) -> list[str]:
    return [s.decode() for s in shas]


def test_nothing_on_the_server_sends_everything_without_asking(history):
    repo, shas = history
    server = Server()
    plan = plan_upload(repo, shas[0], None, 0, server)
    assert (plan.head, plan.exclude, plan.note, plan.up_to_date) == (shas[0], [], None, False)
    assert server.asked == []


def test_resume_point_at_the_head_is_up_to_date_without_asking(history):
    repo, shas = history
    server = Server()
    plan = plan_upload(repo, shas[0], shas[0].decode(), 12, server)
    assert plan.up_to_date and plan.exclude == [shas[0]] and plan.note is None
    assert server.asked == []


def test_resume_point_behind_the_head_excludes_it_without_asking(history):
    repo, shas = history
    server = Server()
    plan = plan_upload(repo, shas[0], shas[5].decode(), 7, server)
    assert not plan.up_to_date and plan.exclude == [shas[5]] and plan.note is None
    assert server.asked == []


def test_resume_point_missing_locally_negotiates(history):
    repo, shas = history
    server = Server(text(shas[4:]))
    gone = "ab" * 20
    plan = plan_upload(repo, shas[0], gone, 8, server)
    assert server.asked == [text(shas)]
    assert plan.exclude == shas[4:] and not plan.up_to_date
    assert plan.note == (
        f"last synced commit {gone[:7]} is not in the local history (force push or rewritten history?); asked the server about 12 recent commits, "
        "it has 8: sending only what is newer"
    )


def test_resume_point_no_longer_an_ancestor_negotiates(history):
    repo, shas = history
    # The head moved back: the old resume point is a descendant, not an ancestor.
    server = Server()
    plan = plan_upload(repo, shas[6], shas[2].decode(), 10, server)
    assert server.asked == [text(shas[6:])]
    assert plan.exclude == [] and not plan.up_to_date
    assert plan.note == (
        f"last synced commit {text(shas)[2][:7]} is no longer an ancestor of the branch "
        "(force push or rewritten history?); the server has none of 6 recent commits: "
        "sending the whole history (duplicates are skipped by the server)"
    )


def test_server_that_already_has_the_head_is_up_to_date(history):
    repo, shas = history
    server = Server(text(shas))
    plan = plan_upload(repo, shas[0], None, 12, server)
    assert plan.up_to_date and plan.exclude == [shas[0]]
    assert (
        plan.note == "the server has commits but no resume point; the server already has the head"
    )


def test_one_commit_without_a_resume_point_negotiates(history):
    repo, shas = history
    server = Server(text(shas[-1:]))
    plan = plan_upload(repo, shas[0], None, 1, server)
    assert len(server.asked) == 1 and plan.exclude == shas[-1:]


def test_commits_without_a_resume_point_negotiate(history):
    repo, shas = history
    server = Server(text(shas[3:]))
    plan = plan_upload(repo, shas[0], None, 9, server)
    assert len(server.asked) == 1
    assert plan.exclude == shas[3:] and not plan.up_to_date
    assert plan.note.endswith(
        "asked the server about 12 recent commits, it has 9: sending only what is newer"
    )


def test_shallow_clone_falls_back_to_negotiation(tmp_path):
    shas = linear_history(tmp_path / "src", 6)
    run_git(tmp_path / "src", "branch", "side", shas[3].decode())
    run_git(tmp_path / "src", "checkout", "-q", "side")
    # Dated inside the history, or the ancestry walk stops early on timestamps.
    date = {"GIT_COMMITTER_DATE": "1700000200 +0000", "GIT_AUTHOR_DATE": "1700000200 +0000"}
    run_git(tmp_path / "src", "commit", "-q", "--allow-empty", "-m", "side", env=date)
    side = run_git(tmp_path / "src", "rev-parse", "HEAD").strip()
    url = (tmp_path / "src").as_uri()
    run_git(tmp_path, "clone", "-q", "--depth", "2", "--no-single-branch", url, "clone")
    # Parents missing without a shallow record (an interrupted fetch leaves
    # this): asking whether one commit descends from another hits a KeyError.
    (tmp_path / "clone" / ".git" / "shallow").unlink()
    repo = Repo(str(tmp_path / "clone"))
    try:
        server = Server([side.decode()])
        plan = plan_upload(repo, shas[0], side.decode(), 5, server)
        assert plan.note.startswith(
            f"last synced commit {side.decode()[:7]} is no longer an ancestor"
        )
        # The chain stops at the first missing commit (its id is known from its child).
        assert server.asked == [text(shas[:3])]
        assert plan.exclude == [] and not plan.up_to_date
    finally:
        repo.close()


def test_candidates_of_a_short_history_are_all_of_it_once(history):
    repo, shas = history
    assert candidate_shas(repo, shas[0]) == shas
    assert candidate_shas(repo, shas[-1]) == [shas[-1]]
    assert candidate_shas(repo, shas[0], limit=5) == shas[:5]
    assert candidate_shas(repo, shas[0], limit=0) == []


def test_candidates_follow_the_first_parent_only(tmp_path, make_repo):
    git = make_repo("merge")
    base = git.commit("base", allow_empty=True)
    git.git("checkout", "-q", "-b", "topic")
    topic = git.commit("topic", allow_empty=True)
    git.git("checkout", "-q", "main")
    main = git.commit("main", allow_empty=True)
    git.git("merge", "-q", "--no-ff", "-m", "merge", "topic")
    repo = Repo(str(git.path))
    try:
        merge = git.head().encode()
        assert candidate_shas(repo, merge) == [merge, main.encode(), base.encode()]
        assert topic.encode() not in candidate_shas(repo, merge)
    finally:
        repo.close()


def test_candidates_thin_out_exponentially_past_400(tmp_path):
    shas = linear_history(tmp_path / "long", 1000)
    repo = Repo(str(tmp_path / "long"))
    try:
        got = candidate_shas(repo, shas[0])
    finally:
        repo.close()
    depths = [shas.index(s) for s in got]
    sparse = [400, 402, 406, 414, 430, 462, 526, 654, 910]
    assert depths == [*range(RECENT_CANDIDATES), *sparse, 999]
    assert len(got) <= MAX_CANDIDATES


def test_candidates_stop_at_the_limit_without_the_root(tmp_path):
    shas = linear_history(tmp_path / "long", 450)
    repo = Repo(str(tmp_path / "long"))
    try:
        assert candidate_shas(repo, shas[0], limit=401) == shas[:401]
        full = candidate_shas(repo, shas[0])
    finally:
        repo.close()
    assert full == [*shas[:401], shas[402], shas[406], shas[414], shas[430], shas[449]]
