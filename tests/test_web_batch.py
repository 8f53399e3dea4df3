"""Web pages for many applications at once: several files in one upload (a bad file never blocks the good ones), the
check of the applications chosen in the list, the batch result page by its address, its .xlsx and JSON summary,
the caps, scoping to the organisation and CSRF."""
from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import html as lhtml
from markupsafe import escape

from api.web.common import regime_title
from compliance.batch import HEADERS
from compliance.evaluate import evaluate
from compliance.formatting import field_label, size
from compliance.loading import InputError, load_application, parse_document, validate
from compliance.report import VERDICT_RU
from compliance.storage import StoredApplication, StoredCheck
from webclient import FIXTURES, second_org, web_client

BATCH = FIXTURES / "batch"
EXPECTED = {row["file"]: row for row in csv.DictReader((BATCH / "expected.csv").open(encoding="utf-8"))}
GOOD = ["cluster-01-conforming-chem-tatarstan.json", "cluster-04-contract-only-other.json",
        "cluster-12-zero-inputs.json", "cluster-17-so-tax-debt-no-website.json", "park-ip794-created-gaps.yaml"]
BROKEN = ["broken-bad-inn.json", "broken-empty.json", "broken-unknown-contract-party.json"]
EXPECTED_REGIME = {name: ("ip794" if name.startswith("park") else "cl779") for name in GOOD}


def _count(web, model) -> int:
    with web.app.state.sessions() as s:
        return s.query(model).count()


def _api(web, path: str):
    return web.client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {web.token}"}).json()


def _files(*names: str):
    return [("file", (name, (BATCH / name).read_bytes())) for name in names]


def _problems_of(name: str) -> list[str]:
    """The problems of a broken fixture from the loader itself, as a person reads them: «label: message»."""
    path = BATCH / name
    with pytest.raises(InputError) as caught:
        validate(parse_document(path.read_bytes(), path.name))
    return [f"{field_label(p.path)}: {p.message}" if p.path else p.message for p in caught.value.problems]


def _upload_rows(page: str) -> dict[str, dict]:
    """The results page of an upload: file name → its outcome, the link to its application, its problems."""
    tree = lhtml.fromstring(page)
    out = {}
    for tr in tree.xpath("//table[contains(@class, 'batch-files')]/tbody/tr"):
        out[tr.xpath("string(th)").strip()] = {
            "outcome": tr.xpath("string(.//span[contains(@class, 'badge')])").strip(),
            "app": (tr.xpath(".//a/@href") or [""])[0].rsplit("/", 1)[-1],
            "problems": [li.text_content().strip() for li in tr.xpath(".//ul[@class='problems']/li")]}
    return out


def _batch_rows(page: str) -> list[dict]:
    """The rows of the batch result table (a row per regime of each application)."""
    tree = lhtml.fromstring(page)
    rows = []
    for body in tree.xpath("//table[contains(@class, 'batch')]/tbody"):
        head = body.xpath("./tr[1]/th")[0]
        site = head.xpath("string(./a)").strip()
        app_id = head.xpath("./a/@href")[0].rsplit("/", 1)[-1]
        for tr in body.xpath("./tr"):
            cells = tr.xpath("./td")
            rows.append({"site": site, "app": app_id, "regime": cells[0].text_content().strip(),
                         "badge": cells[1].xpath("string(.//span)").strip(),
                         "verdict": cells[1].xpath(".//span/@class")[0].split("v-")[1],
                         "numbers": [int(td.text_content()) for td in tr.xpath("./td[@class='num']")],
                         "gaps": [li.text_content().strip() for li in tr.xpath(".//ul[@class='gaps']/li")],
                         "problems": [li.text_content().strip() for li in tr.xpath(".//ul[@class='problems']/li")],
                         "link": cells[-1].xpath(".//a/@href")[0]})
    return rows


def _upload_each(web, names: list[str]) -> dict[str, str]:
    """Each fixture of fixtures/batch uploaded on its own: name → application id."""
    return {name: web.upload(f"batch/{name}") for name in names}


def _run(web, ids: list[str], regime: str = "", as_of: str = ""):
    return web.post("/checks/batch", [("ids", i) for i in ids] + [("regime", regime), ("as_of", as_of)])


