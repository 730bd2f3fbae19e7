"""League table of a project, one contributor's page, the project's activity.

Views over the league engine (``app/services/league.py``), the same calls
the API's league routes make: periods are calendar periods in UTC holding
``?on=`` (default today), rankings and bots are the engine's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, render_template, request
from flask_login import login_required

from ..errors import BadRequestError
from ..services import league as engine
from ..services.league_periods import PERIODS, Window, calendar_window
from ..services.projects import get_project
from . import bp, charts
from .session import principal

#: Rows shown on the page; the engine counts every contributor for the total.
PER_PAGE = 100


FIRST_DAY, LAST_DAY = dt.date(1970, 1, 1), dt.date(2099, 12, 31)


def _choice(name: str, options: Any, default: str) -> str:
    """A query value among ``options``; another value is a 400 naming it (not the default)."""
    value = request.args.get(name, default)
    if value not in options:
        raise BadRequestError(f"{name}: must be one of {', '.join(options)}")
    return str(value)


def _day(name: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` query value from 1970 to 2099 (None when missing), else a 400."""
    text = request.args.get(name)
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        raise BadRequestError(f"{name}: must be a day (YYYY-MM-DD) from {FIRST_DAY} to {LAST_DAY}")
    return day


def _row(person: engine.Contributor, window: Window) -> dict[str, Any]:
    """The engine's row plus what the arrows need: ``change`` and ``new``."""
    row = person.as_row()
    if window.previous() is not None:
        row["change"] = person.rank_change or 0
        row["new"] = person.rank_change is None
    return row


@bp.route("/projects/<project_id>/league")
@login_required
def league(project_id: str) -> str:
    """Period tabs, ranking choice, bots on request; the project's weekly activity."""
    project = get_project(principal(), project_id)
    period = _choice("period", PERIODS, "month")
    order = _choice("order", engine.SORTS, "commits")
    bots = _choice("bots", ("", "0", "1"), "") == "1"
    on = _day("on") or charts.today()
    window = calendar_window(period, on)
    page = engine.league_table(project, window, sort=order, include_bots=bots, per_page=PER_PAGE)
    weeks = engine.activity(project, charts.recent(charts.today()), include_bots=bots)
    previous = window.previous()
    return render_template(
        "web/league.html", project=project, rows=[_row(p, window) for p in page.items],
        total=page.total, period=period, order=order, bots=bots, periods=list(PERIODS),
        orders=list(engine.SORTS), window=window, on=on.isoformat(),
        last_day=(window.end - dt.timedelta(days=1)).isoformat() if window.end else None,
        earlier=previous.start.isoformat()
        if previous and previous.start and previous.start >= FIRST_DAY
        else None,
        chart=charts.series([(w.week, w.commits) for w in weeks], charts.today()),
    )  # fmt: skip


@bp.route("/projects/<project_id>/league/<path:email>")
@login_required
def contributor(project_id: str, email: str) -> str:
    """One contributor: totals of all time, commits per week, and per repo."""
    project = get_project(principal(), project_id)
    found = engine.contributor_page(project, email, Window())
    if not found.contributor.figures.commits and not found.contributor.figures.merges:
        abort(404, "No contributor with that email in this project.")
    weeks = [(monday, commits + merges) for monday, commits, merges in found.weeks]
    return render_template(
        "web/contributor.html", project=project, row=found.contributor.as_row(),
        repos=found.repos, chart=charts.series(weeks, charts.today()),
    )  # fmt: skip
