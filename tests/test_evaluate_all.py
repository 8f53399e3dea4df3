"""Several regimes of one application in one call (`evaluate_all`, `evaluate(prepared=…)`) give exactly the reports that
`evaluate` gives for each regime alone, and the shared work never leaks between applications or dates."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from compliance.batch import check_file, report_row
from compliance.catalog import available_regimes
from compliance.evaluate import Prepared, evaluate, evaluate_all
from compliance.loading import InputError, load_application
from compliance.judgements import load_judgements
from tests.conftest import FIXTURES, app_from

APPLICATIONS = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".json", ".yaml") and "judgements" not in p.name)


def content(report) -> dict:
    """The report as JSON without what differs on every evaluation (its id and time)."""
    data = report.model_dump(mode="json")
    del data["evaluation_id"], data["generated_at"]
    return data


def alone(app, regime: str, as_of: date | None, **kw):
    """The report of one regime evaluated by itself, or the input error it raises (as text)."""
    try:
        return content(evaluate(app, regime, as_of, **kw))
    except InputError as exc:
        return str(exc.problems)


def together(app, regimes: list[str], as_of: date | None, **kw) -> list:
    """The same per regime through one Prepared: evaluate_all where no regime fails, else regime by regime."""
    try:
        return [content(r) for r in evaluate_all(app, regimes, as_of, **kw)]
    except InputError:
        prepared = Prepared(app, as_of or app.filing_date)
        return [alone(app, regime, as_of, prepared=prepared, **{k: v.get(regime) if k == "judgements" else v
                                                                 for k, v in kw.items()})
                for regime in regimes]


@pytest.mark.parametrize("path", APPLICATIONS, ids=lambda p: p.name)
def test_every_fixture_every_regime_and_date_as_alone(path):
    app = load_application(path)
    regimes = available_regimes()
    for as_of in (None, app.filing_date - timedelta(days=400), date(2024, 3, 1)):
        for freshness in (False, True):
            expected = [alone(app, r, as_of, freshness=freshness) for r in regimes]
            assert together(app, regimes, as_of, freshness=freshness) == expected
    assert any(isinstance(x, dict) for x in expected)


def test_judgements_go_to_their_regime_only():
    app = load_application(FIXTURES / "htp1381-operating.yaml")
    jf = load_judgements(FIXTURES / "gost-judgements-htp1381.yaml")
    regimes = ["htp1381", "gost56425", "itp1863"]
    reports = evaluate_all(app, regimes, judgements={jf.regime: jf})
    assert [content(r) for r in reports] == [alone(app, r, None, judgements=jf if r == jf.regime else None)
                                             for r in regimes]
    judged = {r.regime: r.judgements_by for r in reports}
    assert judged[jf.regime] and all(v is None for k, v in judged.items() if k != jf.regime)


def test_applications_and_dates_alternating_never_see_each_others_work():
    """Two applications whose facts differ and two dates, alternating, through shared Prepared objects and through a
    Prepared handed to the wrong application or date: every report is the one evaluated alone."""
    first = app_from("ip794-operating-conforming")
    second = app_from("ip794-operating-conforming", set_={"land_plots.0.area.value": 2.5, "category": "created"})
    days = [first.filing_date, first.filing_date - timedelta(days=700)]
    expected = {(i, d): [alone(app, r, d) for r in ("ip794", "itp1863")] for i, app in enumerate((first, second))
                for d in days}
    assert expected[(0, days[0])] != expected[(1, days[0])] and expected[(0, days[0])] != expected[(0, days[1])]
    stale = {}
    for _ in range(2):
        for d in days:
            for i, app in enumerate((first, second)):
                assert [content(r) for r in evaluate_all(app, ["ip794", "itp1863"], d)] == expected[(i, d)]
                other = stale.get((1 - i, d)) or stale.get((i, days[1 - days.index(d)]))
                if other is not None:  # a Prepared of the other application or the other date is not used
                    assert [alone(app, r, d, prepared=other) for r in ("ip794", "itp1863")] == expected[(i, d)]
                prepared = Prepared(app, d)
                assert [alone(app, r, d, prepared=prepared) for r in ("ip794", "itp1863")] == expected[(i, d)]
                stale[(i, d)] = prepared


def test_batch_rows_are_those_of_reports_evaluated_alone():
    path = FIXTURES / "brownfield-794-1863.yaml"
    app = load_application(path)
    rows = check_file(path)
    assert [r.regime for r in rows] == list(app.regimes)
    for row in rows:
        single = report_row(str(path), app.site_name, evaluate(app, row.regime))
        assert row.model_dump(exclude={"evaluation_id"}) == single.model_dump(exclude={"evaluation_id"})



def test_a_catalog_changed_in_memory_under_the_same_hash_gets_its_own_rules_and_norms():
    """What is kept per catalog and date (ruleset names, norms, wordings) is kept per catalog object: a copy of the
    catalog with another parameter value (as a scenario might build it) and the same content hash is evaluated with
    its own value, before and after the original."""
    import copy

    from compliance.catalog import load_catalog
    app = app_from("ip794-operating-conforming")
    original = load_catalog("ip794")
    changed = copy.deepcopy(original)
    name, param = next((n, p) for n, p in changed.rulebook.parameters.items()
                       if p.at(app.filing_date) is not None and isinstance(p.at(app.filing_date).value, (int, float))
                       and not isinstance(p.at(app.filing_date).value, bool))
    value = param.at(app.filing_date)
    value.value = value.value * 1000
    assert changed.content_hash == original.content_hash
    before = content(evaluate(app, "ip794", catalog=original))
    after = content(evaluate(app, "ip794", catalog=changed))
    again = content(evaluate(app, "ip794", catalog=original))
    assert before == again and after != before
    assert any(f.get("norm") and f["norm"].get("parameter") == name and f["norm"]["value"] == value.value
               for f in after["findings"])


def _fresh(app, regimes, as_of=None):
    """The reports with nothing kept from earlier evaluations (catalog constants and kept findings cleared)."""
    from compliance import findings
    findings._CONSTANTS.clear()
    return [content(r) for r in evaluate_all(app, regimes, as_of)]


@pytest.mark.parametrize("path", APPLICATIONS, ids=lambda p: p.name)
def test_findings_assembled_without_validation_are_what_validation_gives(path):
    """Findings and check results are assembled from values the builder made (findings._Assembler): validating each
    one's values again gives an equal model, with the same fields marked as set, and no two findings share a list."""
    from compliance.report import CheckResult, FactValue, Finding
    app = load_application(path)
    for as_of in (None, date(2024, 3, 1)):
        reports = []
        for regime in available_regimes():
            try:
                reports.append(evaluate(app, regime, as_of))
            except InputError:
                continue
        findings = [f for r in reports for f in r.findings]
        assert findings
        lists = []
        for f in findings:
            again = Finding.model_validate({name: getattr(f, name) for name in f.model_fields_set})
            assert again == f and again.model_dump(mode="json") == f.model_dump(mode="json")
            assert set(f.__dict__) == set(Finding.model_fields) and list(f.model_dump()) == list(Finding.model_fields)
            for c in f.checks:
                assert CheckResult.model_validate(dict(c.__dict__)) == c
            for fact in [f.fact, *f.shown_facts, *(c.fact for c in f.checks)]:
                if fact is not None:
                    assert FactValue.model_validate(dict(fact.__dict__)) == fact
                    assert list(fact.model_dump()) == list(FactValue.model_fields)
            lists += [id(getattr(f, name)) for name, field in Finding.model_fields.items() if field.default == []]
        assert len(set(lists)) == len(lists)


