"""Attack pass: ``POST /api/v1/repos/<id>/pull-jobs`` with odd targets and Redis down."""

from __future__ import annotations

from typing import Any

from app.db import db
from tests.helpers import Seed
from tests.server import free_port
from tests.test_edges_outages import _outage_app


def test_pull_jobs_refuse_odd_targets_and_redis_down_is_a_retryable_503(
    database_url: str,
) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    app = _outage_app(database_url, REDIS_URL=dead, RATELIMIT_STORAGE_URI="memory://")
    seed = Seed(app)
    owner, stranger = seed.actor(), seed.actor()
    project = seed.project(owner)
    push = seed.repo(project)
    pull = seed.repo(project, sync_method="pull_celery",
                     git_url="https://github.com/example/pulled.git")  # fmt: skip
    client = app.test_client()
    jobs = "/api/v1/repos/{}/pull-jobs"

    def post(repo: str, who: Any = owner) -> Any:
        return client.post(jobs.format(repo), headers=who.headers())

    assert post(pull, stranger).status_code == 404  # another owner's repo: not found
    assert post("%00").status_code in (404, 422)
    assert post("x" * 5000).status_code == 404
    assert post(push).status_code == 409  # a push repo is not pulled
    assert post(pull).status_code == 409  # no credentials yet
    stored = client.put(f"/api/v1/repos/{pull}/credentials", json={"token": "ghp_x"},
                        headers=owner.headers())  # fmt: skip
    assert stored.status_code in (200, 204), stored.get_data(as_text=True)
    down = post(pull)
    assert down.status_code == 503, down.get_data(as_text=True)
    assert down.json["error"]["code"] == "queue_unavailable"
    assert int(down.headers["Retry-After"]) > 0
    with app.app_context():
        db.engine.dispose()
