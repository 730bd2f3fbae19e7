"""The league of a project: contributors ranked, one contributor's page, weekly activity.

Everything is read from the rollup (app/services/rollup.py keeps it exact),
so a table costs the same at 50,000 and 500,000 commits: all time reads one
row per raw author, a period only that period's days.

A contributor is a person (app/services/identities.py): raw authors merged by
``.mailmap`` and aliases, keyed by their email in lower case. A commit counts
once per project even when several of its repos hold it. Merges are counted
apart. The name shown is the mailmap's or alias's, else the one on the
contributor's latest commit in the period. Bots are left out unless the
project's settings or the caller include them.

These functions are what the API and the web pages call; they take plain
arguments and return dataclasses.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..db import db
from ..models import Project, Repo
from . import identities, league_rows
from .identities import Identities
from .league_periods import Window, week_start
from .league_rows import Figures, Key

SORTS = ("commits", "lines", "active_days")


@dataclass(slots=True)
class Contributor:
    """One person's figures in a window, with the raw authors merged into them."""

    key: str
    name: str
    figures: Figures
    is_bot: bool
    keys: list[Key]
    rank: int = 0
    rank_change: int | None = None
    repos: int = 0

    @property
    def emails(self) -> list[str]:
        """The distinct emails (lower case) merged into this contributor."""
        return sorted({email.lower() for email, _ in self.keys})

    def as_row(self) -> dict[str, Any]:
        """The API's row: figures flattened beside rank, name and emails."""
        f = self.figures
        return {
            "rank": self.rank,
            "rank_change": self.rank_change,
            "author_name": self.name,
            "author_email": self.key,
            "emails": self.emails,
            "is_bot": self.is_bot,
            "commits": f.commits,
            "merges": f.merges,
            "additions": f.additions,
            "deletions": f.deletions,
            "lines_changed": f.lines_changed,
            "files_changed": f.files_changed,
            "active_days": f.active_days,
            "repos": self.repos,
            "first_commit_at": league_rows.utc(f.first_at),
            "last_commit_at": league_rows.utc(f.last_at),
        }


@dataclass
class LeaguePage:
    """One page of the table and the number of contributors in all."""

    items: list[Contributor]
    total: int
    page: int
    per_page: int


def _people(
    project: Project,
    window: Window,
    rules: Identities,
    *,
    repo: Repo | None,
    include_bots: bool,
    exact_days: bool = True,
) -> list[Contributor]:
    """Raw authors of the window merged into people, bots left out unless included."""
    repo_id = repo.id if repo is not None else None
    merged: dict[str, Contributor] = {}
    named: set[str] = set()  # people whose name a mailmap or alias set: it wins
    for key, figures in league_rows.author_figures(project.id, window, repo_id).items():
        person = rules.person(key[1], key[0])
        if person.is_bot and not include_bots:
            continue
        if person.name is not None:
            named.add(person.key)
        found = merged.get(person.key)
        if found is None:  # most people have one raw author: their figures as they are
            merged[person.key] = Contributor(
                person.key, person.name or key[1], figures, person.is_bot, [key]
            )
            continue
        if person.name is not None:
            found.name = person.name
        elif person.key not in named and figures.last_at > found.figures.last_at:
            found.name = key[1]  # the name on the latest commit
        if len(found.keys) == 1:
            found.figures = copy.copy(found.figures)  # not the reader's object
        found.figures.add(figures)
        found.keys.append(key)
    if exact_days:
        _merge_days(project, window, repo_id, [c for c in merged.values() if len(c.keys) > 1])
    return list(merged.values())


def _merge_days(
    project: Project, window: Window, repo_id: str | None, people: list[Contributor]
) -> None:
    # Two emails of one person on the same day are one active day.
    keys = [k for person in people for k in person.keys]
    days = league_rows.author_days(project.id, window, keys, repo_id)
    for person in people:
        person.figures.active_days = len(set().union(*(days.get(k, set()) for k in person.keys)))


_ORDER = {
    "commits": lambda c: (-c.figures.commits, -c.figures.lines_changed, c.key),
    "lines": lambda c: (-c.figures.lines_changed, -c.figures.commits, c.key),
    "active_days": lambda c: (-c.figures.active_days, -c.figures.commits, c.key),
}


def _ordered(people: list[Contributor], sort: str) -> list[Contributor]:
    ranked = sorted(people, key=_ORDER[sort])
    for i, person in enumerate(ranked):
        person.rank = i + 1
    return ranked


