"""What decides who is who in a league: repos' ``.mailmap`` files, aliases, bot settings.

Changing any of these re-ranks the whole history at the next read
(app/services/identities.py applies them); no commit is touched.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..db import db, utcnow
from ..errors import NotFoundError, ValidationFailedError
from ..models import LeagueAlias, LeagueSettings, Project, Repo, RepoMailmap
from ..schemas.common import SHA_RE
from . import audit
from .auth import Principal

MAX_MAILMAP_BYTES = 1_000_000


def get_mailmap(repo: Repo) -> RepoMailmap | None:
    """The ``.mailmap`` stored for ``repo``, if any."""
    return db.session.get(RepoMailmap, repo.id)


def store_mailmap(repo_id: str, blob_sha: str, content: str) -> bool:
    """Keep ``content`` as the repo's ``.mailmap`` (the pull worker and the API); True if new."""
    if not SHA_RE.match(blob_sha):
        raise ValidationFailedError("blob_sha: must be 40 or 64 lowercase hex characters")
    if len(content.encode("utf-8", "replace")) > MAX_MAILMAP_BYTES:
        raise ValidationFailedError(f"content: at most {MAX_MAILMAP_BYTES} bytes")
    if "\x00" in content:
        raise ValidationFailedError("content: must not contain NUL characters")
    found = db.session.get(RepoMailmap, repo_id)
    if found is not None and found.blob_sha == blob_sha:
        return False
    if found is None:
        found = RepoMailmap(repo_id=repo_id)
        db.session.add(found)
    found.blob_sha, found.content, found.updated_at = blob_sha, content, utcnow()
    return True


def put_mailmap(principal: Principal, repo: Repo, blob_sha: str, content: str) -> RepoMailmap:
    """A client's upload of the ``.mailmap`` at its synced head (sync:commits)."""
    principal.require_scope("sync:commits")
    if store_mailmap(repo.id, blob_sha, content):
        audit.record("mailmap_updated", actor=principal, repo_id=repo.id,
                     data={"blob_sha": blob_sha})  # fmt: skip
    return db.session.get(RepoMailmap, repo.id)  # type: ignore[return-value]


def delete_mailmap(principal: Principal | None, repo_id: str) -> None:
    """The head has no ``.mailmap`` any more (sync:commits when a caller is given)."""
    if principal is not None:
        principal.require_scope("sync:commits")
    db.session.execute(sa.delete(RepoMailmap).where(RepoMailmap.repo_id == repo_id))


@dataclass
class AliasGroup:
    """Emails that count as one person, shown with ``name``."""

    person_email: str
    name: str | None
    emails: list[str]


def aliases(project: Project) -> list[AliasGroup]:
    """The project's alias groups, by person email."""
    groups: dict[str, AliasGroup] = {}
    rows = db.session.scalars(
        sa.select(LeagueAlias).where(LeagueAlias.project_id == project.id).order_by(
            LeagueAlias.person_email, LeagueAlias.email)
    )  # fmt: skip
    for row in rows:
        group = groups.setdefault(row.person_email, AliasGroup(row.person_email, row.name, []))
        group.emails.append(row.email)
    return list(groups.values())


def set_alias(
    actor: Principal | str, project: Project, emails: list[str], name: str | None
) -> AliasGroup:
    """Make ``emails`` one person (keyed by the first), shown as ``name``; returns the group.

    An email already in another group moves to this one.
    """
    if isinstance(actor, Principal):
        actor.require_scope("write:repos")
    cleaned = list(dict.fromkeys(e.strip().lower() for e in emails))
    if len(cleaned) < 1 or any("@" not in e or len(e) > 254 for e in cleaned):
        raise ValidationFailedError("emails: give one or more email addresses")
    person = cleaned[0]
    db.session.execute(
        sa.delete(LeagueAlias).where(
            LeagueAlias.project_id == project.id,
            sa.or_(LeagueAlias.email.in_(cleaned), LeagueAlias.person_email == person),
        )
    )
    for email in cleaned:
        db.session.add(LeagueAlias(project_id=project.id, email=email, person_email=person,
                                   name=name))  # fmt: skip
    audit.record("alias_set", actor=actor, target=("project", str(project.id)),
                 data={"emails": ", ".join(cleaned), "name": name or ""})  # fmt: skip
    return AliasGroup(person, name, sorted(cleaned))


def remove_alias(actor: Principal | str, project: Project, email: str) -> None:
    """Undo the group holding ``email``; 404 when it is in none."""
    if isinstance(actor, Principal):
        actor.require_scope("write:repos")
    person = db.session.scalar(
        sa.select(LeagueAlias.person_email).where(
            LeagueAlias.project_id == project.id, LeagueAlias.email == email.strip().lower()
        )
    )
    if person is None:
        raise NotFoundError(f"no alias for {email}")
    db.session.execute(
        sa.delete(LeagueAlias).where(
            LeagueAlias.project_id == project.id, LeagueAlias.person_email == person
        )
    )
    audit.record("alias_removed", actor=actor, target=("project", str(project.id)),
                 data={"person_email": person})  # fmt: skip


def settings(project_id: uuid.UUID) -> LeagueSettings:
    """The project's league settings (the defaults when never set; not added to the session)."""
    found = db.session.get(LeagueSettings, project_id)
    return found or LeagueSettings(project_id=project_id, include_bots=False, bot_emails=[])


def update_settings(
    principal: Principal | str, project: Project, changes: dict[str, Any]
) -> LeagueSettings:
    """Change ``include_bots`` and/or ``bot_emails`` (write:repos)."""
    if isinstance(principal, Principal):
        principal.require_scope("write:repos")
    found = db.session.get(LeagueSettings, project.id)
    if found is None:
        found = LeagueSettings(project_id=project.id, include_bots=False, bot_emails=[])
        db.session.add(found)
    if "include_bots" in changes:
        found.include_bots = bool(changes["include_bots"])
    if "bot_emails" in changes:
        found.bot_emails = sorted({e.strip().lower() for e in changes["bot_emails"]})
    audit.record("league_settings_updated", actor=principal, target=("project", str(project.id)),
                 data={"include_bots": found.include_bots, "bot_emails": len(found.bot_emails)})  # fmt: skip
    return found
