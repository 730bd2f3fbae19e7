"""Talking to the server during a sync: finding repos, uploading batches."""

from __future__ import annotations

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
from gitleague_client.urls import normalize_git_url

if TYPE_CHECKING:
    from gitleague_client.sync import RepoResult

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
            matches = self._ask(project_id, git_url)
            if not matches:
                raise RepositoryNotFoundError(
                    f"no repo with git_url {git_url} in project {project_id}"
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
    """Sends commits in batches, halving the batch on 413, tracking the resume point.

    Every batch names its last commit as the resume sha: parents come first, so all its
    ancestors were sent before it. After a batch with rejected commits that no longer
    holds, so later batches name none and the server's resume point stays put.
    """

    def __init__(self, api: ApiClient, repo_id: str, result: RepoResult, batch_size: int):
        self.api = api
        self.repo_id = repo_id
        self.result = result
        self.batch_size = batch_size
        self.resume_ok = True

    def run(self, commits: Iterator[dict[str, Any]], run_id: RunId, progress: Progress) -> None:
        """Upload everything ``commits`` yields; only one batch is held in memory."""
        batch: list[dict[str, Any]] = []
        for commit in commits:
            batch.append(commit)
            if len(batch) >= self.batch_size:
                self.send(batch, run_id, progress)
                batch = []
        if batch:
            self.send(batch, run_id, progress)

    def send(self, batch: list[dict[str, Any]], run_id: RunId, progress: Progress) -> None:
        """Send one batch; split it in two, recursively, while the server says 413."""
        resume = str(batch[-1]["sha"]) if self.resume_ok else None
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
        self._count(batch, answer)
        progress(len(batch))

    def _count(self, batch: list[dict[str, Any]], answer: dict[str, Any]) -> None:
        result = self.result
        result.batches += 1
        result.inserted += int(answer.get("inserted", 0))
        result.duplicates += int(answer.get("duplicates", 0))
        rejected = answer.get("rejected") or []
        result.rejected += len(rejected)
        if rejected:
            self.resume_ok = False
        for item in rejected[: max(0, MAX_REJECTIONS_KEPT - len(result.rejections))]:
            index = item.get("index")
            sha = item.get("sha")
            if sha is None and isinstance(index, int) and 0 <= index < len(batch):
                sha = batch[index]["sha"]
            result.rejections.append({"sha": sha, "error": item.get("error")})
