"""An example third-party sync method: ``example_hook`` (see docs/plugins.md).

A git server's webhook posts commits; the server accepts pushes and
schedules nothing. Leaving the method forgets the hook, entering it asks for
one to be configured. Also holds deliberately broken entries that the tests
register to prove that a bad plugin is refused by name and is not fatal.
"""

from __future__ import annotations

from app.sync_methods import PlannedChange, SyncMethod, TransitionContext


class ExampleHookSyncMethod(SyncMethod):
    """Commits arrive from a git server's webhook."""

    name = "example_hook"
    label = "EXAMPLE_HOOK (plugin)"
    description = "a git server's webhook posts new commits"
    accepts_push = True

    def plan_enter(self, repo, *, source: str, context: TransitionContext) -> list[PlannedChange]:
        """Entering asks for a webhook to be configured on the git server."""
        return [PlannedChange("webhook", "Configure the webhook on the git server")]

    def plan_leave(self, repo, *, target: str, context: TransitionContext) -> list[PlannedChange]:
        """Leaving forgets the webhook."""
        return [PlannedChange("webhook", "Remove the webhook from the git server")]


class NotAMethod:
    """Broken on purpose: not a SyncMethod subclass."""


class PushClone(ExampleHookSyncMethod):
    """Broken on purpose: claims the built-in name push_client."""

    name = "push_client"
