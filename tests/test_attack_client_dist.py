"""Attack pass: /client/ with paths that try to leave it, and a cache folder it cannot use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.mark.parametrize(
    "path",
    ["/client/../../setup.cfg", "/client/%2e%2e/%2e%2e/setup.cfg", "/client/..%2f..%2fsetup.cfg",
     "/client/%2e%2e%2fsetup.cfg", "/client/setup.cfg", "/client/%00",
     "/api/v1/docs/assets/..%2f..%2fsetup.cfg", "/api/v1/docs/assets/%2e%2e"],
)  # fmt: skip
def test_paths_out_of_the_client_folder_are_404(client: Any, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code in (404, 422), (path, resp.status_code)
    assert b"[metadata]" not in resp.data and resp.json["error"]["message"]


def test_an_unusable_wheel_cache_folder_is_a_503_naming_it(app: Any, tmp_path: Path) -> None:
    """The operator pointed GITLEAGUE_CLIENT_WHEEL_DIR below a file: that was a 500."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app.config["GITLEAGUE_CLIENT_WHEEL_DIR"] = str(blocker / "wheels")
    client = app.test_client()
    name = client.get("/client/").json["wheel"]
    resp = client.get(f"/client/{name}")
    assert resp.status_code == 503, resp.get_data(as_text=True)[:300]
    assert resp.json["error"]["code"] == "client_unavailable"
    assert "GITLEAGUE_CLIENT_WHEEL_DIR" in resp.json["error"]["message"]
    assert str(tmp_path) not in resp.get_data(as_text=True)  # no server path to strangers
