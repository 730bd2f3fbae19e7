"""The sync-method registry, kept per app in ``app.extensions``.

Methods are found through the entry-point group ``gitleague.sync_methods``.
The built-ins are registered in that group too (setup.cfg) and are also
known without installation, so a source checkout works. A plugin that fails
to import or does not meet the interface is reported by name and skipped;
it never takes the server down.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from flask import Flask, current_app

from ..errors import ValidationFailedError
from .base import SyncMethod

log = logging.getLogger(__name__)

GROUP = "gitleague.sync_methods"
EXTENSION_KEY = "gitleague.sync_methods"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
BUILTINS = {
    "pull_celery": "app.sync_methods.pull_celery:PullCelerySyncMethod",
    "push_client": "app.sync_methods.push_client:PushClientSyncMethod",
}


class UnknownSyncMethodError(ValidationFailedError):
    """A name that no registered sync method carries."""

    code = "unknown_sync_method"

    def __init__(self, name: str, installed: Iterable[str] = ()) -> None:
        names = ", ".join(sorted(installed))
        hint = f" (installed: {names})" if names else ""
        super().__init__(f"sync method '{name}' is not installed{hint}")


@dataclass(frozen=True)
class Candidate:
    """A method found somewhere, before it is checked."""

    name: str
    target: str  # "module:attr"
    origin: str  # distribution name, or "builtin"


class SyncMethodRegistry:
    """Registered sync methods by name, plus the plugins that were refused."""

    def __init__(self) -> None:
        self._methods: dict[str, SyncMethod] = {}
        self._origins: dict[str, str] = {}
        self.errors: dict[str, str] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._methods

    def __iter__(self) -> Iterator[SyncMethod]:
        return iter(self._methods.values())

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._methods)

    def origin(self, name: str) -> str:
        """Where the method came from (a distribution name or ``builtin``)."""
        return self._origins[name]

    def get(self, name: str) -> SyncMethod:
        """The method called ``name``, or :class:`UnknownSyncMethodError`."""
        try:
            return self._methods[name]
        except KeyError:
            raise UnknownSyncMethodError(name, self._methods) from None

    def register(self, method: SyncMethod, origin: str = "code") -> None:
        """Add a checked method instance; a second method of one name is refused."""
        problem = check_method(type(method), method.name)
        if problem:
            raise TypeError(problem)
        if method.name in self._methods:
            raise ValueError(
                f"sync method '{method.name}' is provided by both "
                f"{self._origins[method.name]} and {origin}"
            )
        self._methods[method.name] = method
        self._origins[method.name] = origin

    def load(self, candidates: Iterable[Candidate]) -> None:
        """Import, check and register candidates; record every refusal by name."""
        by_name: dict[str, list[Candidate]] = {}
        for cand in candidates:
            same = by_name.setdefault(cand.name, [])
            if all(c.target != cand.target for c in same):
                same.append(cand)
        for name, group in by_name.items():
            if len(group) > 1:
                self._refuse_duplicates(name, group)
                group = [c for c in group if c.origin == "builtin"]
            for cand in group:
                self._load_one(cand)

    def _refuse_duplicates(self, name: str, group: list[Candidate]) -> None:
        who = " and ".join(f"{c.origin} ({c.target})" for c in group)
        self.errors[name] = f"sync method '{name}' is provided twice: {who}"
        log.error("%s", self.errors[name])

    def _load_one(self, cand: Candidate) -> None:
        try:
            cls = _import(cand.target)
        except Exception as exc:  # a broken plugin must not stop the server
            self._refuse(cand, f"failed to import {cand.target}: {type(exc).__name__}: {exc}")
            return
        problem = check_method(cls, cand.name)
        if problem is None:
            try:
                self.register(cls(), origin=cand.origin)
                return
            except Exception as exc:  # constructor of a third-party plugin
                problem = f"could not be created: {type(exc).__name__}: {exc}"
        self._refuse(cand, problem)

    def _refuse(self, cand: Candidate, problem: str) -> None:
        self.errors[cand.name] = f"plugin '{cand.name}' from {cand.origin} refused: {problem}"
        log.error("%s", self.errors[cand.name])


def check_method(cls: Any, entry_name: str) -> str | None:
    """Why ``cls`` cannot be registered under ``entry_name``, or None when it can."""
    if not (inspect.isclass(cls) and issubclass(cls, SyncMethod)):
        return f"{cls!r} is not a subclass of SyncMethod"
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(cls.__abstractmethods__))
        return f"{cls.__name__} leaves abstract methods unimplemented: {missing}"
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not NAME_RE.match(name):
        return f"{cls.__name__}.name must match {NAME_RE.pattern}, got {name!r}"
    if name != entry_name:
        return f"{cls.__name__}.name is {name!r} but it is registered as {entry_name!r}"
    if not isinstance(getattr(cls, "label", None), str):
        return f"{cls.__name__}.label must be a string"
    return None


def _import(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    module = __import__(module_name, fromlist=[attr])
    return getattr(module, attr)


def discover() -> list[Candidate]:
    """Built-ins first, then every entry point of the group."""
    found = [Candidate(name, target, "builtin") for name, target in BUILTINS.items()]
    for ep in metadata.entry_points(group=GROUP):
        dist = ep.dist.name if ep.dist is not None else "unknown distribution"
        origin = "builtin" if BUILTINS.get(ep.name) == ep.value else dist
        found.append(Candidate(ep.name, ep.value, origin))
    return found


def init_app(app: Flask) -> None:
    """Build the registry for ``app`` from the installed plugins."""
    registry = SyncMethodRegistry()
    registry.load(discover())
    app.extensions[EXTENSION_KEY] = registry


def get_registry(app: Flask | None = None) -> SyncMethodRegistry:
    """The registry of ``app`` (default: the current app)."""
    target = app or current_app
    return target.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
