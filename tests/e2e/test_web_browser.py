"""The web UI in a real browser: Debian's Chromium driven by Playwright, against gunicorn.

The browser comes from tests/e2e/browser.py; screenshots go to
``tests/artifacts/screenshots``.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import tests.e2e.test_client_sync as cs
from tests.e2e.browser import Visit

pytestmark = pytest.mark.e2e


@pytest.fixture
def visit(browser: Any, live_server: Any) -> Iterator[Visit]:
    """A fresh browser context on the live server."""
    v = Visit(browser, live_server)
    yield v
    v.close()


def repo_row(v: Visit, repo_id: str) -> Any:
    return v.page.locator(f'tr[data-repo="{repo_id}"]')


def test_key_shown_once_syncs_the_client_then_revoked(
    visit: Visit, seed: Any, tmp_path: Path
) -> None:
    work = cs.Work(tmp_path)
    for i in range(3):
        work.commit("a.txt", f"line {i}\n")
    work.push()
    owner = seed.actor("commissioner@example.org")
    project = seed.project(owner, "My Project")
    repo_id = seed.repo(project, name="my-repo", git_url=str(work.remote))
    page = visit.page

    visit.login("commissioner@example.org")
    visit.go("/settings/api-keys")
    page.get_by_label("Key name").fill("Browser key")
    page.get_by_role("button", name="Create API key").click()
    page.wait_for_load_state("load")
    shown = page.locator(".new-key .copyable code").inner_text()
    assert re.fullmatch(r"tgl_[a-z0-9]{12}_[A-Za-z0-9]{38}", shown)
    assert "will not be shown again" in page.content()
    visit.shot("api-key-created")
    visit.go("/settings/api-keys")
    assert shown not in page.content() and "Browser key" in page.content()

    visit.go(f"/projects/{project}/repos")
    row = repo_row(visit, repo_id)
    assert row.locator(".status").inner_text() == "never synced"
    assert row.locator(".last-sync").inner_text() == "never"
    assert row.locator(".commits").inner_text() == "0"

    config = tmp_path / "repos.yaml"
    config.write_text(yaml.safe_dump({
        "api_url": visit.server.url, "api_key": shown,
        "projects": [{"name": "My Project", "project_id": project, "repos": [
            {"path": str(tmp_path / "clones" / "my-repo.git"), "git_url": str(work.remote)}]}],
    }))  # fmt: skip
    result = cs.client(config, "sync")
    assert result.returncode == 0, result.stdout + result.stderr

    visit.go(f"/projects/{project}/repos")
    row = repo_row(visit, repo_id)
    assert row.locator(".status").inner_text() == "healthy"
    assert row.locator(".last-sync").inner_text() in ("just now", "1 minute ago")
    assert row.locator(".last-sync time").get_attribute("title").endswith("UTC")
    expected = cs.git(work.path, "rev-list", "--count", "main")
    assert row.locator(".commits").inner_text() == expected == "3"
    visit.shot("repositories-after-sync")

    visit.go("/settings/api-keys")
    page.get_by_role("link", name="Revoke Browser key").click()
    page.get_by_role("button", name="Revoke key").click()
    page.wait_for_url("**/settings/api-keys")
    assert "revoked" in page.locator("tbody").inner_text()
    result = cs.client(config, "sync")
    assert result.returncode != 0
    assert "API key not found" in result.stderr


def _commit_as(work: Any, name: str, email: str, n: int) -> None:
    for i in range(n):
        work.tick += 60
        (work.path / f"{email}.txt").write_text(f"{i}\n" * (i + 1))
        env = {**os.environ, **cs.GIT_ENV, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
               "GIT_AUTHOR_DATE": f"{work.tick} +0000", "GIT_COMMITTER_DATE": f"{work.tick} +0000"}  # fmt: skip
        subprocess.run(["git", "add", "-A"], cwd=work.path, env=env, check=True)
        subprocess.run(["git", "commit", "-q", "-m", f"{name} {i}"], cwd=work.path, env=env,
                       check=True)  # fmt: skip


def test_league_ranks_three_authors_as_git_does(visit: Visit, seed: Any, tmp_path: Path) -> None:
    work = cs.Work(tmp_path)
    _commit_as(work, "Ada", "ada@example.org", 2)
    _commit_as(work, "Grace", "grace@example.org", 5)
    _commit_as(work, "Linus", "linus@example.org", 3)
    work.push()
    owner = seed.actor("commissioner@example.org")
    project = seed.project(owner, "League")
    seed.repo(project, name="work", git_url=str(work.remote))
    config = tmp_path / "repos.yaml"
    config.write_text(yaml.safe_dump({"api_url": visit.server.url, "api_key": owner.key,
        "projects": [{"name": "League", "project_id": project, "repos": [
            {"path": str(tmp_path / "clone.git"), "git_url": str(work.remote)}]}]}))  # fmt: skip
    assert cs.client(config, "sync").returncode == 0

    shortlog = cs.git(work.path, "shortlog", "-sne", "main")
    by_git = [(int(n), re.search(r"<(.+)>", rest)[1]) for n, rest in  # type: ignore[index]
              (line.strip().split("\t") for line in shortlog.splitlines())]  # fmt: skip
    visit.login("commissioner@example.org")
    visit.go(f"/projects/{project}/league?period=all")
    rows = visit.page.locator("table.league tbody tr")
    shown = [(int(rows.nth(i).locator(".commits").inner_text()),
              rows.nth(i).get_attribute("data-email")) for i in range(rows.count())]  # fmt: skip
    assert shown == by_git == [(5, "grace@example.org"), (3, "linus@example.org"),
                               (2, "ada@example.org")]  # fmt: skip
    visit.page.get_by_role("link", name="Grace").click()
    visit.page.wait_for_load_state("load")
    assert visit.page.locator(".chart-box canvas").count() == 1


def test_migration_dry_run_then_apply(visit: Visit, seed: Any, app: Any) -> None:
    from app.db import db
    from app.models import Repo

    root = seed.actor("root@example.org", admin=True)
    project = seed.project(root)
    legacy = seed.repo(project, name="legacy", sync_method="pull_celery", repo_id="legacy-1")
    page = visit.page
    visit.login("root@example.org")
    visit.go("/admin/migration")
    page.locator(f'input[name="repo_ids"][value="{legacy}"]').check()
    page.get_by_label("Move to").select_option("push_client")
    page.get_by_role("button", name="Show plan (dry run)").click()
    page.wait_for_load_state("load")
    assert "Dry run: the plan" in page.content()
    assert page.locator('li[data-outcome="planned"]').count() == 1
    visit.shot("migration-plan")
    with app.app_context():
        assert db.session.get(Repo, legacy).sync_method == "pull_celery"
    page.get_by_role("button", name="Apply: migrate 1 repo").click()
    page.wait_for_load_state("load")
    assert page.locator('li[data-outcome="migrated"]').count() == 1
    with app.app_context():
        assert db.session.get(Repo, legacy).sync_method == "push_client"


def test_form_without_csrf_token_is_refused(visit: Visit, seed: Any) -> None:
    seed.actor("ann@example.org")
    visit.login("ann@example.org")
    visit.go("/projects")
    page = visit.page
    page.locator('form[action="/projects"] input[name="csrf_token"]').evaluate("e => e.remove()")
    page.get_by_label("Project name").fill("Forged")
    with page.expect_navigation():
        page.get_by_role("button", name="Create project").click()
    assert "Form expired" in page.content()
    visit.go("/projects")
    assert "Forged" not in page.content()
