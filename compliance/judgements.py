"""Assessor judgements and waivers (kept in a file next to the application), applied to the computed findings;
and, for regimes with an assessment section (GOST R 56425), block scores and the conclusion."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import settings
from .catalog import Catalog
from .formatting import day, round_half_up
from .loading import InputError, Problem, parse_document, problems_from
from .models import Day
from .report import (STATUS_RU, AssessmentResult, BlockScore, Finding, JudgementRecord, WaiverRecord)

Text = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Judgement(Strict):
    requirement_id: Text
    verdict: Literal["met", "not_met", "not_applicable"]
    comment: Text
    evidence: str | None = Field(None, description="документ-основание: реквизиты, страница, файл")
    assessor: str | None = None
    date: Day | None = None


class Waiver(Strict):
    requirement_id: Text
    justification: Text
    expires: Day
    approved_by: str | None = None
    date: Day | None = None


class JudgementsFile(Strict):
    """Файл оценок эксперта: вердикты по критериям, которые оценивает человек, и принятые отклонения."""

    regime: Text
    catalog_version: Text = Field(description="версия каталога, по которой выносились оценки")
    assessor: str | None = None
    organisation: str | None = None
    judgements: list[Judgement] = []
    waivers: list[Waiver] = []


def load_judgements(path) -> JudgementsFile:
    from pathlib import Path
    path = Path(path)
    if not path.is_file():
        raise InputError([Problem("--judgements", f"файл не найден: {path}")])
    data = parse_document(path.read_bytes(), path.name, "--judgements")
    if not isinstance(data, dict):
        raise InputError([Problem("--judgements", "файл оценок должен быть объектом с полями regime, catalog_version, "
                                                  "judgements, waivers")])
    try:
        return JudgementsFile.model_validate(data)
    except ValidationError as exc:
        raise InputError([Problem(f"judgements:{p.path}", p.message) for p in problems_from(exc)]) from None


def apply(findings: list[Finding], jf: JudgementsFile, catalog: Catalog, as_of: date) -> tuple[list[Finding], list[str]]:
    """Findings with the judgements and waivers applied, and notes for the report. Refuses (InputError) a file for
    another regime, unknown IDs, repeated IDs, and verdicts that contradict what the product computed."""
    problems: list[Problem] = []
    notes: list[str] = []
    if jf.regime != catalog.regime:
        raise InputError([Problem("judgements:regime", f"файл оценок составлен для режима «{jf.regime}», а проверяется "
                                                       f"«{catalog.regime}»")])
    by_id = {f.requirement_id: f for f in findings}
    outdated = jf.catalog_version != catalog.decree.catalog_version
    if outdated:
        notes.append(f"Оценки эксперта вынесены по версии каталога {jf.catalog_version}, а проверка — по версии "
                     f"{catalog.decree.catalog_version}: пересмотрите оценки, помеченные «устарела».")
    seen: set[str] = set()
    for i, j in enumerate(jf.judgements):
        where = f"judgements:judgements[{i}]"
        f = by_id.get(j.requirement_id)
        if f is None:
            problems.append(Problem(f"{where}.requirement_id", f"в каталоге {catalog.regime} нет критерия «{j.requirement_id}»"))
            continue
        if j.requirement_id in seen:
            problems.append(Problem(f"{where}.requirement_id", f"по критерию {j.requirement_id} уже есть оценка"))
            continue
        seen.add(j.requirement_id)
        if j.date and j.date > settings.today():
            problems.append(Problem(f"{where}.date", f"дата оценки {day(j.date)} ещё не наступила"))
        if f.status in ("met", "not_met", "not_applicable") and j.verdict != f.status:
            problems.append(Problem(f"{where}.verdict", f"{j.requirement_id} проверяется автоматически: вычислено "
                                    f"«{STATUS_RU[f.status]}», а в оценке — «{STATUS_RU[j.verdict]}». Исправьте данные "
                                    "заявки или норматив в каталоге, а не вердикт"))
            continue
        if f.status in ("informational", "error"):
            problems.append(Problem(f"{where}.requirement_id", f"{j.requirement_id}: статус «{STATUS_RU[f.status]}» "
                                                               "оценке эксперта не подлежит"))
            continue
    waivers: dict[str, Waiver] = {}
    for i, w in enumerate(jf.waivers):
        if w.requirement_id not in by_id:
            problems.append(Problem(f"judgements:waivers[{i}].requirement_id",
                                    f"в каталоге {catalog.regime} нет критерия «{w.requirement_id}»"))
        elif w.requirement_id in waivers:
            problems.append(Problem(f"judgements:waivers[{i}].requirement_id",
                                    f"по критерию {w.requirement_id} уже принято отклонение"))
        else:
            waivers[w.requirement_id] = w
    if problems:
        raise InputError(problems)

    judged = {j.requirement_id: j for j in jf.judgements}
    out = []
    for f in findings:
        j = judged.get(f.requirement_id)
        if j is not None:
            record = JudgementRecord(verdict=j.verdict, comment=j.comment, evidence=j.evidence,
                                     assessor=j.assessor or jf.assessor, date=j.date, catalog_version=jf.catalog_version,
                                     outdated=outdated, confirms_computed=f.status == j.verdict)
            if f.status != j.verdict:
                f = f.model_copy(update={"status": j.verdict, "judgement": record,
                                         "explanation": f"Оценка эксперта: {STATUS_RU[j.verdict]}. {j.comment}"
                                                        + (f" Основание: {j.evidence}." if j.evidence else "")
                                                        + f" (До оценки: {f.explanation})"})
            else:
                f = f.model_copy(update={"judgement": record})
        w = waivers.get(f.requirement_id)
        if w is not None:
            active = w.expires >= as_of
            record = WaiverRecord(justification=w.justification, expires=w.expires, approved_by=w.approved_by,
                                  date=w.date, active=active and f.status == "not_met")
            if f.status != "not_met":
                notes.append(f"Отклонение по {f.requirement_id} не применено: критерий в статусе «{STATUS_RU[f.status]}».")
                f = f.model_copy(update={"waiver": record})
            elif not active:
                notes.append(f"Отклонение по {f.requirement_id} истекло {day(w.expires)} и больше не действует.")
                f = f.model_copy(update={"waiver": record})
            else:
                f = f.model_copy(update={"status": "waived", "waiver": record,
                                         "explanation": f"Отклонение принято до {day(w.expires)}: {w.justification}. "
                                                        f"(По проверке: {f.explanation})"})
        out.append(f)
    return out, notes


def score(findings: list[Finding], catalog: Catalog) -> AssessmentResult | None:
    """Per block and overall: the share of applicable mandatory criteria met; recommended separately; conclusion."""
    spec = catalog.decree.assessment
    if spec is None:
        return None
    blocks: dict[str, list[Finding]] = {}
    for f in findings:
        blocks.setdefault(f.block, []).append(f)

    def tally(items: list[Finding], title: str, block: str) -> BlockScore:
        mandatory = [f for f in items if f.severity in spec.mandatory]
        recommended = [f for f in items if f.severity in spec.recommended]
        applicable = [f for f in mandatory if f.status != "not_applicable"]
        met = sum(1 for f in applicable if f.status == "met")
        return BlockScore(block=block, title=title, mandatory_total=len(mandatory), mandatory_applicable=len(applicable),
                          mandatory_met=met,
                          share_pct=float(round_half_up(100.0 * met / len(applicable), 2)) if applicable else None,
                          mandatory_waived=sum(1 for f in applicable if f.status == "waived"),
                          recommended_total=len(recommended),
                          recommended_met=sum(1 for f in recommended if f.status == "met"),
                          recommended_not_met=sum(1 for f in recommended if f.status == "not_met"))

    scores = [tally(items, catalog.decree.blocks.get(b, b), b) for b, items in blocks.items()]
    overall = tally(findings, "Итого", "")
    mandatory = [f for f in findings if f.severity in spec.mandatory and f.status != "not_applicable"]
    recommended = [f for f in findings if f.severity in spec.recommended]
    gaps = [f for f in mandatory if f.status == "not_met"]
    pending = [f for f in mandatory if f.status in ("insufficient_data", "manual_review", "error")]
    remarks = [f for f in recommended if f.status == "not_met"] + [f for f in findings if f.status == "waived"]
    if gaps:
        code = "does_not_conform"
    elif pending:
        code = "incomplete"
    elif remarks:
        code = "conforms_with_remarks"
    else:
        code = "conforms"

    def line(f: Finding) -> str:
        what = f.shortfall.text if f.shortfall else STATUS_RU[f.status]
        todo = f" Что сделать: {f.remedy}" if f.remedy and f.status == "not_met" else ""
        return f"{f.requirement_id} {f.title}: {what}.{todo}"

    return AssessmentResult(
        blocks=scores, overall=overall, conclusion=code, conclusion_text=spec.conclusions[code], method=spec.method,
        gaps=[line(f) for f in gaps], pending=[f"{f.requirement_id} {f.title}: {STATUS_RU[f.status]}" for f in pending],
        remarks=[line(f) if f.status != "waived" else f"{f.requirement_id} {f.title}: отклонение принято до "
                 f"{day(f.waiver.expires)} — {f.waiver.justification}" for f in remarks],
        not_judged_recommended=[f"{f.requirement_id} {f.title}" for f in recommended
                                if f.status in ("manual_review", "insufficient_data")])
