"""Long work as background jobs: a job is a list of item keys processed one at a time by a named *job kind*, each item's
result stored as a checkpoint in the same transaction as whatever the item itself stores, and a final step that builds
the job's result from the checkpoints. What users see — status, progress, the Russian error, the result — lives in our
database (tables `jobs` and `job_items`, migration 0004); the queue that hands job ids to workers is huey's
(https://huey.readthedocs.io): a SQLite file by default (no server), Redis when several machines share the work.

A job kind (`JobKind`, registered with `register`):

    register(JobKind(name="recheck", title="повторная проверка по новому каталогу",
                     process=lambda ctx, session, key: {...},   # one item: its result (JSON) — the checkpoint
                     finish=lambda ctx, session, results: {...}))  # [(key, result)…] in order -> the job's result

`create_job(session, org_id, token_id, kind, parameters, items)` stores a queued job, `JobQueue.enqueue(job_id)` hands
it to a worker, `run_job` processes it (the worker calls it; so does the command line, in its own process).

The rules `run_job` keeps:
- a job is *claimed* by one worker at a time (an UPDATE from «queued» to «running» that only one can win), so the same
  id enqueued twice (a restart re-enqueues every unfinished job) is processed once;
- an item's checkpoint and its side effects (e.g. a stored check) are committed together, and only while the worker
  still holds the job: an item is never done twice, a done item never lost;
- between items the worker re-reads the job: a cancel request ends it as «отменено»;
- the result is written with the status «готово» in one transaction: a job that is not «готово» has no result, so
  nobody sees half a result as complete;
- a job left «выполняется» by a worker that died (a restart of the service, a killed worker process, a machine that
  stopped sending heartbeats) is resumed: `recover` puts it back in the queue, and the worker skips the items already
  checkpointed. A job resumed `MAX_ATTEMPTS` times without finishing (an item that kills its worker every time) is
  marked «прервано» with what was done.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from .storage import Base, UTCDateTime, audit, new_id, utcnow

log = logging.getLogger("compliance.jobs")

STATUS_RU = {"queued": "в очереди", "running": "выполняется", "done": "готово", "failed": "ошибка",
             "cancelled": "отменено", "interrupted": "прервано"}
FINISHED = ("done", "failed", "cancelled", "interrupted")
MAX_ATTEMPTS = 3  # starts of one job (the first and the resumptions) before it is marked «прервано»
# Test-only: a worker whose environment has this variable = k dies (os._exit) right after its k-th checkpoint.
CRASH_AFTER_ENV = "COMPLIANCE_TEST_JOB_CRASH_AFTER"


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # None: started from the command line over every organisation (seen by administrators only)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True, nullable=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    parameters: Mapped[dict] = mapped_column(JSON)
    items: Mapped[list] = mapped_column(JSON)  # the item keys, in the order they are processed
    status: Mapped[str] = mapped_column(String(12), index=True, default="queued")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # Russian, for the user
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # only with the status «done»
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)  # host:pid of the worker holding it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class JobItem(Base):
    """The checkpoint of one processed item: its position in `Job.items`, its key and its result."""
    __tablename__ = "job_items"
    __table_args__ = (UniqueConstraint("job_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- job kinds ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JobContext:
    """What a job kind's functions get besides the session: the job's id, organisation, token and parameters."""
    job_id: str
    organisation_id: int | None
    token_id: int | None
    parameters: dict[str, Any]


@dataclass(frozen=True)
class JobKind:
    """A named kind of job. `process(ctx, session, key)` handles one item and returns its result (JSON-able: the
    checkpoint); whatever it adds to `session` is committed together with the checkpoint. It should return an expected
    failure of one item in its result (the job goes on); an exception fails the whole job. `finish(ctx, session,
    results)` gets [(key, result)…] in item order and returns the job's result (JSON-able). `title` is what users read."""
    name: str
    title: str
    process: Callable[[JobContext, Session, str], dict[str, Any]]
    finish: Callable[[JobContext, Session, list[tuple[str, dict[str, Any]]]], dict[str, Any]]


KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    KINDS[kind.name] = kind
    return kind


def kind_title(name: str) -> str:
    kind = KINDS.get(name)
    return kind.title if kind else "задание"


# --- creating, cancelling, reading ---------------------------------------------------------------------------------
def create_job(session: Session, organisation_id: int | None, token_id: int | None, kind: str, parameters: dict[str, Any],
               items: list[str]) -> Job:
    """A queued job over `items` (not committed; enqueue it after the commit)."""
    if kind not in KINDS:
        raise KeyError(kind)
    job = Job(organisation_id=organisation_id, token_id=token_id, kind=kind, parameters=parameters, items=list(items),
              status="queued", total=len(items), done=0, attempts=0, cancel_requested=False)
    session.add(job)
    session.flush()
    audit(session, organisation_id, token_id, "job.create", "job", job.id, f"{kind} {len(items)}")
    return job


