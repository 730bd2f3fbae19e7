#!/usr/bin/env python
"""List a project's repositories: id, name, sync method, status, last sync.

Usage (the guide's "Strategy 3: By Project")::

    python scripts/list_repos_by_project.py <project_id>
    python scripts/list_repos_by_project.py <project_id> --ids     # ids only, one a line
    python scripts/migrate_repos_to_push.py $(python scripts/list_repos_by_project.py <pid> --ids)

Exit status: 0, 1 when the project does not exist, 2 on wrong usage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

import _bootstrap


def repo_rows(project_id: str) -> tuple[object, list[dict[str, object]]]:
    """The project and its repos as plain rows (inside an app context)."""
    from flask import current_app

    from app.db import db, utcnow
    from app.services import projects, repos

    project = projects.find_project(project_id)
    stale = dt.timedelta(seconds=current_app.config["GITLEAGUE_STALE_AFTER_SECONDS"])
    now = utcnow()
    rows = [
        {
            "id": r.id,
            "name": r.name,
            "sync_method": r.sync_method,
            "sync_status": r.effective_status(now, stale),
            "last_sync_at": r.last_sync_at.strftime("%Y-%m-%d %H:%M UTC")
            if r.last_sync_at
            else None,
            "last_ingested_sha": r.last_ingested_sha,
        }
        for r in db.session.scalars(repos.repos_of_project(project))
    ]
    return project, rows


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="list_repos_by_project.py", description=__doc__)
    parser.add_argument("project_id")
    parser.add_argument("--ids", action="store_true", help="print only the repository ids")
    parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    _bootstrap.prepare_stdout()
    from app.cli import migration_output as out
    from app.errors import GitLeagueError

    try:
        with _bootstrap.build_app().app_context():
            project, rows = repo_rows(args.project_id)
    except GitLeagueError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    if args.ids:
        lines = [str(r["id"]) for r in rows]
    elif args.as_json:
        lines = [
            json.dumps(
                {
                    "project": {"id": str(project.id), "name": project.name},  # type: ignore[attr-defined]
                    "repos": rows,
                },
                indent=2,
            )
        ]
    else:
        lines = out.project_lines(project, rows, out.symbols(sys.stdout))
    if lines:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
