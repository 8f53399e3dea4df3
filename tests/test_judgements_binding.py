"""Expert judgements belong to one application version: a judgements file names the application it assesses (INN,
site, input hash); another application, another version or none is refused unless the user overrides explicitly,
and then the report says so on its first page (text, Markdown, JSON, Word, the report page). `compliance judgements
bind` stamps a reviewed file. A judgements file chooses its regime only where the catalog says it is natural.
Verdicts that contradict a computed fact (declared in rules/*.yaml) are listed in the conclusion."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from compliance.catalog import load_catalog
from compliance.catalog_check import check_catalog
from compliance.cli import app as cli
from compliance.evaluate import evaluate
from compliance.facts import derive
from compliance.fingerprint import input_hash
from compliance.judgements import JudgementsFile, application_block, bind, load_judgements
from compliance.loading import InputError, load_application
from compliance.render import render_markdown, render_text
from compliance.word import report_docx
from tests.conftest import FIXTURES, ROOT, app_from
from tests.test_word import all_text, open_docx
from webclient import web_client

runner = CliRunner()
GAPS = FIXTURES / "ip794-created-gaps.yaml"  # an industrial park: not what the GOST judgements were written for
ITP, ITP_J = FIXTURES / "itp1863-operating-occupancy-gap.yaml", FIXTURES / "gost-judgements-itp1863.yaml"
HTP, HTP_J = FIXTURES / "htp1381-operating.yaml", FIXTURES / "gost-judgements-htp1381.yaml"


def check(*args: str):
    return runner.invoke(cli, ["check", *map(str, args)])


def first_page(text: str) -> str:
    """The report's head: everything before the headline verdict."""
    return text[:text.index("ИТОГ:")]


def copy_to(tmp_path: Path, path: Path) -> Path:
    target = tmp_path / path.name
    shutil.copy(path, target)
    return target


def occupancy(app) -> float:
    return derive(app, app.filing_date, {})["occupancy_pct"].value


# --- the fixtures name their applications ---------------------------------------------------------------------------
@pytest.mark.parametrize("application, judgements", [(ITP, ITP_J), (HTP, HTP_J)])
def test_fixture_judgements_are_bound_to_the_application_they_were_written_for(application, judgements):
    app = load_application(application)
    named = load_judgements(judgements).application
    assert named is not None and named.model_dump(exclude_none=True) == application_block(app), (
        f"{judgements.name} не привязан к {application.name}: если заявка-пример изменилась, выполните "
        f"compliance judgements bind fixtures/{application.name} fixtures/{judgements.name}")


# --- refusal and override in the CLI --------------------------------------------------------------------------------
def test_another_parks_judgements_are_refused_with_what_differs():
    result = check(GAPS, "--judgements", ITP_J)
    assert result.exit_code == 2, result.output
    own, other = load_application(GAPS), load_application(ITP)
    out = " ".join(result.output.split())
    assert "Оценки эксперта вынесены по другой заявке" in out
    assert f"ИНН: в оценках — {other.management_company.inn}, в заявке — {own.management_company.inn}" in out
    assert f"площадка: в оценках — «{other.site_name}», в заявке — «{own.site_name}»" in out
    assert "compliance judgements bind" in out and "--force-judgements" in out
    # the regime is not switched silently either: GOST is not an assessment an industrial park's application implies
    assert "составлен для режима «Технопарк по ГОСТ Р 56425», а в заявке указаны режимы: «Индустриальный парк (ПП № 794)»" in out
    assert "--regime gost56425" in out  # the code only in the command the user types
    assert "ОТЧЁТ" not in result.output and "Traceback" not in result.output


def test_a_file_that_names_no_application_is_refused(tmp_path):
    data = yaml.safe_load(HTP_J.read_text("utf-8"))
    del data["application"]
    path = tmp_path / "оценки.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = check(HTP, "--regime", "gost56425", "--judgements", path)
    assert result.exit_code == 2 and "не указано, по какой заявке они вынесены" in " ".join(result.output.split())


