"""GOST R 56425 assessment: judgements, waivers (with expiry), validation of the judgements file, block scores and
the conclusion."""
from __future__ import annotations

import copy
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from compliance.catalog import load_catalog
from compliance.cli import app as cli
from compliance.evaluate import evaluate
from compliance.judgements import JudgementsFile, load_judgements
from compliance.loading import InputError
from tests.conftest import FIXTURES, ROOT, app_from, finding

runner = CliRunner()
HTP, HTP_J = "htp1381-operating", FIXTURES / "gost-judgements-htp1381.yaml"
ITP, ITP_J = "itp1863-operating-occupancy-gap", FIXTURES / "gost-judgements-itp1863.yaml"


def raw_judgements(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def judged(app_name: str, data: dict, as_of: date | None = None, catalog=None):
    return evaluate(app_from(app_name), "gost56425", as_of, catalog=catalog,
                    judgements=JudgementsFile.model_validate(data))


def test_high_tech_technopark_conforms_with_remarks():
    data = raw_judgements(HTP_J)
    report = judged(HTP, data)
    assert report.assessment.conclusion == "conforms_with_remarks"
    assert report.assessment.conclusion_text == "соответствует с замечаниями"
    waived = finding(report, "G-DOC-1")
    assert waived.status == "waived" and waived.waiver.active
    assert waived.waiver.justification.startswith("Концепция технопарка изложена")
    for j in data["judgements"]:
        f = finding(report, j["requirement_id"])
        assert f.status == j["verdict"] and f.judgement.comment == j["comment"].strip()
    assert any("G-INF-3" in r for r in report.assessment.remarks)
    assert any("G-DOC-1" in r and "отклонение принято" in r for r in report.assessment.remarks)


def test_industrial_technopark_does_not_conform_and_its_expired_waiver_does_not_apply():
    data = raw_judgements(ITP_J)
    app = app_from(ITP)
    assert date.fromisoformat(str(data["waivers"][0]["expires"])) < app.filing_date
    report = judged(ITP, data)
    assert report.assessment.conclusion == "does_not_conform"
    f = finding(report, "G-DOC-3")
    assert f.status == "not_met" and f.waiver is not None and not f.waiver.active
    assert any("истекло" in n for n in report.notes)
    assert any(g.startswith("G-UK-1") for g in report.assessment.gaps)


def test_waiver_applies_up_to_and_including_its_expiry_date():
    data = raw_judgements(ITP_J)
    expires = app_from(ITP).filing_date
    data["waivers"][0]["expires"] = expires
    assert finding(judged(ITP, data, expires), "G-DOC-3").status == "waived"
    assert finding(judged(ITP, data, expires + timedelta(days=1)), "G-DOC-3").status == "not_met"


def test_scores_are_the_share_of_applicable_mandatory_criteria_met():
    report = judged(HTP, raw_judgements(HTP_J))
    spec = load_catalog("gost56425").decree.assessment
    a = report.assessment
    for score in a.blocks + [a.overall]:
        items = [f for f in report.findings if not score.block or f.block == score.block]
        mandatory = [f for f in items if f.severity in spec.mandatory and f.status != "not_applicable"]
        met = sum(f.status == "met" for f in mandatory)
        assert (score.mandatory_applicable, score.mandatory_met) == (len(mandatory), met)
        assert score.share_pct == pytest.approx(round(100 * met / len(mandatory), 2))
        assert score.mandatory_waived == sum(f.status == "waived" for f in mandatory)
        recommended = [f for f in items if f.severity in spec.recommended]
        assert score.recommended_met == sum(f.status == "met" for f in recommended)
    assert sum(b.mandatory_applicable for b in a.blocks) == a.overall.mandatory_applicable


def test_without_judgements_the_assessment_is_not_finished_when_mandatory_criteria_await_an_assessor():
    data = raw_judgements(HTP_J)
    data["waivers"] = []
    data["judgements"] = [j for j in data["judgements"] if j["requirement_id"] != "G-UK-1"]
    report = judged(HTP, data)
    assert finding(report, "G-UK-1").status == "manual_review"
    assert finding(report, "G-DOC-1").status == "not_met"
    assert report.assessment.conclusion == "does_not_conform"  # a mandatory gap outweighs a pending criterion
    data["judgements"].append({"requirement_id": "G-UK-1", "verdict": "met", "comment": "штат укомплектован"})
    data["waivers"] = raw_judgements(HTP_J)["waivers"]
    assert judged(HTP, data).assessment.conclusion == "conforms_with_remarks"
    data["judgements"] = [j for j in data["judgements"] if j["requirement_id"] != "G-UK-1"]
    assert judged(HTP, data).assessment.conclusion == "incomplete"


@pytest.mark.parametrize("change, path, words", [
    (lambda d: d["judgements"].append({"requirement_id": "G-XX-9", "verdict": "met", "comment": "?"}),
     "judgements:judgements[5].requirement_id", "нет критерия «G-XX-9»"),
    (lambda d: d["judgements"].append(dict(d["judgements"][0])), "judgements:judgements[5].requirement_id", "уже есть оценка"),
    (lambda d: d["judgements"].append({"requirement_id": "G-TER-2", "verdict": "not_met", "comment": "мало"}),
     "judgements:judgements[5].verdict", "проверяется автоматически"),
    (lambda d: d.__setitem__("regime", "itp1863"), "--judgements", "составлен для режима «Промышленный технопарк (ПП № 1863)», а проверяется «Технопарк по ГОСТ Р 56425»"),
    (lambda d: d["judgements"].append({"requirement_id": "G-UK-1", "verdict": "maybe", "comment": "?"}),
     "judgements:judgements[5].verdict", "недопустимое значение «maybe»"),
])
def test_invalid_judgements_are_refused_with_the_field_in_russian(tmp_path, change, path, words):
    data = raw_judgements(HTP_J)
    change(data)
    file = tmp_path / "j.yaml"
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(cli, ["check", str(FIXTURES / f"{HTP}.yaml"), "--regime", "gost56425", "--judgements", str(file)])
    assert result.exit_code == 2, result.output
    assert path in result.output and words in result.output


def test_a_judgement_confirming_a_computed_verdict_is_accepted():
    data = raw_judgements(HTP_J)
    data["judgements"].append({"requirement_id": "G-TER-2", "verdict": "met", "comment": "сверено с выписками ЕГРН"})
    f = finding(judged(HTP, data), "G-TER-2")
    assert f.status == "met" and f.judgement.confirms_computed


def test_judgements_under_another_catalog_version_are_flagged():
    data = raw_judgements(HTP_J)
    data["catalog_version"] = "2025.01.1"
    report = judged(HTP, data)
    assert all(f.judgement.outdated for f in report.findings if f.judgement)
    assert any("2025.01.1" in n for n in report.notes)


def test_an_expert_changes_a_criterion_norm_in_data_and_the_conclusion_changes(tmp_path):
    for folder in ("decrees", "rules", "fixtures"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    path = tmp_path / "rules" / "gost56425.yaml"
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))
    values = rules["parameters"]["min_buildings_area_m2"]["values"]
    values.append(dict(copy.deepcopy(values[-1]), value=30000, **{"from": date(2025, 1, 1)}, confidence="T",
                       reference="проверочная правка эксперта"))
    path.write_text(yaml.safe_dump(rules, allow_unicode=True, sort_keys=False), encoding="utf-8")
    edited = load_catalog("gost56425", tmp_path)
    data = raw_judgements(HTP_J)
    before, after = judged(HTP, data), judged(HTP, data, catalog=edited)
    assert before.assessment.conclusion == "conforms_with_remarks"
    assert finding(after, "G-TER-2").status == "not_met" and finding(after, "G-TER-2").norm.value == 30000
    assert after.assessment.conclusion == "does_not_conform"


def test_cli_prints_block_scores_and_conclusion_and_the_matrix_shows_it():
    args = ["check", str(FIXTURES / f"{HTP}.yaml"), "--regime", "gost56425", "--judgements", str(HTP_J)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "ИТОГ: СООТВЕТСТВУЕТ С ЗАМЕЧАНИЯМИ (заключение оценки)" in result.output
    assert "ОЦЕНКА ПО БЛОКАМ" in result.output and "Итого: обязательные: выполнено" in result.output
    matrix = runner.invoke(cli, ["check", str(FIXTURES / f"{HTP}.yaml"), "--regime", "all", "--judgements", str(HTP_J)])
    assert "соответствует с замечаниями (оценка)" in matrix.output
    assert load_judgements(HTP_J).regime == "gost56425"
    with pytest.raises(InputError):
        load_judgements(FIXTURES / "absent.yaml")


def test_the_judgements_file_selects_its_regime_when_none_is_given():
    result = runner.invoke(cli, ["check", str(FIXTURES / f"{HTP}.yaml"), "--judgements", str(HTP_J)])
    assert result.exit_code == 0, result.output
    assert "ИТОГ: СООТВЕТСТВУЕТ С ЗАМЕЧАНИЯМИ (заключение оценки)" in result.output
