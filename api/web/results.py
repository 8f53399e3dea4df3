"""Web pages: running a check from the application page, the stored check as a readable gap report (summary first,
findings by block, documents, calculations, assessment, the eligibility matrix for several regimes, a status filter
that works without JavaScript), its downloads (Word, JSON, Markdown) and the difference between two checks."""
from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlalchemy import select

from compliance.catalog import CONFIDENCE_RU, UNCONFIRMED, available_regimes
from compliance.eligibility import MatrixRow, Skipped
from compliance.loading import InputError, Problem
from compliance.models import check_as_of
from compliance.report import Report
from compliance.storage import CatalogSnapshot, StoredApplication, StoredCheck, audit

from .. import checking
from ..errors import ApiError
from ..pdfs import PDF, pdf_or_503
from ..schemas import CheckRequest
from ..service import own_app, own_check, version_of
from .common import WebAuth, form_text, problems_view, read_form, redirect, render, service_of
from .reportview import ATTENTION, anchor, check_url, parse_statuses, report_view

router = APIRouter(include_in_schema=False)
ID = Annotated[str, PathParam(min_length=1, max_length=64)]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FORM_LABELS = {"regime": "Режим", "as_of": "Дата оценки"}
OUTCOME_RU = {"passed": "выполнено", "failed": "не выполнено", "no_data": "нет данных"}


# --- running a check ----------------------------------------------------------------------------------------------
def parse_as_of(raw: str) -> date | None:
    """'' → None (the filing date); 2025-06-02 or 02.06.2025 → a date; anything else → InputError."""
    text = raw.strip()
    if not text:
        return None
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
    try:
        day = date(int(m.group(3)), int(m.group(2)), int(m.group(1))) if m else date.fromisoformat(text)
    except ValueError:
        raise InputError([Problem("as_of", f"«{text}» — не дата: укажите дату оценки в виде ДД.ММ.ГГГГ или "
                                           "ГГГГ-ММ-ДД, например 02.06.2025")]) from None
    try:
        return check_as_of(day)
    except ValueError as exc:
        raise InputError([Problem("as_of", str(exc))]) from None


def parse_regime(raw: str) -> str | None:
    """'' → None (the application's own regimes), 'all', or a regime with a catalog; anything else → InputError."""
    text = raw.strip()
    if not text:
        return None
    if text == "all" or text in available_regimes():
        return text
    shown = text if len(text) <= 40 else text[:40] + "…"
    raise InputError([Problem("regime", f"неизвестный режим «{shown}»; выберите один из списка: "
                                        f"{', '.join(available_regimes())} или «все подходящие режимы»")])


@router.post("/applications/{app_id}/check")
async def run_check(request: Request, who: WebAuth, app_id: ID) -> Response:
    service = service_of(request)
    form = await read_form(request)

    def application() -> dict[str, Any]:  # 404 before 422: another organisation's id reveals nothing
        with service.sessions() as s:
            row = own_app(s, who, app_id)
            body = version_of(s, row.id, row.current_version).body
            return {"id": row.id, "site_name": row.site_name, "regimes": list(body.get("regimes") or []),
                    "filing_date": body.get("filing_date")}
    app_view = await service.in_thread(application)
    raw_regime, raw_as_of = form_text(form, "regime"), form_text(form, "as_of")
    problems: list[Problem] = []
    regime = as_of = None
    try:
        regime = parse_regime(raw_regime)
    except InputError as exc:
        problems += exc.problems
    try:
        as_of = parse_as_of(raw_as_of)
    except InputError as exc:
        problems += exc.problems
    if not problems:
        try:
            out = await service.check(who, app_id, CheckRequest(regime=regime, as_of=as_of))
        except InputError as exc:
            problems = exc.problems
        else:
            return redirect(f"/checks/{out.id}")
    fields = {p.path for p in problems}
    shown = [dict(p, label=FORM_LABELS.get(p["path"], p["label"])) for p in problems_view(problems)]
    return render(request, "check_error.html", status=422, app=app_view, problems=shown,
                  regime_error=next((p.message for p in problems if p.path == "regime"), None),
                  as_of_error=next((p.message for p in problems if p.path == "as_of"), None),
                  form_problem=not fields <= {"regime", "as_of"}, regime=raw_regime.strip(), as_of=raw_as_of.strip(),
                  all_regimes=available_regimes())


# --- the difference between two checks ----------------------------------------------------------------------------
def _check_facts(c: StoredCheck) -> dict[str, Any]:
    return {"id": c.id, "application_id": c.application_id, "version": c.application_version, "as_of": c.as_of,
            "created_at": c.created_at, "catalog_version": c.catalog_version, "judgements": bool(c.judgements)}