def test_override_is_stated_on_the_first_page_of_every_format(tmp_path):
    args = [GAPS, "--regime", "gost56425", "--judgements", ITP_J, "--force-judgements"]
    text = check(*args)
    assert text.exit_code in (0, 1), text.output
    head = " ".join(first_page(text.output).split())
    assert "Внимание: Оценки эксперта вынесены по другой заявке: ИНН: в оценках — 6679125836, в заявке — 7118015332" in head
    assert "Применены по явному указанию пользователя" in head
    md = check(*args, "--format", "md")
    table = md.output[:md.output.index("## Итог")]
    assert "| Внимание | Оценки эксперта вынесены по другой заявке: ИНН" in table
    data = json.loads(check(*args, "--format", "json").output)
    assert data["judgements_mismatch"].startswith("Оценки эксперта вынесены по другой заявке: ИНН: в оценках — 6679125836")
    out = tmp_path / "заключение.docx"
    assert check(*args, "--format", "docx", "-o", out).exit_code in (0, 1)
    title_block = open_docx(out.read_bytes()).tables[0]
    rows = {r.cells[0].text: r.cells[1].text for r in title_block.rows}
    assert rows["Внимание"] == data["judgements_mismatch"]
    # without a mismatch there is nothing to state
    plain = json.loads(check(ITP, "--regime", "gost56425", "--judgements", ITP_J, "--format", "json").output)
    assert plain["judgements_mismatch"] is None


def test_a_changed_application_refuses_its_old_judgements_until_they_are_bound_again(tmp_path):
    raw = yaml.safe_load(HTP.read_text("utf-8"))
    raw["buildings"][0]["total_area"]["value"] += 100  # the next version of the same application
    application = tmp_path / HTP.name
    application.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    judgements = copy_to(tmp_path, HTP_J)
    refused = check(application, "--judgements", judgements)
    assert refused.exit_code == 2
    out = " ".join(refused.output.split())
    old, new = load_judgements(HTP_J).application.input_hash, input_hash(load_application(application))
    assert f"Оценки эксперта вынесены по другой редакции заявки: заявка изменена после оценки: оценки вынесены по " \
           f"редакции {old[:12]}, проверяется редакция {new[:12]}" in out
    forced = check(application, "--judgements", judgements, "--force-judgements")
    assert "вынесены по другой редакции заявки" in first_page(forced.output)

    bound = runner.invoke(cli, ["judgements", "bind", str(application), str(judgements)])
    assert bound.exit_code == 0, bound.output
    assert f"хеш заявки {new[:12]}" in bound.output
    # only the hash changed in the expert's file: comments, quoting and layout are kept
    before, after = HTP_J.read_text("utf-8").splitlines(), judgements.read_text("utf-8").splitlines()
    assert [(a, b) for a, b in zip(before, after) if a != b] == [(f'  input_hash: "{old}"', f'  input_hash: "{new}"')]
    assert len(before) == len(after)
    again = check(application, "--judgements", judgements)
    assert again.exit_code == 0 and "Внимание" not in first_page(again.output)


def test_bind_writes_the_application_section_into_a_file_without_one(tmp_path):
    data = json.loads(json.dumps(yaml.safe_load(ITP_J.read_text("utf-8")), default=str))
    del data["application"]
    path = tmp_path / "оценки.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(cli, ["judgements", "bind", str(ITP), str(path)])
    assert result.exit_code == 0, result.output
    written = json.loads(path.read_text("utf-8"))
    assert list(written)[:3] == ["regime", "catalog_version", "application"]
    assert written["application"] == application_block(load_application(ITP))
    assert {k: v for k, v in written.items() if k != "application"} == data
    # the contradiction in these judgements is pointed out when binding
    assert "G-TER-4" in result.output and "противоречит вычисленному факту" in result.output


def test_bind_refuses_another_site_without_force_and_judgements_the_application_does_not_accept(tmp_path):
    judgements = copy_to(tmp_path, ITP_J)
    original = judgements.read_text("utf-8")
    other = runner.invoke(cli, ["judgements", "bind", str(HTP), str(judgements)])
    assert other.exit_code == 2 and "по другой заявке" in other.output and "--force" in other.output
    assert judgements.read_text("utf-8") == original
    data = yaml.safe_load(original)
    data["judgements"].append({"requirement_id": "G-XX-9", "verdict": "met", "comment": "?"})
    judgements.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    unknown = runner.invoke(cli, ["judgements", "bind", str(ITP), str(judgements)])
    assert unknown.exit_code == 2 and "нет критерия «G-XX-9»" in unknown.output
    forced = runner.invoke(cli, ["judgements", "bind", str(HTP), str(copy_to(tmp_path, HTP_J)), "--force",
                                 "-o", str(tmp_path / "копия.yaml")])
    assert forced.exit_code == 0, forced.output
    assert load_judgements(tmp_path / "копия.yaml").application.input_hash == input_hash(load_application(HTP))


