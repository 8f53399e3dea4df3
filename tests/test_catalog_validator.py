"""The catalog validator refuses the edits that would silently break the product."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from compliance.catalog import CatalogError, load_catalog
from compliance.catalog_check import check_catalog
from tests.conftest import ROOT


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for folder in ("decrees", "rules", "fixtures"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def edit_rules(root: Path, fn) -> None:
    path = root / "rules" / "ip794.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def problems(root: Path) -> list[str]:
    return check_catalog(load_catalog("ip794", root), root, run_cases=False)


def rule(data, rid):
    return next(r for r in data["rules"] if r["requirement"] == rid)


def test_shipped_catalog_is_valid_and_its_cases_pass():
    assert check_catalog(load_catalog("ip794"), ROOT, run_cases=False) == []  # cases run one by one in test_cases.py


def test_rule_naming_an_unknown_requirement_is_refused(tree):
    edit_rules(tree, lambda d: d["rules"].append({"requirement": "794-P-99", "severity": "minor",
                                                  "checks": [{"fact": "total_area_ha", "op": ">=", "value": 1}]}))
    assert any("неизвестное требование 794-P-99" in p for p in problems(tree))


def test_parameter_value_without_reference_or_confidence_or_date_is_refused(tree):
    def drop(key):
        def fn(d):
            del d["parameters"]["min_area_ha"]["values"][0][key]
        return fn
    for key, word in (("reference", "reference"), ("confidence", "confidence"), ("from", "from")):
        t = tree / key
        shutil.copytree(tree / "decrees", t / "decrees")
        shutil.copytree(tree / "rules", t / "rules")
        edit_rules(t, drop(key))
        with pytest.raises(CatalogError) as exc:
            load_catalog("ip794", t)
        assert word in str(exc.value) and "min_area_ha" in str(exc.value)


def test_overlapping_dated_values_are_refused(tree):
    def dup(d):
        values = d["parameters"]["min_area_ha"]["values"]
        values.append(dict(values[0], value=10))
    edit_rules(tree, dup)
    assert any("min_area_ha" in p and "перекрываются" in p for p in problems(tree))


def test_automated_requirement_without_met_and_not_met_cases_is_refused(tree):
    cases = tree / "rules" / "cases" / "ip794.yaml"
    cases.parent.mkdir(exist_ok=True)
    cases.write_text("regime: ip794\ncases: []\n", encoding="utf-8")
    found = problems(tree)
    assert any("794-P-1: нет тестового примера со статусом met" in p for p in found)
    assert any("794-P-1: нет тестового примера со статусом not_met" in p for p in found)


def test_unknown_fact_parameter_and_type_mismatch_are_refused(tree):
    def breakit(d):
        rule(d, "794-P-1")["checks"] = [{"fact": "total_area", "op": ">=", "param": "min_area_ha"}]
        rule(d, "794-P-2")["checks"] = [{"fact": "production_zone_share_pct", "op": ">=", "param": "no_such"}]
        rule(d, "794-P-9")["checks"] = [{"fact": "hard_surface_road", "op": ">=", "value": 1}]
    edit_rules(tree, breakit)
    found = problems(tree)
    assert any("неизвестный факт «total_area»" in p for p in found)
    assert any("неизвестный параметр «no_such»" in p for p in found)
    assert any("794-P-9" in p and "логический" in p for p in found)


def test_an_expert_can_change_the_area_norm_with_a_new_effective_date(tree):
    """The README's walkthrough: add a dated value; before that date the old norm, after it the new one."""
    from datetime import date
    from compliance.evaluate import evaluate
    from tests.conftest import app_from

    edit_rules(tree, lambda d: d["parameters"]["min_area_ha"]["values"].append(
        {"from": date(2026, 1, 1), "value": 50, "confidence": "T", "reference": "проверочное изменение"}))
    catalog = load_catalog("ip794", tree)
    app = app_from("ip794-operating-conforming")
    before = next(f for f in evaluate(app, "ip794", catalog=catalog).findings if f.requirement_id == "794-P-1")
    after = next(f for f in evaluate(app, "ip794", date(2026, 2, 1), catalog=catalog).findings
                 if f.requirement_id == "794-P-1")
    assert before.status == "met" and before.norm.value == 8
    assert after.status == "not_met" and after.norm.value == 50
    assert after.shortfall.value == pytest.approx(50 - after.fact.value)
    assert after.norm.effective_from == date(2026, 1, 1)


# requirements added from sources found after the digest was written (issue 16: the December 2026 sources)
ADDED_AFTER_DIGEST = {"ip794": {"794-UK-10"}}


