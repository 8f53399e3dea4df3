"""Web pages: the assessor's judgements for a regime with an assessment section (GOST R 56425) — verdicts, comments,
evidence and waivers on a stored check, saved as a new check; then its block scores and conclusion. Also the check's
judgements as a file for `compliance check … --judgements`.

Which regimes qualify is read from the catalog (its `assessment` section), never from a regime's code. The
criteria offered follow `compliance.judgements.apply`: any verdict for an open criterion (manual review, missing
data), only a confirming one for a computed verdict; waivers for criteria that are or may become «не выполнено».
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from compliance.catalog import available_regimes, load_catalog
from compliance.judgements import AssessedApplication, Mismatch, application_block, differences
from compliance.loading import InputError, Problem, validate
from compliance.report import Finding, Report
from compliance.storage import StoredApplication, audit

from ..errors import ApiError
from ..schemas import CheckRequest
from ..service import Caller, own_check, version_of
from .common import WebAuth, read_form, redirect, render, service_of

router = APIRouter(include_in_schema=False)

VERDICTS = ("met", "not_met", "not_applicable")
# Statuses for which judgements.apply accepts any verdict; for a status in VERDICTS it accepts only the same verdict
# (a confirmation), for the others (informational, error) none. tests/test_web_assessment.py checks this list
# against apply itself.
OPEN = ("manual_review", "insufficient_data")
JUDGEMENT_FIELDS = ("verdict", "comment", "document", "page", "file", "date")
WAIVER_FIELDS = ("w_justification", "w_expires", "w_approved_by", "w_date")
FIELD_RU = {"verdict": "вердикт", "comment": "комментарий", "document": "документ-основание", "page": "страница",
            "file": "файл", "date": "дата оценки", "w_justification": "обоснование отклонения",
            "w_expires": "отклонение действует до", "w_approved_by": "кто утвердил отклонение",
            "w_date": "дата решения об отклонении", "assessor": "эксперт", "organisation": "организация",
            "assessor_position": "должность эксперта", "head": "руководитель организации",
            "head_position": "должность руководителя",
            "confirm_application": "заявка оценок"}
MAX_CRITERIA = 500
# who assessed: the fields of the judgements file's head (the conclusion's title block and signatures show them)
HEAD_FIELDS = ("assessor", "assessor_position", "organisation", "head", "head_position")
PROBLEM_PATH = re.compile(r"^judgements[.:](judgements|waivers)\[(\d+)\](?:\.(\w+))?")


# --- the check and its report -------------------------------------------------------------------------------------
@dataclass
class CheckInfo:
    id: str
    application_id: str
    application_version: int
    site_name: str
    as_of: date
    judgements: dict[str, Any] | None
    reports: list[dict[str, Any]]
    body: dict[str, Any]  # the application version checked
    application: dict[str, Any]  # the `application` section of judgements made on this version

    def judgements_elsewhere(self) -> Mismatch | None:
        """How the application the check's own judgements name differs from this check's version (None if they
        name it, or there are none): the page then asks the expert to confirm them for this version."""
        if not self.judgements:
            return None
        try:
            named = AssessedApplication.model_validate(self.judgements["application"])
        except (KeyError, TypeError, ValueError):
            named = None
        return differences(named, self.application)


def _load_check(request: Request, who: Caller, check_id: str) -> CheckInfo:
    with service_of(request).sessions() as s:
        row = own_check(s, who, check_id)
        app = s.get(StoredApplication, row.application_id)
        ver = version_of(s, row.application_id, row.application_version)
        if ver is None:
            raise ApiError(404, f"У заявки нет версии {row.application_version}.")
        block = application_block(validate(ver.body), ver.input_hash, application_id=row.application_id,
                                  version=row.application_version)
        return CheckInfo(id=row.id, application_id=row.application_id, application_version=row.application_version,
                         site_name=app.site_name if app else "", as_of=row.as_of, judgements=row.judgements,
                         reports=list(row.result.get("reports") or []), body=ver.body, application=block)


def _has_assessment(report: dict[str, Any]) -> bool:
    """The regime's catalog has an assessment section (scores and a conclusion)."""
    code = report.get("regime")
    if code in available_regimes():
        return load_catalog(code).decree.assessment is not None
    return report.get("assessment") is not None  # a catalog no longer installed: as the stored report says