# --- several files in one upload ----------------------------------------------------------------------------------
def test_several_files_in_one_upload_store_the_good_ones_and_list_the_broken_with_their_problems(tmp_path):
    from openpyxl import load_workbook

    from compliance.excel import read_workbook

    web = web_client(tmp_path)
    page = web.client.get("/applications/upload").text
    assert re.search(r'<input id="file" name="file" type="file"[^>]* multiple', page)
    # a cluster workbook with a participant's INN broken: its problems come from compliance.excel
    book = load_workbook(FIXTURES / "cl779-contract-gap.xlsx")
    sheet = book["Участники"]
    inn_col = next(c.column for c in sheet[1] if str(c.value or "").startswith("ИНН"))
    sheet.cell(2, inn_col).value = "7700000001"
    broken_xlsx = tmp_path / "broken-register.xlsx"
    book.save(broken_xlsx)
    with pytest.raises(InputError) as caught:
        read_workbook(broken_xlsx)
    xlsx_problems = [str(p) for p in caught.value.problems]  # «Лист «…», строка …, столбец …: message»
    assert any("ИНН" in p for p in xlsx_problems)

    files = _files(*GOOD[:3], *BROKEN) + [
        ("file", ("cl779-conforming.xlsx", (FIXTURES / "cl779-conforming.xlsx").read_bytes())),
        ("file", (broken_xlsx.name, broken_xlsx.read_bytes()))]
    r = web.post("/applications/upload", files=files)
    assert r.status_code == 200
    rows = _upload_rows(r.text)
    assert list(rows) == [name for _, (name, _) in files]  # every file, in the order sent

    good = GOOD[:3] + ["cl779-conforming.xlsx"]
    assert _count(web, StoredApplication) == len(good)
    stored = {a["id"]: a["site_name"] for a in _api(web, "/applications")}
    for name in good:
        assert rows[name]["outcome"] == "сохранена" and not rows[name]["problems"]
        model = read_workbook(FIXTURES / name) if name.endswith(".xlsx") else load_application(BATCH / name)
        assert stored[rows[name]["app"]] == model.site_name
        assert _api(web, f"/applications/{rows[name]['app']}")["body"] == model.model_dump(mode="json")
    for name in BROKEN:
        assert rows[name]["outcome"] == "не принята" and rows[name]["app"] == ""
        assert rows[name]["problems"] == _problems_of(name)
    assert rows["broken-bad-inn.json"]["problems"][0] == (  # the Russian label of the field, not its path
        "кластер → участники № 3 → ИНН: неверная контрольная цифра ИНН")
    assert rows[broken_xlsx.name]["problems"] == xlsx_problems
    assert "Сохранено заявок: 4 из 8" in r.text
    # the form to check all the saved files carries exactly their ids
    tree = lhtml.fromstring(r.text)
    form = tree.xpath("//form[@action='/checks/batch']")[0]
    assert form.xpath(".//input[@name='ids']/@value") == [rows[name]["app"] for name in GOOD[:3]] + [
        rows["cl779-conforming.xlsx"]["app"]]
    assert form.xpath(".//button")[0].text_content().strip() == "Проверить все сохранённые (4)"


def test_one_file_still_goes_to_its_application_and_a_bad_one_to_its_problems(tmp_path):
    web = web_client(tmp_path)
    r = web.post("/applications/upload", files=_files(GOOD[0]))
    assert r.status_code == 303 and re.fullmatch(r"/applications/\w+\?msg=uploaded", r.headers["location"])
    r = web.post("/applications/upload", files=_files("broken-bad-inn.json"))
    assert r.status_code == 422 and "Файл «broken-bad-inn.json» не принят" in r.text
    for problem in _problems_of("broken-bad-inn.json"):
        label, message = problem.split(": ", 1)
        assert f"<strong>{escape(label)}</strong>: {escape(message)}" in r.text
    assert _count(web, StoredApplication) == 1
    app_id = _api(web, "/applications")[0]["id"]
    version_page = web.client.get(f"/applications/{app_id}/upload").text
    assert 'name="file"' in version_page and "multiple" not in version_page  # a new version: one file


def test_all_files_broken_stores_nothing_and_offers_no_check(tmp_path):
    web = web_client(tmp_path)
    r = web.post("/applications/upload", files=_files(*BROKEN))
    assert r.status_code == 422 and "Сохранено заявок: 0 из 3" in r.text
    assert 'action="/checks/batch"' not in r.text
    assert _count(web, StoredApplication) == 0


