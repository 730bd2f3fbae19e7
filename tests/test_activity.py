"""Commits per week (app/services/activity.py) on both databases."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from app.services import activity
from tests.web.helpers import commit, push


def test_weeks_start_on_monday_utc_and_shared_commits_count_once(client: Any, seed: Any,
                                                                 app: Any) -> None:  # fmt: skip
    owner = seed.actor()
    project = seed.project(owner)
    one, two = seed.repo(project), seed.repo(project)
    sunday = commit("sun", "A", "a@example.org", "2024-03-10T23:30:00+00:00")
    monday = commit("mon", "A", "a@example.org", "2024-03-11T01:10:00+02:00")  # Sunday 23:10 UTC
    later = commit("tue", "B", "b@example.org", "2024-03-12T09:00:00Z")
    push(client, owner, one, [sunday, monday, later])
    push(client, owner, two, [later])
    now = dt.datetime(2024, 3, 13, tzinfo=dt.timezone.utc)
    pid = uuid.UUID(project)
    with app.app_context():
        weeks = activity.weekly_commits(project_id=pid, weeks=3, now=now)
        assert weeks == [(dt.date(2024, 2, 26), 0), (dt.date(2024, 3, 4), 2),
                         (dt.date(2024, 3, 11), 1)]  # fmt: skip
        assert activity.weekly_commits(repo_ids=[two], weeks=1, now=now) == [
            (dt.date(2024, 3, 11), 1)
        ]
        by_b = activity.weekly_commits(project_id=pid, author_email="B@example.org", now=now)
        assert sum(n for _, n in by_b) == 1 and len(by_b) == activity.DEFAULT_WEEKS
        series = activity.chart_series(weeks)
        assert series["y"] == [0, 2, 1] and series["x"][1] - series["x"][0] == 7 * 86400
