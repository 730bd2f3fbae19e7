"""Every page in Chromium on a laptop and a phone: CSP header, no off-site request,
no console error (CSP violations are console errors), and a screenshot of each
into ``tests/artifacts/screenshots`` to look at."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.e2e.browser import LAPTOP, PHONE, SHOTS, Visit
from tests.web.helpers import commit, push

pytestmark = pytest.mark.e2e


def _ago(days: float) -> str:
    return (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)).isoformat()


def _runs(app: Any, repo_id: str, outcomes: list[tuple[str, str | None]]) -> None:
    from app.db import db
    from app.models import Repo
    from app.services import sync_runs

    with app.app_context():
        repo = db.session.get(Repo, repo_id)
        for status, error in outcomes:
            run = sync_runs.open_run(repo, method=repo.sync_method, actor="e2e")
            run.received, run.inserted, run.duplicates = 40, 38, 2
            db.session.flush()
            sync_runs.finish_run(repo, run, status=status, actor="e2e", error=error)
        db.session.commit()


def _set(app: Any, repo_id: str, **values: Any) -> None:
    from app.db import db
    from app.models import Repo

    with app.app_context():
        repo = db.session.get(Repo, repo_id)
        for name, value in values.items():
            setattr(repo, name, value)
        db.session.commit()


def _seed(app: Any, client: Any, seed: Any) -> dict[str, str]:
    root = seed.actor("admin@example.org", admin=True)
    seed.actor("commissioner@example.org")
    project = seed.project(root, "Acme Platform")
    seed.project(root, "Side Project")
    web = seed.repo(project, name="web-app", git_url="git@github.com:acme/web-app.git",
                    repo_id="web-app")  # fmt: skip
    seed.repo(project, name="legacy-api", git_url="https://github.com/acme/legacy-api.git",
              sync_method="pull_celery", repo_id="legacy-api")  # fmt: skip
    docs = seed.repo(project, name="docs", git_url="git@github.com:acme/docs.git", repo_id="docs")
    people = [("Grace Hopper", "grace@acme.org", 3), ("Linus T", "linus@acme.org", 2),
              ("Ada Lovelace", "ada@acme.org", 1), ("dependabot[bot]", "bot@acme.org", 1)]  # fmt: skip
    commits = [
        commit(f"{email}-{week}-{i}", name, email, _ago(week * 7 + i + 0.5), adds=7 * i + 3,
               dels=i, message=f"Improve the {['parser', 'cache', 'docs'][i % 3]} ({week})")
        for name, email, per_week in people for week in range(0, 20, 2) for i in range(per_week)
    ]  # fmt: skip
    push(client, root, web, commits)
    push(client, root, docs, commits[:5])
    _runs(app, web, [("succeeded", None), ("failed", "connection reset"), ("succeeded", None)])
    _runs(app, docs, [("failed", "fatal: could not read from remote repository")])
    _set(app, docs, last_sync_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=5))
    seed.key(root, ("sync:commits", "read:repos"))
    return {"project": project, "web": web}


def test_every_page_laptop_and_phone(browser: Any, live_server: Any, app: Any, client: Any,
                                     seed: Any) -> None:  # fmt: skip
    ids = _seed(app, client, seed)
    p = ids["project"]
    pages = {
        "projects": "/projects",
        "repositories": f"/projects/{p}/repos",
        "repository": "/repos/web-app",
        "repository-pull": "/repos/legacy-api",
        "repository-edit": "/repos/web-app/edit",
        "repository-delete": "/repos/docs/delete",
        "league": f"/projects/{p}/league?period=all",
        "league-month": f"/projects/{p}/league?period=month&order=lines",
        "contributor": f"/projects/{p}/league/grace@acme.org",
        "api-keys": "/settings/api-keys",
        "api-key-revoke": "/settings/api-keys/1/revoke",
        "get-client": "/get-client",
        "migration": "/admin/migration",
        "audit-log": "/audit-log",
        "users": "/admin/users",
        "reset-password": "/admin/users/2/password",
        "not-found": "/repos/nope",
    }
    for device, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        v = Visit(browser, live_server, viewport)
        try:
            v.go("/login")
            v.shot(f"login-{device}")
            v.login("admin@example.org")
            for name, path in pages.items():
                response = v.go(path)
                csp = response.headers.get("content-security-policy", "")
                assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
                assert response.headers.get("x-frame-options") == "DENY", path
                if name == "not-found":
                    assert response.status == 404
                    v.console_errors.clear()  # the browser reports the 404 itself
                else:
                    assert response.status == 200, (path, response.status)
                v.shot(f"{name}-{device}")
            assert v.hosts == {live_server.url.split("//")[1]}, v.hosts
            assert v.console_errors == [], v.console_errors
        finally:
            v.close()
    v = Visit(browser, live_server, LAPTOP)
    try:
        v.login("admin@example.org")
        v.go(f"/projects/{p}/league?period=all")
        charts = v.page.locator(".chart-box canvas")
        assert charts.count() == 1  # uPlot drew the project's activity
        v.context.grant_permissions(["clipboard-read", "clipboard-write"])
        v.go("/projects")
        button = v.page.get_by_role("button", name=f"Copy {p}")
        assert button.is_visible()  # hidden until the script can copy
        button.click()
        assert v.page.evaluate("navigator.clipboard.readText()") == p
        assert button.inner_text() == "Copied"
    finally:
        v.close()
    print(f"screenshots in {SHOTS}")
