"""The HTTP service: `create_app(settings) -> FastAPI`. Routes under /api/v1; everything but health, the regimes
and the application schema needs `Authorization: Bearer <токен>` and sees only the token's organisation."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Annotated, Any, Iterator, Literal

from fastapi import APIRouter, Body, Depends, FastAPI, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from compliance import __version__
from compliance.catalog import CONFIDENCE_RU, UNCONFIRMED, available_regimes, load_catalog
from compliance.loading import InputError, Problem, validate
from compliance.models import Application
from compliance.settings import Settings, get_settings
from compliance.storage import (ApplicationVersion, AuditEntry, Organisation, StoredApplication, StoredCheck, audit,
                                session_factory, token_owner)

from . import checking, jobs, openapi, workers
from .errors import ApiError, Guard, StrictJSONRoute, install
from .pdfs import PDF, pdf_or_503
from .schemas import (ApplicationOut, ApplicationSummary, AuditOut, BatchItemError, BatchOut, BatchRequest, CheckOut,
                      CheckRequest, CheckSummary, Comparison, Health, RegimeCatalog, RegimeSummary, Replay,
                      RequirementOut, VersionOut)
from .service import (Caller, Service, check_out, check_summary, own_app, own_check, read_upload, read_version,
                      summary, version_of)

log = logging.getLogger("compliance.api")

KIND_RU = {"automated": "автоматически", "manual": "экспертно", "informational": "для сведения", "document": "документ"}
SEVERITY_RU = {"blocking": "критичное", "major": "существенное", "minor": "незначительное", "info": "справочное"}
AppBody = Annotated[dict[str, Any], Body(description="заявка в JSON (поля — GET /api/v1/schema/application)",
                                         json_schema_extra=openapi.APPLICATION_BODY)]
AppFile = Annotated[UploadFile, File(description="файл заявки: .json, .yaml, .yml или .xlsx (кластер)")]
ActFile = Annotated[UploadFile, File(description="текст акта: .docx, .rtf, .html, .txt или .pdf")]
ID = Annotated[str, PathParam(min_length=1, max_length=64, description="идентификатор")]
BaseVersion = Annotated[int | None, Query(ge=1, le=10**6, description="версия, которую вы меняли: если заявку уже "
                                                                     "изменили, ответ 409 с текущей версией")]


# --- auth -----------------------------------------------------------------------------------------------------
bearer = HTTPBearer(auto_error=False, description="Токен организации (`compliance token create --org ИМЯ`): "
                                                  "заголовок Authorization: Bearer <токен>")


def _report_docx(report_docx, s, who, c) -> bytes:  # noqa: ANN001
    """The Word document of a stored check with the organisation's details (the same bytes for .docx and .pdf)."""
    from compliance.organisation import issuer_of
    return report_docx(checking.reports_of(c.result), checking.eligibility_of(c.result),
                       issuer_of(s.get(Organisation, who.org_id)))


def _sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions


def db(request: Request) -> Iterator[Session]:
    with _sessions(request)() as s:
        yield s


