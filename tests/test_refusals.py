"""Impossible input is refused with a Russian message at its field — on the command line (exit 2), in the API (422)
and on the web pages — and is never stored: NaN, infinities, numbers too long to parse, impossible dates, dates
after today, an evaluation date out of range, repeated keys. English parser messages never reach the user."""
from __future__ import annotations

import json
import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import yaml
from typer.testing import CliRunner

from compliance import excel
from compliance.cli import app as cli
from compliance.loading import InputError, _message, load_application, parse_document
from compliance.settings import get_settings
from tests.conftest import FIXTURES, raw_fixture

runner = CliRunner()
CREATED = FIXTURES / "ip794-created-gaps.yaml"
ENGLISH = re.compile(r"Input should|Expecting|expected|found|could not|list index|Keys should|Error\b|Exception\b|"
                     r"not a zip|invalid literal")


def run(*args: str):
    return runner.invoke(cli, [str(a) for a in args])


def yaml_text() -> str:
    return CREATED.read_text(encoding="utf-8")


def json_text() -> str:
    return json.dumps(raw_fixture("ip794-created-gaps"), ensure_ascii=False, default=str)


def refused(result, *words: str) -> str:
    """The CLI refused the input (exit 2) with these words, in Russian, without a traceback or English text."""
    out = result.output
    assert result.exit_code == 2, out
    assert "Traceback" not in out and not ENGLISH.search(out), out
    for w in words:
        assert w in out, (w, out)
    return out


@pytest.fixture
def today_is(monkeypatch):
    """Pin «today» (COMPLIANCE_TODAY, read by compliance.settings.today)."""
    def pin(day: str) -> None:
        monkeypatch.setenv("COMPLIANCE_TODAY", day)
        get_settings.cache_clear()
    yield pin
    monkeypatch.delenv("COMPLIANCE_TODAY", raising=False)
    get_settings.cache_clear()


# --- numbers that no field can hold ---------------------------------------------------------------------------------
AREA = "    area: {value: 5.2, unit: ha}"
NUMBERS = {
    "json-nan": ("app.json", lambda: json_text().replace('"value": 5.2', '"value": NaN'), "не число"),
    "json-infinity": ("app.json", lambda: json_text().replace('"value": 5.2', '"value": -Infinity'), "слишком велико"),
    "json-1e999": ("app.json", lambda: json_text().replace('"value": 5.2', '"value": 1e999'), "слишком велико"),
    "json-5000-digits": ("app.json", lambda: json_text().replace('"value": 5.2', '"value": ' + "7" * 5000),
                         "слишком велико"),
    "yaml-inf": ("app.yaml", lambda: yaml_text().replace(AREA, "    area: {value: .inf, unit: ha}"), "слишком велико"),
    "yaml-nan": ("app.yaml", lambda: yaml_text().replace(AREA, "    area: {value: .nan, unit: ha}"), "не число"),
    "yaml-1e999": ("app.yaml", lambda: yaml_text().replace(AREA, "    area: {value: 1.0e+999, unit: ha}"),
                   "слишком велико"),
    "yaml-5000-digits": ("app.yaml", lambda: yaml_text().replace(AREA, "    area: {value: " + "7" * 5000 + ", unit: ha}"),
                         "слишком велико"),
}


@pytest.mark.parametrize("case", NUMBERS, ids=list(NUMBERS))
def test_cli_refuses_numbers_no_field_can_hold(tmp_path, case):
    name, text, words = NUMBERS[case]
    assert AREA in yaml_text()
    path = tmp_path / name
    path.write_text(text(), encoding="utf-8")
    refused(run("check", path), "land_plots[0].area.value", "земельные участки № 1 → площадь → значение", words)


def test_cli_refuses_an_area_larger_than_russia_after_unit_conversion(tmp_path):
    path = tmp_path / "app.yaml"
    path.write_text(yaml_text().replace(AREA, "    area: {value: 2.0e+7, unit: km2}"), encoding="utf-8")
    refused(run("check", path), "land_plots[0].area (земельные участки № 1 → площадь)", "площади всей России")
    path.write_text(yaml_text().replace(AREA, "    area: {value: 1.7e+13, unit: m2}"), encoding="utf-8")
    assert run("check", path).exit_code == 1  # 1,7 млрд га in m²: within the bound


