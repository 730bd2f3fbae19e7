"""What to send: the commits reachable from the head and not already on the server.

The server's ``last_ingested_sha`` is the cheap answer. When it is missing locally or
no longer an ancestor of the head (force push, rewritten history, a repository that
moved over from pull), the client asks the server which of up to 500 candidate
commits it has (recent first-parent history, then exponentially spaced further back)
and excludes those. Either way the decision is explained in ``note``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dulwich.graph import can_fast_forward
from dulwich.objects import Commit
from dulwich.repo import BaseRepo

from gitleague_client.fetch import as_sha

#: Most candidates one ``/commits/known`` call takes.
MAX_CANDIDATES = 500
#: How many consecutive first-parent commits come before the spacing widens.
RECENT_CANDIDATES = 400


@dataclass
class Plan:
    """Where extraction starts (``head``) and stops (``exclude``), and why."""

    head: bytes
    exclude: list[bytes] = field(default_factory=list)
    note: str | None = None
    up_to_date: bool = False


def plan_upload(
    repo: BaseRepo,
    head: bytes,
    last_ingested: str | None,
    server_commit_count: int,
    ask_known: Callable[[Sequence[str]], set[str]],
) -> Plan:
    """Decide what to upload for ``head`` given the server's view of the repository.

    ``ask_known`` is the negotiation call (``ApiClient.known_shas`` bound to the repo);
    it is only called when the resume point cannot be used as it is.
    """
    if last_ingested:
        last = as_sha(last_ingested.encode("ascii"))
        if last == head:
            return Plan(head, [last], up_to_date=True)
        if last in repo.object_store and _is_ancestor(repo, last, head):
            return Plan(head, [last])
        reason = (
            f"last synced commit {last_ingested[:7]} is not in the local history"
            if last not in repo.object_store
            else f"last synced commit {last_ingested[:7]} is no longer an ancestor of the branch"
        )
        return _negotiate(repo, head, ask_known, reason + " (force push or rewritten history?)")
    if server_commit_count > 0:
        # Commits but no resume point: stored by another tool, e.g. the pull worker.
        return _negotiate(repo, head, ask_known, "the server has commits but no resume point")
    return Plan(head)


def _is_ancestor(repo: BaseRepo, ancestor: bytes, head: bytes) -> bool:
    try:
        return can_fast_forward(repo, as_sha(ancestor), as_sha(head))
    except KeyError:
        # A parent missing from a shallow clone: not provably an ancestor.
        return False


def _negotiate(
    repo: BaseRepo, head: bytes, ask_known: Callable[[Sequence[str]], set[str]], reason: str
) -> Plan:
    candidates = candidate_shas(repo, head)
    known = ask_known([c.decode("ascii") for c in candidates])
    known_bytes = [c for c in candidates if c.decode("ascii") in known]
    if head in known_bytes:
        note = f"{reason}; the server already has the head"
        return Plan(head, [head], note=note, up_to_date=True)
    if known_bytes:
        note = (
            f"{reason}; asked the server about {len(candidates)} recent commits, "
            f"it has {len(known_bytes)}: sending only what is newer"
        )
    else:
        note = (
            f"{reason}; the server has none of {len(candidates)} recent commits: "
            "sending the whole history (duplicates are skipped by the server)"
        )
    return Plan(head, known_bytes, note=note)


def candidate_shas(repo: BaseRepo, head: bytes, limit: int = MAX_CANDIDATES) -> list[bytes]:
    """Head's first-parent chain: the newest ``RECENT_CANDIDATES``, then every 2**k-th.

    Dense near the head, where a rewritten history usually rejoins the old one; sparse
    further back, so that one call still finds an old common ancestor.
    """
    out: list[bytes] = []
    step_at = RECENT_CANDIDATES
    gap = 1
    depth = 0
    sha: bytes | None = head
    last_seen = head
    while sha is not None and len(out) < limit:
        if depth < RECENT_CANDIDATES or depth == step_at:
            out.append(sha)
            if depth >= RECENT_CANDIDATES:
                gap *= 2
                step_at += gap
        last_seen = sha
        sha = _first_parent(repo, sha)
        depth += 1
    if last_seen not in out and len(out) < limit:
        out.append(last_seen)  # the root, so that a shared beginning is always found
    return out


def _first_parent(repo: BaseRepo, sha: bytes) -> bytes | None:
    try:
        obj = repo.object_store[as_sha(sha)]
    except KeyError:
        return None
    if not isinstance(obj, Commit) or not obj.parents:
        return None
    return obj.parents[0]
