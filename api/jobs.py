"""Background jobs in the service: the queue and the consumer the service runs itself (`start_jobs`), what a job looks
like to users (`job_out`), who may see which job (`own_job`), and the JSON routes under /api/v1/jobs."""


from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from compliance.jobs import (STATUS_RU, EmbeddedConsumer, Job, JobQueue, cancel_job, check_location, kind_title,
                             load_kinds, queue_location)
from compliance.settings import Settings

from . import recheck
from .errors import ApiError, StrictJSONRoute, not_found
from .service import Caller

ADMIN_ONLY = "заявки всех организаций может проверять только администратор (токен с правом администратора)"


class JobOut(BaseModel):
    model_config = ConfigDict(title="Задание")
    id: str
    kind: str = Field(description="вид задания (recheck — повторная проверка по обновлённому каталогу, impact — "
                                  "последствия проекта изменений)")
    title: str = Field(description="вид задания по-русски")
    scope: Literal["own", "all"] = Field(description="own — заявки своей организации, all — всех (администратор)")
    status: Literal["queued", "running", "done", "failed", "cancelled", "interrupted"]
    status_text: str = Field(description="состояние по-русски: в очереди, выполняется, готово, ошибка, отменено, "
                                         "прервано")
    total: int = Field(description="сколько элементов (заявок) в задании")
    done: int = Field(description="сколько обработано")
    cancel_requested: bool = Field(description="отмена запрошена: задание остановится перед следующим элементом")
    error: str | None = Field(None, description="почему задание не завершено, по-русски")
    has_result: bool = Field(description="итог готов (только у завершённого задания)")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class JobResult(BaseModel):
    model_config = ConfigDict(title="Итог задания")
    job: JobOut
    result: dict[str, Any] = Field(description="итог задания (для повторной проверки: заявки, у которых изменился "
                                               "итог, с изменениями по требованиям; для последствий проекта: impact — "
                                               "то же, что JSON команды compliance impact, sites — заявки)")


class RecheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Повторная проверка")
    all_organisations: bool = Field(False, strict=True, description="заявки всех организаций (только администратор); по "
                                                       "умолчанию — заявки своей организации")


class CatalogChanges(BaseModel):
    model_config = ConfigDict(title="Изменения каталога")
    outdated: int = Field(description="сколько заявок последний раз проверены по прежней версии каталога")
    catalogs: dict[str, dict[str, str]] = Field(description="текущие версии каталогов: режим -> версия и хеш")
    last_recheck: JobOut | None = Field(None, description="последняя завершённая повторная проверка по этим каталогам")
    changed: int | None = Field(None, description="сколько заявок изменили итог в этой повторной проверке")
    message: str | None = Field(None, description="что показать пользователю, по-русски")


def job_out(job: Job) -> JobOut:
    return JobOut(id=job.id, kind=job.kind, title=kind_title(job.kind), scope=job.parameters.get("scope", "own"),
                  status=job.status, status_text=STATUS_RU[job.status], total=job.total, done=job.done,
                  cancel_requested=job.cancel_requested, error=job.error,
                  has_result=job.status == "done" and job.result is not None, created_at=job.created_at,
                  started_at=job.started_at, finished_at=job.finished_at)


def visible(who: Caller):
    """The jobs a caller sees: its organisation's; an administrator also those started from the command line."""
    return or_(Job.organisation_id == who.org_id, Job.organisation_id.is_(None)) if who.admin \
        else Job.organisation_id == who.org_id


def own_job(s: Session, who: Caller, job_id: str) -> Job:
    job = s.scalar(select(Job).where(Job.id == job_id, visible(who)))
    if job is None:
        raise not_found("задание")
    return job


def finished_result(job: Job) -> dict[str, Any]:
    """The result of a finished job; 409 for a job that is not «готово» (never half a result)."""
    if job.status != "done" or job.result is None:
        raise ApiError(409, f"итога пока нет: задание {STATUS_RU[job.status]}"
                            + f" (обработано {job.done} из {job.total})")
    return job.result


def start_recheck(s: Session, who: Caller, all_organisations: bool) -> Job:
    if all_organisations and not who.admin:
        raise ApiError(403, ADMIN_ONLY)
    return recheck.start(s, who.org_id, who.token_id, "all" if all_organisations else "own")