def test_library_evaluate_refuses_unbound_judgements_and_accepts_an_explicit_override():
    app = load_application(GAPS)
    jf = load_judgements(ITP_J)
    with pytest.raises(InputError) as exc:
        evaluate(app, "gost56425", judgements=jf)
    assert "по другой заявке" in str(exc.value)
    report = evaluate(app, "gost56425", judgements=bind(jf, app, override=True))
    assert report.judgements_mismatch.startswith("Оценки эксперта вынесены по другой заявке")
    assert report.judgements_by and report.assessment is not None


# --- the regime a judgements file may choose -------------------------------------------------------------------------
def test_the_file_chooses_gost_for_a_technopark_application_and_says_so():
    result = check(ITP, "--judgements", ITP_J)
    assert result.exit_code == 1, result.output
    head = " ".join(first_page(result.output).split())
    assert "Режим: Технопарки: соответствие ГОСТ Р 56425" in head
    assert "Режим «Технопарк по ГОСТ Р 56425» выбран по файлу оценок эксперта: в заявке указан режим " \
           "«Промышленный технопарк (ПП № 1863)»" in head
    assert "itp1863" in load_catalog("gost56425").decree.accompanies


def test_the_file_does_not_switch_an_industrial_parks_regime_but_a_named_regime_is_checked(tmp_path):
    judgements = copy_to(tmp_path, ITP_J)
    assert runner.invoke(cli, ["judgements", "bind", str(GAPS), str(judgements), "--force"]).exit_code == 0
    refused = check(GAPS, "--judgements", judgements)
    assert refused.exit_code == 2
    assert "указаны режимы: «Индустриальный парк (ПП № 794)»" in " ".join(refused.output.split())
    assert "--regime gost56425" in refused.output
    named = check(GAPS, "--regime", "gost56425", "--judgements", judgements)
    assert named.exit_code in (0, 1) and "выбран по файлу оценок" not in named.output
    other = check(GAPS, "--regime", "ip794", "--judgements", judgements)
    assert other.exit_code == 2 and "составлен для режима «Технопарк по ГОСТ Р 56425», а проверяется «Индустриальный парк (ПП № 794)»" in other.output


# --- verdicts contradicting a computed fact ---------------------------------------------------------------------------
def test_a_verdict_contradicting_the_computed_occupancy_is_listed_in_every_format(tmp_path):
    app = load_application(ITP)
    share = occupancy(app)
    assert share < 100  # the free areas the expert says there are none of
    report = evaluate(app, "gost56425", judgements=load_judgements(ITP_J))
    (c,) = report.judgement_contradictions
    assert (c.requirement_id, c.verdict, c.fact, c.value) == ("G-TER-4", "not_met", "occupancy_pct", share)
    assert c.condition == "менее 100 %" and c.value_text == "41,28 %"
    assert c.text.startswith("G-TER-4 Резерв территории или площадей для развития (рекомендация): оценка эксперта "
                             "«не выполнено» противоречит вычисленному факту «Заполняемость: доля площади для "
                             "резидентов, сданной резидентам» — 41,28 % (менее 100 %)")
    # the judgement itself stays as the expert made it: flagged, not overruled
    assert next(f for f in report.findings if f.requirement_id == "G-TER-4").status == "not_met"
    text = render_text(report)
    section = text[text.index("ОЦЕНКИ ЭКСПЕРТА, ПРОТИВОРЕЧАЩИЕ ВЫЧИСЛЕННЫМ ФАКТАМ"):]
    assert section.index(c.text) < section.index("Критичные критерии")  # in the conclusion, before the details
    assert f"- ⚠ {c.text}" in render_markdown(report)
    data = json.loads(check(ITP, "--judgements", ITP_J, "--format", "json").output)
    assert [x["requirement_id"] for x in data["judgement_contradictions"]] == ["G-TER-4"]
    assert data["judgement_contradictions"][0]["value"] == share
    word = all_text(open_docx(report_docx([report])))
    assert "Оценки эксперта, противоречащие вычисленным фактам" in word and c.text in word


def test_no_contradiction_when_the_fact_agrees_with_the_verdict():
    raw = yaml.safe_load(ITP.read_text("utf-8"))
    for b in raw["buildings"]:  # every area for residents let: no free areas, as the expert says
        breakdown = b.get("useful_area_breakdown") or {}
        b["leased_to_residents"] = {"value": sum(breakdown.get(k, {}).get("value", 0) for k in
                                                 ("resident_production", "resident_laboratory", "resident_rnd")),
                                    "unit": "m2"}
    app = app_from("itp1863-operating-occupancy-gap", {f"buildings.{i}": b for i, b in enumerate(raw["buildings"])})
    assert occupancy(app) == 100
    jf = JudgementsFile.model_validate(yaml.safe_load(ITP_J.read_text("utf-8")) | {"application": application_block(app)})
    assert evaluate(app, "gost56425", judgements=jf).judgement_contradictions == []


