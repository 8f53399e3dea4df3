"""The gap report: a pydantic model; JSON is its primary form, text/Markdown/Word are renderings of it."""
from __future__ import annotations

from datetime import date, datetime
from datetime import date as Date  # for fields named `date`
from typing import Any, Literal

from pydantic import BaseModel, Field

from .formatting import field_labels, plural

Status = Literal["met", "not_met", "insufficient_data", "not_applicable", "manual_review", "informational", "error", "waived"]
Verdict = Literal["conforms", "pending_review", "does_not_conform", "incomplete"]

STATUS_RU = {
    "met": "выполнено", "not_met": "не выполнено", "insufficient_data": "недостаточно данных",
    "not_applicable": "не применяется", "manual_review": "требуется экспертная оценка", "informational": "для сведения",
    "error": "ошибка проверки", "waived": "отклонение принято",
}
VERDICT_RU = {  # pending_review in a report reads verdict_text(): with the number of requirements awaiting the expert
    "conforms": "соответствует требованиям",
    "pending_review": "автоматические проверки пройдены, ждёт оценки эксперта",
    "does_not_conform": "не соответствует требованиям",
    "incomplete": "оценка не завершена: недостаточно данных или документов",
}
VERDICT_SHORT = {"conforms": "соответствует", "pending_review": "ждёт оценки эксперта",
                 "does_not_conform": "не соответствует", "incomplete": "оценка не завершена"}
SEVERITY_RU = {"blocking": "критичное", "major": "существенное", "minor": "незначительное", "info": "справочное"}
UNCONFIRMED_NOTE = "норматив требует сверки с официальным текстом"


class Norm(BaseModel):
    text: str
    op: str | None = None
    value: Any = None
    unit: str | None = None
    parameter: str | None = None
    effective_from: date | None = None
    confidence: str
    reference: str | None = None
    source: str | None = None
    needs_confirmation: bool


class FactValue(BaseModel):
    name: str
    label: str
    value: Any
    unit: str | None = None
    text: str
    sources: list[str] = []
    missing: list[str] = []
    details: list[str] = []
    gaps: list[str] = []  # which part makes the value fail, in Russian (e.g. «водоотведение не обеспечено»)
    upper: Any = None  # a count with items not stated: value is the known count, upper counts every unknown item too
    unknown: list[str] = []  # the fields not stated on those items


class Shortfall(BaseModel):
    value: float
    unit: str | None
    text: str


class CheckResult(BaseModel):
    fact: FactValue
    norm: Norm
    outcome: Literal["passed", "failed", "no_data"]


class JudgementRecord(BaseModel):
    verdict: str
    comment: str
    evidence: str | None = None
    assessor: str | None = None
    date: Date | None = None
    catalog_version: str
    outdated: bool = False  # made under another catalog version: to be reviewed
    confirms_computed: bool = False


class WaiverRecord(BaseModel):
    justification: str
    expires: Date
    approved_by: str | None = None
    date: Date | None = None
    active: bool


class Finding(BaseModel):
    requirement_id: str
    regime: str
    block: str
    block_title: str
    clause: str
    title: str
    text: str
    kind: str
    status: Status
    severity: str
    norm: Norm | None = None
    fact: FactValue | None = None
    shortfall: Shortfall | None = None
    checks: list[CheckResult] = []
    condition: str | None = Field(None, description="условие, по которому оценено требование с альтернативными "
                                                     "условиями (выполненное или ближайшее к выполнению)")
    alternatives: list[str] = Field([], description="как обстоят другие альтернативные условия требования")
    confidence: str
    needs_confirmation: bool
    explanation: str
    remedy: str | None = None
    what_to_check: str | None = None
    shown_facts: list[FactValue] = []
    inputs_used: list[str] = []
    missing_inputs: list[str] = []
    documents_found: list[str] = []
    documents_missing: list[str] = []
    rules_fired: list[str] = []
    judgement: JudgementRecord | None = None
    waiver: WaiverRecord | None = None


class DocumentItem(BaseModel):
    requirement_id: str
    title: str
    status: Status
    needed: str
    provided: list[str] = []
    missing: list[str] = []


class DocumentIssue(BaseModel):
    kind: str
    title: str
    document: str
    problem: str