def cancel_job(session: Session, job: Job, token_id: int | None) -> bool:
    """Cancel a job: a queued one at once, a running one at its next item (the worker checks between items). False
    when the job has already finished."""
    if job.status in FINISHED:
        return False
    now = utcnow()
    moved = session.execute(update(Job).where(Job.id == job.id, Job.status == "queued")
                            .values(status="cancelled", cancel_requested=True, finished_at=now)
                            .execution_options(synchronize_session=False)).rowcount
    if not moved:
        session.execute(update(Job).where(Job.id == job.id, Job.status == "running").values(cancel_requested=True)
                        .execution_options(synchronize_session=False))
    audit(session, job.organisation_id, token_id, "job.cancel", "job", job.id)
    session.commit()
    session.refresh(job)
    return True


def checkpoints(session: Session, job_id: str) -> list[JobItem]:
    return list(session.scalars(select(JobItem).where(JobItem.job_id == job_id).order_by(JobItem.position)))


# --- running ------------------------------------------------------------------------------------------------------
def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(worker: str | None) -> bool | None:
    """Whether the worker `host:pid` still runs: known only on its own host (None elsewhere)."""
    if not worker or ":" not in worker:
        return False
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname():
        return None
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Progress:
    """What `run_job` reports after each item (the command line's progress bar)."""
    done: int
    total: int
    key: str | None = None


class _Lost(Exception):
    """The worker no longer holds the job (another worker resumed it, or it was marked interrupted)."""


def _internal_error(kind: JobKind, position: int | None) -> tuple[str, str]:
    ref = uuid.uuid4().hex[:8]
    where = f" на элементе № {position + 1}" if position is not None else " на итоговом шаге"
    return (f"задание «{kind.title}» остановлено из-за внутренней ошибки{where} (номер обращения {ref}); "
            "выполненное до неё сохранено, итог не сформирован"), ref


def run_job(sessions: sessionmaker[Session], job_id: str, worker: str | None = None,
            progress: Callable[[Progress], None] | None = None) -> str:
    """Process the job `job_id` if it is queued (claiming it), skipping the items already checkpointed; its final
    status ("done", "cancelled", "failed", or whatever it was when not claimed)."""
    worker = worker or worker_id()
    now = utcnow()
    with sessions() as s:
        claimed = s.execute(update(Job).where(Job.id == job_id, Job.status == "queued")
                            .values(status="running", worker=worker, heartbeat_at=now, attempts=Job.attempts + 1)
                            .execution_options(synchronize_session=False)).rowcount
        s.commit()
        job = s.get(Job, job_id)
        if job is None:
            return "missing"
        if not claimed:
            return job.status
        if job.started_at is None:
            job.started_at = now
            s.commit()
        kind = KINDS.get(job.kind)
        if kind is None:
            _finish(s, job_id, worker, "failed", error="этот вид задания не поддерживается обработчиком заданий")
            return "failed"
        ctx = JobContext(job.id, job.organisation_id, job.token_id, dict(job.parameters))
        items = list(job.items)
        seen = {row.position for row in checkpoints(s, job_id)}
    crash_after = int(os.environ.get(CRASH_AFTER_ENV) or 0)
    position = None
    try:
        for position, key in enumerate(items):
            if position in seen:
                continue
            with sessions() as s:
                if s.scalar(select(Job.cancel_requested).where(Job.id == job_id)):
                    _finish(s, job_id, worker, "cancelled")
                    return "cancelled"
                result = kind.process(ctx, s, key)
                s.add(JobItem(job_id=job_id, position=position, key=key, result=result))
                held = s.execute(update(Job).where(Job.id == job_id, Job.status == "running", Job.worker == worker)
                                 .values(done=Job.done + 1, heartbeat_at=utcnow())
                                 .execution_options(synchronize_session=False)).rowcount
                if not held:
                    s.rollback()
                    raise _Lost
                s.commit()
                done = s.scalar(select(Job.done).where(Job.id == job_id))
            if crash_after and done >= crash_after:
                os._exit(70)
            if progress:
                progress(Progress(done, len(items), key))
        position = None
        with sessions() as s:
            if s.scalar(select(Job.cancel_requested).where(Job.id == job_id)):
                _finish(s, job_id, worker, "cancelled")
                return "cancelled"
            results = [(row.key, row.result) for row in checkpoints(s, job_id)]
            return _finish(s, job_id, worker, "done", result=kind.finish(ctx, s, results))
    except _Lost:
        log.warning("задание %s продолжил другой обработчик; этот его оставил", job_id)
        with sessions() as s:
            return s.get(Job, job_id).status
    except Exception:  # noqa: BLE001 — any failure of a kind's code ends the job with a Russian message, never silently
        message, ref = _internal_error(kind, position)
        log.error("задание %s (%s): внутренняя ошибка, номер обращения %s\n%s", job_id, job.kind, ref,
                  traceback.format_exc())
        with sessions() as s:
            return _finish(s, job_id, worker, "failed", error=message)


