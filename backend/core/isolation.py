"""Running a parser of untrusted bytes in a child process with a memory ceiling and a deadline.

A file crafted to exhaust a parser (a compressed stream that inflates to gigabytes, a reference loop the
parser walks for minutes) must cost an upload a refusal, not the API process its memory or its event loop.
The work runs in a separate process whose address space is capped (RLIMIT_AS); if it runs out of memory,
dies, or passes the deadline, the caller gets `IsolatedWorkFailed` and the process is replaced. The child
also keeps heavy native libraries (qpdf) out of the API process's resident memory.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

ResultT = TypeVar("ResultT")

DEFAULT_MEMORY_BYTES = 1024 * 1024 * 1024
DEFAULT_TIMEOUT_SECONDS = 30.0
# A child serves this many calls before it is replaced: what one parse leaves behind does not accumulate.
TASKS_PER_CHILD = 200
PARENT_WATCH_SECONDS = 1.0  # how often a child checks that its parent is still there
WATCH_STACK_BYTES = 256 * 1024


class IsolatedWorkFailed(Exception):
    """The child ran out of memory, crashed or passed its deadline."""


def _start_child(memory_bytes: int) -> None:
    """In the child, before its first call: the memory ceiling, and a watch that ends the child when its parent
    is gone (an API process killed, or stopped by a supervisor that signals only it, would otherwise leave its
    renderer and parser children running, reparented to init)."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    parent = os.getppid()
    default_stack = threading.stack_size(WATCH_STACK_BYTES)  # the thread's stack counts against the ceiling
    try:
        threading.Thread(target=_exit_when_orphaned, args=(parent,), name="parent-watch", daemon=True).start()
    finally:
        threading.stack_size(default_stack)


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_WATCH_SECONDS)
    os._exit(0)


class IsolatedRunner:
    """One child process (spawned, so it inherits no threads or sockets of the API) doing one call at a time."""

    def __init__(self, memory_bytes: int = DEFAULT_MEMORY_BYTES, *, tasks_per_child: int = TASKS_PER_CHILD) -> None:
        self.memory_bytes = memory_bytes
        self.tasks_per_child = tasks_per_child
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_child,
                initargs=(self.memory_bytes,),
                max_tasks_per_child=self.tasks_per_child,
            )
        return self._pool

    def _discard(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()  # a child stuck past its deadline would otherwise keep the CPU
            pool.shutdown(wait=False, cancel_futures=True)

    def run(self, function: Callable[..., ResultT], *args: Any, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> ResultT:
        """`function(*args)` in the child (both must pickle); `IsolatedWorkFailed` on memory, crash or deadline.
        Exceptions raised by `function` itself come back as they are."""
        with self._lock:  # one call at a time: the child's memory cap is for one parse
            future = self._executor().submit(function, *args)
            try:
                return future.result(timeout=timeout)
            except FutureTimeout:
                self._discard()
                raise IsolatedWorkFailed("deadline passed") from None
            except (BrokenProcessPool, MemoryError) as failure:
                self._discard()
                raise IsolatedWorkFailed(type(failure).__name__) from None

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
