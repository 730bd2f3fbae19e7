"""The distribution: a wheel that installs into a fresh venv and runs."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

CLIENT_DIR = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_runs(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    # Built as pip always builds it: in isolation, with the build-system's own requirements.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(dist), str(CLIENT_DIR)],
        check=True, cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = dist.glob("gitleague_client-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "gitleague_client/cli.py" in names and "gitleague_client/py.typed" in names
    assert not [n for n in names if n.startswith("tests/")]
    meta = next(n for n in names if n.endswith("METADATA"))
    metadata = zipfile.ZipFile(wheel).read(meta).decode()
    assert "Name: gitleague-client" in metadata and "Requires-Python: >=3.10" in metadata
    requires = sorted(line.split()[1] for line in metadata.splitlines()
                      if line.startswith("Requires-Dist:"))  # fmt: skip
    assert [r.split(">")[0] for r in requires] == ["click", "dulwich", "pyyaml", "requests"]

    env_dir = tmp_path / "venv"
    # The fresh venv borrows the dependencies already installed here (a path line in a
    # .pth file, so no index is needed); the client itself comes from the wheel alone.
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    site = subprocess.run([sys.executable, "-c", "import dulwich, os; "
                           "print(os.path.dirname(os.path.dirname(dulwich.__file__)))"],
                          check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    pth = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    Path(pth, "deps.pth").write_text(site + "\n")  # dulwich, requests, ... from here
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True)  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run([str(python), "-c", "import gitleague_client; print(gitleague_client.__file__)"],
                           check=True, capture_output=True, text=True, env=env).stdout  # fmt: skip
    assert str(env_dir) in where  # the wheel's copy, not the source tree
    out = subprocess.run([str(bindir / "gitleague-client"), "--help"], check=True,
                         capture_output=True, text=True, env=env).stdout  # fmt: skip
    assert "init" in out and "sync" in out and "test" in out and "Exit codes" in out
    out = subprocess.run([str(python), "-m", "gitleague_client", "--version"], check=True,
                         capture_output=True, text=True, env=env).stdout  # fmt: skip
    assert out.strip() == "gitleague-client, version 0.2.0"


def test_extraction_workers_do_not_import_the_cli() -> None:
    """``spawn`` runs the console script again in each worker, as ``__mp_main__``.

    What it imports there is memory every worker holds: the CLI's dependencies
    (click, requests, yaml) must wait until the command itself runs.
    """
    script = Path(sys.executable).with_name("gitleague-client")
    if not script.exists():
        pytest.skip("the gitleague-client command is not installed beside this interpreter")
    probe = (
        "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__mp_main__'); "
        "print(sorted(m for m in ('click', 'requests', 'yaml', 'gitleague_client.cli') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(script)], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    assert out.strip() == "[]"
