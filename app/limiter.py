"""Rate limiting (Flask-Limiter); storage is Redis when ``REDIS_URL`` is set."""

from __future__ import annotations

from flask import Flask, Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[])


def failed_login(response: Response) -> bool:
    """Only failed logins count against the login limit."""
    return response.status_code == 401


def init_app(app: Flask) -> None:
    """Bind the limiter to ``app``."""
    limiter.init_app(app)
