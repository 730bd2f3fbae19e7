"""``sync``: per configured repository, fetch, work out what is new, upload it in batches.

Repositories fail independently: each one's error ends up in its own
:class:`RepoResult`, and the others go on. Fetches may run ahead in threads
(:func:`sync_repos`); everything else happens in config order.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dulwich.repo import Repo

from gitleague_client.api import (
    ApiClient,
    RunId,
)
from gitleague_client.config import RepoConfig
from gitleague_client.errors import ClientError, ExitCode
from gitleague_client.extract import count_commits, iter_commits
from gitleague_client.fetch import (
    BranchNotFoundError,
    fetch_branch,
    init_clone,
    local_head,
    open_repo,
    origin_url,
    record_head,
    remove_failed_clone,
    scratch_repo,
)
from gitleague_client.incremental import Plan, plan_upload
from gitleague_client.mailmap import sync_mailmap
from gitleague_client.sshmux import SshMultiplexer, target_of
from gitleague_client.upload import Progress, ServerRepos, Uploader

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


@dataclass
class RepoResult:
    """The outcome of one repository's sync, as printed and as put in ``--json``."""

    project: str
    path: str
    name: str
    repo_id: str | None = None
    status: str = "failed"  # synced | up_to_date | dry_run | partial | failed
    new_commits: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: int = 0
    first_sha: str | None = None
    head_sha: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    hint: str | None = None
    exit_code: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for ``--json``."""
        return {k: v for k, v in self.__dict__.items() if k != "hint" or v}


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


def _fail(result: RepoResult, message: str, hint: str | None, code: int) -> None:
    result.status = "failed"
    result.error = message
    result.hint = hint
    result.exit_code = code


@contextlib.contextmanager
def _recorded(result: RepoResult) -> Iterator[None]:
    """Turn a repository's error into its failed result instead of raising it."""
    try:
        yield
    except ClientError as exc:
        _fail(result, exc.message, exc.hint, int(exc.exit_code))
    except Exception as exc:  # noqa: BLE001 - one repository's bug must not stop the others
        _fail(result, f"unexpected {type(exc).__name__}: {exc}", None, ExitCode.PARTIAL_FAILURE)


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
        self.ready = False
        self.fetched: Future[bytes] | None = None

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
        with _recorded(result):
            base = self.stack.enter_context(_existing_repo(cfg, options))
            git_url = cfg.git_url or (origin_url(base) if base is not None else None)
            if not git_url:
                raise ClientError(
                    f"no git_url in the config and no 'origin' remote in {cfg.path}",
                    hint="Add git_url to this repo in repos.yaml.",
                )
            self.server_repo = directory.find(cfg.project_id, git_url)
            result.repo_id = str(self.server_repo["id"])
            result.name = str(self.server_repo.get("name") or result.name)
            self.git_url = git_url
            self.branch = cfg.branch or self.server_repo.get("branch") or "main"
            target = _scan_target(cfg, options, base, git_url, self.branch)
            self.repo, self.is_new_clone = self.stack.enter_context(target)
            self.ready = True
            if options.fetch and pool is not None:
                self.fetched = pool.submit(self._fetch)

    def _fetch(self) -> bytes:
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
            )
        finally:
            self.fetch_seconds = time.monotonic() - started

    def finish(self, api: ApiClient, progress_factory: ProgressFactory | None) -> RepoResult:
        """Scan and upload (when prepared), close the repository, return the result."""
        started = time.monotonic()
        result = self.result
        with self.stack, _recorded(result):
            if self.ready:
                head = self._head()
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
                _run_plan(api, self.repo, plan, self.options, result, progress_factory)
                if not self.options.dry_run and result.status in ("synced", "up_to_date"):
                    sync_mailmap(api, result.repo_id or "", self.repo, head)
        elapsed = time.monotonic() - started
        result.seconds = round(self.seconds + self.fetch_seconds + elapsed, 3)
        return result

    def _head(self) -> bytes:
        cfg, repo, branch = self.cfg, self.repo, self.branch
        if not self.options.fetch:
            head = local_head(repo, branch)
            if head is None:
                raise BranchNotFoundError(branch, str(cfg.path))
            return head
        try:
            head = self.fetched.result() if self.fetched is not None else self._fetch()
        except ClientError:
            if self.is_new_clone:
                remove_failed_clone(repo)
            raise
        if not self.options.dry_run:
            record_head(repo, branch, head, self.git_url)
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


def _run_plan(
    api: ApiClient,
    repo: Repo,
    plan: Plan,
    options: SyncOptions,
    result: RepoResult,
    progress_factory: ProgressFactory | None,
) -> None:
    heads, exclude = [plan.head], plan.exclude
    count = 0 if plan.up_to_date else count_commits(repo, heads, exclude)
    result.new_commits = count
    if count == 0:
        result.status = "up_to_date"
        return
    result.batches = math.ceil(count / options.batch_size)
    if options.dry_run:
        # Parents come first, so the head is the last commit and the first is this one.
        first = next(iter(iter_commits(repo, heads, exclude)))
        result.first_sha = str(first["sha"])
        result.status = "dry_run"
        return
    repo_id = result.repo_id or ""
    run_id = api.start_run(repo_id)
    uploader = Uploader(api, repo_id, result, options.batch_size)
    result.batches = 0
    try:
        progress_cm = progress_factory(result, count) if progress_factory else None
        with progress_cm or contextlib.nullcontext(_no_progress) as progress:
            commits = iter_commits(repo, heads, exclude, workers=options.extract_workers)
            uploader.run(commits, run_id, progress)
    except ClientError as exc:
        _close_run(api, result, run_id, error=exc.message)
        raise
    except (KeyboardInterrupt, SystemExit):  # Ctrl-C, or SIGTERM (cli.main)
        _close_run(api, result, run_id, error="interrupted")
        raise
    if result.rejected:
        first = result.rejections[0]
        message = (
            f"{result.rejected} commits rejected by the server "
            f"(first: {str(first.get('sha'))[:7]}: {first.get('error')})"
        )
        _close_run(api, result, run_id, error=message)
        _fail(result, message, None, ExitCode.PARTIAL_FAILURE)
        result.status = "partial"
    else:
        _close_run(api, result, run_id, error=None)
        result.status = "synced"


def _no_progress(done: int) -> None:
    """Progress callback for when nobody watches."""


def _close_run(api: ApiClient, result: RepoResult, run_id: RunId, error: str | None) -> None:
    try:
        api.finish_run(
            result.repo_id or "",
            run_id,
            succeeded=error is None,
            head_sha=result.head_sha if error is None else None,
            error=error,
        )
    except ClientError as exc:
        # The commits are stored either way; the run stays open on the server.
        result.notes.append(f"could not close sync run {run_id}: {exc.message}")
