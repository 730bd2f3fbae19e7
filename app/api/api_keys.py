"""API keys: create (shown once), list (masked), revoke."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from ..db import db
from ..schemas.auth import ApiKeyCreated, ApiKeyIn, ApiKeyOut, ApiKeyPage
from ..schemas.common import PageArgs
from ..services import api_keys as svc
from ..services.pagination import paginate
from .security import BEARER, principal
from .views import page_view

blp = Blueprint("api_keys", __name__, url_prefix="/api/v1/api-keys", description="API keys")


@blp.route("")
class ApiKeys(MethodView):
    """The caller's keys (needs the user's own JWT)."""

    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ApiKeyPage)
    @blp.doc(security=BEARER)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List keys, masked."""
        who = principal()
        who.require_user_token()
        page = paginate(svc.keys_of(who.user), args["page"], args["per_page"])
        return page_view(page, page.items)

    @blp.arguments(ApiKeyIn)
    @blp.response(201, ApiKeyCreated, headers={"Cache-Control": {"schema": {"type": "string"}}})
    @blp.doc(security=BEARER)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a key; the full key is in this response only."""
        who = principal()
        who.require_user_token()
        key, raw = svc.create(who, who.user, body["name"], body["scopes"])
        db.session.commit()
        shown = {name: getattr(key, name) for name in ("id", "name", "scopes", "created_at")}
        return {**shown, "key": raw}, 201, {"Cache-Control": "no-store"}


@blp.route("/<int:key_id>", methods=["DELETE"])
@blp.response(200, ApiKeyOut)
@blp.doc(security=BEARER)
def revoke(key_id: int) -> Any:
    """Revoke a key; it stops working on the very next request."""
    who = principal()
    who.require_user_token()
    key = svc.revoke(who, svc.get_key(who, key_id))
    db.session.commit()
    return key
