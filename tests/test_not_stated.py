"""«Не указано» is not «нет» (issue 13, §1): a fact whose inputs are not stated lacks data and names them in Russian;
only an explicit statement of absence fails. Checked on the facts, the command line, the API, the pages and Word."""
from __future__ import annotations

import io
import json
import re
from datetime import date

import pytest
import yaml
from typer.testing import CliRunner

from compliance.cli import app as cli_app
from compliance.catalog import available_regimes, load_catalog
from compliance.evaluate import engine_facts, evaluate
from compliance.facts import context, derive
from compliance.loading import InputError, validate
from compliance.models import Application
from tests.conftest import FIXTURES, app_from, finding, raw_fixture
from tests.docxtext import body_text

runner = CliRunner()
KEY = re.compile(r"\b[a-z_]+(\[[^\]]*\])?\.[a-z_]+\b")  # an internal field path such as utilities.gas


def _write(tmp_path, data) -> str:
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def _without(kinds: set[str], name: str = "ip794-created-gaps") -> dict:
    data = raw_fixture(name)
    data["utilities"] = [u for u in data["utilities"] if u["kind"] not in kinds]
    return data


def _fact(data: dict, name: str, as_of: date | None = None):
    app = validate(data)
    return derive(app, as_of or app.filing_date)[name]


# --- facts -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("gas", "heat", "value", "missing"), [
    ("technical_conditions", None, True, []),  # one of the group secured: met whatever the other
    ("absent", "absent", False, []),  # every kind stated, none secured
    ("absent", None, None, ["utilities.heat"]),  # heat not stated: unknown
    (None, None, None, ["utilities.gas", "utilities.heat"]),
    ("not_stated", "absent", None, ["utilities.gas"]),  # a «не указано» row is the same as no row
])
def test_gas_or_heat_group(gas, heat, value, missing):
    data = _without({"gas", "heat"})
    data["utilities"] += [{"kind": k, "status": s} for k, s in (("gas", gas), ("heat", heat)) if s]
    fact = _fact(data, "gas_or_heat_secured")
    assert (fact.value, fact.missing) == (value, missing)
    if value is False:
        assert fact.gaps == ["ни газоснабжение, ни теплоснабжение не обеспечено: газоснабжение — нет и не планируется; "
                             "теплоснабжение — нет и не планируется"]


def test_core_utilities_fail_on_an_explicit_gap_even_with_another_unknown():
    data = _without({"electricity", "heat"}, "itp1863-created-agrobiotech")  # heat and electricity not stated …
    data["utilities"] = [u if u["kind"] != "sewage" else {"kind": "sewage", "status": "absent"} for u in data["utilities"]]
    fact = _fact(data, "core_utilities_secured")
    assert fact.value is False and fact.gaps == ["водоотведение не обеспечено: нет и не планируется"]
    del data["utilities"][[u["kind"] for u in data["utilities"]].index("sewage")]  # … and sewage not stated either
    fact = _fact(data, "core_utilities_secured")
    assert fact.value is None and fact.missing == ["utilities.electricity", "utilities.heat", "utilities.sewage"]


def test_expired_conditions_are_stated_and_fail():
    data = raw_fixture("ip794-created-gaps")
    data["utilities"][1]["valid_until"] = date(2025, 6, 1)  # gas TU expired the day before filing
    data["utilities"].append({"kind": "heat", "status": "absent"})
    fact = _fact(data, "gas_or_heat_secured")
    assert fact.value is False and "газоснабжение — срок действия ТУ истёк 01.06.2025" in fact.gaps[0]


def test_power_is_missing_not_zero_when_electricity_is_not_stated():
    fact = _fact(_without({"electricity"}), "power_mw_per_ha_secured")
    assert fact.value is None and fact.missing == ["utilities.electricity"] and fact.details == []
    data = _without({"electricity"})
    data["utilities"].append({"kind": "electricity", "status": "absent"})
    fact = _fact(data, "power_mw_per_ha_secured")
    assert fact.value == 0 and "электроснабжение: нет и не планируется" in fact.details


@pytest.mark.parametrize(("field", "fact_name"), [
    ("residents", "residents_count"), ("residents", "uk_is_resident"), ("service_objects", "admin_service_objects_count"),
    ("infrastructure_users", "infrastructure_users_count"), ("partnerships", "research_partnerships_count"),
    ("tech_infrastructure", "has_business_incubator"),
])
def test_a_list_not_stated_gives_no_value_and_an_empty_list_does(field, fact_name):
    data = raw_fixture("htp1381-operating")
    data.pop(field, None)
    assert _fact(data, fact_name).missing == [field]
    data[field] = []
    assert _fact(data, fact_name).value in (0, False)


def test_context_leaves_out_what_is_not_stated():
    app = app_from("ip794-created-gaps", delete=["residents"])
    ctx = context(app, app.filing_date, {})
    assert ctx["has_residents"] is None
    ctx_fact = engine_facts({}, ctx, [])[0]
    assert "has_residents" not in ctx_fact and ctx_fact["category"] == "created"
    assert context(app_from("ip794-created-gaps", {"residents": []}), app.filing_date, {})["has_residents"] is False


