"""The data model. Importing this package registers every table."""

from .api_key import ApiKey
from .audit import AuditLog
from .commit import Commit
from .league import (
    LeagueAlias,
    LeagueCommit,
    LeagueDay,
    LeagueRepoDay,
    LeagueRepoTotal,
    LeagueSettings,
    LeagueTotal,
    RepoMailmap,
)
from .project import Project
from .repo import Repo, SyncStatus
from .sync_run import SyncRun, SyncRunStatus
from .user import Role, User

__all__ = [
    "ApiKey",
    "AuditLog",
    "Commit",
    "LeagueAlias",
    "LeagueCommit",
    "LeagueDay",
    "LeagueRepoDay",
    "LeagueRepoTotal",
    "LeagueSettings",
    "LeagueTotal",
    "Project",
    "Repo",
    "RepoMailmap",
    "Role",
    "SyncRun",
    "SyncRunStatus",
    "SyncStatus",
    "User",
]