def league_table(
    project: Project,
    window: Window,
    *,
    sort: str = "commits",
    include_bots: bool | None = None,
    repo: Repo | None = None,
    page: int = 1,
    per_page: int = 30,
) -> LeaguePage:
    """The contributors of ``project`` (or of one of its repos) ranked over ``window``.

    ``sort`` is one of :data:`SORTS` (ties: the other of commits and lines,
    then email). ``include_bots`` None follows the project's setting. Each
    row's ``rank_change`` compares with the previous window of the same kind
    (positive: moved up; None: not ranked then, or no previous window).
    """
    rules = identities.load(project.id, repo.id if repo else None)
    bots = rules.include_bots if include_bots is None else include_bots
    ranked = _ordered(_people(project, window, rules, repo=repo, include_bots=bots), sort)
    offset = (page - 1) * per_page
    items = ranked[offset : offset + per_page]
    previous = window.previous()
    if previous is not None and items:
        before = _people(
            project, previous, rules, repo=repo, include_bots=bots, exact_days=sort == "active_days"
        )
        ranks = {c.key: c.rank for c in _ordered(before, sort)}
        for item in items:
            if item.key in ranks:
                item.rank_change = ranks[item.key] - item.rank
    _count_repos(project, window, items, repo)
    return LeaguePage(items=items, total=len(ranked), page=page, per_page=per_page)


def _count_repos(
    project: Project, window: Window, items: list[Contributor], repo: Repo | None
) -> None:
    if repo is not None:
        for item in items:
            item.repos = 1
        return
    keys = [k for item in items for k in item.keys]
    per_key = league_rows.author_repo_ids(project.id, window, keys)
    for item in items:
        item.repos = len(set().union(*(per_key.get(k, set()) for k in item.keys)))


@dataclass
class RepoShare:
    """A contributor's figures in one repo (a sha shared by repos counts in each)."""

    repo_id: str
    repo_name: str
    figures: Figures


@dataclass
class ContributorPage:
    """One contributor: totals, commits per week, and per repo."""

    contributor: Contributor
    weeks: list[tuple[dt.date, int, int]]
    """(Monday, commits, merges) for each week with commits, oldest first."""
    repos: list[RepoShare]


def contributor_page(project: Project, person_key: str, window: Window) -> ContributorPage:
    """The page of the contributor keyed ``person_key`` (an email, any case) over ``window``.

    Bots have pages too. Someone without commits in the window gets zeros.
    """
    rules = identities.load(project.id)
    people = _people(project, window, rules, repo=None, include_bots=True)
    key = person_key.lower()
    found = next((p for p in people if p.key == key), None)
    if found is None:
        found = Contributor(key, key, Figures(), rules.person("", key).is_bot, [])
    weeks: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    for monday, _key, commits, merges in league_rows.weekly(project.id, window, found.keys):
        weeks[monday][0] += commits
        weeks[monday][1] += merges
    stmt = sa.select(Repo.id, Repo.name).where(Repo.project_id == project.id)
    names = {rid: name for rid, name in db.session.execute(stmt)}
    per_repo: dict[str, Figures] = defaultdict(Figures)
    for by_repo in league_rows.author_repos(list(names), window, found.keys).values():
        for repo_id, figures in by_repo.items():
            per_repo[repo_id].add(figures)
    found.repos = len(per_repo)
    shares = [RepoShare(rid, names[rid], f) for rid, f in per_repo.items()]
    shares.sort(key=lambda s: (-s.figures.commits, s.repo_name))
    return ContributorPage(found, [(m, weeks[m][0], weeks[m][1]) for m in sorted(weeks)], shares)


@dataclass
class Week:
    """A week of a project's (or repo's) activity."""

    week: dt.date
    commits: int
    merges: int
    contributors: int


def activity(
    project: Project,
    window: Window,
    *,
    repo: Repo | None = None,
    include_bots: bool | None = None,
) -> list[Week]:
    """Commits, merges and active contributors (people, not emails) per week, oldest first."""
    rules = identities.load(project.id, repo.id if repo else None)
    bots = rules.include_bots if include_bots is None else include_bots
    weeks: dict[dt.date, Week] = {}
    people: dict[dt.date, set[str]] = defaultdict(set)
    rows = league_rows.weekly(project.id, window, repo_id=repo.id if repo else None)
    for monday, (email, name), commits, merges in rows:
        person = rules.person(name, email)
        if person.is_bot and not bots:
            continue
        week = weeks.get(monday)
        if week is None:
            week = weeks[monday] = Week(week_start(monday), 0, 0, 0)
        week.commits += commits
        week.merges += merges
        people[monday].add(person.key)
    for monday, week in weeks.items():
        week.contributors = len(people[monday])
    return [weeks[m] for m in sorted(weeks)]


def commits_per_week(
    project: Project, window: Window, *, repo: Repo | None = None
) -> list[tuple[dt.date, int]]:
    """Every commit, merges and bots included, per week, oldest first (weeks with commits only).

    What a repository holds, week by week: the weeks of :func:`activity`
    without its people, so no identities and one row a week.
    """
    rows = league_rows.weekly_totals(project.id, window, repo.id if repo else None)
    return [(monday, commits + merges) for monday, commits, merges in rows]
