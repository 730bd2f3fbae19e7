"""Attack pass over the new entry points: odd inputs get a 4xx that names the problem.

Each test holds the input that once reached the database or the date
arithmetic and came back as a 500.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_from_bytes

import pytest
import sqlalchemy as sa

from app.db import db
from app.models import Project, Repo
from tests.web.helpers import csrf, login

HUGE = "99999999999999999999"


@pytest.mark.parametrize("url", ["/projects", "/audit-log", "/settings/api-keys", "/admin/users"])
def test_web_page_number_out_of_range_is_400(client: Any, seed: Any, url: str) -> None:
    seed.actor("adm@example.org", admin=True)
    assert login(client, "adm@example.org").status_code == 302
    resp = client.get(f"{url}?page={HUGE}")
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    assert b"page" in resp.data and b"1000000" in resp.data
    assert client.get(f"{url}?page=0").status_code == 400
    assert client.get(f"{url}?page=two").status_code == 400
    assert client.get(f"{url}?page=1").status_code == 200
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("name", ["on", "since", "until"])
def test_league_day_with_an_offset_past_year_9999_is_422(client: Any, seed: Any, name: str) -> None:
    owner = seed.actor()
    project = seed.project(owner)
    resp = client.get(
        f"/api/v1/projects/{project}/contributors?{name}=9999-12-31T23:59:59-23:59",
        headers=owner.headers(),
    )
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert resp.json["error"]["message"].startswith(name)
    earliest = "0001-01-01T00:00:00+23:59"
    resp = client.get(f"/api/v1/projects/{project}/contributors?{name}={earliest}",
                      headers=owner.headers())  # fmt: skip
    assert resp.status_code == 422, resp.get_data(as_text=True)


def _raw_form(client: Any, url: str, fields: dict[str, bytes], page: str | None = None) -> Any:
    """POST ``fields`` as raw bytes (what a script, not a browser, can send)."""
    token = csrf(client.get(page or url).get_data(as_text=True))
    body = "&".join(f"{k}={quote_from_bytes(v)}" for k, v in fields.items())
    return client.post(url, data=f"csrf_token={token}&{body}",
                       content_type="application/x-www-form-urlencoded")  # fmt: skip


@pytest.mark.parametrize("bad", [b"a\x00b", b"a\xed\xa0\x80b", b"a\xffb"])
def test_web_form_text_the_database_cannot_keep_is_refused(
    client: Any, seed: Any, bad: bytes
) -> None:
    """NUL was stored on SQLite (and refused by PostgreSQL); invalid UTF-8 was silently
    turned into U+FFFD and stored: both are now refused, naming the field, and nothing
    is stored."""
    owner = seed.actor("own@example.org")
    project = seed.project(owner)
    repo = seed.repo(project, name="kept", git_url="https://example.org/a/kept.git")
    assert login(client, "own@example.org").status_code == 302
    sent = [
        ("/projects", {"name": bad}),
        (f"/projects/{project}/repos", {"name": bad, "git_url": b"https://example.org/a/n.git",
                                        "branch": b"main", "sync_method": b"push_client"}),
        (f"/repos/{repo}/edit", {"name": b"kept", "git_url": b"https://example.org/a/kept.git",
                                 "branch": bad}),
    ]  # fmt: skip
    for url, fields in sent:
        resp = _raw_form(client, url, fields)
        assert resp.status_code in (400, 422), (url, resp.status_code)
        assert b"form field" in resp.data, resp.get_data(as_text=True)[-800:]
    with client.application.app_context():
        assert [p.name for p in db.session.scalars(sa.select(Project))] == ["My Project"]
        stored = db.session.scalars(sa.select(Repo)).all()
        assert [(r.name, r.branch) for r in stored] == [("kept", "main")]
