"""The login state: Flask-Login over Flask's signed session cookie.

The session names the user *and* a fingerprint of their password hash, so
changing the password (a reset by an admin included) ends every session that
was opened with the old one.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from flask import abort
from flask_login import UserMixin, current_user, login_required

from ..db import db
from ..models import User
from ..services.auth import Principal


def password_fingerprint(user: User) -> str:
    """A short digest of the password hash: it changes whenever the password does."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


class SessionUser(UserMixin):  # type: ignore[misc]
    """The logged-in user as Flask-Login sees it."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        """``<user id>:<password fingerprint>``, stored in the session cookie."""
        return f"{self.user.id}:{password_fingerprint(self.user)}"

    @property
    def principal(self) -> Principal:
        """The caller as the services know it: a user acting with every scope."""
        return Principal(user=self.user)


def load_session_user(session_id: str) -> SessionUser | None:
    """The user a session names, unless their password changed since it opened."""
    user_id, _, fingerprint = session_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or fingerprint != password_fingerprint(user):
        return None
    return SessionUser(user)


def principal() -> Principal:
    """The logged-in caller (views are wrapped in ``login_required``)."""
    return current_user.principal  # type: ignore[no-any-return]


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Log in first; then 403 for anyone but an admin."""

    @functools.wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.user.is_admin:
            abort(403, "Only admins may open this page.")
        return view(*args, **kwargs)

    return wrapper
