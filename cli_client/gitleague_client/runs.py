"""A repository's sync run on the server: one for every sync, however it went.

Every non-dry sync of every repository the server knows is recorded as a run, one
with no new commits included, so that the server's ``last_sync_at`` means "the
client ran and was healthy". A repository that fails on this machine (fetch, a
missing branch, a corrupt clone) closes its run as failed with the error, so the
server shows it ``failing`` with ``last_error``; URLs in that error carry no user info.
"""

from __future__ import annotations

import contextlib
import math
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dulwich.errors import ChecksumMismatch, ObjectFormatException
from dulwich.repo import Repo

from gitleague_client.api import ApiClient, RunId
from gitleague_client.errors import ClientError, ExitCode
from gitleague_client.extract import count_commits, iter_commits
from gitleague_client.incremental import Plan
from gitleague_client.outcome import RepoResult, fail
from gitleague_client.text import printable
from gitleague_client.upload import Uploader
from gitleague_client.urls import redact_text

if TYPE_CHECKING:
    from gitleague_client.sync import ProgressFactory, SyncOptions

FSCK_HINT = (
    "Run `git fsck` in the repository to see what is damaged; `git fetch` (or a fresh\n"
    "clone at that path) restores missing objects, and the next sync carries on."
)


class CorruptRepositoryError(ClientError):
    """An object the history needs is missing or unreadable in the local repository."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(f"{path}: {what}; the repository is incomplete or corrupt", FSCK_HINT)


class RunKeeper:
    """The repository's run on the server, for one sync: opened late, always closed.

    A run is opened when there is something to upload (its batches name it); a sync
    with nothing to upload, or one that failed before uploading, is recorded as one
    finished run in a single request. A dry run, or a repo the server did not name,
    records nothing.
    """

    def __init__(self, api: ApiClient, result: RepoResult, options: SyncOptions) -> None:
        self.api = api
        self.result = result
        self.enabled = not options.dry_run
        self.run_id: RunId | None = None
        self.refused = False

    def open(self) -> RunId:
        """Open the run the upload's batches belong to."""
        try:
            self.run_id = self.api.start_run(self.result.repo_id or "")
        except ClientError:
            self.refused = True  # a repo on a pull method, an outage: nothing to record
            raise
        return self.run_id

    def close(self, *, interrupted: bool) -> None:
        """Close the run as the result says: succeeded with the head, or failed with why."""
        result = self.result
        if not self.enabled or result.repo_id is None or self.refused:
            return
        if interrupted:
            error: str | None = "interrupted"
        elif result.failed:
            # No user info, no control characters, no lone surrogates (a path that is
            # not UTF-8): the server stores the text and shows it as last_error.
            text = printable(redact_text(result.error or "failed"))
            error = text.encode("utf-8", "replace").decode("utf-8")
        else:
            error = None
        head = result.head_sha if error is None else None
        try:
            if self.run_id is None:
                if interrupted:
                    return  # nothing was sent: the next run says how it went
                self.api.record_run(result.repo_id, succeeded=error is None, head_sha=head,
                                    error=error)  # fmt: skip
                return
            run = self.api.finish_run(result.repo_id, self.run_id, succeeded=error is None,
                                      head_sha=head, error=error)  # fmt: skip
        except ClientError as exc:
            # The commits are stored either way; the next run closes this one as abandoned.
            result.notes.append(f"could not report the sync run to the server: {exc.message}")
            return
        _count_from_run(result, run)


def _count_from_run(result: RepoResult, run: dict[str, Any]) -> None:
    """Take ``inserted`` from the server's own count for the run.

    A batch whose answer was lost and that was sent again is answered "all
    duplicates" the second time: the batches' answers under-count, the run does not.
    """
    inserted = run.get("inserted")
    if not isinstance(inserted, int) or not result.batches:
        return
    result.inserted = inserted
    result.duplicates = max(0, result.new_commits - inserted - result.rejected)


@contextlib.contextmanager
def damaged_objects_fail(path: str) -> Iterator[None]:
    """Turn dulwich's missing (KeyError) or unreadable objects into a readable error."""
    try:
        yield
    except KeyError as exc:  # dulwich: an object is not in the store
        missing = exc.args[0] if exc.args else b"?"
        sha = missing.decode("ascii", "replace") if isinstance(missing, bytes) else str(missing)
        raise CorruptRepositoryError(path, f"object {sha} is missing") from None
    except (ChecksumMismatch, ObjectFormatException, zlib.error) as exc:
        raise CorruptRepositoryError(path, f"an object is unreadable ({exc})") from None


def run_plan(
    api: ApiClient,
    repo: Repo,
    plan: Plan,
    options: SyncOptions,
    result: RepoResult,
    progress_factory: ProgressFactory | None,
    keeper: RunKeeper,
) -> None:
    """Count, then upload (or, in a dry run, describe) what ``plan`` says is new."""
    heads, exclude = [plan.head], plan.exclude
    with damaged_objects_fail(result.path):
        count = 0 if plan.up_to_date else count_commits(repo, heads, exclude)
    result.new_commits = count
    if count == 0:
        result.status = "up_to_date"
        return
    if options.dry_run:
        result.batches = math.ceil(count / options.batch_size)
        # Parents come first, so the head is the last commit and the first is this one.
        with damaged_objects_fail(result.path):
            first = next(iter(iter_commits(repo, heads, exclude)))
        result.first_sha = str(first["sha"])
        result.status = "dry_run"
        return
    run_id = keeper.open()
    uploader = Uploader(api, result.repo_id or "", result, options.batch_size)
    progress_cm = progress_factory(result, count) if progress_factory else None
    with (
        damaged_objects_fail(result.path),
        progress_cm or contextlib.nullcontext(_no_progress) as progress,
    ):
        commits = iter_commits(repo, heads, exclude, workers=options.extract_workers)
        uploader.run(commits, run_id, progress)
    if result.rejected:
        first_rejected = result.rejections[0]
        message = (
            f"{result.rejected} commit{'s' if result.rejected != 1 else ''} rejected by the server "
            f"(first: {str(first_rejected.get('sha'))[:7]}: {first_rejected.get('error')})"
        )
        fail(result, message, None, ExitCode.PARTIAL_FAILURE)
        result.status = "partial"
    else:
        result.status = "synced"


def _no_progress(done: int) -> None:
    """Progress callback for when nobody watches."""
