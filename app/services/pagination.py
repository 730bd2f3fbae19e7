"""Paging of list endpoints: ``{"items", "total", "page", "per_page"}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..db import db

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
#: The last page number anyone may ask for (offsets stay inside a 64-bit integer).
MAX_PAGE = 1_000_000


@dataclass
class Page:
    """One page of a list and the size of the whole list."""

    items: list[Any]
    total: int
    page: int
    per_page: int


def paginate(query: sa.Select[Any], page: int, per_page: int) -> Page:
    """Run ``query`` for one page, counting the unpaged total."""
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=list(rows), total=int(total or 0), page=page, per_page=per_page)
