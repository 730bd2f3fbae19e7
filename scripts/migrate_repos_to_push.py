#!/usr/bin/env python
"""Migrate repositories from pull-based (pull_celery) to push-based (push_client) sync.

Usage, as in docs/migration-guide.md::

    python scripts/migrate_repos_to_push.py --status
    python scripts/migrate_repos_to_push.py --dry-run <repo_id>
    python scripts/migrate_repos_to_push.py <repo_id_1> <repo_id_2> ...
    python scripts/migrate_repos_to_push.py --all [--exclude-active [--active-within HOURS]]
    python scripts/migrate_repos_to_push.py --rollback <repo_id> ... [--dry-run]

Exit status: 0 when every repository was handled, 1 when any failed (unknown
id, already migrated, a hook error), 2 on wrong usage or unusable settings.
The same service runs behind ``flask --app wsgi migrate-sync``.
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The guide's flags, plus --from/--to and --json."""
    parser = argparse.ArgumentParser(
        prog="migrate_repos_to_push.py",
        description="Migrate repositories from pull_celery to push_client sync.",
    )
    parser.add_argument("repo_ids", nargs="*", metavar="REPO_ID")
    parser.add_argument("--status", action="store_true", help="show migration progress")
    parser.add_argument("--dry-run", action="store_true", help="show changes, write nothing")
    parser.add_argument(
        "--all", dest="all_repos", action="store_true", help="migrate every repository on --from"
    )
    parser.add_argument(
        "--exclude-active", action="store_true", help="skip repositories that are syncing right now"
    )
    parser.add_argument(
        "--active-within",
        type=float,
        metavar="HOURS",
        help="with --exclude-active: also skip repos synced within HOURS",
    )
    parser.add_argument(
        "--rollback",
        action="store_true",
        help="return repositories to the method before their last migration",
    )
    parser.add_argument(
        "--from",
        dest="source",
        default=None,
        metavar="METHOD",
        help="source method (default with --all: pull_celery)",
    )
    parser.add_argument(
        "--to",
        dest="target",
        default="push_client",
        metavar="METHOD",
        help="target method (default: push_client)",
    )
    parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    if args.status and (args.repo_ids or args.all_repos or args.rollback):
        parser.error("--status takes no repository ids, --all or --rollback")
    if args.rollback and (args.all_repos or not args.repo_ids):
        parser.error("--rollback needs repository ids")
    if not args.status and not args.rollback and bool(args.repo_ids) == args.all_repos:
        parser.error("give repository ids or --all (or --status)")
    if args.active_within is not None and args.active_within < 0:
        parser.error("--active-within must not be negative")
    return args


def run(args: argparse.Namespace) -> int:
    """Dispatch to the shared edge functions inside an app context."""
    from app.cli import migrate as edge

    out = sys.stdout
    if args.status:
        return edge.run_status(
            out,
            source=args.source or "pull_celery",
            target=args.target,
            as_json=args.as_json,
            health=False,
        )
    actor = edge.shell_actor("script")
    if args.rollback:
        return edge.run_rollback(
            out, repo_ids=args.repo_ids, dry_run=args.dry_run, as_json=args.as_json, actor=actor
        )
    return edge.run_migrate(
        out,
        repo_ids=args.repo_ids,
        target=args.target,
        source=args.source,
        all_repos=args.all_repos,
        exclude_active=args.exclude_active,
        active_within=args.active_within,
        dry_run=args.dry_run,
        as_json=args.as_json,
        actor=actor,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = parse_args(argv)
    _bootstrap.prepare_stdout()
    from sqlalchemy.exc import OperationalError

    from app.errors import GitLeagueError

    try:
        app = _bootstrap.build_app()
        with app.app_context():
            return run(args)
    except GitLeagueError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        print(f"error: cannot use the database: {exc.orig}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