class DocumentChecklist(BaseModel):
    items: list[DocumentItem] = []
    not_counted: list[DocumentIssue] = Field(default=[], description="документы, не действующие на дату оценки")
    warnings: list[DocumentIssue] = Field(default=[], description="предупреждения о свежести выписок")


class Calculation(BaseModel):
    """A calculation shown in full so a person can check it (FD, shares, per-hectare capacities)."""

    title: str
    fact: str
    value: Any
    unit: str | None = None
    text: str
    lines: list[str] = []
    missing: list[str] = []  # the input fields that are not stated (keys, as data); no figure is computed then
    used_by: list[str] = Field(default=[], description="требования, которые опираются на расчёт, с их статусом")

    @property
    def missing_labels(self) -> list[str]:
        """The missing fields as a reader sees them (Russian labels, each once)."""
        return field_labels(self.missing)


class BlockScore(BaseModel):
    block: str
    title: str
    mandatory_total: int
    mandatory_applicable: int
    mandatory_met: int
    mandatory_waived: int
    share_pct: float | None = Field(None, description="доля выполненных обязательных критериев из применимых, %")
    recommended_total: int
    recommended_met: int
    recommended_not_met: int


class AssessmentResult(BaseModel):
    blocks: list[BlockScore]
    overall: BlockScore
    conclusion: Literal["conforms", "conforms_with_remarks", "does_not_conform", "incomplete"]
    conclusion_text: str
    method: str
    gaps: list[str] = []
    pending: list[str] = []
    remarks: list[str] = []
    not_judged_recommended: list[str] = []


class Contradiction(BaseModel):
    """An assessor's verdict that a computed fact contradicts (declared in the catalog: `consistency` of a manual
    criterion in rules/*.yaml)."""

    requirement_id: str
    title: str
    verdict: str = Field(description="вердикт эксперта: met, not_met, not_applicable")
    verdict_text: str
    fact: str = Field(description="вычисленный факт")
    fact_label: str
    value: Any
    value_text: str
    condition: str = Field(description="при каком значении факта вердикт ему противоречит, например «менее 100 %»")
    reason: str
    text: str = Field(description="всё вместе одной фразой")


class Applicant(BaseModel):
    role: str = "Управляющая компания"
    name: str
    inn: str
    site_name: str
    region: str


class AssessedBy(BaseModel):
    """Who assessed (from the judgements file) and which application the judgements were made on, for the signatures
    and the identification of the site in the conclusion."""
    assessor: str | None = None
    assessor_position: str | None = None
    organisation: str | None = None
    head: str | None = None
    head_position: str | None = None
    inn: str | None = Field(None, description="ИНН управляющей компании, названный в файле оценок")
    site_name: str | None = Field(None, description="площадка, названная в файле оценок")
    input_hash: str | None = Field(None, description="хеш редакции заявки, по которой вынесены оценки")
    version: int | None = None


class NormShares(BaseModel):
    """How the regime's norms are confirmed on the report's date: every dated parameter of the catalog with a value in
    force on that date counts with that value's confidence; a requirement whose rule cites no parameter in force (or
    that has no rule) counts with the confidence of its own wording. T — the text of the act, S — a secondary source,
    A/M/U — not confirmed."""
    total: int = Field(description="нормативов режима на дату оценки")
    text: int = Field(description="подтверждены текстом акта (T)")
    secondary: int = Field(description="подтверждены вторичными источниками (S)")
    unconfirmed: int = Field(description="не подтверждены (A, M, U)")

    @staticmethod
    def pct(part: int, total: int) -> int:
        return int(part * 100 / total + 0.5) if total else 0

    def sentence(self) -> str:
        """«Нормативы режима: по тексту акта — 0 из 14 (0 %), по вторичным источникам — 5 (36 %), не подтверждены —
        9 (64 %)»."""
        n = self.total
        return (f"Нормативы режима: по тексту акта — {self.text} из {n} ({self.pct(self.text, n)} %), "
                f"по вторичным источникам — {self.secondary} ({self.pct(self.secondary, n)} %), "
                f"не подтверждены — {self.unconfirmed} ({self.pct(self.unconfirmed, n)} %)")


