"""The amendment timeline: an application evaluated as of 2019 and as of 2025 gets the norms then in force."""
from __future__ import annotations

from datetime import date

from compliance.catalog import load_catalog
from compliance.evaluate import evaluate
from compliance.findings import add_years
from tests.conftest import app_from, finding


def test_decision_validity_three_years_in_2019_five_in_2025():
    catalog = load_catalog("ip794")
    app = app_from("ip794-operating-conforming")
    for when in (date(2019, 6, 1), date(2025, 3, 14)):
        years = catalog.rulebook.parameters["decision_validity_years"].at(when).value
        r3 = finding(evaluate(app, "ip794", when), "794-R-3")
        assert r3.status == "informational"
        assert add_years(when, years).strftime("%d.%m.%Y") in r3.explanation
    assert catalog.rulebook.parameters["decision_validity_years"].at(date(2019, 6, 1)).value == 3
    assert catalog.rulebook.parameters["decision_validity_years"].at(date(2025, 3, 14)).value == 5


def test_rules_introduced_in_2021_do_not_apply_in_2019():
    app = app_from("ip794-created-gaps")
    old, new = evaluate(app, "ip794", date(2019, 6, 1)), evaluate(app, "ip794")
    assert finding(old, "794-UK-2").status == "not_applicable"
    assert "не действовал" in finding(old, "794-UK-2").explanation
    assert finding(new, "794-UK-2").status == "not_met"
    assert finding(old, "794-R-2").status == "not_applicable"
    assert finding(new, "794-R-2").status == "informational"


def test_documents_dated_after_the_as_of_date_are_not_counted():
    app = app_from("ip794-operating-conforming")
    report = evaluate(app, "ip794", date(2020, 1, 1))
    assert report.documents.not_counted
    assert all("позже даты оценки" in d.problem for d in report.documents.not_counted)
    assert finding(report, "794-DOC-3").status == "not_met"
