"""PDF rendering (WeasyPrint) and previews (pdfium) run in child processes replaced every few calls: the API
process never loads either library, so what they keep per rendering never accumulates in it (issue #20)."""

from __future__ import annotations

import os
import subprocess
import sys

from backend.config import PROJECT_ROOT
from backend.core.isolation import IsolatedRunner
from backend.documents import issuing

CHECK = """
import sys
from backend.main import create_app
create_app()
loaded = sorted(name for name in ("weasyprint", "pypdfium2") if name in sys.modules)
print(",".join(loaded) or "none")
"""


def test_the_api_process_loads_neither_weasyprint_nor_pdfium() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "none", result.stderr[-2000:]


def _pid(_: object) -> int:
    return os.getpid()


def test_the_pdf_renderer_runs_in_a_child_replaced_after_its_quota() -> None:
    runner = IsolatedRunner(tasks_per_child=2)
    try:
        pids = [runner.run(_pid, None) for _ in range(4)]
    finally:
        runner.close()
    assert len(set(pids)) == 2 and pids[0] == pids[1] and pids[2] == pids[3]
    assert issuing.PDF_RENDERS_PER_CHILD >= 1
    assert issuing._pdf_runner.tasks_per_child == issuing.PDF_RENDERS_PER_CHILD
