"""A child of the isolation runner (PDF checks, previews, the renderer) ends when the process that started it is
gone: an API process killed (or stopped by a supervisor that signals only it) leaves no parser running."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from backend.config import PROJECT_ROOT

PARENT = """
import os, sys
from backend.core.isolation import IsolatedRunner
runner = IsolatedRunner()
print(runner.run(os.getpid), flush=True)
sys.stdin.read()
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_a_child_ends_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], cwd=PROJECT_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _alive(child)
    finally:
        parent.kill()
        parent.wait(timeout=30)
    deadline = time.monotonic() + 60
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)
