"""The API client's retries, timeouts and errors, against a real HTTP scripted_server on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from gitleague_client.api import (
    ApiClient,
    ApiError,
    AuthError,
    PayloadTooLargeError,
    ServerUnavailableError,
    UnreachableError,
    mask_key,
)
from gitleague_client.errors import ExitCode
from gitleague_client.sync import RepoResult
from gitleague_client.upload import Uploader

from .conftest import Reply, Scripted, Seen  # type: ignore[import-not-found]

KEY = "tgl_test_s3cr3tvalue"


def client(url: str, **kw: Any) -> ApiClient:
    kw.setdefault("backoff_factor", 0.01)
    return ApiClient(url, KEY, **kw)


def err(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def test_503_then_200_is_retried_for_get_and_post(scripted_server: Scripted) -> None:
    scripted_server.script = [(503, {}, err("unavailable", "busy")), (200, {}, {"id": "run1"})]
    with client(scripted_server.url) as api:
        assert api.start_run("abc123") == "run1"
    assert [(s.method, s.path) for s in scripted_server.seen] == [
        ("POST", "/api/v1/repos/abc123/sync-runs")
    ] * 2
    assert scripted_server.seen[0].headers["Authorization"] == f"Bearer {KEY}"
    scripted_server.seen.clear()
    scripted_server.script = [(502, {}, {}), (500, {}, {}), (200, {}, {"id": "r", "name": "x"})]
    with client(scripted_server.url) as api:
        assert api.get_repo("r")["name"] == "x"
    assert len(scripted_server.seen) == 3


def test_429_honours_retry_after(scripted_server: Scripted) -> None:
    scripted_server.script = [
        (429, {"Retry-After": "1"}, err("rate_limited", "slow down")),
        (200, {}, {}),
    ]
    started = time.monotonic()
    with client(scripted_server.url) as api:
        api.me()
    assert time.monotonic() - started >= 0.95
    assert len(scripted_server.seen) == 2


def test_408_is_retried(scripted_server: Scripted) -> None:
    scripted_server.script = [(408, {}, {}), (200, {}, {"known": ["a"]})]
    with client(scripted_server.url) as api:
        assert api.known_shas("r", ["a", "b"]) == {"a"}
    assert scripted_server.seen[-1].body == {"shas": ["a", "b"]}


def test_retries_run_out_and_the_server_message_is_shown(scripted_server: Scripted) -> None:
    scripted_server.script = lambda seen: (500, {}, err("internal", "a bug"))
    with client(scripted_server.url, max_retries=2) as api, pytest.raises(ApiError) as info:
        api.me()
    assert len(scripted_server.seen) == 3  # the first try and two retries
    assert info.value.status == 500 and info.value.message == "a bug"
    assert info.value.exit_code == ExitCode.PARTIAL_FAILURE


def test_an_outage_is_retried_for_the_time_budget_not_the_count(scripted_server: Scripted) -> None:
    down = [(503, {}, err("database_unavailable", "database is down"))] * 8
    scripted_server.script = [*down, (502, {}, {}), (504, {}, {}), (200, {}, {"projects": []})]
    with client(scripted_server.url, max_retries=1, retry_seconds=60) as api:
        assert api.me() == {"projects": []}
    assert len(scripted_server.seen) == 11


def test_an_outage_longer_than_the_budget_has_its_own_exit_code(scripted_server: Scripted) -> None:
    scripted_server.script = lambda seen: (503, {}, err("database_unavailable", "database is down"))
    with client(scripted_server.url, max_retries=3, retry_seconds=0.3) as api:
        with pytest.raises(ServerUnavailableError) as info:
            api.me()
    assert len(scripted_server.seen) >= 2
    assert info.value.message == "Server unavailable (HTTP 503): database is down"
    assert info.value.exit_code == ExitCode.SERVER_UNAVAILABLE == 6
    assert "internal server error" not in info.value.message.lower()


def test_503_honours_retry_after(scripted_server: Scripted) -> None:
    scripted_server.script = [(503, {"Retry-After": "1"}, err("busy", "restarting")), (200, {}, {})]
    started = time.monotonic()
    with client(scripted_server.url, retry_seconds=30) as api:
        api.me()
    assert time.monotonic() - started >= 0.95
    assert len(scripted_server.seen) == 2


def test_max_retries_0_turns_every_retry_off(scripted_server: Scripted) -> None:
    scripted_server.script = lambda seen: (503, {}, err("busy", "restarting"))
    with client(scripted_server.url, max_retries=0) as api, pytest.raises(ServerUnavailableError):
        api.me()
    assert len(scripted_server.seen) == 1


def test_401_is_api_key_not_found_and_not_retried(scripted_server: Scripted) -> None:
    scripted_server.script = [(401, {}, err("api_key_not_found", "API key not found"))]
    with client(scripted_server.url) as api, pytest.raises(AuthError) as info:
        api.me()
    assert len(scripted_server.seen) == 1
    assert info.value.message == "API key not found"
    assert info.value.exit_code == ExitCode.AUTH
    assert info.value.hint == (
        "1. Create API key in web UI\n2. Add to repos.yaml or GITLEAGUE_API_KEY env var"
    )
    assert KEY not in str(info.value)


def test_no_key_fails_before_sending_anything(scripted_server: Scripted) -> None:
    with (
        ApiClient(scripted_server.url, None) as api,
        pytest.raises(AuthError, match="API key not found"),
    ):
        api.me()
    assert scripted_server.seen == []


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
def test_other_4xx_are_not_retried_and_keep_the_server_message(
    scripted_server: Scripted, status: int
) -> None:
    scripted_server.script = [(status, {}, err("some_code", f"problem {status}"))]
    with client(scripted_server.url) as api, pytest.raises(ApiError) as info:
        api.post_commits("r", [{"sha": "a"}])
    assert len(scripted_server.seen) == 1
    assert (info.value.status, info.value.code, info.value.message) == (
        status,
        "some_code",
        f"problem {status}",
    )


def test_413_is_not_retried_even_with_retry_after(scripted_server: Scripted) -> None:
    body = {"error": {"code": "too_large", "message": "too many", "limit": 2}}
    scripted_server.script = [(413, {"Retry-After": "1"}, body)]
    with client(scripted_server.url) as api, pytest.raises(PayloadTooLargeError) as info:
        api.post_commits("r", [{"sha": "a"}] * 3)
    assert len(scripted_server.seen) == 1 and info.value.limit == 2


def test_413_halves_the_batch_until_it_fits(scripted_server: Scripted) -> None:
    def script(seen: Seen) -> Reply:
        commits = seen.body["commits"]
        if len(commits) > 3:
            return 413, {}, err("payload_too_large", "batch too large")
        return 200, {}, {"received": len(commits), "inserted": len(commits), "duplicates": 0,
                         "rejected": []}  # fmt: skip

    scripted_server.script = script
    commits = [{"sha": f"{i:040x}"} for i in range(10)]
    result = RepoResult(project="P", path="/x", name="x")
    with client(scripted_server.url) as api:
        uploader = Uploader(api, "r", result, batch_size=10)
        uploader.run(iter(commits), "run1", lambda n: None)
    sent = [s.body for s in scripted_server.seen if len(s.body["commits"]) <= 3]
    # 10 -> 5+5 -> each 5 -> 2+3; then batches of 2 for what is left: none here.
    assert [len(b["commits"]) for b in sent] == [2, 3, 2, 3]
    assert [c["sha"] for b in sent for c in b["commits"]] == [c["sha"] for c in commits]
    # each accepted batch names its own last commit as the resume point
    assert all(b["resume_sha"] == b["commits"][-1]["sha"] for b in sent)
    assert all(b["sync_run_id"] == "run1" for b in sent)
    assert (result.inserted, result.batches, uploader.batch_size) == (10, 4, 2)
    assert any("batches of" in note for note in result.notes)


def test_rejected_commits_never_freeze_the_resume_point(scripted_server: Scripted) -> None:
    ok = {"received": 2, "inserted": 2, "duplicates": 0, "rejected": []}
    replies = [
        {"received": 2, "inserted": 1, "duplicates": 0,
         "rejected": [{"index": 0, "sha": None, "error": "bad date"}]},
        {"received": 1, "inserted": 0, "duplicates": 1, "rejected": []},  # the re-post
        ok,
        {"received": 2, "inserted": 1, "duplicates": 0,
         "rejected": [{"index": 1, "sha": None, "error": "bad date"}]},
    ]  # fmt: skip
    scripted_server.script = [(200, {}, r) for r in replies]
    commits = [{"sha": f"{i:040x}"} for i in range(6)]
    result = RepoResult(project="P", path="/x", name="x")
    with client(scripted_server.url) as api:
        Uploader(api, "r", result, batch_size=2).run(iter(commits), "run1", lambda n: None)
    sent = [([c["sha"] for c in s.body["commits"]], s.body["resume_sha"])
            for s in scripted_server.seen]  # fmt: skip
    sha = [c["sha"] for c in commits]
    assert (
        sent
        == [
            (sha[0:2], sha[1]),  # c0 rejected: the server keeps its resume point ...
            (sha[1:2], sha[1]),  # ... so c1 alone, already stored, moves it past c0
            (sha[2:4], sha[3]),
            (sha[4:6], sha[5]),  # the last commit rejected: nothing to move past it
        ]
    )
    assert (result.rejected, result.inserted, result.duplicates) == (2, 4, 0)
    assert result.rejections == [{"sha": sha[0], "error": "bad date"},
                                 {"sha": sha[5], "error": "bad date"}]  # fmt: skip


def test_connection_refused_is_retried_for_the_budget_then_named() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once the socket is closed
    with client(f"http://127.0.0.1:{port}", max_retries=1, retry_seconds=0.3) as api:
        with pytest.raises(UnreachableError) as info:
            api.me()
    assert info.value.message == f"Connection refused: http://127.0.0.1:{port} (connection refused)"
    assert info.value.exit_code == ExitCode.UNREACHABLE
    assert "1. Check API URL is correct" in (info.value.hint or "")


def test_an_unknown_host_is_named_and_not_retried_for_the_budget() -> None:
    started = time.monotonic()
    with client("http://no-such-host.invalid", max_retries=1, retry_seconds=600) as api:
        with pytest.raises(UnreachableError) as info:
            api.me()
    assert info.value.message == "Unknown host: http://no-such-host.invalid (unknown host)"
    assert time.monotonic() - started < 60  # a count, not the 600 s budget


def test_read_timeout_is_retried_then_reported(scripted_server: Scripted) -> None:
    scripted_server.delay = 0.6
    with client(scripted_server.url, max_retries=1, timeout=0.2) as api:
        with pytest.raises(UnreachableError, match="timed out"):
            api.me()
    assert len(scripted_server.seen) == 2


def test_mask_key() -> None:
    assert mask_key("tgl_test_abcdef") == "tgl_test_***"
    assert mask_key("tgl_a1b2_c_d") == "tgl_a1b2_***"
    assert mask_key("weird") == "weir***"
