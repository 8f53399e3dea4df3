"""What the JSON routes and the web pages both do: own-organisation lookups, storing applications and their
versions, running a check (in the evaluation pool) and storing it. `Service` lives on `app.state.service`."""
from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from datetime import date
from pathlib import Path
from typing import Any, Callable, Literal

import anyio
from fastapi import UploadFile
from pydantic import BaseModel
from sqlalchemy import Text, select, type_coerce
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from compliance.catalog import CatalogError, available_regimes, load_catalog
from compliance.formatting import size
from compliance.loading import InputError, InputTooLarge, Problem, parse_document, validate
from compliance.models import Application
from compliance.settings import Settings
from compliance.storage import (ApplicationVersion, CatalogSnapshot, StoredApplication, StoredCheck, audit, input_hash,
                                keep_snapshot, new_id, snapshot_files, source_of, utcnow)

from . import checking, workers
from .errors import ApiError, not_found
from .schemas import ApplicationOut, CheckOut, CheckRequest, CheckSummary, Replay

log = logging.getLogger("compliance.api")


class Caller(BaseModel):
    org_id: int
    token_id: int
    admin: bool = False  # an administrator's token: jobs over every organisation's applications


def own_app(s: Session, who: Caller, app_id: str) -> StoredApplication:
    row = s.get(StoredApplication, app_id)
    if row is None or row.organisation_id != who.org_id:
        raise not_found("заявка")
    return row


class VersionConflict(ApiError):
    """Another writer saved a version of the application first (or the writer's base version is stale): 409 naming
    the current version; nothing of this request is stored."""

    def __init__(self, current: int):
        super().__init__(409, f"заявку уже изменили: текущая версия — {current}; откройте её и сохраните свои "
                              "изменения снова", headers={"X-Current-Version": str(current)})
        self.current = current


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
                        input_hash=c.input_hash, as_of=c.as_of, replay_of=c.replay_of,
                        replay_catalog=c.replay_catalog, created_at=c.created_at)


def check_out(c: StoredCheck) -> CheckOut:
    return CheckOut(**check_summary(c).model_dump(), judgements=c.judgements, reports=c.result["reports"],
                    matrix=c.result.get("matrix"), skipped=c.result.get("skipped") or [])


def parse_upload(raw: bytes, name: str) -> Application:
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        from compliance.excel import read_workbook

        with tempfile.TemporaryDirectory() as tmp:
            safe = Path(name.replace("\\", "/").replace("\0", "")).name
            path = Path(tmp) / (safe if len(safe.encode()) <= 200 and safe.lower().endswith(".xlsx") else "upload.xlsx")
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
                replay_of: str | None = None, replay_catalog: str | None = None) -> StoredCheck:
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
    # the id is set here, not by a flush: the row and its audit entry are written by one flush, at the commit
    row = StoredCheck(id=new_id(), organisation_id=who.org_id, application_id=app_row.id,
                      application_version=ver.version, evaluation_id=facts["evaluation_id"],
                      regimes=facts["regimes"], requested_regime=regime,
                      catalog_version=version, catalog_hash=digest, catalogs=catalogs, input_hash=ver.input_hash,
                      as_of=date.fromisoformat(facts["as_of"]), judgements=judgements, verdicts=facts["verdicts"],
                      result=value, replay_of=replay_of, replay_catalog=replay_catalog)
    s.add(row)
    audit(s, who.org_id, who.token_id, "check.replay" if replay_of else "check.create", "check", row.id,
          f"application {app_row.id} v{ver.version}" + (f" catalog {replay_catalog}" if replay_catalog else ""))
    return row


