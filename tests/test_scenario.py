"""Draft amendments as scenario files (compliance/scenario.py): loading gives the current catalog with the draft
applied (own content hash, own ruleset, a version label that says it is a draft); a bad file is refused in Russian
naming the file, the line and the field; `compliance catalog --check --scenario` validates it like the catalog."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from compliance.catalog import load_catalog
from compliance.cli import app as cli
from compliance.engine import get_engine
from compliance.scenario import ScenarioError, check_scenario, load_scenario, load_scenario_bytes
from tests.conftest import FIXTURES

DRAFT = FIXTURES / "scenarios" / "ip794-draft-2025.yaml"
runner = CliRunner()

HEAD = """title: Проверочный сценарий
source: тест
effective: 2027-01-01
regimes:
  ip794:
"""


def _write(tmp_path: Path, body: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + body, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    return exc.value.problems


def test_the_draft_is_the_current_catalog_with_its_changes_and_says_so():
    scenario = load_scenario(DRAFT)
    base = load_catalog("ip794")
    draft = scenario.catalogs["ip794"]
    assert scenario.regimes == ["ip794"] and scenario.effective == date(2027, 1, 1)
    assert scenario.label("ip794") == ("каталог 2026.12.1 с проектом изменений „Проект изменений в ПП № 794 "
                                       "(2025 г.)“")
    assert draft.content_hash != base.content_hash == scenario.base_hashes["ip794"]
    # the distance norm: the current value before the assumed effective date, the draft's from it
    gap = draft.rulebook.parameters["max_plot_gap_km"]
    assert gap.at(date(2026, 12, 31)).value == 0 and gap.at(date(2027, 1, 1)).value == 10
    assert draft.rulebook.parameters["min_residents_count"].at(date(2027, 1, 1)).value == 3
    assert draft.requirements["794-P-11"].kind == "automated" and draft.rules["794-P-11"].severity == "blocking"
    assert draft.decree.amendments[-1].effective == date(2027, 1, 1)
    # the catalog on disk is untouched, every other requirement as it was
    assert base.requirements["794-P-11"].kind == "manual"
    assert base.rulebook.parameters["max_plot_gap_km"].at(date(2027, 1, 1)).value == 0
    assert len(draft.requirements) == len(base.requirements)
    same = [rid for rid in base.requirements if rid != "794-P-11"]
    assert all(draft.requirements[r] == base.requirements[r] for r in same)


def test_the_draft_gets_its_own_ruleset_beside_the_current_one():
    scenario = load_scenario(DRAFT)
    engine = get_engine()
    when = date(2027, 1, 1)
    current = engine.ruleset_for(load_catalog("ip794"), when)
    draft = engine.ruleset_for(scenario.catalogs["ip794"], when)
    assert current.name != draft.name
    assert "794-P-11|v0|met" in draft.rules and "794-P-11|v0|manual_review" in current.rules
    # loading the same file again reuses the compiled ruleset (a ruleset is registered once per process)
    again = load_scenario_bytes(DRAFT.read_bytes(), DRAFT.name)
    assert again.catalogs["ip794"].content_hash == scenario.catalogs["ip794"].content_hash
    assert engine.ruleset_for(again.catalogs["ip794"], when) is draft


def test_the_catalog_files_of_a_scenario_rebuild_it_as_a_stored_snapshot_would():
    scenario = load_scenario(DRAFT)
    draft = scenario.catalogs["ip794"]
    rebuilt = load_catalog("ip794", snapshot=draft.files)
    assert rebuilt.content_hash == draft.content_hash
    assert rebuilt.decree.catalog_version == draft.decree.catalog_version


def test_the_draft_passes_the_check_with_its_own_cases_and_changes_no_case_of_the_catalog():
    result = check_scenario(load_scenario(DRAFT))
    assert result.ok, result.problems
    assert result.own_cases == {"ip794": 5}
    assert result.base_cases["ip794"] == len(load_catalog("ip794").cases.cases)
    assert result.changed_cases == {"ip794": []}


def test_a_scenario_that_changes_a_case_of_the_catalog_lists_it_and_is_not_refused(tmp_path):
    path = _write(tmp_path, """    parameters:
      max_plot_gap_km:
        values:
          - {from: 2016-01-01, value: 1, confidence: M, reference: проверка}
""")
    result = check_scenario(load_scenario(path))
    assert result.ok
    changed = result.changed_cases["ip794"]
    assert len(changed) == 1
    assert "P-4: третий участок стоит отдельно, в 0,03 км" in changed[0]
    assert "794-P-4: ожидалось not_met, получено met" in changed[0]


def test_a_yaml_error_names_the_file_and_the_line(tmp_path):
    path = _write(tmp_path, "    parameters: [\n")
    [problem] = _problems(path)
    assert problem.startswith("s.yaml: ошибка YAML в строке")


def test_an_unknown_regime_names_its_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(HEAD.replace("ip794", "ip795") + "    rules: []\n", encoding="utf-8")
    [problem] = _problems(path)
    assert problem.startswith("s.yaml, строка 5: неизвестный режим «ip795»; доступны: ")


def test_a_wrong_field_names_the_line_and_the_field_in_russian(tmp_path):
    path = _write(tmp_path, """    rules:
      - requirement: 794-P-4
        severity: blocking
        checks:
          - {fact: max_plot_gap_km, op: "=<", param: max_plot_gap_km}
