"""The assessor's page (GOST R 56425): judgements, waivers and the assessor entered in the browser are saved as a new
check whose block scores and conclusion equal a direct evaluation with the same judgements file; refused judgements
come back next to their criterion; prefill, the judgements file download, scoping and CSRF."""
from __future__ import annotations

import html
import json
import re
import typing
from datetime import date, timedelta

import pytest
import yaml

from api.web.assessment import OPEN, VERDICTS, compose_evidence, split_evidence
from api.web.common import number
from compliance.catalog import load_catalog
from compliance.evaluate import evaluate
from compliance.judgements import JudgementsFile, apply, load_judgements
from compliance.loading import InputError, validate
from compliance.report import Status
from compliance.storage import StoredCheck
from webclient import FIXTURES, second_org, web_client

JUDGEMENTS = FIXTURES / "gost-judgements-htp1381.yaml"
APPLICATION = "htp1381-operating.yaml"  # the application the judgements file is written for (see its header)
REGIME = "gost56425"


def fixture_judgements() -> dict:
    return yaml.safe_load(JUDGEMENTS.read_text("utf-8"))


def as_json(data: dict) -> dict:
    """The judgements file as JSON (dates as ISO strings), the form the service stores."""
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def expected_report(data: dict):
    app = validate(yaml.safe_load((FIXTURES / APPLICATION).read_text("utf-8")))
    return evaluate(app, REGIME, judgements=JudgementsFile.model_validate(data))


def setup(tmp_path, judgements: dict | None = None):
    web = web_client(tmp_path)
    app_id = web.upload(APPLICATION)
    body = {"regime": REGIME} | ({"judgements": as_json(judgements)} if judgements else {})
    r = web.client.post(f"/api/v1/applications/{app_id}/checks", json=body,
                        headers={"Authorization": f"Bearer {web.token}"})
    assert r.status_code == 201, r.text
    return web, app_id, r.json()["id"]


def count_checks(web) -> int:
    with web.app.state.sessions() as s:
        return s.query(StoredCheck).count()


# --- reading the page as a browser would --------------------------------------------------------------------------
FIELD = re.compile(r"<(select|textarea)\b([^>]*)>(.*?)</\1>|<(input)\b([^>]*)>()", re.S)


def attr(tag: str, name: str) -> str | None:
    m = re.search(rf'\b{name}="([^"]*)"', tag)
    return html.unescape(m.group(1)) if m else None


def form_fields(page: str) -> list[tuple[str, str]]:
    """The named fields of the assessment form with their current values, as a browser would submit them."""
    form = page[page.index('<form method="post" action="/checks/'):]
    form = form[:form.index("</form>")]
    out = []
    for m in FIELD.finditer(form):
        kind, attrs, inner = m.group(1) or m.group(4), m.group(2) or m.group(5), m.group(3) or ""
        name = attr(attrs, "name")
        if not name or name == "csrf":
            continue
        if kind == "select":
            m = re.search(r'<option value="([^"]*)" selected>', inner)
            value = html.unescape(m.group(1)) if m else ""
        elif kind == "textarea":
            value = html.unescape(inner)
        else:
            if attr(attrs, "type") == "checkbox" and not re.search(r"\bchecked\b", attrs):
                continue  # a browser does not submit an unticked box
            value = attr(attrs, "value") or ""
        out.append((name, value))
    return out


def field_id(page: str, name: str) -> str:
    m = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="([^"]+)"[^>]*\bname="{re.escape(name)}"', page)
    assert m, f"no field {name}"
    return m.group(1)


def error_next_to(page: str, name: str) -> str:
    """The error text shown with the field `name`, or '' if there is none."""
    fid = field_id(page, name)
    m = re.search(rf'<div class="error" id="{re.escape(fid)}-error">(.*?)</div>', page, re.S)
    if not m:
        return ""
    described = attr(re.search(rf'\bid="{re.escape(fid)}"[^>]*>', page).group(0), "aria-describedby") or ""
    assert f"{fid}-error" in described.split(), "the error is not announced with its field"
    return html.unescape(re.sub(r"<[^>]+>", " ", m.group(1))).strip()


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def conclusion(page: str) -> tuple[str, str]:
    """The conclusion element (#conclusion): its code (from the class c-<code>) and its text."""
    m = re.search(r'<(\w+) id="conclusion" class="[^"]*\bc-(\w+)[^"]*">(.*?)</\1>', page, re.S)
    assert m, "no conclusion on the page"
    return m.group(2), text_of(m.group(3))


