"""The ``diff`` attribute of a path, as git's ``.gitattributes`` decide it for numstat.

In a working clone git applies the checked-out attributes to every commit it
diffs: a file whose ``diff`` attribute is unset (``-diff``, or the built-in
``binary`` macro) is binary (numstat ``-  -``, no line counts), one whose
``diff`` is set is text even with NUL bytes, and otherwise (unspecified, or
``diff=<driver>``: we never run a textconv) git looks at the content.

:class:`DiffAttributes` reads the ``.gitattributes`` files of one tree (the
synced branch's tip), so that a working clone at the tip, a bare clone and
the server's mirror all give a working clone's answer. It follows git's
``attr.c``: root and nested files (deeper ones win), lines read last to first
and the first value found for an attribute wins, macros (``[attr]name``, only
in the root file, plus the built-in ``binary``) expanded where they are set,
``!attr`` making an attribute unspecified, patterns without a slash matched
against the file name, others against the path from the file's folder
(wildmatch, ``**``), folder-only patterns (``dir/``) matching no file, and
negative patterns (``!pattern``) ignored. ``$GIT_DIR/info/attributes`` and
the user's global attributes are not read: they live outside the history,
and the server would not see them.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable

from dulwich.wildmatch import MalformedPattern, translate

from .treediff import canon_mode

#: Verdicts of :meth:`DiffAttributes.binary` kept (paths changed often come back).
VERDICT_CACHE_SIZE = 16384
# git ignores lines and files this long or longer (attr.c, ATTR_MAX_LINE_LENGTH, ATTR_MAX_FILE_SIZE).
_MAX_LINE = 2048
_MAX_FILE = 100 * 1024 * 1024
_BLANK = b" \t\r\n"
_NAME = re.compile(rb"[-._0-9A-Za-z]+")
_MACRO = b"[attr]"
_FILE_MODES = (b"100644", b"100755")
# A value that ``!attr`` gives: unspecified, yet decided (lower lines cannot set it).
UNSPECIFIED = b"!"
#: git's only built-in macro.
BUILTIN_MACROS: dict[bytes, list[tuple[bytes, object]]] = {
    b"binary": [(b"diff", False), (b"merge", False), (b"text", False)]
}

Value = object  # True, False, UNSPECIFIED or the bytes after "="
States = list[tuple[bytes, Value]]


class _Rule:
    """One pattern line: which paths it matches, and the attributes it assigns."""

    __slots__ = ("match", "states")

    def __init__(self, match: Callable[[bytes], bool], states: States) -> None:
        self.match = match
        self.states = states


def parse_lines(data: bytes, base: bytes, macros_ok: bool) -> tuple[list[_Rule], dict]:
    """Rules and macro definitions of one ``.gitattributes`` in folder ``base``.

    ``base`` is the folder's path from the root (``b""`` for the root) and
    ``macros_ok`` is true for the root file only, as in git.
    """
    rules: list[_Rule] = []
    macros: dict[bytes, States] = {}
    if len(data) >= _MAX_FILE:
        return rules, macros
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = data.split(b"\n")
    last = len(lines) - 1
    for n, line in enumerate(lines):
        if n < last and line.endswith(b"\r"):
            line = line[:-1]  # git reads the work tree's file by lines, CR LF ending one
        parsed = _parse_line(line)
        if parsed is None:
            continue
        pattern, states = parsed
        if pattern.startswith(_MACRO) and len(pattern) > len(_MACRO):
            name = pattern[len(_MACRO) :]
            if macros_ok and _NAME.fullmatch(name) and not name.startswith(b"-"):
                macros[name] = states  # the last definition wins
            continue
        match = _matcher(pattern, base)
        if match is not None:
            rules.append(_Rule(match, states))
    return rules, macros


def _parse_line(line: bytes) -> tuple[bytes, States] | None:
    """``(pattern, states)`` of a line, None for blanks, comments and invalid lines."""
    stripped = line.lstrip(_BLANK)
    # git's length limit counts the leading blanks too.
    if not stripped or stripped.startswith(b"#") or len(line) >= _MAX_LINE:
        return None
    line = stripped
    quoted = _unquote(line) if line.startswith(b'"') else None
    if quoted is not None:
        pattern, rest = quoted
    else:
        pattern, _, rest = _split_blank(line)
    states: States = []
    for token in rest.split():
        name, equals, value = token.partition(b"=")
        setting: Value = value if equals else True
        if name[:1] in (b"-", b"!"):
            setting = False if name[:1] == b"-" else UNSPECIFIED
            name = name[1:]
        if not _NAME.fullmatch(name) or name.startswith(b"-"):
            return None  # git drops the whole line
        states.append((name, setting))
    return pattern, states


def _split_blank(line: bytes) -> tuple[bytes, bytes, bytes]:
    match = re.search(rb"[ \t\r\n]", line)
    if match is None:
        return line, b"", b""
    return line[: match.start()], b" ", line[match.start() :]


_ESCAPES = {ord(k): v for k, v in zip('abfnrtv\\"', '\a\b\f\n\r\t\v\\"', strict=True)}


def _unquote(line: bytes) -> tuple[bytes, bytes] | None:
    """git's ``unquote_c_style``: the pattern in quotes and what follows, None if malformed."""
    out = bytearray()
    i = 1
    while i < len(line):
        c = line[i]
        if c == 0x22:  # the closing quote
            return bytes(out), line[i + 1 :]
        if c != 0x5C:
            out.append(c)
            i += 1
            continue
        nxt = line[i + 1 : i + 2]
        if nxt and nxt[0] in _ESCAPES:
            out.append(ord(_ESCAPES[nxt[0]]))
            i += 2
        elif re.fullmatch(rb"[0-3][0-7][0-7]", line[i + 1 : i + 4]):
            out.append(int(line[i + 1 : i + 4], 8))
            i += 4
        else:
            return None
    return None


