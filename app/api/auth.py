"""``POST /api/v1/auth/token``: email and password for a short-lived JWT."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from ..db import db
from ..errors import AuthenticationError
from ..limiter import failed_login, limiter, login_key
from ..schemas.auth import TokenIn, TokenOut
from ..services import audit
from ..services.auth import issue_token, login

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Log in")


def _login_limit() -> str:
    return str(current_app.config["GITLEAGUE_LOGIN_RATE_LIMIT"])


@blp.route("/token", methods=["POST"])
@limiter.limit(_login_limit, key_func=login_key, deduct_when=failed_login)
@blp.arguments(TokenIn)
@blp.response(200, TokenOut)
def token(body: dict[str, Any]) -> dict[str, Any]:
    """Exchange email and password for a JWT (failed attempts are rate-limited)."""
    user = login(body["email"], body["password"])
    if user is None:
        audit.record("login", actor=body["email"].strip().lower()[:254], data={"ok": False})
        db.session.commit()
        raise AuthenticationError("invalid email or password")
    cfg = current_app.config
    ttl = int(cfg["JWT_EXPIRES_SECONDS"])
    jwt = issue_token(
        user,
        secret=cfg["JWT_SECRET_KEY"],
        issuer=cfg["JWT_ISSUER"],
        audience=cfg["JWT_AUDIENCE"],
        ttl=ttl,
    )
    audit.record("login", actor=user.email, data={"ok": True})
    db.session.commit()
    return {"access_token": jwt, "token_type": "Bearer", "expires_in": ttl}
