"""``sync``: per configured repository, fetch, work out what is new, upload it in batches.

Repositories fail independently: each one's error ends up in its own
:class:`RepoResult`, and the others go on. Fetches may run ahead in threads
(:func:`sync_repos`); everything else happens in config order.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from dulwich.repo import Repo

from gitleague_client import runs
from gitleague_client.api import ApiClient
from gitleague_client.config import RepoConfig
from gitleague_client.errors import ClientError
from gitleague_client.fetch import (
    BranchNotFoundError,
    ShallowCloneError,
    fetch_branch,
    init_clone,
    local_head,
    open_repo,
    origin_url,
    record_head,
    remove_failed_clone,
    scratch_repo,
)
from gitleague_client.incremental import plan_upload
from gitleague_client.mailmap import sync_mailmap
from gitleague_client.outcome import RepoResult, recorded
from gitleague_client.sshmux import SshMultiplexer, target_of
from gitleague_client.text import printable
from gitleague_client.upload import Progress, ServerRepos
from gitleague_client.urls import redact_url

__all__ = ["NO_NEW_COMMITS", "Progress", "RepoResult", "SyncOptions", "sync_repo", "sync_repos"]

NO_NEW_COMMITS = "No new commits"
NO_NEW_COMMITS_HINT = (
    "This is expected behavior: commits are deduplicated by SHA; "
    "only new commits since last_ingested_sha are sent."
)


@dataclass
class SyncOptions:
    """What the command line asked for."""

    batch_size: int = 100
    dry_run: bool = False
    fetch: bool = True
    fetch_workers: int = 8
    extract_workers: int = 1
    timeouts: tuple[float, float] = (10.0, 60.0)  # connect, read: HTTPS fetches too


#: Opens a progress display for a repository and its number of new commits.
ProgressFactory = Callable[[RepoResult, int], contextlib.AbstractContextManager[Progress]]


def sync_repos(
    api: ApiClient,
    repos: Iterable[RepoConfig],
    options: SyncOptions,
    progress_factory: ProgressFactory | None = None,
) -> Iterator[RepoResult]:
    """Sync the configured repositories; yield each one's result in config order.

    Fetches wait on the network or on ssh, not on Python, so up to
    ``options.fetch_workers`` of them run in threads ahead of the repository being
    scanned; scanning and uploading stay in this thread, one repository after another,
    so the output and the requests to the server keep the config's order. At most two
    repositories per worker are opened ahead, whatever the number configured.
    """
    directory = ServerRepos(api)
    configs = list(repos)
    with SshMultiplexer() as mux:
        if options.fetch:  # one SSH login per server for all its repositories
            logins = (target_of(c.git_url, c.ssh_key) for c in configs if c.git_url)
            mux.start(logins, workers=options.fetch_workers)
        yield from _sync_all(api, configs, options, progress_factory, directory, mux)


def _sync_all(
    api: ApiClient,
    configs: list[RepoConfig],
    options: SyncOptions,
    progress_factory: ProgressFactory | None,
    directory: ServerRepos,
    mux: SshMultiplexer,
) -> Iterator[RepoResult]:
    workers = options.fetch_workers if options.fetch else 1
    if workers <= 1:
        for cfg in configs:
            yield sync_repo(api, cfg, options, progress_factory, directory, mux)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gitleague-fetch")
    ahead: deque[_Job] = deque()
    pending = iter(configs)
    try:
        while True:
            while len(ahead) < 2 * workers and (nxt := next(pending, None)) is not None:
                ahead.append(_Job(nxt, options, mux).prepare(directory, pool))
            if not ahead:
                return
            yield ahead.popleft().finish(api, progress_factory)
    finally:
        # Interrupted: drop queued fetches, let running ones end, then close their repos.
        pool.shutdown(wait=True, cancel_futures=True)
        for job in ahead:
            job.stack.close()


def sync_repo(
    api: ApiClient,
    cfg: RepoConfig,
    options: SyncOptions,
    progress_factory: ProgressFactory | None = None,
    directory: ServerRepos | None = None,
    mux: SshMultiplexer | None = None,
) -> RepoResult:
    """Sync one configured repository; never raises for a problem of that repository.

    ``directory`` caches the server's repo lists across the repositories of one run;
    ``mux`` holds the run's shared SSH connections.
    """
    job = _Job(cfg, options, mux).prepare(directory or ServerRepos(api), None)
    return job.finish(api, progress_factory)


class _Job:
    """One repository's sync, split where its fetch may run in another thread.

    :meth:`prepare` (this thread) opens the repository and finds it on the server; the
    fetch then runs in ``pool``, or inside :meth:`finish` when there is no pool;
    :meth:`finish` (this thread) scans, uploads and closes what ``stack`` holds.
    """

    # Set by prepare(), when it gets that far (``ready``).
    server_repo: dict[str, Any]
    git_url: str
    branch: str
    repo: Repo
    is_new_clone: bool

    def __init__(
        self, cfg: RepoConfig, options: SyncOptions, mux: SshMultiplexer | None = None
    ) -> None:
        self.cfg = cfg
        self.options = options
        self.mux = mux
        self.result = RepoResult(project=cfg.project_name, path=str(cfg.path), name=cfg.path.name)
        self.stack = contextlib.ExitStack()
        self.seconds = 0.0
        self.fetch_seconds = 0.0  # written by the fetch's thread, read once it is done
        self.waited = 0.0  # time finish() spent on fetches (already in fetch_seconds)
        self.ready = False
        self.fetched: Future[bytes] | None = None
        self.base: Repo | None = None

    def prepare(self, directory: ServerRepos, pool: ThreadPoolExecutor | None) -> _Job:
        """Open the repository and its scan target; start the fetch when ``pool`` is given."""
        started = time.monotonic()
        try:
            self._open(directory, pool)
        finally:
            if not self.ready:  # failed (recorded in the result) or interrupted
                self.stack.close()
        self.seconds += time.monotonic() - started
        return self

    def _open(self, directory: ServerRepos, pool: ThreadPoolExecutor | None) -> None:
        cfg, options, result = self.cfg, self.options, self.result
        with recorded(result):
            base = self.base = self.stack.enter_context(_existing_repo(cfg, options))
            git_url = cfg.git_url or (origin_url(base) if base is not None else None)
            if not git_url:
                raise ClientError(
                    f"no git_url in the config and no 'origin' remote in {cfg.path}",
                    hint="Add git_url to this repo in repos.yaml.",
                )
            self.server_repo = directory.find(cfg.project_id, git_url)
            result.repo_id = str(self.server_repo["id"])
            result.name = printable(self.server_repo.get("name") or result.name)
            self.git_url = git_url
            self.branch = cfg.branch or self.server_repo.get("branch") or "main"
            target = _scan_target(cfg, options, base, git_url, self.branch)
            self.repo, self.is_new_clone = self.stack.enter_context(target)
            self.ready = True
            if options.fetch and pool is not None:
                self.fetched = pool.submit(self._fetch)

    def _fetch(self, unshallow: bool = False) -> bytes:
        started = time.monotonic()
        try:
            login = target_of(self.git_url, self.cfg.ssh_key)
            shared = self.mux.options(login) if self.mux else []
            return fetch_branch(
                self.repo,
                self.git_url,
                self.branch,
                self.cfg.ssh_key,
                ssh_extra=shared,
                timeouts=self.options.timeouts,
                unshallow=unshallow,
            )
        finally:
            self.fetch_seconds += time.monotonic() - started

    def finish(self, api: ApiClient, progress_factory: ProgressFactory | None) -> RepoResult:
        """Scan and upload (when prepared), close the repository, return the result.

        The repository's run on the server is closed last, whatever happened: a
        failure of this repository (from :meth:`prepare` too) is reported to the
        server as the run's error (see :class:`runs.RunKeeper`).
        """
        started = time.monotonic()
        result = self.result
        with self.stack:
            keeper = runs.RunKeeper(api, result, self.options)
            try:
                if self.ready and result.error is None:
                    with recorded(result):
                        self._upload(api, progress_factory, keeper)
            except (KeyboardInterrupt, SystemExit):  # Ctrl-C, or SIGTERM (cli.main)
                keeper.close(interrupted=True)
                raise
            keeper.close(interrupted=False)
        elapsed = time.monotonic() - started - self.waited
        # Each fetch counts once, whether it ran ahead in a thread or inside finish().
        result.seconds = round(self.seconds + self.fetch_seconds + elapsed, 3)
        return result

    @contextlib.contextmanager
    def _waiting(self) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.waited += time.monotonic() - started

    def _upload(
        self, api: ApiClient, progress_factory: ProgressFactory | None, keeper: runs.RunKeeper
    ) -> None:
        result = self.result
        head = self._full_history(self._head())
        result.head_sha = head.decode("ascii")
        plan = plan_upload(
            self.repo,
            head,
            self.server_repo.get("last_ingested_sha"),
            int(self.server_repo.get("commit_count") or 0),
            lambda shas: api.known_shas(result.repo_id or "", shas),
        )
        if plan.note:
            result.notes.append(plan.note)
        runs.run_plan(api, self.repo, plan, self.options, result, progress_factory, keeper)
        if not self.options.dry_run and result.status in ("synced", "up_to_date"):
            sync_mailmap(api, result.repo_id or "", self.repo, head)

    def _head(self) -> bytes:
        cfg, repo, branch = self.cfg, self.repo, self.branch
        if not self.options.fetch:
            head = local_head(repo, branch)
            if head is None:
                raise BranchNotFoundError(branch, str(cfg.path))
            return head
        try:
            with self._waiting():
                head = self.fetched.result() if self.fetched is not None else self._fetch()
        except ClientError:
            if self.is_new_clone:
                remove_failed_clone(repo)
            raise
        if not self.options.dry_run:
            record_head(repo, branch, head, self.git_url)
        return head

    def _full_history(self, head: bytes) -> bytes:
        """``head``, once the clone is no longer shallow; deepened from origin if need be.

        A shallow clone's oldest commits look like roots: sent as they are, they would
        be stored without parents and with their whole tree as their changes.
        """
        path = str(self.cfg.path)
        boundary = self.repo.get_shallow() | (self.base.get_shallow() if self.base else set())
        if not boundary:
            return head
        if not self.options.fetch:
            raise ShallowCloneError(path, "not deepened: --no-fetch was given")
        if self.options.dry_run:
            raise ShallowCloneError(path, "a dry run does not deepen it; a sync would")
        try:
            with self._waiting():
                head = self._fetch(unshallow=True)
        except ClientError as exc:
            raise ShallowCloneError(
                path, f"deepening it from origin failed: {exc.message}"
            ) from None
        if self.repo.get_shallow():
            raise ShallowCloneError(path, "the remote did not send the full history")
        self.result.notes.append(f"shallow clone deepened from {redact_url(self.git_url)}")
        record_head(self.repo, self.branch, head, self.git_url)
        return head


@contextlib.contextmanager
def _existing_repo(cfg: RepoConfig, options: SyncOptions) -> Iterator[Repo | None]:
    """The repository at ``cfg.path``, or None when it is still to be cloned."""
    if not cfg.path.exists():
        if not cfg.git_url:
            raise ClientError(
                f"{cfg.path} does not exist and no git_url is configured to clone it from"
            )
        if not options.fetch:
            raise ClientError(f"{cfg.path} does not exist; run without --no-fetch to clone it")
        yield None
        return
    repo = open_repo(cfg.path)
    try:
        yield repo
    finally:
        repo.close()


@contextlib.contextmanager
def _scan_target(
    cfg: RepoConfig, options: SyncOptions, base: Repo | None, git_url: str, branch: str
) -> Iterator[tuple[Repo, bool]]:
    """The repository to fetch into and scan, and whether it is a clone made just now.

    A dry run gets a scratch repository that borrows the real one's objects, so its
    fetch lands nowhere that lasts.
    """
    if options.dry_run and options.fetch:
        with scratch_repo(base) as scratch:
            yield scratch, False
    elif base is None:
        clone = init_clone(cfg.path, git_url, branch)
        try:
            yield clone, True
        finally:
            clone.close()
    else:
        yield base, False