def test_too_many_files_are_refused_with_a_russian_message_and_nothing_is_stored(tmp_path):
    web = web_client(tmp_path, max_batch=2)
    assert "(не больше\n      2)" in web.client.get("/applications/upload").text
    r = web.post("/applications/upload", files=_files(*GOOD[:3]))
    assert r.status_code == 422 and "Слишком много файлов" in r.text
    assert "выбрано файлов: 3, а за одну загрузку можно не больше 2" in r.text
    assert _count(web, StoredApplication) == 0


def test_files_over_the_request_limit_together_are_refused_and_nothing_is_stored(tmp_path):
    web = web_client(tmp_path, max_body_bytes=4096)
    small = b'{"site_name": "' + b" " * 2500 + b'"}'  # each file is under the limit, the two together are not
    r = web.post("/applications/upload", files=[("file", ("a.json", small)), ("file", ("b.json", small))])
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
    assert f"больше допустимого ({size(4096)})" in r.text and size(4096) == "4 КБ"
    assert _count(web, StoredApplication) == 0


# --- checking the chosen applications -----------------------------------------------------------------------------
def test_list_has_a_labelled_checkbox_per_row_and_the_batch_form(tmp_path):
    web = web_client(tmp_path)
    ids = _upload_each(web, GOOD[:2])
    tree = lhtml.fromstring(web.client.get("/applications").text)
    boxes = tree.xpath("//table//input[@name='ids']")
    assert sorted(b.get("value") for b in boxes) == sorted(ids.values())
    names = {i: load_application(BATCH / n).site_name for n, i in ids.items()}
    for box in boxes:
        assert box.get("type") == "checkbox" and box.get("form") == "batch"
        label = tree.xpath(f"//label[@for='{box.get('id')}']")[0]
        assert label.text_content() == f"Выбрать «{names[box.get('value')]}»"
    form = tree.xpath("//form[@id='batch']")[0]
    assert form.get("method") == "post" and form.get("action") == "/checks/batch"
    assert form.xpath(".//input[@name='csrf']/@value")[0] == web.csrf()
    assert [o.get("value") for o in form.xpath(".//select[@name='regime']/option")][:2] == ["", "all"]
    for field in form.xpath(".//select | .//input[not(@type='hidden')]"):
        assert tree.xpath(f"//label[@for='{field.get('id')}']"), field.get("name")
    assert form.xpath("string(.//button)").strip() == "Проверить выбранные"


def test_checking_the_chosen_applications_stores_a_check_each_with_the_evaluated_verdicts(tmp_path):
    web = web_client(tmp_path)
    ids = _upload_each(web, GOOD)
    r = _run(web, list(ids.values()))
    assert r.status_code == 303
    location = urlsplit(r.headers["location"])
    assert location.path == "/checks/batch"
    check_ids = parse_qs(location.query)["ids"][0].split(",")
    assert "failed" not in parse_qs(location.query)
    assert _count(web, StoredCheck) == len(GOOD) == len(check_ids)

    expected = {}  # application id → {regime: verdict} from a direct evaluation
    for name, app_id in ids.items():
        model = load_application(BATCH / name)
        expected[app_id] = {regime: evaluate(model, regime).verdict for regime in model.regimes}
        assert next(iter(expected[app_id].values())) == EXPECTED[name]["expected"]
    for check_id in check_ids:
        check = _api(web, f"/checks/{check_id}")
        assert check["verdicts"] == expected[check["application_id"]]
    by_app = {}
    for app_id in ids.values():
        history = _api(web, f"/applications/{app_id}/checks")
        assert len(history) == 1  # a normal check in the application's history
        by_app[app_id] = history[0]["id"]

    page = web.client.get(r.headers["location"])
    assert page.status_code == 200
    rows = _batch_rows(page.text)
    assert [row["app"] for row in rows] == list(ids.values())  # in the order chosen
    for name, row in zip(ids, rows):
        verdict = expected[row["app"]][EXPECTED_REGIME[name]]
        assert row["verdict"] == verdict and row["link"] == f"/checks/{by_app[row['app']]}"
        assert row["site"] == load_application(BATCH / name).site_name
        if verdict == "does_not_conform" and EXPECTED[name]["gaps"]:
            assert row["gaps"] and {g.split()[0] for g in row["gaps"]} <= set(EXPECTED[name]["gaps"].split())
            assert row["numbers"][0] >= len(row["gaps"])
    counts = {}
    for verdicts in expected.values():
        for verdict in verdicts.values():
            counts[verdict] = counts.get(verdict, 0) + 1
    tree = lhtml.fromstring(page.text)
    shown = {li.xpath("./span/@class")[0].split("v-")[1]: int(li.xpath("string(./strong)"))
             for li in tree.xpath("//ul[@class='batch-counts']/li")}
    assert shown == counts


