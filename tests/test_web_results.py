"""Web pages of results: running a check from the form, the gap report page (summary, blocking gaps, counts, findings
by block, filter, documents, calculations, matrix, assessment link), downloads, comparison of two checks, scoping,
CSRF and the check form's errors. Every expected value is read from the stored check, not written into the test."""
from __future__ import annotations

import html
import io
import json
import re
from datetime import date
from urllib.parse import unquote

import yaml

from compliance.catalog import load_catalog
from compliance.formatting import plural
from compliance.report import STATUS_RU
from compliance.storage import AuditEntry, StoredCheck
from webclient import FIXTURES, second_org, web_client

E = html.escape


def _api(web, path: str):
    r = web.client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {web.token}"})
    assert r.status_code == 200, r.text
    return r.json()


def _check(web, app_id: str, regime: str = "", as_of: str = "") -> str:
    r = web.post(f"/applications/{app_id}/check", {"regime": regime, "as_of": as_of})
    assert r.status_code == 303, r.text[:2000]
    location = r.headers["location"]
    assert re.fullmatch(r"/checks/\w+", location)
    return location.rsplit("/", 1)[1]


def _stored_checks(web) -> list[StoredCheck]:
    with web.app.state.sessions() as s:
        return s.query(StoredCheck).all()


def _section(page: str, start: str, end: str) -> str:
    i = page.index(start)
    return page[i:page.index(end, i)]


def _articles(page: str) -> list[tuple[str, str]]:
    """(id, status) of the findings shown in blocks."""
    return re.findall(r'<article class="finding st-\w+" id="f-([^"]+)" data-status="(\w+)"', page)


