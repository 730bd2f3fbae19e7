"""Weekly charts of the pages: the last 52 weeks, from the league engine's activity.

One definition of weekly activity for the whole product: the engine's
(``app/services/league.py``), from the rollup, a commit counted in the UTC
week of its authored day. Here it only becomes the chart script's series.
"""

from __future__ import annotations

import datetime as dt

from ..services.league_periods import Window

CHART_WEEKS = 52


def today() -> dt.date:
    """Today in UTC."""
    return dt.datetime.now(dt.timezone.utc).date()


def recent(last: dt.date) -> Window:
    """The window the chart covers: from the Monday 51 weeks before ``last``'s to ``last``."""
    start = last - dt.timedelta(days=last.weekday(), weeks=CHART_WEEKS - 1)
    return Window(start, last + dt.timedelta(days=1), "custom")


def series(weeks: list[tuple[dt.date, int]], last: dt.date) -> dict[str, list[int]]:
    """``{"x": unix seconds of each Monday, "y": counts}``; weeks without commits are 0."""
    first = last - dt.timedelta(days=last.weekday(), weeks=CHART_WEEKS - 1)
    counts = dict(weeks)
    mondays = [first + dt.timedelta(weeks=i) for i in range(CHART_WEEKS)]
    return {
        "x": [int(dt.datetime.combine(m, dt.time(), dt.timezone.utc).timestamp()) for m in mondays],
        "y": [counts.get(m, 0) for m in mondays],
    }
