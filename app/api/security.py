"""The caller of the current request, authenticated once per request."""

from __future__ import annotations

from flask import current_app, g, request

from ..services.auth import Principal, authenticate

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def principal() -> Principal:
    """The authenticated caller; raises 401 when the request proves nobody."""
    if "principal" not in g:
        cfg = current_app.config
        g.principal = authenticate(
            request.headers.get("Authorization"),
            jwt_settings={
                "secret": cfg["JWT_SECRET_KEY"],
                "issuer": cfg["JWT_ISSUER"],
                "audience": cfg["JWT_AUDIENCE"],
            },
        )
    return g.principal  # type: ignore[no-any-return]