def stored_catalogs(s: Session, c: StoredCheck) -> workers.Snapshots:
    """The catalog versions a stored check used, from their snapshots (regime -> files); 409 when one was not
    stored (a check made before the service kept catalog versions) or does not match its content hash."""
    titles = {r["regime"]: r["regime_title"] for r in c.result["reports"]}
    out: workers.Snapshots = {}
    for code, used in c.catalogs.items():
        row = s.get(CatalogSnapshot, used["hash"])
        if row is None:
            raise ApiError(409, f"каталог требований, по которому выполнена эта проверка («{titles.get(code, code)}», "
                                f"версия {used['version']}), не сохранён: проверка сделана до того, как сервис начал "
                                "хранить каталоги. Повторить её можно только по текущему каталогу")
        try:
            out[code] = snapshot_files(row)
        except CatalogError as exc:
            raise ApiError(409, str(exc)) from None
    return out


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
        self.kept_catalogs: set[str] = set()  # content hashes known to have a snapshot in the database

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

    def update(self, s: Session, who: Caller, app_id: str, model: Application, source: str,
               base: int | None = None) -> ApplicationOut:
        """A new version after `base` (by default the current one). The version number moves by a compare-and-set
        UPDATE, so of concurrent writers one wins and the others get VersionConflict (409), on SQLite and PostgreSQL
        alike; the unique (application, version) constraint is the second line."""
        row = own_app(s, who, app_id)
        expected = row.current_version if base is None else base
        body = model.model_dump(mode="json")
        now = utcnow()
        moved = s.execute(sql_update(StoredApplication)
                          .where(StoredApplication.id == row.id, StoredApplication.current_version == expected)
                          .values(current_version=expected + 1, site_name=model.site_name, updated_at=now)
                          .execution_options(synchronize_session=False))
        if moved.rowcount != 1:
            s.rollback()
            raise VersionConflict(self.current_version(s, row.id))
        ver = ApplicationVersion(application_id=row.id, version=expected + 1, body=body,
                                 input_hash=input_hash(body), source=source, token_id=who.token_id, created_at=now)
        s.add(ver)
        audit(s, who.org_id, who.token_id, "application.update", "application", row.id, f"v{ver.version} {source}")
        try:
            s.commit()
        except IntegrityError:
            s.rollback()
            current = self.current_version(s, row.id)
            if current == expected:  # not a lost race: some other constraint failed
                raise
            raise VersionConflict(current) from None
        s.refresh(row)
        return ApplicationOut(**summary(row, ver), version=ver.version, body=body)

    @staticmethod
    def current_version(s: Session, app_id: str) -> int:
        return s.scalar(select(StoredApplication.current_version).where(StoredApplication.id == app_id))

    async def save_upload(self, who: Caller, raw: bytes, name: str, app_id: str | None = None,
                          base: int | None = None) -> ApplicationOut:
        """A new application (or a new version of `app_id`) from an uploaded file, parsed off the event loop: in a
        worker process under `upload_memory_mb` (mode "process"), or in a thread (mode "thread")."""
        def owned() -> None:
            with self.sessions() as s:
                own_app(s, who, app_id)  # 404 before 413/422: another organisation's id reveals nothing

        def store(model: Application) -> ApplicationOut:
            with self.sessions() as s:
                if app_id is None:
                    return self.create(s, who, model, source_of(name))
                return self.update(s, who, app_id, model, source_of(name), base)
        if app_id is not None:
            await anyio.to_thread.run_sync(owned)
        if self.in_process:
            async with self.limiter:
                try:
                    out = await self.pool.parse(raw, name, self.settings.upload_memory_mb)
                except workers.WorkerCrashed as exc:  # also WorkerTimedOut: a file whose reading does not end
                    raise InputTooLarge([Problem("file", str(exc))]) from None
        else:
            out = await anyio.to_thread.run_sync(workers.parse_json, raw, name)
        return await anyio.to_thread.run_sync(store, workers.parsed_of(out))

    async def verify_act(self, raw: bytes, name: str, regime: str) -> dict[str, Any]:
        """An uploaded act text checked against the regime's catalog (`workers.verify_act`), off the event loop: in a
        worker process under `upload_memory_mb` (mode "process"), or in a thread (mode "thread"). Nothing is stored.
        A file that is not an act → InputError (422); one whose reading blows up → InputTooLarge (413)."""
        if self.in_process:
            async with self.limiter:
                try:
                    out = await self.pool.verify_act(raw, name, regime, self.settings.upload_memory_mb)
                except workers.WorkerCrashed as exc:
                    raise InputTooLarge([Problem("file", str(exc))]) from None
        else:
            out = await anyio.to_thread.run_sync(workers.verify_act, raw, name, regime)
        if "problems" in out:
            raise (InputTooLarge if out["too_large"] else InputError)([Problem(p["path"], p["message"])
                                                                      for p in out["problems"]])
        return out

    # -- checks ----------------------------------------------------------------------------------------------
    async def evaluated(self, body: dict[str, Any], regime: str | None, as_of: date | None,
                        judgements: dict[str, Any] | None, judgements_override: bool = False,
                        catalogs: workers.Snapshots | None = None) -> workers.Evaluated:
        """The evaluation (`checking.run`, its result as JSON); InputError → 422; a crashed worker → 503.
        `judgements_override` applies judgements made for another application or version (the report says so);
        `catalogs` (stored catalog versions) replace the current catalogs of their regimes."""
        day = as_of.isoformat() if as_of else None
        async with self.limiter:
            if self.in_process:
                try:
                    out = await self.pool.evaluate(body, regime, day, judgements, judgements_override, catalogs)
                except workers.WorkerCrashed as exc:
                    raise ApiError(503, str(exc), headers={"Retry-After": "1"}) from None
            else:
                out = await anyio.to_thread.run_sync(workers.evaluate_json, body, regime, day, judgements,
                                                     judgements_override, catalogs)
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
            self.keep_catalogs(evaluated.facts["catalogs"])
            with self.sessions() as s:
                stored = store_check(s, who, row, ver, req.regime, req.judgements, evaluated)
                s.commit()
                return check_json(stored, evaluated)
        return await self.in_thread(store)

    async def check(self, who: Caller, app_id: str, req: CheckRequest) -> CheckOut:
        """As `check_as_json`, the stored check as a CheckOut."""
        return CheckOut.model_validate_json(await self.check_as_json(who, app_id, req))

    def keep_catalogs(self, catalogs: dict[str, dict[str, str]]) -> None:
        """Store a snapshot of each catalog version an evaluation used (regime -> {"version", "hash"}), once per
        content hash. The snapshot is taken from the catalog files as they are now; should they have changed since
        the evaluation (their hash differs), the version is not stored and a replay under it is refused."""
        for code, used in catalogs.items():
            if used["hash"] in self.kept_catalogs:
                continue
            with self.sessions() as s:
                present = s.get(CatalogSnapshot, used["hash"]) is not None
            if not present:
                current = load_catalog(code) if code in available_regimes() else None
                if current is None or current.content_hash != used["hash"]:
                    log.warning("каталог режима %s версии %s изменился во время проверки: его снимок не сохранён",
                                code, used["version"])
                    continue
                keep_snapshot(self.sessions, current)
            self.kept_catalogs.add(used["hash"])

    async def replay(self, who: Caller, check_id: str, under: Literal["stored", "current"] = "current") -> Replay:
        """Evaluate a stored check again — the same application version, as-of date and judgements — under the
        catalogs it used (`stored`: the audit answer, the same findings are expected) or under the current ones
        (`current`: what a newer catalog changes); the replay is stored as a check and compared with the original."""
        def source() -> tuple[StoredCheck, StoredApplication, ApplicationVersion, workers.Snapshots | None]:
            with self.sessions() as s:
                c = own_check(s, who, check_id)
                row = own_app(s, who, c.application_id)
                return c, row, version_of(s, row.id, c.application_version), \
                    stored_catalogs(s, c) if under == "stored" else None
        c, row, ver, snapshots = await self.in_thread(source)
        # the judgements were accepted for this version when the check was made; a check stored with an override
        # (or before judgements named their application) replays with the same statement on its first page
        evaluated = await self.evaluated(ver.body, c.requested_regime, c.as_of, c.judgements, True, snapshots)

        def store() -> Replay:
            self.keep_catalogs(evaluated.facts["catalogs"])
            with self.sessions() as s:
                stored = store_check(s, who, row, ver, c.requested_regime, c.judgements, evaluated, replay_of=c.id,
                                     replay_catalog=under)
                s.commit()
                regimes = checking.compare(c.result, evaluated.result())
                return Replay(before=c.id, after=stored.id, same=all(x["same_findings"] for x in regimes),
                              catalog=under, catalog_changed=c.catalogs != stored.catalogs, regimes=regimes,
                              check=check_summary(stored))
        return await self.in_thread(store)
