"""The cron line of docs/migration-guide.md, run the way cron runs it.

The line is read from the guide, its schedule checked with croniter, and its
command given to ``/bin/sh -c`` with cron's environment (``HOME``,
``LOGNAME``, ``SHELL=/bin/sh`` and ``PATH=/usr/bin:/bin``, nothing else), in
a home where the client is installed as the guide says (``~/.local/bin``,
where pipx puts it) and ``~/repos.yaml`` points at a real server.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from croniter import croniter

from tests.e2e.test_client_sync import Work

pytestmark = pytest.mark.e2e

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "migration-guide.md"


def cron_line() -> tuple[str, str]:
    """``(schedule, command)`` of the one crontab line the guide shows."""
    lines = [
        line
        for line in GUIDE.read_text(encoding="utf-8").splitlines()
        if re.match(r"^(\S+\s+){5}\S*gitleague-client sync", line)
    ]
    assert len(lines) == 1, lines
    fields = lines[0].split(None, 5)
    return " ".join(fields[:5]), fields[5]


def test_the_guides_cron_line_syncs(live_server: Any, seed: Any, tmp_path: Path) -> None:
    schedule, command = cron_line()
    assert croniter.is_valid(schedule)

    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "gitleague-client").symlink_to(
        Path(sys.executable).parent / "gitleague-client"
    )
    work = Work(tmp_path)
    for i in range(3):
        work.commit("a.txt", f"line {i}\n")
    work.push()
    owner = seed.actor("commissioner@example.org")
    project_id = seed.project(owner, "My Project")
    repo_id = seed.repo(project_id, name="my-repo", git_url=str(work.remote))
    (home / "repos.yaml").write_text(yaml.safe_dump({
        "api_url": live_server.url, "api_key": owner.key,
        "projects": [{"name": "My Project", "project_id": project_id, "repos": [
            {"path": str(tmp_path / "clones" / "my-repo.git"), "git_url": str(work.remote)},
        ]}],
    }))  # fmt: skip

    cron_env = {"HOME": str(home), "LOGNAME": "root", "SHELL": "/bin/sh", "PATH": "/usr/bin:/bin"}
    for _ in range(2):  # the second run finds nothing new and still succeeds
        done = subprocess.run(["/bin/sh", "-c", command], env=cron_env, timeout=120, check=False)
        assert done.returncode == 0, (home / "gitleague-sync.log").read_text()

    log = next(home.glob("*.log")).read_text()
    assert "3 new commits" in log and "No new commits" in log, log
    repo = requests.get(f"{live_server.url}/api/v1/repos/{repo_id}",
                        headers={"Authorization": f"Bearer {owner.key}"}, timeout=10).json()  # fmt: skip
    assert repo["commit_count"] == 3
    assert repo["sync_status"] == "healthy"