def test_a_consistency_check_is_data_the_catalog_validator_checks(tmp_path):
    for folder in ("decrees", "rules", "fixtures"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    path = tmp_path / "rules" / "gost56425.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    rules = {r["requirement"]: r for r in data["rules"]}
    rules["G-TER-4"]["consistency"] = []  # the expert removes the check: the contradiction is no longer flagged
    rules["G-TER-2"]["consistency"] = [{"verdict": "met", "fact": "nonexistent_fact", "op": "==", "value": 0,
                                         "reason": "—"}]
    rules["G-UK-3"]["consistency"] = [{"verdict": "met", "fact": "residents_count", "op": "==", "value": "ноль",
                                       "reason": "резидентов нет"}]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    problems = check_catalog(load_catalog("gost56425", tmp_path), tmp_path, run_cases=False)
    assert any("G-TER-2 (consistency[0])" in p and "только для ручного критерия" in p for p in problems)
    assert any("G-TER-2 (consistency[0]): неизвестный факт «nonexistent_fact»" in p for p in problems)
    assert any("G-UK-3 (consistency[0])" in p and "residents_count" in p and "число" in p for p in problems)
    rules["G-TER-2"].pop("consistency")
    rules["G-UK-3"].pop("consistency")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    edited = load_catalog("gost56425", tmp_path)
    assert check_catalog(edited, tmp_path, run_cases=False) == []
    report = evaluate(load_application(ITP), "gost56425", catalog=edited, judgements=load_judgements(ITP_J))
    assert report.judgement_contradictions == []


def test_every_declared_consistency_check_fires_on_its_verdict_and_fact():
    """Each consistency check of every catalog flags its verdict when the fact meets the condition (the fixture's
    facts set to make it hold), so a declaration that can never fire is caught here."""
    from compliance.catalog import available_regimes
    from compliance.judgements import contradictions
    from compliance.report import Finding, JudgementRecord

    seen = 0
    for code in available_regimes():
        catalog = load_catalog(code)
        for rid, rule in catalog.rules.items():
            for c in rule.consistency:
                seen += 1
                norm = c.value if c.param is None else catalog.params_at(load_application(ITP).filing_date)[c.param].value
                holding = {"<": norm - 1, "<=": norm, ">": norm + 1, ">=": norm, "==": norm, "!=": norm + 1}[c.op]
                fact = type("F", (), {"value": holding, "unit": None, "label": c.fact})()
                finding = Finding.model_construct(requirement_id=rid, title=rid, judgement=JudgementRecord(
                    verdict=c.verdict, comment="—", catalog_version="x"))
                found = contradictions([finding], catalog, {c.fact: fact}, load_application(ITP).filing_date)
                assert [x.requirement_id for x in found] == [rid], (code, rid)
                other = {"met": "not_met", "not_met": "met", "not_applicable": "met"}[c.verdict]
                finding.judgement.verdict = other
                assert contradictions([finding], catalog, {c.fact: fact}, load_application(ITP).filing_date) == []
    assert seen >= 9


# --- the service and the pages ----------------------------------------------------------------------------------------
def api(web, method: str, url: str, **kw):
    return web.client.request(method, "/api/v1" + url, headers={"Authorization": f"Bearer {web.token}"}, **kw)


def as_json(path: Path) -> dict:
    return json.loads(json.dumps(yaml.safe_load(path.read_text("utf-8")), default=str, ensure_ascii=False))


def test_the_service_stores_the_same_input_hash_the_cli_computes(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload(ITP.name)
    stored = api(web, "GET", f"/applications/{app_id}").json()
    assert stored["input_hash"] == input_hash(load_application(ITP)) == load_judgements(ITP_J).application.input_hash


def test_api_refuses_another_applications_judgements_and_states_an_override(tmp_path):
    web = web_client(tmp_path)
    gaps_id = web.upload(GAPS.name)
    jf = as_json(ITP_J)
    refused = api(web, "POST", f"/applications/{gaps_id}/checks", json={"regime": "gost56425", "judgements": jf})
    assert refused.status_code == 422
    (problem,) = refused.json()["problems"]
    assert problem["path"] == "judgements.application"
    assert "вынесены по другой заявке" in problem["message"] and "«judgements_override»: true" in problem["message"]
    assert api(web, "GET", f"/applications/{gaps_id}/checks").json() == []  # nothing stored

    forced = api(web, "POST", f"/applications/{gaps_id}/checks",
                 json={"regime": "gost56425", "judgements": jf, "judgements_override": True})
    assert forced.status_code == 201, forced.text
    statement = forced.json()["reports"][0]["judgements_mismatch"]
    assert statement.startswith("Оценки эксперта вынесены по другой заявке: ИНН: в оценках — 6679125836")
    check_id = forced.json()["id"]
    page = web.client.get(f"/checks/{check_id}").text
    assert 'id="judgements-mismatch"' in page and statement in page.replace("&#34;", '"')
    # a replay reproduces the check as it was accepted, statement included
    replay = api(web, "POST", f"/checks/{check_id}/replay")
    assert replay.status_code == 200 and replay.json()["same"] is True
    again = api(web, "GET", f"/checks/{replay.json()['after']}").json()
    assert again["reports"][0]["judgements_mismatch"] == statement


def test_api_refuses_judgements_of_an_earlier_version(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload(ITP.name)
    jf = as_json(ITP_J)
    assert api(web, "POST", f"/applications/{app_id}/checks",
               json={"regime": "gost56425", "judgements": jf}).status_code == 201
    body = api(web, "GET", f"/applications/{app_id}").json()["body"]
    body["buildings"][0]["total_area"]["value"] += 10
    assert api(web, "PUT", f"/applications/{app_id}", json=body).status_code == 200
    r = api(web, "POST", f"/applications/{app_id}/checks", json={"regime": "gost56425", "judgements": jf})
    assert r.status_code == 422 and "по другой редакции заявки" in r.json()["problems"][0]["message"]
    old = api(web, "POST", f"/applications/{app_id}/checks",
              json={"regime": "gost56425", "judgements": jf, "version": 1})
    assert old.status_code == 201 and old.json()["reports"][0]["judgements_mismatch"] is None


def test_assessment_page_asks_to_confirm_judgements_made_for_another_application(tmp_path):
    from tests.test_web_assessment import error_next_to, form_fields

    web = web_client(tmp_path)
    gaps_id = web.upload(GAPS.name)
    r = api(web, "POST", f"/applications/{gaps_id}/checks",
            json={"regime": "gost56425", "judgements": as_json(ITP_J), "judgements_override": True})
    check_id = r.json()["id"]
    page = web.client.get(f"/checks/{check_id}/assessment").text
    assert "Оценки вынесены не по этой заявке" in page and "вынесены по другой заявке" in page
    assert 'id="judgements-mismatch"' in page
    fields = form_fields(page)
    assert "confirm_application" not in dict(fields)  # unticked
    before = len(api(web, "GET", f"/applications/{gaps_id}/checks").json())
    refused = web.post(f"/checks/{check_id}/assessment", fields)
    assert refused.status_code == 422
    assert "Пересмотрите оценки и отметьте" in error_next_to(refused.text, "confirm_application")
    assert len(api(web, "GET", f"/applications/{gaps_id}/checks").json()) == before
    saved = web.post(f"/checks/{check_id}/assessment", fields + [("confirm_application", "yes")])
    assert saved.status_code == 303, saved.text[:2000]
    new_id = saved.headers["location"].split("/")[2]
    new = api(web, "GET", f"/checks/{new_id}").json()
    own = application_block(load_application(GAPS), application_id=gaps_id, version=1)
    assert new["judgements"]["application"] == own and new["reports"][0]["judgements_mismatch"] is None
    downloaded = web.client.get(f"/checks/{new_id}/judgements.json").json()
    assert downloaded["application"] == own  # the file for `compliance check --judgements` names the version


def test_report_page_lists_contradictions(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload(ITP.name)
    r = api(web, "POST", f"/applications/{app_id}/checks", json={"regime": "gost56425", "judgements": as_json(ITP_J)})
    (c,) = r.json()["reports"][0]["judgement_contradictions"]
    for url in (f"/checks/{r.json()['id']}", f"/checks/{r.json()['id']}/assessment"):
        page = web.client.get(url).text
        block = page[page.index('id="contradictions"'):]
        assert "Оценки эксперта, противоречащие вычисленным фактам" in block
        assert 'data-requirement="G-TER-4"' in block and c["value_text"] in block
