"""The HTTP service: `create_app(settings) -> FastAPI`. Routes under /api/v1; everything but health, the regimes
and the application schema needs `Authorization: Bearer <токен>` and sees only the token's organisation."""
from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Callable, Iterator

import anyio
from fastapi import APIRouter, Body, Depends, FastAPI, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from compliance import __version__
from compliance.catalog import CONFIDENCE_RU, UNCONFIRMED, available_regimes, load_catalog
from compliance.loading import InputError, Problem, parse_document, validate
from compliance.models import Application
from compliance.settings import Settings, get_settings
from compliance.storage import (ApplicationVersion, AuditEntry, StoredApplication, StoredCheck, audit, input_hash,
                                session_factory, token_owner, utcnow)

from . import checking, workers
from .errors import ApiError, Guard, install, not_found

log = logging.getLogger("compliance.api")

KIND_RU = {"automated": "автоматически", "manual": "экспертно", "informational": "для сведения", "document": "документ"}
SEVERITY_RU = {"blocking": "критичное", "major": "существенное", "minor": "незначительное", "info": "справочное"}
AppBody = Annotated[dict[str, Any], Body(description="заявка в JSON (поля — GET /api/v1/schema/application)")]
AppFile = Annotated[UploadFile, File(description="файл заявки: .json, .yaml, .yml или .xlsx (кластер)")]
ID = Annotated[str, PathParam(min_length=1, max_length=64, description="идентификатор")]


# --- response and request models (their descriptions are the Russian OpenAPI documentation) -----------------------
class Health(BaseModel):
    status: str = Field(description="«ok», если сервис и база данных доступны")
    version: str = Field(description="версия программы")


class RegimeSummary(BaseModel):
    code: str = Field(description="код режима")
    title: str = Field(description="название режима")
    act: str = Field(description="акт, устанавливающий требования")
    catalog_version: str = Field(description="версия каталога требований")
    content_hash: str = Field(description="контрольная сумма файлов каталога (SHA-256)")
    requirements: int = Field(description="число требований")


class RequirementOut(BaseModel):
    id: str = Field(description="ID требования")
    title: str = Field(description="краткое название")
    clause: str = Field(description="пункт акта")
    block: str = Field(description="раздел требований")
    kind: str = Field(description="вид проверки: automated, manual, informational, document")
    kind_text: str = Field(description="вид проверки по-русски")
    confidence: str = Field(description="достоверность норматива: T, S, A, M, U")
    confidence_text: str = Field(description="достоверность по-русски")
    needs_confirmation: bool = Field(description="норматив требует сверки с официальным текстом")
    severity: str | None = Field(None, description="критичность: blocking, major, minor, info")
    severity_text: str | None = Field(None, description="критичность по-русски")


class RegimeCatalog(RegimeSummary):
    items: list[RequirementOut] = Field(description="требования каталога")


class ApplicationSummary(BaseModel):
    id: str = Field(description="идентификатор заявки")
    site_name: str = Field(description="название площадки")
    current_version: int = Field(description="номер последней версии")
    input_hash: str = Field(description="SHA-256 последней версии заявки")
    regimes: list[str] = Field(description="режимы, указанные в заявке")
    created_at: datetime
    updated_at: datetime


class ApplicationOut(ApplicationSummary):
    version: int = Field(description="номер показанной версии")
    body: dict[str, Any] = Field(description="заявка (проверенная), JSON")


class VersionOut(BaseModel):
    version: int = Field(description="номер версии (с 1)")
    input_hash: str = Field(description="SHA-256 заявки этой версии")
    source: str = Field(description="откуда получена: json или имя загруженного файла")
    created_at: datetime


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    regime: str | None = Field(None, max_length=40, description="код режима (ip794, itp1863, …) или all — матрица по "
                                                                "всем подходящим режимам; по умолчанию — режимы из заявки")
    as_of: date | None = Field(None, description="дата оценки ГГГГ-ММ-ДД; по умолчанию — дата подачи заявки")
    judgements: dict[str, Any] | None = Field(None, description="оценки эксперта и принятые отклонения — то же, что "
                                                                "файл --judgements (regime, catalog_version, judgements, waivers)")
    version: int | None = Field(None, ge=1, description="версия заявки; по умолчанию — последняя")


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    application_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, description="идентификаторы заявок вашей организации")
    regime: str | None = Field(None, max_length=40, description="код режима или all; по умолчанию — режимы из заявок")
    as_of: date | None = Field(None, description="дата оценки для всех заявок; по умолчанию — их даты подачи")


