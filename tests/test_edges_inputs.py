"""Issue 9: every bad input is a 4xx naming the problem (these were 500s), both databases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt
import pytest

from app.api.guard import json_depth

DEEP = "[" * 1000 + "]" * 1000


@pytest.fixture
def world(seed: Any) -> dict[str, Any]:
    """A commissioner with a key and a JWT, a project, a push repo and an open run."""
    actor = seed.actor()
    project = seed.project(actor)
    repo = seed.repo(project)
    run = seed.app.test_client().post(
        f"/api/v1/repos/{repo}/sync-runs", json={}, headers=actor.headers()
    )
    return {"actor": actor, "project": project, "repo": repo, "run": run.json["id"]}


def _send(client: Any, world: dict[str, Any], case: tuple[Any, ...]) -> Any:
    method, path, body, use_jwt = case
    path = path.format(**world)
    headers = world["actor"].headers(use_jwt=use_jwt)
    if isinstance(body, str):  # raw JSON text: lone surrogates and depth survive as written
        return client.open(
            path, method=method, data=body, content_type="application/json", headers=headers
        )
    return client.open(path, method=method, json=body, headers=headers)


CASES = {
    # malformed IPv6 in git_url
    "ipv6 create": (
        ("POST", "/api/v1/projects/{project}/repos", {"name": "x", "git_url": "https://[::1/x"}, 0),
        422,
        "git_url: not a valid URL",
    ),
    "ipv6 patch": (
        ("PATCH", "/api/v1/repos/{repo}", {"git_url": "ssh://[fe80::1%zz/x"}, 0),
        422,
        "git_url: not a valid URL",
    ),
    "ipv6 filter": (
        ("GET", "/api/v1/projects/{project}/repos?git_url=https://[::1/x", None, 0),
        422,
        "git_url: not a valid URL",
    ),
    "bad port": (
        (
            "POST",
            "/api/v1/projects/{project}/repos",
            {"name": "x", "git_url": "https://h:99999/x"},
            0,
        ),
        422,
        "git_url: not a valid URL",
    ),
    # lone surrogates
    "surrogate repo url": (
        (
            "POST",
            "/api/v1/projects/{project}/repos",
            '{"name": "n", "git_url": "https://e.org/\\ud800"}',
            0,
        ),
        422,
        "git_url: is not valid Unicode",
    ),
    "surrogate branch": (
        ("PATCH", "/api/v1/repos/{repo}", '{"branch": "\\udc00"}', 0),
        422,
        "branch: is not valid Unicode",
    ),
    "surrogate key name": (
        ("POST", "/api/v1/api-keys", '{"name": "k", "scopes": ["\\ud800"]}', 1),
        422,
        "scopes[0]: is not valid Unicode",
    ),
    "surrogate key": (
        ("POST", "/api/v1/projects", '{"name": "n", "\\ud800": 1}', 0),
        422,
        "body key: is not valid Unicode",
    ),
    # NUL (PostgreSQL refuses it in text)
    "NUL path": (("GET", "/api/v1/repos/a%00b", None, 0), 422, "repo_id: must not contain NUL"),
    "NUL query": (
        ("GET", "/api/v1/repos/{repo}/commits?author=a%00b", None, 0),
        422,
        "author: must not contain NUL",
    ),
    "NUL git_url": (
        (
            "POST",
            "/api/v1/projects/{project}/repos",
            {"name": "n", "git_url": "https://e.org/a\x00"},
            0,
        ),
        422,
        "git_url: must not contain NUL",
    ),
    "NUL owner email": (
        ("POST", "/api/v1/projects", {"name": "n", "owner_email": "a\x00@x.org"}, 1),
        422,
        "owner_email: must not contain NUL",
    ),
    # integers beyond the column's range
    "big key id": (("DELETE", "/api/v1/api-keys/99999999999999999999", None, 1), 404, ""),
    "int4 key id": (("DELETE", "/api/v1/api-keys/2147483648", None, 1), 404, ""),
    "big run id": (
        ("PATCH", "/api/v1/repos/{repo}/sync-runs/99999999999", {"status": "failed"}, 0),
        404,
        "",
    ),
    "big sync_run_id": (
        ("POST", "/api/v1/repos/{repo}/commits", {"commits": [], "sync_run_id": 2**31}, 0),
        422,
        "sync_run_id",
    ),
    "negative sync_run_id": (
        ("POST", "/api/v1/repos/{repo}/commits", {"commits": [], "sync_run_id": -(2**40)}, 0),
        422,
        "sync_run_id",
    ),
    # times with no UTC form
    "since extreme": (
        ("GET", "/api/v1/repos/{repo}/commits?since=9999-12-31T23:59:59-23:59", None, 0),
        422,
        "since: must be between",
    ),
    "until extreme": (
        ("GET", "/api/v1/repos/{repo}/commits?until=0001-01-01T00:00:00%2B23:59", None, 0),
        422,
        "until: must be between",
    ),
    "league since extreme": (
        ("GET", "/api/v1/projects/{project}/contributors?since=9999-12-31T23:59:59-23:59", None, 0),
        422,
        "since: must be between",
    ),
    "audit until extreme": (
        ("GET", "/api/v1/audit-logs?until=9999-12-31T23:59:59-23:59", None, 0),
        422,
        "until: must be between",
    ),
    # JSON nested 1,000 levels
    "deep project": (("POST", "/api/v1/projects", '{"name": ' + DEEP + "}", 0), 400, "nested"),
    "deep ingest": (
        ("POST", "/api/v1/repos/{repo}/commits", '{"commits": ' + DEEP + "}", 0),
        400,
        "nested",
    ),
    "deep known": (("POST", "/api/v1/repos/{repo}/commits/known", DEEP, 0), 400, "nested"),
}


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_a_4xx_naming_the_problem(client, world, name):
    case, status, fragment = CASES[name]
    resp = _send(client, world, case)
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.json["error"]["code"] in {"validation_error", "bad_request", "not_found"}
    assert fragment in resp.json["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        '{"email": "\\ud800@x.org", "password": "x"}',
        '{"email": "a@x.org", "password": "\\udfff"}',
        '{"email": "a\\u0000@x.org", "password": "x"}',
        '{"email": ' + DEEP + "}",
    ],
)
def test_bad_login_bodies_are_4xx(client, body):
    resp = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert resp.status_code in (400, 422), resp.get_data(as_text=True)


@pytest.mark.parametrize("sub", ["²", "99999999999999999999", "0", "-1", "1.0", " 1", "١"])
def test_a_jwt_sub_that_is_not_a_plain_id_is_401(client, app, world, sub):
    now = dt.datetime.now(dt.timezone.utc)
    claims = {"sub": sub, "iat": now, "exp": now + dt.timedelta(minutes=5)}
    claims |= {"iss": app.config["JWT_ISSUER"], "aud": app.config["JWT_AUDIENCE"]}
    token = jwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    resp = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401 and resp.json["error"]["message"] == "invalid token"


def test_nothing_was_stored_by_the_refused_requests(client, world):
    for name in ("ipv6 create", "NUL git_url", "surrogate repo url", "bad port"):
        _send(client, world, CASES[name][0])
    repos = client.get(
        f"/api/v1/projects/{world['project']}/repos", headers=world["actor"].headers()
    )
    assert repos.json["total"] == 1


def test_depth_counts_brackets_outside_strings_only():
    assert json_depth(b'{"a": [1, {"b": "[[[[\\"]]"}]}') == 3
    assert json_depth(DEEP.encode()) == 1000


def test_a_value_the_database_refuses_is_a_422_not_a_500(app, database_url):
    """The last line of defence behind the schemas and the guard (logged as a gap)."""
    import sqlalchemy as sa

    from app.db import db

    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's DataError (SQLite checks no ranges)")

    def unstorable() -> str:
        db.session.execute(sa.text("SELECT CAST(:n AS integer)"), {"n": 2**40})
        return "unreachable"

    app.add_url_rule("/test-unstorable", view_func=unstorable)
    resp = app.test_client().get("/test-unstorable")
    assert resp.status_code == 422 and resp.json["error"]["code"] == "validation_error"
