"""Pull URLs: one parse, global addresses only, the checked address pinned, no redirects.

Issue 9, security item 2. Everything runs offline: names that must not
resolve end in ``.invalid`` (RFC 2606), the loopback name is ``localhost``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from app.services import git_remote
from app.services.credentials import Credentials
from app.services.remote_url import PinnedPoolManager, RemoteTarget, is_global
from tests.git_http import GitHttpServer
from tests.helpers import detached_repo as row
from tests.pull_helpers import TOKEN, head_sha, make_bare_repo

refused = git_remote.RemoteUrlRefusedError


@pytest.mark.parametrize("allow_local", [False, True])
@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254\\@github.com/x",
        "https://github.com\\@169.254.169.254/x",
        "https://github.com/x\\y",
        "https://github.com#@169.254.169.254/x",
        "https://github.com?@169.254.169.254/x",
        "https://x-access-token@github.com/x",
        "https://a@b@github.com/x",
        "https://git\thub.com/x",
        "https://github.com\n/x",
        "https://github.com\x00/x",
        "https://github .com/x",
        "https://gıthub.com/x",
        "https://github.com%2f@169.254.169.254/",
        "https://127.0.0.1%2e/x",
        "https://[::1/x",
        "https://[fe80::1%25eth0]/x",
        "https://github.com:99999/x",
    ],
)
def test_ambiguous_or_unparsable_urls_are_refused(url, allow_local):
    with pytest.raises(refused) as info:
        git_remote.check_remote_url(url, allow_local=allow_local)
    assert info.value.message.startswith("remote URL refused: ")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x",
        "https://169.254.169.254/x",
        "https://2852039166/x",  # 169.254.169.254 as one number
        "https://0x7f.1/x",
        "https://100.64.0.1/x",  # carrier-grade NAT
        "https://0.0.0.0/x",
        "https://10.0.0.1/x",
        "https://[::1]/x",
        "https://[::]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[::ffff:a9fe:a9fe]/x",
        "https://[::127.0.0.1]/x",
        "https://[64:ff9b::a9fe:a9fe]/x",  # NAT64 of 169.254.169.254
        "https://[2002:a9fe:a9fe::1]/x",  # 6to4 of 169.254.169.254
        "https://[fe80::1]/x",
        "https://[fd00::1]/x",
        "https://localhost/x",
        "https://LOCALHOST/x",
    ],
)
def test_non_global_addresses_are_refused(url):
    with pytest.raises(refused) as info:
        git_remote.check_remote_url(url, allow_local=False)
    assert "GITLEAGUE_ALLOW_LOCAL_REMOTES" in info.value.message


@pytest.mark.parametrize("allow_local", [False, True])
def test_names_that_do_not_resolve_are_refused(allow_local):
    with pytest.raises(refused, match="gitleague-test.invalid does not resolve"):
        git_remote.check_remote_url("https://gitleague-test.invalid/x", allow_local=allow_local)


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://140.82.112.3/org/x.git", "140.82.112.3"),
        ("https://[2606:4700::1111]:8443/org/x.git", "2606:4700::1111"),
    ],
)
def test_global_addresses_are_checked_and_pinned(url, address):
    target = git_remote.check_remote_url(url, allow_local=False)
    assert (target.url, target.address) == (url, address)


def test_local_remotes_resolve_once_to_a_pinned_address():
    target = git_remote.check_remote_url("http://localhost:9/x.git", allow_local=True)
    assert (target.host, target.address) == ("localhost", "127.0.0.1")


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("100.64.0.1", False),
        ("64:ff9b::808:808", False),
        ("2002:808:808::1", False),
        ("2001::1", False),
        ("224.0.0.1", False),
    ],
)
def test_is_global(address, expected):
    assert is_global(address) is expected


@pytest.fixture
def git(tmp_path: Path) -> Iterator[GitHttpServer]:
    with GitHttpServer(tmp_path / "remotes", TOKEN) as server:
        make_bare_repo(tmp_path / "remotes" / "r.git", 3)
        yield server


def test_the_connection_goes_to_the_pinned_address_not_to_dns(git, tmp_path):
    # The name cannot resolve: reaching the server proves no second lookup happened.
    url = f"http://pinned.gitleague-test.invalid:{git.port}/r.git"
    target = RemoteTarget(url, "pinned.gitleague-test.invalid", "127.0.0.1")
    head = git_remote.remote_head(target, "main", Credentials(TOKEN), timeout=10)
    assert head is not None and head.decode() == head_sha(tmp_path / "remotes" / "r.git")
    assert git.app.calls and all(authorized for *_, authorized in git.app.calls)


def test_the_pinned_pool_reaches_no_other_host(git):
    pool = PinnedPoolManager(RemoteTarget("http://a.invalid/", "a.invalid", "127.0.0.1"))
    with pytest.raises(refused, match="not the checked host"):
        pool.request("GET", f"http://127.0.0.1:{git.port}/r.git/info/refs")
    assert git.app.requests == 0


class _Redirect(BaseHTTPRequestHandler):
    location = ""
    hits = 0

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).hits += 1
        self.send_response(302)
        self.send_header("Location", self.location + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def redirector(git) -> Iterator[ThreadingHTTPServer]:
    handler = type("Handler", (_Redirect,), {"location": f"http://127.0.0.1:{git.port}"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_redirect_is_not_followed(app, seed, git, redirector, tmp_path):
    # Local remotes are allowed, so only the no-redirect rule stops the second hop.
    app.config.update(GITLEAGUE_ALLOW_LOCAL_REMOTES=True, GITLEAGUE_MIRROR_DIR=str(tmp_path / "m"))
    owner = seed.actor()
    port = redirector.server_address[1]
    rid = seed.repo(
        seed.project(owner), git_url=f"http://127.0.0.1:{port}/r.git", sync_method="pull_celery"
    )
    runner = app.test_cli_runner()
    runner.invoke(args=["repos", "set-credentials", rid], env={"GITLEAGUE_REPO_TOKEN": TOKEN})
    result = runner.invoke(args=["sync", "run", rid])
    assert result.exit_code == 1
    assert "follows no redirect" in result.output and TOKEN not in result.output
    assert redirector.RequestHandlerClass.hits >= 1 and git.app.requests == 0
    assert "redirected to http://127.0.0.1:" in row(app, rid).last_error


def test_a_mapped_loopback_address_is_refused_before_any_request(app, seed, git, tmp_path):
    app.config.update(GITLEAGUE_MIRROR_DIR=str(tmp_path / "m"))
    owner = seed.actor()
    url = f"https://[::ffff:127.0.0.1]:{git.port}/r.git"
    rid = seed.repo(seed.project(owner), git_url=url, sync_method="pull_celery")
    runner = app.test_cli_runner()
    runner.invoke(args=["repos", "set-credentials", rid], env={"GITLEAGUE_REPO_TOKEN": TOKEN})
    result = runner.invoke(args=["sync", "run", rid])
    assert result.exit_code == 1 and "remote URL refused" in result.output
    assert git.app.requests == 0


NAME = "pinned.gitleague-test.invalid"


def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for NAME only (not for 127.0.0.1)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Echo(BaseHTTPRequestHandler):
    seen: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen.append(self.headers.get("Host"))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def test_tls_and_the_host_header_still_use_the_name(tmp_path):
    import ssl

    cert, key = _certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    handler = type("Echo", (_Echo,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        target = RemoteTarget(f"https://{NAME}:{port}/r.git", NAME, "127.0.0.1")
        pool = PinnedPoolManager(target, cert_reqs="CERT_REQUIRED", ca_certs=str(cert))
        resp = pool.request("GET", f"https://{NAME}:{port}/r.git/info/refs", retries=False)
        assert resp.status == 200 and resp.data == b"ok"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert names == [NAME]
    assert handler.seen == [f"{NAME}:{port}"]
