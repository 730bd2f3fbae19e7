"""Users: create, change role, reset password (CLI and web UI)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..db import db
from ..errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailedError
from ..models import Role, User
from . import audit
from .auth import Principal

MIN_PASSWORD_CHARS = 8


def all_users() -> sa.Select[Any]:
    """Every user, by email."""
    return sa.select(User).order_by(User.email)


def get_user(user_id: int) -> User:
    """The user with this id; 404 otherwise."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFoundError("User not found")
    return user


def _require_admin(actor: Principal | str) -> None:
    if isinstance(actor, Principal) and not actor.user.is_admin:
        raise PermissionDeniedError("only admins manage users")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationFailedError(f"password: use at least {MIN_PASSWORD_CHARS} characters")


def create_user(actor: Principal | str, email: str, password: str, *, admin: bool = False) -> User:
    """A new user; emails are unique ignoring case."""
    _require_admin(actor)
    if "@" not in email or len(email) > 254:
        raise ValidationFailedError(f"not an email address: {email}")
    _check_password(password)
    normalized = User.normalize_email(email)
    if db.session.scalar(sa.select(User.id).where(User.email == normalized)):
        raise ConflictError(f"a user with email {normalized} exists")
    user = User(email=normalized, role=(Role.ADMIN if admin else Role.COMMISSIONER).value)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", actor=actor, target=("user", str(user.id)),
                 data={"email": normalized, "role": user.role})  # fmt: skip
    return user


def set_admin(actor: Principal | str, user: User, admin: bool) -> User:
    """Make ``user`` an admin or a commissioner; an admin cannot demote themself."""
    _require_admin(actor)
    if isinstance(actor, Principal) and actor.user.id == user.id and not admin:
        raise ConflictError("you cannot remove your own admin role")
    role = (Role.ADMIN if admin else Role.COMMISSIONER).value
    if user.role != role:
        user.role = role
        audit.record("user_role_changed", actor=actor, target=("user", str(user.id)),
                     data={"email": user.email, "role": role})  # fmt: skip
    return user


def reset_password(actor: Principal | str, user: User, password: str) -> User:
    """Set a new password; the user's open web sessions end with the old one."""
    _require_admin(actor)
    _check_password(password)
    user.set_password(password)
    audit.record("user_password_reset", actor=actor, target=("user", str(user.id)),
                 data={"email": user.email})  # fmt: skip
    return user