class CheckSummary(BaseModel):
    id: str = Field(description="идентификатор проверки")
    application_id: str
    application_version: int = Field(description="версия заявки, которая проверялась")
    evaluation_id: str = Field(description="идентификатор оценки (сеанса движка правил)")
    regimes: list[str] = Field(description="режимы, по которым выполнена оценка")
    verdicts: dict[str, str] = Field(description="итог по каждому режиму: conforms, does_not_conform, incomplete")
    catalog_version: str = Field(description="версия каталога требований")
    catalog_hash: str = Field(description="контрольная сумма каталога (для нескольких режимов — общая)")
    catalogs: dict[str, dict[str, str]] = Field(description="версия и контрольная сумма каталога каждого режима")
    input_hash: str = Field(description="SHA-256 проверенной заявки")
    as_of: date = Field(description="дата оценки")
    replay_of: str | None = Field(None, description="проверка, повтором которой является эта")
    created_at: datetime


class CheckOut(CheckSummary):
    judgements: dict[str, Any] | None = Field(None, description="оценки эксперта, переданные с проверкой")
    reports: list[dict[str, Any]] = Field(description="отчёты (как `compliance check --format json`)")
    matrix: list[dict[str, Any]] | None = Field(None, description="матрица режимов, если оценено несколько")
    skipped: list[dict[str, Any]] = Field([], description="режимы, которые не оценивались, и почему")


class RegimeComparison(BaseModel):
    regime: str
    catalog_before: dict[str, str] | None = Field(None, description="каталог первой проверки")
    catalog_after: dict[str, str] | None = Field(None, description="каталог второй проверки")
    verdict_before: str | None = None
    verdict_after: str | None = None
    same_findings: bool = Field(description="находки совпадают полностью")
    changed: list[dict[str, Any]] = Field(description="изменившиеся находки: статус, факт, разрыв до и после")
    added: list[str] = Field(description="требования, которых не было в первой проверке")
    removed: list[str] = Field(description="требования, которых нет во второй проверке")


class Comparison(BaseModel):
    before: str = Field(description="первая проверка")
    after: str = Field(description="вторая проверка")
    same: bool = Field(description="находки по всем режимам совпадают")
    regimes: list[RegimeComparison]


class Replay(Comparison):
    catalog_changed: bool = Field(description="каталог требований изменился с момента исходной проверки")
    check: CheckSummary = Field(description="новая проверка (сохранена)")


class BatchItemError(BaseModel):
    application_id: str
    status: int
    detail: str
    problems: list[dict[str, str]] = []


class BatchOut(BaseModel):
    checks: list[CheckSummary] = Field(description="выполненные проверки")
    errors: list[BatchItemError] = Field(description="заявки, которые проверить не удалось, с причиной")


class AuditOut(BaseModel):
    at: datetime
    token_id: int | None
    action: str
    object_type: str
    object_id: str | None
    detail: str | None


# --- auth -----------------------------------------------------------------------------------------------------
bearer = HTTPBearer(auto_error=False, description="Токен организации (`compliance token create --org ИМЯ`): "
                                                  "заголовок Authorization: Bearer <токен>")


class Caller(BaseModel):
    org_id: int
    token_id: int


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
        return Caller(org_id=row.organisation_id, token_id=row.id)


Auth = Annotated[Caller, Depends(caller)]
DB = Annotated[Session, Depends(db)]


# --- helpers --------------------------------------------------------------------------------------------------
def _own_app(s: Session, who: Caller, app_id: str) -> StoredApplication:
    row = s.get(StoredApplication, app_id)
    if row is None or row.organisation_id != who.org_id:
        raise not_found("заявка")
    return row


def _own_check(s: Session, who: Caller, check_id: str) -> StoredCheck:
    row = s.get(StoredCheck, check_id)
    if row is None or row.organisation_id != who.org_id:
        raise not_found("проверка")
    return row


