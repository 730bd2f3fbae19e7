"""gunicorn's access log without secrets in URLs (``logger_class`` in gunicorn.conf.py).

The server refuses git URLs with user info (``https://user:token@host``),
but a refused request is still logged, query string included: a client
sending ``?git_url=https://x-access-token:ghp_…@github.com/…`` would put
the token in the access log. Every logged value has the user info of any
URL in it (plain or percent-encoded) replaced by ``***``.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

# scheme "://" (or its percent-encoded form), then the authority up to its
# last "@" (or "%40"); stops at a path, query or fragment, plain or encoded.
_USER_INFO = re.compile(r"(://|%3A%2F%2F)((?:(?!%2F|%3F|%23)[^/?#&\s\"])*)(@|%40)", re.IGNORECASE)


# scp-like "user:secret@host:path" as a query value: a colon before the "@".
_SCP_SECRET = re.compile(r"([?&=])([^?&=\s@]*?(?::|%3A)[^?&=\s@]*?)(@|%40)", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with the user info of every URL in it replaced by ``***``."""
    return _SCP_SECRET.sub(r"\1***\3", _USER_INFO.sub(r"\1***\3", text))


class RedactingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger; access-log values pass through :func:`redact`."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """gunicorn's atoms, every string value redacted."""
        atoms = super().atoms(resp, req, environ, request_time)
        return {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}
