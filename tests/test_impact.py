"""The impact of a draft amendment (compliance/impact.py): real applications evaluated under the current catalog and
under the 2025 draft for 794 — verdicts that flip each way, requirement changes with their shortfalls, totals per
requirement and region, the Excel, JSON and Word files, and `compliance impact` on the command line."""
from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import docx
import pytest
import yaml
from openpyxl import load_workbook
from typer.testing import CliRunner

from compliance.cases import apply_patch
from compliance.cli import app as cli
from compliance.evaluate import evaluate
from compliance.impact import (compare_site, impact_docx, impact_json, impact_xlsx, load_scenario, run_impact,
                               summarise)
from compliance.loading import load_application, validate
from tests.conftest import FIXTURES
from tests.docxtext import body_text, rows_under

DRAFT = FIXTURES / "scenarios" / "ip794-draft-2025.yaml"
SITES = FIXTURES / "scenarios" / "sites"
runner = CliRunner()


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(DRAFT)


def _park(**changes):
    base = yaml.safe_load((FIXTURES / "ip794-operating-conforming.yaml").read_text("utf-8"))
    return validate(apply_patch(base, changes, []))


def far_plot(km: float, **more):
    return _park(**{"land_plots.2.adjacency": "separate", "land_plots.2.distance_to_main_km": km, **more})


def two_producing(**more):
    return _park(**{f"residents.{i}.producing": False for i in range(2, 7)}, **more)


def test_a_plot_5_km_away_fails_now_and_passes_under_the_draft(scenario):
    app = far_plot(5)
    site = compare_site("5 км", app, scenario, None)
    assert site.as_of == date(2027, 1, 1) and site.concerned
    [r] = site.regimes
    # the same as evaluating the two catalogs directly
    assert r.verdict_before == evaluate(app, "ip794", date(2027, 1, 1)).verdict == "does_not_conform"
    assert r.verdict_after == evaluate(app, "ip794", date(2027, 1, 1), catalog=scenario.catalogs["ip794"]).verdict
    assert r.verdict_after == "conforms" and r.direction == "better" and site.direction == "better"
    p4 = next(c for c in r.changes if c.requirement_id == "794-P-4")
    assert (p4.before, p4.after, p4.change) == ("not_met", "met", "vanishes")
    assert p4.shortfall_before == "превышение на 5 км" and p4.shortfall_after is None
    assert (p4.before_text, p4.after_text) == ("не выполнено", "выполнено")
    assert r.catalog_after == "2026.12.1 с проектом изменений „Проект изменений в ПП № 794 (2025 г.)“"


def test_few_producing_residents_pass_now_and_fail_under_the_draft(scenario):
    site = compare_site("2 резидента", two_producing(), scenario, None)
    [r] = site.regimes
    assert (r.verdict_before, r.verdict_after, r.direction) == ("pending_review", "does_not_conform", "worse")
    [p11] = r.changes
    assert (p11.requirement_id, p11.before, p11.after, p11.change) == ("794-P-11", "manual_review", "not_met", "appears")
    assert p11.shortfall_before is None and p11.shortfall_after == "не хватает 1"
    assert p11.after_text == "не выполнено" and p11.before_text == "требуется экспертная оценка"


def test_a_plot_beyond_10_km_fails_both_ways_with_a_smaller_shortfall(scenario):
    [r] = compare_site("12 км", far_plot(12), scenario, None).regimes
    assert (r.verdict_before, r.verdict_after, r.direction) == ("does_not_conform", "does_not_conform", "same")
    p4 = next(c for c in r.changes if c.requirement_id == "794-P-4")
    assert (p4.change, p4.shortfall_before, p4.shortfall_after) == ("shortfall", "превышение на 12 км",
                                                                     "превышение на 2 км")


def test_an_application_under_another_regime_is_not_concerned(scenario):
    app = load_application(FIXTURES / "itp1863-operating-occupancy-gap.yaml")
    site = compare_site("1863", app, scenario, None)
    assert not site.concerned and site.regimes == []


