"""The repository page's commits per week: the league engine's activity of that repo."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

from app.db import db
from app.models import Project
from app.services import league
from app.services.league_periods import Window
from tests.web.helpers import commit, login, push


def _chart(html: str) -> dict[str, list[int]]:
    found = re.search(r'id="repo-weekly" class="chart-box" data-chart=\'([^\']+)\'', html)
    assert found, "no weekly chart on the page"
    return json.loads(found.group(1))


def test_repo_chart_counts_authored_weeks_with_bots_merges_and_shared_commits(
    client: Any, seed: Any, app: Any
) -> None:
    ann = seed.actor("ann@example.org")
    project = seed.project(ann)
    one, two = seed.repo(project, name="one"), seed.repo(project, name="two")
    now = dt.datetime.now(dt.timezone.utc)
    monday = dt.datetime.combine(now.date() - dt.timedelta(days=now.weekday()), dt.time(),
                                 dt.timezone.utc)  # fmt: skip

    def weeks_ago(weeks: int) -> str:  # a Wednesday noon, ``weeks`` weeks back
        return (monday - dt.timedelta(weeks=weeks) + dt.timedelta(days=2, hours=12)).isoformat()

    # Authored three weeks ago, committed (landed) just now: it counts when it was written.
    late = commit("late", "Ann", "ann@example.org", weeks_ago(3),
                  committed_at=(now - dt.timedelta(minutes=1)).isoformat())  # fmt: skip
    bot = commit("bot", "dependabot[bot]", "bot@example.org", weeks_ago(2))
    merge = commit("merge", "Ann", "ann@example.org", weeks_ago(1),
                   parents=[late["sha"], bot["sha"]])  # fmt: skip
    shared = commit("shared", "Bob", "bob@example.org", weeks_ago(1))
    # Monday 01:10 at UTC+2 is Sunday 23:10 UTC: the week before.
    plus_two = dt.timezone(dt.timedelta(hours=2))
    edge_at = dt.datetime.combine(monday.date() - dt.timedelta(weeks=1), dt.time(1, 10), plus_two)
    edge = commit("edge", "Ann", "ann@example.org", edge_at.isoformat())
    push(client, ann, one, [late, bot, merge, shared, edge])
    push(client, ann, two, [shared])
    login(client, "ann@example.org")

    html = client.get(f"/repos/{one}").get_data(as_text=True)
    chart = _chart(html)
    assert chart["y"][-4:] == [1, 2, 2, 0]  # the bot and the merge count: the repo stores them
    assert sum(chart["y"]) == 5 and "(5 in all)" in html
    assert len(chart["x"]) == 52 and chart["x"][-1] == int(monday.timestamp())
    assert _chart(client.get(f"/repos/{two}").get_data(as_text=True))["y"][-4:] == [0, 0, 1, 0]

    with app.app_context():  # the project's weeks count the shared commit once
        weeks = league.commits_per_week(db.session.get(Project, uuid.UUID(project)), Window())
        assert [n for _, n in weeks] == [1, 2, 2]
        assert [m for m, _ in weeks][-1] == (monday - dt.timedelta(weeks=1)).date()
