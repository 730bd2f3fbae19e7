"""Shared start-up of the standalone scripts: find the package, build the app.

The scripts build the app from the same environment as the server
(``DATABASE_URL`` and the rest, see the README), so they reach the same
database. From a source checkout ``python scripts/x.py`` works without
installing: the repository root is put on ``sys.path``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def prepare_stdout() -> None:
    """Never crash on a character the terminal cannot show; replace it instead."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="replace")


def build_app() -> Any:
    """The GitLeague app, configured from the environment like the server."""
    from app import create_app

    return create_app()
