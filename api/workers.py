"""Evaluations in worker processes: a crash inside the C rules engine (a segfault) kills a worker, not the service.

`EvaluationPool` wraps a `ProcessPoolExecutor` (the `spawn` context, `max_workers` processes, each holding its own
durable-rules engine). The pool is created lazily on first use; a new worker compiles today's rulesets of every
catalog before its first check (`_warm_worker`), so a later first check of another regime does not pay for that.
When a worker dies the pool is broken, the request gets `WorkerCrashed` (the service answers 503) and the next
request gets a fresh pool. Only plain data crosses the process boundary: the application body, the regime, the as-of
date as an ISO string and the judgements dict go in; an `Evaluated` (the result JSON already serialised, as one
`bytes`, and the few facts a stored check keeps in columns) or the input problems come back. Nothing is stored here:
the web process writes the check only after a successful result.
"""
from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from typing import Any

import anyio
import pydantic_core

from compliance.catalog import available_regimes, load_catalog
from compliance.engine import get_engine
from compliance.fingerprint import input_hash
from compliance.loading import InputError, InputTooLarge, Problem, validate
from compliance.models import Application

from . import checking

log = logging.getLogger("compliance.api")

CRASH_MESSAGE = "проверка прервалась из-за сбоя вычислительного процесса; повторите запрос"
# Test-only: a worker whose environment has COMPLIANCE_TEST_CRASH=1 kills itself on an application with this name.
CRASH_SITE_NAME = "__compliance_test_crash__"


class WorkerCrashed(RuntimeError):
    """The worker process evaluating the request died; nothing was stored."""


# --- what runs in the worker (also called directly in the "thread" mode) ------------------------------------------
def facts_of(result: dict[str, Any]) -> dict[str, Any]:
    """What a stored check keeps in columns, from a `checking.run` result."""
    reports = result["reports"]
    return {"evaluation_id": reports[0]["evaluation_id"], "as_of": reports[0]["as_of"],
            "regimes": [r["regime"] for r in reports], "verdicts": {r["regime"]: r["verdict"] for r in reports},
            "catalogs": checking.catalogs_of(result)}


@dataclass(frozen=True)
class Evaluated:
    """A finished evaluation as it leaves the worker. `json` is the result — {"reports", "matrix", "skipped"}, as
    `checking.run` returns it — serialised the way the API serialises it (pydantic), so it is pickled as one bytes
    object, stored and spliced into the response as it is; `facts` are what a stored check keeps in its columns."""
    facts: dict[str, Any]
    json: bytes

    @classmethod
    def of(cls, result: dict[str, Any]) -> Evaluated:
        # the keys in CheckOut's order and with its defaults: the response splices this object in as it is
        ordered = {"reports": result["reports"], "matrix": result.get("matrix"), "skipped": result.get("skipped") or []}
        return cls(facts_of(result), pydantic_core.to_json(ordered))

    def result(self) -> dict[str, Any]:
        return json.loads(self.json)


def evaluate_json(body: dict[str, Any], regime: str | None, as_of: str | None,
                  judgements: dict[str, Any] | None, judgements_override: bool = False) -> Evaluated | dict[str, Any]:
    """The `Evaluated` result of `checking.run`, or {"problems": [{"path", "message"}…]} for input errors. The
    judgements must name this body's application version (its input hash, as stored) unless overridden."""
    try:
        model = validate(body)
        jf = checking.parse_judgements(judgements)
        return Evaluated.of(checking.run(model, regime, date.fromisoformat(as_of) if as_of else None, jf,
                                         judgements_override, input_hash(body) if jf else None))
    except InputError as exc:
        return {"problems": [{"path": p.path, "message": p.message} for p in exc.problems]}


def _in_worker(body: dict[str, Any], regime: str | None, as_of: str | None,
               judgements: dict[str, Any] | None, judgements_override: bool = False) -> Evaluated | dict[str, Any]:
    if os.environ.get("COMPLIANCE_TEST_CRASH") == "1" and body.get("site_name") == CRASH_SITE_NAME:
        if hasattr(signal, "SIGKILL"):
            os.kill(os.getpid(), signal.SIGKILL)
        os._exit(70)
    return evaluate_json(body, regime, as_of, judgements, judgements_override)


def _warm_worker() -> None:
    """A new worker's first act: load every catalog and compile its rulesets for today (what most checks use)."""
    try:
        engine = get_engine()
        for code in available_regimes():
            engine.ruleset_for(load_catalog(code), date.today())
    except Exception:  # noqa: BLE001 — a failed warm-up only means the first check compiles what it needs
        log.exception("не удалось заранее подготовить каталоги в вычислительном процессе")


