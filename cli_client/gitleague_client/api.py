"""The GitLeague REST API v1, as the push client uses it.

Reliability is urllib3's ``Retry`` mounted on a requests ``Session``: connection
errors, timeouts, 408, 429 and 5xx are retried (POSTs too: the server deduplicates
commits by sha), with exponential backoff plus jitter, honouring ``Retry-After``.
What an outage looks like (refused connections, 502/503/504) is retried for a time
budget (``retry_seconds``, 90 s by default: a restart or a database failover passes),
the rest for ``max_retries`` tries; an outage that outlasts the budget is
:class:`ServerUnavailableError` (or :class:`UnreachableError`), each with its exit code.
Every request carries a connect and a read timeout. Other 4xx are not retried and
become errors carrying the server's own message.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NameResolutionError, NewConnectionError, ProtocolError
from urllib3.util.retry import RequestHistory, Retry

from gitleague_client import __version__
from gitleague_client.errors import ClientError, ExitCode
from gitleague_client.text import printable

#: A sync run's id: an integer on the reference server, passed back exactly as received.
RunId = int | str

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: Answers of a server that is down or restarting: retried for the time budget, not a count.
OUTAGE_STATUSES = frozenset({502, 503, 504})
#: Seconds a request keeps retrying through an outage (a restart, a database failover).
DEFAULT_RETRY_SECONDS = 90.0
#: Longest pause between two tries of an outage (backoff doubles up to it).
BACKOFF_MAX = 10.0
#: Longest wait a ``Retry-After`` may impose; a cron job must end some day.
RETRY_AFTER_MAX = 300

API_KEY_HINT = "1. Create API key in web UI\n2. Add to repos.yaml or GITLEAGUE_API_KEY env var"
REPO_NOT_FOUND_HINT = "1. Verify project_id in repos.yaml from web UI\n2. Verify git_url is correct"
OUTAGE_HINT = (
    "The GitLeague server is down or restarting; nothing was lost.\n"
    "The next run tries again; if this lasts, tell your GitLeague admin."
)
TIMEOUT_HINT = (
    "1. Check API URL is correct\n2. Verify network connectivity\n3. Check firewall rules\n"
    "4. Retry (automatic with backoff)"
)


class ApiError(ClientError):
    """The server answered with an error; ``message`` is the server's own words."""

    def __init__(
        self, message: str, *, status: int, code: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.code = code


class AuthError(ApiError):
    """No API key, or one the server does not know (the guide's "API key not found")."""

    exit_code = ExitCode.AUTH

    def __init__(self, detail: str | None = None) -> None:
        message = "API key not found" + (f" ({detail})" if detail else "")
        super().__init__(message, status=401, code="api_key_not_found", hint=API_KEY_HINT)


class PayloadTooLargeError(ApiError):
    """413: the batch is larger than the server takes; ``limit`` is its maximum when given."""

    def __init__(self, message: str, limit: int | None) -> None:
        super().__init__(message, status=413, code="payload_too_large")
        self.limit = limit


class UnreachableError(ClientError):
    """The server could not be reached, even after the retries.

    The message names what happened: "Connection timeout" (no answer in time),
    "Connection refused" (nothing listens: a wrong port, or a server that is down)
    or "Unknown host" (the name does not resolve: a typo in api_url).
    """

    exit_code = ExitCode.UNREACHABLE

    def __init__(self, url: str, reason: str) -> None:
        title = _UNREACHABLE_TITLES.get(reason, "Connection failed")
        super().__init__(f"{title}: {url} ({reason})", hint=TIMEOUT_HINT)
        self.reason = reason


_UNREACHABLE_TITLES = {
    "timed out": "Connection timeout",
    "connection refused": "Connection refused",
    "unknown host": "Unknown host",
}


class ServerUnavailableError(ApiError):
    """The server answered 502, 503 or 504 for longer than the retry budget: an outage."""

    exit_code = ExitCode.SERVER_UNAVAILABLE

    def __init__(self, message: str, *, status: int, code: str | None) -> None:
        super().__init__(
            f"Server unavailable (HTTP {status}): {message}",
            status=status,
            code=code,
            hint=OUTAGE_HINT,
        )


def mask_key(key: str) -> str:
    """Return the key as the server shows it after creation: ``tgl_<public id>_***``."""
    parts = key.split("_")
    if len(parts) >= 3 and parts[0] == "tgl":
        return f"tgl_{parts[1]}_***"
    return key[:4] + "***"


class _Retry(Retry):
    """urllib3's Retry with two budgets: a count for errors, a time for outages.

    A refused connection, a dropped one and 502/503/504 are what a restart or an
    outage looks like: they are retried for ``budget`` seconds from the first
    failure, however many tries that takes. Anything else (500, 408, 429, a read
    timeout) counts against ``limit`` tries.
    """

    # urllib3 also retries a 413 that carries Retry-After; here a 413 means "send less",
    # which the sync loop does by halving the batch, so only 429 and 503 honour it.
    RETRY_AFTER_STATUS_CODES = frozenset({429, 503})

    budget = 0.0
    limit = 0
    started: float | None = None

    def new(self, **kw: Any) -> _Retry:
        """The next state; the budget's clock starts at the first failure."""
        nxt = super().new(**kw)
        nxt.budget, nxt.limit = self.budget, self.limit
        nxt.started = self.started if self.started is not None else time.monotonic()
        return nxt

    def is_exhausted(self) -> bool:
        """Out of tries: too many errors, or an outage longer than the budget."""
        if super().is_exhausted():
            return True
        outages = sum(_is_outage(h) for h in self.history)
        if len(self.history) - outages > self.limit:
            return True
        elapsed = time.monotonic() - (self.started or time.monotonic())
        return outages > 0 and elapsed > self.budget


def _is_outage(entry: RequestHistory) -> bool:
    if entry.status in OUTAGE_STATUSES:
        return True
    error = entry.error
    # A refused or dropped connection; not a name that does not resolve (a typo in
    # api_url), nor a read timeout (a server that hangs: each try costs a timeout).
    if isinstance(error, NameResolutionError):
        return False
    return isinstance(error, NewConnectionError | ProtocolError)


def build_session(
    max_retries: int, backoff_factor: float = 0.5, retry_seconds: float = DEFAULT_RETRY_SECONDS
) -> requests.Session:
    """A Session whose adapter retries transient failures (see the module docstring).

    ``max_retries=0`` turns every retry off, outages included.
    """
    if max_retries <= 0:
        retry: Retry = Retry(total=0, raise_on_status=False, respect_retry_after_header=False)
    else:
        custom = _Retry(
            total=None,
            connect=None,
            read=None,
            status=None,
            other=0,
            allowed_methods=None,  # None = every method, POST and PATCH included
            status_forcelist=RETRY_STATUSES,
            backoff_factor=backoff_factor,
            backoff_jitter=backoff_factor,
            backoff_max=BACKOFF_MAX,
            respect_retry_after_header=True,
            retry_after_max=int(min(RETRY_AFTER_MAX, max(1.0, retry_seconds))),
            raise_on_status=False,  # hand back the last answer, so its message can be shown
        )
        custom.budget, custom.limit = retry_seconds, max_retries
        retry = custom
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = f"gitleague-client/{__version__}"
    return session


class ApiClient:
    """Calls of the push protocol (issue 2's table). One instance per command run."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        max_retries: int = 3,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        backoff_factor: float = 0.5,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = (connect_timeout, timeout)
        self.session = build_session(max_retries, backoff_factor, retry_seconds)

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ----------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request to ``/api/v1{path}``; return the decoded JSON answer."""
        if not self.api_key:
            raise AuthError("no key in repos.yaml or GITLEAGUE_API_KEY")
        url = f"{self.base_url}/api/v1{path}"
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        try:
            resp = self.session.request(
                method, url, headers=headers, timeout=self.timeout, **kwargs
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise UnreachableError(self.base_url, _reason(exc)) from None
        if resp.status_code >= 400:
            raise _error_from(resp)
        if resp.status_code == 204 or not resp.content:
            return {}
        try:
            return resp.json()
        except ValueError:
            raise ApiError(
                f"the server answered {method} {path} with something that is not JSON",
                status=resp.status_code,
            ) from None

    def _paged(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            body = self.request("GET", path, params={**(params or {}), "page": page,
                                                     "per_page": 100})  # fmt: skip
            items = body.get("items", [])
            yield from items
            total = body.get("total")
            if not items or total is None or page * int(body.get("per_page", 100)) >= total:
                return
            page += 1

    # -- the protocol -------------------------------------------------------------------
    def me(self) -> dict[str, Any]:
        """``GET /me``: the caller, its masked key and scopes, its projects with repo counts."""
        return self.request("GET", "/me")  # type: ignore[no-any-return]

    def project_repos(self, project_id: str, git_url: str | None = None) -> list[dict[str, Any]]:
        """Repos of a project, optionally only those matching ``git_url`` (any URL form)."""
        params = {"git_url": git_url} if git_url else None
        return list(self._paged(f"/projects/{project_id}/repos", params))

    def get_repo(self, repo_id: str) -> dict[str, Any]:
        """``GET /repos/<id>``, with ``last_ingested_sha``, ``branch`` and ``sync_method``."""
        return self.request("GET", f"/repos/{repo_id}")  # type: ignore[no-any-return]

    def known_shas(self, repo_id: str, shas: Sequence[str]) -> set[str]:
        """Which of ``shas`` (at most 500) the server already stores."""
        body = self.request("POST", f"/repos/{repo_id}/commits/known", json={"shas": list(shas)})
        return set(body.get("known", []))

    def start_run(self, repo_id: str) -> RunId:
        """Open a sync run; return its id as the server gave it (sent back unchanged)."""
        body = self.request("POST", f"/repos/{repo_id}/sync-runs", json={})
        return body["id"]  # type: ignore[no-any-return]

    def record_run(
        self,
        repo_id: str,
        *,
        succeeded: bool,
        head_sha: str | None = None,
        error: str | None = None,
    ) -> dict[str, Any]:
        """Record a finished run in one request: a sync with nothing to upload, or failed."""
        return self.request(  # type: ignore[no-any-return]
            "POST", f"/repos/{repo_id}/sync-runs", json=_run_outcome(succeeded, head_sha, error)
        )

    def post_commits(
        self,
        repo_id: str,
        commits: Sequence[dict[str, Any]],
        *,
        run_id: RunId | None = None,
        resume_sha: str | None = None,
    ) -> dict[str, Any]:
        """Upload one batch; the answer has received, inserted, duplicates, rejected."""
        payload: dict[str, Any] = {"commits": list(commits)}
        if run_id is not None:
            payload["sync_run_id"] = run_id
        if resume_sha is not None:
            payload["resume_sha"] = resume_sha
        return self.request(  # type: ignore[no-any-return]
            "POST", f"/repos/{repo_id}/commits", json=payload
        )

    def finish_run(
        self,
        repo_id: str,
        run_id: RunId,
        *,
        succeeded: bool,
        head_sha: str | None = None,
        error: str | None = None,
    ) -> dict[str, Any]:
        """Close a sync run as succeeded or failed."""
        return self.request(  # type: ignore[no-any-return]
            "PATCH",
            f"/repos/{repo_id}/sync-runs/{run_id}",
            json=_run_outcome(succeeded, head_sha, error),
        )


def _run_outcome(succeeded: bool, head_sha: str | None, error: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"status": "succeeded" if succeeded else "failed"}
    if head_sha:
        payload["head_sha"] = head_sha
    if error:
        payload["error"] = error[:2000]
    return payload


def _error_from(resp: requests.Response) -> ApiError:
    code: str | None = None
    message = ""
    limit: int | None = None
    try:
        body = resp.json()
        err = body.get("error", {}) if isinstance(body, dict) else {}
        if isinstance(err, dict):
            code = err.get("code")
            message = str(err.get("message") or "")
            limit = err.get("limit", body.get("limit"))
    except ValueError:
        message = resp.text.strip()[:200]
    message = printable(message or f"HTTP {resp.status_code} {resp.reason}")
    if resp.status_code == 401:
        return AuthError(None if message.startswith("API key not found") else message)
    if resp.status_code == 413:
        return PayloadTooLargeError(message, limit if isinstance(limit, int) else None)
    if resp.status_code in OUTAGE_STATUSES:
        return ServerUnavailableError(message, status=resp.status_code, code=code)
    hint = None
    if resp.status_code == 403:
        hint = "The API key needs the scopes sync:commits,read:repos; create one with both."
    return ApiError(message, status=resp.status_code, code=code, hint=hint)


def _reason(exc: Exception) -> str:
    # requests nests urllib3's MaxRetryError; its innermost reason is the readable part.
    reason: Any = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", reason)
    if isinstance(exc, requests.Timeout) or "timed out" in str(reason).lower():
        return "timed out"
    text = str(reason)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "getaddrinfo" in text or "nodename" in text:
        return "unknown host"
    return text.split(": ", 1)[-1][:200]
