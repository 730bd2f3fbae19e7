"""``flask users|projects|repos|api-keys``: ids on stdout, messages on stderr."""

from __future__ import annotations

import sqlalchemy as sa

from app.db import db
from app.models import AuditLog, Repo


def invoke(runner, *args, input=None):
    return runner.invoke(args=list(args), input=input)


def test_setup_from_the_shell(runner, app, client):
    user = invoke(
        runner, "users", "create", "Boss@Example.org", "--admin", "--password", "s3cret-pass"
    )
    assert user.exit_code == 0, user.output
    assert user.stdout.strip() == "1"
    project = invoke(runner, "projects", "create", "My Project", "--owner", "boss@example.org")
    project_id = project.stdout.strip()
    assert project.exit_code == 0 and len(project_id) == 36
    repo = invoke(
        runner,
        "repos",
        "add",
        project_id,
        "--name",
        "My App",
        "--git-url",
        "git@github.com:org/app.git",
        "--id",
        "test-repo-1",
    )
    assert repo.exit_code == 0, repo.output
    assert repo.stdout.strip() == "test-repo-1"
    random_id = invoke(
        runner,
        "repos",
        "add",
        project_id,
        "--name",
        "Other",
        "--git-url",
        "https://github.com/org/o",
    ).stdout.strip()
    assert (
        len(random_id) == 6 and random_id.isalnum() and random_id.islower() or random_id.isdigit()
    )
    key = invoke(
        runner,
        "api-keys",
        "create",
        "--user",
        "boss@example.org",
        "--name",
        "Python CLI Client",
        "--scopes",
        "sync:commits,read:repos",
    )
    raw = key.stdout.strip()
    assert key.exit_code == 0 and raw.startswith("tgl_") and "\n" not in raw
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.json["projects"][0]["repo_count"] == 2
    revoke = invoke(runner, "api-keys", "revoke", "1")
    assert revoke.exit_code == 0 and revoke.stdout == ""
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
        assert actions == [
            "user_created",
            "project_created",
            "repo_created",
            "repo_created",
            "api_key_created",
            "api_key_revoked",
        ]
        details = " ".join(db.session.scalars(sa.select(AuditLog.details)))
        assert raw.split("_")[2] not in details


def test_password_prompt(runner):
    result = invoke(
        runner, "users", "create", "a@example.org", input="longpassword\nlongpassword\n"
    )
    assert result.exit_code == 0, result.output


def test_errors_are_clean_and_change_nothing(runner, app):
    invoke(runner, "users", "create", "a@example.org", "--password", "longpassword")
    pid = invoke(runner, "projects", "create", "P", "--owner", "a@example.org").stdout.strip()
    invoke(runner, "repos", "add", pid, "--name", "A", "--git-url", "https://github.com/org/a")
    cases = [
        (["users", "create", "a@EXAMPLE.org", "--password", "longpassword"], "exists"),
        (["users", "create", "b@example.org", "--password", "short"], "8 characters"),
        (["projects", "create", "P", "--owner", "nobody@example.org"], "no user"),
        (
            ["repos", "add", "not-a-uuid", "--name", "x", "--git-url", "https://h/o/r"],
            "Project not found",
        ),
        (
            ["repos", "add", pid, "--name", "dup", "--git-url", "git@github.com:org/a.git"],
            "already has that git_url",
        ),
        (["repos", "add", pid, "--name", "x", "--git-url", "ext::sh -c evil"], "git_url"),
        (
            ["repos", "add", pid, "--name", "x", "--git-url", "https://h/o/x", "--id", "Bad_Id"],
            "id:",
        ),
        (
            [
                "repos",
                "add",
                pid,
                "--name",
                "x",
                "--git-url",
                "https://h/o/y",
                "--sync-method",
                "nope",
            ],
            "sync method 'nope' is not installed (installed: pull_celery, push_client)",
        ),
        (
            ["api-keys", "create", "--user", "a@example.org", "--name", "k", "--scopes", "root"],
            "unknown scope",
        ),
        (["api-keys", "revoke", "99"], "no API key"),
    ]
    for args, fragment in cases:
        result = invoke(runner, *args)
        assert result.exit_code != 0, args
        assert fragment in result.output, (args, result.output)
        assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Repo)) == 1


def test_an_unmigrated_database_is_one_clean_line(tmp_path):
    from app import create_app

    empty = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/e.db"})
    runner = empty.test_cli_runner()
    for args in (
        ["users", "create", "a@example.org", "--password", "longpassword"],
        ["migrate-sync", "status"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, result.output
        assert "database error: no such table" in result.output
        assert "db upgrade" in result.output and "Traceback" not in result.output