def _version(s: Session, app_id: str, version: int) -> ApplicationVersion | None:
    return s.scalar(select(ApplicationVersion).where(ApplicationVersion.application_id == app_id,
                                                     ApplicationVersion.version == version))


def _summary(row: StoredApplication, ver: ApplicationVersion) -> dict[str, Any]:
    return dict(id=row.id, site_name=row.site_name, current_version=row.current_version,
                input_hash=ver.input_hash, regimes=list(ver.body.get("regimes") or []),
                created_at=row.created_at, updated_at=row.updated_at)


def _check_summary(c: StoredCheck) -> CheckSummary:
    return CheckSummary(id=c.id, application_id=c.application_id, application_version=c.application_version,
                        evaluation_id=c.evaluation_id, regimes=c.regimes, verdicts=c.verdicts,
                        catalog_version=c.catalog_version, catalog_hash=c.catalog_hash, catalogs=c.catalogs,
                        input_hash=c.input_hash, as_of=c.as_of, replay_of=c.replay_of, created_at=c.created_at)


def _check_out(c: StoredCheck) -> CheckOut:
    return CheckOut(**_check_summary(c).model_dump(), judgements=c.judgements, reports=c.result["reports"],
                    matrix=c.result.get("matrix"), skipped=c.result.get("skipped") or [])


def _parse_upload(raw: bytes, name: str) -> Application:
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        from compliance.excel import read_workbook

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "upload.xlsx"
            path.write_bytes(raw)
            return read_workbook(path)
    if suffix not in (".json", ".yaml", ".yml"):
        raise InputError([Problem("file", f"неподдерживаемый формат файла «{suffix or name}»: ожидается .json, .yaml, "
                                          ".yml или .xlsx")])
    return validate(parse_document(raw, name))


async def _read_upload(file: UploadFile, limit: int) -> bytes:
    raw = await file.read(limit + 1)
    if len(raw) > limit:
        raise ApiError(413, f"файл больше допустимого ({limit} байт)")
    return raw


def _store_check(s: Session, who: Caller, app_row: StoredApplication, ver: ApplicationVersion, regime: str | None,
                 judgements: dict[str, Any] | None, result: dict[str, Any], replay_of: str | None = None) -> StoredCheck:
    catalogs = checking.catalogs_of(result)
    if len(catalogs) == 1:
        (only,) = catalogs.values()
        version, digest = only["version"], only["hash"]
    else:
        version = ", ".join(sorted({c["version"] for c in catalogs.values()}))
        digest = hashlib.sha256(json.dumps(catalogs, sort_keys=True).encode()).hexdigest()
    reports = result["reports"]
    row = StoredCheck(organisation_id=who.org_id, application_id=app_row.id, application_version=ver.version,
                      evaluation_id=reports[0]["evaluation_id"], regimes=[r["regime"] for r in reports],
                      requested_regime=regime, catalog_version=version, catalog_hash=digest, catalogs=catalogs,
                      input_hash=ver.input_hash, as_of=date.fromisoformat(reports[0]["as_of"]), judgements=judgements,
                      verdicts={r["regime"]: r["verdict"] for r in reports}, result=result, replay_of=replay_of)
    s.add(row)
    s.flush()
    audit(s, who.org_id, who.token_id, "check.replay" if replay_of else "check.create", "check", row.id,
          f"application {app_row.id} v{ver.version}")
    return row


