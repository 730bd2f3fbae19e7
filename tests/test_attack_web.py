"""Attack pass over the web UI: redirects after login, query values of the league page."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.web.helpers import csrf, login


@pytest.mark.parametrize(
    "target",
    ["/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/ /evil.example",
     "/\\evil.example", "//evil.example", "https://evil.example/", "/\x7f/evil.example"],
)  # fmt: skip
def test_next_after_login_never_leaves_this_server(client: Any, seed: Any, target: str) -> None:
    """Browsers drop tabs and newlines inside URLs: ``/\\t/evil`` is ``//evil``, another
    host; a newline made the redirect itself fail with a 500 after a good login."""
    seed.actor("ann@example.org")
    token = csrf(client.get("/login").get_data(as_text=True))
    data = {"email": "ann@example.org", "password": "password123", "csrf_token": token}
    resp = client.post("/login", data={**data, "next": target})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/projects"


def test_next_to_a_page_of_this_server_is_followed(client: Any, seed: Any) -> None:
    seed.actor("ann@example.org")
    token = csrf(client.get("/login").get_data(as_text=True))
    data = {"email": "ann@example.org", "password": "password123", "csrf_token": token}
    resp = client.post("/login", data={**data, "next": "/audit-log?action=login&period=day"})
    assert resp.headers["Location"] == "/audit-log?action=login&period=day"


@pytest.mark.parametrize(
    "query, named",
    [("period=fortnight", "period"), ("order=karma", "order"), ("on=2024-02-30", "on"),
     ("on=1969-12-31", "on"), ("on=99999-01-01", "on"), ("bots=yes", "bots"),
     ("period=%00", "period")],
)  # fmt: skip
def test_league_page_names_a_bad_query_value(
    client: Any, seed: Any, query: str, named: str
) -> None:
    """A bad value was silently replaced by the default: the page showed another
    period than the one asked for, and said nothing."""
    owner = seed.actor("ann@example.org")
    project = seed.project(owner)
    assert login(client, "ann@example.org").status_code == 302
    resp = client.get(f"/projects/{project}/league?{query}")
    assert resp.status_code in (400, 422), resp.status_code
    assert named.encode() in resp.data
    good = "period=week&order=lines&on=2024-02-29&bots=1"
    assert client.get(f"/projects/{project}/league?{good}").status_code == 200
    assert client.get(f"/projects/{project}/league").status_code == 200


def test_failed_web_logins_for_one_email_do_not_lock_out_another(database_url: str) -> None:
    """The web form counted failures per address only: behind one NAT or proxy, anyone
    mistyping locked every colleague out. Now per (address, email), as the API does."""
    from app.db import db
    from tests.helpers import Seed
    from tests.test_edges_outages import _outage_app

    app = _outage_app(database_url, GITLEAGUE_LOGIN_RATE_LIMIT="2 per minute")
    seed = Seed(app)
    seed.actor("ann@example.org")
    seed.actor("bob@example.org")
    client = app.test_client()
    codes = [login(client, "ann@example.org", "wrong-password").status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    assert login(client, "ANN@example.org ", "wrong-password").status_code == 429
    assert login(client, "bob@example.org").status_code == 302
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    "fields, named",
    [({"token": "t" * 1025}, b"1024"), ({"token": "ghp_x", "username": "u" * 256}, b"255"),
     ({"token": ""}, b"required")],
)  # fmt: skip
def test_a_bad_credentials_form_is_a_400_naming_the_field(
    client: Any, seed: Any, fields: dict[str, str], named: bytes
) -> None:
    """It was a redirect (302) with "Enter a token." whatever was wrong, e.g. a too long one."""
    from tests.web.helpers import post_form

    owner = seed.actor("ann@example.org")
    pull = seed.repo(seed.project(owner), sync_method="pull_celery")
    assert login(client, "ann@example.org").status_code == 302
    resp = post_form(client, f"/repos/{pull}/credentials", fields, page=f"/repos/{pull}")
    assert resp.status_code == 400, resp.status_code
    assert named in resp.data
    assert seed.get_repo(pull).credentials_encrypted is None


def test_another_owners_things_are_404_and_stay_as_they_were(app: Any, seed: Any) -> None:
    """The web reaches what the API's get_project/get_repo/get_key reach: someone
    else's ids answer 404 (not 403, which would confirm they exist) and change nothing."""
    from app.db import db
    from app.models import ApiKey, Repo

    seed.actor("ann@example.org")
    bob = seed.actor("bob@example.org")
    project = seed.project(bob, "Bob's")
    repo = seed.repo(project, sync_method="pull_celery")
    with app.app_context():
        key_id = db.session.scalar(sa.select(ApiKey.id).where(ApiKey.user_id == bob.user_id))
    client = app.test_client()
    assert login(client, "ann@example.org").status_code == 302
    pages = [f"/projects/{project}/repos", f"/projects/{project}/league",
             f"/projects/{project}/league/ada@example.org", f"/repos/{repo}",
             f"/repos/{repo}/edit", f"/repos/{repo}/delete", f"/repos/{repo}/credentials/delete",
             f"/settings/api-keys/{key_id}/revoke"]  # fmt: skip
    for page in pages:
        assert client.get(page).status_code == 404, page
    token = csrf(client.get("/projects").get_data(as_text=True))
    for url in [f"/repos/{repo}/delete", f"/repos/{repo}/credentials",
                f"/repos/{repo}/credentials/delete", f"/settings/api-keys/{key_id}/revoke",
                f"/repos/{repo}/edit", f"/projects/{project}/repos"]:  # fmt: skip
        data = {"csrf_token": token, "token": "ghp_x", "name": "mine", "branch": "main",
                "git_url": "https://example.org/a/b.git", "sync_method": "push_client"}  # fmt: skip
        assert client.post(url, data=data).status_code == 404, url
    with app.app_context():
        stored = db.session.get(Repo, repo)
        assert stored is not None and stored.credentials_encrypted is None
        assert stored.name != "mine"
        assert db.session.get(ApiKey, key_id).revoked_at is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Repo)) == 1


def test_the_id_field_is_offered_only_to_admins(client: Any, seed: Any) -> None:
    """A commissioner was offered "Id (optional)", which the service always refuses (403)."""
    from tests.web.helpers import post_form

    ann = seed.actor("ann@example.org")
    project = seed.project(ann)
    assert login(client, "ann@example.org").status_code == 302
    assert b'name="repo_id"' not in client.get(f"/projects/{project}/repos").data
    crafted = post_form(client, f"/projects/{project}/repos",
                        {"name": "N", "git_url": "https://example.org/a/n.git", "branch": "main",
                         "sync_method": "push_client", "repo_id": "chosen"})  # fmt: skip
    assert crafted.status_code == 403 and b"only admins choose" in crafted.data
    assert client.get("/repos/chosen").status_code == 404
    seed.actor("root@example.org", admin=True)
    admin = client.application.test_client()
    assert login(admin, "root@example.org").status_code == 302
    assert b'name="repo_id"' in admin.get(f"/projects/{project}/repos").data
