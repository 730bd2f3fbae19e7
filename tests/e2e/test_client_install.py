"""The one-line install: pip installs the client straight from a live server's /client/ URL."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_pip_installs_the_client_from_the_server(live_server: Any, tmp_path: Path) -> None:
    info = requests.get(f"{live_server.url}/client/", timeout=10).json()
    assert info["pip_install"] == f"pip install {live_server.url}/client/{info['wheel']}"
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # Dependencies come from this environment (a .pth line), the client from the server.
    site = subprocess.run([sys.executable, "-c", "import dulwich, os; "
                           "print(os.path.dirname(os.path.dirname(dulwich.__file__)))"],
                          check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    Path(purelib, "deps.pth").write_text(site + "\n")
    command = info["pip_install"].split()  # exactly the command the server gives
    subprocess.run([str(python), "-m", *command, "-q", "--no-deps", "--no-index"], check=True,
                   timeout=300)  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([str(env_dir / "bin" / "gitleague-client"), "--version"], check=True,
                         capture_output=True, text=True, env=env).stdout  # fmt: skip
    assert out.strip() == f"gitleague-client, version {info['version']}"
    assert f"GET /client/{info['wheel']} " in live_server.log()  # pip fetched it from there
