"""Talking to the server during a sync: finding repos, uploading batches."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from gitleague_client.api import (
    REPO_NOT_FOUND_HINT,
    ApiClient,
    ApiError,
    PayloadTooLargeError,
    RunId,
)
from gitleague_client.errors import ClientError
from gitleague_client.urls import normalize_git_url, redact_url

if TYPE_CHECKING:
    from gitleague_client.outcome import RepoResult

#: Called with the number of commits just sent.
Progress = Callable[[int], None]


class RepositoryNotFoundError(ClientError):
    """The server has no repo for this project and git_url (the guide's message)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"Repository not found: {detail}", hint=REPO_NOT_FOUND_HINT)


class ServerRepos:
    """The server's repos of each project, listed once per command and matched locally.

    One paged list per project instead of two requests per repo keeps a sync of many
    up-to-date repos fast. Matching uses the same URL normalization as the server; a URL
    not found that way is asked of the server (``?git_url=``), whose answer decides.
    """

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self._by_project: dict[str, dict[str, dict[str, Any]]] = {}

    def find(self, project_id: str, git_url: str) -> dict[str, Any]:
        """The repo for ``git_url`` in the project, with ``last_ingested_sha`` and counts."""
        item = self._listed(project_id).get(normalize_git_url(git_url))
        if item is None:
            shown = redact_url(git_url)  # a token in the URL reaches no log, no screen
            matches = self._ask(project_id, shown)
            if not matches:
                raise RepositoryNotFoundError(
                    f"no repo with git_url {shown} in project {project_id}"
                )
            item = matches[0]
        if "last_ingested_sha" not in item or "commit_count" not in item:
            item = self.api.get_repo(str(item["id"]))
        return item

    def _listed(self, project_id: str) -> dict[str, dict[str, Any]]:
        if project_id not in self._by_project:
            items = self._ask(project_id, None)
            self._by_project[project_id] = {
                normalize_git_url(str(i["git_url"])): i for i in items if i.get("git_url")
            }
        return self._by_project[project_id]

    def _ask(self, project_id: str, git_url: str | None) -> list[dict[str, Any]]:
        try:
            return self.api.project_repos(project_id, git_url)
        except ApiError as exc:
            if exc.status == 404:
                raise RepositoryNotFoundError(f"project {project_id}: {exc.message}") from None
            raise


#: Rejected commits kept in the result (all of them are counted).
MAX_REJECTIONS_KEPT = 20


class Uploader:
    """Sends commits in batches, halving the batch on 413, moving the resume point.

    Every batch names its last commit as the resume sha: parents come first, so all its
    ancestors were sent before it. The server does not move its resume point for a
    batch with rejected commits (a date outside its range, say); resending them would
    fail the same way on every later sync and freeze the resume point, so such a batch
    is followed by its last accepted commit alone, naming itself: the rejected commits
    are reported in this run and skipped from then on.
    """

    def __init__(self, api: ApiClient, repo_id: str, result: RepoResult, batch_size: int):
        self.api = api
        self.repo_id = repo_id
        self.result = result
        self.batch_size = batch_size

    def run(self, commits: Iterator[dict[str, Any]], run_id: RunId, progress: Progress) -> None:
        """Upload everything ``commits`` yields, in order, batch after batch.

        ``commits`` is consumed in a thread, one batch ahead: the next batch is
        extracted while the previous one is in flight. Requests, progress and
        errors stay in this thread; at most three batches are held in memory.
        """
        with ReadAhead(commits, lambda: self.batch_size) as batches:
            for batch in batches:
                # Built before a 413 lowered the batch size: cut it to the new size.
                for start in range(0, len(batch), self.batch_size):
                    self.send(batch[start : start + self.batch_size], run_id, progress)

    def send(self, batch: list[dict[str, Any]], run_id: RunId, progress: Progress) -> None:
        """Send one batch; split it in two, recursively, while the server says 413."""
        resume = str(batch[-1]["sha"])
        try:
            answer = self.api.post_commits(self.repo_id, batch, run_id=run_id, resume_sha=resume)
        except PayloadTooLargeError as exc:
            if len(batch) == 1:
                raise ClientError(
                    f"commit {str(batch[0]['sha'])[:7]} alone is larger than the server "
                    f"accepts ({exc.message})"
                ) from None
            half = len(batch) // 2
            if half < self.batch_size:
                self.batch_size = half
                self.result.notes.append(
                    f"server refused {len(batch)} commits as too large: batches of {half} now"
                )
            self.send(batch[:half], run_id, progress)
            self.send(batch[half:], run_id, progress)
            return
        rejected = self._count(batch, answer)
        if rejected and len(batch) - 1 not in rejected:
            # Stored already: a duplicate now, but a batch without rejections.
            self.api.post_commits(self.repo_id, batch[-1:], run_id=run_id, resume_sha=resume)
        progress(len(batch))

    def _count(self, batch: list[dict[str, Any]], answer: dict[str, Any]) -> set[int]:
        """Add the answer to the result; return the indexes of the rejected commits."""
        result = self.result
        result.batches += 1
        result.inserted += int(answer.get("inserted", 0))
        result.duplicates += int(answer.get("duplicates", 0))
        rejected = answer.get("rejected") or []
        result.rejected += len(rejected)
        position = {str(c["sha"]): i for i, c in enumerate(batch)}
        indexes: set[int] = set()
        for item in rejected:
            index = item.get("index")
            if not isinstance(index, int) or not 0 <= index < len(batch):
                index = position.get(str(item.get("sha")), -1)
            indexes.add(index)
            if len(result.rejections) < MAX_REJECTIONS_KEPT:
                sha = item.get("sha") or (batch[index]["sha"] if index >= 0 else None)
                result.rejections.append({"sha": sha, "error": item.get("error")})
        return indexes


_END = object()


class ReadAhead:
    """Batches of an iterator, filled in a thread while the consumer works on the last one.

    Iterate inside ``with``: leaving the block (done, error, Ctrl-C) stops the
    thread and closes the iterator *in* that thread (a generator cannot be
    closed from another thread while it runs), so what it holds (the
    extraction's worker processes) is released before ``with`` ends. An
    exception of the iterator is raised to the consumer after the batches
    before it.
    """

    def __init__(self, items: Iterator[Any], size: Callable[[], int], depth: int = 1) -> None:
        self._items = items
        self._size = size
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fill, name="gitleague-extract", daemon=True)

    def __enter__(self) -> Iterator[list[Any]]:
        self._thread.start()
        return self._batches()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _batches(self) -> Iterator[list[Any]]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _fill(self) -> None:
        items = self._items
        try:
            batch: list[Any] = []
            for item in items:
                if self._stop.is_set():
                    return  # the consumer has left
                batch.append(item)
                if len(batch) >= self._size():
                    if not self._put(batch):
                        return
                    batch = []
            if batch and not self._put(batch):
                return
            self._put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self._put(exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def _put(self, item: Any) -> bool:
        """Queue ``item`` unless the consumer has left; False when it has."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False
