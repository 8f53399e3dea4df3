"""What the JSON routes and the web pages both do: own-organisation lookups, storing applications and their
versions, running a check (in the evaluation pool) and storing it. `Service` lives on `app.state.service`."""
from __future__ import annotations

import hashlib
import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any, Callable

import anyio
from fastapi import UploadFile
from pydantic import BaseModel
from sqlalchemy import Text, select, type_coerce
from sqlalchemy.orm import Session, sessionmaker

from compliance.formatting import size
from compliance.loading import InputError, Problem, parse_document, validate
from compliance.models import Application
from compliance.settings import Settings
from compliance.storage import (ApplicationVersion, StoredApplication, StoredCheck, audit, input_hash, source_of,
                                utcnow)

from . import workers
from .errors import ApiError, not_found
from .schemas import ApplicationOut, CheckOut, CheckRequest, CheckSummary


class Caller(BaseModel):
    org_id: int
    token_id: int


def own_app(s: Session, who: Caller, app_id: str) -> StoredApplication:
    row = s.get(StoredApplication, app_id)
    if row is None or row.organisation_id != who.org_id:
        raise not_found("заявка")
    return row


def own_check(s: Session, who: Caller, check_id: str) -> StoredCheck:
    row = s.get(StoredCheck, check_id)
    if row is None or row.organisation_id != who.org_id:
        raise not_found("проверка")
    return row


def version_of(s: Session, app_id: str, version: int) -> ApplicationVersion | None:
    return s.scalar(select(ApplicationVersion).where(ApplicationVersion.application_id == app_id,
                                                     ApplicationVersion.version == version))


def read_version(s: Session, who: Caller, app_id: str, version: int | None,
                 action: str) -> tuple[StoredApplication, ApplicationVersion]:
    """An own application and one of its versions (the current one by default), the reading recorded in the audit
    log; 404 for another organisation's application or a version that does not exist."""
    row = own_app(s, who, app_id)
    ver = version_of(s, row.id, version or row.current_version)
    if ver is None:
        raise ApiError(404, f"у заявки нет версии {version}")
    audit(s, who.org_id, who.token_id, action, "application", row.id, f"v{ver.version}")
    s.commit()
    return row, ver


def summary(row: StoredApplication, ver: ApplicationVersion) -> dict[str, Any]:
    return dict(id=row.id, site_name=row.site_name, current_version=row.current_version,
                input_hash=ver.input_hash, regimes=list(ver.body.get("regimes") or []),
                created_at=row.created_at, updated_at=row.updated_at)


def check_summary(c: StoredCheck) -> CheckSummary:
    return CheckSummary(id=c.id, application_id=c.application_id, application_version=c.application_version,
                        evaluation_id=c.evaluation_id, regimes=c.regimes, verdicts=c.verdicts,
                        catalog_version=c.catalog_version, catalog_hash=c.catalog_hash, catalogs=c.catalogs,
                        input_hash=c.input_hash, as_of=c.as_of, replay_of=c.replay_of, created_at=c.created_at)


def check_out(c: StoredCheck) -> CheckOut:
    return CheckOut(**check_summary(c).model_dump(), judgements=c.judgements, reports=c.result["reports"],
                    matrix=c.result.get("matrix"), skipped=c.result.get("skipped") or [])


def parse_upload(raw: bytes, name: str) -> Application:
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


async def read_upload(file: UploadFile, limit: int) -> bytes:
    raw = await file.read(limit + 1)
    if len(raw) > limit:
        raise ApiError(413, f"файл больше допустимого ({size(limit)})")
    return raw


def stored_result(s: Session, evaluated: workers.Evaluated) -> Any:
    """The value for StoredCheck.result. On SQLite the JSON text is written as it came from the worker (the column
    holds JSON text: reading it back gives the same dict); elsewhere the dict, serialised by the column's type."""
    if s.get_bind().dialect.name == "sqlite":
        return type_coerce(evaluated.json.decode("utf-8"), Text)
    return evaluated.result()


def store_check(s: Session, who: Caller, app_row: StoredApplication, ver: ApplicationVersion, regime: str | None,
                judgements: dict[str, Any] | None, result: dict[str, Any] | workers.Evaluated,
                replay_of: str | None = None) -> StoredCheck:
    """Store a check with its audit entry. With an `Evaluated` the row's `result` is written from its JSON and is not
    loaded on the row: read the check again to see it."""
    if isinstance(result, workers.Evaluated):
        facts, value = result.facts, stored_result(s, result)
    else:
        facts, value = workers.facts_of(result), result
    catalogs = facts["catalogs"]
    if len(catalogs) == 1:
        (only,) = catalogs.values()
        version, digest = only["version"], only["hash"]
    else:
        version = ", ".join(sorted({c["version"] for c in catalogs.values()}))
        digest = hashlib.sha256(json.dumps(catalogs, sort_keys=True).encode()).hexdigest()
    row = StoredCheck(organisation_id=who.org_id, application_id=app_row.id, application_version=ver.version,
                      evaluation_id=facts["evaluation_id"], regimes=facts["regimes"], requested_regime=regime,
                      catalog_version=version, catalog_hash=digest, catalogs=catalogs, input_hash=ver.input_hash,
                      as_of=date.fromisoformat(facts["as_of"]), judgements=judgements, verdicts=facts["verdicts"],
                      result=value, replay_of=replay_of)
    s.add(row)
    s.flush()
    audit(s, who.org_id, who.token_id, "check.replay" if replay_of else "check.create", "check", row.id,
          f"application {app_row.id} v{ver.version}")
    return row


