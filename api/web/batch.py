"""Web pages: checking many applications at once. The applications chosen in the list (or the files of one upload) are
checked one after another, each stored as a normal check; one that cannot be checked is reported with its reason and
the others proceed. The result (GET /checks/batch?ids=…, reachable again by its address, own checks only) is the
summary of `compliance batch`: a row per regime of each check, the counts per verdict, and the same .xlsx and JSON."""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from compliance.batch import STATUS_RU, BatchRow, BatchSummary, report_row, summarise, write_summary
from compliance.loading import InputError, Problem
from compliance.storage import audit

from .. import checking
from ..errors import ApiError
from ..schemas import CheckRequest
from ..service import Caller, Service, own_app, own_check, version_of
from .common import WebAuth, form_text, problems_view, read_form, redirect, render, service_of
from .reportview import check_url
from .results import FORM_LABELS, parse_as_of, parse_regime

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_ORDER = ["conforms", "pending_review", "does_not_conform", "incomplete", "invalid", "error"]
NOT_CHECKED = "не проверена"


def source_label(source: str) -> str:
    """Where a version of an application came from, as the application page says it: the form, the API or a file."""
    return {"form": "форма", "json": "JSON через API"}.get(source, source)


@dataclass
class Group:
    """One application of the batch: the rows of its check (a row per regime), or one row with the reason it was not
    checked."""
    app_id: str
    site_name: str
    check_id: str | None
    lines: list[tuple[BatchRow, str]] = field(default_factory=list)  # a row and the address of its report
    problems: list[dict[str, str]] = field(default_factory=list)


def _refused(request: Request, detail: str, problems: list[Problem] | None = None,
             title: str = "Пакетная проверка не запущена") -> Response:
    shown = [dict(p, label=FORM_LABELS.get(p["path"], p["label"])) for p in problems_view(problems or [])]
    return render(request, "error.html", status=422, title=title, detail=detail, problems=shown)


def _parameters(raw_regime: str, raw_as_of: str) -> tuple[str | None, date | None]:
    """The regime and the as-of date of a batch; InputError with the problems of both."""
    problems: list[Problem] = []
    values: list[Any] = []
    for parse, raw in ((parse_regime, raw_regime), (parse_as_of, raw_as_of)):
        try:
            values.append(parse(raw))
        except InputError as exc:
            problems += exc.problems
            values.append(None)
    if problems:
        raise InputError(problems)
    return values[0], values[1]


def _split(raw: str) -> list[str]:
    return list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))


@dataclass
class Address:
    """The query of a batch result: its checks, the applications not checked, the regime and the as-of date asked."""
    ids: str
    failed: str
    regime: str
    as_of: str


def address(ids: Annotated[str, Query(max_length=40_000)] = "", failed: Annotated[str, Query(max_length=40_000)] = "",
            regime: Annotated[str, Query(max_length=40)] = "", as_of: Annotated[str, Query(max_length=20)] = ""
            ) -> Address:
    return Address(ids, failed, regime, as_of)


BatchAddress = Annotated[Address, Depends(address)]


def batch_url(checks: list[str], failed: list[str], regime: str | None, as_of: date | None, suffix: str = "") -> str:
    query = [("ids", ",".join(checks))] + ([("failed", ",".join(failed))] if failed else [])
    query += ([("regime", regime)] if regime else []) + ([("as_of", as_of.isoformat())] if as_of else [])
    return f"/checks/batch{suffix}?{urlencode(query, safe=',')}"


# --- running the batch --------------------------------------------------------------------------------------------
@router.post("/checks/batch")
async def run_batch(request: Request, who: WebAuth) -> Response:
    service = service_of(request)
    form = await read_form(request)
    ids = list(dict.fromkeys(v.strip() for v in form.getlist("ids") if isinstance(v, str) and v.strip()))
    cap = service.settings.max_batch
    if not ids:
        return _refused(request, "Не выбрано ни одной заявки: отметьте заявки в списке и нажмите «Проверить выбранные».")
    if len(ids) > cap:
        return _refused(request, f"Выбрано заявок: {len(ids)}, а за один раз можно проверить не больше {cap}. "
                                 "Снимите часть отметок и проверьте остальные заявки следующим пакетом.")

    def owned() -> None:  # 404 before anything runs: another organisation's id reveals nothing and stores nothing
        with service.sessions() as s:
            for app_id in ids:
                own_app(s, who, app_id)
    await service.in_thread(owned)
    try:
        regime, as_of = _parameters(form_text(form, "regime"), form_text(form, "as_of"))
    except InputError as exc:
        return _refused(request, "Исправьте параметры проверки и запустите её снова.", exc.problems)
    checks, failed = [], []
    for app_id in ids:  # one after another: each is a normal stored check
        try:
            out = await service.check(who, app_id, CheckRequest(regime=regime, as_of=as_of))
        except (InputError, ApiError):
            failed.append(app_id)  # the reason is given on the result page
        else:
            checks.append(out.id)
    await _audit(request, who, "web.check.batch", f"{len(checks)} checked, {len(failed)} not checked")
    return redirect(batch_url(checks, failed, regime, as_of))