def _finish(s: Session, job_id: str, worker: str, status: str, error: str | None = None,
            result: dict[str, Any] | None = None) -> str:
    """End a running job held by `worker`. With «done», the result and whatever the kind's final step added to the
    session are committed together, or not at all (the job is no longer this worker's); otherwise the session's
    pending changes are dropped."""
    if status != "done":
        s.rollback()
    moved = s.execute(update(Job).where(Job.id == job_id, Job.status == "running", Job.worker == worker)
                      .values(status=status, error=error, result=result if status == "done" else None,
                              finished_at=utcnow(), heartbeat_at=utcnow())
                      .execution_options(synchronize_session=False)).rowcount
    if moved:
        s.commit()
        return status
    s.rollback()
    return s.scalar(select(Job.status).where(Job.id == job_id))


def recover(sessions: sessionmaker[Session], stale_after: float, queued: bool = True) -> list[str]:
    """Jobs to hand to the queue again: at a start every queued one (`queued`: the queue may have lost it; a duplicate
    is harmless), and — at a start and every minute in a consumer — every running one whose worker is gone: dead on
    this host, or silent for `stale_after` seconds. Those are resumed, or marked «прервано» after `MAX_ATTEMPTS`
    starts. The ids to enqueue."""
    now = utcnow()
    out = []
    states = ("queued", "running") if queued else ("running",)
    with sessions() as s:
        for job in s.scalars(select(Job).where(Job.status.in_(states))):
            if job.status == "running":
                alive = _alive(job.worker)
                silent = job.heartbeat_at is None or now - job.heartbeat_at > timedelta(seconds=stale_after)
                if alive or (alive is None and not silent):
                    continue
                if job.attempts >= MAX_ATTEMPTS or job.kind not in KINDS:
                    job.status, job.finished_at = "interrupted", now
                    job.error = (f"задание прервано: обработчик заданий останавливался {job.attempts} раз, не "
                                 f"закончив его; обработано {job.done} из {job.total}, итог не сформирован"
                                 if job.kind in KINDS else "задание прервано: этот вид задания больше не поддерживается")
                    audit(s, job.organisation_id, None, "job.interrupted", "job", job.id)
                    continue
                job.status, job.worker = "queued", None
                audit(s, job.organisation_id, None, "job.resume", "job", job.id, f"{job.done}/{job.total}")
            out.append(job.id)
        s.commit()
    return out


# --- the queue (huey) ---------------------------------------------------------------------------------------------
def queue_location(broker: str | None, database_url: str) -> str:
    """The broker URL: the setting as given, or a SQLite file next to a SQLite database (compliance.db →
    compliance.jobs.db), else ./compliance-jobs.db."""
    if broker:
        return broker
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        return f"sqlite:///{path.with_name(path.stem + '.jobs.db')}"
    return "sqlite:///./compliance-jobs.db"


REDIS = ("redis://", "rediss://", "unix://")


def check_location(location: str) -> None:
    """ValueError (in Russian) for a queue address that cannot work: an unknown scheme, Redis without its driver."""
    import importlib.util

    if location.startswith(REDIS):
        if importlib.util.find_spec("redis") is None:
            raise ValueError("для общей очереди Redis нужен пакет redis: pip install -e '.[redis]'")
    elif not location.startswith("sqlite:///") or location == "sqlite:///":
        raise ValueError(f"неизвестный адрес очереди заданий «{location}»: ожидается sqlite:///ФАЙЛ или redis://АДРЕС")


def make_huey(location: str):
    """SqliteHuey for sqlite:///FILE, RedisHuey for redis://… (the shared broker of several machines)."""
    from huey import RedisHuey, SqliteHuey

    check_location(location)
    if location.startswith(REDIS):
        return RedisHuey("compliance-jobs", url=location, results=False)
    return SqliteHuey("compliance-jobs", filename=location.removeprefix("sqlite:///"), results=False)