def _pick_report(check: CheckInfo, regime: str | None) -> dict[str, Any]:
    candidates = [r for r in check.reports if _has_assessment(r)]
    if regime:
        for r in candidates:
            if r["regime"] == regime:
                return r
        raise ApiError(404, f"В этой проверке нет отчёта с оценкой эксперта по режиму «{regime}».")
    if not candidates:
        raise ApiError(404, "В этой проверке нет режима с оценкой эксперта (баллами по блокам и заключением): "
                            "оценка вносится только по таким режимам.")
    if len(candidates) > 1:
        codes = ", ".join(r["regime"] for r in candidates)
        raise ApiError(400, f"В проверке несколько режимов с оценкой эксперта ({codes}). Выберите режим: добавьте к "
                            f"адресу страницы ?regime=<код режима>, например ?regime={candidates[0]['regime']}.")
    return candidates[0]


async def _computed(request: Request, check: CheckInfo, report: dict[str, Any]) -> Report:
    """The report as the program computed it, before any judgement: the stored one if no judgements were applied
    to it, otherwise the same application version evaluated again without them."""
    if report.get("judgements_by") is None:
        return Report.model_validate(report)
    result = await service_of(request).evaluate(check.body, report["regime"], check.as_of, None)
    return Report.model_validate(result["reports"][0])


# --- form values: from stored judgements or from the posted form ------------------------------------------------
def compose_evidence(document: str, page: str, file: str) -> str:
    parts = [document] if document else []
    if page:
        parts.append(f"с. {page}")
    if file:
        parts.append(f"файл {file}")
    return ", ".join(parts)


def split_evidence(text: str) -> tuple[str, str, str]:
    """The inverse of compose_evidence: compose_evidence(*split_evidence(s)) == s for every s."""
    rest, page, file = text, "", ""
    m = re.search(r"(?:^|, )файл (.+)$", rest, re.S)
    if m:
        rest, file = rest[:m.start()], m.group(1)
    m = re.search(r"(?:^|, )с\. ([^,]+)$", rest)
    if m:
        rest, page = rest[:m.start()], m.group(1)
    return rest, page, file


@dataclass
class Entered:
    """What the form shows: the assessor, and per criterion the judgement and waiver fields (strings)."""
    head: dict[str, str] = field(default_factory=lambda: dict.fromkeys(HEAD_FIELDS, ""))
    values: dict[str, dict[str, str]] = field(default_factory=dict)


def entered_from_stored(data: dict[str, Any] | None, regime: str) -> Entered:
    out = Entered()
    if not data or data.get("regime") != regime:
        return out
    out.head = {name: str(data.get(name) or "") for name in HEAD_FIELDS}
    for j in data.get("judgements") or []:
        document, page, file = split_evidence(str(j.get("evidence") or ""))
        out.values.setdefault(str(j.get("requirement_id")), {}).update(
            verdict=str(j.get("verdict") or ""), comment=str(j.get("comment") or "").strip(), document=document,
            page=page, file=file, date=str(j.get("date") or ""))
    for w in data.get("waivers") or []:
        out.values.setdefault(str(w.get("requirement_id")), {}).update(
            w_justification=str(w.get("justification") or "").strip(), w_expires=str(w.get("expires") or ""),
            w_approved_by=str(w.get("approved_by") or ""), w_date=str(w.get("date") or ""))
    return out


def entered_from_form(form: FormData) -> Entered:
    out = Entered()
    for name in HEAD_FIELDS:
        out.head[name] = _text(form.get(name))
    known = set(JUDGEMENT_FIELDS) | set(WAIVER_FIELDS)
    for key in form.keys():
        what, sep, rid = key.partition(":")
        if sep and what in known and rid.strip():
            if rid not in out.values and len(out.values) >= MAX_CRITERIA:
                raise ApiError(400, f"В форме больше {MAX_CRITERIA} критериев.")
            out.values.setdefault(rid, {})[what] = _text(form.get(key))
    return out


