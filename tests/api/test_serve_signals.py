"""``crosswalk serve`` stops its children when it is told to stop (SIGTERM or SIGINT)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.live import free_port


def _children(pid: int) -> set[int]:
    """Every descendant of ``pid`` still alive, read from /proc (psutil is not a dependency)."""
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = {int(k) for k in task.read_text().split()}
            except OSError:
                continue
            frontier.extend(kids - found)
            found |= kids
    return found


def _group(pgid: int) -> set[int]:
    """Every live (not zombie) process in group ``pgid``."""
    alive = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.add(int(stat.parent.name))
    return alive


def _healthy(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
    return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_its_sealer_process_on_a_signal(tmp_path: Path, signum: int) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CROSSWALK_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}",
        "CROSSWALK_ENVIRONMENT": "development",
        "CROSSWALK_AUDIT_SEAL_INTERVAL_SECONDS": "0.1",
    }
    code = "from api.cli import entry_point; entry_point()"
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", code, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, to look for leftovers in
    )
    try:
        assert _healthy(port, 60)
        children = _children(server.pid)
        assert children  # the sealer (and multiprocessing's resource tracker)

        server.send_signal(signum)
        server.wait(timeout=20)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _group(server.pid):
            time.sleep(0.1)

        assert _group(server.pid) == set()  # the children share the server's group
    finally:
        if server.poll() is None:
            server.kill()
        for pid in _group(server.pid):
            os.kill(pid, signal.SIGKILL)