def test_yaml_reads_exponent_numbers_as_numbers(tmp_path):
    """1e-6 is a number (YAML 1.2, JSON), not the text «1e-6» that PyYAML's YAML 1.1 would make of it."""
    data = parse_document(b"a: 1e-6\nb: 2.5E7\nc: -3e+2\nd: 1_000\ne: '1e-6'\n", "x.yaml")
    assert data == {"a": 1e-06, "b": 2.5e7, "c": -300.0, "d": 1000, "e": "1e-6"}


# --- dates -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("written", ["0000-01-01", "2025-02-30", "2025-13-01"])
@pytest.mark.parametrize("field, line, path", [
    ("filing_date", "filing_date: 2025-06-02", "filing_date"),
    ("documents", "    date: 2025-05-30", "documents[0].date"),
])
def test_cli_refuses_impossible_yaml_dates_at_their_field(tmp_path, written, field, line, path):
    text = yaml_text()
    assert line in text
    (tmp_path / "app.yaml").write_text(text.replace(line, line.split(":")[0] + ": " + written, 1), encoding="utf-8")
    refused(run("check", tmp_path / "app.yaml"), path, f"«{written}» — не дата")


def test_filing_date_after_today_is_refused_and_today_can_be_pinned(tmp_path, today_is):
    today_is("2025-06-01")  # the fixture was filed on 02.06.2025
    refused(run("check", CREATED), "filing_date", "позже сегодняшней (01.06.2025)")
    today_is("2025-06-02")
    assert run("check", CREATED).exit_code == 1
    (tmp_path / "far.yaml").write_text(yaml_text().replace("filing_date: 2025-06-02", "filing_date: 9999-12-31"),
                                       encoding="utf-8")
    refused(run("check", tmp_path / "far.yaml"), "filing_date", "позже сегодняшней")
    (tmp_path / "early.yaml").write_text(yaml_text().replace("filing_date: 2025-06-02", "filing_date: 1999-12-31"),
                                         encoding="utf-8")
    refused(run("check", tmp_path / "early.yaml"), "filing_date", "раньше 01.01.2000")


def test_a_date_out_of_the_plausible_range_is_refused(tmp_path):
    text = yaml_text().replace("    valid_until: 2027-03-14", "    valid_until: 9999-12-31", 1)
    (tmp_path / "app.yaml").write_text(text, encoding="utf-8")
    refused(run("check", tmp_path / "app.yaml"), "valid_until", "вне допустимого диапазона (01.01.1900 — 31.12.2199)")


@pytest.mark.parametrize("as_of", ["9995-01-01", "1999-12-31", "2101-01-01"])
def test_cli_as_of_out_of_range_is_refused(tmp_path, as_of):
    refused(run("check", CREATED, "--as-of", as_of), "--as-of", "вне допустимого диапазона (01.01.2000 — 31.12.2100)")
    refused(run("batch", CREATED, "--as-of", as_of, "--output", tmp_path / "s.xlsx"), "--as-of")
    assert run("check", CREATED, "--as-of", "2100-12-31").exit_code == 1  # the edges are in range


# --- repeated keys -----------------------------------------------------------------------------------------------
def test_yaml_repeated_key_names_the_key_and_both_lines(tmp_path):
    text = yaml_text().replace("filing_date: 2025-06-02", "filing_date: 2025-06-02\nfiling_date: 2025-06-03")
    (tmp_path / "app.yaml").write_text(text, encoding="utf-8")
    line = text.splitlines().index("filing_date: 2025-06-03") + 1
    refused(run("check", tmp_path / "app.yaml"), f"в строке {line}, позиции 1", "ключ «filing_date» повторяется",
            f"уже был в строке {line - 1}")


def test_yaml_repeated_key_in_a_nested_object_and_merge_keys_are_not_repeats():
    with pytest.raises(InputError, match="ключ «unit» повторяется"):
        parse_document(b"land_plots:\n  - area: {value: 1, unit: ha, unit: m2}\n", "a.yaml")
    data = parse_document(b"base: &b {value: 1, unit: ha}\narea:\n  <<: *b\n  unit: m2\n", "a.yaml")
    assert data["area"] == {"value": 1, "unit": "m2"}


def test_json_repeated_key_is_refused(tmp_path):
    path = tmp_path / "app.json"
    path.write_text(json_text()[:-1] + ', "site_name": "Другой парк"}', encoding="utf-8")
    refused(run("check", path), "ключ «site_name» повторяется")


