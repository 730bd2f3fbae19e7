"""Encrypted repository credentials for pull sync (personal access tokens).

Tokens are encrypted with cryptography's ``MultiFernet`` under
``GITLEAGUE_ENCRYPTION_KEYS`` (comma-separated, newest first: the first key
encrypts, every key decrypts). They are write-only: nothing here returns a
token except :func:`load`, which the pull job calls right before a fetch.
Audit entries record that credentials were set or cleared, never what.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ..db import db, utcnow
from ..errors import ConfigurationError, ConflictError, GitLeagueError, ValidationFailedError
from ..models import Repo, SyncStatus
from ..sync_methods import get_registry
from . import audit
from .auth import Principal

MAX_TOKEN_CHARS = 1024
MAX_USERNAME_CHARS = 255


class CredentialsError(GitLeagueError):
    """Stored credentials cannot be used (missing, or the keys cannot decrypt them)."""

    code = "credentials_unusable"
    status = 409


@dataclass(frozen=True)
class Credentials:
    """A decrypted token; its repr never shows the secret."""

    token: str = field(repr=False)
    username: str | None = None

    @property
    def http_username(self) -> str:
        """The basic-auth user name: the given one, else ``x-access-token`` (GitHub's)."""
        return self.username or "x-access-token"


def _fernets(keys: str | None) -> list[Fernet]:
    parts = [k.strip() for k in (keys or "").split(",") if k.strip()]
    if not parts:
        raise ConfigurationError("GITLEAGUE_ENCRYPTION_KEYS is not set: credentials are disabled")
    try:
        return [Fernet(k.encode()) for k in parts]
    except (ValueError, TypeError):
        raise ConfigurationError(
            "GITLEAGUE_ENCRYPTION_KEYS holds a value that is not a Fernet key"
        ) from None


def keyring(keys: str | None) -> MultiFernet:
    """The MultiFernet of ``GITLEAGUE_ENCRYPTION_KEYS``; refuses a missing or bad key."""
    return MultiFernet(_fernets(keys))


def _check(token: object, username: object) -> tuple[str, str | None]:
    if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN_CHARS:
        raise ValidationFailedError(f"token: use 1 to {MAX_TOKEN_CHARS} characters")
    if token != token.strip() or any(c in token for c in "\r\n\x00"):
        raise ValidationFailedError("token: must not contain spaces around it or line breaks")
    if username is not None:
        if not isinstance(username, str) or not 0 < len(username) <= MAX_USERNAME_CHARS:
            raise ValidationFailedError(f"username: use 1 to {MAX_USERNAME_CHARS} characters")
        if ":" in username or any(c in username for c in "\r\n\x00"):
            raise ValidationFailedError("username: must not contain ':' or line breaks")
    return token, username


def needs_credentials(repo: Repo) -> bool:
    """Whether ``repo``'s sync method uses stored credentials (asked of an empty repo)."""
    method = get_registry().get(repo.sync_method)
    probe = Repo(id=repo.id, sync_method=repo.sync_method, credentials_encrypted=None)
    return "credentials" in method.missing_requirements(probe)


def set_credentials(
    actor: Principal | str, repo: Repo, *, token: str, username: str | None, keys: str | None
) -> None:
    """Encrypt and store ``token`` for ``repo`` (a method that needs credentials)."""
    if isinstance(actor, Principal):
        actor.require_scope("write:repos")
    if not needs_credentials(repo):
        raise ConflictError(
            f"repository {repo.id} uses sync method '{repo.sync_method}', "
            "which does not use stored credentials",
            sync_method=repo.sync_method,
        )
    token, username = _check(token, username)
    payload = json.dumps({"token": token, "username": username}).encode()
    replaced = repo.has_credentials
    repo.credentials_encrypted = keyring(keys).encrypt(payload)
    repo.credentials_updated_at = utcnow()
    if repo.sync_status in (SyncStatus.NEEDS_CREDENTIALS.value, SyncStatus.FAILING.value):
        repo.sync_status, repo.last_error = SyncStatus.NEVER.value, None
    audit.record(
        "credentials_set",
        actor=actor,
        repo_id=repo.id,
        data={"username_set": username is not None, "replaced": replaced},
    )


def clear_credentials(actor: Principal | str, repo: Repo, *, reason: str | None = None) -> bool:
    """Delete the stored credentials; returns whether there were any.

    ``reason`` goes into the audit entry when the server, not the user, asked.
    """
    if isinstance(actor, Principal):
        actor.require_scope("write:repos")
    had = repo.has_credentials
    repo.credentials_encrypted = None
    repo.credentials_updated_at = None
    if had and needs_credentials(repo):
        repo.sync_status = SyncStatus.NEEDS_CREDENTIALS.value
    facts: dict[str, object] = {"had": had}
    if reason:
        facts["reason"] = reason
    audit.record("credentials_cleared", actor=actor, repo_id=repo.id, data=facts)
    return had


def load(repo: Repo, keys: str | None) -> Credentials:
    """Decrypt ``repo``'s credentials; :class:`CredentialsError` when unusable (fail closed)."""
    if repo.credentials_encrypted is None:
        raise CredentialsError("no credentials stored: set a token for this repository")
    try:
        ring = keyring(keys)
    except ConfigurationError as exc:
        raise CredentialsError(f"cannot decrypt credentials: {exc.message}") from None
    try:
        data = json.loads(ring.decrypt(repo.credentials_encrypted))
    except InvalidToken:
        raise CredentialsError(
            "cannot decrypt credentials: none of GITLEAGUE_ENCRYPTION_KEYS matches "
            "(a key was removed or changed); set the token again or restore the key"
        ) from None
    return Credentials(token=data["token"], username=data.get("username"))


@dataclass
class RotationReport:
    """What :func:`rotate_all` did."""

    rotated: int = 0
    current: int = 0
    failed: list[str] = field(default_factory=list)


def rotate_all(keys: str | None) -> RotationReport:
    """Re-encrypt every stored secret under the first key, one repo per transaction.

    Rows already under the first key are left alone, so a run killed half
    way and started again finishes the rest and loses nothing. Rows no key
    can decrypt are listed in ``failed`` and left untouched.
    """
    fernets = _fernets(keys)
    ring, first = MultiFernet(fernets), fernets[0]
    report = RotationReport()
    ids = list(
        db.session.scalars(
            sa.select(Repo.id).where(Repo.credentials_encrypted.is_not(None)).order_by(Repo.id)
        )
    )
    db.session.rollback()
    for repo_id in ids:
        repo = db.session.get(Repo, repo_id, with_for_update=True)
        if repo is None or repo.credentials_encrypted is None:
            db.session.rollback()
            continue
        try:
            first.decrypt(repo.credentials_encrypted)
            report.current += 1
            db.session.rollback()
            continue
        except InvalidToken:
            pass
        try:
            repo.credentials_encrypted = ring.rotate(repo.credentials_encrypted)
        except InvalidToken:
            report.failed.append(repo_id)
            db.session.rollback()
            continue
        db.session.commit()
        report.rotated += 1
    return report
