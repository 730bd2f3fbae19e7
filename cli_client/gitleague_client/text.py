"""Text from elsewhere (the server, a repository), made safe to print on a terminal."""

from __future__ import annotations

import re

# C0 controls (newline included), DEL, C1 controls, and the bidirectional overrides
# that can make a line read differently from what it holds.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``, ``\\n``).

    A project name or an error message from the server must not move the cursor,
    recolour the terminal or start a line that looks like the client's own.
    """
    return _UNSAFE.sub(lambda m: _escape(m.group()), str(text))


def _escape(ch: str) -> str:
    special = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if ch in special:
        return special[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
