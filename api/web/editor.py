"""Web pages: the application editor — a new application, or a new version of one, filled in through a form built
from the input model (`forms`). «Добавить …» and «Удалить» re-render the form on the server without saving (no
JavaScript needed); a failed save answers 422 with every message next to its field and everything typed kept."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from compliance.settings import today

from ..service import Caller, VersionConflict, own_app, version_of
from . import forms
from .common import WebAuth, read_form, redirect, render, service_of

router = APIRouter(include_in_schema=False)
# A large park (hundreds of residents and documents) posts thousands of fields; starlette's default is 1000.
MAX_FIELDS = 50_000


def _app_view(row, version: int) -> dict[str, Any]:
    return {"id": row.id, "site_name": row.site_name, "version": version}


def _page(request: Request, raw: dict, app: dict | None, errors: list[tuple[str, str]] = (), focus: str | None = None,
          status: int = 200, conflict: int | None = None) -> Response:
    view = forms.build_view(raw, errors, focus)
    action = f"/applications/{app['id']}/edit" if app else "/applications/new"
    return render(request, "editor.html", status=status, view=view, app=app, form_action=action,
                  nav=None if app else "new", conflict=conflict)


@router.get("/applications/new")
def new_page(request: Request, who: WebAuth, regime: Annotated[str, Query(max_length=40)] = "") -> Response:
    root = forms.spec()
    raw = forms.blank(root)
    if regime in {code for code, _ in root.child("regimes").options}:
        raw["regimes"] = [regime]
    raw["filing_date"] = today().isoformat()
    return _page(request, raw, None)


@router.get("/applications/{app_id}/edit")
def edit_page(request: Request, who: WebAuth, app_id: str) -> Response:
    with service_of(request).sessions() as s:
        row = own_app(s, who, app_id)
        body = version_of(s, row.id, row.current_version).body
        app = _app_view(row, row.current_version)
    return _page(request, forms.raw_from_body(forms.spec(), body), app)


async def _posted(request: Request) -> FormData:
    await request.form(max_fields=MAX_FIELDS)  # parsed once with the higher limit; read_form gets the same form
    return await read_form(request)


async def _submit(request: Request, who: Caller, app_id: str | None) -> Response:
    service = service_of(request)
    form = await _posted(request)
    app = None
    if app_id is not None:
        with service.sessions() as s:
            row = own_app(s, who, app_id)
            app = _app_view(row, row.current_version)
    raw = forms.raw_from_form(form)
    action = form.get("action")
    if isinstance(action, str) and action not in ("", "save"):
        return _page(request, raw, app, focus=forms.apply_action(raw, action))
    model, errors = forms.check(raw)
    if model is None:
        return _page(request, raw, app, errors=errors, status=422)
    base = form.get("base_version")
    if app is not None and isinstance(base, str) and forms.is_index(base) and int(base) != app["version"]:
        # saved by someone else meanwhile: keep what was typed; a second «Сохранить» saves it as the next version
        return _page(request, raw, app, status=409, conflict=app["version"])

    def work():
        with service.sessions() as s:
            if app_id is None:
                return service.create(s, who, model, "form")
            return service.update(s, who, app_id, model, "form", app["version"])
    try:
        out = await service.in_thread(work)
    except VersionConflict as exc:  # saved by someone else between the check above and this save
        return _page(request, raw, {**app, "version": exc.current}, status=409, conflict=exc.current)
    return redirect(f"/applications/{out.id}?msg={'created' if app_id is None else 'updated'}")


@router.post("/applications/new")
async def create(request: Request, who: WebAuth) -> Response:
    return await _submit(request, who, None)


@router.post("/applications/{app_id}/edit")
async def update(request: Request, who: WebAuth, app_id: str) -> Response:
    return await _submit(request, who, app_id)
