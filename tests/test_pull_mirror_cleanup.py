"""Deleting a repository removes its pull mirror, and only that (see pull_sync.forget_mirror)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.db import db
from app.services import git_remote, pull_sync
from tests.test_pull_sync import git, new_repo, pull, sync  # noqa: F401 (fixtures)
from tests.web.helpers import login, post_form


def mirror(app: Any, rid: str) -> Path:
    return git_remote.mirror_path(app.config["GITLEAGUE_MIRROR_DIR"], rid)


def delete(client: Any, pull: Any, rid: str) -> None:  # noqa: F811
    resp = client.delete(f"/api/v1/repos/{rid}", headers=pull["owner"].headers())
    assert resp.status_code == 204, resp.json


def pulled(app, seed, git, pull, name: str) -> str:  # noqa: F811
    rid = new_repo(app, seed, git, pull, name, 4)
    assert sync(app, rid).exit_code == 0
    assert (mirror(app, rid) / "objects").is_dir()
    return rid


def test_deleting_a_repo_removes_its_mirror_and_no_other(app, seed, git, pull, client):  # noqa: F811
    gone, kept = pulled(app, seed, git, pull, "a.git"), pulled(app, seed, git, pull, "b.git")
    delete(client, pull, gone)
    assert not mirror(app, gone).exists()
    assert (mirror(app, kept) / "objects").is_dir()
    assert "unchanged" in sync(app, kept).output  # the other mirror still serves its repo


def test_deleting_from_the_web_page_removes_the_mirror(app, seed, git, pull, client):  # noqa: F811
    gone, kept = pulled(app, seed, git, pull, "a.git"), pulled(app, seed, git, pull, "b.git")
    assert login(client, pull["owner"].email).status_code == 302
    assert post_form(client, f"/repos/{gone}/delete", {}).status_code == 302
    assert not mirror(app, gone).exists() and (mirror(app, kept) / "objects").is_dir()


def test_deleting_a_project_removes_its_repos_mirrors(app, seed, git, pull, client):  # noqa: F811
    rid = pulled(app, seed, git, pull, "a.git")
    other_project = seed.project(pull["owner"])
    kept = seed.repo(other_project, git_url=git.url("a.git"), sync_method="pull_celery")
    mirror(app, kept).mkdir(parents=True)
    resp = client.delete(f"/api/v1/projects/{pull['pid']}", headers=pull["owner"].headers())
    assert resp.status_code == 204
    assert not mirror(app, rid).exists() and mirror(app, kept).is_dir()


def test_a_repo_never_pulled_deletes_cleanly(app, seed, pull, client):  # noqa: F811
    rid = seed.repo(pull["pid"])
    delete(client, pull, rid)
    assert not Path(app.config["GITLEAGUE_MIRROR_DIR"]).exists()  # not even a lock file


def test_a_symlink_in_the_mirrors_place_is_not_followed(app, seed, git, pull, client, tmp_path):  # noqa: F811
    rid = pulled(app, seed, git, pull, "a.git")
    outside = tmp_path / "outside"
    (outside / "objects").mkdir(parents=True)
    (outside / "keep").write_text("not the server's")
    git_remote.remove_mirror(app.config["GITLEAGUE_MIRROR_DIR"], rid)
    mirror(app, rid).symlink_to(outside, target_is_directory=True)
    delete(client, pull, rid)
    assert mirror(app, rid).is_symlink() and (outside / "keep").read_text() == "not the server's"


@pytest.mark.parametrize("repo_id", ["../x", "a/b", "", "/etc/passwd"])
def test_remove_mirror_refuses_paths_outside_the_mirror_dir(tmp_path, repo_id):
    (tmp_path / "x.git").mkdir()
    with pytest.raises(ValueError):
        git_remote.remove_mirror(tmp_path / "m", repo_id)
    assert (tmp_path / "x.git").is_dir()


def test_a_mirror_that_cannot_be_removed_leaves_the_delete_done(
    app,
    seed,
    git,  # noqa: F811
    pull,  # noqa: F811
    client,
    monkeypatch,
    caplog,
):
    rid = pulled(app, seed, git, pull, "a.git")

    def refuse(path: Any) -> None:  # the tests run as root, where chmod stops nothing
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(git_remote.shutil, "rmtree", refuse)
    # Alembic's fileConfig (run by the test database setup) disables loggers that exist.
    monkeypatch.setattr(pull_sync.log, "disabled", False)
    delete(client, pull, rid)
    assert client.get(f"/api/v1/repos/{rid}", headers=pull["owner"].headers()).status_code == 404
    assert mirror(app, rid).is_dir()
    assert f"mirror of deleted repository {rid} left in place" in caplog.text


def test_a_sync_holding_the_lock_removes_the_mirror_itself(app, seed, git, pull, client):  # noqa: F811
    rid = pulled(app, seed, git, pull, "a.git")
    with pull_sync.repo_lock(app.config["GITLEAGUE_MIRROR_DIR"], rid) as locked:
        assert locked  # as a sync of this repo would hold it
        delete(client, pull, rid)
        assert mirror(app, rid).is_dir()  # the delete could not take the lock: left to the sync
    with app.app_context():
        outcome = pull_sync.run(rid, app.config)
    assert outcome.status == "skipped" and not mirror(app, rid).exists()


def test_a_repo_deleted_mid_fetch_leaves_no_mirror(app, seed, git, pull, client, monkeypatch):  # noqa: F811
    rid = new_repo(app, seed, git, pull, "a.git", 4)
    real_fetch = git_remote.fetch_branch

    def delete_then_fetch(*args: Any, **kwargs: Any) -> bytes:
        assert mirror(app, rid).is_dir()  # made by this sync a moment ago
        delete(client, pull, rid)
        assert mirror(app, rid).is_dir()  # the sync holds the lock: the delete left it
        return real_fetch(*args, **kwargs)

    monkeypatch.setattr(git_remote, "fetch_branch", delete_then_fetch)
    with app.app_context():
        outcome = pull_sync.run(rid, app.config)
        db.session.rollback()
    assert outcome.status == "stopped" and "no longer exists" in outcome.message
    assert not mirror(app, rid).exists()


def test_forget_mirror_touches_nothing_for_an_id_outside_the_mirror_dir(tmp_path):
    (tmp_path / "x.git").mkdir()
    pull_sync.forget_mirror(str(tmp_path / "m"), "../x")
    assert (tmp_path / "x.git").is_dir() and not (tmp_path / "x.lock").exists()
