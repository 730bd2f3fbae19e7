"""Checking a YAML document node by node, so that every problem names its line.

:class:`NodeChecker` holds the generic checks (mappings with known keys and a
"did you mean", strings, numbers in a range); config.py builds the repos.yaml
schema on it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

#: Nodes a document may hold once its aliases are expanded. repos.yaml has a few
#: hundred; an "alias bomb" of 10 KB expands to billions, which would take minutes
#: and gigabytes to walk (and report).
MAX_EXPANDED_NODES = 100_000
#: Tags the safe loader builds; anything else (``!!python/unicode``, ``!custom``) is refused.
SAFE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "binary")
)


def graph_problems(root: yaml.Node, path: Path) -> list[str]:
    """What makes a composed document unsafe to walk: foreign tags, cycles, alias bombs.

    ``yaml.compose`` shares one node for every alias of an anchor; walking (or
    loading) the document visits it once per alias. The expanded size is counted
    over the shared graph in linear time (memoized per node), before anything walks it.
    """
    problems: list[str] = []
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _Unsafe(node, "an alias refers to a node that contains it (a cycle)")
        if node.tag == "tag:yaml.org,2002:merge":
            raise _Unsafe(node, "merge keys (<<) are not supported; write the fields out")
        if node.tag not in SAFE_TAGS:
            raise _Unsafe(node, f"unsupported YAML tag {node.tag!r}; use plain values")
        if isinstance(node, yaml.ScalarNode):
            _check_scalar(node)
        active.add(key)
        total = 1 + sum(size(child) for child in _children(node))
        active.discard(key)
        if total > MAX_EXPANDED_NODES:
            raise _Unsafe(
                node,
                f"the document expands to more than {MAX_EXPANDED_NODES:,} values "
                "through its aliases (*name); write the values out instead",
            )
        sizes[key] = total
        return total

    try:
        size(root)
    except _Unsafe as exc:
        line = exc.node.start_mark.line + 1
        problems.append(f"{path}:{line}: {exc.why}")
    except RecursionError:
        problems.append(f"{path}: the document is nested too deeply")
    return problems


def _check_scalar(node: yaml.ScalarNode) -> None:
    """Build the scalar once: an explicit tag on a value it does not fit is a problem here."""
    try:
        SafeConstructor().construct_object(node, deep=True)
    # PyYAML's constructors fail in their own ways (``!!timestamp x``: AttributeError).
    except (yaml.YAMLError, ValueError, TypeError, AttributeError, LookupError, OverflowError):
        tag = node.tag.rsplit(":", 1)[-1]
        raise _Unsafe(node, f"{node.value!r} is not a valid {tag}") from None


class _Unsafe(Exception):
    def __init__(self, node: yaml.Node, why: str) -> None:
        super().__init__(why)
        self.node = node
        self.why = why


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        yield from node.value
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value


class NodeChecker:
    """Collects ``(line, "file:line: field: why")`` problems while values are built."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[tuple[int, str]] = []
        self._constructor = SafeConstructor()

    # -- reporting -------------------------------------------------------------------------
    def problem(self, node: yaml.Node | None, where: str, why: str) -> None:
        """Note that ``where`` (a dotted field path) at ``node``'s line is wrong: ``why``."""
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append((line, f"{self.path}:{line}: {where}: {why}"))

    # -- generic node helpers --------------------------------------------------------------
    def mapping(
        self, node: yaml.Node, where: str, known: tuple[str, ...]
    ) -> dict[str, yaml.Node] | None:
        """The fields of a mapping node; unknown, duplicate or non-string keys are problems."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, where or "(top level)", f"must be a mapping, got {kind(node)}")
            return None
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node)
            name = f"{where}.{key}" if where else str(key)
            if not isinstance(key, str):
                self.problem(key_node, name, "keys must be strings")
            elif key in out:
                first = out[key].start_mark.line + 1
                self.problem(key_node, name, f"duplicate key (first set on line {first})")
            elif key not in known:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                tip = f"; did you mean '{close[0]}'?" if close else ""
                self.problem(key_node, name, f"unknown key{tip} (known: {', '.join(known)})")
            else:
                out[key] = value_node
        return out

    def scalar(self, node: yaml.Node) -> Any:
        """A scalar node's value as YAML's safe loader makes it; other nodes as they are."""
        if isinstance(node, yaml.ScalarNode):
            return self._constructor.construct_object(node, deep=True)
        return node  # a mapping or sequence where a scalar was expected: the caller says so

    def optional_str(self, fields: dict[str, yaml.Node], key: str, where: str) -> str | None:
        """A non-empty string, or None when absent; anything else is a problem."""
        node = fields.get(key)
        if node is None:
            return None
        value = self.scalar(node)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(
                node,
                f"{where}.{key}".lstrip("."),
                f"must be a non-empty string, got {kind(node, value)}",
            )
            return None
        return value

    def required_str(
        self, fields: dict[str, yaml.Node], key: str, where: str, parent: yaml.Node
    ) -> str | None:
        """As :meth:`optional_str`, and absence is a problem too."""
        if key not in fields or self.scalar(fields[key]) is None:
            self.problem(parent, f"{where}.{key}".lstrip("."), "missing required field")
            return None
        return self.optional_str(fields, key, where)

    def number(
        self,
        fields: dict[str, yaml.Node],
        key: str,
        integer: bool,
        bounds: tuple[float, float],
        default: Any,
    ) -> Any:
        """``fields[key]`` if it is a number within ``bounds``, else ``default``."""
        low, high = bounds
        node = fields.get(key)
        if node is None:
            return default
        value = self.scalar(node)
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
            want = "an integer" if integer else "a number"
            self.problem(node, key, f"must be {want}, got {kind(node, value)}")
            return default
        if not low <= value <= high:
            self.problem(node, key, f"must be between {low:g} and {high:g}, got {value}")
            return default
        return value


def kind(node: yaml.Node, value: Any = None) -> str:
    """What a node holds, for messages: "a mapping", "a list", "int 3", "nothing"."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if value is None:
        return "nothing" if node.value in ("", "~", "null") else repr(node.value)
    return f"{type(value).__name__} {value!r}"
