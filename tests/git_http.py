"""A real git smart-HTTP server on 127.0.0.1 for pull tests.

``git http-backend`` (the CGI program git ships) behind HTTP basic auth,
through a small WSGI wrapper served by wsgiref in a thread. Only requests
carrying the expected token reach git; others get 401. The server never
writes the Authorization header anywhere.
"""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


def _git_exec_path() -> str:
    return subprocess.run(
        ["git", "--exec-path"], capture_output=True, text=True, check=True
    ).stdout.strip()


class GitHttpApp:
    """WSGI app: basic auth (any user name, password ``token``), then git http-backend."""

    def __init__(self, root: Path, token: str) -> None:
        self.root = root
        self.token = token
        self.backend = str(Path(_git_exec_path()) / "git-http-backend")
        self.requests = 0
        self.calls: list[tuple[str, str, bool]] = []  # (method, path, authorized)

    def _authorized(self, environ: dict[str, Any]) -> bool:
        header = environ.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Basic "):
            return False
        try:
            _user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return password == self.token

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.requests += 1
        authorized = self._authorized(environ)
        self.calls.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), authorized))
        if not authorized:
            start_response(
                "401 Unauthorized",
                [("WWW-Authenticate", 'Basic realm="git"'), ("Content-Type", "text/plain")],
            )
            return [b"authentication required\n"]
        body = _read_body(environ)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": environ["REQUEST_METHOD"],
            "PATH_INFO": environ.get("PATH_INFO", ""),
            "QUERY_STRING": environ.get("QUERY_STRING", ""),
            "CONTENT_TYPE": environ.get("CONTENT_TYPE", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": "tester",
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_PROTOCOL": environ.get("HTTP_GIT_PROTOCOL", ""),
            "HOME": str(self.root),
        }
        if environ.get("HTTP_CONTENT_ENCODING"):
            env["HTTP_CONTENT_ENCODING"] = environ["HTTP_CONTENT_ENCODING"]
        proc = subprocess.run([self.backend], input=body, env=env, capture_output=True, check=False)
        head, _, payload = proc.stdout.partition(b"\r\n\r\n")
        status = "200 OK"
        headers = []
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = value.strip()
            elif name:
                headers.append((name, value.strip()))
        headers.append(("Content-Length", str(len(payload))))
        start_response(status, headers)
        return [payload]


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body; wsgiref does not undo chunked transfer encoding itself."""
    stream = environ["wsgi.input"]
    if environ.get("HTTP_TRANSFER_ENCODING", "").lower() != "chunked":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        return stream.read(length) if length else b""
    chunks = []
    while True:
        size = int(stream.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            stream.readline()
            return b"".join(chunks)
        chunks.append(stream.read(size))
        stream.readline()


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib's name)
        pass


class GitHttpServer:
    """Serves every bare repository under ``root`` at ``http://127.0.0.1:PORT/<name>``."""

    def __init__(self, root: Path, token: str) -> None:
        self.app = GitHttpApp(root, token)
        self.httpd = make_server(
            "127.0.0.1", 0, self.app, server_class=_Server, handler_class=_QuietHandler
        )
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        """The clone URL of the bare repository ``root/name``."""
        return f"http://127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> GitHttpServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
