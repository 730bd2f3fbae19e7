"""Local remotes never reach into the server's own folders (issue 9, security item 10).

With ``GITLEAGUE_ALLOW_LOCAL_REMOTES=true`` a pull repo may name a local path
or ``file://`` URL, but not one inside the mirror folder (another repo's
mirror), the instance folder or the SQLite database's folder, symlinks
resolved.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services import git_remote
from app.services.remote_url import server_dirs
from tests.helpers import detached_repo as row
from tests.helpers import stored_commits as stored
from tests.pull_helpers import TOKEN, make_bare_repo


@pytest.fixture
def folders(app, tmp_path: Path) -> dict[str, Path]:
    mirrors, instance = tmp_path / "mirrors", tmp_path / "instance"
    app.config.update(
        GITLEAGUE_ALLOW_LOCAL_REMOTES=True,
        GITLEAGUE_MIRROR_DIR=str(mirrors),
        GITLEAGUE_INSTANCE_DIR=str(instance),
    )
    make_bare_repo(mirrors / "someone-elses.git", 3)  # what another repo's pull left
    make_bare_repo(instance / "secrets.git", 2)
    make_bare_repo(tmp_path / "outside" / "fine.git", 4)
    (tmp_path / "link").symlink_to(mirrors)
    return {"tmp": tmp_path, "mirrors": mirrors, "instance": instance}


def _sync(app, seed, url: str):
    owner = seed.actor()
    rid = seed.repo(seed.project(owner), git_url=url, sync_method="pull_celery")
    runner = app.test_cli_runner()
    runner.invoke(args=["repos", "set-credentials", rid], env={"GITLEAGUE_REPO_TOKEN": TOKEN})
    return rid, runner.invoke(args=["sync", "run", rid])


@pytest.mark.parametrize(
    "where",
    [
        "{mirrors}/someone-elses.git",
        "file://{mirrors}/someone-elses.git",
        "{tmp}/link/someone-elses.git",
        "file://{tmp}/link/someone-elses.git",
        "{tmp}/outside/../mirrors/someone-elses.git",
        "{instance}/secrets.git",
        "file://{instance}/secrets.git",
    ],
)
def test_a_pull_cannot_read_the_servers_own_folders(app, seed, folders, where):
    url = where.format(**{k: str(v) for k, v in folders.items()})
    rid, result = _sync(app, seed, url)
    assert result.exit_code == 1, result.output
    assert "inside the server's own mirror or instance folder" in result.output
    assert stored(app, rid) == {} and row(app, rid).sync_status == "failing"


def test_a_local_remote_elsewhere_still_syncs(app, seed, folders):
    rid, result = _sync(app, seed, f"{folders['tmp']}/outside/fine.git")
    assert result.exit_code == 0, result.output
    assert len(stored(app, rid)) == 4


def test_protected_folders_come_from_the_settings(tmp_path):
    config = {"GITLEAGUE_MIRROR_DIR": str(tmp_path / "m"), "GITLEAGUE_INSTANCE_DIR": "/srv/i"}
    assert server_dirs(config) == [str(tmp_path / "m"), "/srv/i"]
    with pytest.raises(git_remote.RemoteUrlRefusedError):
        git_remote.check_remote_url(
            f"{tmp_path}/m/../m/x.git", allow_local=True, protected=server_dirs(config)
        )