""")
    [problem] = _problems(path)
    assert problem.startswith("s.yaml, строка 10: regimes.ip794.rules[0].checks[0].op: недопустимое значение «=<»")


def test_a_missing_field_and_a_misspelt_one(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("title: x\nsourse: y\neffective: 2027-01-01\nregimes: {ip794: {}}\n", encoding="utf-8")
    problems = _problems(path)
    assert "s.yaml, строка 1: source: обязательное поле не заполнено" in problems
    assert any(p.startswith("s.yaml, строка 2: sourse: неизвестное поле") for p in problems)


def test_a_new_parameter_needs_a_title(tmp_path):
    path = _write(tmp_path, """    parameters:
      min_something:
        values:
          - {value: 3, confidence: A, reference: проверка}
""")
    assert _problems(path) == ["s.yaml, строка 7: новый параметр «min_something»: укажите title — название норматива"]


def test_the_validator_names_the_line_of_the_rule_it_refuses(tmp_path):
    path = _write(tmp_path, """    rules:
      - requirement: 794-P-4
        severity: blocking
        checks:
          - {fact: no_such_fact, op: "<=", param: max_plot_gap_km}
        remedy: исправьте
""")
    result = check_scenario(load_scenario(path))
    assert not result.ok
    assert "s.yaml, строка 7: 794-P-4 (вариант 1): неизвестный факт «no_such_fact»" in result.problems["ip794"]


def test_a_failing_case_of_the_scenario_is_a_problem_with_its_line(tmp_path):
    path = _write(tmp_path, """    cases:
      - name: "P-4: участок в 5 км — по этому сценарию не выполнено"
        base: ip794-operating-conforming
        as_of: 2027-01-01
        set: {land_plots.2.adjacency: separate, land_plots.2.distance_to_main_km: 5}
        expect: {794-P-4: met}
""")
    result = check_scenario(load_scenario(path))
    assert result.problems["ip794"] == [
        "s.yaml, строка 7: тест сценария «P-4: участок в 5 км — по этому сценарию не выполнено»: 794-P-4: ожидалось "
        "met, получено not_met"]


def test_an_automated_requirement_the_scenario_adds_needs_its_cases(tmp_path):
    path = _write(tmp_path, """    requirements:
      - id: 794-P-15
        block: P
        clause: проект
        title: Новое требование
        text: Проверка.
        kind: automated
        confidence: S
        source: проект
    rules:
      - requirement: 794-P-15
        severity: major
        checks:
          - {fact: residents_count, op: ">=", value: 2}
        remedy: привлеките резидентов
""")
    problems = check_scenario(load_scenario(path)).problems["ip794"]
    assert "s.yaml, строка 7: 794-P-15: нет тестового примера со статусом met (rules/cases/ip794.yaml)" in problems


def test_an_upload_that_is_not_yaml_is_refused():
    with pytest.raises(ScenarioError) as exc:
        load_scenario_bytes(b"{}", "draft.json")
    assert exc.value.problems == ["draft.json: сценарий пишется в файле YAML (.yaml или .yml), как каталог"]


# --- the command line ----------------------------------------------------------------------------------------------
def test_cli_checks_the_draft():
    r = runner.invoke(cli, ["catalog", "--check", "--scenario", str(DRAFT)])
    assert r.exit_code == 0, r.output
    assert ("Индустриальный парк (ПП № 794): сценарий в порядке — каталог 2026.12.1 с проектом изменений „Проект "
            "изменений в ПП № 794 (2025 г.)“; 5 тестовых примеров сценария пройдено") in r.stdout
    assert "из них сценарий меняет вывод 0" in r.stdout


def test_cli_refuses_a_bad_scenario_with_exit_code_2(tmp_path):
    path = _write(tmp_path, "    parameters: {max_plot_gap_km: {values: []}}\n")
    r = runner.invoke(cli, ["catalog", "--check", "--scenario", str(path)])
    assert r.exit_code == 2
    assert "Ошибка в файле сценария" in r.stderr
    assert "s.yaml, строка 6: regimes.ip794.parameters.max_plot_gap_km.values: список не может быть пустым" in r.stderr


def test_cli_scenario_without_check_and_a_missing_file(tmp_path):
    r = runner.invoke(cli, ["catalog", "--scenario", str(DRAFT)])
    assert r.exit_code == 2 and "сценарий проверяется вместе с --check" in r.stderr
    r = runner.invoke(cli, ["catalog", "--check", "--scenario", str(tmp_path / "нет.yaml")])
    assert r.exit_code == 2 and "файл сценария не найден" in r.stderr