def _text(value: Any) -> str:
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else ""


def _day(text: str) -> str | None:
    """An ISO date from «2025-02-20» (the date field) or «20.02.2025» (typed by hand); None if not a date."""
    for pattern, order in ((r"(\d{4})-(\d{1,2})-(\d{1,2})", (0, 1, 2)), (r"(\d{1,2})\.(\d{1,2})\.(\d{4})", (2, 1, 0))):
        m = re.fullmatch(pattern, text)
        if m:
            y, mo, d = (int(m.group(i + 1)) for i in order)
            try:
                return date(y, mo, d).isoformat()
            except ValueError:
                return None
    return None


# --- building the judgements file ---------------------------------------------------------------------------------
@dataclass
class Built:
    data: dict[str, Any]
    errors: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # criterion → field → messages
    head_errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    judged: list[str] = field(default_factory=list)  # criterion of each entry of data["judgements"]
    waived: list[str] = field(default_factory=list)

    def add(self, rid: str, name: str, message: str) -> None:
        self.errors.setdefault(rid, {}).setdefault(name, []).append(message)

    @property
    def ok(self) -> bool:
        return not (self.errors or self.head_errors or self.general)


def build_judgements(entered: Entered, regime: str, catalog_version: str, order: list[str],
                     application: dict[str, Any] | None = None) -> Built:
    """The judgements file (as `compliance check --judgements` reads it) from the form, with form-level problems:
    a verdict without a comment, a comment without a verdict, a date that is not a date, a half-filled waiver.
    `application` — the application version assessed (`judgements.application_block`), written into the file."""
    judgements: list[dict[str, Any]] = []
    waivers: list[dict[str, Any]] = []
    out = Built(data={})
    rank = {rid: i for i, rid in enumerate(order)}

    def date_of(rid: str, name: str, text: str) -> str:
        iso = _day(text)
        if iso is None:
            out.add(rid, name, f"«{text}» — не дата: укажите дату в виде ДД.ММ.ГГГГ.")
        return iso or text
    for rid in sorted(entered.values, key=lambda r: (rank.get(r, len(rank)), r)):
        v = entered.values[rid]
        verdict = v.get("verdict", "")
        evidence = compose_evidence(v.get("document", ""), v.get("page", ""), v.get("file", ""))
        if verdict and verdict not in VERDICTS:
            out.add(rid, "verdict", f"недопустимый вердикт «{verdict}»")
        elif verdict:
            j: dict[str, Any] = {"requirement_id": rid, "verdict": verdict, "comment": v.get("comment", "")}
            if not j["comment"]:
                out.add(rid, "comment", "Напишите комментарий: на чём основан вердикт.")
            if evidence:
                j["evidence"] = evidence
            if v.get("date"):
                j["date"] = date_of(rid, "date", v["date"])
            judgements.append(j)
            out.judged.append(rid)
        elif v.get("comment") or evidence or v.get("date"):
            out.add(rid, "verdict", "Выберите вердикт или очистите комментарий, основание и дату: без вердикта "
                                    "оценка не сохраняется.")
        if any(v.get(name) for name in WAIVER_FIELDS):
            w: dict[str, Any] = {"requirement_id": rid, "justification": v.get("w_justification", "")}
            if not w["justification"]:
                out.add(rid, "w_justification", "Напишите обоснование отклонения.")
            w["expires"] = v.get("w_expires", "")
            if not w["expires"]:
                out.add(rid, "w_expires", "Укажите, до какой даты действует отклонение.")
            else:
                w["expires"] = date_of(rid, "w_expires", w["expires"])
            if v.get("w_approved_by"):
                w["approved_by"] = v["w_approved_by"]
            if v.get("w_date"):
                w["date"] = date_of(rid, "w_date", v["w_date"])
            waivers.append(w)
            out.waived.append(rid)
    if (judgements or waivers) and not entered.head["assessor"]:
        out.head_errors["assessor"] = ["Укажите эксперта: оценки без автора не сохраняются."]
    data: dict[str, Any] = {"regime": regime, "catalog_version": catalog_version}
    if application:
        data["application"] = application
    for name in HEAD_FIELDS:
        if entered.head[name]:
            data[name] = entered.head[name]
    data["judgements"] = judgements
    data["waivers"] = waivers
    out.data = data
    return out


