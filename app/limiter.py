"""Rate limiting (Flask-Limiter); storage is Redis when ``REDIS_URL`` is set.

Behind a reverse proxy every request comes from the proxy's address, so
``GITLEAGUE_TRUSTED_PROXIES`` (the number of proxies in front of the server)
lets Werkzeug's ProxyFix take the client address from ``X-Forwarded-For``.
Failed logins are counted per (client address, email): one attacker cannot
lock the other users out, nor one email lock out another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

limiter = Limiter(key_func=get_remote_address, default_limits=[])


def failed_login(response: Response) -> bool:
    """Only failed logins count against the login limit."""
    return response.status_code == 401


def login_key() -> str:
    """The failed-login counter: client address and the email tried (JSON body or web form)."""
    body: Any = request.get_json(silent=True) if request.is_json else request.form
    email = body.get("email") if isinstance(body, Mapping) else None
    if not isinstance(email, str):
        email = ""
    # Normalized like User.normalize_email, and storable as a Redis key even
    # when the body carries a NUL or a lone surrogate (refused later, 4xx).
    email = email.strip().lower()[:254].replace("\x00", "")
    email = email.encode("utf-8", "replace").decode("utf-8")
    return f"{get_remote_address()}|{email}"


def init_app(app: Flask) -> None:
    """Trust ``GITLEAGUE_TRUSTED_PROXIES`` proxies and bind the limiter to ``app``."""
    proxies = int(app.config.get("GITLEAGUE_TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies
        )
    limiter.init_app(app)