def test_findings_kept_per_context_never_leak_between_applications():
    """Findings that depend on the context alone (manual, informational) are kept per catalog, date, rules fired and
    context: applications with other contexts (category, residents) and dates, alternating, get exactly the reports
    evaluated with nothing kept; a report's finding changed in place changes no later report."""
    first = app_from("ip794-operating-conforming")
    second = app_from("ip794-operating-conforming", set_={"category": "created"})
    third = app_from("ip794-operating-conforming", delete=["residents"])
    apps, regimes = (first, second, third), ["ip794", "itp1863", "gost56425"]
    days = [None, first.filing_date - timedelta(days=700)]
    expected = {(i, d): _fresh(app, regimes, d) for i, app in enumerate(apps) for d in days}
    assert len({str(v) for v in expected.values()}) == len(expected)
    for _ in range(2):
        for d in days:
            for i, app in enumerate(apps):
                reports = evaluate_all(app, regimes, d)
                assert [content(r) for r in reports] == expected[(i, d)]
                for r in reports:  # a caller that edits a report in place
                    for f in r.findings:
                        f.rules_fired.append("изменено")
                        f.missing_inputs.append("изменено")
                        f.explanation += " (изменено)"


def test_findings_kept_per_context_follow_the_context_of_a_requirement_that_reads_it():
    """A manual or informational requirement made to apply to agro parks only (a catalog changed in memory, as a
    scenario may): its finding depends on the context alone and is kept per context — a general and an eco park (the
    same rule fires for both: not applicable, by subtype) and an agro park, alternating, each get the finding
    evaluated with nothing kept, which names its own subtype."""
    import copy

    from compliance.catalog import load_catalog
    from compliance.findings import _Plan
    catalog = copy.deepcopy(load_catalog("ip794"))
    catalog.content_hash = "test-applies-" + catalog.content_hash
    req = next(r for r in catalog.decree.requirements if _Plan(catalog, r).static)
    for variant in catalog.rules[req.id].variants:
        variant.applies = {"subtype": ["agro"]}
    apps = [app_from("ip794-operating-conforming", set_={"subtype": subtype}) for subtype in ("general", "eco", "agro")]

    def finding(app, fresh: bool) -> dict:
        from compliance import findings
        if fresh:
            findings._CONSTANTS.clear()
        return next(f for f in evaluate(app, "ip794", catalog=catalog).findings
                    if f.requirement_id == req.id).model_dump(mode="json")
    expected = [finding(app, True) for app in apps]
    assert [f["status"] for f in expected] == ["not_applicable", "not_applicable",
                                               "manual_review" if req.kind == "manual" else "informational"]
    assert expected[0]["rules_fired"] == expected[1]["rules_fired"] and expected[0] != expected[1]
    for _ in range(2):
        for app, f in zip(apps, expected):
            assert finding(app, False) == f
