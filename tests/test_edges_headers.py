"""Issue 9, item 9: security headers, and an API docs page that needs no CDN."""

from __future__ import annotations

import re

import pytest

DOCS = "/api/v1/docs"


def test_every_response_says_nosniff(client, seed):
    actor = seed.actor()
    responses = [
        client.get("/healthz"),
        client.get("/api/v1/openapi.json"),
        client.get("/api/v1/nothing-here"),
        client.get("/api/v1/me"),
        client.get("/api/v1/me", headers=actor.headers()),
        client.get(DOCS),
        client.post("/api/v1/auth/token", data="{", content_type="application/json"),
    ]
    for resp in responses:
        assert resp.headers["X-Content-Type-Options"] == "nosniff", resp.request.path


@pytest.mark.parametrize("use_jwt", [False, True])
def test_authenticated_json_is_never_stored(client, seed, use_jwt):
    actor = seed.actor()
    project = seed.project(actor)
    for path in ("/api/v1/me", "/api/v1/projects", f"/api/v1/projects/{project}"):
        resp = client.get(path, headers=actor.headers(use_jwt=use_jwt))
        assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store", path


def test_a_fresh_token_is_never_stored(client, seed):
    seed.actor("alice@example.org")
    resp = client.post(
        "/api/v1/auth/token", json={"email": "alice@example.org", "password": "password123"}
    )
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"


def test_docs_page_loads_only_its_own_files_under_a_policy(client):
    page = client.get(DOCS)
    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert page.headers["X-Frame-Options"] == "DENY"
    html = page.get_data(as_text=True)
    assert "<script>" not in html  # no inline script: the policy would block it
    refs = re.findall(r'(?:src|href|data-spec-url)="([^"]+)"', html)
    assert len(refs) == 5
    served = {}
    for ref in refs:
        assert ref.startswith("/") and not ref.startswith("//"), ref
        with client.get(ref) as resp:  # files are streamed: close them
            assert resp.status_code == 200, ref
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
            served[ref.rsplit("/", 1)[-1]] = (resp.mimetype, resp.get_data())
    assert served["swagger-ui-bundle.js"][0] == "text/javascript"
    assert b"SwaggerUIBundle" in served["swagger-ui-bundle.js"][1]
    assert served["start.js"][0] == "text/javascript"
    assert served["swagger-ui.css"][0] == "text/css"
    assert b'"title": "GitLeague API"' in served["openapi.json"][1]


@pytest.mark.parametrize("name", ["index.html", "..%2F__init__.py", "swagger-ui.js.map"])
def test_docs_serve_no_other_file(client, name):
    resp = client.get(f"{DOCS}/assets/{name}")
    assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"


def test_the_openapi_document_stays_cacheable(client):
    resp = client.get("/api/v1/openapi.json")
    assert "no-store" not in resp.headers.get("Cache-Control", "")