def score_rows(page: str) -> dict[str, list[str]]:
    """The block scores table: block title → the cells of its row."""
    section = page[page.index('id="assessment"'):]
    body = section[section.index("<tbody>"):section.index("</tbody>")]
    rows = [[text_of(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]
    return {cells[0]: cells[1:] for cells in rows}


def expected_rows(assessment) -> dict[str, list[str]]:
    return {b.title: [f"{b.mandatory_met} из {b.mandatory_applicable}",
                      "—" if b.share_pct is None else number(b.share_pct), str(b.mandatory_waived),
                      f"{b.recommended_met} из {b.recommended_total}"]
            for b in assessment.blocks + [assessment.overall]}


def fill(fields: list[tuple[str, str]], data: dict) -> list[tuple[str, str]]:
    """The page's fields with the judgements file typed in (every other field left as the page had it)."""
    typed = {name: data.get(name, "") for name in ("assessor", "assessor_position", "organisation", "head",
                                                   "head_position")}
    for j in data.get("judgements", []):
        rid = j["requirement_id"]
        typed |= {f"verdict:{rid}": j["verdict"], f"comment:{rid}": j["comment"],
                  f"document:{rid}": j.get("evidence") or "", f"date:{rid}": str(j.get("date") or "")}
    for w in data.get("waivers", []):
        rid = w["requirement_id"]
        typed |= {f"w_justification:{rid}": w["justification"], f"w_expires:{rid}": str(w["expires"]),
                  f"w_approved_by:{rid}": w.get("approved_by") or "", f"w_date:{rid}": str(w.get("date") or "")}
    names = {n for n, _ in fields}
    missing = set(typed) - names
    assert not missing, f"the page has no fields {sorted(missing)}"
    return [(n, typed.get(n, v)) for n, v in fields]


# --- the flow -----------------------------------------------------------------------------------------------------
def test_judgements_entered_in_the_form_give_the_directly_computed_conclusion_and_scores(tmp_path):
    data = fixture_judgements()
    expected = expected_report(data).assessment
    web, app_id, check_id = setup(tmp_path)
    page = web.client.get(f"/checks/{check_id}/assessment").text  # one assessable report: no regime needed
    # every criterion awaiting the assessor is offered, with a waiver for it; the computed gap G-DOC-1 can be waived
    plain = evaluate(validate(yaml.safe_load((FIXTURES / APPLICATION).read_text("utf-8"))), REGIME)
    awaiting = [f.requirement_id for f in plain.findings if f.status in OPEN]
    assert awaiting and {j["requirement_id"] for j in data["judgements"]} <= set(awaiting)
    names = {n for n, _ in form_fields(page)}
    for rid in awaiting:
        assert {f"verdict:{rid}", f"comment:{rid}", f"document:{rid}", f"page:{rid}", f"file:{rid}",
                f"w_justification:{rid}", f"w_expires:{rid}", f"w_approved_by:{rid}"} <= names
    assert "w_justification:G-DOC-1" in names and "w_justification:G-TER-2" not in names  # G-TER-2 is met
    assert conclusion(page) == (plain.assessment.conclusion, plain.assessment.conclusion_text)

    before = count_checks(web)
    r = web.post(f"/checks/{check_id}/assessment", fill(form_fields(page), data))
    assert r.status_code == 303, text_of(r.text)[:2000]
    new_id = r.headers["location"].split("/")[2]
    assert r.headers["location"] == f"/checks/{new_id}/assessment?regime={REGIME}&saved=1" and new_id != check_id
    assert count_checks(web) == before + 1

    saved = web.client.get(r.headers["location"]).text
    assert "Оценка сохранена" in saved and f'href="/checks/{new_id}"' in saved
    assert conclusion(saved) == (expected.conclusion, expected.conclusion_text)
    assert expected.conclusion == "conforms_with_remarks"  # the fixture's stated outcome, not the computed default
    assert score_rows(saved) == expected_rows(expected)

    stored = web.client.get(f"/api/v1/checks/{new_id}", headers={"Authorization": f"Bearer {web.token}"}).json()
    assert stored["reports"][0]["assessment"] == expected.model_dump(mode="json")
    assert stored["as_of"] == plain.as_of.isoformat() and stored["application_version"] == 1
    # un-judged criteria and empty waiver rows are left out: the stored file is the fixture, field for field; the
    # page names the application version it assessed, with the INN, site and input hash `compliance judgements bind`
    # wrote into the fixture from the same application file, and the service's id and version of it
    want = as_json(data)
    for j in want["judgements"]:
        j["comment"] = j["comment"].strip()
    for w in want["waivers"]:
        w["justification"] = w["justification"].strip()
    want["application"] |= {"application_id": app_id, "version": 1}
    assert stored["judgements"] == want
    assert stored["judgements"]["application"]["input_hash"] == stored["input_hash"]


def test_a_judgement_contradicting_the_computed_verdict_is_refused_next_to_it(tmp_path):
    web, _, check_id = setup(tmp_path)
    page = web.client.get(f"/checks/{check_id}/assessment").text
    plain = evaluate(validate(yaml.safe_load((FIXTURES / APPLICATION).read_text("utf-8"))), REGIME)
    met = next(f.requirement_id for f in plain.findings if f.status == "met")
    fields = fill(form_fields(page), {"assessor": "Петрова А. В.", "judgements": [
        {"requirement_id": met, "verdict": "not_met", "comment": "Не согласна с расчётом", "evidence": "Акт осмотра"},
        {"requirement_id": "G-UK-1", "verdict": "met", "comment": "Штат укомплектован"}]})
    before = count_checks(web)
    r = web.post(f"/checks/{check_id}/assessment", fields)
    assert r.status_code == 422 and count_checks(web) == before
    message = error_next_to(r.text, f"verdict:{met}")
    assert met in message and "проверяется автоматически" in message
    assert error_next_to(r.text, "verdict:G-UK-1") == ""
    alert = re.search(r'<div class="alert" role="alert"[^>]*>(.*?)</div>', r.text, re.S).group(1)
    assert f'href="#{field_id(r.text, f"verdict:{met}")}"' in alert and "проверяется автоматически" in text_of(alert)
    # everything entered is still there
    kept = dict(form_fields(r.text))
    assert kept[f"verdict:{met}"] == "not_met" and kept[f"comment:{met}"] == "Не согласна с расчётом"
    assert kept[f"document:{met}"] == "Акт осмотра" and kept["verdict:G-UK-1"] == "met"
    assert kept["assessor"] == "Петрова А. В."
    assert re.search(r'<details class="computed" open>', r.text)  # the refused criterion is not hidden


def test_form_problems_are_shown_next_to_their_fields_and_nothing_is_stored(tmp_path):
    web, _, check_id = setup(tmp_path)
    fields = fill(form_fields(web.client.get(f"/checks/{check_id}/assessment").text), {
        "assessor": "", "judgements": [
            {"requirement_id": "G-UK-1", "verdict": "met", "comment": "", "evidence": "Штатное расписание"},
            {"requirement_id": "G-TER-4", "verdict": "met", "comment": "Резерв 0,9 га", "date": "31.02.2025"}],
        "waivers": [{"requirement_id": "G-DOC-1", "justification": "", "expires": "завтра"}]})
    fields = [(n, "Комментарий без вердикта" if n == "comment:G-INF-3" else v) for n, v in fields]
    before = count_checks(web)
    r = web.post(f"/checks/{check_id}/assessment", fields)
    assert r.status_code == 422 and count_checks(web) == before
    page = r.text
    assert "Напишите комментарий" in error_next_to(page, "comment:G-UK-1")
    assert "не дата" in error_next_to(page, "date:G-TER-4")
    assert "Выберите вердикт" in error_next_to(page, "verdict:G-INF-3")
    assert "обоснование" in error_next_to(page, "w_justification:G-DOC-1")
    assert "не дата" in error_next_to(page, "w_expires:G-DOC-1")
    assert "Укажите эксперта" in error_next_to(page, "assessor")
    assert error_next_to(page, "comment:G-TER-4") == ""
    kept = dict(form_fields(page))
    assert kept["document:G-UK-1"] == "Штатное расписание" and kept["date:G-TER-4"] == "31.02.2025"
    assert kept["w_expires:G-DOC-1"] == "завтра" and kept["comment:G-INF-3"] == "Комментарий без вердикта"
    assert 'type="text" value="31.02.2025"' in page  # a bad date stays visible instead of an empty date field


def test_a_judgement_dated_in_the_future_is_refused_by_the_evaluation(tmp_path):
    web, _, check_id = setup(tmp_path)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    fields = fill(form_fields(web.client.get(f"/checks/{check_id}/assessment").text), {
        "assessor": "Петрова А. В.",
        "judgements": [{"requirement_id": "G-UK-1", "verdict": "met", "comment": "ok", "date": tomorrow}]})
    r = web.post(f"/checks/{check_id}/assessment", fields)
    assert r.status_code == 422
    assert "ещё не наступила" in error_next_to(r.text, "date:G-UK-1")


def test_stored_judgements_are_prefilled(tmp_path):
    data = fixture_judgements()
    web, app_id, check_id = setup(tmp_path, judgements=data)
    page = web.client.get(f"/checks/{check_id}/assessment?regime={REGIME}").text
    values = dict(form_fields(page))
    assert values["assessor"] == data["assessor"] and values["organisation"] == data["organisation"]
    assert (values["assessor_position"], values["head"], values["head_position"]) == (
        data["assessor_position"], data["head"], data["head_position"])
    for j in data["judgements"]:
        rid = j["requirement_id"]
        assert values[f"verdict:{rid}"] == j["verdict"] and values[f"comment:{rid}"] == j["comment"].strip()
        assert values[f"document:{rid}"] == (j.get("evidence") or "") and values[f"date:{rid}"] == str(j["date"])
    w = data["waivers"][0]
    rid = w["requirement_id"]
    assert values[f"w_justification:{rid}"] == w["justification"].strip()
    assert values[f"w_expires:{rid}"] == str(w["expires"]) and values[f"w_approved_by:{rid}"] == w["approved_by"]
    assert values["verdict:G-DOC-2"] == ""  # not judged
    # the computed status of a judged criterion is shown as computed, with what the judgement made of it
    legend = page.index("G-3.2-1</span> Тип технопарка")
    block = text_of(page[legend:page.index("</fieldset>", legend)])
    assert "Результат проверки требуется экспертная оценка сейчас: выполнено" in block
    # the current scores are those of the stored check
    assert conclusion(page)[0] == expected_report(data).assessment.conclusion
    # saving the prefilled form unchanged stores the same judgements, now naming the application version by its id
    assert "confirm_application" not in page  # they were made on this version: nothing to confirm
    r = web.post(f"/checks/{check_id}/assessment", form_fields(page))
    assert r.status_code == 303
    new_id = r.headers["location"].split("/")[2]
    with web.app.state.sessions() as s:
        before, after = s.get(StoredCheck, check_id).judgements, s.get(StoredCheck, new_id).judgements
        assert after == before | {"application": before["application"] | {"application_id": app_id, "version": 1}}


def test_judgements_file_round_trips_into_the_cli_format(tmp_path):
    data = fixture_judgements()
    web, _, check_id = setup(tmp_path, judgements=data)
    r = web.client.get(f"/checks/{check_id}/judgements.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.headers["content-disposition"] == f'attachment; filename="judgements-{REGIME}-{check_id}.json"'
    path = tmp_path / "оценки.json"
    path.write_bytes(r.content)
    assert load_judgements(path) == JudgementsFile.model_validate(data)  # what `compliance check --judgements` reads
    assert 'href="/checks/%s/judgements.json"' % check_id in web.client.get(f"/checks/{check_id}/assessment").text


def test_judgements_file_is_404_without_judgements(tmp_path):
    web, _, check_id = setup(tmp_path)
    r = web.client.get(f"/checks/{check_id}/judgements.json")
    assert r.status_code == 404 and "нет оценок эксперта" in r.text


def test_another_organisation_sees_nothing(tmp_path):
    web, _, check_id = setup(tmp_path, judgements=fixture_judgements())
    other = second_org(web)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', other.get("/applications").text).group(1)
    before = count_checks(web)
    assert other.get(f"/checks/{check_id}/assessment").status_code == 404
    assert other.get(f"/checks/{check_id}/judgements.json").status_code == 404
    r = other.post(f"/checks/{check_id}/assessment", data={"csrf": csrf, "regime": REGIME, "assessor": "X"},
                   follow_redirects=False)
    assert r.status_code == 404 and count_checks(web) == before


def test_csrf_is_required(tmp_path):
    web, _, check_id = setup(tmp_path)
    fields = fill(form_fields(web.client.get(f"/checks/{check_id}/assessment").text), fixture_judgements())
    before = count_checks(web)
    r = web.client.post(f"/checks/{check_id}/assessment", data=dict(fields) | {"csrf": "0" * 40},
                        follow_redirects=False)
    assert r.status_code == 403 and "Форма устарела" in r.text
    r = web.client.post(f"/checks/{check_id}/assessment", data=dict(fields), follow_redirects=False)
    assert r.status_code == 403 and count_checks(web) == before


def test_a_check_without_an_assessment_regime_has_no_assessment_page(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload("ip794-operating-conforming.yaml")
    r = web.client.post(f"/api/v1/applications/{app_id}/checks", json={"regime": "ip794"},
                        headers={"Authorization": f"Bearer {web.token}"})
    check_id = r.json()["id"]
    assert load_catalog("ip794").decree.assessment is None
    r = web.client.get(f"/checks/{check_id}/assessment")
    assert r.status_code == 404 and "нет режима с оценкой эксперта" in r.text
    r = web.client.get(f"/checks/{check_id}/assessment?regime=ip794")
    assert r.status_code == 404 and "нет отчёта с оценкой эксперта" in r.text


def test_every_input_has_a_label_and_every_criterion_is_a_fieldset(tmp_path):
    web, _, check_id = setup(tmp_path, judgements=fixture_judgements())
    page = web.client.get(f"/checks/{check_id}/assessment").text
    ids = re.findall(r'<(?:input|select|textarea)\b(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', page)
    fields = re.findall(r'<(?:input|select|textarea)\b(?![^>]*type="hidden")[^>]*>', page)
    assert len(ids) == len(fields) > 40 and len(set(ids)) == len(ids)
    for fid in ids:
        assert page.count(f'<label for="{fid}">') == 1, fid
    for rid in ("G-3.2-1", "G-UK-1", "G-DOC-1"):
        assert re.search(rf'<fieldset class="criterion[^"]*"[^>]*>\s*<legend><span class="rid">{re.escape(rid)}', page)
    assert '<link rel="stylesheet" href="/static/assessment.css">' in page
    assert web.client.get("/static/assessment.css").status_code == 200


# --- the pieces ---------------------------------------------------------------------------------------------------
def test_open_statuses_are_those_apply_accepts_every_verdict_for():
    app = validate(yaml.safe_load((FIXTURES / APPLICATION).read_text("utf-8")))
    report = evaluate(app, REGIME)
    catalog = load_catalog(REGIME)
    sample = report.findings[0]
    for status in typing.get_args(Status):
        accepted = set()
        for verdict in VERDICTS:
            jf = JudgementsFile(regime=REGIME, catalog_version=catalog.decree.catalog_version, judgements=[
                {"requirement_id": sample.requirement_id, "verdict": verdict, "comment": "x"}])
            try:
                apply([sample.model_copy(update={"status": status})], jf, catalog, report.as_of)
                accepted.add(verdict)
            except InputError:
                pass
        if status in OPEN:
            assert accepted == set(VERDICTS), status
        elif status in VERDICTS:
            assert accepted == {status}, status
        elif status != "waived":  # never computed: only a waiver makes it
            assert accepted == set(), status


@pytest.mark.parametrize("text", ["Программа развития, разд. 2", "Акт, с. 5", "Акт, с. 5, файл akt.pdf", "файл a.pdf",
                                  "с. 3", "Договор, с. 1, 2", "", "Письмо, файл x, с. 4"])
def test_evidence_is_split_into_fields_and_composed_back_unchanged(text):
    assert compose_evidence(*split_evidence(text)) == text


def test_evidence_fields_compose_readably():
    assert compose_evidence("Акт № 5", "12", "akt.pdf") == "Акт № 5, с. 12, файл akt.pdf"
    assert split_evidence("Акт № 5, с. 12, файл akt.pdf") == ("Акт № 5", "12", "akt.pdf")


def test_a_judgement_of_an_unknown_criterion_is_shown_with_its_own_message(tmp_path):
    web, _, check_id = setup(tmp_path)
    fields = form_fields(web.client.get(f"/checks/{check_id}/assessment").text)
    fields += [("verdict:G-XX-9", "met"), ("comment:G-XX-9", "нет такого"), ("assessor", "Петрова А. В.")]
    r = web.post(f"/checks/{check_id}/assessment", [(n, v) for n, v in fields if n != "assessor" or v])
    assert r.status_code == 422
    assert "нет критерия «G-XX-9»" in error_next_to(r.text, "verdict:G-XX-9")
    assert dict(form_fields(r.text))["comment:G-XX-9"] == "нет такого"
