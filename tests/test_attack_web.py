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