def test_an_application_that_cannot_be_checked_is_reported_and_the_others_proceed(tmp_path):
    web = web_client(tmp_path)
    ids = _upload_each(web, GOOD[:2] + ["park-ip794-created-gaps.yaml"])
    r = _run(web, list(ids.values()), regime="cl779", as_of="02.06.2025")
    query = parse_qs(urlsplit(r.headers["location"]).query)
    park = ids["park-ip794-created-gaps.yaml"]
    assert query["failed"] == [park] and query["as_of"] == ["2025-06-02"] and query["regime"] == ["cl779"]
    assert _count(web, StoredCheck) == 2
    for name in GOOD[:2]:
        (check,) = _api(web, f"/applications/{ids[name]}/checks")
        assert check["as_of"] == "2025-06-02" and check["regimes"] == ["cl779"]
    with pytest.raises(InputError) as caught:  # why the park cannot be checked as a cluster
        evaluate(load_application(BATCH / "park-ip794-created-gaps.yaml"), "cl779")
    rows = _batch_rows(web.client.get(r.headers["location"]).text)
    failed = next(row for row in rows if row["app"] == park)
    assert failed["badge"] == "не проверена" and failed["link"] == f"/applications/{park}"
    assert len(failed["problems"]) == len(caught.value.problems)
    for shown, problem in zip(failed["problems"], caught.value.problems):
        assert shown.endswith(problem.message)
    assert _count(web, StoredCheck) == 2  # showing the reason stored nothing


def test_another_organisations_application_among_the_ids_is_404_and_nothing_is_stored(tmp_path):
    web = web_client(tmp_path)
    own = _upload_each(web, GOOD[:2])
    other = second_org(web)
    path = BATCH / GOOD[2]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', other.get("/applications/upload").text).group(1)
    r = other.post("/applications/upload", data={"csrf": csrf}, files={"file": (path.name, path.read_bytes())},
                   follow_redirects=False)
    foreign = r.headers["location"].split("?")[0].rsplit("/", 1)[1]
    r = _run(web, [*own.values(), foreign])
    assert r.status_code == 404 and "Не найдено" in r.text
    assert _count(web, StoredCheck) == 0
    # a batch result is read by its own organisation only
    r = _run(web, list(own.values()))
    url = r.headers["location"]
    assert web.client.get(url).status_code == 200
    for suffix in ("", ".xlsx", ".json"):
        assert other.get(url.replace("/checks/batch?", f"/checks/batch{suffix}?")).status_code == 404
    (own_check,) = _api(web, f"/applications/{next(iter(own.values()))}/checks")
    r = other.post("/checks/batch", data={"csrf": csrf, "ids": own_check["application_id"]}, follow_redirects=False)
    assert r.status_code == 404
    assert web.client.get(f"/checks/batch?ids={own_check['id']}&failed={foreign}").status_code == 404


