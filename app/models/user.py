"""Users: commissioners own projects; admins reach everything."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, validates
from werkzeug.security import check_password_hash, generate_password_hash

from ..db import UTCDateTime, db, utcnow


class Role(str, enum.Enum):
    """What a user may reach."""

    ADMIN = "admin"
    COMMISSIONER = "commissioner"


class User(db.Model):  # type: ignore[name-defined]
    """A person who logs in; emails are stored lower-cased, so unique ignoring case."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default=Role.COMMISSIONER.value)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.CheckConstraint("role IN ('admin', 'commissioner')", name="role"),)

    @validates("email")
    def _normalize(self, _key: str, value: str) -> str:
        return self.normalize_email(value)

    @staticmethod
    def normalize_email(email: str) -> str:
        """The stored form of an email address."""
        return email.strip().lower()

    def set_password(self, password: str) -> None:
        """Store a salted hash of ``password``."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Whether ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_admin(self) -> bool:
        """Admins reach every project."""
        return self.role == Role.ADMIN.value
