"""Attack pass: the web pages and the league API with their database or Redis down.

The web UI must answer an HTML page with 503 and ``Retry-After`` (never a
500, never a JSON body in the browser); the league API the JSON 503.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.server import free_port
from tests.test_edges_outages import (  # noqa: F401 (fixtures)
    _outage_app,
    dead_postgres,
    unopenable_sqlite,
)
from tests.web.helpers import csrf, login

BROKEN = ["dead_postgres", "unopenable_sqlite"]


def _session_cookie(app: Any, seed: Any) -> str:
    """A logged-in session cookie, made on a healthy app with the same secret key."""
    seed.actor("ann@example.org")
    client = app.test_client()
    assert login(client, "ann@example.org").status_code == 302
    return client.get_cookie("session").value


def _assert_html_503(resp: Any) -> None:
    assert resp.status_code == 503, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "text/html"
    assert int(resp.headers["Retry-After"]) > 0
    assert b"database" in resp.data and b"try again" in resp.data.lower()
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("broken", BROKEN)
def test_web_login_with_the_database_down_is_an_html_503(request: Any, broken: str) -> None:
    client = request.getfixturevalue(broken).test_client()
    page = client.get("/login")
    assert page.status_code == 200
    data = {"email": "ann@example.org", "password": "password123"}
    _assert_html_503(client.post("/login", data={**data, "csrf_token": csrf(page.text)}))


@pytest.mark.parametrize("broken", BROKEN)
@pytest.mark.parametrize(
    "path", ["/projects", "/audit-log", "/settings/api-keys", "/get-client", "/admin/users"]
)
def test_web_pages_with_the_database_down_are_html_503(
    request: Any, app: Any, seed: Any, broken: str, path: str
) -> None:
    cookie = _session_cookie(app, seed)
    client = request.getfixturevalue(broken).test_client()
    client.set_cookie("session", cookie)
    _assert_html_503(client.get(path))


@pytest.mark.parametrize("broken", BROKEN)
def test_league_api_with_the_database_down_is_a_json_503(request: Any, broken: str) -> None:
    from tests.test_edges_outages import _token

    app = request.getfixturevalue(broken)
    resp = app.test_client().get(
        "/api/v1/projects/00000000-0000-0000-0000-000000000001/contributors?period=week",
        headers={"Authorization": _token(app)},
    )
    assert resp.status_code == 503, resp.get_data(as_text=True)
    assert resp.json["error"]["code"] == "database_unavailable"


def test_web_login_with_redis_down_still_logs_in_and_limits(database_url: str) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    app = _outage_app(database_url, REDIS_URL=dead, RATELIMIT_STORAGE_URI=dead,
                      GITLEAGUE_LOGIN_RATE_LIMIT="2 per minute")  # fmt: skip
    from tests.helpers import Seed

    Seed(app).actor("ann@example.org")
    client = app.test_client()
    codes = [login(client, "ann@example.org", "wrong-password").status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    ok = login(other, "ann@example.org")
    assert ok.status_code == 302, ok.get_data(as_text=True)[:300]
    assert other.get("/projects").status_code == 200
    from app.db import db

    with app.app_context():
        db.engine.dispose()


def test_a_value_the_database_refuses_on_a_page_is_an_html_422(app: Any, database_url: str) -> None:
    """The API's last line of defence (DataError → 422) holds for pages too, as HTML."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL raises DataError for 1/0; SQLite answers NULL")
    import sqlalchemy as sa

    from app.db import db

    def refused() -> str:
        db.session.execute(sa.text("SELECT 1 / 0"))
        return "unreachable"

    # An endpoint named "web.…" belongs to the web blueprint and its handlers.
    app.add_url_rule("/test-refused", endpoint="web.test_refused", view_func=refused)
    resp = app.test_client().get("/test-refused")
    assert resp.status_code == 422 and resp.mimetype == "text/html"
    assert b"cannot be stored" in resp.data