def test_the_xlsx_and_json_summaries_are_those_of_the_page_and_of_the_cli(tmp_path):
    from openpyxl import load_workbook

    web = web_client(tmp_path)
    ids = _upload_each(web, GOOD[1:])
    ids["brownfield-794-1863.yaml"] = web.upload("brownfield-794-1863.yaml")  # two regimes: a row for each
    r = _run(web, list(ids.values()), regime="all")
    url = r.headers["location"]
    page = web.client.get(url).text
    rows = _batch_rows(page)
    several = [row for row in rows if row["app"] == ids["brownfield-794-1863.yaml"]]
    (check,) = _api(web, f"/applications/{ids['brownfield-794-1863.yaml']}/checks")
    assert len(check["regimes"]) > 1 and {"ip794", "itp1863"} <= set(check["regimes"])
    assert [row["link"] for row in several] == [f"/checks/{check['id']}?regime={code}" for code in check["regimes"]]
    tree = lhtml.fromstring(page)
    xlsx_url = tree.xpath("//a[contains(., 'Скачать сводку Excel')]/@href")[0]
    json_url = tree.xpath("//a[contains(., 'Скачать JSON')]/@href")[0]
    assert xlsx_url == url.replace("/checks/batch?", "/checks/batch.xlsx?")

    x = web.client.get(xlsx_url)
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in x.headers["content-disposition"]
    book = load_workbook(io.BytesIO(x.content))
    sheet = list(book["Сводка"].iter_rows(values_only=True))
    assert list(sheet[0]) == HEADERS
    assert len(sheet) - 1 == len(rows) and len(rows) >= len(ids)
    names = {app_id: name for name, app_id in ids.items()}
    for line, row in zip(sheet[1:], rows):
        file, site, regime, status, blocking, no_data, manual, docs, gaps, problem = line
        assert file == names[row["app"]]  # the uploaded file the application came from, as the CLI's file column
        check_id = row["link"].split("/checks/")[1].split("?")[0]
        report = next(r for r in _api(web, f"/checks/{check_id}")["reports"] if r["regime"] == regime)
        # the verdict in the report's own words (with the number awaiting the expert), as the report states it
        assert site == row["site"] and report["verdict"] == row["verdict"] and status == report["verdict_text"]
        assert [blocking, no_data, manual, docs] == row["numbers"]
        assert (gaps or "").split("\n") == (row["gaps"] or [""]) and problem is None
        assert regime_title(regime) == row["regime"]
    totals = {name: n for name, n in book["Итоги"].iter_rows(min_row=2, values_only=True)}
    assert totals.pop("Файлов") == len(ids)
    shown = {VERDICT_RU[li.xpath("./span/@class")[0].split("v-")[1]]: int(li.xpath("string(./strong)"))
             for li in tree.xpath("//ul[@class='batch-counts']/li")}
    assert totals == shown and sum(shown.values()) == len(rows)

    data = web.client.get(json_url).json()
    assert [r["site_name"] for r in data["rows"]] == [row["site"] for row in rows]
    assert sum(data["counts"].values()) == len(rows) and data["files"] == len(ids)
    stored = {c["id"] for app_id in ids.values() for c in _api(web, f"/applications/{app_id}/checks")}
    assert {r["check_id"] for r in data["rows"]} == stored
    for r in data["rows"]:
        assert r["check_id"] in {row["link"].split("/checks/")[1].split("?")[0] for row in rows}


# --- caps, refusals and CSRF --------------------------------------------------------------------------------------
def test_more_applications_than_the_cap_are_refused_and_nothing_is_checked(tmp_path):
    web = web_client(tmp_path, max_batch=2)
    ids = _upload_each(web, GOOD[:3])
    r = _run(web, list(ids.values()))
    assert r.status_code == 422 and "Пакетная проверка не запущена" in r.text
    assert "Выбрано заявок: 3, а за один раз можно проверить не больше 2" in r.text
    assert _count(web, StoredCheck) == 0
    assert "не больше 2 за раз" in web.client.get("/applications").text


def test_nothing_chosen_or_a_wrong_date_is_refused_with_the_field_named(tmp_path):
    web = web_client(tmp_path)
    ids = _upload_each(web, GOOD[:1])
    r = _run(web, [])
    assert r.status_code == 422 and "Не выбрано ни одной заявки" in r.text
    r = _run(web, list(ids.values()), as_of="31.02.2025")
    assert r.status_code == 422 and "<strong>Дата оценки</strong>: «31.02.2025» — не дата" in r.text
    r = _run(web, list(ids.values()), regime="nope")
    assert r.status_code == 422 and "<strong>Режим</strong>: неизвестный режим «nope»" in r.text
    assert _count(web, StoredCheck) == 0
    r = web.client.get("/checks/batch")
    assert r.status_code == 422 and "В адресе нет ни одной проверки" in r.text
    url = _run(web, list(ids.values())).headers["location"]
    r = web.client.get(url + "&as_of=2025-13-01")
    assert r.status_code == 422 and "<strong>Дата оценки</strong>: «2025-13-01» — не дата" in r.text


def test_batch_forms_without_the_csrf_field_are_refused(tmp_path):
    web = web_client(tmp_path)
    ids = _upload_each(web, GOOD[:2])
    r = web.client.post("/checks/batch", data={"ids": list(ids.values()), "csrf": "0" * 40}, follow_redirects=False)
    assert r.status_code == 403 and "Форма устарела" in r.text
    r = web.client.post("/applications/upload", files=_files(*GOOD[2:4]), data={"csrf": "0" * 40})
    assert r.status_code == 403
    assert _count(web, StoredCheck) == 0 and _count(web, StoredApplication) == 2
