"""The client's negotiation limit is exactly what the server takes (issue 14).

``MAX_CANDIDATES`` in the client and ``GITLEAGUE_MAX_KNOWN_SHAS`` (checked
with ``>`` in app/services/ingest.py) must agree to the unit: one too many
on the client, or ``>=`` on the server, and every negotiation of a long
history fails with 413.
"""

from __future__ import annotations

from typing import Any

from gitleague_client.incremental import MAX_CANDIDATES

from tests.helpers import chain, fake_sha


def test_a_full_candidate_list_is_answered_and_one_more_is_not(client, seed):
    owner = seed.actor()
    repo_id = seed.repo(seed.project(owner))
    stored = chain(2)
    client.post(
        f"/api/v1/repos/{repo_id}/commits", json={"commits": stored}, headers=owner.headers()
    )
    candidates = [c["sha"] for c in stored] + [fake_sha(f"n{i}") for i in range(MAX_CANDIDATES)]

    def ask(shas: list[str]) -> Any:
        return client.post(
            f"/api/v1/repos/{repo_id}/commits/known", json={"shas": shas}, headers=owner.headers()
        )

    full = ask(candidates[:MAX_CANDIDATES])
    assert full.status_code == 200, full.json
    assert full.json == {"known": [c["sha"] for c in stored]}
    over = ask(candidates[: MAX_CANDIDATES + 1])
    assert over.status_code == 413 and over.json["error"]["limit"] == MAX_CANDIDATES
