"""``GET /metrics`` in Prometheus' text format (prometheus-client).

Two kinds of figures:

- counted in the process that sees the event: requests by route and
  status, request latency, commits ingested. Under gunicorn each worker
  writes them to files in ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn.conf.py
  sets it up), and a scrape adds all workers' files up, whichever worker
  answers it;
- read at scrape time from their source, so they are right however many
  processes there are: sync runs by method and status (the ``sync_runs``
  table), seconds since each repo's last successful sync, the RQ queue's
  depth and failed jobs (Redis).

The endpoint is off (404) unless ``GITLEAGUE_METRICS_TOKEN`` is set; a
scrape sends it as ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, has_app_context, request
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from .db import db, utcnow
from .errors import AuthenticationError, NotFoundError, PermissionDeniedError

KEY = "gitleague.metrics"
TOKEN_SETTING = "GITLEAGUE_METRICS_TOKEN"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Request latency buckets (seconds): a 1,000-commit batch takes about 0.05-1 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@dataclass
class Metrics:
    """The app's counted metrics and the registry they live in."""

    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    commits: Counter


def init_app(app: Flask) -> None:
    """Create the app's metrics, time every request and add ``/metrics``."""
    app.config.setdefault(TOKEN_SETTING, os.environ.get(TOKEN_SETTING) or None)
    registry = CollectorRegistry(auto_describe=True)
    app.extensions[KEY] = Metrics(
        registry=registry,
        requests=Counter(
            "gitleague_http_requests",
            "HTTP requests answered, by method, route and status.",
            ["method", "route", "status"],
            registry=registry,
        ),
        latency=Histogram(
            "gitleague_http_request_duration_seconds",
            "Time to answer a request, by method and route.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        commits=Counter(
            "gitleague_commits_ingested",
            "Commits stored (new rows), by sync method.",
            ["method"],
            registry=registry,
        ),
    )
    registry.register(LiveCollector(app))
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.add_url_rule("/metrics", "metrics", scrape)


def count_commits(method: str, inserted: int) -> None:
    """Count ``inserted`` new commits of ``method`` (a no-op outside an app)."""
    metrics = current_app.extensions.get(KEY) if has_app_context() else None
    if metrics is not None and inserted:
        metrics.commits.labels(method).inc(inserted)


#: Methods counted by name; any other (a client can send any word) is "other",
#: so a caller cannot grow the number of time series without bound.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    metrics = current_app.extensions.get(KEY)
    if started is None or metrics is None:
        return response
    # The rule, not the path: /repos/<repo_id> is one series, not one per repo.
    route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
    method = request.method if request.method in KNOWN_METHODS else "other"
    metrics.requests.labels(method, route, str(response.status_code)).inc()
    metrics.latency.labels(method, route).observe(time.perf_counter() - started)
    return response


def scrape() -> Response:
    """The metrics, for a scraper holding the token."""
    token = current_app.config.get(TOKEN_SETTING)
    if not token:
        raise NotFoundError("metrics are off: set GITLEAGUE_METRICS_TOKEN to turn them on")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise AuthenticationError("send the metrics token as 'Authorization: Bearer <token>'")
    if not hmac.compare_digest(given.encode(), str(token).encode()):
        raise PermissionDeniedError("wrong metrics token")
    metrics: Metrics = current_app.extensions[KEY]
    registry = metrics.registry
    if os.environ.get(MULTIPROC_ENV):
        # Counted figures from every worker's files, live ones from here.
        registry = CollectorRegistry(auto_describe=True)
        multiprocess.MultiProcessCollector(registry)
        registry.register(LiveCollector(current_app._get_current_object()))  # type: ignore[attr-defined]
    # The format the scraper asks for (Accept): Prometheus' text format by
    # default, OpenMetrics when asked.
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return Response(encode(registry), headers={"Content-Type": content_type})


class LiveCollector(Collector):
    """Figures read from the database and Redis at each scrape."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def describe(self) -> list[Any]:
        """Nothing up front: describing would run the queries at registration."""
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Sync runs, time since each repo's last successful sync, the RQ queue."""
        up = GaugeMetricFamily("gitleague_database_up", "1 when the database answered this scrape.")
        with self.app.app_context():
            try:
                figures = list(_database_figures())
            except sa.exc.SQLAlchemyError:
                figures = []  # a scrape still answers, so an outage can be alerted on
            finally:
                db.session.rollback()
            up.add_metric([], 1 if figures else 0)
            yield up
            yield from figures
            yield from _queue_figures(self.app)


def _database_figures() -> Iterator[GaugeMetricFamily]:
    from .models import SyncRun

    runs = GaugeMetricFamily(
        "gitleague_sync_runs",
        "Sync runs recorded, by sync method and status (running, succeeded, failed).",
        labels=["method", "status"],
    )
    rows = db.session.execute(
        sa.select(SyncRun.method, SyncRun.status, sa.func.count()).group_by(
            SyncRun.method, SyncRun.status
        )
    )
    for method, status, count in rows:
        runs.add_metric([method, status], count)
    yield runs
    since = GaugeMetricFamily(
        "gitleague_seconds_since_last_successful_sync",
        "Seconds since the repo's last successful sync run finished (repos with one).",
        labels=["repo_id", "method"],
    )
    now = utcnow()
    last = db.session.execute(
        sa.select(SyncRun.repo_id, SyncRun.method, sa.func.max(SyncRun.finished_at))
        .where(SyncRun.status == "succeeded", SyncRun.finished_at.is_not(None))
        .group_by(SyncRun.repo_id, SyncRun.method)
    )
    newest: dict[str, tuple[str, Any]] = {}
    for repo_id, method, finished in last:
        if repo_id not in newest or finished > newest[repo_id][1]:
            newest[repo_id] = (method, finished)
    for repo_id, (method, finished) in sorted(newest.items()):
        since.add_metric([repo_id, method], max(0.0, (now - finished).total_seconds()))
    yield since


def _queue_figures(app: Flask) -> Iterator[GaugeMetricFamily]:
    from redis.exceptions import RedisError
    from rq.registry import FailedJobRegistry, StartedJobRegistry

    from .queue import get_queue, get_redis

    up = GaugeMetricFamily("gitleague_redis_up", "1 when Redis answered this scrape.")
    if get_redis(app) is None:
        return
    try:
        queue = get_queue(app)
        jobs = GaugeMetricFamily(
            "gitleague_rq_jobs", "Pull-sync jobs in the RQ queue, by state.", labels=["state"]
        )
        jobs.add_metric(["queued"], queue.count)
        # ZCARD, not the registries' count(), which also cleans them up: a
        # scrape changes nothing.
        for state, registry in (("started", StartedJobRegistry), ("failed", FailedJobRegistry)):
            key = registry(queue.name, connection=queue.connection).key
            jobs.add_metric([state], queue.connection.zcard(key))
    except RedisError:
        up.add_metric([], 0)
        yield up
        return
    up.add_metric([], 1)
    yield up
    yield jobs
