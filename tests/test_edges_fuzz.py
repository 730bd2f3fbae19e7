"""Issue 9: generated bodies and query strings on every route of the OpenAPI document
never get a 5xx, on both databases (hypothesis, bounded: about a minute in all)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES_PER_OPERATION = 40

NASTY_TEXT = [
    "",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "https://[::1/x",
    "https://h:99999/x",
    "https://169.254.169.254\\@github.com/x",
    "git@github.com:org/repo.git",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "2024-02-30T00:00:00Z",
    "-1",
    "0",
    "99999999999999999999",
    "\u202e\u0301" * 50,
    "x" * 5000,
    "a" * 40,
]
NASTY_INTS = [0, -1, 2**31 - 1, 2**31, 2**63, -(2**63) - 1, 10**40]

# Known-bad values twice as often as arbitrary text: the budget is small.
nasty = st.sampled_from(NASTY_TEXT)
text = st.one_of(nasty, nasty, st.text(max_size=40))
integer = st.one_of(st.integers(-1000, 10**6), st.sampled_from(NASTY_INTS))
scalar = st.one_of(st.none(), st.booleans(), integer, st.floats(allow_nan=False), text)
value = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)


SHA = "a" * 40
# A valid-looking value per documented field, so that one twisted part of an
# otherwise good request gets past the first check and reaches deeper code.
PLAUSIBLE: dict[str, Any] = {
    "email": "alice@example.org",
    "owner_email": "alice@example.org",
    "password": "password123",
    "name": "n",
    "git_url": "https://example.org/x.git",
    "branch": "main",
    "status": "failed",
    "head_sha": SHA,
    "resume_sha": SHA,
    "shas": [SHA],
    "scopes": ["read:repos"],
    "sync_run_id": 1,
    "commits": [],
    "id": "my-repo",
    "sync_method": "push_client",
    "from": "pull_celery",
    "to": "push_client",
    "repo_ids": ["r"],
    "repo_id": "r",
    "token": "ghp_x",
    "username": "u",
    "error": "e",
    "pull_interval_seconds": 3600,
    "since": "2024-01-01T00:00:00Z",
    "until": "2025-01-01T00:00:00+02:00",
    "author": "a@example.org",
    "page": 1,
    "per_page": 10,
    "action": "login",
}


def _twisted(good: Any) -> st.SearchStrategy[Any]:
    """``good`` with one bad part: a nasty value, or NUL/a lone surrogate inside."""
    if isinstance(good, str):
        inside = st.sampled_from(["\x00", "\ud800", "\udc00"]).map(
            lambda c: good[:1] + c + good[1:]
        )
        return st.one_of(nasty, inside, nasty.map(lambda n: good + n))
    if isinstance(good, int):
        return st.sampled_from(NASTY_INTS)
    if isinstance(good, list):
        return st.lists(
            st.one_of(_twisted(good[0]) if good else nasty, value), min_size=1, max_size=3
        )
    return value


def _field(name: str) -> st.SearchStrategy[Any]:
    good = PLAUSIBLE.get(name)
    return value if good is None else st.one_of(_twisted(good), value)


def _one_twisted(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Every named field plausible but one, which gets a bad value."""
    good = {name: PLAUSIBLE.get(name, "x") for name in names}
    if not names:
        return st.just(good)
    return st.sampled_from(names).flatmap(
        lambda bad: _field(bad).map(lambda twisted: {**good, bad: twisted})
    )


def _schema_of(spec: dict[str, Any], ref_or_schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in ref_or_schema:
        ref_or_schema = spec["components"]["schemas"][ref_or_schema["$ref"].rsplit("/", 1)[-1]]
    return ref_or_schema


def _body(spec: dict[str, Any], operation: dict[str, Any]) -> st.SearchStrategy[str]:
    """JSON text: objects with the documented fields (and others), or anything, or junk."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    names = list(_schema_of(spec, content["schema"]).get("properties", {})) if content else []
    some = st.fixed_dictionaries({}, optional={name: _field(name) for name in names})
    extra = st.dictionaries(text, value, max_size=2)
    mixed = st.builds(lambda a, b: {**b, **a}, some, extra)
    junk = st.sampled_from(["{", "[" * 1000 + "]" * 1000, '{"a": ' * 200, "null", "\ufeff{}", ""])
    twisted = _one_twisted(names).map(json.dumps)  # lone surrogates become \\ud800
    return st.one_of(twisted, twisted, twisted, mixed.map(json.dumps), value.map(json.dumps), junk)


def _query(operation: dict[str, Any]) -> st.SearchStrategy[str]:
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    others = st.lists(st.tuples(text, text), max_size=2)
    if not names:
        return st.one_of(st.just(""), others.map(_query_string))
    twisted = _one_twisted(names).map(lambda fields: _query_string(list(fields.items())))
    return st.one_of(st.just(""), twisted, twisted, others.map(_query_string))


def _query_string(pairs: list[tuple[str, Any]]) -> str:
    return "&".join(f"{_quoted(str(k))}={_quoted(_as_text(v))}" for k, v in pairs)


def _as_text(item: Any) -> str:
    return item if isinstance(item, str) else json.dumps(item)


def _quoted(part: str) -> str:
    # An attacker can send any bytes: lone surrogates go out as their (invalid) UTF-8.
    return quote(part.encode("utf-8", "surrogatepass"), safe="")


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    ops = [
        (path, method.upper(), op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    # Deletions last: they would remove what the other operations reach.
    return sorted(ops, key=lambda op: (op[1] == "DELETE", op[0], op[1]))


@pytest.fixture
def world(app: Any, seed: Any) -> dict[str, Any]:
    """An admin and a commissioner, a project, a push repo and an open sync run."""
    admin = seed.actor(admin=True)
    owner = seed.actor()
    project = seed.project(owner)
    repo = seed.repo(project)
    client = app.test_client()
    run = client.post(f"/api/v1/repos/{repo}/sync-runs", json={}, headers=owner.headers())
    return {
        "ids": {"project_id": project, "repo_id": repo, "run_id": str(run.json["id"])},
        "credentials": [admin.headers(), admin.headers(use_jwt=True), owner.headers()],
    }


def test_generated_requests_to_every_operation_get_no_5xx(app, world):
    client = app.test_client()
    spec = client.get("/api/v1/openapi.json").json
    operations = _operations(spec)
    assert len(operations) >= 20
    for path, method, operation in operations:
        _fuzz(client, spec, world, path, method, operation)


def _fuzz(
    client: Any,
    spec: dict[str, Any],
    world: dict[str, Any],
    path: str,
    method: str,
    operation: dict[str, Any],
) -> None:
    names = {part[1:-1] for part in path.split("/") if part.startswith("{")}
    path_values = st.fixed_dictionaries(
        {
            name: st.one_of(*[st.just(world["ids"].get(name, "1"))] * 3, text.map(_quoted))
            for name in names
        }
    )

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        path_values=path_values,
        query=_query(operation),
        body=_body(spec, operation),
        who=st.sampled_from(world["credentials"]),
    )
    def no_server_error(path_values: dict[str, str], query: str, body: str, who: Any) -> None:
        url = path.format(**path_values) + (f"?{query}" if query else "")
        send: dict[str, Any] = {"headers": who}
        if method in {"POST", "PUT", "PATCH"}:
            send |= {"data": body, "content_type": "application/json"}
        resp = client.open(url, method=method, **send)
        assert resp.status_code < 500, (method, url, body[:300], resp.get_data(as_text=True))
        if resp.status_code >= 400:
            assert set(resp.json["error"]) >= {"code", "message"}

    no_server_error()
