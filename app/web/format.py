"""Jinja filters: times as "3 hours ago", statuses as words and colours."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint

from ..db import utcnow

#: Status → (words shown, CSS class carrying the colour).
STATUS_WORDS = {
    "healthy": ("healthy", "ok"),
    "stale": ("stale", "warn"),
    "failing": ("failing", "bad"),
    "needs_credentials": ("needs credentials", "warn"),
    "never": ("never synced", "muted"),
    "succeeded": ("succeeded", "ok"),
    "failed": ("failed", "bad"),
    "running": ("running", "muted"),
}
_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600),
          ("minute", 60))  # fmt: skip


def timeago(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """``"3 hours ago"``; ``"never"`` for None."""
    if value is None:
        return "never"
    seconds = int(((now or utcnow()) - value).total_seconds())
    if seconds < 0:
        return "in the future"
    for unit, size in _UNITS:
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def exact(value: dt.datetime | None) -> str:
    """The exact UTC time, for the hover title."""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def status_words(status: str) -> str:
    """A status in words (``needs_credentials`` → ``needs credentials``)."""
    return STATUS_WORDS.get(status, (status.replace("_", " "), "muted"))[0]


def status_class(status: str) -> str:
    """The CSS class that colours a status."""
    return STATUS_WORDS.get(status, ("", "muted"))[1]


def first_line(message: str) -> str:
    """The subject line of a commit message."""
    return message.strip().splitlines()[0] if message.strip() else ""


def number(value: Any) -> str:
    """Thousands with thin separators: 12 345."""
    return f"{int(value or 0):,}".replace(",", "\u202f")


def register(bp: Blueprint) -> None:
    """Register the filters with the blueprint (before it is registered on an app)."""
    for func in (timeago, exact, status_words, status_class, first_line, number):
        bp.add_app_template_filter(func)
