"""Which regime fits: one site evaluated against every regime whose input it carries, side by side."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from .catalog import available_regimes, load_catalog
from .evaluate import evaluate_all
from .formatting import field_labels
from .loading import InputError, Problem
from .models import Application
from .render import natural_id
from .report import Report, headline

# «►»: the closest status — conforming first, then awaiting only the expert, then incomplete, then not conforming
VERDICT_RANK = {"conforms": 0, "pending_review": 1, "incomplete": 2, "does_not_conform": 3}


class MatrixRow(BaseModel):
    regime: str
    regime_title: str
    act_citation: str
    verdict: str
    verdict_text: str
    verdict_short: str = ""  # for a narrow table cell (the text matrix)
    blocking_not_met: int
    insufficient_data: int
    manual_review: int
    documents_missing: int
    met: int
    top_gaps: list[str]
    closest: bool = False
    applied: bool = False  # a regime the application applies for: it decides the exit code; the others are for information


class Skipped(BaseModel):
    regime: str
    regime_title: str
    reason: str


class Eligibility(BaseModel):
    as_of: date
    site_name: str
    rows: list[MatrixRow]
    skipped: list[Skipped]
    reports: list[Report]


def requested_regimes(app: Application, regime: str | None, option: str = "regime") -> list[str]:
    """The regimes a check covers: the application's own (no regime given), the named one, or with ``all`` the
    application's regimes that have a catalog (every catalog if none has). Unknown regimes: InputError."""
    known = available_regimes()
    if regime is None:
        wanted = list(app.regimes)
    elif regime == "all":
        wanted = [r for r in app.regimes if r in known] or known
    else:
        wanted = [regime]
    unknown = [r for r in wanted if r not in known]
    if unknown:
        raise InputError([Problem(option if regime else "regimes",
                                  f"для режима «{r}» нет каталога требований; доступны: {', '.join(known)}")
                          for r in unknown])
    return wanted


def _missing_sections(fields: list[str]) -> str:
    """«в заявке нет раздела «кластер»» / «… нет разделов «здания», «участники»»: Russian names, each once."""
    names = field_labels(fields)
    return ("в заявке нет раздела " if len(names) == 1 else "в заявке нет разделов ") + ", ".join(f"«{n}»" for n in names)


def regimes_for(app: Application, wanted: list[str] | None = None) -> tuple[list[str], list[Skipped]]:
    """The regimes to evaluate: those named (or all with a catalog) whose required input sections are present. A
    regime the application applies for (its ``regimes``) is always evaluated, as a check of that regime alone
    evaluates it: a section it requires that is missing is then an input error, not a reason to leave it out."""
    chosen, skipped = [], []
    for code in wanted or available_regimes():
        if code in app.regimes:
            chosen.append(code)
            continue
        decree = load_catalog(code).decree
        empty = [field for field in dict.fromkeys(decree.requires_inputs + decree.indicative_inputs)
                 if not getattr(app, field, None)]
        if empty:
            skipped.append(Skipped(regime=code, regime_title=decree.title,
                                   reason=_missing_sections(empty)))
        else:
            chosen.append(code)
    return chosen, skipped


def _row(report: Report) -> MatrixRow:
    blocking = [f for f in report.findings if f.severity == "blocking" and f.kind != "document"]
    gaps = sorted((f for f in blocking if f.status == "not_met"), key=lambda f: natural_id(f.requirement_id))
    top = [f"{f.requirement_id} {f.title}: {f.shortfall.text if f.shortfall else 'не выполнено'}" for f in gaps[:3]]
    return MatrixRow(
        regime=report.regime, regime_title=report.regime_title, act_citation=report.act_citation,
        verdict=report.verdict,
        verdict_text=headline(report), verdict_short=headline(report, short=True),
        blocking_not_met=len(gaps),
        insufficient_data=report.counts["insufficient_data"], manual_review=report.counts["manual_review"],
        documents_missing=sum(1 for f in report.findings if f.kind == "document" and f.status == "not_met"),
        met=report.counts["met"], top_gaps=top)


def eligibility(app: Application, as_of: date | None = None, regimes: list[str] | None = None,
                freshness: bool = False, judgements=None) -> Eligibility:
    """``judgements`` (a JudgementsFile) applies to the regime it was made for."""
    chosen, skipped = regimes_for(app, regimes)
    reports = evaluate_all(app, chosen, as_of, freshness=freshness,
                           judgements={judgements.regime: judgements} if judgements is not None else None)
    rows = sorted((_row(r) for r in reports),
                  key=lambda r: (VERDICT_RANK[r.verdict], r.blocking_not_met, r.insufficient_data + r.manual_review,
                                 r.documents_missing))
    if rows:
        rows[0].closest = True
    for row in rows:
        row.applied = row.regime in app.regimes
    order = [r.regime for r in rows]
    reports.sort(key=lambda r: order.index(r.regime))  # full reports follow the matrix, closest first
    return Eligibility(as_of=as_of or app.filing_date, site_name=app.site_name, rows=rows, skipped=skipped,
                       reports=reports)
