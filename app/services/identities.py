"""Who is who in a league: raw git authors merged into people, bots set apart.

A raw author is the (name, email) pair git recorded. It becomes a person in
three steps, applied when reading so that a new ``.mailmap`` or alias
re-ranks the whole history without touching stored commits:

1. the ``.mailmap`` files of the project's repos, with git's own rules
   (``git check-mailmap``): emails and names match without case, an entry
   with a commit name wins over one without, a later line over an earlier;
2. the owner's aliases: "these emails are one person, shown as this name";
3. the person is the resulting email in lower case, shown with the
   mailmap's or alias's name when one is set.

Bots (``*[bot]`` names, ``*[bot]@users.noreply.github.com``, Dependabot,
Renovate, GitHub Actions, and the project's extra bot emails) are flagged so
the league can leave them out.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import sqlalchemy as sa
from dulwich.mailmap import read_mailmap

from ..db import db
from ..models import LeagueAlias, LeagueSettings, Repo, RepoMailmap

Identity = tuple[bytes | None, bytes | None]
_BOT_NAME = re.compile(r"\[bot\]$", re.IGNORECASE)
_BOT_EMAIL = re.compile(r"\[bot\]@users\.noreply\.github\.com$", re.IGNORECASE)
#: Local parts (and names) of well-known automation accounts.
_BOT_ACCOUNTS = frozenset(
    {"dependabot", "dependabot-preview", "renovate", "renovate-bot", "github-actions"}
)


class Person(NamedTuple):
    """Whom a raw author counts as."""

    key: str
    """The person's email in lower case: the identity in URLs and rows."""
    name: str | None
    """The name set by ``.mailmap`` or an alias; None: use the latest commit's."""
    is_bot: bool


@dataclass
class _Entry:
    """One email of a mailmap: the replacement, and replacements by commit name."""

    name: str | None = None
    email: str | None = None
    by_name: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


class Mailmap:
    """git's mailmap lookup over ``.mailmap`` texts (parsed by dulwich)."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self._entries: dict[str, _Entry] = {}
        for text in texts:
            self.add(text)

    def add(self, text: str) -> None:
        """Add the lines of one ``.mailmap`` file (later lines win, as in git)."""
        for (new_name, new_email), old in _entries(text):
            name, email = _text(new_name), _text(new_email)
            old_name, old_email = (None, None) if old is None else map(_text, old)
            if old_email is None:  # "Proper Name <commit@email>"
                old_email, email = email, None
            if old_email is None:
                continue
            entry = self._entries.setdefault(old_email.lower(), _Entry())
            if old_name is None:
                entry.name = name or entry.name
                entry.email = email or entry.email
            else:
                entry.by_name[old_name.lower()] = (name, email)

    def lookup(self, name: str, email: str) -> tuple[str, str]:
        """The (name, email) git shows for a commit by ``name <email>``."""
        new_name, new_email = self.replacement(name, email)
        return new_name or name, new_email or email

    def replacement(self, name: str, email: str) -> tuple[str | None, str | None]:
        """What the mailmap replaces in ``name <email>``; None where it keeps the commit's."""
        entry = self._entries.get(email.lower())
        if entry is None:
            return None, None
        return entry.by_name.get(name.lower(), (entry.name, entry.email))


def _entries(text: str) -> Iterator[tuple[Identity, Identity | None]]:
    """dulwich's reading of each line; a line it cannot read is skipped, as git does."""
    for line in text.encode("utf-8", "replace").splitlines():
        try:
            yield from read_mailmap(io.BytesIO(line))
        except ValueError:
            continue


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", "replace")


class Identities:
    """A project's rules, ready to map raw authors to people."""

    def __init__(
        self,
        mailmap: Mailmap | None = None,
        aliases: dict[str, tuple[str, str | None]] | None = None,
        bot_emails: Iterable[str] = (),
        include_bots: bool = False,
    ) -> None:
        self.mailmap = mailmap or Mailmap()
        self.aliases = aliases or {}
        self.bot_emails = frozenset(e.lower() for e in bot_emails)
        self.include_bots = include_bots
        self._cache: dict[tuple[str, str], Person] = {}

    def person(self, name: str, email: str) -> Person:
        """The person a commit by ``name <email>`` counts for."""
        found = self._cache.get((name, email))
        if found is None:
            found = self._cache[(name, email)] = self._resolve(name, email)
        return found

    def _resolve(self, name: str, email: str) -> Person:
        shown, mapped_email = self.mailmap.replacement(name, email)
        key = (mapped_email or email).lower()
        alias = self.aliases.get(key)
        if alias is not None:
            key, shown = alias[0], alias[1] or shown
        bot = self._is_bot(name, email.lower()) or (
            (shown is not None or key != email.lower()) and self._is_bot(shown or name, key)
        )
        return Person(key=key, name=shown, is_bot=bot)

    def _is_bot(self, name: str, email: str) -> bool:
        if email in self.bot_emails:
            return True
        both = name.lower() + email
        if "bot" not in both and "renovate" not in both and "github-actions" not in both:
            return False  # the common case, cheaply
        local = email.split("@", 1)[0]
        return (
            bool(_BOT_NAME.search(name.strip()) or _BOT_EMAIL.search(email))
            or local.removesuffix("[bot]") in _BOT_ACCOUNTS
            or name.strip().lower() in _BOT_ACCOUNTS
        )


def load(project_id: uuid.UUID, repo_id: str | None = None) -> Identities:
    """The rules of a project: its repos' ``.mailmap`` files (or one repo's), aliases, bots."""
    stmt = sa.select(RepoMailmap.content).join(Repo, Repo.id == RepoMailmap.repo_id)
    stmt = stmt.where(Repo.project_id == project_id).order_by(Repo.id)
    if repo_id is not None:
        stmt = stmt.where(Repo.id == repo_id)
    aliases = {
        a.email: (a.person_email, a.name)
        for a in db.session.scalars(
            sa.select(LeagueAlias).where(LeagueAlias.project_id == project_id)
        )
    }
    settings = db.session.get(LeagueSettings, project_id)
    return Identities(
        Mailmap(db.session.scalars(stmt)),
        aliases,
        bot_emails=settings.bot_emails if settings else (),
        include_bots=settings.include_bots if settings else False,
    )