def test_check_from_the_form_shows_the_stored_report_summary_first(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload("ip794-created-gaps.yaml")
    check_id = _check(web, app_id)
    stored = _api(web, f"/checks/{check_id}")
    (report,) = stored["reports"]
    assert report["verdict"] == "does_not_conform" and report["blocking_gaps"]  # the fixture has gaps

    page = web.client.get(f"/checks/{check_id}").text
    # the verdict first: a big badge with its Russian words
    m = re.search(r'<span id="verdict" class="badge big v-(\w+)">([^<]+)</span>', page)
    assert m and m.groups() == (report["verdict"], E(report["verdict_text"]))
    assert page.index('id="verdict"') < page.index('id="findings"') < page.index('id="documents"')
    # header: application link, version, as-of date, catalog, judgements
    assert f'href="/applications/{app_id}"' in page and "версия 1" in page
    assert f"версия {stored['catalog_version']}" in page
    assert "Дата оценки</dt><dd>" + "{:%d.%m.%Y}".format(date.fromisoformat(report["as_of"])) in page
    assert "Оценки эксперта</dt><dd>нет" in page

    # counts per status equal the stored report's counts; statuses without findings are not listed
    for status, n in report["counts"].items():
        found = re.search(rf'id="count-{status}"[^>]*>.*?<span class="n">(\d+)</span>', page, re.S)
        if n:
            assert found and int(found.group(1)) == n, status
        else:
            assert found is None, status
    assert re.search(r'id="count-total">(\d+)<', page).group(1) == str(len(report["findings"]))

    # every blocking gap listed with its Russian status and a link to its finding on the page
    blocking = _section(page, 'id="blocking-title"', "</ol>")
    assert ">Критичные требования, не подтверждённые проверкой</h3>" in blocking
    listed = re.findall(r'<li data-requirement="([^"]+)"><a href="#f-([^"]+)">', blocking)
    assert [a for a, _ in listed] == [b for _, b in listed]
    assert sorted(a for a, _ in listed) == sorted(report["blocking_gaps"])
    by_id = {f["requirement_id"]: f for f in report["findings"]}
    items = re.findall(r'<li data-requirement="([^"]+)">(.*?)</li>', blocking, re.S)
    for rid, item in items:
        f = by_id[rid]
        assert f'<span class="badge s-{f["status"]}">{STATUS_RU[f["status"]]}</span>' in item
        if f["shortfall"]:
            assert E(f["shortfall"]["text"]) in item
        assert f'id="f-{rid}"' in page  # the link's target exists

    # how many verdicts rest on unconfirmed norms
    n = len(report["unconfirmed_norms"])
    assert n and f"⚠ {plural(n, 'вердикт основан', 'вердикта основаны', 'вердиктов основаны')} на нормативах" in page

    # findings grouped by block: every non-document finding once, under its block, with its status badge
    articles = _articles(page)
    expected = [f for f in report["findings"] if f["kind"] != "document"]
    assert sorted(a for a, _ in articles) == sorted(f["requirement_id"] for f in expected)
    assert all(by_id[rid]["status"] == status for rid, status in articles)
    for block in {f["block_title"] for f in expected}:
        assert f">{E(block)}</h3>" in page
    gap = by_id[report["blocking_gaps"][0]]
    article = _section(page, f'id="f-{gap["requirement_id"]}"', "</article>")
    assert E(gap["norm"]["text"]) in article and E(gap["fact"]["text"]) in article
    assert E(gap["remedy"]) in article and E(gap["clause"]) in article
    assert "<summary>Данные и доказательства</summary>" in article
    unconfirmed = next(f for f in expected if f["needs_confirmation"])
    assert "норматив требует сверки" in _section(page, f'id="f-{unconfirmed["requirement_id"]}"', "</article>")

    # the document checklist: every item, its status and what is missing
    docs = _section(page, 'id="documents"', "</section>")
    for item in report["documents"]["items"]:
        row = _section(docs, f'id="f-{item["requirement_id"]}" data-status="{item["status"]}"', "</tr>")
        assert STATUS_RU[item["status"]] in row and E(item["title"]) in row
        assert all(E(x) in row for x in item["missing"] + item["provided"])

    # no assessment section in this regime's catalog: no link to the expert's page
    assert load_catalog("ip794").decree.assessment is None and "/assessment?" not in page
    assert 'href="/checks/%s/report.docx" download>Скачать отчёт Word (.docx)</a>' % check_id in page
    with web.app.state.sessions() as s:
        actions = [(e.action, e.object_id) for e in s.query(AuditEntry).all()]
    assert ("check.create", check_id) in actions and ("web.check.read", check_id) in actions


def test_status_filter_hides_the_other_findings_and_says_how_many(tmp_path):
    web = web_client(tmp_path)
    check_id = _check(web, web.upload("ip794-created-gaps.yaml"))
    (report,) = _api(web, f"/checks/{check_id}")["reports"]
    total = len(report["findings"])

    page = web.client.get(f"/checks/{check_id}", params={"status": "not_met"}).text
    articles = _articles(page)
    shown = [f for f in report["findings"] if f["status"] == "not_met"]
    assert sorted(a for a, _ in articles) == sorted(f["requirement_id"] for f in shown if f["kind"] != "document")
    assert {s for _, s in articles} == {"not_met"}
    assert f"Показано требований: {len(shown)} из {total}; скрыто фильтром: {total - len(shown)}." in page
    assert re.search(r'name="status" value="not_met" checked', page)
    assert not re.search(r'name="status" value="met" checked', page)
    docs = _section(page, 'id="documents"', "</section>")
    assert set(re.findall(r'data-status="(\w+)"', docs)) == {"not_met"}

    # two statuses at once; the blocking list then links back to the unfiltered page for hidden findings
    page = web.client.get(f"/checks/{check_id}", params=[("status", "met"), ("status", "informational")]).text
    assert {s for _, s in _articles(page)} == {"met", "informational"}
    hidden = total - report["counts"]["met"] - report["counts"]["informational"]
    assert f"скрыто фильтром: {hidden}." in page
    first_gap = report["blocking_gaps"][0]
    assert f'<a href="/checks/{check_id}#f-{first_gap}">' in page

    # no filter and an unknown status: everything shown
    page = web.client.get(f"/checks/{check_id}", params={"status": "nonsense"}).text
    assert f"Показаны все требования: {total}." in page


def test_cluster_page_shows_the_functional_dependence_calculation_step_by_step(tmp_path):
    web = web_client(tmp_path)
    check_id = _check(web, web.upload("cl779-contract-gap.json"))
    (report,) = _api(web, f"/checks/{check_id}")["reports"]
    fd = next(c for c in report["calculations"] if "функциональной зависимости" in c["title"])
    assert any("Числитель" in line for line in fd["lines"])  # the fixture's FD has its steps
    page = web.client.get(f"/checks/{check_id}").text
    calc = _section(page, 'id="calculations"', "</section>")
    assert f'{E(fd["title"])}: <span class="result">{E(fd["text"])}</span>' in calc
    steps = _section(calc[calc.index(E(fd["title"])):], '<ol class="steps">', "</ol>")
    assert re.findall(r"<li>(.*?)</li>", steps) == [E(line) for line in fd["lines"]]
    for used in fd["used_by"]:
        assert f'<a href="#f-{used.split(":")[0]}">{E(used)}</a>' in calc
    # the cluster's blocking gap is the contract requirement, with the participant that fails it
    gap = next(f for f in report["findings"] if f["requirement_id"] == report["blocking_gaps"][0])
    article = _section(page, f'id="f-{gap["requirement_id"]}"', "</article>")
    assert all(E(d) in article for c in gap["checks"] if c["outcome"] == "failed" for d in c["fact"]["details"])


def test_all_regimes_show_the_matrix_and_each_report(tmp_path):
    web = web_client(tmp_path)
    check_id = _check(web, web.upload("brownfield-794-1863.yaml"), regime="all")
    stored = _api(web, f"/checks/{check_id}")
    regimes = [row["regime"] for row in stored["matrix"]]
    assert {"ip794", "itp1863"} <= set(regimes)

    page = web.client.get(f"/checks/{check_id}").text
    matrix = _section(page, 'id="matrix"', "</section>")
    assert page.index('id="matrix"') < page.index('id="verdict"')  # the matrix first
    for row in stored["matrix"]:
        tr = _section(matrix, f'id="matrix-{row["regime"]}"', "</tr>")
        assert E(row["regime_title"]) in tr and f'<span class="badge v-{row["verdict"]}">{E(row["verdict_text"])}</span>' in tr
        assert f'href="/checks/{check_id}?regime={row["regime"]}#report"' in tr
        cells = re.findall(r'<td class="num">(\d+)</td>', tr)
        assert cells == [str(row[k]) for k in ("blocking_not_met", "insufficient_data", "manual_review",
                                               "documents_missing")]
    for skipped in stored["skipped"]:
        assert f'id="skipped-{skipped["regime"]}"' in matrix
    # the first report is shown by default; ?regime= picks another one
    first = stored["reports"][0]
    assert re.search(rf'id="verdict" class="badge big v-{first["verdict"]}">{re.escape(E(first["verdict_text"]))}<', page)
    for report in stored["reports"]:
        page = web.client.get(f"/checks/{check_id}", params={"regime": report["regime"]}).text
        assert f'<h2 id="summary-title">Итог: {E(report["regime_title"])}</h2>' in page
        assert re.search(rf'id="verdict" class="badge big v-{report["verdict"]}">', page)
        ids = {a for a, _ in _articles(page)}
        assert ids == {f["requirement_id"] for f in report["findings"] if f["kind"] != "document"}
        # the expert's assessment page is linked exactly for regimes whose catalog has an assessment section
        with_assessment = load_catalog(report["regime"]).decree.assessment is not None
        link = f'href="/checks/{check_id}/assessment?regime={report["regime"]}">Оценка эксперта</a>'
        assert (link in page) == with_assessment
        if with_assessment:
            a = report["assessment"]
            assert f'<span id="conclusion" class="badge big c-{a["conclusion"]}">{E(a["conclusion_text"])}</span>' in page
    assert any(load_catalog(code).decree.assessment is not None for code in regimes)  # the link was tested
    assert web.client.get(f"/checks/{check_id}", params={"regime": "cl779"}).status_code == 404


def test_downloads_word_json_and_markdown(tmp_path):
    from docx import Document

    web = web_client(tmp_path)
    check_id = _check(web, web.upload("ip794-created-gaps.yaml"))
    (stored,) = [c for c in _stored_checks(web) if c.id == check_id]
    site = stored.result["reports"][0]["applicant"]["site_name"]

    r = web.client.get(f"/checks/{check_id}/report.docx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;") and f'filename="check-{check_id}.docx"' in disposition
    assert site in unquote(disposition.split("filename*=UTF-8''")[1])
    doc = Document(io.BytesIO(r.content))
    text = "\n".join([p.text for p in doc.paragraphs]
                     + [c.text for t in doc.tables for row in t.rows for c in row.cells])
    assert site in text and stored.result["reports"][0]["blocking_gaps"][0] in text

    r = web.client.get(f"/checks/{check_id}/report.json")
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment;")
    assert r.headers["content-type"].startswith("application/json") and "charset=utf-8" in r.headers["content-type"]
    assert json.loads(r.content.decode("utf-8")) == stored.result
    assert site in r.content.decode("utf-8")  # Cyrillic as is, not \u escapes

    r = web.client.get(f"/checks/{check_id}/report.md")
    assert r.status_code == 200 and r.text.startswith(f"# Отчёт о соответствии: {site}")
    with web.app.state.sessions() as s:
        actions = {e.action for e in s.query(AuditEntry).filter(AuditEntry.object_id == check_id)}
    assert {"web.check.docx", "web.check.json", "web.check.md"} <= actions


def test_matrix_check_downloads_hold_the_matrix(tmp_path):
    web = web_client(tmp_path)
    check_id = _check(web, web.upload("brownfield-794-1863.yaml"), regime="all")
    md = web.client.get(f"/checks/{check_id}/report.md").text
    assert md.startswith("# Матрица применимости режимов")
    stored = _api(web, f"/checks/{check_id}")
    assert all(f"**{row['regime_title']}**" in md and row["regime"] not in md for row in stored["matrix"])
    assert json.loads(web.client.get(f"/checks/{check_id}/report.json").content)["matrix"] == stored["matrix"]


def test_compare_two_checks_after_a_new_version(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload("ip794-created-gaps.yaml")
    before = _check(web, app_id)
    data = yaml.safe_load((FIXTURES / "ip794-created-gaps.yaml").read_text("utf-8"))
    data["land_plots"][1]["area"] = {"value": 40000, "unit": "m2"}  # 5,2 + 4 га: the area norm is met now
    r = web.post(f"/applications/{app_id}/upload",
                 files={"file": ("v2.json", json.dumps(data, default=str, ensure_ascii=False).encode())})
    assert r.status_code == 303
    after = _check(web, app_id)
    diff = _api(web, f"/checks/{before}/diff/{after}")
    (entry,) = diff["regimes"]
    area = next(c for c in entry["changed"] if c["requirement_id"] == "794-P-1")
    assert (area["before"], area["after"]) == ("not_met", "met")

    page = web.client.get("/checks/compare", params={"before": before, "after": after}).text
    assert "Находки изменились." in page
    table = _section(page, 'class="compare changed"', "</table>")
    rows = re.findall(r'<tr data-requirement="([^"]+)">(.*?)</tr>', table, re.S)
    assert [rid for rid, _ in rows] == [c["requirement_id"] for c in entry["changed"]]
    for rid, row in rows:
        change = next(c for c in entry["changed"] if c["requirement_id"] == rid)
        assert f'<span class="badge s-{change["before"]}">{STATUS_RU[change["before"]]}</span>' in row
        assert f'<span class="badge s-{change["after"]}">{STATUS_RU[change["after"]]}</span>' in row
        if change["fact_before"] != change["fact_after"]:
            assert E(change["fact_before"] or "—") in row and E(change["fact_after"] or "—") in row
        assert f'href="/checks/{after}#f-{rid}"' in row
    assert f"<caption>Изменившиеся находки: {len(entry['changed'])}</caption>" in table
    for verdict in (entry["verdict_before"], entry["verdict_after"]):
        assert f'class="badge v-{verdict}"' in page

    # the same check twice, or one missing: a clear message, nothing compared
    r = web.client.get("/checks/compare", params={"before": before, "after": before})
    assert r.status_code == 422 and "Выбрана одна и та же проверка" in r.text
    r = web.client.get("/checks/compare", params={"after": after})
    assert r.status_code == 422 and "Выберите две проверки" in r.text
    r = web.client.get("/checks/compare", params={"before": before, "after": "nope"})
    assert r.status_code == 404


def test_another_organisation_gets_404_everywhere(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload("ip794-created-gaps.yaml")
    check_id = _check(web, app_id)
    other = second_org(web)
    for url in (f"/checks/{check_id}", f"/checks/{check_id}/report.docx", f"/checks/{check_id}/report.json",
                f"/checks/{check_id}/report.md", f"/checks/compare?before={check_id}&after={check_id}"):
        r = other.get(url)
        assert r.status_code == 404 and "Не найдено" in r.text and r.headers["content-type"].startswith("text/html"), url
    # their own application and check: comparing it with ours, or checking ours, is refused the same way
    path = FIXTURES / "ip794-created-gaps.yaml"
    csrf = re.search(r'name="csrf" value="(\w+)"', other.get("/applications").text).group(1)
    r = other.post("/applications/upload", data={"csrf": csrf}, files={"file": (path.name, path.read_bytes())},
                   follow_redirects=False)
    their_app = r.headers["location"].split("?")[0].rsplit("/", 1)[1]
    r = other.post(f"/applications/{their_app}/check", data={"csrf": csrf, "regime": "", "as_of": ""},
                   follow_redirects=False)
    assert r.status_code == 303
    their_check = r.headers["location"].rsplit("/", 1)[1]
    assert other.get(f"/checks/compare?before={their_check}&after={check_id}").status_code == 404
    assert web.client.get(f"/checks/compare?before={check_id}&after={their_check}").status_code == 404
    r = other.post(f"/applications/{app_id}/check", data={"csrf": csrf, "regime": "", "as_of": ""},
                   follow_redirects=False)
    assert r.status_code == 404 and "Не найдено" in r.text
    assert sorted(c.id for c in _stored_checks(web)) == sorted([check_id, their_check])


def test_check_form_refuses_a_missing_csrf_field(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload("ip794-created-gaps.yaml")
    r = web.client.post(f"/applications/{app_id}/check", data={"csrf": "0" * 40, "regime": "", "as_of": ""},
                        follow_redirects=False)
    assert r.status_code == 403 and "Форма устарела" in r.text
    r = web.client.post(f"/applications/{app_id}/check", data={"regime": ""}, follow_redirects=False)
    assert r.status_code == 403
    assert _stored_checks(web) == []


def test_check_form_errors_are_russian_pages_and_store_nothing(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload("ip794-created-gaps.yaml")
    r = web.post(f"/applications/{app_id}/check", {"regime": "", "as_of": "31.02.2025"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "<strong>Дата оценки</strong>: «31.02.2025» — не дата" in r.text and 'id="as_of-error"' in r.text
    assert "Traceback" not in r.text
    r = web.post(f"/applications/{app_id}/check", {"regime": "ip9999", "as_of": "2025-06-02"})
    assert r.status_code == 422 and "<strong>Режим</strong>: неизвестный режим «ip9999»" in r.text
    assert 'value="2025-06-02"' in r.text  # the form keeps what was entered
    # the evaluation refuses: a cluster regime for a park without the cluster section
    r = web.post(f"/applications/{app_id}/check", {"regime": "cl779", "as_of": ""})
    assert r.status_code == 422 and "Заявку нельзя проверить в таком виде" in r.text and "cl779" in r.text
    assert _stored_checks(web) == []
    # a date typed the Russian way is accepted and used
    check_id = _check(web, app_id, regime="ip794", as_of="15.07.2025")
    (stored,) = _stored_checks(web)
    assert stored.id == check_id and stored.as_of.isoformat() == "2025-07-15"
    assert _api(web, f"/checks/{check_id}")["reports"][0]["as_of"] == "2025-07-15"


def test_check_again_uses_the_current_version_with_the_same_regime_and_date(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload("brownfield-794-1863.yaml")
    first = _check(web, app_id, regime="all", as_of="2025-09-01")
    web.upload("brownfield-794-1863.yaml", app_id)  # version 2
    page = web.client.get(f"/checks/{first}").text
    assert "После проверки сохранена версия 2" in page
    again = _section(page, 'id="again-title"', "</form>")
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', again))
    assert (fields["regime"], fields["as_of"]) == ("all", "2025-09-01")
    r = web.post(f"/applications/{app_id}/check", {"regime": fields["regime"], "as_of": fields["as_of"]})
    second = r.headers["location"].rsplit("/", 1)[1]
    stored = {c.id: c for c in _stored_checks(web)}
    assert stored[second].application_version == 2 and stored[second].as_of == stored[first].as_of
    assert stored[second].regimes == stored[first].regimes and stored[second].requested_regime == "all"
