"""The client the server ships: its wheel at /client/, the published client's endpoints 410."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from app.db import db
from app.models import SyncRun
from app.services import client_wheel


@pytest.fixture
def wheel_app(app: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    # One cache for the whole session: the wheel is built once, not per test.
    app.config["GITLEAGUE_CLIENT_WHEEL_DIR"] = str(
        tmp_path_factory.getbasetemp() / "client-wheel-cache"
    )
    return app


def test_the_wheel_of_the_shipped_client_is_served_without_auth(wheel_app: Any) -> None:
    http = wheel_app.test_client()
    info = http.get("/client/")
    assert info.status_code == 200
    version = info.json["version"]
    assert tuple(int(p) for p in version.split(".")[:2]) > (0, 1)  # above the published 0.1.0
    name = f"gitleague_client-{version}-py3-none-any.whl"
    assert info.json["wheel"] == name
    assert info.json["install"] == f"pipx install http://localhost/client/{name}"
    resp = http.get(f"/client/{name}")
    data = resp.get_data()
    resp.close()  # send_file's handle
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    wheel = zipfile.ZipFile(io.BytesIO(data))
    names = wheel.namelist()
    assert "gitleague_client/cli.py" in names and not [n for n in names if "tests/" in n]
    # One wheel for every platform: no compiled module, even beside an editable build.
    assert "gitleague_client/xdlsplit.py" in names
    assert not [n for n in names if n.endswith((".so", ".pyd", ".c"))]
    metadata = wheel.read(f"gitleague_client-{version}.dist-info/METADATA").decode()
    assert f"Version: {version}" in metadata and "Name: gitleague-client" in metadata
    again = http.get(f"/client/{name}")  # from the cache now
    assert again.get_data() == data
    again.close()
    missing = http.get("/client/gitleague_client-0.1.0-py3-none-any.whl")
    assert missing.status_code == 404 and name in missing.json["error"]["message"]
    assert http.get("/client/gitleague_client-0.1.0.tar.gz").status_code == 404


def test_the_source_archive_is_served_and_builds(wheel_app: Any, tmp_path: Path) -> None:
    """The sdist holds what a build needs (no tests, no compiled modules) and pip builds it."""
    http = wheel_app.test_client()
    info = http.get("/client/").json
    name = f"gitleague_client-{info['version']}.tar.gz"
    assert info["sdist"] == name and info["sdist_install"] == f"pipx install {info['sdist_url']}"
    resp = http.get(f"/client/{name}")
    data = resp.get_data()
    resp.close()
    assert resp.status_code == 200 and resp.mimetype == "application/gzip"
    again = http.get(f"/client/{name}")
    assert again.get_data() == data  # the same bytes from the cache
    again.close()
    archive = tmp_path / name
    archive.write_bytes(data)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert {m.mtime for m in tar.getmembers()} == {0}  # reproducible
    root = name.removesuffix(".tar.gz")
    for needed in ("pyproject.toml", "setup.py", "README.md", "gitleague_client/xdlsplit.py"):
        assert f"{root}/{needed}" in names
    assert not [n for n in names if "/tests/" in n or n.endswith((".so", ".pyc"))]
    # Built as pip builds an sdist (pure here to stay quick: CI's install compiles).
    env = {**os.environ, "GITLEAGUE_CLIENT_PURE": "1"}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(tmp_path / "out"), str(archive)],
                   check=True, env=env, capture_output=True)  # fmt: skip
    built = list((tmp_path / "out").glob("gitleague_client-*.whl"))
    assert [w.name for w in built] == [f"gitleague_client-{info['version']}-py3-none-any.whl"]


def test_a_changed_source_is_built_again(tmp_path: Path) -> None:
    import shutil

    source = tmp_path / "cli_client"
    shutil.copytree(client_wheel.CLIENT_SOURCE, source,
                    ignore=shutil.ignore_patterns("tests", "__pycache__", "build", "*.egg-info"))  # fmt: skip
    first = client_wheel.wheel_path(tmp_path / "cache", source)
    init = source / "gitleague_client" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "9.'))
    second = client_wheel.wheel_path(tmp_path / "cache", source)
    assert first != second and second.name.startswith("gitleague_client-9.")
    assert not (source / "build").exists()  # built from a copy


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/sync/projects/p1/repos/r1/status"),
        ("POST", "/api/v1/sync/projects/p1/repos/r1/commits"),
    ],
)
def test_the_published_clients_endpoints_answer_410_naming_ours(
    client: Any, method: str, path: str
) -> None:
    resp = client.open(path, method=method, json={"commits": []})
    assert resp.status_code == 410
    error = resp.json["error"]
    assert error["code"] == "client_not_supported"
    assert "pipx install http://localhost/client/gitleague_client-" in error["message"]
    assert "0.1.0" in error["message"]


def test_the_client_version_is_recorded_per_sync_run(client: Any, app: Any, seed: Any) -> None:
    owner = seed.actor()
    repo_id = seed.repo(seed.project(owner))
    headers = {**owner.headers(), "User-Agent": "gitleague-client/0.2.0"}
    run = client.post(f"/api/v1/repos/{repo_id}/sync-runs", json={}, headers=headers)
    assert run.status_code == 201 and run.json["client_version"] == "0.2.0"
    other = client.post(f"/api/v1/repos/{repo_id}/sync-runs", json={},
                        headers={**owner.headers(), "User-Agent": "curl/8.0"})  # fmt: skip
    assert other.json["client_version"] is None
    with app.app_context():
        assert db.session.get(SyncRun, run.json["id"]).client_version == "0.2.0"
