"""Probes and the OpenAPI document."""

from __future__ import annotations


def test_probes(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ok"}


def test_readyz_reports_an_unreachable_database(tmp_path):
    from app import create_app

    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:1/x"}
    )
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503 and resp.json["status"] == "unavailable"


def test_openapi_document_and_docs_page(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["info"]["title"] == "GitLeague API"
    assert "/api/v1/repos/{repo_id}/commits" in spec["paths"]
    ingest = spec["paths"]["/api/v1/repos/{repo_id}/commits"]["post"]
    assert "requestBody" in ingest
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and b"openapi.json" in page.data


def test_unknown_route_and_method_use_the_error_shape(client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    wrong = client.put("/api/v1/me")
    assert wrong.status_code == 405 and wrong.json["error"]["code"] == "method_not_allowed"


def test_request_id_is_echoed(client):
    resp = client.get("/healthz", headers={"X-Request-ID": "abc123def456"})
    assert resp.headers["X-Request-ID"] == "abc123def456"
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 32
