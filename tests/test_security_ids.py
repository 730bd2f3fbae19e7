"""Creating a repo tells nobody whether another owner's repo holds an id (issue 9, item 7).

Ids are server-assigned by default; only admins (and the admin CLI) choose
them, as the migration guide's flows do (``abc123``). A commissioner's
chosen id gets one answer, whether the id is free or held by someone else.
"""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def held(seed) -> str:
    """Alice's repo ``secret-proj-x``."""
    return seed.repo(seed.project(seed.actor("alice@example.org")), repo_id="secret-proj-x")


def _create(client, pid: str, headers: dict[str, str], **extra: str):
    body = {"name": "x", "git_url": f"https://h.example/o/{extra.get('id', 'auto')}", **extra}
    return client.post(f"/api/v1/projects/{pid}/repos", json=body, headers=headers)


def test_a_taken_id_and_a_free_one_get_the_same_answer(client, seed, held):
    bob = seed.actor("bob@example.org")
    pid = seed.project(bob)
    taken = _create(client, pid, bob.headers(), id=held)
    free = _create(client, pid, bob.headers(), id="nobody-has-this")
    assert taken.status_code == free.status_code == 403
    assert taken.json == free.json
    assert taken.json["error"]["message"].startswith("id: only admins choose repository ids")
    assert held not in taken.get_data(as_text=True)


def test_without_an_id_the_server_assigns_a_random_one(client, seed):
    bob = seed.actor("bob@example.org")
    made = _create(client, seed.project(bob), bob.headers())
    assert made.status_code == 201 and re.fullmatch(r"[a-z0-9]{6}", made.json["id"])


def test_admins_choose_ids_and_hear_when_one_is_taken(client, seed, held):
    admin = seed.actor("root@example.org", admin=True)
    pid = seed.project(seed.actor("carol@example.org"))
    assert _create(client, pid, admin.headers(), id="abc123").status_code == 201
    again = _create(client, pid, admin.headers(), id=held)
    assert again.status_code == 409 and held in again.json["error"]["message"]


def test_the_admin_cli_still_takes_typed_ids(runner, seed):
    pid = seed.project(seed.actor())
    result = runner.invoke(
        args=[
            "repos",
            "add",
            pid,
            "--name",
            "A",
            "--git-url",
            "https://h.example/a",
            "--id",
            "abc123",
        ]
    )
    assert result.exit_code == 0 and result.output.strip() == "abc123"
