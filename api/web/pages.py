"""Web pages: sign-in and sign-out, the list of applications with search, an application's page (its versions, the
check form and the history of checks), uploading a file, and downloads of the application and the Excel template."""
from __future__ import annotations

import json
import secrets
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.datastructures import UploadFile
from fastapi.responses import Response
from sqlalchemy import select

from compliance.catalog import available_regimes
from compliance.formatting import size
from compliance.loading import InputError, InputTooLarge, Problem
from compliance.settings import today
from compliance.storage import ApplicationVersion, StoredApplication, StoredCheck, audit, token_owner

from ..errors import ApiError
from ..service import own_app, read_version, version_of
from .common import (BROWSER, COOKIE, WebAuth, csrf_ok, form_text, problems_view, read_form, redirect, render,
                     safe_next, service_of, set_cookie)
from .jobs import catalog_banner  # the «каталог обновлён» banner

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MESSAGES = {"created": "Заявка сохранена.", "updated": "Сохранена новая версия заявки.",
            "uploaded": "Файл загружен, заявка сохранена.", "signed-out": "Вы вышли."}


@router.get("/")
def home() -> Response:
    return redirect("/applications")


# --- sign-in ------------------------------------------------------------------------------------------------------
@router.get("/sign-in")
def sign_in_page(request: Request, next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    return render(request, "sign_in.html", next=safe_next(next), error=None)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await request.form()
    token = form_text(form, "token").strip()
    target = safe_next(form_text(form, "next"))
    error = None
    if not csrf_ok(request, form):  # login CSRF: another site must not sign this browser in with its token
        return render(request, "sign_in.html", status=403, next=target,
                      error="Форма входа устарела или отправлена не с этой страницы. Войдите ещё раз.")
    if not token:
        error = "Введите токен организации."
    else:
        with service_of(request).sessions() as s:
            row = token_owner(s, token)
            if row is None:
                error = "Токен не действителен или отозван. Проверьте, что он скопирован целиком."
            else:
                audit(s, row.organisation_id, row.id, "web.sign_in", "token", str(row.id))
                s.commit()
    if error:
        return render(request, "sign_in.html", status=401, next=target, error=error)
    response = redirect(target)
    set_cookie(request, response, COOKIE, token)
    set_cookie(request, response, BROWSER, secrets.token_hex(32))  # a new CSRF value for the new session
    return response


@router.post("/sign-out")
async def sign_out(request: Request, who: WebAuth) -> Response:
    await read_form(request)
    response = redirect("/sign-in?next=/applications")
    response.delete_cookie(COOKIE, path="/")
    response.delete_cookie(BROWSER, path="/")
    return response


# --- applications -------------------------------------------------------------------------------------------------
def _last_checks(s, org_id: int, app_ids: list[str]) -> dict[str, StoredCheck]:
    if not app_ids:
        return {}
    rows = s.scalars(select(StoredCheck).where(StoredCheck.organisation_id == org_id,
                                               StoredCheck.application_id.in_(app_ids))
                     .order_by(StoredCheck.created_at)).all()
    return {c.application_id: c for c in rows}  # the newest wins


def _row_view(row: StoredApplication, body: dict[str, Any], last: StoredCheck | None) -> dict[str, Any]:
    return {"id": row.id, "site_name": row.site_name, "regimes": list(body.get("regimes") or []),
            "category": body.get("category"), "region": body.get("region"), "version": row.current_version,
            "updated_at": row.updated_at, "last_check": last}


@router.get("/applications")
def applications(request: Request, who: WebAuth, q: Annotated[str, Query(max_length=200)] = "",
                 page: Annotated[int, Query(ge=1, le=10**6)] = 1, msg: Annotated[str, Query(max_length=40)] = ""
                 ) -> Response:
    needle = " ".join(q.split()).casefold()
    with service_of(request).sessions() as s:
        rows = s.scalars(select(StoredApplication).where(StoredApplication.organisation_id == who.org_id)
                         .order_by(StoredApplication.updated_at.desc(), StoredApplication.id)).all()
        total = len(rows)
        bodies = {v.application_id: v.body for v in s.scalars(
            select(ApplicationVersion).join(StoredApplication, StoredApplication.id == ApplicationVersion.application_id)
            .where(StoredApplication.organisation_id == who.org_id,
                   ApplicationVersion.version == StoredApplication.current_version))}
        if needle:  # in Python: SQLite's lower() does not fold Cyrillic
            rows = [r for r in rows if needle in " ".join([r.site_name, str(bodies.get(r.id, {}).get("region") or ""),
                                                           r.id]).casefold()]
        found = len(rows)
        pages = max(1, -(-found // PAGE_SIZE))
        page = min(page, pages)
        shown = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        last = _last_checks(s, who.org_id, [r.id for r in shown])
        items = [_row_view(r, bodies.get(r.id, {}), last.get(r.id)) for r in shown]
        catalog = catalog_banner(s, who)
    return render(request, "applications.html", catalog=catalog, items=items, q=q, total=total, found=found, page=page, pages=pages,
                  message=MESSAGES.get(msg), all_regimes=available_regimes(),
                  max_batch=service_of(request).settings.max_batch)


@router.get("/applications/upload")
def upload_page(request: Request, who: WebAuth) -> Response:
    return render(request, "upload.html", problems=[], filename=None, app=None,
                  max_files=service_of(request).settings.max_batch)


async def _read_file(file: UploadFile, limit: int) -> bytes:
    raw = await file.read(limit + 1)
    if len(raw) > limit:
        raise ApiError(413, f"Файл больше допустимого ({size(limit)}).")
    return raw


async def _upload_many(request: Request, who, files: list[UploadFile]) -> Response:
    """Several new applications: each file parsed and saved on its own (a bad one never blocks the others), then a
    page with the outcome of every file and a form to check all the saved ones at once."""
    service = service_of(request)
    cap = service.settings.max_batch
    if len(files) > cap:
        problem = Problem("", f"выбрано файлов: {len(files)}, а за одну загрузку можно не больше {cap}. Разделите "
                              f"пакет на части по {cap} файлов")
        return render(request, "upload.html", status=422, problems=problems_view([problem]), filename=None, app=None,
                      heading="Слишком много файлов", max_files=cap)
    outcomes = []
    for file in files:
        raw = await _read_file(file, service.settings.max_body_bytes)  # within the limit of the whole request
        try:
            out = await service.save_upload(who, raw, file.filename)
        except InputError as exc:
            outcomes.append({"name": file.filename, "app": None, "problems": problems_view(exc.problems)})
        else:
            outcomes.append({"name": file.filename, "app": out, "problems": []})
    saved = [o["app"] for o in outcomes if o["app"]]
    return render(request, "batch_upload.html", status=200 if saved else 422, outcomes=outcomes, saved=saved,
                  all_regimes=available_regimes(), max_batch=cap)


async def _upload(request: Request, who, app_id: str | None) -> Response:
    service = service_of(request)
    await request.form(max_files=max(1000, service.settings.max_batch + 1))  # parsed once; read_form gets the same
    form = await read_form(request)
    files = [f for f in form.getlist("file") if isinstance(f, UploadFile) and f.filename]
    if app_id is None and len(files) > 1:
        return await _upload_many(request, who, files)
    file = form.get("file")
    app_view = None
    if app_id is not None:
        with service.sessions() as s:
            row = own_app(s, who, app_id)
            app_view = {"id": row.id, "site_name": row.site_name}
    if not isinstance(file, UploadFile) or not file.filename:
        problems = [Problem("file", "выберите файл заявки (.json, .yaml, .yml или .xlsx)")]
        return render(request, "upload.html", status=422, problems=problems_view(problems), filename=None, app=app_view,
                      max_files=service.settings.max_batch)
    raw = await _read_file(file, service.settings.max_body_bytes)
    try:
        out = await service.save_upload(who, raw, file.filename, app_id)
    except InputError as exc:
        status = 413 if isinstance(exc, InputTooLarge) else 422
        return render(request, "upload.html", status=status, problems=problems_view(exc.problems), filename=file.filename,
                      app=app_view, max_files=service.settings.max_batch)
    return redirect(f"/applications/{out.id}?msg={'uploaded' if app_id is None else 'updated'}")


@router.post("/applications/upload")
async def upload(request: Request, who: WebAuth) -> Response:
    return await _upload(request, who, None)


@router.get("/applications/{app_id}/upload")
def upload_version_page(request: Request, who: WebAuth, app_id: str) -> Response:
    with service_of(request).sessions() as s:
        row = own_app(s, who, app_id)
        app_view = {"id": row.id, "site_name": row.site_name}
    return render(request, "upload.html", problems=[], filename=None, app=app_view)


@router.post("/applications/{app_id}/upload")
async def upload_version(request: Request, who: WebAuth, app_id: str) -> Response:
    return await _upload(request, who, app_id)


@router.get("/applications/{app_id}")
def application_page(request: Request, who: WebAuth, app_id: str, msg: Annotated[str, Query(max_length=40)] = ""
                     ) -> Response:
    with service_of(request).sessions() as s:
        row = own_app(s, who, app_id)
        ver = version_of(s, row.id, row.current_version)
        versions = s.scalars(select(ApplicationVersion).where(ApplicationVersion.application_id == row.id)
                             .order_by(ApplicationVersion.version.desc())).all()
        checks = s.scalars(select(StoredCheck).where(StoredCheck.application_id == row.id,
                                                     StoredCheck.organisation_id == who.org_id)
                           .order_by(StoredCheck.created_at.desc())).all()
        audit(s, who.org_id, who.token_id, "web.application.read", "application", row.id, f"v{ver.version}")
        s.commit()
    body = ver.body
    cluster = body.get("cluster") or {}
    counts = [("земельных участков", len(body.get("land_plots") or [])), ("зданий", len(body.get("buildings") or [])),
              ("объектов инженерной инфраструктуры", len(body.get("utilities") or [])),
              ("резидентов", len(body.get("residents") or [])),
              ("участников кластера", len(cluster.get("participants") or [])),
              ("договоров кластера", len(cluster.get("contracts") or [])),
              ("документов", len(body.get("documents") or []))]
    regimes = list(body.get("regimes") or [])
    return render(request, "application.html", app=row, body=body, version=ver, versions=versions, checks=checks,
                  counts=[(label, n) for label, n in counts if n], regimes=regimes, all_regimes=available_regimes(),
                  default_as_of=body.get("filing_date") or today().isoformat(), message=MESSAGES.get(msg))


@router.get("/applications/{app_id}/application.json")
def application_json(request: Request, who: WebAuth, app_id: str,
                     version: Annotated[int | None, Query(ge=1, le=10**6)] = None) -> Response:
    with service_of(request).sessions() as s:
        row, ver = read_version(s, who, app_id, version, "web.application.download")
    data = json.dumps(ver.body, ensure_ascii=False, indent=2).encode("utf-8")
    return Response(data, media_type="application/json; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="application-{row.id}-v{ver.version}.json"'})


@router.get("/template.xlsx")
def excel_template(request: Request, who: WebAuth) -> Response:
    from compliance.excel import write_template

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "template.xlsx"
        write_template(path)
        data = path.read_bytes()
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="cluster-template.xlsx"'})