def cancel(s: Session, who: Caller, job: Job) -> Job:
    if not cancel_job(s, job, who.token_id):
        raise ApiError(409, f"задание уже завершено ({STATUS_RU[job.status]}): отменять нечего")
    return job


# --- the queue and the consumer -------------------------------------------------------------------------------------
def make_queue(settings: Settings) -> JobQueue:
    """The service's job queue (opened at its first use); ValueError at once for an address that cannot work."""
    load_kinds()
    location = queue_location(settings.jobs_broker, settings.database_url)
    check_location(location)
    return JobQueue(location, settings.database_url, settings.jobs_stale_after)


def start_jobs(app: FastAPI) -> EmbeddedConsumer | None:
    """At the service's start: resume (re-enqueue) the jobs a stopped worker left; the embedded consumer starts then,
    or at the service's first job (a service that runs no job starts no consumer)."""
    queue: JobQueue = app.state.jobs
    settings: Settings = app.state.settings
    consumer = EmbeddedConsumer(queue, settings.evaluation_mode) if settings.jobs_embedded else None
    queue.on_enqueue = consumer.start if consumer else None
    queue.recover()
    return consumer


# --- routes ---------------------------------------------------------------------------------------------------------
JobID = Annotated[str, PathParam(min_length=1, max_length=64, description="идентификатор задания")]


def router(auth: Any, db: Any, queue: JobQueue) -> APIRouter:
    """The JSON routes of jobs (`auth`, `db`: the app's dependencies for the caller and the session; `queue`: where new
    jobs go)."""
    Auth = Annotated[Caller, Depends(auth)]
    DB = Annotated[Session, Depends(db)]
    r = APIRouter(prefix="/api/v1", route_class=StrictJSONRoute, tags=["задания"])

    @r.post("/jobs/recheck", status_code=202, response_model=JobOut,
            summary="Проверить заново заявки по текущему каталогу (фоновое задание)",
            description="Последняя версия каждой заявки организации (администратор с all_organisations — всех "
                        "организаций) проверяется по текущему каталогу с режимом, датой оценки и оценками эксперта её "
                        "предыдущей проверки; каждая проверка сохраняется. Ход — GET /jobs/{job_id}, итог — "
                        "GET /jobs/{job_id}/result: заявки, у которых изменился итог, с изменениями по требованиям.")
    def create_recheck(who: Auth, s: DB, req: RecheckRequest | None = None) -> JobOut:
        job = start_recheck(s, who, (req or RecheckRequest()).all_organisations)
        queue.enqueue(job.id)
        return job_out(job)

    @r.get("/jobs", response_model=list[JobOut], summary="Задания организации, новые первыми")
    def list_jobs(who: Auth, s: DB) -> list[JobOut]:
        rows = s.scalars(select(Job).where(visible(who)).order_by(Job.created_at.desc()).limit(100))
        return [job_out(j) for j in rows]

    @r.get("/jobs/{job_id}", response_model=JobOut, summary="Задание: состояние и ход")
    def get_job(who: Auth, s: DB, job_id: JobID) -> JobOut:
        return job_out(own_job(s, who, job_id))

    @r.post("/jobs/{job_id}/cancel", response_model=JobOut,
            summary="Отменить задание (выполняемое останавливается перед следующей заявкой)")
    def cancel_route(who: Auth, s: DB, job_id: JobID) -> JobOut:
        return job_out(cancel(s, who, own_job(s, who, job_id)))

    @r.get("/jobs/{job_id}/result", response_model=JobResult,
           summary="Итог завершённого задания (пока задание не готово — 409)")
    def job_result(who: Auth, s: DB, job_id: JobID) -> JobResult:
        job = own_job(s, who, job_id)
        return JobResult(job=job_out(job), result=finished_result(job))

    @r.get("/catalog/changes", response_model=CatalogChanges,
           summary="Обновлён ли каталог с последних проверок заявок организации")
    def changes(who: Auth, s: DB) -> CatalogChanges:
        info = recheck.catalog_changes(s, who.org_id)
        return CatalogChanges(outdated=info["outdated"], catalogs=info["catalogs"],
                              last_recheck=job_out(info["last"]) if info["last"] else None, changed=info["changed"],
                              message=info["message"])

    return r


