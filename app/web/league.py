"""League table of a project, one contributor's page, the project's activity.

The league engine (``app/services/league.py``) is being rewritten with
periods, rank changes, identities and bots. Everything this page needs from
it goes through :func:`league_rows`, a thin adapter over today's
``league_table``: switching to the new engine means rewriting that one
function and nothing in the templates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, render_template, request
from flask_login import login_required

from ..db import utcnow
from ..services import activity
from ..services.league import league_table
from ..services.projects import get_project
from . import bp
from .session import principal

PERIODS = {
    "week": dt.timedelta(weeks=1),
    "month": dt.timedelta(days=30),
    "quarter": dt.timedelta(days=91),
    "year": dt.timedelta(days=365),
    "all": None,
}
#: Ranking → how a row is scored (higher first); ties keep the engine's order.
ORDERS = {
    "commits": lambda row: row["commits"],
    "lines": lambda row: (row["additions"] or 0) + (row["deletions"] or 0),
    "active_days": lambda row: row.get("active_days") or 0,
}
#: Rows read from today's engine, re-ranked here; the new engine ranks by itself.
MAX_ROWS = 100


def is_bot(row: dict[str, Any]) -> bool:
    """Today's engine has no bot flag: GitHub-style ``[bot]`` names and addresses."""
    if "is_bot" in row:
        return bool(row["is_bot"])
    return "[bot]" in (row.get("author_name") or "") or "[bot]" in row["author_email"]


def _ranked(project: Any, since: dt.datetime | None, until: dt.datetime | None, order: str,
            bots: bool) -> list[dict[str, Any]]:  # fmt: skip
    rows = league_table(project, since=since, until=until, per_page=MAX_ROWS).items
    rows = [dict(r) for r in rows if bots or not is_bot(r)]
    rows.sort(key=ORDERS[order], reverse=True)  # stable: the engine's order breaks ties
    for i, row in enumerate(rows, 1):
        row["rank"] = i
        row["emails"] = row.get("emails") or [row["author_email"]]
        row["lines"] = (row["additions"] or 0) + (row["deletions"] or 0)
    return rows


def league_rows(project: Any, period: str, order: str, bots: bool) -> list[dict[str, Any]]:
    """Rows ranked by ``order`` in ``period``, each with ``change`` against the period before.

    ``change``: places gained (negative: lost), ``None`` for a newcomer, and
    no comparison for ``all``.
    """
    span = PERIODS[period]
    now = utcnow()
    rows = _ranked(project, now - span if span else None, None, order, bots)
    if span is None:
        return rows
    before = {r["author_email"]: r["rank"] for r in _ranked(project, now - 2 * span, now - span,
                                                            order, bots)}  # fmt: skip
    for row in rows:
        previous = before.get(row["author_email"])
        row["change"] = None if previous is None else previous - row["rank"]
        row["new"] = previous is None
    return rows


def _choice(name: str, options: Any, default: str) -> str:
    value = request.args.get(name, default)
    return value if value in options else default


@bp.route("/projects/<project_id>/league")
@login_required
def league(project_id: str) -> str:
    """Period tabs, ranking choice, bots on request; the project's weekly activity."""
    project = get_project(principal(), project_id)
    period = _choice("period", PERIODS, "month")
    order = _choice("order", ORDERS, "commits")
    bots = request.args.get("bots") == "1"
    rows = league_rows(project, period, order, bots)
    # Offer a ranking only when the engine provides its figure.
    orders = [o for o in ORDERS if o != "active_days" or any("active_days" in r for r in rows)]
    weekly = activity.weekly_commits(project_id=project.id)
    return render_template(
        "web/league.html", project=project, rows=rows, period=period, order=order, bots=bots,
        periods=list(PERIODS), orders=orders, chart=activity.chart_series(weekly),
    )  # fmt: skip


@bp.route("/projects/<project_id>/league/<path:email>")
@login_required
def contributor(project_id: str, email: str) -> str:
    """One contributor: totals of all time and commits per week."""
    project = get_project(principal(), project_id)
    rows = [r for r in league_rows(project, "all", "commits", True) if email.lower() in r["emails"]]
    if not rows:
        abort(404, "No contributor with that email in this project.")
    weekly = activity.weekly_commits(project_id=project.id, author_email=email)
    return render_template("web/contributor.html", project=project, row=rows[0],
                           chart=activity.chart_series(weekly))  # fmt: skip