def test_an_evaluation_date_before_the_drafts_date_is_noted(scenario):
    site = compare_site("5 км", far_plot(5), scenario, date(2026, 6, 1))
    [r] = site.regimes
    assert r.verdict_before == r.verdict_after == "does_not_conform"  # the draft's 10 km is not yet in force
    result = summarise([site], scenario, date(2026, 6, 1))
    assert result.notes == ["Дата оценки 01.06.2026 раньше предполагаемой даты вступления проекта в силу "
                            "(01.01.2027): нормативы проекта на эту дату ещё не действуют."]


def _run(scenario, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    items = [("5 км", far_plot(5)), ("2 резидента", two_producing(region="Тульская область")),
             ("12 км", far_plot(12, region="Тульская область")),
             ("1863", load_application(FIXTURES / "itp1863-operating-occupancy-gap.yaml")),
             ("broken.json", broken)]
    calls = []
    result = run_impact(items, scenario, None, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    return result


def test_totals_per_requirement_and_region(scenario, tmp_path):
    result = _run(scenario, tmp_path)
    t = result.totals
    assert (t.applications, t.evaluated, t.not_concerned, t.errors) == (5, 3, 1, 1)
    assert (t.worse, t.better, t.same, t.requirements_changed) == (1, 1, 1, 3)
    assert [(x.before, x.after, x.sites) for x in result.transitions] == [
        ("does_not_conform", "conforms", 1), ("pending_review", "does_not_conform", 1)]
    per = {x.requirement_id: x for x in result.requirements}
    assert list(per) == ["794-P-4", "794-P-11"]
    assert (per["794-P-4"].sites_changed, per["794-P-4"].vanishes, per["794-P-4"].shortfall) == (2, 1, 1)
    assert (per["794-P-11"].sites_changed, per["794-P-11"].appears, per["794-P-11"].status) == (3, 1, 2)
    regions = {x.region: (x.sites, x.worse, x.better, x.same) for x in result.regions}
    assert regions == {"Тульская область": (2, 1, 0, 1), "Калужская область": (1, 0, 1, 0)}
    [error] = result.errors
    assert error.label == "broken.json" and "JSON" in error.problem


def test_a_stop_request_ends_the_run_with_what_is_done(scenario):
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 2
    result = run_impact([("a", far_plot(5)), ("b", two_producing()), ("c", far_plot(12))], scenario,
                        should_stop=stop)
    assert result.stopped and [s.label for s in result.sites] == ["a", "b"]
    assert result.notes[-1] == "Оценка прервана: обработано 2 заявки; итоги — только по ним."


def test_xlsx_json_and_docx(scenario, tmp_path):
    result = _run(scenario, tmp_path)
    wb = load_workbook(io.BytesIO(impact_xlsx(result)))
    assert wb.sheetnames == ["Итоги", "Площадки", "Изменения", "Требования", "Переходы итога", "Регионы", "Ошибки"]
    totals = {row[0]: row[1] for row in wb["Итоги"].iter_rows(min_row=2, values_only=True)}
    assert totals["Итог ухудшается"] == 1 and totals["Итог улучшается"] == 1 and totals["Заявок передано"] == 5
    assert totals["Предполагаемая дата вступления в силу"] == "01.01.2027"
    sites = list(wb["Площадки"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[4], r[5], r[6]) for r in sites] == [
        ("5 км", "не соответствует", "соответствует", "лучше"),
        ("2 резидента", "ждёт оценки эксперта", "не соответствует", "хуже"),
        ("12 км", "не соответствует", "не соответствует", "без изменений")]
    changes = list(wb["Изменения"].iter_rows(min_row=2, values_only=True))
    assert ("5 км", "794-P-4", "не выполнено", "выполнено", "несоответствие устраняется", "превышение на 5 км",
            None) in [(r[0], r[4], r[6], r[7], r[8], r[9], r[10]) for r in changes]
    assert [r[0] for r in wb["Ошибки"].iter_rows(min_row=2, values_only=True)] == ["broken.json"]

    data = json.loads(impact_json(result))
    assert data["totals"]["worse"] == 1 and data["scenario"]["effective"] == "2027-01-01"
    assert [s["direction"] for s in data["sites"]] == ["better", "worse", "same", "same"]

    document = docx.Document(io.BytesIO(impact_docx(result)))
    text = body_text(document)
    assert "ОЦЕНКА ПОСЛЕДСТВИЙ ПРОЕКТА ИЗМЕНЕНИЙ" in text
    assert ("Оценено 3 заявки по режимам, которые меняет проект. Если проект примут, итог ухудшится у 1 площадки, "
            "улучшится у 1 площадки, останется прежним у 1 площадки") in text
    assert rows_under(document, ["Режим", "Итог сейчас", "Итог по проекту", "Площадок"]) == [
        ["Индустриальный парк (ПП № 794)", "не соответствует", "соответствует", "1"],
        ["Индустриальный парк (ПП № 794)", "ждёт оценки эксперта", "не соответствует", "1"]]
    sites_rows = rows_under(document, ["Площадка", "Итог сейчас → по проекту", "Что меняется"])
    assert [r[1] for r in sites_rows] == ["не соответствует → соответствует",  # Калужская область first
                                          "ждёт оценки эксперта → не соответствует",
                                          "не соответствует → не соответствует"]
    assert "794-P-4 «Единая территория»: не выполнено → выполнено (было: превышение на 5 км)" in sites_rows[0][2]
    assert "1 заявка не оценена из-за ошибок во входных данных" in text


# --- the command line ----------------------------------------------------------------------------------------------
def test_cli_impact_writes_the_files_and_prints_the_totals(tmp_path):
    out = tmp_path / "итоги" / "impact.xlsx"
    r = runner.invoke(cli, ["impact", "--scenario", str(DRAFT), str(SITES), "--output", str(out),
                            "--brief", str(tmp_path / "справка.docx")])
    assert r.exit_code == 1, r.output  # under the draft one site does not conform (as batch would say)
    assert out.exists() and out.with_suffix(".json").exists() and (tmp_path / "справка.docx").exists()
    data = json.loads(out.with_suffix(".json").read_text("utf-8"))
    assert (data["totals"]["worse"], data["totals"]["better"], data["totals"]["same"]) == (1, 1, 1)
    assert "Итог ухудшается" in r.stdout and "Проект: Проект изменений в ПП № 794 (2025 г.); дата оценки 01.01.2027" \
        in r.stdout


def test_cli_impact_only_json_and_the_exit_code_of_conforming_sites(tmp_path):
    out = tmp_path / "impact.json"
    r = runner.invoke(cli, ["impact", "-s", str(DRAFT), str(SITES / "park-plot-5km.yaml"), "-o", str(out)])
    assert r.exit_code == 0, r.output  # conforms under the draft
    assert json.loads(out.read_text("utf-8"))["totals"]["better"] == 1
    assert not (tmp_path / "impact.xlsx").exists()


@pytest.mark.parametrize("args, message", [
    (["--output", "x.csv"], "сводка пишется в файл .xlsx"),
    (["--brief", "x.pdf"], "справка пишется в файл Word .docx"),
    (["--as-of", "31.02.2027"], "--as-of"),
])
def test_cli_impact_refuses_bad_options(tmp_path, args, message):
    r = runner.invoke(cli, ["impact", "-s", str(DRAFT), str(SITES), *args])
    assert r.exit_code == 2 and message in r.stderr


def test_cli_impact_refuses_a_bad_scenario_and_missing_applications(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\n", encoding="utf-8")
    r = runner.invoke(cli, ["impact", "-s", str(bad), str(SITES), "-o", str(tmp_path / "i.xlsx")])
    assert r.exit_code == 2 and "bad.yaml, строка 1: source: обязательное поле не заполнено" in r.stderr
    r = runner.invoke(cli, ["impact", "-s", str(DRAFT), str(tmp_path / "нет"), "-o", str(tmp_path / "i.xlsx")])
    assert r.exit_code == 2 and "не найден:" in r.stderr


def test_cli_impact_lists_a_broken_file_and_goes_on(tmp_path):
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "broken.json").write_text("[]", encoding="utf-8")
    (tmp_path / "sites" / "park.yaml").write_bytes((SITES / "park-plot-5km.yaml").read_bytes())
    r = runner.invoke(cli, ["impact", "-s", str(DRAFT), str(tmp_path / "sites"), "-o", str(tmp_path / "i.xlsx")])
    assert r.exit_code == 1  # a file with errors, as in batch
    assert "broken.json: заявка должна быть объектом" in r.stdout
    assert json.loads((tmp_path / "i.json").read_text("utf-8"))["totals"]["better"] == 1