# --- every entry point of the command line -----------------------------------------------------------------------
def test_set_values_are_refused_at_their_field():
    refused(run("check", CREATED, "--set", "land_plots.0.area.value=.nan"), "land_plots[0].area.value", "не число",
            "после изменения --set")
    refused(run("check", CREATED, "--set", "filing_date=2025-02-30"), "filing_date", "не дата")
    ok = run("check", CREATED, "--set", "land_plots.0.area.value=1e-9", "--format", "json")
    assert ok.exit_code == 1 and json.loads(ok.stdout)["report"]["engine_error"] is None


def test_set_file_and_judgements_file_name_themselves(tmp_path):
    changes = tmp_path / "changes.yaml"
    changes.write_text("set:\n  land_plots.0.area.value: 9\n  land_plots.0.area.value: 10\n", encoding="utf-8")
    refused(run("check", CREATED, "--set-file", changes), "--set-file", "ключ «land_plots.0.area.value» повторяется")
    judgements = tmp_path / "j.yaml"
    judgements.write_text((FIXTURES / "gost-judgements-itp1863.yaml").read_text(encoding="utf-8")
                          + "regime: gost56425\n", encoding="utf-8")
    refused(run("check", FIXTURES / "itp1863-operating-occupancy-gap.yaml", "--judgements", judgements),
            "--judgements", "ключ «regime» повторяется")


