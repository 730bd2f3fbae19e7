"""The guide's ``python scripts/...`` commands work with a plain ``python``.

A Python without GitLeague's packages (a fresh venv here, the system Python on
a user's machine) re-runs the script under the project's ``.venv``; without a
``.venv`` it says in one line what to do instead of a ModuleNotFoundError.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An interpreter that has neither flask nor sqlalchemy."""
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    probe = subprocess.run([python, "-c", "import sqlalchemy"], capture_output=True, check=False)
    assert probe.returncode != 0, "the bare venv must not see the project's packages"
    return python


def run(python: str, script: Path, *args: str, database_url: str = "") -> Any:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [python, str(script), *args],
        cwd=script.parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_plain_python_reruns_under_the_project_venv(
    bare_python: str, database_url: str, seed: Any
) -> None:
    if not (ROOT / ".venv" / "bin" / "python").is_file():
        pytest.skip("needs the project's .venv (scripts/test.sh creates it)")
    seed.repo(
        seed.project(seed.actor("owner@example.org")), repo_id="legacy-1", sync_method="pull_celery"
    )
    result = run(
        bare_python,
        ROOT / "scripts" / "migrate_repos_to_push.py",
        "--status",
        database_url=database_url,
    )
    assert result.returncode == 0, result.stderr
    assert "PULL_CELERY (legacy): 1" in result.stdout
    assert "ModuleNotFoundError" not in result.stderr


@pytest.mark.parametrize("script", ["migrate_repos_to_push.py", "list_repos_by_project.py"])
def test_without_a_venv_one_line_names_the_fix(
    bare_python: str, tmp_path: Path, script: str
) -> None:
    copy = tmp_path / "checkout" / "scripts"
    shutil.copytree(ROOT / "scripts", copy)
    result = run(bare_python, copy / script, "--status")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "scripts/serve.sh" in lines[0] and "not installed" in lines[0]