def test_eco_residents_are_a_range_while_flags_are_not_stated():
    app = app_from("ip794-operating-conforming", {"subtype": "eco", "residents.0.waste_processing": None,
                                                   "residents.1.waste_processing": True})
    fact = derive(app, app.filing_date)["eco_activity_count"]
    assert (fact.value, fact.upper, fact.unknown) == (1, 2, ["residents[0].waste_processing"])
    assert finding(evaluate(app, "ip794"), "794-P-13").status == "met"  # one known suffices for «не менее 1»


# --- the model ------------------------------------------------------------------------------------------------------
def test_capacity_on_an_absent_utility_is_refused_in_russian(tmp_path):
    data = raw_fixture("ip794-created-gaps")
    data["utilities"][3]["capacity"] = {"value": 10, "unit": "m3/day"}
    result = runner.invoke(cli_app, ["check", _write(tmp_path, data)])
    assert result.exit_code == 2
    assert "для статуса «нет и не планируется» мощность не указывается" in result.output


def test_website_and_no_website_together_is_refused():
    data = raw_fixture("ip794-created-gaps")
    data["management_company"]["website"] = "https://upa.ru"
    with pytest.raises(InputError) as exc:
        validate(data)
    assert "указан адрес сайта" in str(exc.value) and "отмечено, что сайта нет" in str(exc.value)


def test_schema_describes_not_stated_and_none():
    result = runner.invoke(cli_app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    props = schema["properties"]
    for name in ("residents", "partnerships", "service_objects", "tech_infrastructure", "infrastructure_users"):
        assert "«не указано»" in props[name]["description"] and "[] — явное «нет»" in props[name]["description"]
    assert "документа, которого нет в списке, нет в заявке" in props["documents"]["description"]
    assert "«нет и не планируется»" in props["utilities"]["description"]
    status = schema["$defs"]["Utility"]["properties"]["status"]
    assert {"absent", "not_stated"} <= set(status["enum"]) and "absent — нет и не планируется" in status["description"]


# --- command line -------------------------------------------------------------------------------------------------
def test_cli_without_gas_lacks_data_for_p7_and_advises_to_supply_it(tmp_path):
    path = _write(tmp_path, _without({"gas"}))
    out = tmp_path / "r.json"
    result = runner.invoke(cli_app, ["check", path, "--format", "json", "-o", str(out)])
    assert result.exit_code == 1, result.output
    f = next(x for x in json.loads(out.read_text("utf-8"))["findings"] if x["requirement_id"] == "794-P-7")
    assert f["status"] == "insufficient_data"
    assert f["missing_inputs"] == ["utilities.gas", "utilities.heat"]  # the keys stay in the JSON, as data
    assert f["explanation"] == ("Недостаточно данных: не указано — инженерная инфраструктура → газоснабжение; "
                                "инженерная инфраструктура → теплоснабжение.")
    assert f["remedy"].startswith("Дополните заявку — укажите: инженерная инфраструктура → газоснабжение")
    assert "Получите ТУ" not in f["remedy"]  # never the not_met advice
    text = runner.invoke(cli_app, ["check", path]).output
    block = text[text.index("[?] 794-P-7"):text.index("794-P-8", text.index("[?] 794-P-7"))]
    assert "не указано — инженерная инфраструктура → газоснабжение" in block and "Что сделать: Дополните заявку" in block
    assert not KEY.search(block), block


def test_cli_without_electricity_shows_no_computed_figure(tmp_path):
    text = runner.invoke(cli_app, ["check", _write(tmp_path, _without({"electricity"}))]).output
    assert "794-P-6 Электроснабжение — недостаточно данных" in text
    assert "0 МВт/га" not in text and "0 МВт" not in text
    calc = text[text.index("РАСЧЁТЫ"):text.index("ДОКУМЕНТЫ ДЛЯ ЗАЯВКИ")]
    assert "Электрическая мощность на 1 га (ТУ, договоры, подключения): нет данных" in calc
    assert "нет данных: инженерная инфраструктура → электроснабжение" in calc and "utilities" not in calc


def test_cli_explicitly_absent_sewage_fails_p8_naming_the_part():
    out = runner.invoke(cli_app, ["check", str(FIXTURES / "ip794-created-gaps.yaml"), "--format", "json"]).output
    f = next(x for x in json.loads(out)["findings"] if x["requirement_id"] == "794-P-8")
    assert f["status"] == "not_met"
    assert f["shortfall"]["text"] == "водоотведение не обеспечено: нет и не планируется"
    assert "водоотведение не обеспечено" in f["explanation"]
    text = runner.invoke(cli_app, ["check", str(FIXTURES / "ip794-created-gaps.yaml")]).output
    assert "✗ 794-P-8 Водоснабжение и водоотведение — водоотведение не обеспечено: нет и не планируется" in text


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.yaml") if "judgements" not in p.name)
                         + sorted(p.name for p in FIXTURES.glob("cl779-*.json")))
