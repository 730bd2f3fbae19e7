"""The league table's columns: rank arrows only where a previous period exists."""

from __future__ import annotations

from typing import Any

from tests.web.helpers import commit, login, push


def test_all_time_has_no_empty_change_column(client: Any, seed: Any) -> None:
    ann = seed.actor("ann@example.org")
    project = seed.project(ann)
    push(client, ann, seed.repo(project), [commit("a", "Ann", "ann@example.org",
                                                  "2026-06-02T10:00:00Z")])  # fmt: skip
    login(client, "ann@example.org")
    month = client.get(f"/projects/{project}/league?period=month&on=2026-06-20")
    everything = client.get(f"/projects/{project}/league?period=all")
    assert month.status_code == everything.status_code == 200
    assert '<span class="sr-only">Change</span>' in month.get_data(as_text=True)
    html = everything.get_data(as_text=True)
    assert '<span class="sr-only">Change</span>' not in html and 'class="change"' not in html
    assert 'data-email="ann@example.org"' in html
