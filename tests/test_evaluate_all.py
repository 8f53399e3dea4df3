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
