"""``flask users|projects|repos list``: a lost id is one command away."""

from __future__ import annotations

import json

from tests.helpers import chain


def invoke(runner, *args):
    return runner.invoke(args=list(args))


def test_lists_show_ids_and_figures(runner, seed, client):
    alice = seed.actor("alice@example.org")
    bob = seed.actor("bob@example.org", admin=True)
    p1 = seed.project(alice, "Alpha")
    p2 = seed.project(bob, "Beta")
    seed.repo(p1, name="Frontend", repo_id="front-1")
    seed.repo(p1, name="Legacy", repo_id="legacy-1", sync_method="pull_celery")
    seed.repo(p2, name="Tools", repo_id="tools-1")
    pushed = client.post(
        "/api/v1/repos/front-1/commits", json={"commits": chain(3)}, headers=alice.headers()
    )
    assert pushed.status_code == 200, pushed.json

    users = invoke(runner, "users", "list", "--json")
    assert users.exit_code == 0, users.output
    assert [(u["email"], u["role"]) for u in json.loads(users.stdout)] == [
        ("alice@example.org", "commissioner"),
        ("bob@example.org", "admin"),
    ]

    projects = json.loads(invoke(runner, "projects", "list", "--json").stdout)
    assert [(p["id"], p["name"], p["owner"], p["repos"]) for p in projects] == [
        (p1, "Alpha", "alice@example.org", 2),
        (p2, "Beta", "bob@example.org", 1),
    ]
    mine = json.loads(
        invoke(runner, "projects", "list", "--owner", "alice@example.org", "--json").stdout
    )
    assert [p["id"] for p in mine] == [p1]

    repos = json.loads(invoke(runner, "repos", "list", p1, "--json").stdout)
    assert [(r["id"], r["sync_method"], r["status"], r["commits"]) for r in repos] == [
        ("front-1", "push_client", "never", 3),
        ("legacy-1", "pull_celery", "needs_credentials", 0),
    ]
    pull = json.loads(
        invoke(runner, "repos", "list", "--sync-method", "pull_celery", "--json").stdout
    )
    assert [(r["id"], r["project"]) for r in pull] == [("legacy-1", p1)]


def test_columns_put_the_id_first(runner, seed):
    project = seed.project(seed.actor("alice@example.org"), "Alpha")
    seed.repo(project, name="Frontend", repo_id="front-1")
    result = invoke(runner, "repos", "list", project)
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()
    assert header.split()[:3] == ["ID", "NAME", "SYNC_METHOD"]
    assert row.split()[:3] == ["front-1", "Frontend", "push_client"]


def test_unknown_filters_are_one_clean_line(runner, seed):
    seed.actor("alice@example.org")
    missing = invoke(runner, "repos", "list", "00000000-0000-0000-0000-000000000000")
    assert missing.exit_code == 1
    assert missing.output.strip() == "Error: Project not found"
    nobody = invoke(runner, "projects", "list", "--owner", "nobody@example.org")
    assert nobody.exit_code == 1
    assert "no user with email nobody@example.org" in nobody.output
    assert "Traceback" not in nobody.output + missing.output
