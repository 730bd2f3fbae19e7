"""Issue 9: every outage is a clean, retryable answer (503 + Retry-After), never a 500."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from app import create_app
from app.db import db
from app.models import User
from app.services.auth import issue_token
from tests.conftest import PG_ADMIN_URL, TEST_CONFIG, _migrate
from tests.helpers import Seed
from tests.server import LiveServer, free_port

LOGIN = {"email": "alice@example.org", "password": "password123"}


def _token(app: Any) -> str:
    """A valid JWT for user 1: authenticating it asks the database."""
    user = User(id=1, email="alice@example.org", role="admin")
    names = {"secret": "JWT_SECRET_KEY", "issuer": "JWT_ISSUER", "audience": "JWT_AUDIENCE"}
    jwt = issue_token(user, ttl=60, **{arg: app.config[key] for arg, key in names.items()})
    return f"Bearer {jwt}"


def _outage_app(url: str, **config: Any) -> Any:
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, **config})


def _assert_unavailable(resp: Any, code: str = "database_unavailable") -> None:
    assert resp.status_code == 503, resp.get_data(as_text=True)
    assert resp.json["error"]["code"] == code
    assert int(resp.headers["Retry-After"]) > 0


@pytest.fixture
def dead_postgres() -> Iterator[Any]:
    """The app pointed at a PostgreSQL port nobody listens on."""
    app = _outage_app(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gitleague")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def unopenable_sqlite(tmp_path: Path) -> Iterator[Any]:
    """The app pointed at a SQLite "file" that is a directory: it cannot be opened."""
    place = tmp_path / "not-a-file.sqlite3"
    place.mkdir()
    app = _outage_app(f"sqlite:///{place}")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("broken", ["dead_postgres", "unopenable_sqlite"])
def test_database_down_is_503_with_retry_after(request, broken):
    app = request.getfixturevalue(broken)
    client = app.test_client()
    _assert_unavailable(client.get("/api/v1/me", headers={"Authorization": _token(app)}))
    _assert_unavailable(client.post("/api/v1/auth/token", json=LOGIN))
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200


@pytest.fixture
def pg_only(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's own conflict errors")
    return database_url


@pytest.mark.parametrize(
    "sqlstate, what", [("40P01", "deadlock"), ("40001", "serialization failure")]
)
def test_postgresql_rollbacks_are_503_with_retry_after(app, pg_only, sqlstate, what):
    # PostgreSQL itself raises the error (RAISE ... USING ERRCODE), as it does
    # when it picks this transaction as a deadlock victim.
    def conflicted() -> Any:
        db.session.execute(
            sa.text(f"DO $$ BEGIN RAISE EXCEPTION '{what}' USING ERRCODE = '{sqlstate}'; END $$")
        )
        return "unreachable"

    app.add_url_rule("/test-conflict", view_func=conflicted)
    _assert_unavailable(app.test_client().get("/test-conflict"), code="database_busy")


def test_a_real_deadlock_is_503(app, pg_only, seed):
    """Two requests lock two rows in opposite orders; PostgreSQL kills one of them."""
    import threading

    owner = seed.actor()
    first, second = seed.project(owner, "first"), seed.project(owner, "second")
    barrier = threading.Barrier(2, timeout=20)

    def lock_both() -> Any:
        from flask import request

        order = request.args["order"].split(",")
        rename = "UPDATE projects SET name = name WHERE id = :id"
        db.session.execute(sa.text(rename), {"id": order[0]})
        barrier.wait()
        db.session.execute(sa.text(rename), {"id": order[1]})
        db.session.commit()
        return "ok"

    app.add_url_rule("/test-lock", view_func=lock_both)
    codes: list[Any] = []

    def call(order: str) -> None:
        resp = app.test_client().get(f"/test-lock?order={order}")
        codes.append((resp.status_code, resp.headers.get("Retry-After"), resp.get_data()))

    threads = [
        threading.Thread(target=call, args=(f"{first},{second}",)),
        threading.Thread(target=call, args=(f"{second},{first}",)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(code for code, _, _ in codes) == [200, 503]
    assert [retry for code, retry, _ in codes if code == 503] == ["1"]
    assert [b"database_busy" in body for code, _, body in codes if code == 503] == [True]


def test_redis_down_login_still_answers_and_limits_fall_back_to_memory(database_url):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    app = _outage_app(
        database_url,
        REDIS_URL=dead,
        RATELIMIT_STORAGE_URI=dead,
        GITLEAGUE_LOGIN_RATE_LIMIT="2 per minute",
    )
    Seed(app).actor("alice@example.org")
    client = app.test_client()
    assert client.post("/api/v1/auth/token", json=LOGIN).status_code == 200
    wrong = {**LOGIN, "password": "nope"}
    codes = [client.post("/api/v1/auth/token", json=wrong).status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def own_pg_database() -> Iterator[tuple[str, Any]]:
    """A PostgreSQL database of this test alone (it gets dropped mid-test)."""
    name = f"gitleague_outage_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    yield url, admin
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.e2e
def test_gunicorn_rides_through_a_dropped_and_restored_database(own_pg_database, tmp_path):
    url, admin = own_pg_database
    name = sa.engine.make_url(url).database

    def prepare() -> dict[str, str]:
        _migrate(url)
        app = _outage_app(url)
        headers = Seed(app).actor("alice@example.org").headers()
        with app.app_context():
            db.engine.dispose()
        return headers

    headers = prepare()
    with LiveServer(url).start(tmp_path) as server:
        me = server.url + "/api/v1/me"
        assert requests.get(me, headers=headers, timeout=10).status_code == 200
        with admin.connect() as conn:  # every server connection killed mid-run
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
        assert requests.get(me, headers=headers, timeout=10).status_code == 200  # pre-ping
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        for _ in range(4):  # both workers, whatever their pools held
            down = requests.get(me, headers=headers, timeout=10)
            assert down.status_code == 503, down.text
            assert down.json()["error"]["code"] == "database_unavailable"
            assert int(down.headers["Retry-After"]) > 0
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        headers = prepare()
        assert requests.get(me, headers=headers, timeout=10).status_code == 200
        assert "Traceback" not in server.log()
