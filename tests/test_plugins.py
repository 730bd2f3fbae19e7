"""Sync methods as plugins: the contract, a real installed plugin, broken plugins.

The example plugin (tests/example_plugin) is packed into a real wheel with
entry points in ``gitleague.sync_methods`` and installed by pip into a
temporary folder put on ``sys.path``, where ``importlib.metadata`` finds its
dist-info like any installed distribution. Everything is undone after the
test: the folder is deleted and the module forgotten.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from app.db import db
from app.sync_methods.registry import discover, get_registry
from app.sync_methods.testing import CONTRACT_CHECKS
from tests.conftest import TEST_CONFIG

PLUGIN_SRC = Path(__file__).parent / "example_plugin" / "gitleague_example_plugin"
DIST = "gitleague_example_plugin-0.1.0"
ENTRY_POINTS = """\
[gitleague.sync_methods]
example_hook = gitleague_example_plugin:ExampleHookSyncMethod
broken_import = gitleague_example_plugin.missing:Nothing
not_a_method = gitleague_example_plugin:NotAMethod
wrong_name = gitleague_example_plugin:ExampleHookSyncMethod
push_client = gitleague_example_plugin:PushClone
"""


@pytest.mark.parametrize("check", CONTRACT_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("method_name", sorted({c.name for c in discover()}))
def test_registered_methods_meet_the_contract(app, check, method_name):
    check(app, method_name)


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(out: Path) -> Path:
    """A real wheel of the example plugin (metadata, entry points, RECORD)."""
    files = {f"gitleague_example_plugin/{p.name}": p.read_bytes() for p in PLUGIN_SRC.glob("*.py")}
    files[f"{DIST}.dist-info/METADATA"] = (
        b"Metadata-Version: 2.1\nName: gitleague-example-plugin\nVersion: 0.1.0\n"
        b"Summary: Example GitLeague sync method\n"
    )
    files[f"{DIST}.dist-info/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: gitleague-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{DIST}.dist-info/entry_points.txt"] = ENTRY_POINTS.encode()
    record = [_record_line(name, data) for name, data in files.items()]
    files[f"{DIST}.dist-info/RECORD"] = (
        "\n".join([*record, f"{DIST}.dist-info/RECORD,,"]) + "\n"
    ).encode()
    wheel = out / f"{DIST}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return wheel


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """pip-install the example plugin into a temporary site folder on sys.path."""
    site = tmp_path / "site"
    wheel = build_wheel(tmp_path)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield site
    for name in [m for m in sys.modules if m.startswith("gitleague_example_plugin")]:
        del sys.modules[name]
    importlib.invalidate_caches()


@pytest.fixture
def plugin_app(installed_plugin: Any, database_url: str) -> Any:
    """An app built after the plugin was installed, so its registry sees it."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_installed_plugin_is_registered_and_broken_ones_refused_by_name(plugin_app):
    registry = get_registry(plugin_app)
    assert "example_hook" in registry
    assert registry.origin("example_hook") == "gitleague-example-plugin"
    assert registry.origin("push_client") == "builtin"
    errors = registry.errors
    assert set(errors) == {"broken_import", "not_a_method", "wrong_name", "push_client"}
    assert "ModuleNotFoundError" in errors["broken_import"]
    assert "not a subclass of SyncMethod" in errors["not_a_method"]
    assert "registered as 'wrong_name'" in errors["wrong_name"]
    assert (
        "builtin" in errors["push_client"] and "gitleague-example-plugin" in errors["push_client"]
    )

    result = plugin_app.test_cli_runner().invoke(args=["migrate-sync", "methods"])
    assert result.exit_code == 0, result.output
    assert "example_hook" in result.output and "gitleague-example-plugin" in result.output
    for name in ("broken_import", "not_a_method", "wrong_name", "push_client"):
        assert f"   {name}: " in result.output


def test_repo_migrates_to_the_plugin_and_back(plugin_app):
    from tests.helpers import Seed

    seed = Seed(plugin_app)
    owner = seed.actor()
    repo_id = seed.repo(seed.project(owner), name="Hooked", repo_id="hooked-1")
    runner = plugin_app.test_cli_runner()
    dry = runner.invoke(
        args=["migrate-sync", "migrate", "--to", "example_hook", "--dry-run", repo_id]
    )
    assert dry.exit_code == 0, dry.output
    assert "   - Configure the webhook on the git server\n" in dry.output
    there = runner.invoke(args=["migrate-sync", "migrate", "--to", "example_hook", repo_id])
    assert there.exit_code == 0, there.output
    assert there.output.endswith("✓ 1/1 migrations completed\n")
    assert seed.get_repo(repo_id).sync_method == "example_hook"
    # The plugin accepts pushes: the push protocol now serves it.
    resp = plugin_app.test_client().post(
        f"/api/v1/repos/{repo_id}/sync-runs", json={}, headers=owner.headers()
    )
    assert resp.status_code == 201, resp.json
    back = runner.invoke(args=["migrate-sync", "rollback", repo_id])
    assert back.exit_code == 0, back.output
    assert "✓ Rolled back successfully" in back.output
    assert seed.get_repo(repo_id).sync_method == "push_client"


@pytest.mark.parametrize("check", CONTRACT_CHECKS, ids=lambda c: c.__name__)
def test_installed_plugin_meets_the_contract(plugin_app, check):
    check(plugin_app, "example_hook")


def test_uninstalled_method_is_one_line_per_repo(app, seed, runner):
    owner = seed.actor()
    repo_id = seed.repo(seed.project(owner))
    result = runner.invoke(args=["migrate-sync", "migrate", "--to", "nope", repo_id, "missing"])
    assert result.exit_code == 1
    assert result.output == (
        f"✗ {repo_id}: sync method 'nope' is not installed (installed: pull_celery, push_client)\n\n"
        "✗ missing: Repository not found\n\n"
        "✓ 0/2 migrations completed\n"
    )


def test_plugin_authors_can_run_the_contract_on_their_own_app(tmp_path):
    from app.sync_methods.testing import contract_app

    app = contract_app(tmp_path)
    try:
        for check in CONTRACT_CHECKS:
            check(app, "push_client")
    finally:
        with app.app_context():
            db.engine.dispose()