def _matcher(pattern: bytes, base: bytes) -> Callable[[bytes], bool] | None:
    """A test ``path -> bool`` for one pattern of the file in ``base``, None if it matches no file.

    As git's ``path_matches``: a pattern with no slash (but a trailing one) is
    matched against the file name; others against the path below ``base``,
    a leading slash only anchoring.
    """
    if pattern.startswith(b"!"):
        return None  # negative patterns are ignored in attributes
    if pattern.endswith(b"/"):
        return None  # folder-only: attributes are looked up for files
    body = pattern[1:] if pattern.startswith(b"/") else pattern
    if (len(body) - len(body.rstrip(b"\\"))) % 2:
        return None  # a last backslash escapes nothing: git's wildmatch matches no path
    try:
        fullmatch = re.compile(translate(body), re.S).fullmatch
    except (MalformedPattern, re.error):
        return None  # wildmatch gives up on it: it matches nothing
    if b"/" not in pattern:
        return lambda path: fullmatch(path, path.rfind(b"/") + 1) is not None
    prefix = base + b"/" if base else b""
    start = len(prefix)
    return lambda path: path.startswith(prefix) and fullmatch(path, start) is not None


# --------------------------------------------------------------------------
# The attributes of one tree
# --------------------------------------------------------------------------


class DiffAttributes:
    """The ``diff`` verdict of paths under one tree's ``.gitattributes`` files.

    Folders are read lazily, only along the paths asked about, so a tree with
    no ``.gitattributes`` costs one lookup per folder. Only lines that can
    decide ``diff`` are kept: those naming ``diff`` or a macro (a line setting
    ``-binary`` stops a lower ``binary`` from expanding).
    """

    def __init__(
        self, get_raw: Callable[[bytes], tuple[int, bytes]], tree: bytes, oid_length: int = 20
    ) -> None:
        self.get_raw = get_raw
        self.width = oid_length
        self.parse = re.compile(rb"[^\0]*\0.{%d}" % oid_length, re.S).findall
        self.trees: OrderedDict[bytes, dict] = OrderedDict()  # the last few trees parsed
        self.macros: dict[bytes, States] = dict(BUILTIN_MACROS)
        # folder path -> (its tree sha or None, the rule lists that apply, deepest last)
        self.folders: dict[bytes, tuple[bytes | None, tuple[list[_Rule], ...]]] = {}
        self.verdicts: OrderedDict[bytes, bool | None] = OrderedDict()
        rules, macros = self._read(tree, b"", macros_ok=True)
        self.macros.update(macros)
        self.folders[b""] = (tree, (self._relevant(rules),) if rules else ())

    def binary(self, path: bytes) -> bool | None:
        """True: binary whatever the content; False: text whatever it holds; None: look.

        ``path`` is a regular file's path from the root, ``/``-separated.
        """
        stack = self._folder(path[: max(path.rfind(b"/"), 0)])[1]
        if not stack:
            return None
        if path in self.verdicts:
            return self.verdicts[path]
        verdict = self.verdicts[path] = self._decide(path, stack)
        if len(self.verdicts) > VERDICT_CACHE_SIZE:
            self.verdicts.popitem(last=False)
        return verdict

    def _decide(self, path: bytes, stack: tuple[list[_Rule], ...]) -> bool | None:
        """git's ``fill``: deepest file first, its lines last to first, first value wins."""
        assigned: dict[bytes, Value] = {}
        for rules in reversed(stack):
            for rule in reversed(rules):
                if rule.match(path):
                    self._fill(rule.states, assigned)
                    if b"diff" in assigned:
                        value = assigned[b"diff"]
                        return True if value is False else False if value is True else None
        return None

    def _fill(self, states: States, assigned: dict[bytes, Value]) -> None:
        for name, value in reversed(states):
            if name not in assigned:
                assigned[name] = value
                macro = self.macros.get(name)
                if macro is not None and value is True:
                    self._fill(macro, assigned)

    def _relevant(self, rules: list[_Rule]) -> list[_Rule]:
        wanted = {b"diff", *self.macros}
        return [r for r in rules if any(name in wanted for name, _ in r.states)]

    def _folder(self, folder: bytes) -> tuple[bytes | None, tuple[list[_Rule], ...]]:
        """A folder's tree sha and rule stack, from its parent's (cached)."""
        known = self.folders.get(folder)
        if known is not None:
            return known
        cut = folder.rfind(b"/")
        parent_sha, stack = self._folder(folder[:cut] if cut >= 0 else b"")
        sha = None
        if parent_sha is not None:
            mode, sha = self._entries(parent_sha).get(folder[cut + 1 :], (b"", None))
            if mode != b"40000":
                sha = None
        if sha is not None:
            rules = self._relevant(self._read(sha, folder, macros_ok=False)[0])
            if rules:
                stack = (*stack, rules)
        self.folders[folder] = (sha, stack)
        return sha, stack

    def _read(self, tree: bytes, folder: bytes, macros_ok: bool) -> tuple[list[_Rule], dict]:
        mode, sha = self._entries(tree).get(b".gitattributes", (b"", None))
        if sha is None or mode not in _FILE_MODES:
            return [], {}  # none, or a symlink: git does not follow those
        type_num, data = self.get_raw(sha)
        return parse_lines(data, folder, macros_ok) if type_num == 3 else ([], {})

    def _entries(self, tree: bytes) -> dict[bytes, tuple[bytes, bytes]]:
        """``{name: (canonical mode, binary sha)}`` of a tree."""
        entries = self.trees.get(tree)
        if entries is None:
            width = self.width
            entries = {}
            for entry in self.parse(self.get_raw(tree)[1]):
                space = entry.index(b" ")
                entries[entry[space + 1 : -width - 1]] = (
                    canon_mode(entry[:space]),
                    entry[-width:],
                )
            self.trees[tree] = entries
            if len(self.trees) > _TREES_KEPT:
                self.trees.popitem(last=False)
        return entries


_TREES_KEPT = 32
