"""The product works from its wheel: no path into a checkout, the fixtures it needs inside.

Builds the wheel (``pip wheel --no-deps --no-build-isolation``: no network),
installs it without dependencies into a fresh virtual environment, and runs
``crosswalk demo --no-serve`` from an empty folder. The dependencies come from
this environment's site-packages on ``PYTHONPATH`` (a plain path entry: its
``.pth`` files, among them the editable install of the checkout, are not read),
so only the wheel can provide ``api``, ``linkage`` and ``policy``.
"""

# ruff: noqa: S603  -- every command is this interpreter or the venv it made, on paths of its own

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

_NOT_SOURCE = (".git", ".venv", "build", "*.egg-info", ".*_cache", "__pycache__", "tests",
               "benchmarks", "tools", "docs")  # fmt: skip


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built once."""
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source") / "crosswalk"
    # A copy of what the wheel is built from: setuptools writes build/ into its source.
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*_NOT_SOURCE))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(source)],
        check=True, cwd=source, env={**os.environ, "PIP_NO_INDEX": "1"},
    )  # fmt: skip
    (found,) = out.glob("crosswalk-*.whl")
    return found


def test_the_wheel_ships_the_demo_data_and_migrations_but_no_dev_tools(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    for data in ("hub.toml", "default_policy.toml", "police_cad.csv", "truth.csv"):
        assert f"api/demo/data/{data}" in names
    assert "api/hub/migrations/script.py.mako" in names
    assert any(n.startswith("api/hub/migrations/versions/0001") for n in names)
    assert not any(n.startswith(("tools/", "tests/", "benchmarks/")) for n in names)


def test_crosswalk_demo_runs_from_the_installed_wheel_in_any_folder(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
         str(wheel)],
        check=True,
    )  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import api; print(api.__file__)"],
        check=True, capture_output=True, text=True, cwd=elsewhere, env=env,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(venv))

    demo = subprocess.run(
        [str(venv / "bin" / "crosswalk"), "demo", "--no-serve", "--dir", str(tmp_path / "store")],
        capture_output=True, text=True, cwd=elsewhere, env=env, timeout=600,
    )  # fmt: skip

    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "Linked " in demo.stdout
    assert "Sign in with these bearer tokens" in demo.stdout