class Report(BaseModel):
    regime: str
    regime_title: str
    act_citation: str
    catalog_version: str
    catalog_hash: str
    evaluation_id: str
    generated_at: datetime
    as_of: date
    filing_date: date
    applicant: Applicant
    category: str
    subtype: str
    special_regimes: list[str] = []
    notes: list[str] = []
    verdict: Verdict
    verdict_text: str
    counts: dict[str, int]
    blocking_gaps: list[str]
    unconfirmed_norms: list[str]
    norm_shares: NormShares | None = Field(None, description="нормативы режима на дату оценки: сколько подтверждено "
                                                             "текстом акта, вторичными источниками и сколько не "
                                                             "подтверждено")
    findings: list[Finding]
    assessment: AssessmentResult | None = None
    judgements_by: str | None = None
    assessed_by: AssessedBy | None = Field(None, description="эксперт, руководитель организации и заявка из файла "
                                                             "оценок")
    calculations: list[Calculation] = []
    documents: DocumentChecklist
    engine_error: str | None = None
    judgements_mismatch: str | None = Field(None, description="оценки эксперта вынесены по другой заявке или редакции "
                                                              "заявки и применены по явному указанию: что отличается")
    judgement_contradictions: list[Contradiction] = Field(
        default=[], description="оценки эксперта, противоречащие вычисленным фактам")


def overall_verdict(findings: list[Finding]) -> Verdict:
    """In order of precedence: does_not_conform — a blocking requirement not met; incomplete — a blocking requirement
    lacks data, a requirement failed to evaluate, or a required document is missing; pending_review — none of these,
    but a requirement (of any severity) awaits an expert's judgement (manual_review); conforms otherwise."""
    blocking = [f for f in findings if f.severity == "blocking"]
    if any(f.status == "not_met" and f.kind != "document" for f in blocking):
        return "does_not_conform"
    if any(f.status == "insufficient_data" for f in blocking):
        return "incomplete"
    if any(f.status == "error" for f in findings):
        return "incomplete"
    if any(f.kind == "document" and f.status == "not_met" and f.severity in ("blocking", "major") for f in findings):
        return "incomplete"
    if any(f.status == "manual_review" for f in findings):
        return "pending_review"
    return "conforms"


def verdict_text(verdict: Verdict, findings: list[Finding]) -> str:
    """The verdict in words; for pending_review, what passed and how many requirements await the expert."""
    if verdict != "pending_review":
        return VERDICT_RU[verdict]
    waiting = plural(sum(1 for f in findings if f.status == "manual_review"),
                     "требование ждёт", "требования ждут", "требований ждут")
    passed = ("все требования" if not any(f.status in ("not_met", "insufficient_data", "error") for f in findings)
              else "все критичные требования")
    return f"выполнены {passed}, проверяемые автоматически; {waiting} оценки эксперта"


def stated_conclusion(r: Report) -> tuple[str, str] | None:
    """The assessment conclusion the report states (code, words), None without an assessment. A conclusion that
    claims conformity (with or without remarks) while the report's verdict is not «conforms» — criteria still await
    the expert, or data, a document or an evaluation is missing — would overstate: the verdict is stated instead."""
    a = r.assessment
    if a is None:
        return None
    if a.conclusion in ("conforms", "conforms_with_remarks") and r.verdict != "conforms":
        return r.verdict, r.verdict_text
    return a.conclusion, a.conclusion_text


def headline(r: Report, short: bool = False, upper: bool = False) -> str:
    """The report's headline: the verdict, or for a regime with an assessment its stated conclusion; short — for a
    table cell; upper — the words in capitals (the note that it is the conclusion stays as it is)."""
    stated = stated_conclusion(r)
    if stated is not None and stated[0] == r.assessment.conclusion:
        text, note = stated[1], " (оценка)" if short else " (заключение оценки)"
    else:
        text, note = VERDICT_SHORT[r.verdict] if short else r.verdict_text, ""
    return (text.upper() if upper else text) + note


def count_statuses(findings: list[Finding]) -> dict[str, int]:
    counts = {s: 0 for s in STATUS_RU}
    for f in findings:
        counts[f.status] += 1
    return counts
