"""Web pages of a draft amendment's impact over the stored applications (api/impact.py): the «Проект изменений» page
(upload a scenario file, choose the date; an administrator may take every organisation's applications) that starts
the job, the result page — the totals, how verdicts change, the requirements whose status changes, the sites by
region — and the same .xlsx, .json and Word brief as `compliance impact`."""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from compliance.formatting import size
from compliance.impact import DIRECTION_RU, change_detail, scenario_rows, totals_rows
from compliance.jobs import STATUS_RU, Job
from compliance.loading import InputError, InputTooLarge, Problem

from ..impact import KIND, impact_file, impact_of, read_scenario, start_impact
from ..jobs import visible
from ..service import Caller
from .common import WebAuth, form_text, problems_view, read_form, redirect, render, service_of
from .results import parse_as_of

router = APIRouter(include_in_schema=False)
LABELS = {"file": "Файл сценария", "as_of": "Дата оценки"}


def _form(request: Request, who: Caller, status: int = 200, problems: list[Problem] | None = None,
          filename: str | None = None, as_of: str = "", everyone: bool = False) -> Response:
    with service_of(request).sessions() as s:
        rows = s.scalars(select(Job).where(visible(who), Job.kind == KIND).order_by(Job.created_at.desc())
                         .limit(20)).all()
        jobs = [{"id": j.id, "title": j.parameters["scenario"]["title"], "status_text": STATUS_RU[j.status],
                 "done": j.done, "total": j.total, "created_at": j.created_at, "scope": j.parameters.get("scope"),
                 "link": f"/jobs/{j.id}/result" if j.status == "done" and j.result is not None else None}
                for j in rows]
    shown = [dict(p, label=LABELS.get(p["path"], p["label"])) for p in problems_view(problems or [])]
    return render(request, "impact.html", status=status, nav="impact", jobs=jobs, admin=who.admin, problems=shown,
                  filename=filename, as_of=as_of, everyone=everyone)


@router.get("/impact")
def impact_page(request: Request, who: WebAuth) -> Response:
    return _form(request, who)


@router.post("/impact")
async def start_impact_page(request: Request, who: WebAuth) -> Response:
    form = await read_form(request)
    everyone, raw_as_of = form_text(form, "scope") == "all", form_text(form, "as_of")
    file = form.get("file")
    name = file.filename if isinstance(file, UploadFile) and file.filename else None

    def refused(status: int, problems: list[Problem]) -> Response:
        return _form(request, who, status, problems, name, raw_as_of, everyone)
    if name is None:
        return refused(422, [Problem("file", "выберите файл сценария (.yaml) — проект изменений в формате каталога")])
    limit = service_of(request).settings.max_body_bytes
    raw = await file.read(limit + 1)
    if len(raw) > limit:
        return refused(413, [Problem("file", f"файл больше допустимого ({size(limit)})")])
    problems: list[Problem] = []
    try:
        as_of = parse_as_of(raw_as_of)
    except InputError as exc:
        as_of, problems = None, exc.problems
    try:
        if problems:  # the file's problems are shown with the date's
            await read_scenario(service_of(request), raw, name)
            return refused(422, problems)
        job = await start_impact(request, who, raw, name, as_of, everyone)
    except InputError as exc:
        return refused(413 if isinstance(exc, InputTooLarge) else 422, exc.problems + problems)
    return redirect(f"/jobs/{job.id}")


def result_page(request: Request, job: Job, result: dict[str, Any], view: dict[str, Any], own: bool) -> Response:
    """The result of a done impact job (called by the jobs' result page for this kind)."""
    impact = impact_of(result)
    links = {x["label"]: x for x in result.get("sites", [])}
    by_region: dict[str, list[dict[str, Any]]] = {}
    unchanged = 0
    for site in impact.sites:
        for r in site.regimes:
            if r.error:
                continue
            if not r.changes and r.direction == "same":
                unchanged += 1
                continue
            link = links.get(site.label, {})
            by_region.setdefault(site.region, []).append({
                "site_name": site.site_name, "regime_title": r.regime_title, "direction": r.direction,
                "direction_text": DIRECTION_RU[r.direction], "before": r.verdict_before_text,
                "after": r.verdict_after_text, "organisation": link.get("organisation"),
                "application_id": link.get("application_id") if own else None,
                "changes": [{"id": c.requirement_id, "title": c.title, "before": c.before_text, "after": c.after_text,
                             "detail": change_detail(c)} for c in r.changes]})
    return render(request, "impact_result.html", nav="impact", job=view, impact=impact,
                  scenario=scenario_rows(impact), totals=totals_rows(impact), regions=sorted(by_region.items()),
                  unchanged=unchanged, multi_regime=len(impact.scenario.regimes) > 1, own_org=own)


@router.get("/jobs/{job_id}/impact.{fmt}")
def impact_download(request: Request, who: WebAuth, job_id: str, fmt: Literal["xlsx", "json", "docx"]) -> Response:
    with service_of(request).sessions() as s:
        return impact_file(s, who, job_id, fmt)
