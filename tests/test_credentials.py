"""Encrypted repository credentials: write-only API and CLI, audit without secrets, rotation."""

from __future__ import annotations

import json

import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet

from app.db import db
from app.models import AuditLog, Repo
from app.services import credentials
from tests.conftest import TEST_CONFIG

SECRET = "ghp_" + "Zq9" * 12


def _pull_repo(seed, owner) -> str:
    return seed.repo(seed.project(owner), sync_method="pull_celery")


def _row(app, rid: str) -> Repo:
    with app.app_context():
        repo = db.session.get(Repo, rid)
        db.session.expunge(repo)
        return repo


def test_put_stores_encrypted_and_never_answers_the_token(app, client, seed):
    owner = seed.actor()
    rid = _pull_repo(seed, owner)
    assert _row(app, rid).sync_status == "needs_credentials"
    resp = client.put(
        f"/api/v1/repos/{rid}/credentials",
        json={"token": SECRET, "username": "ada"},
        headers=owner.headers(),
    )
    assert resp.status_code == 200
    assert resp.json["has_credentials"] is True and resp.json["sync_status"] == "never"
    assert SECRET not in resp.get_data(as_text=True)
    repo = _row(app, rid)
    assert SECRET.encode() not in repo.credentials_encrypted
    keyring = MultiFernet([Fernet(TEST_CONFIG["GITLEAGUE_ENCRYPTION_KEYS"])])
    assert json.loads(keyring.decrypt(repo.credentials_encrypted)) == {
        "token": SECRET,
        "username": "ada",
    }
    for path in (f"/api/v1/repos/{rid}", "/api/v1/audit-logs"):
        assert SECRET not in client.get(path, headers=owner.headers()).get_data(as_text=True)
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "credentials_set"))
        assert entry.repo_id == rid and SECRET not in json.dumps(entry.data) + entry.details


def test_delete_clears_and_audits(app, client, seed):
    owner = seed.actor()
    rid = _pull_repo(seed, owner)
    client.put(f"/api/v1/repos/{rid}/credentials", json={"token": SECRET}, headers=owner.headers())
    assert (
        client.delete(f"/api/v1/repos/{rid}/credentials", headers=owner.headers()).status_code
        == 204
    )
    repo = _row(app, rid)
    assert repo.credentials_encrypted is None and repo.sync_status == "needs_credentials"
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditLog.action).where(AuditLog.repo_id == rid).order_by(AuditLog.id)
        ).all()
    assert actions[-2:] == ["credentials_set", "credentials_cleared"]


def test_bad_bodies_and_push_repos_are_refused(app, client, seed):
    owner = seed.actor()
    rid = _pull_repo(seed, owner)
    url = f"/api/v1/repos/{rid}/credentials"
    for body, status in (
        ({}, 422),
        ({"token": ""}, 422),
        ({"token": "x" * 2000}, 422),
        ({"token": "a\nb"}, 422),
        ({"token": "t", "username": "a:b"}, 422),
        ({"token": "t", "extra": 1}, 422),
    ):
        resp = client.put(url, json=body, headers=owner.headers())
        assert resp.status_code == status, (body, resp.json)
    push = seed.repo(seed.project(owner))
    resp = client.put(
        f"/api/v1/repos/{push}/credentials", json={"token": "t"}, headers=owner.headers()
    )
    assert resp.status_code == 409 and "push_client" in resp.json["error"]["message"]
    assert _row(app, push).credentials_encrypted is None


def test_without_keys_nothing_is_stored(app, client, seed):
    owner = seed.actor()
    rid = _pull_repo(seed, owner)
    app.config["GITLEAGUE_ENCRYPTION_KEYS"] = ""
    resp = client.put(
        f"/api/v1/repos/{rid}/credentials", json={"token": "t"}, headers=owner.headers()
    )
    assert resp.status_code == 500
    assert "GITLEAGUE_ENCRYPTION_KEYS is not set" in resp.json["error"]["message"]
    assert _row(app, rid).credentials_encrypted is None


def test_cli_reads_the_token_from_env_or_prompt_never_argv(app, runner, seed):
    owner = seed.actor()
    rid = _pull_repo(seed, owner)
    result = runner.invoke(
        args=["repos", "set-credentials", rid], env={"GITLEAGUE_REPO_TOKEN": SECRET}
    )
    assert result.exit_code == 0 and SECRET not in result.output
    result = runner.invoke(
        args=["repos", "set-credentials", rid, "--username", "ada"], input="tok2\n"
    )
    assert result.exit_code == 0 and "tok2" not in result.output
    with app.app_context():
        repo = db.session.get(Repo, rid)
        creds = credentials.load(repo, app.config["GITLEAGUE_ENCRYPTION_KEYS"])
        assert (creds.token, creds.username) == ("tok2", "ada")
        assert "tok2" not in repr(creds)
    result = runner.invoke(args=["repos", "set-credentials", rid, "--clear"])
    assert result.exit_code == 0 and _row(app, rid).credentials_encrypted is None
    assert runner.invoke(args=["repos", "set-credentials", "nope"], input="x\n").exit_code == 1


def test_rotate_reencrypts_under_the_first_key_and_resumes(app, runner, seed):
    owner = seed.actor()
    old = TEST_CONFIG["GITLEAGUE_ENCRYPTION_KEYS"]
    ids = [_pull_repo(seed, owner) for _ in range(4)]
    for i, rid in enumerate(ids):
        runner.invoke(args=["repos", "set-credentials", rid], env={"GITLEAGUE_REPO_TOKEN": f"t{i}"})
    new = Fernet.generate_key().decode()
    app.config["GITLEAGUE_ENCRYPTION_KEYS"] = f"{new},{old}"
    # A run killed half-way: one repo was already rotated when it stopped.
    with app.app_context():
        repo = db.session.get(Repo, ids[0])
        repo.credentials_encrypted = MultiFernet([Fernet(new), Fernet(old)]).rotate(
            repo.credentials_encrypted
        )
        db.session.commit()
    result = runner.invoke(args=["credentials", "rotate"])
    assert result.exit_code == 0 and "rotated: 3, already current: 1" in result.output
    again = runner.invoke(args=["credentials", "rotate"])
    assert "rotated: 0, already current: 4" in again.output
    app.config["GITLEAGUE_ENCRYPTION_KEYS"] = new  # the old key can go now
    with app.app_context():
        for i, rid in enumerate(ids):
            creds = credentials.load(db.session.get(Repo, rid), new)
            assert creds.token == f"t{i}"


def test_rotate_reports_rows_no_key_decrypts(app, runner, seed):
    owner = seed.actor()
    rid = _pull_repo(seed, owner)
    runner.invoke(args=["repos", "set-credentials", rid], env={"GITLEAGUE_REPO_TOKEN": "t"})
    app.config["GITLEAGUE_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    result = runner.invoke(args=["credentials", "rotate"])
    assert result.exit_code == 1 and f"✗ {rid}" in result.output
    app.config["GITLEAGUE_ENCRYPTION_KEYS"] = ""
    result = runner.invoke(args=["credentials", "rotate"])
    assert result.exit_code == 1 and "GITLEAGUE_ENCRYPTION_KEYS is not set" in result.output