# --- the result ---------------------------------------------------------------------------------------------------
async def _not_checked(service: Service, group: Group, body: dict[str, Any], regime: str | None,
                       as_of: date | None, file: str) -> None:
    """Why an application of the batch has no check: the same evaluation again (nothing is stored)."""
    try:
        await service.evaluate(body, regime, as_of, None)
    except InputError as exc:
        status, problems = "invalid", exc.problems
    except ApiError as exc:
        status, problems = "error", [Problem("", exc.detail)]
    else:
        status, problems = "error", [Problem("", "при запуске пакета проверка не удалась, а сейчас заявка "
                                                 "проверяется: запустите её проверку снова")]
    if regime is None:  # the application's own regimes
        shown = ", ".join(body.get("regimes") or []) or None
    else:
        shown = None if regime == "all" else regime
    row = BatchRow(file=file, site_name=group.site_name, regime=shown, status=status,
                   status_text=STATUS_RU[status], problem="; ".join(map(str, problems))[:2000])
    group.lines.append((row, f"/applications/{group.app_id}"))
    group.problems = problems_view(problems)


async def collect(request: Request, who: Caller, where: Address
                  ) -> tuple[list[Group], BatchSummary, str | None, date | None]:
    """The groups and the summary of a batch from its address; 404 when any id is not the organisation's own."""
    service = service_of(request)
    check_ids, failed_ids = _split(where.ids), _split(where.failed)
    cap = service.settings.max_batch
    if not check_ids and not failed_ids:
        raise ApiError(422, "В адресе нет ни одной проверки: откройте результат по ссылке со страницы пакетной "
                            "проверки или запустите её из списка заявок.")
    if len(check_ids) + len(failed_ids) > cap:
        raise ApiError(422, f"В адресе {len(check_ids) + len(failed_ids)} заявок, а в пакете может быть не больше "
                            f"{cap}.")
    chosen_regime, day = _parameters(where.regime, where.as_of)

    def read() -> tuple[list[Group], list[tuple[Group, dict[str, Any], str]]]:
        groups, pending = [], []
        with service.sessions() as s:
            for check_id in check_ids:
                c = own_check(s, who, check_id)
                ver = version_of(s, c.application_id, c.application_version)
                reports = checking.reports_of(c.result)
                group = Group(c.application_id, reports[0].applicant.site_name, c.id)
                for report in reports:
                    row = report_row(source_label(ver.source if ver else ""), report.applicant.site_name, report)
                    group.lines.append((row, check_url(c.id, report.regime if len(reports) > 1 else None)))
                groups.append(group)
            for app_id in failed_ids:
                row = own_app(s, who, app_id)
                ver = version_of(s, row.id, row.current_version)
                pending.append((Group(row.id, row.site_name, None), ver.body, source_label(ver.source)))
        return groups, pending
    groups, pending = await service.in_thread(read)
    for group, body, file in pending:
        await _not_checked(service, group, body, chosen_regime, day, file)
        groups.append(group)
    summary = summarise([row for g in groups for row, _ in g.lines], len(groups))
    return groups, summary, chosen_regime, day


async def _audit(request: Request, who: Caller, action: str, detail: str) -> None:
    service = service_of(request)

    def record() -> None:
        with service.sessions() as s:
            audit(s, who.org_id, who.token_id, action, "check", None, detail)
            s.commit()
    await service.in_thread(record)


@router.get("/checks/batch")
async def batch_page(request: Request, who: WebAuth, where: BatchAddress) -> Response:
    try:
        groups, summary, chosen, day = await collect(request, who, where)
    except InputError as exc:
        return _refused(request, "В адресе страницы неверные параметры проверки.", exc.problems,
                        title="Результат пакетной проверки не показан")
    await _audit(request, who, "web.check.batch.read", f"{len(groups)} applications")
    checks = [g.check_id for g in groups if g.check_id]
    not_checked = [g.app_id for g in groups if not g.check_id]
    counts = [(status, summary.counts[status]) for status in STATUS_ORDER if summary.counts.get(status)]
    return render(request, "batch.html", groups=groups, summary=summary, counts=counts, regime=chosen, as_of=day,
                  BATCH_STATUS_RU=STATUS_RU, NOT_CHECKED=NOT_CHECKED, checked=len(checks), not_checked=len(not_checked),
                  xlsx_url=batch_url(checks, not_checked, chosen, day, ".xlsx"),
                  json_url=batch_url(checks, not_checked, chosen, day, ".json"))


def _download(data: bytes, media_type: str, extension: str) -> Response:
    name = f"Сводка пакетной проверки — {date.today():%d.%m.%Y}.{extension}"
    disposition = f"attachment; filename=\"batch-summary.{extension}\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/checks/batch.xlsx")
async def batch_xlsx(request: Request, who: WebAuth, where: BatchAddress) -> Response:
    groups, summary, _, _ = await collect(request, who, where)
    await _audit(request, who, "web.check.batch.xlsx", f"{len(groups)} applications")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "summary.xlsx"
        write_summary(summary, path)  # the same workbook as `compliance batch`
        data = path.read_bytes()
    return _download(data, XLSX, "xlsx")


@router.get("/checks/batch.json")
async def batch_json(request: Request, who: WebAuth, where: BatchAddress) -> Response:
    groups, summary, _, _ = await collect(request, who, where)
    await _audit(request, who, "web.check.batch.json", f"{len(groups)} applications")
    data = summary.model_dump(mode="json")  # the JSON of `compliance batch`, each row with its application and check
    data["rows"] = [dict(row.model_dump(mode="json"), application_id=g.app_id, check_id=g.check_id)
                    for g in groups for row, _ in g.lines]
    return _download(json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"),
                     "application/json; charset=utf-8", "json")
