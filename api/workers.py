"""Evaluations in worker processes: a crash inside the C rules engine (a segfault) kills a worker, not the service.

`EvaluationPool` wraps a `ProcessPoolExecutor` (the `spawn` context, `max_workers` processes, each holding its own
durable-rules engine). The pool is created lazily on first use; a new worker compiles today's rulesets of every
catalog before its first check (`_warm_worker`), so a later first check of another regime does not pay for that.
When a worker dies the pool is broken, the request gets `WorkerCrashed` (the service answers 503) and the next
request gets a fresh pool. An evaluation that does not finish within the timeout (a hung or stopped worker) gets
`WorkerTimedOut` (503): the pool's processes are killed and the next request gets a fresh pool. A worker exits by
itself when the web process that started it dies (it watches its parent), so a kill -9 of the server leaves no
worker — and then no resource tracker, which exits when the last process holding its pipe is gone.
Only plain data crosses the process boundary: the application body, the regime, the as-of date as an ISO string and
the judgements dict go in; an `Evaluated` (the result JSON already serialised, as one `bytes`, and the few facts a
stored check keeps in columns) or the input problems come back. Nothing is stored here: the web process writes the
check only after a successful result.
"""
from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from typing import Any

import anyio
import pydantic_core

from compliance.catalog import available_regimes, load_catalog, pinned
from compliance.engine import get_engine
from compliance.fingerprint import input_hash
from compliance.loading import InputError, InputTooLarge, Problem, validate
from compliance.models import Application

from . import checking

log = logging.getLogger("compliance.api")

CRASH_MESSAGE = "проверка прервалась из-за сбоя вычислительного процесса; повторите запрос"
# Logged at every start in the "thread" mode: a segfault of the C rules engine there ends the service's own process
# (only a separate process survives it), and a hung evaluation cannot be stopped (a thread cannot be killed).
THREAD_MODE_WARNING = ("COMPLIANCE_EVALUATION_MODE=thread: проверки идут в процессе самого сервиса — аварийное "
                       "завершение движка правил (он написан на C) остановит весь сервис, а зависшую проверку нельзя "
                       "прервать по COMPLIANCE_EVALUATION_TIMEOUT; для работы с пользователями задайте process")
# Test-only: a worker whose environment has COMPLIANCE_TEST_CRASH=1 kills itself on an application with this name.
CRASH_SITE_NAME = "__compliance_test_crash__"
# regime -> the files of a stored catalog version ([(path, bytes)…], as `Catalog.files`): a replay under them
Snapshots = dict[str, list[tuple[str, bytes]]]


class WorkerCrashed(RuntimeError):
    """The worker process evaluating the request died; nothing was stored."""


class WorkerTimedOut(WorkerCrashed):
    """The evaluation did not finish in time; the pool's processes were killed; nothing was stored."""


def timeout_message(seconds: float) -> str:
    return (f"проверка не уложилась в отведённое время ({seconds:g} с) и прервана; вычислительный процесс "
            "перезапущен — повторите запрос позже")


def parse_timeout_message(seconds: float) -> str:
    return (f"файл отклонён: его разбор не уложился в отведённое время ({seconds:g} с) — заявка такой не бывает; "
            "проверьте файл")


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
                  judgements: dict[str, Any] | None, judgements_override: bool = False,
                  catalogs: Snapshots | None = None) -> Evaluated | dict[str, Any]:
    """The `Evaluated` result of `checking.run`, or {"problems": [{"path", "message"}…]} for input errors. The
    judgements must name this body's application version (its input hash, as stored) unless overridden. `catalogs`
    (regime -> the files of a stored catalog version) are used for their regimes instead of the catalogs on disk."""
    try:
        model = validate(body)
        jf = checking.parse_judgements(judgements)
        with pinned({code: load_catalog(code, snapshot=files) for code, files in (catalogs or {}).items()}):
            return Evaluated.of(checking.run(model, regime, date.fromisoformat(as_of) if as_of else None, jf,
                                             judgements_override, input_hash(body) if jf else None))
    except InputError as exc:
        return {"problems": [{"path": p.path, "message": p.message} for p in exc.problems]}


def _in_worker(body: dict[str, Any], regime: str | None, as_of: str | None,
               judgements: dict[str, Any] | None, judgements_override: bool = False,
               catalogs: Snapshots | None = None) -> Evaluated | dict[str, Any]:
    if os.environ.get("COMPLIANCE_TEST_CRASH") == "1" and body.get("site_name") == CRASH_SITE_NAME:
        if hasattr(signal, "SIGKILL"):
            os.kill(os.getpid(), signal.SIGKILL)
        os._exit(70)
    return evaluate_json(body, regime, as_of, judgements, judgements_override, catalogs)


