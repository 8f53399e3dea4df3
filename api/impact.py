"""The impact of a draft amendment over stored applications (issue 17 §1), as the job kind «impact»
(compliance/jobs.py): a scenario file (compliance/scenario.py) is uploaded, refused at once with its Russian problems
if it does not load (read in a worker process under the upload memory limit, as application files are), and stored
in the job's parameters — its text, name and digest — with the as-of date, so that a worker on another machine or
after a restart has all it needs. The items are the applications in scope (the organisation's, or every
organisation's for an administrator), each with the version that was the latest when the job was started. An item's
checkpoint is its `ImpactSite` as JSON (compliance/impact.py `compare_site`); the final step is `summarise`, stored as
the job's result, from which the same .xlsx, .json and Word brief as `compliance impact` are made on demand.

Memory: every distinct scenario compiles durable-rules rulesets of its own, and a ruleset cannot be unloaded. So the
scenario is never evaluated in the service's process nor in the job consumer's: the items of a job run in a child
process of the consumer (api/impact_child.py, started by `_Evaluator`, one at a time) that lives for that job only —
it exits when the job's final step is done, when an item of another job comes, after `IDLE_SECONDS` without work (a
cancelled or interrupted job) and with its parent (the end of its input). A crash or a hang of the rules engine on one application costs that item (listed with a Russian
error, as `compliance impact` lists a file with errors) and a new child process, not the job."""

import json
import logging
import subprocess
import sys
import threading
from datetime import date
from select import select as readable
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from compliance.jobs import Job, JobContext, JobKind, create_job, register
from compliance.loading import InputError, InputTooLarge, Problem
from compliance.storage import Organisation, StoredApplication

from . import workers
from .errors import ApiError, StrictJSONRoute, not_found
from .jobs import JobID, JobOut, finished_result, job_out, own_job
from .recheck import applications_in_scope
from .schemas import AS_OF_RANGE, AsOf
from .service import Caller, read_upload, version_of

log = logging.getLogger("compliance.api")

KIND = "impact"
TITLE = "оценка последствий проекта изменений"
IDLE_SECONDS = 120.0  # a child process with no item for this long exits (its job was cancelled or interrupted)
ITEM_TIMEOUT_FACTOR = 4  # an item may take this many evaluation timeouts (two catalogs, a new process's start)
CRASHED = "оценка прервалась из-за сбоя вычислительного процесса; заявка не оценена"
TIMED_OUT = "оценка не уложилась в отведённое время ({seconds:g} с); заявка не оценена"
GONE = "заявка не найдена (удалена)"


# --- the scenario at upload (in a worker process under the upload memory limit, or in a thread) --------------------
def scenario_json(raw: bytes, name: str, memory_mb: int | None = None) -> dict[str, Any]:
    """The scenario file read as `compliance impact` reads it: {"title", "digest", "effective", "regimes"}, or
    {"problems": [Russian lines…], "too_large": bool}. Nothing is compiled: loading builds the catalogs only."""
    from compliance.scenario import ScenarioError, load_scenario_bytes

    previous = workers._address_space_limit(memory_mb)
    out: dict[str, Any] | None = None
    try:
        scenario = load_scenario_bytes(raw, name)
        out = {"title": scenario.title, "digest": scenario.digest, "effective": scenario.effective.isoformat(),
               "regimes": scenario.regimes}
    except ScenarioError as exc:
        out = {"problems": list(exc.problems), "too_large": False}
    except MemoryError:
        pass
    except Exception as exc:  # noqa: BLE001 — a catalog error (CatalogError) and the like: Russian already
        out = {"problems": str(exc).splitlines() or [str(exc)], "too_large": False}
    finally:
        if previous is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, previous)
    if out is None:
        out = {"problems": [workers.PARSE_MEMORY_MESSAGE.format(limit=memory_mb)], "too_large": True}
    return out


