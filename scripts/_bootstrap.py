"""Shared start-up of the standalone scripts: find the package, build the app.

The scripts build the app from the same environment as the server
(``DATABASE_URL`` and the rest, see the README), so they reach the same
database. From a source checkout ``python scripts/x.py`` works without
installing: the repository root is put on ``sys.path``, and a plain
``python`` without GitLeague's dependencies re-runs the script with the
project's ``.venv`` interpreter (the one ``scripts/serve.sh`` creates), so the
migration guide's commands work as typed without activating anything.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
# Set on the re-run so a broken .venv cannot make the script exec itself forever.
_REEXEC_MARK = "GITLEAGUE_SCRIPT_REEXEC"


def _has_dependencies() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("flask", "sqlalchemy"))


def ensure_dependencies() -> None:
    """Re-run under ``.venv/bin/python`` when this interpreter lacks the server's packages.

    Exits with status 2 and one line naming the fix when there is no usable
    ``.venv`` either.
    """
    if _has_dependencies():
        return
    if VENV_PYTHON.is_file() and not os.environ.get(_REEXEC_MARK):
        env = {**os.environ, _REEXEC_MARK: "1"}
        argv = [str(VENV_PYTHON), os.path.abspath(sys.argv[0]), *sys.argv[1:]]
        os.execve(str(VENV_PYTHON), argv, env)
    sys.stderr.write(
        f"Error: GitLeague's packages are not installed for {sys.executable}; "
        f"run scripts/serve.sh once (it creates {ROOT / '.venv'}) "
        "or activate the environment the server runs in.\n"
    )
    raise SystemExit(2)


if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
ensure_dependencies()


def prepare_stdout() -> None:
    """Never crash on a character the terminal cannot show; replace it instead."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="replace")


def build_app() -> Any:
    """The GitLeague app, configured from the environment like the server."""
    from app import create_app

    return create_app()
