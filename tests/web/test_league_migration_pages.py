"""League, contributor and migration pages; SQL statements per page (no N+1)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa

from app.db import db
from app.models import AuditLog, Repo
from tests.web.helpers import commit, login, post_form, push


def _ago(days: float) -> str:
    return (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)).isoformat()


def ranked_emails(html: str) -> list[str]:
    return re.findall(r'<tr data-email="([^"]+)">', html)


#: The league page shows calendar periods holding ``?on=``; the data sit around it.
ON = "2026-06-20"


def _day(day: int, month: int = 6) -> str:
    return dt.datetime(2026, month, day, 12, tzinfo=dt.timezone.utc).isoformat()


@pytest.fixture
def league_project(client: Any, seed: Any) -> tuple[Any, str]:
    ann = seed.actor("ann@example.org")
    project = seed.project(ann, "League")
    repo = seed.repo(project, name="main")
    commits = [
        # June: Bob has most commits, Cat most lines, Ann one; a bot has more than anyone.
        *[commit(f"b{i}", "Bob", "bob@example.org", _day(2 + i), adds=1) for i in range(3)],
        *[commit(f"c{i}", "Cat", "cat@example.org", _day(3 + i), adds=500) for i in range(2)],
        commit("a0", "Ann", "ann@example.org", _day(4), adds=1),
        *[commit(f"d{i}", "dependabot[bot]", "bot@example.org", _day(1 + i)) for i in range(9)],
        # May: Ann led, Cat second, Bob third.
        *[commit(f"a{i}", "Ann", "ann@example.org", _day(10 + i, 5)) for i in range(1, 6)],
        *[commit(f"c{i}", "Cat", "cat@example.org", _day(10 + i, 5)) for i in range(2, 5)],
        commit("b9", "Bob", "bob@example.org", _day(15, 5)),
    ]
    push(client, ann, repo, commits)
    login(client, "ann@example.org")
    return ann, project


def test_league_periods_orders_changes_and_bots(client: Any, league_project: Any) -> None:
    _, project = league_project
    url = f"/projects/{project}/league?on={ON}&period=month"
    html = client.get(url).get_data(as_text=True)
    assert ranked_emails(html) == ["bob@example.org", "cat@example.org", "ann@example.org"]
    assert "2026-06-01 to 2026-06-30 (UTC)" in html
    bob = html.split('data-email="bob@example.org"')[1].split("</tr>")[0]
    assert "▲2" in bob  # third in May, first in June
    ann = html.split('data-email="ann@example.org"')[1].split("</tr>")[0]
    assert "▼2" in ann
    assert 'title="ann@example.org"' in html  # emails on hover
    by_lines = client.get(url + "&order=lines")
    assert ranked_emails(by_lines.get_data(as_text=True))[0] == "cat@example.org"
    bots = client.get(url + "&bots=1").get_data(as_text=True)
    assert ranked_emails(bots)[0] == "bot@example.org"
    may = client.get(f"/projects/{project}/league?on=2026-05-31&period=month")
    assert ranked_emails(may.get_data(as_text=True)) == [
        "ann@example.org",
        "cat@example.org",
        "bob@example.org",
    ]
    everything = client.get(f"/projects/{project}/league?period=all").get_data(as_text=True)
    assert ranked_emails(everything) == ["ann@example.org", "cat@example.org", "bob@example.org"]
    assert "data-chart=" in everything
    bad = client.get(f"/projects/{project}/league?period=decade&order=nonsense&on=someday")
    assert bad.status_code == 400 and b"period: must be one of" in bad.data  # the team's rule


def test_contributor_page(client: Any, league_project: Any) -> None:
    _, project = league_project
    html = client.get(f"/projects/{project}/league/cat@example.org").get_data(as_text=True)
    assert "Cat" in html and "data-chart=" in html and "Per repository" in html
    assert ">5<" in html  # five commits in all
    assert client.get(f"/projects/{project}/league/nobody@example.org").status_code == 404


def test_league_of_someone_elses_project_is_not_found(client: Any, seed: Any) -> None:
    other = seed.actor("other@example.org")
    project = seed.project(other)
    seed.actor("ann@example.org")
    login(client, "ann@example.org")
    assert client.get(f"/projects/{project}/league").status_code == 404
    assert client.get(f"/projects/{project}/repos").status_code == 404


def test_migration_dry_run_then_apply(client: Any, seed: Any, app: Any) -> None:
    root = seed.actor("root@example.org", admin=True)
    project = seed.project(root)
    legacy = seed.repo(project, name="legacy", sync_method="pull_celery", repo_id="legacy-1")
    seed.repo(project, name="pushed", repo_id="pushed-1")
    login(client, "root@example.org")
    page = client.get("/admin/migration").get_data(as_text=True)
    assert "PULL_CELERY" in page.upper() and "legacy-1" in page and "No migrations yet" in page
    plan = post_form(client, "/admin/migration", {"repo_ids": [legacy], "target": "push_client"})
    html = plan.get_data(as_text=True)
    assert plan.status_code == 200 and "Dry run: the plan" in html
    assert 'data-outcome="planned"' in html and "Apply: migrate 1 repo" in html
    with app.app_context():
        assert db.session.get(Repo, legacy).sync_method == "pull_celery"
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)[1]  # type: ignore[index]
    applied = client.post("/admin/migration", data={"repo_ids": [legacy], "target": "push_client",
                                                     "apply": "1", "csrf_token": token})  # fmt: skip
    html = applied.get_data(as_text=True)
    assert 'data-outcome="migrated"' in html and "1/1" in html
    with app.app_context():
        assert db.session.get(Repo, legacy).sync_method == "push_client"
        assert db.session.scalar(sa.select(AuditLog.actor).where(
            AuditLog.action == "migrate_repo_sync_method")) == "root@example.org"  # fmt: skip
    assert "No migrations yet" not in client.get("/admin/migration").get_data(as_text=True)
    none = post_form(client, "/admin/migration", {"target": "push_client"})
    assert none.status_code == 400 and b"Select at least one repository" in none.data


class Statements:
    """Counts SQL statements sent while active."""

    def __init__(self, app: Any) -> None:
        self.count = 0
        with app.app_context():
            self.engine = db.engine

    def _on(self, *_args: Any) -> None:
        self.count += 1

    def __enter__(self) -> Statements:
        sa.event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *_exc: Any) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._on)


def _count(client: Any, app: Any, url: str) -> int:
    with Statements(app) as stmts:
        assert client.get(url).status_code == 200, url
    return stmts.count


def test_statements_per_page_do_not_grow_with_rows(client: Any, seed: Any, app: Any) -> None:
    root = seed.actor("root@example.org", admin=True)
    project = seed.project(root)
    first = seed.repo(project, repo_id="repo-0")
    push(client, root, first, [commit("x0", "Ann", "ann@example.org", _ago(1))])
    login(client, "root@example.org")
    urls = [f"/projects/{project}/repos", "/projects", f"/repos/{first}", "/settings/api-keys",
            "/audit-log", "/get-client", "/admin/users", "/admin/migration",
            f"/projects/{project}/league?period=all"]  # fmt: skip
    before = {url: _count(client, app, url) for url in urls}
    for i in range(1, 6):
        seed.project(root, f"P{i}")
        repo = seed.repo(project, repo_id=f"repo-{i}", sync_method="pull_celery")
        seed.key(root, ("read:repos",))
        seed.actor()
        push(client, root, first, [commit(f"x{i}", f"A{i}", f"a{i}@example.org", _ago(i))])
        with app.app_context():
            db.session.get(Repo, repo).last_error = "boom"
            db.session.commit()
    after = {url: _count(client, app, url) for url in urls}
    assert after == before


def test_every_post_form_carries_a_csrf_token(client: Any, seed: Any) -> None:
    root = seed.actor("root@example.org", admin=True)
    project = seed.project(root)
    seed.repo(project, repo_id="push-1")
    seed.repo(project, repo_id="pull-1", sync_method="pull_celery")
    login(client, "root@example.org")
    pages = ["/projects", f"/projects/{project}/repos", "/repos/push-1", "/repos/pull-1",
             "/repos/push-1/edit", "/repos/push-1/delete", "/repos/pull-1/credentials/delete",
             "/settings/api-keys", "/settings/api-keys/1/revoke", "/admin/users",
             f"/admin/users/{root.user_id}/password", "/admin/migration"]  # fmt: skip
    forms = 0
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        for form in re.findall(r'<form[^>]*method="post".*?</form>', html, flags=re.S):
            forms += 1
            assert 'name="csrf_token"' in form, (url, form[:200])
    assert forms >= len(pages)