@dataclass
class JobQueue:
    """The huey queue of job ids and the consumer that runs them (`run_job`) against the database `database_url`."""
    location: str
    database_url: str
    stale_after: float = 120.0
    _sessions: dict[int, sessionmaker[Session]] = field(default_factory=dict, repr=False)
    # called before each enqueue (the service starts its own consumer on its first job)
    on_enqueue: Callable[[], None] | None = field(default=None, repr=False)

    @cached_property
    def huey(self):
        """The queue, made on first use (a service that never runs a job opens no queue file)."""
        return make_huey(self.location)

    @cached_property
    def task(self):
        return self.huey.task(name="run_job")(self._run)

    def sessions(self) -> sessionmaker[Session]:
        """The sessions of this process (a forked worker process makes its own connections)."""
        pid = os.getpid()
        if pid not in self._sessions:
            from .storage import session_factory

            self._sessions[pid] = session_factory(self.database_url, migrate=False)
        return self._sessions[pid]

    def _run(self, job_id: str) -> None:
        run_job(self.sessions(), job_id)

    def enqueue(self, job_id: str) -> None:
        if self.on_enqueue is not None:
            self.on_enqueue()
        self.task(job_id)

    def recover(self, queued: bool = True) -> list[str]:
        ids = recover(self.sessions(), self.stale_after, queued)
        for job_id in ids:
            self.enqueue(job_id)
        return ids

    @cached_property
    def watch(self):
        """A periodic task of the consumers: every minute, resume the jobs of workers that died or went silent (a
        machine that stopped), without waiting for a start."""
        from huey import crontab

        return self.huey.periodic_task(crontab(minute="*"), name="resume_stale_jobs")(
            lambda: self.recover(queued=False))

    def consumer(self, workers: int = 1, in_thread: bool = False):
        """huey's consumer; `in_thread`: started from a thread other than the main one (no signal handlers)."""
        from huey.consumer import Consumer

        self.task, self.watch  # noqa: B018 — the tasks are registered before the consumer looks them up

        class _Consumer(Consumer):
            def _set_signal_handlers(self) -> None:  # noqa: D401 — signals belong to the main thread's owner
                if not in_thread:
                    super()._set_signal_handlers()

        return _Consumer(self.huey, workers=workers, worker_type="process" if workers > 1 else "thread",
                         periodic=True, initial_delay=0.05, max_delay=1.0, check_worker_health=not in_thread)


class EmbeddedConsumer:
    """The consumer the service runs itself (setting jobs_embedded), from its first job on: a thread of the service's
    process (evaluation mode thread: the rules engine's lock serialises it with the requests), or a separate process
    (mode process: a crash of the rules engine in a job kills that process only; a watchdog starts it again and the
    job is resumed)."""

    def __init__(self, queue: JobQueue, mode: str, watch_every: float = 2.0):
        self.queue, self.mode, self.watch_every = queue, mode, watch_every
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._consumer = None
        self._process = None
        self._watch: threading.Thread | None = None

    def start(self) -> None:
        """Start the consumer if it is not running yet (at the first job of this service, or at its start when a
        stopped worker left jobs to resume)."""
        with self._lock:
            if self._consumer is not None or self._process is not None or self._stop.is_set():
                return
            if self.mode == "thread":
                self._consumer = self.queue.consumer(in_thread=True)
                self._consumer.start()
                return
            self._process = self._spawn()
            self._watch = threading.Thread(target=self._watchdog, name="compliance-jobs-watch", daemon=True)
            self._watch.start()

    def _spawn(self):
        import multiprocessing

        process = multiprocessing.get_context("spawn").Process(
            target=consume, args=(self.queue.location, self.queue.database_url, self.queue.stale_after, os.getpid()),
            name="compliance-jobs", daemon=True)
        process.start()
        return process

    def _watchdog(self) -> None:
        while not self._stop.wait(self.watch_every):
            if self._process is not None and not self._process.is_alive():
                log.error("обработчик заданий завершился аварийно (код %s); запускаю его снова",
                          self._process.exitcode)
                self._process = self._spawn()

    def stop(self) -> None:
        self._stop.set()
        if self._consumer is not None:
            self._consumer.stop(graceful=False)
        if self._process is not None:
            self._process.terminate()
            self._process.join(5)


def consume(location: str, database_url: str, stale_after: float, parent: int | None = None,
            workers: int = 1) -> None:
    """A consumer process: resume what was left, then run jobs until stopped (SIGINT/SIGTERM) — the service's own
    consumer (exits with its `parent`) and `compliance worker`."""
    if parent is not None:
        from api.workers import _exit_with_parent

        _exit_with_parent(parent)
    load_kinds()
    queue = JobQueue(location, database_url, stale_after)
    queue.recover()
    queue.consumer(workers).run()


def load_kinds() -> None:
    """Register the job kinds the service knows (their modules register themselves on import)."""
    import api.impact  # noqa: F401
    import api.recheck  # noqa: F401