@pytest.mark.parametrize("digest, regime", [("794", "ip794"), ("1863", "itp1863"), ("1381", "htp1381"), ("779", "cl779")])
def test_coverage_tool_counts_every_id_of_the_digest(digest, regime):
    tool = ROOT.parent / "shared" / "tools" / "catalog_coverage.py"
    if not tool.exists():
        pytest.skip("../shared/tools/catalog_coverage.py отсутствует рядом с репозиторием")
    proc = subprocess.run([sys.executable, str(tool), "--project", str(ROOT), "--regime", digest],
                          capture_output=True, text=True, timeout=60)
    encoded, total = map(int, re.search(rf"^{digest}: (\d+)/(\d+) encoded", proc.stdout, re.M).groups())
    assert encoded == total, proc.stdout
    # the catalog holds every ID of the digest, plus the requirements later sources added (never a reused ID)
    assert total + len(ADDED_AFTER_DIGEST.get(regime, ())) == len(load_catalog(regime).requirements), proc.stdout


@pytest.mark.parametrize("regime", ["ip794", "itp1863", "htp1381", "cl779"])
def test_every_shipped_catalog_is_valid(regime):
    assert check_catalog(load_catalog(regime), ROOT, run_cases=False) == []


@pytest.mark.parametrize(("rid", "text", "expected"), [
    ("794-R-1", "Укажите что-нибудь.", "только для автоматических требований"),  # informational: never lacks data
    ("794-P-1", "   ", "remedy_insufficient_data пуст"),
    ("794-P-1", "Supply the plots.", "по-русски"),
    ("794-P-1", "Укажите площадь не менее {param:min_area_ha}.", "без подстановок"),
])
def test_remedy_for_missing_data_is_checked(tree, rid, text, expected):
    edit_rules(tree, lambda d: rule(d, rid).update(remedy_insufficient_data=text))
    assert any(expected in p and rid in p for p in problems(tree)), problems(tree)


def test_remedy_for_missing_data_replaces_the_generated_advice(tree):
    """The per-rule text is what an insufficient_data finding advises; without it the advice names the fields."""
    from compliance.cases import apply_patch
    from compliance.evaluate import evaluate
    from compliance.loading import validate
    from tests.conftest import raw_fixture

    app = validate(apply_patch(raw_fixture("ip794-created-gaps"), {}, ["land_plots.0.land_category"]))
    shipped = next(f for f in evaluate(app, "ip794").findings if f.requirement_id == "794-P-5")
    assert shipped.status == "insufficient_data"
    assert shipped.remedy.startswith("Укажите категорию земель и код вида разрешённого использования")
    edit_rules(tree, lambda d: rule(d, "794-P-5").pop("remedy_insufficient_data"))
    generated = next(f for f in evaluate(app, "ip794", catalog=load_catalog("ip794", tree)).findings
                     if f.requirement_id == "794-P-5")
    assert generated.remedy == "Дополните заявку — укажите: земельные участки № 1 → категория земель."
    assert "Переведите участки" not in generated.remedy + shipped.remedy  # never the not_met advice


def test_a_repeated_key_in_a_catalog_file_is_refused_naming_it_not_last_wins(tree):
    """An expert who adds a second `value:` under one dated value (instead of a new dated value) would otherwise see
    only the last one take effect, silently."""
    path = tree / "rules" / "ip794.yaml"
    text = path.read_text(encoding="utf-8")
    assert "        value: 8\n" in text
    path.write_text(text.replace("        value: 8\n", "        value: 8\n        value: 10\n", 1), encoding="utf-8")
    line = text[:text.index("        value: 8\n")].count("\n") + 1
    with pytest.raises(CatalogError) as exc:
        load_catalog("ip794", tree)
    message = str(exc.value)
    assert f"ключ «value» повторяется: он уже был в строке {line}" in message and f"в строке {line + 1}" in message
    assert "found" not in message and "expected" not in message  # no English parser text


def test_a_case_must_say_which_requirement_it_is_for(tree):
    """The expert review document shows a case under its own requirements only: a case whose name does not begin
    with an ID and that has no `for:` list is refused, as is a `for:` naming a requirement the case does not expect."""
    path = tree / "rules" / "cases" / "ip794.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    first = data["cases"][0]
    data["cases"].append(dict(first, name="Площадь ровно 8 га"))
    data["cases"].append(dict(first, name="P-1: то же", **{"for": ["794-P-2"]}))
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    found = problems(tree)
    assert any("«Площадь ровно 8 га»: не сказано, для какого требования пример" in p for p in found), found
    assert any("«P-1: то же»: в for указано 794-P-2, но для него нет ожидания в expect" in p for p in found), found
