"""Every route of the OpenAPI document × every kind of caller.

A route missing from ROUTES fails the test, so new endpoints must state
their access rules here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.services.auth import SCOPES
from tests.helpers import chain

CALLERS = (
    "anonymous",
    "malformed_key",
    "revoked_key",
    "wrong_scope",
    "other_key",
    "other_jwt",
    "owner",
    "admin",
)


@dataclass
class Route:
    """How to call a route and what each caller gets."""

    scope: str | None  # None: any valid key or JWT
    ok: int
    body: Callable[[dict[str, Any]], Any] | None = None
    jwt_only: bool = False  # API keys are refused (403) whatever their scope
    object_route: bool = True  # foreign callers get 404 rather than an empty list
    public: bool = False
    sync_method: str = "push_client"  # of the repo the route is called on


ROUTES: dict[tuple[str, str], Route] = {
    ("get", "/api/v1/me"): Route(None, 200, object_route=False),
    ("post", "/api/v1/auth/token"): Route(
        None,
        200,
        body=lambda f: {"email": f["owner_email"], "password": "password123"},
        public=True,
    ),
    ("get", "/api/v1/projects"): Route("read:repos", 200, object_route=False),
    ("post", "/api/v1/projects"): Route(
        "write:repos", 201, body=lambda f: {"name": "New"}, object_route=False
    ),
    ("get", "/api/v1/projects/{project_id}"): Route("read:repos", 200),
    ("patch", "/api/v1/projects/{project_id}"): Route(
        "write:repos", 200, body=lambda f: {"name": "Renamed"}
    ),
    ("delete", "/api/v1/projects/{project_id}"): Route("write:repos", 204),
    ("get", "/api/v1/projects/{project_id}/repos"): Route("read:repos", 200),
    ("get", "/api/v1/projects/{project_id}/contributors"): Route("read:repos", 200),
    ("get", "/api/v1/projects/{project_id}/contributors/{email}"): Route("read:repos", 200),
    ("get", "/api/v1/projects/{project_id}/activity"): Route("read:repos", 200),
    ("get", "/api/v1/repos/{repo_id}/contributors"): Route("read:repos", 200),
    ("get", "/api/v1/repos/{repo_id}/mailmap"): Route("read:repos", 200),
    ("put", "/api/v1/repos/{repo_id}/mailmap"): Route(
        "sync:commits", 200, body=lambda f: {"blob_sha": "a" * 40, "content": "A <a@x.org>\n"}
    ),
    ("delete", "/api/v1/repos/{repo_id}/mailmap"): Route("sync:commits", 204),
    ("get", "/api/v1/projects/{project_id}/aliases"): Route("read:repos", 200),
    ("post", "/api/v1/projects/{project_id}/aliases"): Route(
        "write:repos", 201, body=lambda f: {"emails": ["a@x.org", "b@x.org"], "name": "A"}
    ),
    ("delete", "/api/v1/projects/{project_id}/aliases/{email}"): Route("write:repos", 204),
    ("get", "/api/v1/projects/{project_id}/league-settings"): Route("read:repos", 200),
    ("patch", "/api/v1/projects/{project_id}/league-settings"): Route(
        "write:repos", 200, body=lambda f: {"include_bots": True}
    ),
    ("post", "/api/v1/projects/{project_id}/repos"): Route(
        "write:repos", 201, body=lambda f: {"name": "x", "git_url": "https://h.example/o/new.git"}
    ),
    ("get", "/api/v1/repos/{repo_id}"): Route("read:repos", 200),
    ("patch", "/api/v1/repos/{repo_id}"): Route("write:repos", 200, body=lambda f: {"name": "y"}),
    ("delete", "/api/v1/repos/{repo_id}"): Route("write:repos", 204),
    ("get", "/api/v1/repos/{repo_id}/commits"): Route("read:repos", 200),
    ("post", "/api/v1/repos/{repo_id}/commits"): Route(
        "sync:commits", 200, body=lambda f: {"commits": chain(2)}
    ),
    ("post", "/api/v1/repos/{repo_id}/commits/known"): Route(
        "sync:commits", 200, body=lambda f: {"shas": [c["sha"] for c in chain(2)]}
    ),
    ("post", "/api/v1/repos/{repo_id}/sync-runs"): Route("sync:commits", 201, body=lambda f: {}),
    ("patch", "/api/v1/repos/{repo_id}/sync-runs/{run_id}"): Route(
        "sync:commits", 200, body=lambda f: {"status": "succeeded"}
    ),
    ("get", "/api/v1/api-keys"): Route(None, 200, jwt_only=True, object_route=False),
    ("post", "/api/v1/api-keys"): Route(
        None,
        201,
        body=lambda f: {"name": "k", "scopes": ["read:repos"]},
        jwt_only=True,
        object_route=False,
    ),
    ("delete", "/api/v1/api-keys/{key_id}"): Route(None, 200, jwt_only=True),
    ("get", "/api/v1/audit-logs"): Route("read:audit", 200, object_route=False),
    ("get", "/api/v1/migration/status"): Route("read:repos", 200, object_route=False),
    # Foreign repos come back as per-repo "Repository not found" results in a 200.
    ("post", "/api/v1/migration/migrate"): Route(
        "migrate:repos", 200, body=lambda f: {"all": True, "dry_run": True}, object_route=False
    ),
    ("post", "/api/v1/migration/rollback"): Route(
        "migrate:repos",
        200,
        body=lambda f: {"repo_ids": ["nope-1"], "dry_run": True},
        object_route=False,
    ),
    ("put", "/api/v1/repos/{repo_id}/credentials"): Route(
        "write:repos", 200, body=lambda f: {"token": "tok"}, sync_method="pull_celery"
    ),
    ("delete", "/api/v1/repos/{repo_id}/credentials"): Route(
        "write:repos", 204, sync_method="pull_celery"
    ),
    # 409: the matrix's pull repo has no credentials (queued: tests/e2e/test_json_logs.py).
    ("post", "/api/v1/repos/{repo_id}/pull-jobs"): Route(
        "write:repos", 409, sync_method="pull_celery"
    ),
}


def expected(route: Route, caller: str) -> int:
    """The status ``caller`` must get from ``route``."""
    if route.public:
        return route.ok
    if caller in ("anonymous", "malformed_key", "revoked_key"):
        return 401
    uses_key = caller in ("wrong_scope", "other_key")
    if route.jwt_only:
        if caller == "wrong_scope" or uses_key:
            return 403
        if caller == "other_jwt" and route.object_route:
            return 404
        return route.ok
    if caller in ("other_key", "other_jwt") and route.object_route:
        return 404
    if caller == "wrong_scope" and route.scope is not None:
        return 403
    return route.ok


def test_every_documented_route_is_in_the_table(app):
    spec = app.extensions["gitleague.api"].spec.to_dict()
    documented = {(m, p) for p, ops in spec["paths"].items() for m in ops if m != "parameters"}
    assert documented == set(ROUTES), documented ^ set(ROUTES)


@pytest.fixture
def world(client, seed) -> dict[str, Any]:
    owner = seed.actor("owner@example.org")
    other = seed.actor("other@example.org")
    admin = seed.actor("admin@example.org", admin=True)
    revoked = seed.key(owner, tuple(SCOPES))
    rid = client.get("/api/v1/me", headers={"Authorization": f"Bearer {revoked}"})
    assert rid.status_code == 200
    keys = client.get("/api/v1/api-keys", headers=owner.headers(use_jwt=True)).json["items"]
    client.delete(f"/api/v1/api-keys/{keys[0]['id']}", headers=owner.headers(use_jwt=True))
    return {"owner": owner, "other": other, "admin": admin, "revoked": revoked, "seed": seed}


def headers_for(world: dict[str, Any], caller: str, route: Route, jwt: bool) -> dict[str, str]:
    owner, seed = world["owner"], world["seed"]
    if caller == "anonymous":
        return {}
    if caller == "malformed_key":
        return {"Authorization": "Bearer tgl_not_a_key"}
    if caller == "revoked_key":
        return {"Authorization": f"Bearer {world['revoked']}"}
    if caller == "wrong_scope":
        scopes = tuple(s for s in SCOPES if s != route.scope)
        return {"Authorization": f"Bearer {seed.key(owner, scopes)}"}
    if caller == "other_key":
        return world["other"].headers()
    if caller == "other_jwt":
        return world["other"].headers(use_jwt=True)
    actor = world["admin"] if caller == "admin" else owner
    return actor.headers(use_jwt=jwt)


def fill(client: Any, world: dict[str, Any], path: str, sync_method: str = "push_client") -> str:
    """Fresh objects of the owner for each call (deletes must not disturb others)."""
    owner, seed = world["owner"], world["seed"]
    pid = seed.project(owner)
    rid = seed.repo(pid, sync_method=sync_method)
    run = client.post(f"/api/v1/repos/{rid}/sync-runs", json={}, headers=owner.headers()).json
    if "{email}" in path:  # an alias to remove
        client.post(f"/api/v1/projects/{pid}/aliases", json={"emails": ["ada@example.org"]},
                    headers=owner.headers())  # fmt: skip
    key_id = client.post(
        "/api/v1/api-keys",
        json={"name": "t", "scopes": ["read:repos"]},
        headers=owner.headers(use_jwt=True),
    ).json["id"]
    return path.format(project_id=pid, repo_id=rid, run_id=run.get("id", 0), key_id=key_id,
                       email="ada@example.org")  # fmt: skip


@pytest.mark.parametrize("caller", CALLERS)
def test_access_rules(client, world, caller):
    failures = []
    for (method, path), route in ROUTES.items():
        url = fill(client, world, path, route.sync_method)
        hdrs = headers_for(world, caller, route, jwt=route.jwt_only)
        body = route.body({"owner_email": world["owner"].email}) if route.body else None
        resp = getattr(client, method)(url, json=body, headers=hdrs)
        want = expected(route, caller)
        if resp.status_code != want:
            failures.append(f"{method.upper()} {path}: {resp.status_code} != {want} {resp.json}")
        if resp.status_code >= 400:
            assert set(resp.json) == {"error"} and {"code", "message"} <= set(resp.json["error"])
    assert not failures, "\n".join(failures)
