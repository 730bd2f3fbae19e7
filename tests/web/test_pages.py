"""Web UI pages through Flask's test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.db import db
from app.models import ApiKey
from tests.web.helpers import commit, csrf, login, post_form, push


def test_anonymous_is_sent_to_login_with_security_headers(client: Any) -> None:
    assert client.get("/").headers["Location"].endswith("/login")
    resp = client.get("/projects")
    assert resp.status_code == 302 and "/login?next=" in resp.headers["Location"]
    page = client.get("/login")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert b"/api/v1/docs" in page.data
    with client.get("/assets/vendor/uPlot.iife.min.js") as asset:
        assert asset.status_code == 200


def test_login_wrong_password_then_right_then_logout(client: Any, seed: Any) -> None:
    seed.actor("ann@example.org")
    wrong = login(client, "ann@example.org", "nope-nope")
    assert wrong.status_code == 401 and b"Wrong email or password" in wrong.data
    ok = login(client, "ANN@example.org")
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/projects")
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"
    page = client.get("/projects")
    assert page.status_code == 200 and b"ann@example.org" in page.data
    assert client.get("/login").headers["Location"].endswith("/projects")
    assert b'aria-current="page">Projects' in page.data
    assert b"Log out of GitLeague" in client.get("/logout").data  # GET only asks
    assert client.get("/projects").status_code == 200
    out = client.post("/logout", data={"csrf_token": csrf(page.get_data(as_text=True))})
    assert out.status_code == 302
    assert client.get("/projects").status_code == 302


def test_forms_without_csrf_token_are_refused(client: Any, seed: Any) -> None:
    seed.actor("ann@example.org")
    resp = client.post("/login", data={"email": "ann@example.org", "password": "password123"})
    assert resp.status_code == 400 and b"security token" in resp.data
    assert login(client, "ann@example.org").status_code == 302
    resp = client.post("/projects", data={"name": "Sneaky"})
    assert resp.status_code == 400
    assert b"Sneaky" not in client.get("/projects").data
    assert client.post("/logout").status_code == 400


def test_next_only_goes_to_this_server(client: Any, seed: Any) -> None:
    seed.actor("ann@example.org")
    token = csrf(client.get("/login").get_data(as_text=True))
    data = {"email": "ann@example.org", "password": "password123", "csrf_token": token}
    resp = client.post("/login", data={**data, "next": "//evil.example/x"})
    assert resp.headers["Location"].endswith("/projects")


def test_projects_with_ids_and_create(client: Any, seed: Any) -> None:
    ann, bob = seed.actor("ann@example.org"), seed.actor("bob@example.org")
    mine, theirs = seed.project(ann, "Ann's"), seed.project(bob, "Bob's")
    login(client, "ann@example.org")
    page = client.get("/projects").get_data(as_text=True)
    assert mine in page and f'data-copy="{mine}"' in page and theirs not in page
    resp = post_form(client, "/projects", {"name": "Second"})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Second → Repositories" in page
    empty = post_form(client, "/projects", {"name": ""})
    assert empty.status_code == 400


def test_api_key_shown_once_masked_then_revoked(client: Any, seed: Any, app: Any) -> None:
    ann = seed.actor("ann@example.org")
    project = seed.project(ann)
    login(client, "ann@example.org")
    resp = post_form(client, "/settings/api-keys",
                     {"name": "Laptop", "scopes": ["sync:commits", "read:repos"]})  # fmt: skip
    assert resp.status_code == 201 and resp.headers["Cache-Control"] == "no-store"
    html = resp.get_data(as_text=True)
    key = re.search(r"tgl_[a-z0-9]{12}_[A-Za-z0-9]{38}", html)[0]  # type: ignore[index]
    assert "will not be shown again" in html
    api = {"Authorization": f"Bearer {key}"}
    assert client.get(f"/api/v1/projects/{project}", headers=api).status_code == 200
    listed = client.get("/settings/api-keys").get_data(as_text=True)
    assert key not in listed and key.rsplit("_", 1)[0] + "_***" in listed
    with app.app_context():
        key_id = db.session.query(ApiKey.id).filter_by(name="Laptop").scalar()
    confirm = client.get(f"/settings/api-keys/{key_id}/revoke")
    assert confirm.status_code == 200 and b"Revoke" in confirm.data
    done = post_form(client, f"/settings/api-keys/{key_id}/revoke", {})
    assert done.status_code == 302
    assert client.get(f"/api/v1/projects/{project}", headers=api).status_code == 401
    none = post_form(client, "/settings/api-keys", {"name": "x"})
    assert none.status_code == 400 and b"Pick at least one scope" in none.data


def test_repositories_page_status_commits_and_crud(client: Any, seed: Any) -> None:
    ann = seed.actor("ann@example.org", admin=True)  # only admins choose repo ids
    project = seed.project(ann)
    pushed = seed.repo(project, name="pushed", repo_id="pushed-repo")
    seed.repo(project, name="legacy", sync_method="pull_celery", repo_id="legacy-repo")
    push(client, ann, pushed, [commit("a", "Ann", "ann@example.org", "2024-01-01T10:00:00Z")])
    login(client, "ann@example.org")
    html = client.get(f"/projects/{project}/repos").get_data(as_text=True)
    assert 'data-status="never"' in html and "never synced" in html
    assert 'data-status="needs_credentials"' in html and "needs credentials" in html
    row = html.split('data-repo="pushed-repo"')[1].split("</tr>")[0]
    assert '<td class="num commits">1</td>' in row
    page = client.get(f"/projects/{project}/repos").get_data(as_text=True)
    assert 'name="repo_id"' in page  # an admin may choose an id; left empty, one is assigned
    added = post_form(client, f"/projects/{project}/repos",
                      {"name": "New", "git_url": "https://example.org/a/new.git",
                       "branch": "dev", "sync_method": "push_client"})  # fmt: skip
    assert added.status_code == 302
    flashed = client.get(added.headers["Location"]).get_data(as_text=True)
    new_id = re.search(r"Added New as ([a-z0-9-]+)\.", flashed)[1]  # type: ignore[index]
    bad = post_form(client, f"/projects/{project}/repos",
                    {"name": "Bad", "git_url": "not a url", "branch": "main",
                     "sync_method": "push_client"})  # fmt: skip
    assert bad.status_code == 422 and b"has-error" in bad.data
    edit = post_form(client, f"/repos/{new_id}/edit",
                     {"name": "Renamed", "git_url": "https://example.org/a/new.git",
                      "branch": "main"})  # fmt: skip
    assert edit.status_code == 302
    assert b"Renamed" in client.get(f"/projects/{project}/repos").data
    assert b"Delete Renamed" in client.get(f"/repos/{new_id}/delete").data
    assert post_form(client, f"/repos/{new_id}/delete", {}).status_code == 302
    assert client.get(f"/repos/{new_id}").status_code == 404


def test_repo_page_commits_history_chart_credentials(client: Any, seed: Any) -> None:
    ann = seed.actor("ann@example.org")
    project = seed.project(ann)
    pushed = seed.repo(project, name="pushed", repo_id="pushed-repo")
    pull = seed.repo(project, name="legacy", sync_method="pull_celery", repo_id="legacy-repo")
    push(client, ann, pushed, [commit("a", "Ann", "ann@example.org", "2024-01-01T10:00:00Z",
                                      message="First line\n\nbody")])  # fmt: skip
    login(client, "ann@example.org")
    html = client.get(f"/repos/{pushed}").get_data(as_text=True)
    assert "First line" in html and "body" not in html.split("First line")[1][:20]
    assert "repos.yaml for this repository" in html
    assert "Pull credentials" not in html
    html = client.get(f"/repos/{pull}").get_data(as_text=True)
    assert "No token is set" in html and "repos.yaml for this repository" not in html
    resp = post_form(client, f"/repos/{pull}/credentials", {"token": "ghp_secret123"},
                     page=f"/repos/{pull}")  # fmt: skip
    assert resp.status_code == 302
    html = client.get(f"/repos/{pull}").get_data(as_text=True)
    assert "A token is set" in html and "ghp_secret123" not in html


def test_third_party_sync_method_appears_by_its_label(client: Any, seed: Any, app: Any) -> None:
    from app.sync_methods import SyncMethod, get_registry

    class Carrier(SyncMethod):
        name = "carrier_pigeon"
        label = "CARRIER PIGEON"
        description = "Commits arrive by bird."
        accepts_push = True

    get_registry(app).register(Carrier(), origin="test")
    ann = seed.actor("ann@example.org")
    project = seed.project(ann)
    login(client, "ann@example.org")
    form = client.get(f"/projects/{project}/repos").get_data(as_text=True)
    assert '<option value="carrier_pigeon">CARRIER PIGEON</option>' in form
    resp = post_form(client, f"/projects/{project}/repos",
                     {"name": "Bird", "git_url": "https://example.org/b.git", "branch": "main",
                      "sync_method": "carrier_pigeon"})  # fmt: skip
    assert resp.status_code == 302
    assert "CARRIER PIGEON" in client.get(f"/projects/{project}/repos").get_data(as_text=True)


def test_password_change_ends_sessions(client: Any, seed: Any, app: Any) -> None:
    seed.actor("root@example.org", admin=True)
    ann = seed.actor("ann@example.org")
    other = app.test_client()
    login(other, "ann@example.org")
    assert other.get("/projects").status_code == 200
    login(client, "root@example.org")
    resp = post_form(client, f"/admin/users/{ann.user_id}/password", {"password": "brand-new-pw"})
    assert resp.status_code == 302
    assert other.get("/projects").status_code == 302  # logged out
    assert login(other, "ann@example.org", "brand-new-pw").status_code == 302


def test_admin_pages_are_for_admins(client: Any, seed: Any) -> None:
    seed.actor("ann@example.org")
    login(client, "ann@example.org")
    for url in ("/admin/users", "/admin/migration"):
        assert client.get(url).status_code == 403
    assert b"Migration" not in client.get("/projects").data


def test_users_create_and_make_admin(client: Any, seed: Any) -> None:
    seed.actor("root@example.org", admin=True)
    login(client, "root@example.org")
    resp = post_form(client, "/admin/users", {"email": "New@Example.org", "password": "longpass1"})
    assert resp.status_code == 302
    html = client.get("/admin/users").get_data(as_text=True)
    assert "new@example.org" in html
    dup = post_form(client, "/admin/users", {"email": "new@example.org", "password": "longpass1"})
    assert dup.status_code == 409 and b"exists" in dup.data
    short = post_form(client, "/admin/users", {"email": "x@example.org", "password": "short"})
    assert short.status_code == 422
    user_id = re.search(r"/admin/users/(\d+)/role", html.split("<td>new@example.org</td>")[1])[1]  # type: ignore[index]
    resp = post_form(client, f"/admin/users/{user_id}/role", {"admin": "1"}, page="/admin/users")
    assert resp.status_code == 302
    assert b"is now an admin" in client.get("/admin/users").data


def test_audit_log_filters(client: Any, seed: Any) -> None:
    ann = seed.actor("ann@example.org")
    project = seed.project(ann)
    repo = seed.repo(project, repo_id="audited")
    push(client, ann, repo, [commit("a", "Ann", "ann@example.org", "2024-01-01T10:00:00Z")])
    login(client, "ann@example.org")
    html = client.get("/audit-log").get_data(as_text=True)
    assert "sync_commits" in html and "repo_created" in html
    only = client.get("/audit-log?action=repo_created&period=day").get_data(as_text=True)
    assert "<code>sync_commits</code>" not in only and "<code>repo_created</code>" in only
    assert "No entries match" in client.get("/audit-log?actor=nobody").get_data(as_text=True)
    assert "audited" in client.get("/audit-log?repo=audited").get_data(as_text=True)


def test_get_the_client_yaml_lists_push_repos(client: Any, seed: Any) -> None:
    import yaml

    ann = seed.actor("ann@example.org")
    project = seed.project(ann, "Mine")
    seed.repo(project, name="app", git_url="git@github.com:org/app.git")
    seed.repo(project, name="old", git_url="https://example.org/old.git", sync_method="pull_celery")
    login(client, "ann@example.org")
    page = client.get("/get-client").get_data(as_text=True)
    assert "pipx install http://localhost/client/gitleague_client-" in page
    assert 'href="/client/gitleague_client-' in page and '.tar.gz"' in page  # the sdist link
    resp = client.get("/get-client/repos.yaml")
    assert "attachment" in resp.headers["Content-Disposition"]
    data = yaml.safe_load(resp.get_data(as_text=True))
    assert data["api_url"] == "http://localhost"
    assert data["projects"] == [{"name": "Mine", "project_id": project, "repos": [
        {"path": "~/code/app", "git_url": "git@github.com:org/app.git", "branch": "main"}]}]  # fmt: skip


def test_failed_logins_are_rate_limited_like_the_api(database_url: str, seed: Any) -> None:
    from app import create_app
    from tests.conftest import TEST_CONFIG

    limited = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                          "GITLEAGUE_LOGIN_RATE_LIMIT": "3 per minute"})  # fmt: skip
    client = limited.test_client()
    seed.actor("ann@example.org")
    assert [login(client, "ann@example.org", "wrong-pw").status_code for _ in range(3)] == [401] * 3
    refused = login(client, "ann@example.org")
    assert refused.status_code == 429 and b"Too Many Requests" in refused.data
    assert int(refused.headers["Retry-After"]) > 0
    assert "unsafe-inline" not in refused.headers["Content-Security-Policy"]
    with limited.app_context():
        db.engine.dispose()


def test_production_session_cookie_is_secure(database_url: str) -> None:
    from app import create_app
    from tests.conftest import TEST_CONFIG

    prod = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                       "ENV_NAME": "production", "TESTING": False})  # fmt: skip
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["SESSION_COOKIE_HTTPONLY"] is True
    assert prod.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_audit_log_pages(client: Any, seed: Any) -> None:
    ann = seed.actor("ann@example.org")
    project = seed.project(ann)
    for i in range(55):
        seed.repo(project, repo_id=f"r-{i:02d}")
    login(client, "ann@example.org")
    first = client.get("/audit-log?action=repo_created").get_data(as_text=True)
    assert "page 1 of 2" in first and "r-54" in first and "r-04" not in first
    second = client.get("/audit-log?action=repo_created&page=2").get_data(as_text=True)
    assert "r-04" in second and "r-54" not in second and "← Newer" in second


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/no/such/page", 404), ("GET", "/projects/x/y/z", 404), ("DELETE", "/login", 405)],
)
def test_unknown_page_urls_get_the_html_error_page_in_a_browser(
    client: Any, method: str, path: str, status: int
) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    page = client.open(path, method=method, headers=browser)
    assert page.status_code == status
    assert page.mimetype == "text/html"
    assert "Back to the start" in page.get_data(as_text=True)
    assert "frame-ancestors" in page.headers["Content-Security-Policy"]
    program = client.open(path, method=method, headers={"Accept": "application/json"})
    assert program.status_code == status and program.is_json


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/v1/projects/x/nope"])
def test_api_urls_answer_json_even_to_a_browser(client: Any, path: str) -> None:
    resp = client.get(path, headers={"Accept": "text/html,*/*;q=0.8"})
    assert resp.status_code == 404 and resp.is_json
