"""Helpers for the web UI tests: log in through the real form, read CSRF tokens."""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf(html: str) -> str:
    """The first CSRF token on a page."""
    match = _TOKEN.search(html)
    assert match, "no CSRF token on the page"
    return match[1] or match[2]


def login(client: Any, email: str, password: str = "password123") -> Any:
    """Log in through the login form; returns the response (302 on success)."""
    token = csrf(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def post_form(client: Any, url: str, data: dict[str, Any], page: str | None = None) -> Any:
    """POST ``data`` with the CSRF token read from ``page`` (default: ``url``)."""
    token = csrf(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def commit(sha_seed: str, name: str, email: str, when: str, adds: int = 1, dels: int = 0,
           **extra: Any) -> dict[str, Any]:  # fmt: skip
    """A pushed commit by ``name <email>``."""
    from tests.helpers import commit_json, fake_sha

    return commit_json(fake_sha(sha_seed), when=when, author_name=name, author_email=email,
                       additions=adds, deletions=dels, files_changed=1, **extra)  # fmt: skip


def push(client: Any, actor: Any, repo_id: str, commits: list[dict[str, Any]]) -> None:
    """Upload commits through the API, as the client does."""
    resp = client.post(f"/api/v1/repos/{repo_id}/commits", json={"commits": commits},
                       headers=actor.headers())  # fmt: skip
    assert resp.status_code == 200 and not resp.json["rejected"], resp.json