async def read_scenario(service: Any, raw: bytes, name: str) -> dict[str, Any]:
    """The uploaded scenario's summary (`scenario_json`), read off the event loop; InputError (422) with its problems
    at the field «file», InputTooLarge (413) when its reading ran out of memory or time."""
    if service.in_process:
        async with service.limiter:
            try:
                out = await service.pool._run(workers.PARSE_CRASH_MESSAGE, scenario_json, raw, name,
                                              service.settings.upload_memory_mb,
                                              timed_out=workers.parse_timeout_message)
            except workers.WorkerCrashed as exc:
                raise InputTooLarge([Problem("file", str(exc))]) from None
    else:
        out = await anyio.to_thread.run_sync(scenario_json, raw, name)
    if "problems" in out:
        raise (InputTooLarge if out["too_large"] else InputError)([Problem("file", p) for p in out["problems"]])
    return out


# --- starting ---------------------------------------------------------------------------------------------------------
def start(s: Session, org_id: int, token_id: int | None, scope: str, raw: bytes, name: str, summary: dict[str, Any],
          as_of: date | None, item_timeout: float) -> Job:
    """A queued impact job over the organisation's applications (`scope` "own") or everyone's ("all"), each at its
    latest version now; committed. `summary`: what `read_scenario` said of the file."""
    versions = applications_in_scope(s, org_id if scope == "own" else None)
    parameters = {"scope": scope, "scenario": {"name": name, "text": raw.decode("utf-8"), "digest": summary["digest"],
                                               "title": summary["title"], "effective": summary["effective"]},
                  "as_of": as_of.isoformat() if as_of else None, "versions": versions,
                  "item_timeout": item_timeout}
    job = create_job(s, org_id, token_id, KIND, parameters, list(versions))
    s.commit()
    return job


# --- in the consumer: the child process of the current job ----------------------------------------------------------
class _Lost(Exception):
    """The child process died or answered nothing readable."""


