"""Periods of a league: calendar weeks, months, quarters and years in UTC, or free days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PERIODS = ("week", "month", "quarter", "year", "all")


@dataclass(frozen=True)
class Window:
    """UTC days ``start`` (included) to ``end`` (excluded); None: unbounded on that side."""

    start: dt.date | None = None
    end: dt.date | None = None
    kind: str = "all"
    """One of :data:`PERIODS`, or ``custom`` for free since/until."""

    @property
    def is_all(self) -> bool:
        """Whether this is the whole history."""
        return self.start is None and self.end is None

    def previous(self) -> Window | None:
        """The period of the same kind just before (rank changes); None when there is none."""
        if self.start is None or self.end is None:
            return None
        if self.kind == "custom":
            return Window(self.start - (self.end - self.start), self.start, "custom")
        return calendar_window(self.kind, self.start - dt.timedelta(days=1))


def _month_start(day: dt.date, months_back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def calendar_window(kind: str, on: dt.date) -> Window:
    """The calendar ``kind`` (week from Monday, month, quarter, year) that holds ``on``."""
    if kind == "all":
        return Window()
    if kind == "week":
        start = on - dt.timedelta(days=on.weekday())
        return Window(start, start + dt.timedelta(days=7), kind)
    if kind == "year":
        return Window(dt.date(on.year, 1, 1), dt.date(on.year + 1, 1, 1), kind)
    months = {"month": 1, "quarter": 3}[kind]
    start = dt.date(on.year, (on.month - 1) // months * months + 1, 1)
    return Window(start, _month_start(start, -months), kind)


def window(
    period: str | None = None,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    on: dt.date | None = None,
) -> Window:
    """The days a league covers: a calendar ``period`` holding ``on`` (default today, UTC),
    or the free days ``since``..``until`` (``until`` excluded), or everything."""
    if since is not None or until is not None:
        return Window(since, until, "custom")
    today = on or dt.datetime.now(dt.timezone.utc).date()
    return calendar_window(period or "all", today)


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())