def caller(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
    challenge = {"WWW-Authenticate": "Bearer"}
    if creds is None or not creds.credentials:
        raise ApiError(401, "нужен токен: заголовок Authorization: Bearer <токен>", headers=challenge)
    with _sessions(request)() as s:
        row = token_owner(s, creds.credentials)
        if row is None:
            raise ApiError(401, "токен не действителен или отозван", headers=challenge)
        return Caller(org_id=row.organisation_id, token_id=row.id, admin=row.admin)


Auth = Annotated[Caller, Depends(caller)]
DB = Annotated[Session, Depends(db)]


# --- the application ------------------------------------------------------------------------------------------
def create_app(settings: Settings | None = None, *, migrate: bool | None = None) -> FastAPI:
    settings = settings or get_settings()
    sessions = session_factory(settings.database_url,
                               migrate=settings.migrate_on_start if migrate is None else migrate)

    pool = workers.EvaluationPool(settings.max_workers, settings.evaluation_timeout)
    if settings.evaluation_mode == "thread":
        log.warning(workers.THREAD_MODE_WARNING)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        consumer = jobs.start_jobs(app)
        yield
        if consumer is not None:
            consumer.stop()
        pool.shutdown()
        sessions.kw["bind"].dispose()

    app = FastAPI(
        title="Проверка площадок на соответствие требованиям Минпромторга",
        version=__version__, lifespan=lifespan,
        description="Сервис предварительной проверки заявок индустриальных парков, технопарков и кластеров: хранение "
                    "заявок с версиями, история проверок с повтором, сравнение находок, отчёты Word. Все маршруты, кроме "
                    "состояния сервиса, режимов и схемы заявки, требуют заголовка `Authorization: Bearer <токен>` и "
                    "видят только данные организации токена.",
        openapi_tags=[{"name": "сервис", "description": "состояние сервиса"},
                      {"name": "каталог", "description": "режимы и требования (без токена)"},
                      {"name": "заявки", "description": "заявки организации и их версии"},
                      {"name": "проверки", "description": "проверки, повтор, сравнение, отчёт Word, пакетная проверка"},
                      {"name": "задания", "description": "фоновые задания: повторная проверка заявок по обновлённому "
                                                         "каталогу, последствия проекта изменений, ход, отмена, итог"},
                      {"name": "журнал", "description": "журнал действий организации"}],
    )
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.evaluation_pool = pool
    app.state.jobs = jobs.make_queue(settings)
    service = Service(settings, sessions, pool)
    app.state.service = service
    app.state.engine_limiter = service.limiter
    install(app)
    openapi.install(app)
    app.add_middleware(Guard, limit=settings.max_body_bytes)
    limit = settings.max_body_bytes

    r = APIRouter(prefix="/api/v1", route_class=StrictJSONRoute)

    # -- public ------------------------------------------------------------------------------------------------
    @r.get("/health", tags=["сервис"], summary="Состояние сервиса", response_model=Health)
    def health(s: DB) -> Health:
        s.execute(select(1))
        return Health(status="ok", version=__version__)

    @r.get("/regimes", tags=["каталог"], summary="Режимы, для которых есть каталог требований",
           response_model=list[RegimeSummary])
    def regimes() -> list[RegimeSummary]:
        out = []
        for code in available_regimes():
            cat = load_catalog(code)
            out.append(RegimeSummary(code=code, title=cat.decree.title, act=cat.decree.act.citation,
                                     catalog_version=cat.decree.catalog_version, content_hash=cat.content_hash,
                                     requirements=len(cat.decree.requirements)))
        return out

    @r.get("/regimes/{code}", tags=["каталог"], summary="Каталог требований режима: вид проверки, достоверность, "
                                                         "критичность", response_model=RegimeCatalog)
    def regime_catalog(code: Annotated[str, PathParam(max_length=40, description="код режима")]) -> RegimeCatalog:
        if code not in available_regimes():
            raise ApiError(404, f"режим «{code}» не найден; доступны: {', '.join(available_regimes())}")
        cat = load_catalog(code)
        items = []
        for req in cat.decree.requirements:
            rule = cat.rules.get(req.id)
            sev = rule.severity if rule else None
            items.append(RequirementOut(id=req.id, title=req.title, clause=req.clause, block=req.block, kind=req.kind,
                                        kind_text=KIND_RU.get(req.kind, req.kind), confidence=req.confidence,
                                        confidence_text=CONFIDENCE_RU[req.confidence],
                                        needs_confirmation=req.confidence in UNCONFIRMED, severity=sev,
                                        severity_text=SEVERITY_RU.get(sev) if sev else None))
        return RegimeCatalog(code=code, title=cat.decree.title, act=cat.decree.act.citation,
                             catalog_version=cat.decree.catalog_version, content_hash=cat.content_hash,
                             requirements=len(items), items=items)

    @r.get("/schema/application", tags=["каталог"], summary="JSON Schema заявки (все поля, типы, допустимые значения)")
    def application_schema() -> dict[str, Any]:
        return Application.model_json_schema()

    @r.post("/regimes/{code}/verify", tags=["каталог"], response_model=dict[str, Any],
            summary="Сверить каталог режима с текстом акта (.docx, .rtf, .html, .txt, .pdf)",
            description="То же, что `compliance catalog verify --format json`: по каждому требованию и нормативу — "
                        "подтверждено, расходится с текстом, неоднозначно или не найдено, с пунктом акта и цитатой. "
                        "Ничего не сохраняется, каталог не меняется (внесение — команда с --apply, которую выполняет "
                        "и проверяет человек). Файл, который не похож на текст акта, — 422.")
    async def verify_catalog(who: Auth, code: Annotated[str, PathParam(max_length=40, description="код режима")],
                             file: ActFile) -> Response:
        if code not in available_regimes():
            raise ApiError(404, f"режим «{code}» не найден; доступны: {', '.join(available_regimes())}")
        out = await service.verify_act(await read_upload(file, limit), file.filename or "акт.txt", code)
        return Response(out["json"].encode("utf-8"), media_type="application/json")

    # -- applications ----------------------------------------------------------------------------------------
    create, update, in_thread = service.create, service.update, service.in_thread

    @r.post("/applications", tags=["заявки"], status_code=201, response_model=ApplicationOut,
            summary="Создать заявку из JSON")
    def create_application(who: Auth, s: DB, data: AppBody) -> ApplicationOut:
        return create(s, who, validate(data), "json")

    @r.post("/applications/upload", tags=["заявки"], status_code=201, response_model=ApplicationOut,
            summary="Создать заявку из файла (.json, .yaml, .xlsx)")
    async def upload_application(who: Auth, file: AppFile) -> ApplicationOut:
        return await service.save_upload(who, await read_upload(file, limit), file.filename or "заявка")

    @r.get("/applications", tags=["заявки"], response_model=list[ApplicationSummary], summary="Заявки организации")
    def list_applications(who: Auth, s: DB, limit_: Annotated[int, Query(alias="limit", ge=1, le=500)] = 100,
                          offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> list[ApplicationSummary]:
        rows = s.scalars(select(StoredApplication).where(StoredApplication.organisation_id == who.org_id)
                         .order_by(StoredApplication.created_at, StoredApplication.id).limit(limit_).offset(offset)).all()
        out = []
        for row in rows:
            ver = version_of(s, row.id, row.current_version)
            out.append(ApplicationSummary(**summary(row, ver)))
        audit(s, who.org_id, who.token_id, "application.list", "application", None, f"{len(out)}")
        s.commit()
        return out

    @r.get("/applications/{app_id}", tags=["заявки"], response_model=ApplicationOut,
           summary="Заявка (последняя или указанная версия)")
    def get_application(who: Auth, s: DB, app_id: ID,
                        version: Annotated[int | None, Query(ge=1, le=10**6, description="номер версии")] = None
                        ) -> ApplicationOut:
        row, ver = read_version(s, who, app_id, version, "application.read")
        return ApplicationOut(**summary(row, ver), version=ver.version, body=ver.body)

    @r.put("/applications/{app_id}", tags=["заявки"], response_model=ApplicationOut,
           summary="Новая версия заявки из JSON (прежние версии сохраняются)")
    def update_application(who: Auth, s: DB, app_id: ID, data: AppBody,
                           base_version: BaseVersion = None) -> ApplicationOut:
        own_app(s, who, app_id)  # 404 before 422: another organisation's id reveals nothing
        return update(s, who, app_id, validate(data), "json", base_version)

    @r.put("/applications/{app_id}/upload", tags=["заявки"], response_model=ApplicationOut,
           summary="Новая версия заявки из файла (.json, .yaml, .xlsx)")
    async def update_application_upload(who: Auth, app_id: ID, file: AppFile,
                                        base_version: BaseVersion = None) -> ApplicationOut:
        return await service.save_upload(who, await read_upload(file, limit), file.filename or "заявка", app_id,
                                         base_version)

    @r.get("/applications/{app_id}/versions", tags=["заявки"], response_model=list[VersionOut],
           summary="Версии заявки")
    def list_versions(who: Auth, s: DB, app_id: ID) -> list[VersionOut]:
        row = own_app(s, who, app_id)
        vers = s.scalars(select(ApplicationVersion).where(ApplicationVersion.application_id == row.id)
                         .order_by(ApplicationVersion.version)).all()
        audit(s, who.org_id, who.token_id, "application.versions", "application", row.id)
        s.commit()
        return [VersionOut(version=v.version, input_hash=v.input_hash, source=v.source, created_at=v.created_at)
                for v in vers]

    # -- checks ------------------------------------------------------------------------------------------------
    check_as_json = service.check_as_json

    # The response is the CheckOut JSON as `check_as_json` builds it (the reports spliced in as the worker serialised
    # them); `response_model` documents it, and FastAPI does not validate and serialise a returned Response again.
    @r.post("/applications/{app_id}/checks", tags=["проверки"], status_code=201, response_model=CheckOut,
            summary="Проверить заявку (режим или all, дата оценки, оценки эксперта); проверка сохраняется")
    async def run_check(who: Auth, app_id: ID, req: CheckRequest | None = None) -> Response:
        return Response(await check_as_json(who, app_id, req or CheckRequest()), status_code=201,
                        media_type="application/json")

    @r.get("/applications/{app_id}/checks", tags=["проверки"], response_model=list[CheckSummary],
           summary="Проверки заявки")
    def list_checks(who: Auth, s: DB, app_id: ID) -> list[CheckSummary]:
        row = own_app(s, who, app_id)
        rows = s.scalars(select(StoredCheck).where(StoredCheck.application_id == row.id,
                                                   StoredCheck.organisation_id == who.org_id)
                         .order_by(StoredCheck.created_at)).all()
        audit(s, who.org_id, who.token_id, "check.list", "application", row.id)
        s.commit()
        return [check_summary(c) for c in rows]

    @r.post("/checks/batch", tags=["проверки"], response_model=BatchOut,
            summary="Пакетная проверка заявок организации")
    async def batch(who: Auth, req: BatchRequest) -> BatchOut:
        if len(req.application_ids) > settings.max_batch:
            raise ApiError(422, "ошибка во входных данных",
                           [Problem("application_ids", f"не больше {settings.max_batch} заявок за раз")])

        def owned() -> None:
            with sessions() as s:
                for app_id in req.application_ids:
                    own_app(s, who, app_id)
        await in_thread(owned)
        checks, errors = [], []
        for app_id in req.application_ids:
            try:
                out = await check_as_json(who, app_id, CheckRequest(regime=req.regime, as_of=req.as_of))
                checks.append(CheckSummary.model_validate_json(out))
            except InputError as exc:
                errors.append(BatchItemError(application_id=app_id, status=422, detail="ошибка во входных данных",
                                             problems=[{"path": p.path, "message": p.message} for p in exc.problems]))
            except ApiError as exc:
                errors.append(BatchItemError(application_id=app_id, status=exc.status, detail=exc.detail))
        return BatchOut(checks=checks, errors=errors)

    @r.get("/checks/{check_id}", tags=["проверки"], response_model=CheckOut, summary="Сохранённая проверка с отчётом")
    def get_check(who: Auth, s: DB, check_id: ID) -> CheckOut:
        c = own_check(s, who, check_id)
        audit(s, who.org_id, who.token_id, "check.read", "check", c.id)
        s.commit()
        return check_out(c)

    @r.post("/checks/{check_id}/replay", tags=["проверки"], response_model=Replay,
            summary="Повторить проверку: та же версия заявки, дата оценки и оценки эксперта; сравнение находок")
    async def replay(who: Auth, check_id: ID, catalog: Annotated[Literal["current", "stored"], Query(
            description="по какому каталогу требований: current — по текущему (что изменилось бы), stored — по "
                        "каталогу, по которому выполнена исходная проверка (тот же результат)")] = "current") -> Replay:
        return await service.replay(who, check_id, catalog)

    @r.get("/checks/{check_id}/diff/{other_id}", tags=["проверки"], response_model=Comparison,
           summary="Что изменилось в находках между двумя проверками")
    def diff_checks(who: Auth, s: DB, check_id: ID, other_id: ID) -> Comparison:
        a, b = own_check(s, who, check_id), own_check(s, who, other_id)
        regimes = checking.compare(a.result, b.result)
        audit(s, who.org_id, who.token_id, "check.diff", "check", a.id, f"with {b.id}")
        s.commit()
        return Comparison(before=a.id, after=b.id, same=all(x["same_findings"] for x in regimes), regimes=regimes)

    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

    @r.get("/checks/{check_id}/report.docx", tags=["проверки"], summary="Отчёт проверки в Word (.docx)",
           response_class=Response,
           responses={200: {"content": {docx_type: {}}, "description": "документ Word"},
                      503: {"description": "формирование отчётов Word ещё не подключено"}})
    def check_docx(who: Auth, s: DB, check_id: ID) -> Response:
        c = own_check(s, who, check_id)
        try:
            from compliance.word import report_docx
        except ImportError:
            raise ApiError(503, "отчёты Word пока недоступны на этом сервере") from None
        data = _report_docx(report_docx, s, who, c)
        audit(s, who.org_id, who.token_id, "check.docx", "check", c.id)
        s.commit()
        return Response(data, media_type=docx_type,
                        headers={"Content-Disposition": f'attachment; filename="check-{c.id}.docx"'})

    @r.get("/checks/{check_id}/report.pdf", tags=["проверки"], summary="Отчёт проверки в PDF",
           response_class=Response,
           responses={200: {"content": {PDF: {}}, "description": "документ PDF: отчёт Word той же проверки, "
                                                               "преобразованный LibreOffice (содержание одно и то же)"}})
    def check_pdf(who: Auth, s: DB, check_id: ID) -> Response:
        from compliance.word import report_docx

        c = own_check(s, who, check_id)
        data = pdf_or_503(_report_docx(report_docx, s, who, c), settings)
        audit(s, who.org_id, who.token_id, "check.pdf", "check", c.id)
        s.commit()
        return Response(data, media_type=PDF,
                        headers={"Content-Disposition": f'attachment; filename="check-{c.id}.pdf"'})

    @r.get("/audit", tags=["журнал"], response_model=list[AuditOut], summary="Журнал действий организации")
    def audit_log(who: Auth, s: DB, limit_: Annotated[int, Query(alias="limit", ge=1, le=1000)] = 100) -> list[AuditOut]:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.organisation_id == who.org_id)
                         .order_by(AuditEntry.id.desc()).limit(limit_)).all()
        return [AuditOut(at=e.at, token_id=e.token_id, action=e.action, object_type=e.object_type,
                         object_id=e.object_id, detail=e.detail) for e in rows]

    app.include_router(r)
    from .deadlines import api_router as deadlines_api

    app.include_router(deadlines_api(caller, db))
    app.include_router(jobs.router(caller, db, app.state.jobs))
    from .impact import router as impact_api

    app.include_router(impact_api(caller, db))
    from .web import install_web

    install_web(app)
    return app