# --- the application ------------------------------------------------------------------------------------------
def create_app(settings: Settings | None = None, *, migrate: bool | None = None) -> FastAPI:
    settings = settings or get_settings()
    sessions = session_factory(settings.database_url,
                               migrate=settings.migrate_on_start if migrate is None else migrate)

    pool = workers.EvaluationPool(settings.max_workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
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
                      {"name": "журнал", "description": "журнал действий организации"}],
    )
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.evaluation_pool = pool
    # Evaluations run off the event loop, at most `max_workers` at once, each in a worker process with its own
    # durable-rules engine ("process"); or one at a time in a thread of this process ("thread": durable-rules is never
    # entered from two threads; the engine's own lock and its 1024-session guard stay as a second line).
    in_process = settings.evaluation_mode == "process"
    app.state.engine_limiter = anyio.CapacityLimiter(settings.max_workers if in_process else 1)
    install(app)
    app.add_middleware(Guard, limit=settings.max_body_bytes)
    limit = settings.max_body_bytes

    async def evaluate_in_slot(body: dict[str, Any], regime: str | None, as_of: date | None,
                               judgements: dict[str, Any] | None) -> dict[str, Any]:
        """The result JSON of `checking.run`; InputError → 422; a crashed worker → 503 and nothing is stored."""
        day = as_of.isoformat() if as_of else None
        async with app.state.engine_limiter:
            if in_process:
                try:
                    out = await pool.evaluate(body, regime, day, judgements)
                except workers.WorkerCrashed:
                    raise ApiError(503, workers.CRASH_MESSAGE) from None
            else:
                out = await anyio.to_thread.run_sync(workers.evaluate_json, body, regime, day, judgements)
        return workers.result_of(out)

    async def in_thread(fn: Callable[[], Any]) -> Any:
        return await anyio.to_thread.run_sync(fn)

    r = APIRouter(prefix="/api/v1")

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

    # -- applications ----------------------------------------------------------------------------------------
    def create(s: Session, who: Caller, model: Application, source: str) -> ApplicationOut:
        body = model.model_dump(mode="json")
        now = utcnow()
        row = StoredApplication(organisation_id=who.org_id, site_name=model.site_name, current_version=1,
                                created_at=now, updated_at=now)
        s.add(row)
        s.flush()
        ver = ApplicationVersion(application_id=row.id, version=1, body=body, input_hash=input_hash(body),
                                 source=source, token_id=who.token_id, created_at=now)
        s.add(ver)
        audit(s, who.org_id, who.token_id, "application.create", "application", row.id, f"v1 {source}")
        s.commit()
        return ApplicationOut(**_summary(row, ver), version=1, body=body)

    def update(s: Session, who: Caller, app_id: str, model: Application, source: str) -> ApplicationOut:
        row = _own_app(s, who, app_id)
        body = model.model_dump(mode="json")
        now = utcnow()
        row.current_version += 1
        row.site_name = model.site_name
        row.updated_at = now
        ver = ApplicationVersion(application_id=row.id, version=row.current_version, body=body,
                                 input_hash=input_hash(body), source=source, token_id=who.token_id, created_at=now)
        s.add(ver)
        audit(s, who.org_id, who.token_id, "application.update", "application", row.id, f"v{ver.version} {source}")
        s.commit()
        return ApplicationOut(**_summary(row, ver), version=ver.version, body=body)

    @r.post("/applications", tags=["заявки"], status_code=201, response_model=ApplicationOut,
            summary="Создать заявку из JSON")
    def create_application(who: Auth, s: DB, data: AppBody) -> ApplicationOut:
        return create(s, who, validate(data), "json")

    @r.post("/applications/upload", tags=["заявки"], status_code=201, response_model=ApplicationOut,
            summary="Создать заявку из файла (.json, .yaml, .xlsx)")
    async def upload_application(who: Auth, file: AppFile) -> ApplicationOut:
        raw = await _read_upload(file, limit)
        name = file.filename or "заявка"

        def work() -> ApplicationOut:
            model = _parse_upload(raw, name)
            with sessions() as s:
                return create(s, who, model, name)
        return await anyio.to_thread.run_sync(work)

    @r.get("/applications", tags=["заявки"], response_model=list[ApplicationSummary], summary="Заявки организации")
    def list_applications(who: Auth, s: DB, limit_: Annotated[int, Query(alias="limit", ge=1, le=500)] = 100,
                          offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> list[ApplicationSummary]:
        rows = s.scalars(select(StoredApplication).where(StoredApplication.organisation_id == who.org_id)
                         .order_by(StoredApplication.created_at, StoredApplication.id).limit(limit_).offset(offset)).all()
        out = []
        for row in rows:
            ver = _version(s, row.id, row.current_version)
            out.append(ApplicationSummary(**_summary(row, ver)))
        audit(s, who.org_id, who.token_id, "application.list", "application", None, f"{len(out)}")
        s.commit()
        return out

    @r.get("/applications/{app_id}", tags=["заявки"], response_model=ApplicationOut,
           summary="Заявка (последняя или указанная версия)")
    def get_application(who: Auth, s: DB, app_id: ID,
                        version: Annotated[int | None, Query(ge=1, le=10**6, description="номер версии")] = None
                        ) -> ApplicationOut:
        row = _own_app(s, who, app_id)
        ver = _version(s, row.id, version or row.current_version)
        if ver is None:
            raise ApiError(404, f"у заявки нет версии {version}")
        audit(s, who.org_id, who.token_id, "application.read", "application", row.id, f"v{ver.version}")
        s.commit()
        return ApplicationOut(**_summary(row, ver), version=ver.version, body=ver.body)

    @r.put("/applications/{app_id}", tags=["заявки"], response_model=ApplicationOut,
           summary="Новая версия заявки из JSON (прежние версии сохраняются)")
    def update_application(who: Auth, s: DB, app_id: ID, data: AppBody) -> ApplicationOut:
        _own_app(s, who, app_id)  # 404 before 422: another organisation's id reveals nothing
        return update(s, who, app_id, validate(data), "json")

    @r.put("/applications/{app_id}/upload", tags=["заявки"], response_model=ApplicationOut,
           summary="Новая версия заявки из файла (.json, .yaml, .xlsx)")
    async def update_application_upload(who: Auth, app_id: ID, file: AppFile) -> ApplicationOut:
        raw = await _read_upload(file, limit)
        name = file.filename or "заявка"

        def work() -> ApplicationOut:
            with sessions() as s:
                _own_app(s, who, app_id)
                return update(s, who, app_id, _parse_upload(raw, name), name)
        return await anyio.to_thread.run_sync(work)

    @r.get("/applications/{app_id}/versions", tags=["заявки"], response_model=list[VersionOut],
           summary="Версии заявки")
    def list_versions(who: Auth, s: DB, app_id: ID) -> list[VersionOut]:
        row = _own_app(s, who, app_id)
        vers = s.scalars(select(ApplicationVersion).where(ApplicationVersion.application_id == row.id)
                         .order_by(ApplicationVersion.version)).all()
        audit(s, who.org_id, who.token_id, "application.versions", "application", row.id)
        s.commit()
        return [VersionOut(version=v.version, input_hash=v.input_hash, source=v.source, created_at=v.created_at)
                for v in vers]

    # -- checks ------------------------------------------------------------------------------------------------
    async def check_flow(who: Caller, app_id: str, req: CheckRequest) -> CheckOut:
        """Read the application (thread), evaluate (worker), store the check (thread) — only after a result."""
        def source() -> tuple[StoredApplication, ApplicationVersion]:
            with sessions() as s:
                row = _own_app(s, who, app_id)
                ver = _version(s, row.id, req.version or row.current_version)
                if ver is None:
                    raise ApiError(404, f"у заявки нет версии {req.version}")
                return row, ver
        row, ver = await in_thread(source)
        result = await evaluate_in_slot(ver.body, req.regime, req.as_of, req.judgements)

        def store() -> CheckOut:
            with sessions() as s:
                stored = _store_check(s, who, row, ver, req.regime, req.judgements, result)
                s.commit()
                return _check_out(stored)
        return await in_thread(store)

    @r.post("/applications/{app_id}/checks", tags=["проверки"], status_code=201, response_model=CheckOut,
            summary="Проверить заявку (режим или all, дата оценки, оценки эксперта); проверка сохраняется")
    async def run_check(who: Auth, app_id: ID, req: CheckRequest | None = None) -> CheckOut:
        return await check_flow(who, app_id, req or CheckRequest())

    @r.get("/applications/{app_id}/checks", tags=["проверки"], response_model=list[CheckSummary],
           summary="Проверки заявки")
    def list_checks(who: Auth, s: DB, app_id: ID) -> list[CheckSummary]:
        row = _own_app(s, who, app_id)
        rows = s.scalars(select(StoredCheck).where(StoredCheck.application_id == row.id,
                                                   StoredCheck.organisation_id == who.org_id)
                         .order_by(StoredCheck.created_at)).all()
        audit(s, who.org_id, who.token_id, "check.list", "application", row.id)
        s.commit()
        return [_check_summary(c) for c in rows]

    @r.post("/checks/batch", tags=["проверки"], response_model=BatchOut,
            summary="Пакетная проверка заявок организации")
    async def batch(who: Auth, req: BatchRequest) -> BatchOut:
        if len(req.application_ids) > settings.max_batch:
            raise ApiError(422, "ошибка во входных данных",
                           [Problem("application_ids", f"не больше {settings.max_batch} заявок за раз")])

        def owned() -> None:
            with sessions() as s:
                for app_id in req.application_ids:
                    _own_app(s, who, app_id)
        await anyio.to_thread.run_sync(owned)
        checks, errors = [], []
        for app_id in req.application_ids:
            try:
                out = await check_flow(who, app_id, CheckRequest(regime=req.regime, as_of=req.as_of))
                checks.append(CheckSummary(**out.model_dump(include=set(CheckSummary.model_fields))))
            except InputError as exc:
                errors.append(BatchItemError(application_id=app_id, status=422, detail="ошибка во входных данных",
                                             problems=[{"path": p.path, "message": p.message} for p in exc.problems]))
            except ApiError as exc:
                errors.append(BatchItemError(application_id=app_id, status=exc.status, detail=exc.detail))
        return BatchOut(checks=checks, errors=errors)

    @r.get("/checks/{check_id}", tags=["проверки"], response_model=CheckOut, summary="Сохранённая проверка с отчётом")
    def get_check(who: Auth, s: DB, check_id: ID) -> CheckOut:
        c = _own_check(s, who, check_id)
        audit(s, who.org_id, who.token_id, "check.read", "check", c.id)
        s.commit()
        return _check_out(c)

    @r.post("/checks/{check_id}/replay", tags=["проверки"], response_model=Replay,
            summary="Повторить проверку: та же версия заявки, дата оценки и оценки эксперта; сравнение находок")
    async def replay(who: Auth, check_id: ID) -> Replay:
        def source() -> tuple[StoredCheck, StoredApplication, ApplicationVersion]:
            with sessions() as s:
                c = _own_check(s, who, check_id)
                row = _own_app(s, who, c.application_id)
                return c, row, _version(s, row.id, c.application_version)
        c, row, ver = await in_thread(source)
        result = await evaluate_in_slot(ver.body, c.requested_regime, c.as_of, c.judgements)

        def store() -> Replay:
            with sessions() as s:
                stored = _store_check(s, who, row, ver, c.requested_regime, c.judgements, result, replay_of=c.id)
                s.commit()
                regimes = checking.compare(c.result, result)
                return Replay(before=c.id, after=stored.id, same=all(x["same_findings"] for x in regimes),
                              catalog_changed=c.catalogs != stored.catalogs, regimes=regimes,
                              check=_check_summary(stored))
        return await in_thread(store)

    @r.get("/checks/{check_id}/diff/{other_id}", tags=["проверки"], response_model=Comparison,
           summary="Что изменилось в находках между двумя проверками")
    def diff_checks(who: Auth, s: DB, check_id: ID, other_id: ID) -> Comparison:
        a, b = _own_check(s, who, check_id), _own_check(s, who, other_id)
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
        c = _own_check(s, who, check_id)
        try:
            from compliance.word import report_docx
        except ImportError:
            raise ApiError(503, "отчёты Word пока недоступны на этом сервере") from None
        data = report_docx(checking.reports_of(c.result), checking.eligibility_of(c.result))
        audit(s, who.org_id, who.token_id, "check.docx", "check", c.id)
        s.commit()
        return Response(data, media_type=docx_type,
                        headers={"Content-Disposition": f'attachment; filename="check-{c.id}.docx"'})

    @r.get("/audit", tags=["журнал"], response_model=list[AuditOut], summary="Журнал действий организации")
    def audit_log(who: Auth, s: DB, limit_: Annotated[int, Query(alias="limit", ge=1, le=1000)] = 100) -> list[AuditOut]:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.organisation_id == who.org_id)
                         .order_by(AuditEntry.id.desc()).limit(limit_)).all()
        return [AuditOut(at=e.at, token_id=e.token_id, action=e.action, object_type=e.object_type,
                         object_id=e.object_id, detail=e.detail) for e in rows]

    app.include_router(r)
    return app

