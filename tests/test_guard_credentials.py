"""Guards for stored repository credentials at their exact limits (issue 14).

Credentials are the one secret GitLeague keeps for others; each check of
app/services/credentials.py is held here to its exact value and message.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from app.db import db
from app.errors import ConfigurationError, ValidationFailedError
from app.models import AuditLog, Repo
from app.services import credentials
from app.services.credentials import Credentials, CredentialsError
from tests.conftest import TEST_CONFIG

KEY = TEST_CONFIG["GITLEAGUE_ENCRYPTION_KEYS"]
TOKEN_RULE = "token: use 1 to 1024 characters"
TOKEN_SPACES = "token: must not contain spaces around it or line breaks"
USER_RULE = "username: use 1 to 255 characters"
USER_CHARS = "username: must not contain ':' or line breaks"


@pytest.mark.parametrize(
    ("token", "username", "error"),
    [
        ("t" * 1024, "u" * 255, None),
        ("t", None, None),
        ("t", "u", None),
        ("t" * 1025, None, TOKEN_RULE),
        ("", None, TOKEN_RULE),
        ("   ", None, TOKEN_RULE),
        (None, None, TOKEN_RULE),
        (7, None, TOKEN_RULE),
        (" t", None, TOKEN_SPACES),
        ("t\t", None, TOKEN_SPACES),
        ("a\rb", None, TOKEN_SPACES),
        ("a\nb", None, TOKEN_SPACES),
        ("a\x00b", None, TOKEN_SPACES),
        ("t", "u" * 256, USER_RULE),
        ("t", "", USER_RULE),
        ("t", 5, USER_RULE),
        ("t", "a:b", USER_CHARS),
        ("t", "a\rb", USER_CHARS),
        ("t", "a\nb", USER_CHARS),
        ("t", "a\x00b", USER_CHARS),
    ],
)
def test_token_and_username_rules(token, username, error):
    if error is None:
        assert credentials._check(token, username) == (token, username)
        return
    with pytest.raises(ValidationFailedError) as info:
        credentials._check(token, username)
    assert info.value.message == error


@pytest.mark.parametrize(("keys", "fragment"), [(None, "is not set"), (" , ", "is not set"),
                                                ("not-a-key", "not a Fernet key")])  # fmt: skip
def test_missing_or_bad_keys_are_a_configuration_error(keys, fragment):
    with pytest.raises(ConfigurationError) as info:
        credentials.keyring(keys)
    assert fragment in info.value.message


def test_the_first_key_encrypts_and_every_key_decrypts():
    new = Fernet.generate_key().decode()
    ring = credentials.keyring(f" {new} , {KEY} ")
    assert Fernet(new).decrypt(ring.encrypt(b"x")) == b"x"
    assert ring.decrypt(Fernet(KEY).encrypt(b"y")) == b"y"


def test_credentials_default_user_and_hidden_token():
    assert Credentials(token="s3cret").http_username == "x-access-token"
    assert Credentials(token="s3cret", username="ada").http_username == "ada"
    assert "s3cret" not in repr(Credentials(token="s3cret", username="ada"))
    assert CredentialsError.status == 409


@pytest.fixture
def repo_id(seed: Any) -> str:
    return seed.repo(seed.project(seed.actor()), sync_method="pull_celery")


def _set(app: Any, repo_id: str, **kwargs: Any) -> None:
    with app.app_context():
        repo = db.session.get(Repo, repo_id)
        credentials.set_credentials("cli", repo, keys=KEY, **kwargs)
        db.session.commit()


def _audit(app: Any, action: str) -> list[dict[str, Any]]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditLog.data).where(AuditLog.action == action).order_by(AuditLog.id)
            )
        )


def test_load_gives_back_what_was_set(app, repo_id):
    _set(app, repo_id, token="tok", username=None)
    _set(app, repo_id, token="tok2", username="ada")
    assert _audit(app, "credentials_set") == [
        {"username_set": False, "replaced": False},
        {"username_set": True, "replaced": True},
    ]
    with app.app_context():
        creds = credentials.load(db.session.get(Repo, repo_id), KEY)
    assert (creds.token, creds.username) == ("tok2", "ada")


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ("", "cannot decrypt credentials: GITLEAGUE_ENCRYPTION_KEYS is not set"),
        (Fernet.generate_key().decode(), "cannot decrypt credentials: none of"),
    ],
    ids=["no-keys", "wrong-key"],  # the generated key differs per pytest-xdist worker
)
def test_unusable_credentials_fail_closed(app, repo_id, keys, message):
    with app.app_context():
        repo = db.session.get(Repo, repo_id)
        with pytest.raises(CredentialsError, match="no credentials stored"):
            credentials.load(repo, KEY)
    _set(app, repo_id, token="tok", username=None)
    with app.app_context():
        with pytest.raises(CredentialsError) as info:
            credentials.load(db.session.get(Repo, repo_id), keys)
    assert info.value.message.startswith(message)


@pytest.mark.parametrize(
    ("before", "after"),
    [("needs_credentials", "never"), ("failing", "never"), ("healthy", "healthy")],
)
def test_setting_credentials_clears_only_a_credentials_or_failing_status(
    app, repo_id, before, after
):
    with app.app_context():
        db.session.get(Repo, repo_id).sync_status = before
        db.session.get(Repo, repo_id).last_error = "boom"
        db.session.commit()
    _set(app, repo_id, token="tok", username=None)
    with app.app_context():
        repo = db.session.get(Repo, repo_id)
        assert repo.sync_status == after
        assert repo.last_error == (None if after == "never" else "boom")


def test_clearing_says_whether_there_was_anything(app, repo_id):
    with app.app_context():
        repo = db.session.get(Repo, repo_id)
        repo.sync_status = "healthy"
        assert credentials.clear_credentials("cli", repo) is False
        assert repo.sync_status == "healthy"
        db.session.commit()
    _set(app, repo_id, token="tok", username=None)
    with app.app_context():
        repo = db.session.get(Repo, repo_id)
        assert credentials.clear_credentials("cli", repo) is True
        assert repo.credentials_encrypted is None and repo.credentials_updated_at is None
        assert repo.sync_status == "needs_credentials"
        db.session.commit()
    assert _audit(app, "credentials_cleared") == [{"had": False}, {"had": True}]


def test_credentials_need_the_write_scope(client, seed):
    owner = seed.actor()
    rid = seed.repo(seed.project(owner), sync_method="pull_celery")
    read_only = {"Authorization": f"Bearer {seed.key(owner, ('read:repos',))}"}
    url = f"/api/v1/repos/{rid}/credentials"
    put = client.put(url, json={"token": "t"}, headers=read_only)
    assert put.status_code == 403 and "write:repos" in put.json["error"]["message"]
    assert client.delete(url, headers=read_only).status_code == 403


def test_rotation_counts_each_row_once(app, seed):
    owner = seed.actor()
    project = seed.project(owner)
    ids = [seed.repo(project, sync_method="pull_celery") for _ in range(3)]
    seed.repo(project, sync_method="pull_celery")  # no credentials: not counted
    for rid in ids:
        _set(app, rid, token=f"t-{rid}", username=None)
    new = Fernet.generate_key().decode()
    with app.app_context():
        report = credentials.rotate_all(f"{new},{KEY}")
        assert (report.rotated, report.current, report.failed) == (3, 0, [])
        again = credentials.rotate_all(f"{new},{KEY}")
        assert (again.rotated, again.current, again.failed) == (0, 3, [])
        lost = credentials.rotate_all(Fernet.generate_key().decode())
        assert (lost.rotated, lost.current, sorted(lost.failed)) == (0, 0, sorted(ids))
        for rid in ids:
            assert credentials.load(db.session.get(Repo, rid), new).token == f"t-{rid}"


NEW_KEY = Fernet.generate_key().decode()


def _rotation_meets_a_writer(app: Any, database_url: str, repo_id: str, write_sql: str) -> Any:
    """Run rotate_all while another transaction holds ``repo_id``'s row; return its report.

    The writer changes the row first and commits only once the rotation waits
    for the row lock, so the rotation must work on the writer's committed row.
    """
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL only (SQLite serialises writers itself)")
    import threading
    import time

    writer = sa.create_engine(database_url)
    outcome: dict[str, Any] = {}

    def rotate() -> None:
        with app.app_context():
            try:
                outcome["report"] = credentials.rotate_all(f"{NEW_KEY},{KEY}")
            except Exception as exc:  # noqa: BLE001 - handed to the test thread
                outcome["error"] = exc

    params: dict[str, Any] = {"id": repo_id}
    if ":fresh" in write_sql:
        params["fresh"] = Fernet(NEW_KEY).encrypt(b'{"token": "fresh", "username": null}')
    try:
        with writer.connect() as conn:
            tx = conn.begin()
            conn.execute(sa.text(write_sql), params)
            thread = threading.Thread(target=rotate)
            thread.start()
            waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            for _ in range(600):  # until the rotation waits for this row (a minute at most)
                with writer.connect() as probe:
                    if probe.execute(sa.text(waiting)).scalar():
                        break
                time.sleep(0.1)
            tx.commit()
        thread.join(timeout=120)
    finally:
        writer.dispose()
    assert "error" not in outcome, outcome.get("error")
    return outcome["report"]


def test_rotation_does_not_undo_a_token_set_meanwhile(app, database_url, repo_id):
    _set(app, repo_id, token="old", username=None)
    sql = "UPDATE repos SET credentials_encrypted = :fresh WHERE id = :id"
    report = _rotation_meets_a_writer(app, database_url, repo_id, sql)
    assert (report.rotated, report.current, report.failed) == (0, 1, [])
    with app.app_context():
        assert credentials.load(db.session.get(Repo, repo_id), NEW_KEY).token == "fresh"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE repos SET credentials_encrypted = NULL WHERE id = :id",
        "DELETE FROM repos WHERE id = :id",
    ],
)
def test_rotation_skips_a_row_cleared_or_deleted_meanwhile(app, database_url, repo_id, sql):
    _set(app, repo_id, token="old", username=None)
    report = _rotation_meets_a_writer(app, database_url, repo_id, sql)
    assert (report.rotated, report.current, report.failed) == (0, 0, [])