def check_json(c: StoredCheck, evaluated: workers.Evaluated) -> bytes:
    """The CheckOut JSON of a check just stored: the same bytes as serialising `check_out(c)`, with the result —
    {"reports", "matrix", "skipped"}, CheckOut's last fields — spliced in as the worker serialised it."""
    head = CheckOut(**check_summary(c).model_dump(), judgements=c.judgements, reports=[])
    return head.model_dump_json(exclude={"reports", "matrix", "skipped"}).encode()[:-1] + b"," + evaluated.json[1:]


class Service:
    """The stored applications and checks of the service, with evaluations in the pool (or a thread)."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], pool: workers.EvaluationPool):
        self.settings = settings
        self.sessions = sessions
        self.pool = pool
        # Evaluations run off the event loop, at most `max_workers` at once, each in a worker process with its own
        # durable-rules engine ("process"); or one at a time in a thread of this process ("thread": durable-rules is
        # never entered from two threads; the engine's own lock and its 1024-session guard stay as a second line).
        self.in_process = settings.evaluation_mode == "process"
        self.limiter = anyio.CapacityLimiter(settings.max_workers if self.in_process else 1)

    # -- applications ----------------------------------------------------------------------------------------
    def create(self, s: Session, who: Caller, model: Application, source: str) -> ApplicationOut:
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
        return ApplicationOut(**summary(row, ver), version=1, body=body)

    def update(self, s: Session, who: Caller, app_id: str, model: Application, source: str) -> ApplicationOut:
        row = own_app(s, who, app_id)
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
        return ApplicationOut(**summary(row, ver), version=ver.version, body=body)

    async def save_upload(self, who: Caller, raw: bytes, name: str, app_id: str | None = None) -> ApplicationOut:
        """A new application (or a new version of `app_id`) from an uploaded file, parsed off the event loop."""
        def work() -> ApplicationOut:
            with self.sessions() as s:
                if app_id is not None:
                    own_app(s, who, app_id)  # 404 before 422: another organisation's id reveals nothing
                model = parse_upload(raw, name)
                if app_id is None:
                    return self.create(s, who, model, source_of(name))
                return self.update(s, who, app_id, model, source_of(name))
        return await anyio.to_thread.run_sync(work)

    # -- checks ----------------------------------------------------------------------------------------------
    async def evaluated(self, body: dict[str, Any], regime: str | None, as_of: date | None,
                        judgements: dict[str, Any] | None, judgements_override: bool = False) -> workers.Evaluated:
        """The evaluation (`checking.run`, its result as JSON); InputError → 422; a crashed worker → 503.
        `judgements_override` applies judgements made for another application or version (the report says so)."""
        day = as_of.isoformat() if as_of else None
        async with self.limiter:
            if self.in_process:
                try:
                    out = await self.pool.evaluate(body, regime, day, judgements, judgements_override)
                except workers.WorkerCrashed:
                    raise ApiError(503, workers.CRASH_MESSAGE) from None
            else:
                out = await anyio.to_thread.run_sync(workers.evaluate_json, body, regime, day, judgements,
                                                     judgements_override)
        return workers.result_of(out)

    async def evaluate(self, body: dict[str, Any], regime: str | None, as_of: date | None,
                       judgements: dict[str, Any] | None, judgements_override: bool = False) -> dict[str, Any]:
        """The result JSON of `checking.run` as a dict; errors as in `evaluated`; nothing is stored."""
        return (await self.evaluated(body, regime, as_of, judgements, judgements_override)).result()

    async def in_thread(self, fn: Callable[[], Any]) -> Any:
        return await anyio.to_thread.run_sync(fn)

    async def check_as_json(self, who: Caller, app_id: str, req: CheckRequest) -> bytes:
        """Read the application (thread), evaluate (worker), store the check (thread) — only after a result; the
        stored check as CheckOut JSON, built without parsing the result that came from the worker as JSON."""
        def source() -> tuple[StoredApplication, ApplicationVersion]:
            with self.sessions() as s:
                row = own_app(s, who, app_id)
                ver = version_of(s, row.id, req.version or row.current_version)
                if ver is None:
                    raise ApiError(404, f"у заявки нет версии {req.version}")
                return row, ver
        row, ver = await self.in_thread(source)
        evaluated = await self.evaluated(ver.body, req.regime, req.as_of, req.judgements, req.judgements_override)

        def store() -> bytes:
            with self.sessions() as s:
                stored = store_check(s, who, row, ver, req.regime, req.judgements, evaluated)
                s.commit()
                return check_json(stored, evaluated)
        return await self.in_thread(store)

    async def check(self, who: Caller, app_id: str, req: CheckRequest) -> CheckOut:
        """As `check_as_json`, the stored check as a CheckOut."""
        return CheckOut.model_validate_json(await self.check_as_json(who, app_id, req))