def attach_problems(built: Built, problems: list[Problem]) -> None:
    """Problems of the evaluation (InputError) next to the criterion and field they concern."""
    for p in problems:
        m = PROBLEM_PATH.match(p.path or "")
        if m:
            section, index, name = m.group(1), int(m.group(2)), m.group(3) or "requirement_id"
            rids = built.judged if section == "judgements" else built.waived
            if index < len(rids):
                if section == "judgements":
                    target = {"evidence": "document", "requirement_id": "verdict"}.get(name, name)
                    target = target if target in JUDGEMENT_FIELDS else "verdict"
                else:
                    target = "w_" + name if "w_" + name in WAIVER_FIELDS else "w_justification"
                built.add(rids[index], target, p.message)
                continue
        built.general.append(p.message)


# --- what the template shows --------------------------------------------------------------------------------------
def _criteria(computed: Report, current: Report, entered: Entered, built: Built | None) -> list[dict[str, Any]]:
    spec = load_catalog(computed.regime).decree.assessment if computed.regime in available_regimes() else None
    now = {f.requirement_id: f for f in current.findings}
    out = []
    seen = set()

    def item(rid: str, f: Finding | None) -> dict[str, Any]:
        values = entered.values.get(rid, {})
        status = f.status if f else None
        judge = status in OPEN or status in VERDICTS or any(values.get(n) for n in JUDGEMENT_FIELDS)
        waive = status in OPEN or status == "not_met" or any(values.get(n) for n in WAIVER_FIELDS)
        weight = None
        if f and spec:
            weight = ("обязательный" if f.severity in spec.mandatory else
                      "рекомендуемый" if f.severity in spec.recommended else None)
        return {"rid": rid, "n": len(out), "finding": f, "status": status, "current": now.get(rid), "judge": judge,
                "waive": waive, "open": f is None or status in OPEN, "weight": weight,
                "norm": (f.norm.text if f and f.norm else None), "values": values,
                "waiver_open": any(values.get(n) for n in WAIVER_FIELDS),
                # a date the date field cannot show (typed by hand, or not a date) stays visible as text
                "text_dates": {n for n in ("date", "w_expires", "w_date")
                               if values.get(n) and _day(values[n]) != values[n]},
                "errors": (built.errors.get(rid, {}) if built else {})}
    for f in computed.findings:
        entry = item(f.requirement_id, f)
        if entry["judge"] or entry["waive"]:
            out.append(entry)
            seen.add(f.requirement_id)
    for rid in entered.values:
        if rid not in seen:  # posted or stored for a criterion that is not offered (or not in the catalog)
            out.append(item(rid, next((f for f in computed.findings if f.requirement_id == rid), None)))
            seen.add(rid)
    return out


def criteria_count(n: int) -> str:
    """«1 критерий», «3 критерия», «17 критериев»."""
    if n % 10 == 1 and n % 100 != 11:
        return f"{n} критерий"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return f"{n} критерия"
    return f"{n} критериев"


def _summary(items: list[dict[str, Any]], built: Built | None) -> list[dict[str, str]]:
    if built is None:
        return []
    out = [{"href": f"#{name}", "text": f"{FIELD_RU[name].capitalize()}: {m}"}
           for name, messages in built.head_errors.items() for m in messages]
    for it in items:
        for name, messages in it["errors"].items():
            for m in messages:
                out.append({"href": f"#f{it['n']}-{name}", "text": f"{it['rid']}, {FIELD_RU.get(name, name)}: {m}"})
    out += [{"href": "", "text": m} for m in built.general]
    return out