@router.get("/checks/compare")
def compare_page(request: Request, who: WebAuth, before: Annotated[str, Query(max_length=64)] = "",
                 after: Annotated[str, Query(max_length=64)] = "") -> Response:
    before, after = before.strip(), after.strip()
    with service_of(request).sessions() as s:
        a = own_check(s, who, before) if before else None
        b = own_check(s, who, after) if after else None
        known = a or b
        app_row = s.get(StoredApplication, known.application_id) if known else None
        app_view = {"id": app_row.id, "site_name": app_row.site_name} if app_row else None
        error = None
        if a is None or b is None:
            error = "Выберите две проверки: какая была («было») и какая стала («стало»)."
        elif a.id == b.id:
            error = "Выбрана одна и та же проверка. Выберите две разные проверки, чтобы увидеть, что изменилось."
        if error:
            return render(request, "compare.html", status=422, error=error, app=app_view, regimes=[])
        regimes = checking.compare(a.result, b.result)
        titles = {r["regime"]: r["regime_title"] for r in a.result["reports"] + b.result["reports"]}
        other_app = s.get(StoredApplication, b.application_id) if b.application_id != a.application_id else None
        audit(s, who.org_id, who.token_id, "web.check.diff", "check", a.id, f"with {b.id}")
        s.commit()
        before_facts, after_facts = _check_facts(a), _check_facts(b)
        other_view = {"id": other_app.id, "site_name": other_app.site_name} if other_app else None
    for entry in regimes:
        entry["title"] = titles.get(entry["regime"], entry["regime"])
        entry["catalog_changed"] = bool(entry["catalog_before"] and entry["catalog_after"]
                                        and entry["catalog_before"] != entry["catalog_after"])
        entry["link"] = check_url(after_facts["id"], entry["regime"] if len(b.result["reports"]) > 1 else None)
        for change in entry["changed"]:
            change["anchor"] = anchor(change["requirement_id"])
    return render(request, "compare.html", error=None, app=app_view, other_app=other_view, before=before_facts,
                  after=after_facts, regimes=regimes, anchor=anchor, same=all(x["same_findings"] for x in regimes),
                  newer_first=before_facts["created_at"] > after_facts["created_at"])


# --- the stored check ---------------------------------------------------------------------------------------------
def _load(request: Request, who, check_id: str, action: str) -> tuple[StoredCheck, StoredApplication | None]:
    with service_of(request).sessions() as s:
        c = own_check(s, who, check_id)
        app_row = s.get(StoredApplication, c.application_id)
        audit(s, who.org_id, who.token_id, action, "check", c.id)
        s.commit()
        return c, app_row


def _findings(result: dict[str, Any]) -> dict[str, Any]:
    return {r["regime"]: r["findings"] for r in result["reports"]}


def _replays(request: Request, c: StoredCheck) -> dict[str, Any]:
    """The replays of a stored check, newest first (each: under which catalog, its version, whether the findings are
    the same), and whether the catalogs the check used are stored (a replay under them is possible)."""
    with service_of(request).sessions() as s:
        rows = s.scalars(select(StoredCheck).where(StoredCheck.replay_of == c.id,
                                                   StoredCheck.organisation_id == c.organisation_id)
                         .order_by(StoredCheck.created_at.desc()).limit(10)).all()
        stored = all(s.get(CatalogSnapshot, used["hash"]) is not None for used in c.catalogs.values())
    mine = _findings(c.result)
    return {"stored_available": stored,
            "items": [{"id": r.id, "created_at": r.created_at, "under": r.replay_catalog or "current",
                       "catalog_version": r.catalog_version, "catalog_changed": r.catalogs != c.catalogs,
                       "same": _findings(r.result) == mine} for r in rows]}


@router.post("/checks/{check_id}/replay")
async def replay_check(request: Request, who: WebAuth, check_id: ID) -> Response:
    """Replay the check under the catalogs it used (when they are stored) and under the current ones; the check page
    shows both results."""
    service = service_of(request)
    await read_form(request)
    try:
        await service.replay(who, check_id, "stored")
    except ApiError as exc:
        if exc.status != 409:  # 409: the catalog of the check is not stored — the page says so
            raise
    await service.replay(who, check_id, "current")
    return redirect(f"/checks/{check_id}#replays")