def test_batch_reports_each_impossible_file_and_goes_on(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.yaml").write_text(yaml_text(), encoding="utf-8")
    (folder / "nan.json").write_text(json_text().replace('"value": 5.2', '"value": NaN'), encoding="utf-8")
    (folder / "date.yaml").write_text(yaml_text().replace("filing_date: 2025-06-02", "filing_date: 2025-02-30"),
                                      encoding="utf-8")
    (folder / "repeat.yaml").write_text(yaml_text() + "site_name: x\n", encoding="utf-8")
    result = run("batch", folder, "--output", tmp_path / "s.xlsx")
    assert result.exit_code == 1, result.output
    rows = {Path(r["file"]).name: r for r in json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["rows"]}
    assert rows["good.yaml"]["status"] == "does_not_conform"
    assert {rows[n]["status"] for n in ("nan.json", "date.yaml", "repeat.yaml")} == {"invalid"}
    assert "не число" in rows["nan.json"]["problem"] and "не дата" in rows["date.yaml"]["problem"]
    assert "ключ «site_name» повторяется" in rows["repeat.yaml"]["problem"]
    assert not any(ENGLISH.search(r["problem"] or "") for r in rows.values())


# --- English parser messages, one source at a time ------------------------------------------------------------------
def test_pyyaml_messages_are_translated(tmp_path):
    path = tmp_path / "app.yaml"
    path.write_text(yaml_text().replace("regimes: [ip794]", "regimes: [ip794"), encoding="utf-8")
    refused(run("check", path), "ошибка YAML в строке", "ожидается «,» или «]»")
    path.write_text("site_name: Парк\n\tregion: x\n", encoding="utf-8")
    refused(run("check", path), "не табуляцией")
    for text in (b"a: b: c", b"a: 'x\n", b"- [\n", b"a: *missing", b"a: !!python/name:os.system x", b"a: 1\n---\nb: 2",
                 b"{a: 1", b"? [1]\n: 2", b'a: "\\q"', b"a: |0\n  x\n", b"a:\n  - 1\n b: 2\n", b"%YAML 1.1\n%YAML 1.1\n---\na: 1"):
        with pytest.raises(InputError) as exc:
            parse_document(text, "a.yaml")
        message = str(exc.value)
        assert message.startswith("ошибка YAML") and not ENGLISH.search(message), (text, message)


def test_json_messages_are_translated(tmp_path):
    path = tmp_path / "app.json"
    path.write_text('{"site_name": }', encoding="utf-8")
    refused(run("check", path), "ошибка JSON в строке 1, позиции 15: ожидается значение")
    for text in ('{"a": 1,}', '{"a" 1}', "[1, 2", '{"a": "x\ny"}', '{"a": "\\q"}', '{"a": "\\u12"}', '{"a": 1} x',
                 "{'a': 1}", '{"a": "открыта'):
        with pytest.raises(InputError) as exc:
            parse_document(text.encode(), "a.json")
        message = str(exc.value)
        assert message.startswith("ошибка JSON в строке") and not ENGLISH.search(message), (text, message)


def test_pydantic_messages_are_translated(tmp_path):
    """«Keys should be strings»: a YAML key that is a number or a boolean."""
    path = tmp_path / "app.yaml"
    path.write_text(yaml_text() + "2025: отчётный год\n", encoding="utf-8")
    refused(run("check", path), "ключ «2025» — не строка")
    unknown = {"type": "some_future_type", "loc": ("x",), "msg": "Input should be something", "input": 1, "ctx": {}}
    assert _message(unknown) == ("", "недопустимое значение")
    english_value_error = {"type": "value_error", "loc": ("x",), "msg": "Value error, bad", "input": 1,
                           "ctx": {"error": ValueError("bad thing")}}
    assert _message(english_value_error) == ("", "недопустимое значение")


def test_python_messages_are_translated():
    """«list index out of range», a KeyError, int('x'): a --set path that leads nowhere."""
    out = refused(run("check", CREATED, "--set", "land_plots.9.area.value=3"), "номер элемента больше")
    assert "land_plots.9.area.value" in out
    refused(run("check", CREATED, "--set", "land_plots.first.area.value=3"), "элемент списка указывается номером")
    refused(run("check", CREATED, "--set", "site_name.words=3"), "нет вложенных полей")


def test_openpyxl_and_zipfile_messages_are_not_shown(tmp_path):
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<это не xml")
    out = refused(run("check", broken), "не удалось открыть книгу Excel broken.xlsx")
    assert "(" not in out.split("broken.xlsx", 1)[1]  # no exception name in parentheses
    sheet = tmp_path / "sheet.xlsx"
    assert excel.write_template(sheet, load_application(FIXTURES / "cl779-conforming.json")) == []
    with zipfile.ZipFile(sheet) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    with zipfile.ZipFile(sheet, "w") as zf:
        for n, data in parts.items():
            zf.writestr(n, data.replace(b"<v>", b"<v>x", 1) if n == "xl/worksheets/sheet2.xml" else data)
    refused(run("check", sheet), "не удалось прочитать книгу Excel sheet.xlsx: файл повреждён")


# --- the Excel reader ---------------------------------------------------------------------------------------------
def test_excel_impossible_date_and_amount_are_refused_at_their_cells(tmp_path):
    path = tmp_path / "cluster.xlsx"
    assert excel.write_template(path, load_application(FIXTURES / "cl779-conforming.json")) == []
    wb = openpyxl.load_workbook(path)
    wb["Кластер"]["B5"] = date(2150, 1, 1)
    wb["Закупки"]["C2"] = 1e300
    wb.save(path)
    with pytest.raises(InputError) as exc:
        excel.read_workbook(path)
    problems = [str(p) for p in exc.value.problems]
    assert any(p.startswith("лист «Кластер», строка 5 «Дата подачи заявки», столбец «Значение»: дата подачи "
                            "01.01.2150 позже сегодняшней") for p in problems), problems
    assert any(p.startswith("лист «Закупки», строка 2") and "больше допустимого" in p for p in problems), problems


# --- the API: 422 with the field, nothing stored ------------------------------------------------------------------
@pytest.fixture
def svc(tmp_path):
    from tests.test_api import Service
    return Service(tmp_path)


def _stored(svc) -> int:
    return len(svc.a("GET", "/applications").json())


def _api_refused(r, path: str, words: str) -> None:
    assert r.status_code == 422, r.text
    problems = r.json()["problems"]
    assert any(p["path"].startswith(path) and words in p["message"] for p in problems), problems
    assert not ENGLISH.search(r.text), r.text


@pytest.mark.parametrize("case", NUMBERS, ids=list(NUMBERS))
def test_api_refuses_numbers_no_field_can_hold_in_a_body_and_in_an_upload(svc, case):
    name, text, words = NUMBERS[case]
    if name.endswith(".json"):
        r = svc.a("POST", "/applications", content=text().encode(), headers={"Content-Type": "application/json"})
        _api_refused(r, "land_plots[0].area.value", words)
    r = svc.a("POST", "/applications/upload", files={"file": (name, text().encode())})
    _api_refused(r, "land_plots[0].area.value", words)
    assert _stored(svc) == 0


def test_api_refuses_repeated_keys_syntax_errors_and_impossible_dates(svc, today_is):
    body = json_text()
    r = svc.a("POST", "/applications", content=(body[:-1] + ', "site_name": "x"}').encode(),
              headers={"Content-Type": "application/json"})
    _api_refused(r, "", "ключ «site_name» повторяется")
    r = svc.a("POST", "/applications", content=b'{"site_name": }', headers={"Content-Type": "application/json"})
    _api_refused(r, "", "ошибка JSON в строке 1, позиции 15: ожидается значение")
    r = svc.a("POST", "/applications/upload", files={"file": ("a.yaml", (yaml_text() + "region: x\n").encode())})
    _api_refused(r, "", "ключ «region» повторяется")
    for day, words in (("2025-02-30", "не дата"), ("0000-01-01", "не дата"), ("9999-12-31", "позже сегодняшней")):
        r = svc.a("POST", "/applications", json=dict(json.loads(body), filing_date=day))
        _api_refused(r, "filing_date", words)
        r = svc.a("POST", "/applications/upload",
                  files={"file": ("a.yaml", yaml_text().replace("filing_date: 2025-06-02", f"filing_date: {day}").encode())})
        _api_refused(r, "filing_date", words)
    today_is("2025-06-01")
    _api_refused(svc.a("POST", "/applications", json=json.loads(body)), "filing_date", "позже сегодняшней (01.06.2025)")
    assert _stored(svc) == 0


def test_api_as_of_out_of_range_is_422_and_stores_no_check(svc):
    app_id = svc.create()["id"]
    for as_of in ("9995-01-01", "1999-12-31"):
        _api_refused(svc.a("POST", f"/applications/{app_id}/checks", json={"as_of": as_of}), "as_of",
                     "вне допустимого диапазона (01.01.2000 — 31.12.2100)")
        _api_refused(svc.a("POST", "/checks/batch", json={"application_ids": [app_id], "as_of": as_of}), "as_of",
                     "вне допустимого диапазона")
    assert svc.a("GET", f"/applications/{app_id}/checks").json() == []


@pytest.mark.parametrize("change", [("land_plots", 0, "area", {"value": 100000, "unit": "ha"}),
                                    ("utilities", 0, "capacity", {"value": 0.05, "unit": "kW"}),
                                    ("land_plots", 0, "area", {"value": 1e-9, "unit": "km2"})])
def test_api_checks_what_crashed_the_service(svc, change):
    """The first plot at 100 000 ha or 0.05 kW of electricity gave a 500 (the engine crashed)."""
    section, i, field, value = change
    body = json.loads(json_text())
    body[section][i][field] = value
    r = svc.a("POST", "/applications", json=body)
    assert r.status_code == 201, r.text
    r = svc.a("POST", f"/applications/{r.json()['id']}/checks", json={})
    assert r.status_code == 201, r.text
    assert r.json()["reports"][0]["engine_error"] is None


# --- the web pages: the message at the field or at the upload; nothing stored ---------------------------------------
def test_web_editor_shows_impossible_values_at_their_fields(tmp_path):
    from tests.test_web_editor import _count_apps, _field_block, _minimal
    from tests.webclient import web_client
    web = web_client(tmp_path)
    r = web.post("/applications/new", [(k, "31.12.9999" if k == "filing_date" else v) for k, v in _minimal(**{
        "land_plots.0.area.value": "2e7", "land_plots.0.area.unit": "km2",
        "road_access.hard_surface": "true", "road_access.distance_to_public_road_km": "25000"})])
    assert r.status_code == 422 and _count_apps(web) == 0
    assert "позже сегодняшней" in _field_block(r.text, "f-filing_date")
    assert "площади всей России" in r.text
    assert "не больше 20" in _field_block(r.text, "f-road_access-distance_to_public_road_km")
    assert not ENGLISH.search(r.text)


def test_web_upload_shows_parser_problems_in_russian(tmp_path):
    from tests.test_web_editor import _count_apps
    from tests.webclient import web_client
    web = web_client(tmp_path)
    r = web.post("/applications/upload", files={"file": ("a.yaml", (yaml_text() + "region: x\n").encode())})
    assert r.status_code == 422 and "ключ «region» повторяется" in r.text
    r = web.post("/applications/upload", files={"file": ("a.json", json_text().replace('"value": 5.2', '"value": NaN')
                                                                                .encode())})
    assert r.status_code == 422 and "не число" in r.text and "земельные участки № 1 → площадь → значение" in r.text
    r = web.post("/applications/upload", files={"file": ("a.yaml", yaml_text().replace("filing_date: 2025-06-02",
                                                                                       "filing_date: 2025-02-30").encode())})
    assert r.status_code == 422 and "«2025-02-30» — не дата" in r.text
    assert _count_apps(web) == 0


def test_web_check_page_refuses_an_as_of_out_of_range_at_its_field(tmp_path):
    from tests.webclient import web_client
    web = web_client(tmp_path)
    app_id = web.upload("ip794-created-gaps.yaml")
    r = web.post(f"/applications/{app_id}/check", {"regime": "", "as_of": "01.01.9995"})
    assert r.status_code == 422 and "вне допустимого диапазона (01.01.2000 — 31.12.2100)" in r.text