class _Evaluator:
    """At most one child process (api/impact_child.py) per consumer process, for one job at a time. A plain
    subprocess, not multiprocessing: the service's consumer process and huey's worker processes are daemonic, and a
    daemonic process may not start multiprocessing children."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.job_id: str | None = None
        self.process: subprocess.Popen | None = None

    def _child(self, job_id: str, scenario: dict[str, Any], timeout: float) -> subprocess.Popen:
        if self.process is not None and (self.job_id != job_id or self.process.poll() is not None):
            self.close()
        if self.process is None:
            self.process = subprocess.Popen([sys.executable, "-m", "api.impact_child", str(IDLE_SECONDS)],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                            encoding="utf-8")
            self.job_id = job_id
            self._ask({"scenario": scenario}, timeout)
        return self.process

    def _ask(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request, read its answer within `timeout` seconds (TimeoutError) or _Lost."""
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise _Lost from None
        ready, _, _ = readable([self.process.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError
        line = self.process.stdout.readline()
        if not line:
            raise _Lost
        return json.loads(line)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def close(self, kill: bool = False) -> None:
        process, self.process, self.job_id = self.process, None, None
        if process is None:
            return
        if kill:
            process.kill()
        try:
            process.stdin.close()  # the end of its input: it exits
        except OSError:
            pass
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()

    def compare(self, job_id: str, timeout: float, scenario: dict[str, Any], label: str, body: dict[str, Any],
                as_of: str | None) -> dict[str, Any]:
        """One application compared in the job's child process. A child that died (idle, or crashed on this item) is
        replaced and the item tried once more; a second crash, or no answer within `timeout` seconds (the child is
        killed), is the item's error."""
        with self.lock:
            for attempt in (1, 2):
                try:
                    self._child(job_id, scenario, timeout)
                    return self._ask({"label": label, "body": body, "as_of": as_of}, timeout)
                except TimeoutError:
                    log.error("оценка последствий: заявка не оценена за %g с; вычислительный процесс остановлен",
                              timeout)
                    self.close(kill=True)
                    return {"error": TIMED_OUT.format(seconds=timeout)}
                except _Lost:
                    self.close()
                    if attempt == 2:
                        log.error("оценка последствий: вычислительный процесс дважды завершился аварийно на заявке")
            return {"error": CRASHED}

    def done(self, job_id: str) -> None:
        with self.lock:
            if self.job_id == job_id:
                self.close()


evaluator = _Evaluator()


# --- the job kind -------------------------------------------------------------------------------------------------------
def process(ctx: JobContext, s: Session, app_id: str) -> dict[str, Any]:
    params = ctx.parameters
    row = s.get(StoredApplication, app_id)
    if row is None or (params.get("scope") != "all" and row.organisation_id != ctx.organisation_id):
        return {"application_id": app_id, "label": app_id, "error": GONE}
    version = params.get("versions", {}).get(app_id, row.current_version)
    ver = version_of(s, row.id, version)
    org = s.get(Organisation, row.organisation_id)
    label = f"{row.id}, версия {version}"
    if params.get("scope") == "all" and org is not None:
        label = f"{org.name}: {label}"
    head = {"application_id": row.id, "version": version, "label": label,
            "organisation": org.name if org else "", "site_name": row.site_name}
    if ver is None:
        return {**head, "error": GONE}
    out = evaluator.compare(ctx.job_id, float(params.get("item_timeout") or 240), params["scenario"], label, ver.body,
                            params.get("as_of"))
    return {**head, **out}


def finish(ctx: JobContext, s: Session, results: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """The job's result: the `ImpactResult` as JSON ("impact") and, per site label, the application it is ("sites")."""
    from compliance.impact import ImpactError, ImpactSite, summarise
    from compliance.scenario import load_scenario_bytes

    evaluator.done(ctx.job_id)
    params = ctx.parameters
    scenario = load_scenario_bytes(params["scenario"]["text"].encode("utf-8"), params["scenario"]["name"])
    items = [r for _, r in results]
    sites = [ImpactSite.model_validate(r["site"]) for r in items if "site" in r]
    errors = [ImpactError(label=r["label"], problem=r["error"]) for r in items if "error" in r]
    as_of = date.fromisoformat(params["as_of"]) if params.get("as_of") else None
    result = summarise(sites, scenario, as_of, errors)
    return {"impact": result.model_dump(mode="json"),
            "sites": [{k: r.get(k) for k in ("label", "application_id", "version", "organisation", "site_name")}
                      for r in items]}


register(JobKind(name=KIND, title=TITLE, process=process, finish=finish))


def impact_of(result: dict[str, Any]):
    """The stored result of an impact job as an `ImpactResult` (for the files and the page)."""
    from compliance.impact import ImpactResult

    return ImpactResult.model_validate(result["impact"])


# --- what the routes and the pages share --------------------------------------------------------------------------------
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FORMATS = {"xlsx": XLSX, "json": "application/json", "docx": DOCX}
ADMIN_ONLY = ("оценивать последствия проекта для заявок всех организаций может только администратор (токен с правом "
              "администратора)")
DEFAULT_NAME = "сценарий.yaml"


async def start_impact(request: Request, who: Caller, raw: bytes, name: str, as_of: date | None,
                       all_organisations: bool) -> Job:
    """Check the caller's right (403), read the scenario (422/413 with its problems), store the job and enqueue it."""
    if all_organisations and not who.admin:
        raise ApiError(403, ADMIN_ONLY)
    service = request.app.state.service
    summary = await read_scenario(service, raw, name)
    timeout = service.settings.evaluation_timeout * ITEM_TIMEOUT_FACTOR

    def store() -> Job:
        with service.sessions() as s:
            return start(s, who.org_id, who.token_id, "all" if all_organisations else "own", raw, name, summary,
                         as_of, timeout)
    job = await anyio.to_thread.run_sync(store)
    request.app.state.jobs.enqueue(job.id)
    return job


def impact_job(s: Session, who: Caller, job_id: str) -> tuple[Job, dict[str, Any]]:
    """A visible impact job and its result; 404 for another kind of job, 409 while it is not done."""
    job = own_job(s, who, job_id)
    if job.kind != KIND:
        raise not_found("итог оценки последствий проекта изменений")
    return job, finished_result(job)


def impact_file(s: Session, who: Caller, job_id: str, fmt: str) -> Response:
    """The .xlsx, .json or Word brief (with the letterhead of the caller's organisation) of a done impact job, as a
    download; the reading recorded in the audit log."""
    from compliance.impact import impact_docx, impact_json, impact_xlsx
    from compliance.organisation import issuer_of
    from compliance.storage import audit

    job, result = impact_job(s, who, job_id)
    impact = impact_of(result)
    if fmt == "xlsx":
        data = impact_xlsx(impact)
    elif fmt == "json":
        data = impact_json(impact)
    else:
        data = impact_docx(impact, issuer_of(s.get(Organisation, who.org_id)))
    audit(s, who.org_id, who.token_id, f"job.impact.{fmt}", "job", job.id)
    s.commit()
    return Response(data, media_type=FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="impact-{job.id}.{fmt}"'})


def router(auth: Any, db: Any) -> APIRouter:
    """The JSON routes: POST /api/v1/jobs/impact and the three downloads of a done job."""
    Auth = Annotated[Caller, Depends(auth)]
    DB = Annotated[Session, Depends(db)]
    r = APIRouter(prefix="/api/v1", route_class=StrictJSONRoute, tags=["задания"])

    @r.post("/jobs/impact", status_code=202, response_model=JobOut,
            summary="Оценить последствия проекта изменений (сценария) для сохранённых заявок (фоновое задание)",
            description="Файл сценария (.yaml, как у `compliance impact --scenario`) проверяется сразу: ошибка в нём — "
                        "422 с номером строки и полем, задание не создаётся. Последняя версия каждой заявки "
                        "организации (администратор с all_organisations — всех организаций) оценивается по "
                        "действующему каталогу и по каталогу с проектом на одну дату. Ход — GET /jobs/{job_id}, итог — "
                        "GET /jobs/{job_id}/result и файлы GET /jobs/{job_id}/impact.xlsx, .json, .docx.")
    async def create_impact(
            request: Request, who: Auth,
            file: Annotated[UploadFile, File(description="файл сценария (проекта изменений): .yaml или .yml")],
            as_of: Annotated[AsOf | None, Form(description=f"дата оценки ГГГГ-ММ-ДД ({AS_OF_RANGE}); по умолчанию — "
                                                           "предполагаемая дата вступления проекта в силу")] = None,
            all_organisations: Annotated[bool, Form(description="заявки всех организаций (только администратор); по "
                                                                "умолчанию — заявки своей организации")] = False,
    ) -> JobOut:
        limit = request.app.state.settings.max_body_bytes
        raw = await read_upload(file, limit)
        job = await start_impact(request, who, raw, file.filename or DEFAULT_NAME, as_of, all_organisations)
        return job_out(job)

    def download(fmt: Literal["xlsx", "json", "docx"], what: str) -> None:
        @r.get(f"/jobs/{{job_id}}/impact.{fmt}", response_class=Response, name=f"impact_{fmt}",
               summary=f"Оценка последствий проекта изменений: {what} (пока задание не готово — 409)",
               responses={200: {"content": {FORMATS[fmt]: {}}, "description": what}})
        def impact_download(who: Auth, s: DB, job_id: JobID) -> Response:
            return impact_file(s, who, job_id, fmt)

    download("xlsx", "таблица Excel (те же листы, что у compliance impact --output)")
    download("json", "итог в JSON (как у compliance impact)")
    download("docx", "справка Word для письма, с реквизитами организации")
    return r