@router.get("/checks/{check_id}")
def check_page(request: Request, who: WebAuth, check_id: ID,
               regime: Annotated[str | None, Query(max_length=40)] = None,
               status: Annotated[list[str] | None, Query()] = None) -> Response:
    c, app_row = _load(request, who, check_id, "web.check.read")
    reports = checking.reports_of(c.result)
    by_regime = {r.regime: r for r in reports}
    if regime and regime not in by_regime:
        raise ApiError(404, f"В этой проверке нет отчёта по режиму «{regime}». Отчёты есть по режимам: "
                            f"{', '.join(by_regime)}.")
    several = len(reports) > 1
    selected: Report = by_regime[regime] if regime else reports[0]
    view = report_view(selected, parse_statuses(status))
    matrix = [MatrixRow.model_validate(row) for row in c.result.get("matrix") or []]
    skipped = [Skipped.model_validate(row) for row in c.result.get("skipped") or []]
    chosen = selected.regime if several else None
    return render(
        request, "check.html", check=c, app=app_row, reports=reports, report=selected, view=view, several=several,
        matrix=matrix, skipped=skipped, chosen=chosen, attention=ATTENTION, confidence_ru=CONFIDENCE_RU,
        unconfirmed_codes=UNCONFIRMED, newer=app_row is not None and app_row.current_version > c.application_version,
        anchor=anchor, OUTCOME_RU=OUTCOME_RU, replays=_replays(request, c),
        url=lambda statuses=None, frag="", regime=chosen: check_url(c.id, regime, statuses, frag),
        href=lambda rid: f"#{anchor(rid)}" if rid in view.visible else check_url(c.id, chosen, None, anchor(rid)),
        title=app_row.site_name if app_row else selected.applicant.site_name)


def _filename(c: StoredCheck, extension: str) -> str:
    """A readable file name: «Отчёт — Индустриальный парк «Упа-Север» — 02.06.2025.docx»."""
    site = c.result["reports"][0]["applicant"]["site_name"]
    site = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", site)
    site = " ".join(site.split())[:120].strip(" .") or "площадка"
    return f"Отчёт — {site} — {c.as_of:%d.%m.%Y}.{extension}"


def _download(data: bytes, media_type: str, c: StoredCheck, extension: str) -> Response:
    fallback = f"check-{c.id}.{extension}"
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(_filename(c, extension), safe='')}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/checks/{check_id}/report.docx")
def check_docx(request: Request, who: WebAuth, check_id: ID) -> Response:
    c, _ = _load(request, who, check_id, "web.check.docx")
    try:
        from compliance.word import report_docx
    except ImportError:
        raise ApiError(503, "Отчёты Word пока недоступны на этом сервере.") from None
    data = report_docx(checking.reports_of(c.result), checking.eligibility_of(c.result), _issuer(request, who))
    return _download(data, DOCX, c, "docx")


def _issuer(request: Request, who):  # noqa: ANN001
    """The organisation's details for its documents (the page «Реквизиты»), None when none are filled in."""
    from compliance.organisation import issuer_of
    from compliance.storage import Organisation

    with service_of(request).sessions() as s:
        return issuer_of(s.get(Organisation, who.org_id))
@router.get("/checks/{check_id}/report.pdf")
def check_pdf(request: Request, who: WebAuth, check_id: ID) -> Response:
    """The Word report of the check converted to PDF: the same document (api/pdfs.py; 503 without LibreOffice)."""
    from compliance.word import report_docx

    c, _ = _load(request, who, check_id, "web.check.pdf")
    data = report_docx(checking.reports_of(c.result), checking.eligibility_of(c.result), _issuer(request, who))
    return _download(pdf_or_503(data, service_of(request).settings), PDF, c, "pdf")


@router.get("/checks/{check_id}/report.json")
def check_json(request: Request, who: WebAuth, check_id: ID) -> Response:
    c, _ = _load(request, who, check_id, "web.check.json")
    data = json.dumps(c.result, ensure_ascii=False, indent=2).encode("utf-8")
    return _download(data, "application/json; charset=utf-8", c, "json")


@router.get("/checks/{check_id}/report.md")
def check_markdown(request: Request, who: WebAuth, check_id: ID) -> Response:
    from compliance.render import render_many, render_matrix_markdown

    c, _ = _load(request, who, check_id, "web.check.md")
    reports = checking.reports_of(c.result)
    matrix = checking.eligibility_of(c.result)
    text = (render_matrix_markdown(matrix) + "\n" if matrix else "") + render_many(reports, "md")
    return _download(text.encode("utf-8"), "text/markdown; charset=utf-8", c, "md")
