"""The ``.mailmap`` at a synced head, sent to the server when it changed.

The server merges authors with it when it reads the league (the commits
themselves are uploaded exactly as git has them). The file is read from the
head commit's tree with dulwich, not from a working tree, so a bare mirror
works too (the pull worker uses this module as well).
"""

from __future__ import annotations

from typing import Any, Protocol

from dulwich.object_store import tree_lookup_path
from dulwich.objects import Blob, Commit
from dulwich.repo import BaseRepo

from gitleague_client.api import ApiError

PATH = b".mailmap"
MAX_BYTES = 1_000_000


class _Api(Protocol):
    def request(self, method: str, path: str, **kwargs: Any) -> Any: ...


def mailmap_at(repo: BaseRepo, head: bytes) -> tuple[str, str] | None:
    """(blob id, text) of ``.mailmap`` in the tree of commit ``head``; None when absent."""
    commit = repo[head]
    if not isinstance(commit, Commit):
        return None
    try:
        _mode, sha = tree_lookup_path(repo.__getitem__, commit.tree, PATH)
    except KeyError:
        return None
    blob = repo[sha]
    if not isinstance(blob, Blob) or len(blob.data) > MAX_BYTES:
        return None
    return sha.decode("ascii"), blob.data.decode("utf-8", "replace")


def sync_mailmap(api: _Api, repo_id: str, repo: BaseRepo, head: bytes) -> bool:
    """Make the server's copy of the repo's ``.mailmap`` the one at ``head``; True if it changed."""
    found = mailmap_at(repo, head)
    try:
        stored = api.request("GET", f"/repos/{repo_id}/mailmap").get("blob_sha")
    except ApiError as exc:
        if exc.status in (404, 405):  # a server from before the league's identities
            return False
        raise
    if found is None:
        if stored is None:
            return False
        api.request("DELETE", f"/repos/{repo_id}/mailmap")
        return True
    if found[0] == stored:
        return False
    api.request("PUT", f"/repos/{repo_id}/mailmap",
                json={"blob_sha": found[0], "content": found[1]})  # fmt: skip
    return True
