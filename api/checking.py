"""Evaluations for the service: the same choices as `compliance check` (one regime, several, or all as a matrix),
replay of a stored check and the difference of findings between two checks. Everything here is synchronous; `run`
is called from api.workers, in a worker process or (mode "thread") in a thread behind the engine limiter (api.app)."""
from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError

from compliance.catalog import available_regimes, load_catalog
from compliance.eligibility import Eligibility, MatrixRow, Skipped, eligibility, regimes_for, requested_regimes
from compliance.evaluate import evaluate
from compliance.judgements import JudgementsFile, for_check
from compliance.loading import InputError, Problem, problems_from
from compliance.models import Application
from compliance.report import Report
from compliance.whatif import diff


def parse_judgements(data: dict[str, Any] | None) -> JudgementsFile | None:
    if data is None:
        return None
    try:
        return JudgementsFile.model_validate(data)
    except ValidationError as exc:
        raise InputError([Problem(f"judgements.{p.path}" if p.path else "judgements", p.message)
                          for p in problems_from(exc)]) from None


def run(app: Application, regime: str | None, as_of: date | None, judgements: JudgementsFile | None,
        judgements_override: bool = False, app_hash: str | None = None) -> dict[str, Any]:
    """{"reports": [Report JSON…], "matrix": [row…] | None, "skipped": […]} — as `compliance check --format json`.
    The judgements must name this application version (`app_hash`: its input hash as stored) unless overridden."""
    bound, regime, note = for_check(judgements, app, regime, "api", override=judgements_override, app_hash=app_hash)
    codes = requested_regimes(app, regime)
    if regime == "all" or len(codes) > 1:
        chosen, _ = regimes_for(app, codes if regime != "all" else None)
        if not chosen:
            raise InputError([Problem("regime", "ни один режим не подходит: в заявке нет нужных разделов "
                                                "(земельные участки, здания …)")])
        result = eligibility(app, as_of, chosen if regime != "all" else None, judgements=bound)
        return {"reports": [r.model_dump(mode="json") for r in result.reports],
                "matrix": [r.model_dump(mode="json") for r in result.rows],
                "skipped": [s.model_dump(mode="json") for s in result.skipped]}
    report = evaluate(app, codes[0], as_of, judgements=bound)
    report.notes += [note] if note else []
    return {"reports": [report.model_dump(mode="json")], "matrix": None, "skipped": []}


def catalogs_of(result: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {r["regime"]: {"version": r["catalog_version"], "hash": r["catalog_hash"]} for r in result["reports"]}


def reports_of(result: dict[str, Any]) -> list[Report]:
    return [Report.model_validate(r) for r in result["reports"]]


def eligibility_of(result: dict[str, Any]) -> Eligibility | None:
    if not result.get("matrix"):
        return None
    reports = reports_of(result)
    return Eligibility(as_of=reports[0].as_of if reports else date.today(),
                       site_name=reports[0].applicant.site_name if reports else "",
                       rows=[MatrixRow.model_validate(r) for r in result["matrix"]],
                       skipped=[Skipped.model_validate(s) for s in result.get("skipped", [])], reports=reports)


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Per regime present in either result: the catalogs, whether the findings are identical, and the changes of
    findings (compliance.whatif.diff) with requirements added or removed by a newer catalog."""
    a_by = {r["regime"]: r for r in before["reports"]}
    b_by = {r["regime"]: r for r in after["reports"]}
    out = []
    for regime in list(a_by) + [r for r in b_by if r not in a_by]:
        a, b = a_by.get(regime), b_by.get(regime)
        entry: dict[str, Any] = {
            "regime": regime,
            "catalog_before": {"version": a["catalog_version"], "hash": a["catalog_hash"]} if a else None,
            "catalog_after": {"version": b["catalog_version"], "hash": b["catalog_hash"]} if b else None,
            "verdict_before": a["verdict"] if a else None, "verdict_after": b["verdict"] if b else None,
            "same_findings": False, "changed": [], "added": [], "removed": [],
        }
        if a and b:
            entry["same_findings"] = a["findings"] == b["findings"]
            ra, rb = Report.model_validate(a), Report.model_validate(b)
            ids_a = {f.requirement_id for f in ra.findings}
            ids_b = {f.requirement_id for f in rb.findings}
            common_a = ra.model_copy(update={"findings": [f for f in ra.findings if f.requirement_id in ids_b]})
            entry["changed"] = [c.model_dump(mode="json") for c in diff(common_a, rb)]
            entry["added"] = sorted(ids_b - ids_a)
            entry["removed"] = sorted(ids_a - ids_b)
        out.append(entry)
    return out


def current_catalogs(regimes: list[str]) -> dict[str, dict[str, str]]:
    out = {}
    for code in regimes:
        if code in available_regimes():
            cat = load_catalog(code)
            out[code] = {"version": cat.decree.catalog_version, "hash": cat.content_hash}
    return out
