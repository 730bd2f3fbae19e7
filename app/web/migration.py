"""Migration dashboard (admins): the guide's figures, then dry-run → apply.

Moves go through the same transition service as ``flask migrate-sync`` and
the migration API; a dry run writes nothing, and "Apply" re-plans and moves
each selected repo in its own transaction.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app, render_template

from ..db import db
from ..services import dashboard, migration
from ..services.audit import query as audit_query
from ..services.migration import DEFAULT_SOURCE, DEFAULT_TARGET
from ..sync_methods import get_registry
from . import bp
from .forms import MigrationForm, choice
from .session import admin_required, principal

RECENT_ENTRIES = 10


def _form(ages: list[dashboard.SyncAge]) -> MigrationForm:
    form = MigrationForm()
    form.repo_ids.choices = [choice(a.repo_id, a.name) for a in ages]
    form.target.choices = [choice(m.name, m.label) for m in get_registry()]
    if not form.target.data:
        form.target.data = DEFAULT_TARGET
    return form


def _stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=current_app.config["GITLEAGUE_STALE_AFTER_SECONDS"])


def _page(
    form: MigrationForm,
    ages: list[dashboard.SyncAge],
    report: migration.MigrationReport | None,
    status: int,
) -> tuple[str, int]:
    stale_after = _stale_after()
    recent = audit_query(visible_repo_ids=None, actor_user_id=None, action=migration.ACTION)
    return render_template(
        "web/migration.html",
        form=form,
        report=report,
        progress=dashboard.progress(source=DEFAULT_SOURCE, target=DEFAULT_TARGET),
        ages=ages,
        stale=[a for a in ages if a.status != "Recent"],
        rates={r.repo_id: r for r in dashboard.success_rates()},
        recent=db.session.scalars(recent.limit(RECENT_ENTRIES)).all(),
        stale_hours=int(stale_after.total_seconds() // 3600),
    ), status


@bp.route("/admin/migration", methods=["GET", "POST"], endpoint="migration")
@admin_required
def migration_page() -> tuple[str, int]:
    """Figures and the repo picker; a POST shows the dry-run plan or applies it."""
    ages = dashboard.last_sync_times(stale_after=_stale_after())
    form = _form(ages)
    if not form.validate_on_submit():
        return _page(form, ages, None, 400 if form.errors else 200)
    report = migration.migrate(
        principal(),
        target=form.target.data,
        repo_ids=form.repo_ids.data,
        dry_run=form.apply.data != "1",
        services=migration.transition_services(),
    )
    if report.dry_run:
        return _page(form, ages, report, 200)
    # Applied: the figures and the list changed; read them again.
    return _page(form, dashboard.last_sync_times(stale_after=_stale_after()), report, 200)
