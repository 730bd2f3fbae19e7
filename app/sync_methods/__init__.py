"""Sync methods: the ``SyncMethod`` interface, the built-ins and the registry."""

from .base import PlannedChange, SyncMethod, TransitionContext
from .registry import SyncMethodRegistry, get_registry

__all__ = [
    "PlannedChange",
    "SyncMethod",
    "SyncMethodRegistry",
    "TransitionContext",
    "get_registry",
]