def test_no_internal_key_reaches_a_reader(name):
    """With every optional list removed, no explanation, remedy, gap or calculation shows a field key."""
    path = FIXTURES / name
    data = yaml.safe_load(path.read_text("utf-8")) if path.suffix == ".yaml" else json.loads(path.read_text("utf-8"))
    for key in ("residents", "service_objects", "tech_infrastructure", "partnerships", "infrastructure_users"):
        data.pop(key, None)
    data["utilities"] = data.get("utilities", [])[1:]
    for key in ("contracts", "purchases", "programme"):
        (data.get("cluster") or {}).pop(key, None)
    app = validate(data)
    lacking = 0
    for regime in app.regimes:
        report = evaluate(app, regime)
        not_met_advice = {r.requirement: r.remedy for r in load_catalog(regime).rulebook.rules}
        for f in report.findings:
            shown = " ".join(filter(None, [f.explanation, f.remedy, f.shortfall.text if f.shortfall else ""]))
            if f.status == "insufficient_data":
                lacking += 1
                assert f.remedy and f.remedy != not_met_advice[f.requirement_id], f.requirement_id
            for key in f.missing_inputs:
                assert key.partition(" (")[0] not in shown, (f.requirement_id, key, shown)
        for c in report.calculations:
            labels = " ".join(c.missing_labels)
            assert not any(m.partition(" (")[0] in labels for m in c.missing), (c.title, labels)
    assert lacking, name


def test_every_regime_has_cases_for_not_stated_and_for_none():
    """rules/cases/*.yaml: each regime shows a not-stated input lacking data next to an explicit «нет» failing."""
    for regime in available_regimes():
        cases = yaml.safe_load((FIXTURES.parent / "rules" / "cases" / f"{regime}.yaml").read_text("utf-8"))["cases"]
        statuses = {s for c in cases for s in c["expect"].values()}
        unknown = [c for c in cases if "insufficient_data" in c["expect"].values()
                   and ("ничего" in c["name"] or "не указан" in c["name"])]
        assert unknown and "not_met" in statuses, regime


# --- API and pages ----------------------------------------------------------------------------------------------
def test_api_finding_and_report_page_without_gas(tmp_path):
    from webclient import web_client

    web = web_client(tmp_path)
    auth = {"Authorization": f"Bearer {web.token}"}
    body = json.loads(json.dumps(_without({"gas"}), default=str, ensure_ascii=False))
    r = web.client.post("/api/v1/applications", json=body, headers=auth)
    assert r.status_code == 201, r.text
    app_id = r.json()["id"]
    r = web.client.post(f"/api/v1/applications/{app_id}/checks", json={"regime": "ip794"}, headers=auth)
    assert r.status_code in (200, 201), r.text
    (report,) = r.json()["reports"]
    f = next(x for x in report["findings"] if x["requirement_id"] == "794-P-7")
    assert f["status"] == "insufficient_data" and f["missing_inputs"] == ["utilities.gas", "utilities.heat"]
    assert "инженерная инфраструктура → газоснабжение" in f["remedy"] and "utilities" not in f["remedy"]
    page = web.client.get(f"/checks/{r.json()['id']}").text
    article = page[page.index('id="f-794-P-7"'):page.index("</article>", page.index('id="f-794-P-7"'))]
    assert "Не заполнены поля:</strong> инженерная инфраструктура → газоснабжение; " \
           "инженерная инфраструктура → теплоснабжение" in article
    assert "<dt>Что сделать</dt><dd>Дополните заявку — укажите: инженерная инфраструктура → газоснабжение" in article
    assert "utilities.gas" not in article
    sewage = page[page.index('id="f-794-P-8"'):page.index("</article>", page.index('id="f-794-P-8"'))]
    assert '<dd class="gap">водоотведение не обеспечено: нет и не планируется</dd>' in sewage


def test_calculations_page_and_word_say_no_data_with_labels(tmp_path):
    from webclient import web_client
    import docx

    web = web_client(tmp_path)
    auth = {"Authorization": f"Bearer {web.token}"}
    body = json.loads(json.dumps(_without({"electricity"}), default=str, ensure_ascii=False))
    app_id = web.client.post("/api/v1/applications", json=body, headers=auth).json()["id"]
    check_id = web.client.post(f"/api/v1/applications/{app_id}/checks", json={}, headers=auth).json()["id"]
    page = web.client.get(f"/checks/{check_id}").text
    calc = page[page.index('id="calculations"'):]
    calc = calc[:calc.index("</section>")]
    assert "Электрическая мощность на 1 га (ТУ, договоры, подключения): <span class=\"result\">нет данных</span>" in calc
    assert "<li>инженерная инфраструктура → электроснабжение</li>" in calc and "МВт/га</span>" not in calc
    data = web.client.get(f"/checks/{check_id}/report.docx").content
    text = body_text(docx.Document(io.BytesIO(data)))
    assert "нет данных: инженерная инфраструктура → электроснабжение" in text and "utilities.electricity" not in text


def test_model_round_trips_none_and_not_stated():
    data = raw_fixture("ip794-created-gaps")
    app = validate(data)
    dumped = app.model_dump(mode="json")
    assert dumped["service_objects"] == [] and dumped["tech_infrastructure"] is None
    assert Application.model_validate(dumped) == app