def _exit_with_parent(parent: int, every: float = 0.5) -> None:
    """A daemon thread that ends this process as soon as its parent `parent` is gone (re-parented: getppid changes).
    Polling works wherever getppid does; PR_SET_PDEATHSIG would fire when the *thread* that spawned us exits."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(0)
    threading.Thread(target=watch, name="compliance-parent-watch", daemon=True).start()


def _start_worker(parent: int) -> None:
    """A new worker's start: exit with the web process `parent`; then warm up (`_warm_worker`)."""
    _exit_with_parent(parent)
    _warm_worker()


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


ACT_TIMEOUT_MESSAGE = ("файл отклонён: его разбор не уложился в отведённое время ({seconds:g} с) — текст акта такой не "
                       "бывает; проверьте файл")


def act_timeout_message(seconds: float) -> str:
    return ACT_TIMEOUT_MESSAGE.format(seconds=seconds)


def verify_act(raw: bytes, name: str, regime: str, memory_mb: int | None = None) -> dict[str, Any]:
    """The text of an act (an uploaded file) checked against the regime's catalog, as `compliance catalog verify`
    does: {"json": the CLI's JSON, "docx": the review document, "view": what the page shows}, or {"problems": […],
    "too_large": bool} when the file is not an act (or its reading runs out of `memory_mb`)."""
    from pathlib import Path

    from compliance.acttext import ActTextError, parse
    from compliance.actmatch import verify
    from compliance.actreport import render_docx, render_json, verify_view

    previous = _address_space_limit(memory_mb)
    out: dict[str, Any] | None = None
    try:
        catalog = load_catalog(regime)
        result = verify(catalog, parse(Path(Path(name).name or "файл"), raw))
        out = {"json": render_json(result), "docx": render_docx(result, catalog), "view": verify_view(result)}
    except ActTextError as exc:
        out = {"problems": [{"path": "file", "message": str(exc)}], "too_large": False}
    except MemoryError:
        pass
    finally:
        if previous is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, previous)
    if out is None:
        out = {"problems": [{"path": "file", "message": PARSE_MEMORY_MESSAGE.format(limit=memory_mb)}],
               "too_large": True}
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
    def __init__(self, max_workers: int = 1, timeout: float | None = None) -> None:
        self.max_workers = max_workers
        self.timeout = timeout
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.crashes = 0

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.max_workers, initializer=_start_worker,
                                                 initargs=(os.getpid(),),
                                                 mp_context=multiprocessing.get_context("spawn"))
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor, kill: bool = False) -> None:
        """Forget a broken pool (the next request makes a new one); `kill` its processes first (a hung worker —
        SIGKILL also ends a stopped one). Other evaluations in that pool then fail as after a crash."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
                self.crashes += 1
        if kill:
            for process in list((pool._processes or {}).values()):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    async def evaluate(self, body: dict[str, Any], regime: str | None, as_of: str | None,
                       judgements: dict[str, Any] | None, judgements_override: bool = False,
                       catalogs: Snapshots | None = None) -> Evaluated | dict[str, Any]:
        """Run `evaluate_json` in a worker process. Raises WorkerCrashed if the worker died (the pool is replaced)."""
        return await self._run(CRASH_MESSAGE, _in_worker, body, regime, as_of, judgements, judgements_override,
                               catalogs)

    async def parse(self, raw: bytes, name: str, memory_mb: int | None) -> dict[str, Any]:
        """Run `parse_json` in a worker process, under a memory limit: a file that blows up when read costs the
        worker's memory, not the web process's. Raises WorkerCrashed (PARSE_CRASH_MESSAGE) if the worker died."""
        return await self._run(PARSE_CRASH_MESSAGE, parse_json, raw, name, memory_mb, timed_out=parse_timeout_message)

    async def verify_act(self, raw: bytes, name: str, regime: str, memory_mb: int | None) -> dict[str, Any]:
        """Run `verify_act` in a worker process, under a memory limit (an act file is untrusted input too)."""
        return await self._run(PARSE_CRASH_MESSAGE, verify_act, raw, name, regime, memory_mb,
                               timed_out=act_timeout_message)

    async def _run(self, crash_message: str, fn: Any, *args: Any, timed_out: Any = timeout_message) -> Any:
        """`fn(*args)` in a worker process; WorkerCrashed(crash_message) if the worker died, WorkerTimedOut(
        timed_out(seconds)) if it did not finish within the timeout (either way the pool is replaced)."""
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
            # The caller's slot is held until the worker is done (or killed), even if the request is cancelled.
            with anyio.CancelScope(shield=True):
                return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except TimeoutError:
            log.error("проверка не закончилась за %g с; вычислительные процессы остановлены, пул будет создан заново",
                      self.timeout)
            self._discard(pool, kill=True)
            raise WorkerTimedOut(timed_out(self.timeout)) from None
        except BrokenProcessPool as exc:
            log.error("вычислительный процесс проверки завершился аварийно; пул процессов будет создан заново")
            self._discard(pool)
            raise WorkerCrashed(crash_message) from exc

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
