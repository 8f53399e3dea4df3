"""What the check page shows, computed from a stored check's result: the same information as the text report
(compliance.render) arranged for a web page — the summary first, then findings by block with their evidence, the
document checklist, calculations, the assessment and (for several regimes) the eligibility matrix."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from compliance.catalog import UNCONFIRMED, Assessment, CatalogError, available_regimes, load_catalog
from compliance.formatting import field_labels, plural
from compliance.render import STATUS_ORDER, blocking_findings, fact_lines, findings_by_block, waiver_state
from compliance.report import SEVERITY_RU, STATUS_RU, Finding, Report
from compliance.word import failed_details

DETAILS_SHOWN = 50  # failing items listed under a finding; the rest are counted
# "Only what needs work": the statuses a user acts on.
ATTENTION = ["not_met", "error", "insufficient_data", "manual_review"]


def anchor(requirement_id: str) -> str:
    """The HTML id of a finding: f-794-P-1 (requirement ids are letters, digits, '-', '.')."""
    return "f-" + re.sub(r"[^\w.-]", "_", requirement_id)


def catalog_assessment(regime: str) -> Assessment | None:
    """The assessment section (scores and a conclusion) the regime's catalog declares, if any."""
    if regime not in available_regimes():
        return None
    try:
        return load_catalog(regime).decree.assessment
    except CatalogError:
        return None


def severity_text(f: Finding, assessment: Assessment | None) -> str:
    """An assessment regime names its criteria mandatory or recommended; other regimes by severity."""
    if assessment is not None:
        if f.severity in assessment.mandatory:
            return "обязательный критерий"
        if f.severity in assessment.recommended:
            return "рекомендуемый критерий"
    return SEVERITY_RU.get(f.severity, f.severity)


@dataclass
class FindingView:
    """One finding as the page shows it; which parts appear for which status follows compliance.render."""
    f: Finding
    anchor: str
    fact: list[tuple[str, str]]  # (heading, text): the measured facts, where meaningful for this status
    details: list[str]  # the items that make a check fail
    more: int  # failing items not listed
    explanation: str | None
    todo_label: str | None
    todo: str | None
    unconfirmed: bool  # the confidence of the norm is not the act's text or a secondary source
    waiver_state: str | None
    severity: str
    sources: list[str] = field(default_factory=list)  # Russian labels of the application fields read
    missing: list[str] = field(default_factory=list)


def finding_view(f: Finding, assessment: Assessment | None = None) -> FindingView:
    details = failed_details(f)
    explanation = None
    if f.status != "met" and (f.status != "not_met" or not f.checks) and not f.judgement and f.status != "waived":
        explanation = f.explanation
    todo_label = todo = None
    if f.status in ("not_met", "insufficient_data") and f.remedy:
        todo_label, todo = "Что сделать", f.remedy
    elif f.status == "manual_review" and f.what_to_check:
        todo_label, todo = "Что проверить", f.what_to_check
    elif f.status == "waived" and f.remedy:
        todo_label, todo = "Что сделать до окончания срока отклонения", f.remedy
    return FindingView(
        f=f, anchor=anchor(f.requirement_id),
        fact=fact_lines(f),
        details=details[:DETAILS_SHOWN], more=max(0, len(details) - DETAILS_SHOWN), explanation=explanation,
        todo_label=todo_label, todo=todo, unconfirmed=f.needs_confirmation or f.confidence in UNCONFIRMED,
        waiver_state=waiver_state(f) if f.waiver else None, severity=severity_text(f, assessment),
        sources=field_labels(f.inputs_used), missing=field_labels(f.missing_inputs))


def parse_statuses(values: list[str] | None) -> list[str]:
    """The statuses to show (known ones, in report order); empty means no filter."""
    chosen = {v for v in values or [] if v in STATUS_RU}
    return [s for s in STATUS_ORDER if s in chosen]


def check_url(check_id: str, regime: str | None = None, statuses: list[str] | None = None, frag: str = "") -> str:
    query = ([("regime", regime)] if regime else []) + [("status", s) for s in statuses or []]
    return f"/checks/{check_id}" + (f"?{urlencode(query)}" if query else "") + (f"#{frag}" if frag else "")


@dataclass
class ReportView:
    r: Report
    findings: list[FindingView]
    blocks: list[tuple[str, list[FindingView]]]
    blocking: list[FindingView]
    documents: list[tuple[Any, bool]]  # checklist item, shown by the filter
    counts: list[tuple[str, int]]  # nonzero counts in report order
    statuses: list[str]  # the filter (empty: everything shown)
    shown: int
    hidden: int
    total: int
    unconfirmed_text: str | None
    assessment_link: bool  # the regime has an assessment section: the expert's assessment page applies
    visible: set[str]  # requirement ids the filter shows (their anchors are on the page)


def report_view(r: Report, statuses: list[str]) -> ReportView:
    assessment = catalog_assessment(r.regime)
    views = {f.requirement_id: finding_view(f, assessment) for f in r.findings}

    def visible(status: str) -> bool:
        return not statuses or status in statuses

    blocks = [(title, [views[f.requirement_id] for f in items if visible(f.status)])
              for title, items in findings_by_block(r.findings).items()]
    shown = sum(1 for f in r.findings if visible(f.status))
    unconfirmed = None
    if r.unconfirmed_norms:
        unconfirmed = (plural(len(r.unconfirmed_norms), "вердикт основан", "вердикта основаны", "вердиктов основаны")
                       + " на нормативах, которые требуют сверки с официальным текстом")
    return ReportView(
        r=r, findings=list(views.values()), blocks=[(t, items) for t, items in blocks if items],
        blocking=[views[f.requirement_id] for f in blocking_findings(r)],
        documents=[(item, visible(item.status)) for item in r.documents.items],
        counts=[(s, r.counts.get(s, 0)) for s in STATUS_ORDER if r.counts.get(s)], statuses=statuses,
        shown=shown, hidden=len(r.findings) - shown, total=len(r.findings), unconfirmed_text=unconfirmed,
        assessment_link=assessment is not None or r.assessment is not None,
        visible={f.requirement_id for f in r.findings if visible(f.status)})
