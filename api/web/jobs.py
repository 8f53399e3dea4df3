"""Web pages of background jobs: the list of the organisation's jobs with the «каталог обновлён» banner and the button
that starts a re-check, a job's page with its progress bar (polling a small JSON address) and a cancel button, and the
re-check's result: the applications whose verdict changed, with the requirements whose status changed."""
from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from compliance.jobs import FINISHED, STATUS_RU, Job, kind_title
from compliance.storage import audit

from .. import recheck
from ..jobs import cancel, finished_result, own_job, start_recheck, visible
from ..service import Caller
from .common import WebAuth, form_text, read_form, redirect, render, service_of

router = APIRouter(include_in_schema=False)


def catalog_banner(s, who: Caller) -> dict[str, Any] | None:
    """What the «каталог обновлён» banner of the pages says (None: nothing to say)."""
    info = recheck.catalog_changes(s, who.org_id)
    if not info["message"]:
        return None
    return {"message": info["message"][:1].upper() + info["message"][1:], "outdated": info["outdated"],
            "job_id": info["last"].id if info["last"] else None}


def _view(job: Job) -> dict[str, Any]:
    return {"id": job.id, "title": kind_title(job.kind), "status": job.status, "status_text": STATUS_RU[job.status],
            "total": job.total, "done": job.done, "error": job.error, "finished": job.status in FINISHED,
            "cancel_requested": job.cancel_requested, "scope": job.parameters.get("scope", "own"),
            "created_at": job.created_at, "finished_at": job.finished_at,
            "has_result": job.status == "done" and job.result is not None, "kind": job.kind}


@router.get("/jobs")
def jobs_page(request: Request, who: WebAuth) -> Response:
    with service_of(request).sessions() as s:
        rows = s.scalars(select(Job).where(visible(who)).order_by(Job.created_at.desc()).limit(100)).all()
        banner = catalog_banner(s, who)
    return render(request, "jobs.html", nav="jobs", jobs=[_view(j) for j in rows], catalog=banner, admin=who.admin)


@router.post("/jobs/recheck")
async def start_recheck_page(request: Request, who: WebAuth) -> Response:
    form = await read_form(request)
    everyone = form_text(form, "scope") == "all"
    with service_of(request).sessions() as s:
        job = start_recheck(s, who, everyone)
    request.app.state.jobs.enqueue(job.id)
    return redirect(f"/jobs/{job.id}")


@router.get("/jobs/{job_id}")
def job_page(request: Request, who: WebAuth, job_id: str) -> Response:
    with service_of(request).sessions() as s:
        job = own_job(s, who, job_id)
    return render(request, "job.html", nav="jobs", job=_view(job))


@router.get("/jobs/{job_id}/progress")
def job_progress(request: Request, who: WebAuth, job_id: str) -> Response:
    """The small JSON the job page polls."""
    with service_of(request).sessions() as s:
        job = own_job(s, who, job_id)
    view = _view(job)
    return JSONResponse({k: view[k] for k in ("status", "status_text", "total", "done", "finished", "has_result",
                                              "cancel_requested")}, headers={"Cache-Control": "no-store"})


@router.post("/jobs/{job_id}/cancel")
async def cancel_page(request: Request, who: WebAuth, job_id: str) -> Response:
    await read_form(request)
    with service_of(request).sessions() as s:
        cancel(s, who, own_job(s, who, job_id))
    return redirect(f"/jobs/{job_id}")


def _result(request: Request, who: Caller, job_id: str) -> tuple[Job, dict[str, Any]]:
    with service_of(request).sessions() as s:
        job = own_job(s, who, job_id)
        result = finished_result(job)
        audit(s, who.org_id, who.token_id, "job.result", "job", job.id)
        s.commit()
    return job, result


@router.get("/jobs/{job_id}/result")
def result_page(request: Request, who: WebAuth, job_id: str) -> Response:
    job, result = _result(request, who, job_id)
    if job.kind == "impact":
        from .impact import result_page as impact_result

        return impact_result(request, job, result, _view(job), job.parameters.get("scope") != "all")
    items = result.get("items", [])
    return render(request, "recheck_result.html", nav="jobs", job=_view(job), result=result,
                  changed=[i for i in items if i.get("verdict_changed")],
                  errors=[i for i in items if "error" in i], own_org=job.parameters.get("scope") != "all")


@router.get("/jobs/{job_id}/result.json")
def result_json(request: Request, who: WebAuth, job_id: str) -> Response:
    job, result = _result(request, who, job_id)
    return Response(json.dumps(result, ensure_ascii=False, indent=2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="recheck-{job.id}.json"'})
