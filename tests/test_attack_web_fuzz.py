"""The idea of test_edges_fuzz.py applied to the web forms: generated field values
(NUL, lone surrogates, huge numbers, long text, odd Unicode) sent as raw bytes to
every form never get a 5xx, and every answer is an HTML page (bounded: a few
hundred requests per database)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_edges_fuzz import nasty, text
from tests.web.helpers import csrf, login

EXAMPLES_PER_FORM = 15

#: A plausible value per form field; one of them gets twisted per example.
PLAUSIBLE = {
    "name": "n",
    "git_url": "https://example.org/a/x.git",
    "branch": "main",
    "sync_method": "push_client",
    "repo_id": "",
    "token": "ghp_x",
    "username": "u",
    "email": "new@example.org",
    "password": "password123456",
    "admin": "y",
    "scopes": "read:repos",
    "repo_ids": "r",
    "target": "push_client",
    "apply": "",
    "next": "/projects",
}


def _forms(ids: dict[str, str]) -> list[tuple[str, str, list[str]]]:
    """(form URL, page holding its token, fields) of every form the UI has."""
    project, repo, pull = ids["project"], ids["repo"], ids["pull"]
    return [
        ("/projects", "/projects", ["name"]),
        (f"/projects/{project}/repos", f"/projects/{project}/repos",
         ["name", "git_url", "branch", "sync_method", "repo_id"]),
        (f"/repos/{repo}/edit", f"/repos/{repo}/edit", ["name", "git_url", "branch"]),
        (f"/repos/{pull}/credentials", f"/repos/{pull}", ["token", "username"]),
        ("/settings/api-keys", "/settings/api-keys", ["name", "scopes"]),
        ("/admin/users", "/admin/users", ["email", "password", "admin"]),
        (f"/admin/users/{ids['other']}/password", f"/admin/users/{ids['other']}/password",
         ["password"]),
        ("/admin/migration", "/admin/migration", ["repo_ids", "target", "apply"]),
    ]  # fmt: skip


def _raw(value: str) -> str:
    # An attacker can send any bytes: lone surrogates go out as their (invalid) UTF-8.
    return quote_from_bytes(value.encode("utf-8", "surrogatepass"))


@pytest.fixture
def world(app: Any, seed: Any) -> dict[str, Any]:
    """An admin logged in, their project with a push and a pull repo, another user."""
    admin = seed.actor("adm@example.org", admin=True)
    project = seed.project(admin)
    ids = {"project": project, "repo": seed.repo(project),
           "pull": seed.repo(project, sync_method="pull_celery"),
           "other": str(seed.actor("bob@example.org").user_id)}  # fmt: skip
    client = app.test_client()
    assert login(client, "adm@example.org").status_code == 302
    return {"client": client, "forms": _forms(ids)}


def test_generated_form_values_get_no_5xx(world: dict[str, Any]) -> None:
    client = world["client"]
    for url, page, fields in world["forms"]:
        shown = client.get(page)
        assert shown.status_code == 200, (page, shown.status_code)
        token = csrf(shown.get_data(as_text=True))
        _fuzz(client, url, token, fields)


def _fuzz(client: Any, url: str, token: str, fields: list[str]) -> None:
    @settings(max_examples=EXAMPLES_PER_FORM, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(twisted=st.sampled_from(fields), value=st.one_of(nasty, nasty, text))
    def no_server_error(twisted: str, value: str) -> None:
        sent = {name: PLAUSIBLE[name] for name in fields} | {twisted: value}
        body = "&".join(f"{name}={_raw(v)}" for name, v in sent.items())
        resp = client.post(url, data=f"csrf_token={token}&{body}",
                           content_type="application/x-www-form-urlencoded")  # fmt: skip
        assert resp.status_code < 500, (url, twisted, value[:80], resp.get_data(as_text=True))
        assert resp.mimetype == "text/html", (url, resp.mimetype)

    no_server_error()