def _page(request: Request, check: CheckInfo, report: dict[str, Any], computed: Report, entered: Entered,
          built: Built | None = None, saved: bool = False, confirmed: bool = False) -> Response:
    current = Report.model_validate(report)
    items = _criteria(computed, current, entered, built)
    computed_part = [it for it in items if it["judge"] and not it["open"]]
    saved = saved and built is None
    return render(
        request, "assessment.html", status=422 if built is not None else 200, check=check, regime=current.regime,
        report=current, catalog_version=computed.catalog_version, entered=entered, VERDICTS=VERDICTS,
        open_items=[it for it in items if it["open"]], computed_items=computed_part,
        waiver_items=[it for it in items if it["waive"] and not it["open"]],
        computed_expanded=any(any(it["values"].get(n) for n in JUDGEMENT_FIELDS) or
                              any(n in it["errors"] for n in JUDGEMENT_FIELDS) for it in computed_part),
        computed_count=criteria_count(len(computed_part)), head_errors=built.head_errors if built else {},
        summary=_summary(items, built), message="Оценка сохранена" if saved else None, saved=saved,
        has_judgements=bool(check.judgements), elsewhere=check.judgements_elsewhere(), confirmed=confirmed)


# --- routes -------------------------------------------------------------------------------------------------------
@router.get("/checks/{check_id}/assessment")
async def assessment_page(request: Request, who: WebAuth, check_id: str,
                          regime: Annotated[str | None, Query(max_length=40)] = None,
                          saved: Annotated[int, Query(ge=0, le=1)] = 0) -> Response:
    service = service_of(request)
    check = await service.in_thread(lambda: _load_check(request, who, check_id))
    report = _pick_report(check, regime)
    computed = await _computed(request, check, report)
    return _page(request, check, report, computed, entered_from_stored(check.judgements, report["regime"]),
                 saved=bool(saved))


@router.post("/checks/{check_id}/assessment")
async def save_assessment(request: Request, who: WebAuth, check_id: str) -> Response:
    service = service_of(request)
    form = await read_form(request)
    check = await service.in_thread(lambda: _load_check(request, who, check_id))
    report = _pick_report(check, _text(form.get("regime")) or None)
    regime = report["regime"]
    computed = await _computed(request, check, report)
    entered = entered_from_form(form)
    built = build_judgements(entered, regime, computed.catalog_version,
                             [f.requirement_id for f in computed.findings], check.application)
    confirmed = _text(form.get("confirm_application")) == "yes"
    elsewhere = check.judgements_elsewhere()
    if elsewhere is not None and not confirmed:  # judgements applied here by an override: never re-stamped silently
        built.head_errors["confirm_application"] = [
            f"{elsewhere.text()}. Пересмотрите оценки и отметьте, что они вынесены по этой заявке (версия "
            f"{check.application_version}), — или исправьте их."]
    if built.ok:
        try:
            new = await service.check(who, check.application_id, CheckRequest(
                regime=regime, as_of=check.as_of, version=check.application_version, judgements=built.data))
        except InputError as exc:
            attach_problems(built, exc.problems)
        else:
            return redirect(f"/checks/{new.id}/assessment?regime={quote(regime)}&saved=1")
    return _page(request, check, report, computed, entered, built, confirmed=confirmed)


@router.get("/checks/{check_id}/judgements.json")
def judgements_file(request: Request, who: WebAuth, check_id: str) -> Response:
    """The judgements the check was evaluated with, as the file `compliance check … --judgements` reads."""
    with service_of(request).sessions() as s:
        row = own_check(s, who, check_id)
        if not row.judgements:
            raise ApiError(404, "У этой проверки нет оценок эксперта.")
        data, regime = row.judgements, str(row.judgements.get("regime") or "")
        audit(s, who.org_id, who.token_id, "web.judgements.download", "check", row.id, regime)
        s.commit()
    safe = re.sub(r"[^\w-]", "", regime, flags=re.A)
    return Response(json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"),
                    media_type="application/json; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="judgements-{safe}-{check_id}.json"'})
