"""The report: verdict rules, shortfalls computed from the application, evidence of failing items."""
from __future__ import annotations

import pytest

from compliance.evaluate import evaluate
from compliance.render import render_markdown, render_text
from tests.conftest import app_from, finding, raw_fixture


def test_conforming_park_awaits_the_expert_and_each_kind_of_gap_changes_the_verdict_as_documented():
    # every automatic check passes, 794-P-11 awaits the expert (tests/test_verdicts.py: closed, it conforms)
    assert evaluate(app_from("ip794-operating-conforming"), "ip794").verdict == "pending_review"
    # a required document missing: the application is incomplete, not non-conforming
    raw = raw_fixture("ip794-operating-conforming")
    idx = next(i for i, d in enumerate(raw["documents"]) if d["kind"] == "tax_certificate")
    no_doc = evaluate(app_from("ip794-operating-conforming", delete=[f"documents.{idx}"]), "ip794")
    assert finding(no_doc, "794-DOC-11").status == "not_met" and no_doc.verdict == "incomplete"
    # a blocking requirement without data: incomplete
    no_zoning = evaluate(app_from("ip794-operating-conforming", delete=["zoning"]), "ip794")
    assert no_zoning.verdict == "incomplete" and "794-P-2" in no_zoning.blocking_gaps
    # a blocking requirement not met: does not conform
    no_road = evaluate(app_from("ip794-operating-conforming", {"road_access.hard_surface": False}), "ip794")
    assert no_road.verdict == "does_not_conform" and "794-P-9" in no_road.blocking_gaps


def test_power_shortfall_is_given_per_hectare_and_for_the_whole_territory():
    raw = raw_fixture("ip794-created-gaps")
    report = evaluate(app_from("ip794-created-gaps"), "ip794")
    f = finding(report, "794-P-6")
    to_mw = {"kW": 1e-3, "кВт": 1e-3, "MW": 1.0, "МВт": 1.0}
    power = sum(u["capacity"]["value"] * to_mw[u["capacity"]["unit"]] for u in raw["utilities"] if u["kind"] == "electricity")
    to_ha = {"ha": 1.0, "га": 1.0, "m2": 1e-4, "м2": 1e-4, "м²": 1e-4}
    area = sum(p["area"]["value"] * to_ha[p["area"]["unit"]] for p in raw["land_plots"])
    assert f.status == "not_met"
    assert f.fact.value == pytest.approx(power / area, abs=1e-6)  # facts are rounded to 6 decimals
    assert f.shortfall.value == pytest.approx(f.norm.value - power / area, abs=1e-6)
    whole = (f.norm.value - power / area) * area
    assert f"≈ {whole:.2f}".replace(".", ",") in f.shortfall.text


def test_failing_plots_are_named_in_the_report():
    raw = raw_fixture("ip794-created-gaps")
    without = [i for i, p in enumerate(raw["land_plots"]) if not p.get("cadastral_number")]
    report = evaluate(app_from("ip794-created-gaps"), "ip794")
    text, md = render_text(report), render_markdown(report)
    for i in without:
        assert f"участок № {i + 1}: нет кадастрового номера" in text
        assert f"участок № {i + 1}: нет кадастрового номера" in md


def test_unconfirmed_norms_are_marked():
    report = evaluate(app_from("ip794-created-gaps"), "ip794")
    p2 = finding(report, "794-P-2")
    assert p2.norm.confidence in ("A", "M", "U") and p2.needs_confirmation
    assert "794-P-2" in report.unconfirmed_norms
    assert "норматив требует сверки с официальным текстом" in render_text(report)
    p1 = finding(report, "794-P-1")
    assert p1.norm.confidence in ("T", "S") and not p1.needs_confirmation
