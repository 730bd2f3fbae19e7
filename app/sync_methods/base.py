"""The ``SyncMethod`` interface: what a plugin author implements.

A sync method decides how commits of a repository reach GitLeague. The
server knows methods only through this interface, so a new method is one
class, registered under the entry-point group ``gitleague.sync_methods``
with the entry-point name equal to its :attr:`SyncMethod.name`.

Moving a repository between methods (``flask migrate-sync``) happens in two
steps. First the *plan*: :meth:`SyncMethod.plan_leave` on the old method and
:meth:`SyncMethod.plan_enter` on the new one describe, without touching
anything, what the move would change (dry-run prints these lines). Then the
*apply*: :meth:`SyncMethod.leave` and :meth:`SyncMethod.enter` make those
changes on the repo object inside the migration's transaction. Hooks must
never delete commits or touch ``last_ingested_sha``: every transition keeps
both.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ..models import Repo


@dataclass(frozen=True)
class PlannedChange:
    """One change a transition will make, as a line a human can read.

    ``field`` names the repo attribute concerned (or a pseudo-field such as
    ``"queued_job"``), so tools can compare plans; ``description`` is what
    dry-run prints after ``- ``.
    """

    field: str
    description: str
    #: Set by the migration service on changes that leaving a method makes
    #: (what the audit entry lists as cleared); plugins leave it False.
    cleared: bool = False


@dataclass
class TransitionContext:
    """What hooks may use besides the repo: the acting user and app services.

    ``services`` carries optional handles by name (for example ``"redis"``,
    an open Redis connection, or absent when the server runs without Redis).
    Hooks must cope with a missing service.
    """

    actor: str
    dry_run: bool = False
    services: dict[str, Any] = field(default_factory=dict)


class SyncMethod(abc.ABC):
    """Base class of every sync method.

    Subclasses set the class attributes and override the hooks they need;
    every hook has a do-nothing default so that a minimal method is a name,
    a label and :meth:`accepts_push` or :attr:`server_scheduled`.
    """

    #: Identifier stored in ``repos.sync_method``; lowercase, ``[a-z0-9_]+``.
    name: ClassVar[str]
    #: Label shown in status output, such as ``"PUSH_CLIENT (new)"``.
    label: ClassVar[str]
    #: One sentence for ``flask migrate-sync methods`` and the web UI.
    description: ClassVar[str] = ""
    #: True when the server itself fetches commits on a schedule.
    server_scheduled: ClassVar[bool] = False
    #: True when clients may upload commits through the push API.
    accepts_push: ClassVar[bool] = False

    # -- transitions -------------------------------------------------------

    def plan_leave(
        self, repo: Repo, *, target: str, context: TransitionContext
    ) -> list[PlannedChange]:
        """Describe what leaving this method for ``target`` does to ``repo``.

        Must change nothing: not the repo, not the database, not a queue.
        Dry-run prints each change as ``- <description>``; the real run calls
        :meth:`leave` afterwards. Return only changes that will really happen
        (for example, mention a queued job only when one is queued).
        """
        return []

    def plan_enter(
        self, repo: Repo, *, source: str, context: TransitionContext
    ) -> list[PlannedChange]:
        """Describe what entering this method from ``source`` does to ``repo``.

        Same rules as :meth:`plan_leave`; called after it, on the unchanged repo.
        """
        return []

    def leave(self, repo: Repo, *, target: str, context: TransitionContext) -> None:  # noqa: B027
        """Apply :meth:`plan_leave` to ``repo``.

        Runs inside the migration's transaction with the repo row locked; an
        exception rolls the whole transition of this repo back. Set
        attributes on ``repo``; do not commit. Never delete commits and never
        touch ``last_ingested_sha``.
        """

    def enter(self, repo: Repo, *, source: str, context: TransitionContext) -> None:  # noqa: B027
        """Apply :meth:`plan_enter` to ``repo`` (same rules as :meth:`leave`).

        Called after :meth:`leave` and after ``repo.sync_method`` was set to
        this method's name.
        """

    # -- state -------------------------------------------------------------

    def active_reason(self, repo: Repo, *, context: TransitionContext) -> str | None:
        """Why ``repo`` counts as syncing right now, or None when it is idle.

        ``migrate --exclude-active`` skips repos with a reason and prints it,
        so write it for a human (``"pull job sync_repo-abc is queued"``).
        When the answer cannot be known (a service is down), return a reason
        saying so: skipping is the safe side.
        """
        return None

    def missing_requirements(self, repo: Repo) -> list[str]:
        """What ``repo`` lacks to sync healthily under this method (empty: nothing).

        Short nouns such as ``"credentials"``; a repo that lacks something is
        shown as ``needs_credentials``.
        """
        return []

    def initial_status(self, repo: Repo) -> str:
        """The ``sync_status`` a new repo gets under this method.

        One of ``never``, ``healthy``, ``failing``, ``needs_credentials``.
        """
        return "needs_credentials" if self.missing_requirements(repo) else "never"
