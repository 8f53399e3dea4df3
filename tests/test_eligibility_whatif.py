"""The eligibility matrix (--regime all) and what-if (--set)."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from compliance import eligibility, evaluate, parse_assignment, what_if
from compliance.cli import app as cli
from compliance.loading import InputError
from compliance.whatif import apply_changes
from tests.conftest import FIXTURES, app_from, finding, raw_fixture

runner = CliRunner()


def test_what_if_adding_area_changes_exactly_the_findings_that_read_it():
    app = app_from("ip794-created-gaps")
    raw = raw_fixture("ip794-created-gaps")
    plot = raw["land_plots"][1]
    assert plot["area"]["unit"] == "m2"
    new_m2 = plot["area"]["value"] + 8000
    result = what_if(app, "ip794", [parse_assignment(f"land_plots.1.area.value={new_m2}")])
    changed = {c.requirement_id: c for c in result.changed}
    assert changed["794-P-1"].before == "not_met" and changed["794-P-1"].after == "met"
    before_total = finding(result.before, "794-P-1").fact.value
    assert finding(result.after, "794-P-1").fact.value == pytest.approx(before_total + 0.8)
    # the production share and power per hectare read the area too, so their numbers change
    assert "794-P-2" in changed and "794-P-6" in changed
    # requirements that do not read the area stay as they were
    assert "794-UK-8" not in changed and "794-P-9" not in changed
    assert all(c.requirement_id in changed or
               finding(result.before, c.requirement_id).status == finding(result.after, c.requirement_id).status
               for c in result.changed)


def test_what_if_with_a_bad_path_or_value_is_refused_in_russian():
    app = app_from("ip794-created-gaps")
    with pytest.raises(InputError) as exc:
        apply_changes(app, [parse_assignment("land_plots.9.area.value=3")])
    assert "путь не найден" in str(exc.value)
    with pytest.raises(InputError) as exc:
        apply_changes(app, [parse_assignment("land_plots.0.area.value=-3")])
    assert "land_plots[0].area.value" in str(exc.value) and "отрицательным" in str(exc.value)
    with pytest.raises(InputError):
        parse_assignment("no equals sign")


def test_cli_what_if_text_and_json(tmp_path):
    path = str(FIXTURES / "ip794-created-gaps.yaml")
    result = runner.invoke(cli, ["check", path, "--set", "road_access.hard_surface=true"])
    assert result.exit_code == 1
    assert "ЧТО ЕСЛИ (Индустриальный парк (ПП № 794))" in result.output and "794-P-9 Подъездная дорога: не выполнено → выполнено" in result.output
    overrides = tmp_path / "what-if.yaml"
    overrides.write_text("set:\n  road_access.hard_surface: true\ndelete: [zoning]\n", encoding="utf-8")
    data = json.loads(runner.invoke(cli, ["check", path, "--set-file", str(overrides), "-f", "json"]).output)
    changed = {c["requirement_id"]: (c["before"], c["after"]) for c in data["what_if"]["changed"]}
    assert changed["794-P-9"] == ("not_met", "met")
    assert changed["794-P-2"] == ("not_met", "insufficient_data")
    assert data["report"]["regime"] == "ip794"


def test_matrix_lists_each_regime_whose_input_the_site_carries():
    app = app_from("ip794-operating-conforming")
    result = eligibility(app)
    codes = [r.regime for r in result.rows] + [s.regime for s in result.skipped]
    from compliance.catalog import available_regimes
    assert sorted(codes) == sorted(available_regimes())
    for row, report in ((r, next(x for x in result.reports if x.regime == r.regime)) for r in result.rows):
        assert row.verdict == report.verdict
        assert row.blocking_not_met == sum(1 for f in report.findings if f.severity == "blocking"
                                           and f.kind != "document" and f.status == "not_met")
    assert sum(r.closest for r in result.rows) == 1
    ranks = [(r.verdict != "conforms", r.blocking_not_met) for r in result.rows]
    assert ranks[0] == min(ranks)


def test_cli_regime_all_prints_the_matrix():
    result = runner.invoke(cli, ["check", str(FIXTURES / "ip794-created-gaps.yaml"), "--regime", "all"])
    assert result.exit_code == 1
    assert "МАТРИЦА ПРИМЕНИМОСТИ РЕЖИМОВ" in result.output
    assert "Индустриальный парк (ПП № 794)" in result.output and "ip794" not in result.output and "Главные разрывы" in result.output
    data = json.loads(runner.invoke(cli, ["check", str(FIXTURES / "ip794-created-gaps.yaml"), "--regime", "all",
                                          "-f", "json"]).output)
    assert {"matrix", "reports", "skipped"} <= set(data)
    row = next(r for r in data["matrix"] if r["regime"] == "ip794")
    assert row["top_gaps"][0].startswith("794-P-1")


def test_brownfield_site_fits_both_park_and_technopark_regimes():
    app = app_from("brownfield-794-1863")
    assert app.regimes == ["ip794", "itp1863"]
    result = eligibility(app)
    verdicts = {r.regime: r.verdict for r in result.rows}
    # every automatic check passes under both; each has one requirement for the expert (794-P-11, 1863-T-2)
    assert verdicts["ip794"] == "pending_review" and verdicts["itp1863"] == "pending_review"
    assert result.rows[0].regime in ("ip794", "itp1863") and result.rows[0].closest
    # the application's own regimes are shown as a matrix without --regime all
    out = runner.invoke(cli, ["check", str(FIXTURES / "brownfield-794-1863.yaml")])
    assert out.exit_code == 3 and "МАТРИЦА ПРИМЕНИМОСТИ РЕЖИМОВ" in out.output
    assert "htp1381" not in out.output.split("Главные разрывы")[0]


def test_what_if_leasing_more_closes_the_occupancy_gap():
    raw = raw_fixture("itp1863-operating-occupancy-gap")
    app = app_from("itp1863-operating-occupancy-gap")
    base = evaluate(app, "itp1863")
    t6 = finding(base, "1863-T-6")
    assert t6.status == "not_met" and base.verdict == "does_not_conform"
    resident_area = finding(base, "1863-T-6").checks[0].fact  # occupancy fact
    leased_now = sum(b["leased_to_residents"]["value"] for b in raw["buildings"] if b.get("leased_to_residents"))
    needed_m2 = t6.norm.value / 100 * (leased_now / (resident_area.value / 100)) - leased_now
    b0 = next(i for i, b in enumerate(raw["buildings"]) if b.get("leased_to_residents"))
    new_value = raw["buildings"][b0]["leased_to_residents"]["value"] + needed_m2 + 1
    result = what_if(app, "itp1863", [parse_assignment(f"buildings.{b0}.leased_to_residents.value={new_value}")])
    changed = {c.requirement_id: (c.before, c.after) for c in result.changed}
    assert changed == {"1863-T-6": ("not_met", "met")}
    assert result.after.verdict == "pending_review"  # 1863-T-2 still awaits the expert


def test_technopark_without_buildings_is_skipped_in_the_matrix():
    app = app_from("ip794-created-gaps")
    assert not app.buildings
    result = eligibility(app)
    skipped = {s.regime: s.reason for s in result.skipped}
    assert skipped["itp1863"] == "в заявке нет раздела «здания»"  # its Russian name, once
    assert [r.regime for r in result.rows] == ["ip794"]
