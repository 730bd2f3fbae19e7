"""Attack pass over the new entry points: odd inputs get a 4xx that names the problem.

Each test holds the input that once reached the database or the date
arithmetic and came back as a 500.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.helpers import login

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
