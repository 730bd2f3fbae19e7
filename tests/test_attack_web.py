"""Attack pass over the web UI: redirects after login, query values of the league page."""

from __future__ import annotations

from typing import Any

import pytest

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
