"""Evaluations in worker processes: a crash inside the C rules engine (a segfault) kills a worker, not the service.

`EvaluationPool` wraps a `ProcessPoolExecutor` (the `spawn` context, `max_workers` processes, each holding its own
durable-rules engine with its rulesets compiled on first use). The pool is created lazily on first use; when a
worker dies the pool is broken, the request gets `WorkerCrashed` (the service answers 503) and the next request gets
a fresh pool. Only plain JSON-able data crosses the process boundary: the application body, the regime, the as-of
date as an ISO string and the judgements dict go in; the result JSON (what `checking.run` returns) or the input
problems come back. Nothing is stored here: the web process writes the check only after a successful result.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from typing import Any

import anyio

from compliance.loading import InputError, Problem, validate

from . import checking

log = logging.getLogger("compliance.api")

CRASH_MESSAGE = "проверка прервалась из-за сбоя вычислительного процесса; повторите запрос"
# Test-only: a worker whose environment has COMPLIANCE_TEST_CRASH=1 kills itself on an application with this name.
CRASH_SITE_NAME = "__compliance_test_crash__"


class WorkerCrashed(RuntimeError):
    """The worker process evaluating the request died; nothing was stored."""


# --- what runs in the worker (also called directly in the "thread" mode) ------------------------------------------
def evaluate_json(body: dict[str, Any], regime: str | None, as_of: str | None,
                  judgements: dict[str, Any] | None) -> dict[str, Any]:
    """{"result": <checking.run JSON>} or {"problems": [{"path", "message"}…]} for input errors."""
    try:
        model = validate(body)
        jf = checking.parse_judgements(judgements)
        return {"result": checking.run(model, regime, date.fromisoformat(as_of) if as_of else None, jf)}
    except InputError as exc:
        return {"problems": [{"path": p.path, "message": p.message} for p in exc.problems]}


def _in_worker(body: dict[str, Any], regime: str | None, as_of: str | None,
               judgements: dict[str, Any] | None) -> dict[str, Any]:
    if os.environ.get("COMPLIANCE_TEST_CRASH") == "1" and body.get("site_name") == CRASH_SITE_NAME:
        if hasattr(signal, "SIGKILL"):
            os.kill(os.getpid(), signal.SIGKILL)
        os._exit(70)
    return evaluate_json(body, regime, as_of, judgements)


def result_of(out: dict[str, Any]) -> dict[str, Any]:
    """The result JSON, or the worker's input problems raised again as InputError (→ 422)."""
    if "problems" in out:
        raise InputError([Problem(p["path"], p["message"]) for p in out["problems"]])
    return out["result"]


# --- the pool (web process side) -----------------------------------------------------------------------------------
class EvaluationPool:
    def __init__(self, max_workers: int = 1) -> None:
        self.max_workers = max_workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.crashes = 0

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.max_workers,
                                                 mp_context=multiprocessing.get_context("spawn"))
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
                self.crashes += 1
        pool.shutdown(wait=False, cancel_futures=True)

    async def evaluate(self, body: dict[str, Any], regime: str | None, as_of: str | None,
                       judgements: dict[str, Any] | None) -> dict[str, Any]:
        """Run `evaluate_json` in a worker process. Raises WorkerCrashed if the worker died (the pool is replaced)."""
        pool = self._current()
        try:
            future = pool.submit(_in_worker, body, regime, as_of, judgements)
        except BrokenProcessPool:  # a worker died while idle, before this request: it deserves a fresh pool
            log.error("вычислительный процесс проверки завершился вне проверки; пул процессов создан заново")
            self._discard(pool)
            pool, future = self._current(), None
        try:
            if future is None:
                future = pool.submit(_in_worker, body, regime, as_of, judgements)
            # The caller's slot is held until the worker is done, even if the request is cancelled meanwhile.
            with anyio.CancelScope(shield=True):
                return await asyncio.wrap_future(future)
        except BrokenProcessPool as exc:
            log.error("вычислительный процесс проверки завершился аварийно; пул процессов будет создан заново")
            self._discard(pool)
            raise WorkerCrashed(CRASH_MESSAGE) from exc

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
