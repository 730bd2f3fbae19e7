"""``GET /metrics``: the scrape token, and figures read from the database (both databases)."""

from __future__ import annotations

import datetime as dt

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.db import db, utcnow
from app.models import SyncRun
from tests.helpers import chain

TOKEN = "scrape-token-0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 200, resp.data
    assert resp.content_type.startswith("text/plain; version=0.0.4")
    return samples(resp.get_data(as_text=True))


@pytest.fixture
def metrics_app(app):
    app.config["GITLEAGUE_METRICS_TOKEN"] = TOKEN
    return app


def test_metrics_are_off_without_a_token_setting(client):
    resp = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 404
    assert "GITLEAGUE_METRICS_TOKEN" in resp.json["error"]["message"]


@pytest.mark.parametrize(
    ("header", "status"),
    [(None, 401), ("Basic abc", 401), ("Bearer ", 401), ("Bearer wrong", 403),
     (f"Bearer {TOKEN}x", 403)],
)  # fmt: skip
def test_a_scrape_needs_the_token(metrics_app, header, status):
    headers = {"Authorization": header} if header else {}
    resp = metrics_app.test_client().get("/metrics", headers=headers)
    assert resp.status_code == status
    assert resp.json["error"]["code"] in ("unauthorized", "forbidden")
    assert "gitleague_" not in resp.get_data(as_text=True)


def test_requests_commits_and_sync_runs_are_counted(metrics_app, seed):
    client = metrics_app.test_client()
    owner = seed.actor()
    rid = seed.repo(seed.project(owner))
    run = client.post(f"/api/v1/repos/{rid}/sync-runs", json={}, headers=owner.headers()).json
    commits = chain(30)
    body = {"sync_run_id": run["id"], "commits": commits}
    for _ in range(2):  # the second batch is all duplicates
        resp = client.post(f"/api/v1/repos/{rid}/commits", json=body, headers=owner.headers())
        assert resp.status_code == 200
    done = client.patch(
        f"/api/v1/repos/{rid}/sync-runs/{run['id']}",
        json={"status": "succeeded", "head_sha": commits[-1]["sha"]},
        headers=owner.headers(),
    )
    assert done.status_code == 200
    assert client.get("/api/v1/repos/nope", headers=owner.headers()).status_code == 404

    got = scrape(client)
    route = (("method", "POST"), ("route", "/api/v1/repos/<repo_id>/commits"), ("status", "200"))
    assert got[("gitleague_http_requests_total", route)] == 2
    assert got[("gitleague_http_requests_total", (
        ("method", "GET"), ("route", "/api/v1/repos/<repo_id>"), ("status", "404")))] == 1  # fmt: skip
    latency = (("method", "POST"), ("route", "/api/v1/repos/<repo_id>/commits"))
    assert got[("gitleague_http_request_duration_seconds_count", latency)] == 2
    assert got[("gitleague_commits_ingested_total", (("method", "push_client"),))] == 30
    runs = (("method", "push_client"), ("status", "succeeded"))
    assert got[("gitleague_sync_runs", runs)] == 1
    since = got[
        (
            "gitleague_seconds_since_last_successful_sync",
            (("method", "push_client"), ("repo_id", rid)),
        )
    ]
    assert 0 <= since < 3600


def test_seconds_since_last_successful_sync_ignores_failed_runs(metrics_app, seed):
    owner = seed.actor()
    pid = seed.project(owner)
    synced, never = seed.repo(pid), seed.repo(pid)
    now = utcnow()
    with metrics_app.app_context():
        for repo_id, status, hours in ((synced, "succeeded", 5), (synced, "succeeded", 2),
                                       (synced, "failed", 1), (never, "failed", 1)):  # fmt: skip
            finished = now - dt.timedelta(hours=hours)
            db.session.add(SyncRun(repo_id=repo_id, method="push_client", status=status,
                                   started_at=finished, finished_at=finished))  # fmt: skip
        db.session.commit()
    got = scrape(metrics_app.test_client())
    assert got[("gitleague_database_up", ())] == 1
    key = ("gitleague_seconds_since_last_successful_sync", (("method", "push_client"),))
    assert 2 * 3600 <= got[(key[0], key[1] + (("repo_id", synced),))] < 2 * 3600 + 300
    assert not [k for k in got if k[0] == key[0] and ("repo_id", never) in k[1]]
    assert got[("gitleague_sync_runs", (("method", "push_client"), ("status", "failed")))] == 2


def test_a_scrape_answers_while_the_database_is_down():
    from app import create_app
    from tests.conftest import TEST_CONFIG
    from tests.server import free_port

    down = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone?connect_timeout=2"
    app = create_app(
        {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": down, "GITLEAGUE_METRICS_TOKEN": TOKEN}
    )
    app.test_client().get("/healthz")
    got = scrape(app.test_client())
    assert got[("gitleague_database_up", ())] == 0
    health = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert got[("gitleague_http_requests_total", health)] == 1
    assert not [k for k in got if k[0] == "gitleague_sync_runs"]
