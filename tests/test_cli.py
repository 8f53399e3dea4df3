"""The command line end to end: exit codes, formats, and Russian messages for bad input (never a traceback)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from compliance.cli import app
from tests.conftest import FIXTURES, raw_fixture

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def write(tmp_path: Path, data, name="app.yaml") -> Path:
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_park_whose_automatic_checks_pass_exits_3_and_prints_russian_report():
    # every automatic check passes; 794-P-11 awaits the expert: «ждёт оценки эксперта», not «соответствует»
    result = run("check", str(FIXTURES / "ip794-operating-conforming.yaml"))
    assert result.exit_code == 3, result.output
    assert "ИТОГ: ВЫПОЛНЕНЫ ВСЕ ТРЕБОВАНИЯ, ПРОВЕРЯЕМЫЕ АВТОМАТИЧЕСКИ; 1 ТРЕБОВАНИЕ ЖДЁТ ОЦЕНКИ ЭКСПЕРТА" in result.output
    assert "СООТВЕТСТВУЕТ ТРЕБОВАНИЯМ" not in result.output.split("ОТЧЁТ О СООТВЕТСТВИИ ТРЕБОВАНИЯМ")[1]
    assert "постановление Правительства Российской Федерации от 04.08.2015 № 794" in result.output


def test_park_with_gaps_exits_1_and_json_has_the_contract_fields(tmp_path):
    out = tmp_path / "report.json"
    result = run("check", str(FIXTURES / "ip794-created-gaps.yaml"), "--format", "json", "--output", str(out))
    assert result.exit_code == 1
    data = json.loads(out.read_text(encoding="utf-8"))
    for key in ("regime", "as_of", "catalog_version", "verdict", "findings", "documents"):
        assert key in data
    assert data["verdict"] == "does_not_conform"
    area = next(f for f in data["findings"] if f["requirement_id"] == "794-P-1")
    for key in ("requirement_id", "status", "clause", "norm", "fact", "shortfall", "confidence", "remedy"):
        assert key in area
    plots = raw_fixture("ip794-created-gaps")["land_plots"]
    total = sum(p["area"]["value"] * (1e-4 if p["area"]["unit"] in ("m2", "м2", "м²") else 1) for p in plots)
    assert area["fact"]["value"] == pytest.approx(total)
    assert area["shortfall"]["value"] == pytest.approx(area["norm"]["value"] - total)
    assert area["shortfall"]["text"].startswith("не хватает")


def test_markdown_format_has_a_findings_table():
    result = run("check", str(FIXTURES / "ip794-created-gaps.yaml"), "--format", "md")
    assert result.exit_code == 1
    assert "| ID | Пункт | Требование | Норматив | Факт | Статус | Что сделать |" in result.output


def test_as_of_changes_the_norms_in_force():
    path = str(FIXTURES / "ip794-created-gaps.yaml")
    later = json.loads(run("check", path, "--format", "json").output)
    early = json.loads(run("check", path, "--format", "json", "--as-of", "2019-06-01").output)
    assert early["as_of"] == "2019-06-01"
    uk2 = {r["as_of"]: next(f for f in r["findings"] if f["requirement_id"] == "794-UK-2")["status"] for r in (early, later)}
    assert uk2 == {"2019-06-01": "not_applicable", later["as_of"]: "not_met"}


@pytest.mark.parametrize("mutate, path_fragment, words", [
    (lambda d: d["land_plots"][0]["area"].__setitem__("value", -3), "land_plots[0].area.value", "отрицательным"),
    (lambda d: d["land_plots"][0]["area"].__setitem__("value", "12"), "land_plots[0].area.value", "ожидается число"),
    (lambda d: d["documents"][0].__setitem__("date", "2031-01-01"), "documents[0].date", "позже даты подачи"),
    (lambda d: d.__setitem__("regimes", ["ip999"]), "regimes[0]", "недопустимое значение"),
    (lambda d: d["management_company"].__setitem__("inn", "7707083894"), "management_company.inn", "контрольн"),
    (lambda d: d["utilities"][0].__setitem__("capacity", {"value": 5, "unit": "кВА"}), "utilities[0].capacity", "кВА"),
    (lambda d: d.__setitem__("colour", "red"), "colour", "неизвестное поле"),
])
def test_invalid_input_exits_2_with_field_path_in_russian(tmp_path, mutate, path_fragment, words):
    data = raw_fixture("ip794-operating-conforming")
    mutate(data)
    result = run("check", str(write(tmp_path, data)))
    assert result.exit_code == 2, result.output
    assert path_fragment in result.output
    assert words in result.output
    assert "Traceback" not in result.output


def test_unknown_regime_option_and_unreadable_files_exit_2(tmp_path):
    fixture = str(FIXTURES / "ip794-operating-conforming.yaml")
    assert "нет каталога требований" in run("check", fixture, "--regime", "xx").output
    assert run("check", fixture, "--regime", "xx").exit_code == 2
    assert run("check", str(tmp_path / "nope.yaml")).exit_code == 2
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"regimes": [', encoding="utf-8")
    result = run("check", str(bad_json))
    assert result.exit_code == 2 and "ошибка JSON" in result.output
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("site_name: Größe".encode("latin-1"))  # neither UTF-8 nor Windows-1251 Cyrillic
    result = run("check", str(latin1))
    assert result.exit_code == 2 and "UTF-8" in result.output
    assert run("check", fixture, "--as-of", "31.02.2025").exit_code == 2


def test_json_input_gives_the_same_findings_as_yaml(tmp_path):
    data = raw_fixture("ip794-created-gaps")
    from_yaml = json.loads(run("check", str(FIXTURES / "ip794-created-gaps.yaml"), "-f", "json").output)
    from_json = json.loads(run("check", str(write(tmp_path, data, "app.json")), "-f", "json").output)
    assert [(f["requirement_id"], f["status"]) for f in from_yaml["findings"]] == \
           [(f["requirement_id"], f["status"]) for f in from_json["findings"]]


def test_schema_regimes_and_catalog_commands():
    schema = json.loads(run("schema").output)
    assert schema["title"] == "Application" and "land_plots" in schema["properties"]
    assert "ip794" in run("regimes").output
    rows = json.loads(run("catalog", "--regime", "ip794", "--format", "json").output)
    assert len(rows) == 42 and {r["kind"] for r in rows} == {"automated", "manual", "informational", "document"}


def test_console_script_runs_without_traceback():
    exe = Path(sys.executable).parent / "compliance"
    proc = subprocess.run([str(exe), "check", str(FIXTURES / "ip794-eco-new-region.yaml")], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 3  # the special regime's requirements await the expert; nothing else is open
    assert "Особый режим" in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, words", [
    ([], None),
    (["check"], "Не указан обязательный аргумент ЗАЯВКА"),
    (["check", "x.yaml", "--bogus"], "Нет такого параметра '--bogus'"),
    (["check", "x.yaml", "--format", "odt"], "допустимо: text, json, md"),
])
def test_usage_errors_are_russian_with_exit_2(args, words):
    exe = Path(sys.executable).parent / "compliance"
    proc = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60)
    if words is None:
        assert proc.returncode == 0 and "check" in proc.stdout
        return
    assert proc.returncode == 2
    assert words in proc.stderr and "Traceback" not in proc.stderr


def test_cluster_from_excel_shows_the_fd_calculation_and_equals_the_json():
    from compliance.loading import load_application
    assert load_application(FIXTURES / "cl779-conforming.xlsx") == load_application(FIXTURES / "cl779-conforming.json")
    result = run("check", str(FIXTURES / "cl779-conforming.xlsx"))
    assert result.exit_code == 0, result.output
    assert "Расчёт функциональной зависимости (ФЗ)" in result.output and "Числитель" in result.output
    gap = run("check", str(FIXTURES / "cl779-contract-gap.json"))
    assert gap.exit_code == 1
    import json
    data = json.loads((FIXTURES / "cl779-contract-gap.json").read_text(encoding="utf-8"))
    from tests.test_engine_pitfalls import _without_contract
    (inn,) = _without_contract(data, None)
    name = next(p["name"] for p in data["cluster"]["participants"] if p["inn"] == inn)
    assert f"{name} (ИНН {inn})" in gap.output