# --- uploads: parsed in a worker under a memory limit (also called directly in the "thread" mode, without one) --------
PARSE_MEMORY_MESSAGE = ("файл отклонён: на его разбор не хватило отведённой памяти ({limit} МБ) — заявка такой не "
                        "бывает; проверьте файл")
PARSE_CRASH_MESSAGE = "файл отклонён: процесс разбора файла завершился аварийно (скорее всего, файлу не хватило памяти)"


def _address_space_limit(extra_mb: int | None) -> tuple[int, int] | None:
    """Limit this process's address space to what it uses now plus `extra_mb`; the previous limits (to restore),
    or None where there is no such limit (not Linux, or `extra_mb` None)."""
    if extra_mb is None:
        return None
    try:
        import resource

        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError, ValueError):
        return None
    previous = resource.getrlimit(resource.RLIMIT_AS)
    limit = used + extra_mb * 2**20
    if previous[1] != resource.RLIM_INFINITY:
        limit = min(limit, previous[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, previous[1]))
    return previous


def parse_json(raw: bytes, name: str, memory_mb: int | None = None) -> dict[str, Any]:
    """An uploaded file read into the model: {"body": the application as JSON}, or {"problems": […], "too_large":
    bool} — also when the reading runs out of `memory_mb` (the worker then lives on: the limit is lifted again)."""
    from .service import parse_upload  # the upload's formats (.json, .yaml, .xlsx) are the service's to know

    previous = _address_space_limit(memory_mb)
    out: dict[str, Any] | None = None
    try:
        out = {"body": parse_upload(raw, name).model_dump(mode="json")}
    except InputError as exc:
        out = {"problems": [{"path": p.path, "message": p.message} for p in exc.problems],
               "too_large": isinstance(exc, InputTooLarge)}
    except MemoryError:
        pass  # the result is built below, once the memory of the failed reading is released and the limit lifted
    finally:
        if previous is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, previous)
    if out is None:
        out = {"problems": [{"path": "", "message": PARSE_MEMORY_MESSAGE.format(limit=memory_mb)}], "too_large": True}
    return out


def parsed_of(out: dict[str, Any]) -> Application:
    """The application of a `parse_json` result, or its problems raised again (InputTooLarge → 413, else 422)."""
    if "body" not in out:
        raise (InputTooLarge if out["too_large"] else InputError)([Problem(p["path"], p["message"])
                                                                  for p in out["problems"]])
    return Application.model_validate(out["body"])


def result_of(out: Evaluated | dict[str, Any]) -> Evaluated:
    """The evaluation, or the worker's input problems raised again as InputError (→ 422)."""
    if isinstance(out, dict):
        raise InputError([Problem(p["path"], p["message"]) for p in out["problems"]])
    return out


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
                self._pool = ProcessPoolExecutor(max_workers=self.max_workers, initializer=_warm_worker,
                                                 mp_context=multiprocessing.get_context("spawn"))
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
                self.crashes += 1
        pool.shutdown(wait=False, cancel_futures=True)

    async def evaluate(self, body: dict[str, Any], regime: str | None, as_of: str | None,
                       judgements: dict[str, Any] | None, judgements_override: bool = False
                       ) -> Evaluated | dict[str, Any]:
        """Run `evaluate_json` in a worker process. Raises WorkerCrashed if the worker died (the pool is replaced)."""
        return await self._run(CRASH_MESSAGE, _in_worker, body, regime, as_of, judgements, judgements_override)

    async def parse(self, raw: bytes, name: str, memory_mb: int | None) -> dict[str, Any]:
        """Run `parse_json` in a worker process, under a memory limit: a file that blows up when read costs the
        worker's memory, not the web process's. Raises WorkerCrashed (PARSE_CRASH_MESSAGE) if the worker died."""
        return await self._run(PARSE_CRASH_MESSAGE, parse_json, raw, name, memory_mb)

    async def _run(self, crash_message: str, fn: Any, *args: Any) -> Any:
        """`fn(*args)` in a worker process; WorkerCrashed(crash_message) if the worker died (the pool is replaced)."""
        pool = self._current()
        try:
            future = pool.submit(fn, *args)
        except BrokenProcessPool:  # a worker died while idle, before this request: it deserves a fresh pool
            log.error("вычислительный процесс проверки завершился вне проверки; пул процессов создан заново")
            self._discard(pool)
            pool, future = self._current(), None
        try:
            if future is None:
                future = pool.submit(fn, *args)
            # The caller's slot is held until the worker is done, even if the request is cancelled meanwhile.
            with anyio.CancelScope(shield=True):
                return await asyncio.wrap_future(future)
        except BrokenProcessPool as exc:
            log.error("вычислительный процесс проверки завершился аварийно; пул процессов будет создан заново")
            self._discard(pool)
            raise WorkerCrashed(crash_message) from exc

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
