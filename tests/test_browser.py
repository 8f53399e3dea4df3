"""The web pages in a real browser (Chromium through Playwright): sign-in, the applications list with search, uploading
a file, the application page, keyboard use, a tablet-width layout, sign-out; a newcomer's whole journey on
`compliance serve --demo-org` (the printed link, a new application through the form, checks, the Word report, the
comparison); the editor by keyboard; the report's status filter and matrix; the GOST assessment. Screenshots go to
out/screenshots/.

How to add a test (fixtures `server`, `chromium`, `page`, `org`, `signed_in_page` come from tests/browser.py):
  def test_something(signed_in_page, org):      # a new organisation, signed in, on /applications
      app_id = org.upload("ip794-created-gaps.yaml")    # seed through the API when the upload itself is not the point
      signed_in_page.goto(f"/applications/{app_id}")
      expect(signed_in_page.get_by_role("heading", level=1)).to_have_text("…")
      shot(signed_in_page, "some-page")
Sections below: sign-in · list and search · upload and the application page · keyboard and layout · sign-out ·
the newcomer's journey (fixture `served`: the real `compliance serve` in a subprocess) · the editor by keyboard ·
the check result page · the GOST assessment page · layout at tablet width.
"""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from browser import FIXTURES, LAPTOP, MISSING, TABLET, TIMEOUT_MS, chromium_found, shot, sign_in

if not chromium_found():
    pytest.skip(MISSING, allow_module_level=True)
pytest.importorskip("playwright", reason="пакет playwright не установлен: браузерные тесты пропущены")

from playwright.sync_api import expect  # noqa: E402

GAPS = "ip794-created-gaps.yaml"
OTHERS = ["ip794-operating-conforming.yaml", "itp1863-operating-occupancy-gap.yaml"]


def fixture_body(name: str) -> dict:
    return yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))


def focused(page) -> dict:
    """The element that has the keyboard focus: its tag, id, class, text and outline."""
    return page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
        return {tag: e.tagName.toLowerCase(), id: e.id, cls: e.className, text: e.textContent.trim(),
                outline: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth), left: e.getBoundingClientRect().left,
                visible: e.getBoundingClientRect().width > 0 && e.getBoundingClientRect().right > 0}; }""")


def rows(page):
    return page.locator("table.list tbody tr")


# --- sign-in ------------------------------------------------------------------------------------------------------
def test_wrong_token_shows_the_error_next_to_the_field_focused_and_announced(page, org):
    page.goto("/applications")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/applications$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Вход")
    shot(page, "01-sign-in")

    field = page.get_by_label("Токен организации")
    field.fill(org.token + "x")
    page.get_by_role("button", name="Войти").click()

    error = page.locator("#token-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("Токен не действителен или отозван. Проверьте, что он скопирован целиком.")
    expect(error).to_have_attribute("role", "alert")  # read out by a screen reader as the page appears
    expect(field).to_be_focused()  # the person can retype at once
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", re.compile(r"\btoken-error\b"))
    assert error.locator("xpath=..").get_attribute("class").split() == ["field", "invalid"]  # in the field's block
    assert [c["name"] for c in page.context.cookies()] == ["compliance_browser"]  # not signed in: no session cookie
    shot(page, "02-sign-in-wrong-token")

    field.fill("   ")
    page.get_by_role("button", name="Войти").click()
    expect(page.locator("#token-error")).to_have_text("Введите токен организации.")


def test_right_token_opens_the_empty_list_of_the_organisation(page, org):
    sign_in(page, org.token)
    expect(page).to_have_url(re.compile(r"/applications$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Заявки")
    expect(page.locator(".who")).to_contain_text(org.name)
    expect(page.get_by_text("У вашей организации пока нет заявок.")).to_be_visible()
    expect(page.get_by_role("navigation", name="Основное меню").get_by_role("link", name="Заявки")
           ).to_have_attribute("aria-current", "page")
    cookie = next(c for c in page.context.cookies() if c["name"] == "compliance_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


# --- upload and the application page -------------------------------------------------------------------------------
def test_upload_a_fixture_through_the_file_input_then_its_page_and_the_list(signed_in_page, org):
    page = signed_in_page
    body = fixture_body(GAPS)
    page.get_by_role("navigation", name="Основное меню").get_by_role("link", name="Загрузить файл").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Загрузить заявку из файла")
    page.get_by_label("Файл заявки").set_input_files(FIXTURES / GAPS)
    page.get_by_role("button", name="Загрузить").click()

    expect(page).to_have_url(re.compile(r"/applications/[^/?]+\?msg=uploaded$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(body["site_name"])
    expect(page.get_by_role("status")).to_have_text("Файл загружен, заявка сохранена.")
    facts = page.locator("dl.facts")
    expect(facts.locator("div", has=page.locator("dt", has_text="Субъект РФ")).locator("dd")).to_have_text(
        body["region"])
    expect(facts.locator("div", has=page.locator("dt", has_text="Дата подачи")).locator("dd")).to_have_text(
        body["filing_date"].strftime("%d.%m.%Y"))
    expect(facts.locator("div", has=page.locator("dt", has_text="Режимы")).locator("dd")).to_have_text(
        "Индустриальный парк (ПП № 794)")
    expect(facts.locator("div", has=page.locator("dt", has_text="Категория")).locator("dd")).to_have_text("создаваемый")
    in_app = facts.locator("div", has=page.locator("dt", has_text="В заявке")).locator("dd")
    expect(in_app).to_contain_text(f"{len(body['land_plots'])} земельных участков")
    expect(in_app).to_contain_text(f"{len(body['utilities'])} объектов инженерной инфраструктуры")
    expect(in_app).to_contain_text(f"{len(body['documents'])} документов")
    expect(page.get_by_text("Заявка ещё не проверялась.")).to_be_visible()
    expect(page.locator("ul.versions li")).to_have_count(1)
    expect(page.locator("ul.versions li")).to_contain_text("Версия 1 — ")
    expect(page.locator("ul.versions li")).to_contain_text(f"файл «{GAPS}»")
    shot(page, "04-application")

    page.get_by_role("navigation", name="Вы здесь").get_by_role("link", name="Заявки").click()
    expect(page.get_by_role("status")).to_have_text("Всего заявок: 1")
    expect(rows(page)).to_have_count(1)
    row = rows(page).first
    expect(row.get_by_role("link", name=body["site_name"])).to_be_visible()
    expect(row).to_contain_text(body["region"])
    expect(row).to_contain_text("создаваемый")
    expect(row).to_contain_text("не проверялась")


def test_upload_of_an_invalid_json_lists_the_russian_field_labels(signed_in_page, org, tmp_path):
    page = signed_in_page
    bad = tmp_path / "неполная-заявка.json"
    bad.write_text('{"regimes": ["ip794"]}', encoding="utf-8")
    page.goto("/applications/upload")
    page.get_by_label("Файл заявки").set_input_files(bad)
    page.get_by_role("button", name="Загрузить").click()

    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert.get_by_role("heading")).to_have_text(f"Файл «{bad.name}» не принят")
    expect(alert).to_contain_text("Ничего не сохранено.")
    problems = alert.locator("ul.problems li")
    expect(problems).to_have_text([  # the fields by their Russian names, never site_name / region / filing_date
        "название площадки (кластера): обязательное поле не заполнено",
        "субъект РФ: обязательное поле не заполнено",
        "дата подачи: обязательное поле не заполнено"])
    expect(page.get_by_label("Файл заявки")).to_be_visible()  # the form is there to try again
    shot(page, "05-upload-error")

    page.goto("/applications")
    expect(page.get_by_text("У вашей организации пока нет заявок.")).to_be_visible()


# --- list and search ----------------------------------------------------------------------------------------------
def test_search_finds_by_name_and_region_and_filters_the_list(signed_in_page, org):
    page = signed_in_page
    names = {f: fixture_body(f)["site_name"] for f in [GAPS, *OTHERS]}
    for f in names:
        org.upload(f)
    page.reload()
    expect(page.get_by_role("status")).to_have_text("Всего заявок: 3")
    expect(rows(page)).to_have_count(3)
    shot(page, "03-applications")

    search = page.get_by_role("searchbox", name="Поиск по названию, региону или номеру")
    search.fill("калужская")  # lower case: Cyrillic is folded
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"\?q=%D0%BA%D0%B0%D0%BB"))
    expect(page.get_by_role("status")).to_have_text("Найдено 1 из 3")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first.get_by_role("link")).to_have_text(names["ip794-operating-conforming.yaml"])
    expect(page.get_by_role("searchbox")).to_have_value("калужская")

    search = page.get_by_role("searchbox")
    search.fill("Индустриальный")
    page.get_by_role("button", name="Найти").click()
    expect(page.get_by_role("status")).to_have_text("Найдено 2 из 3")
    assert sorted(rows(page).locator("td:first-child a").all_inner_texts()) == sorted(
        [names[GAPS], names["ip794-operating-conforming.yaml"]])

    page.get_by_role("searchbox").fill("Якутия")
    page.get_by_role("searchbox").press("Enter")
    expect(page.get_by_role("status")).to_have_text("По запросу «Якутия» ничего не найдено.")
    expect(rows(page)).to_have_count(0)

    page.get_by_role("link", name="Сбросить").click()
    expect(page).to_have_url(re.compile(r"/applications$"))
    expect(page.get_by_role("status")).to_have_text("Всего заявок: 3")
    expect(page.get_by_role("searchbox")).to_have_value("")


# --- keyboard and layout ------------------------------------------------------------------------------------------
def test_first_tab_focuses_the_visible_skip_link_which_leads_to_the_content(signed_in_page):
    page = signed_in_page
    page.goto("/applications")
    page.keyboard.press("Tab")
    first = focused(page)
    assert first["tag"] == "a" and first["text"] == "Перейти к содержанию", first
    assert first["visible"] and first["left"] >= 0, f"skip link focused but off screen: {first}"
    assert first["outline"] != "none" and first["outlineWidth"] >= 2, f"focus is not visible: {first}"
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"
    page.keyboard.press("Tab")  # the next Tab goes on from the content, past the header's menu
    assert focused(page)["text"] == "Создать заявку"
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")


def test_list_at_tablet_width_has_no_horizontal_page_scroll(signed_in_page, org):
    page = signed_in_page
    for f in [GAPS, *OTHERS]:
        org.upload(f)
    page.set_viewport_size(TABLET)
    page.goto("/applications")
    expect(rows(page)).to_have_count(3)
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways at {TABLET['width']} px: scrollWidth {width[0]}"
    shot(page, "06-applications-tablet")


def test_footer_shows_the_service_version_on_every_page(signed_in_page, org):
    page = signed_in_page
    app_id = org.upload(GAPS)
    for url in ["/applications", "/applications/upload", f"/applications/{app_id}"]:
        page.goto(url)
        footer = page.locator("footer").inner_text()
        assert re.search(r"Версия \d+\.\d+(\.\d+)?\.", footer), f"{url}: {footer}"


# --- sign-out -----------------------------------------------------------------------------------------------------
def test_sign_out_ends_the_session(signed_in_page, org):
    page = signed_in_page
    page.get_by_role("button", name="Выйти").click()
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/applications$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Вход")
    assert [c for c in page.context.cookies() if c["name"] == "compliance_session"] == []
    expect(page.locator(".who")).to_have_count(0)
    page.goto("/applications")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/applications$"))


# --- the newcomer's journey: `compliance serve --demo-org`, its printed link, a new application, two checks ------
AREA = re.compile(r"^Площадь участка")  # not «Единица измерения: площадь участка», the unit's hidden label


def docx_text(path) -> str:
    """Every paragraph and table cell of a Word document, one per line; a no-break space (the typography of «5 га»)
    read as a space."""
    import docx

    doc = docx.Document(str(path))
    lines = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            lines += [cell.text for cell in row.cells]
    return "\n".join(lines).replace("\u00a0", " ")


def test_newcomer_journey_from_the_printed_link_to_the_comparison_of_two_checks(chromium, served):
    from compliance.catalog import load_catalog
    from compliance.formatting import value as shown
    from compliance.identifiers import inn_problem, make_inn10

    site, region, filed = "Индустриальный парк «Волжский берег»", "Тверская область", date(2025, 4, 1)
    company, inn = "Общество с ограниченной ответственностью «УК «Волжский берег»", make_inn10("690412345")
    assert inn_problem(inn) is None
    norm = load_catalog("ip794").params_at(filed)["min_area_ha"].value  # 794-P-1: the territory's minimum area
    area = 3
    assert area < norm
    gap = f"не хватает {shown(norm - area, 'ha')}"

    context = chromium.new_context(viewport=LAPTOP, locale="ru-RU", timezone_id="Europe/Moscow", accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        # the link printed by `compliance serve --demo-org`, opened as it is: the token comes in the fragment
        assert served.link.startswith(f"http://localhost:{served.port}/sign-in#cmp_"), served.link
        page.goto(served.link)
        expect(page.get_by_role("heading", level=1)).to_have_text("Вход")
        token = page.get_by_label("Токен организации")
        expect(token).to_have_value(served.link.split("#", 1)[1])  # filled from the link by the page's script
        assert "#" not in page.url  # and the token is taken out of the address bar
        page.get_by_role("button", name="Войти").click()
        expect(page).to_have_url(re.compile(r"/applications$"))
        expect(page.locator(".who")).to_contain_text(served.org)  # the --demo-org organisation
        expect(page.get_by_text("У вашей организации пока нет заявок.")).to_be_visible()

        # a new application through the form, by the labels a person reads
        page.get_by_role("navigation", name="Основное меню").get_by_role("link", name="Новая заявка").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Новая заявка")
        shot(page, "10-editor-new", full_page=False)
        page.get_by_label("Индустриальный парк (ПП № 794)").check()
        page.get_by_label("Название площадки (кластера)").fill(site)
        page.get_by_label("Категория площадки").select_option(label="создаваемый")
        page.get_by_label("Дата подачи заявки").fill(filed.isoformat())
        page.locator("#sec-management_company > summary").click()
        company_section = page.locator("#sec-management_company")
        company_section.get_by_label("Полное наименование организации").fill(company)
        company_section.get_by_label("ИНН").fill(inn)
        page.locator("#sec-land_plots > summary").click()
        page.get_by_role("button", name="Добавить земельный участок").click()  # re-rendered, nothing saved
        expect(page.locator("#f-land_plots-0")).to_contain_text("Земельный участок № 1")
        expect(page.get_by_label("Название площадки (кластера)")).to_have_value(site)  # what was typed stays
        expect(page.locator("#f-land_plots-0").get_by_label("Кадастровый номер")).to_be_focused()  # the row's first
        page.get_by_label(AREA).fill(str(area))
        page.get_by_label("Единица измерения: площадь участка").select_option(label="га")

        # saved with «Субъект РФ» left empty: the message sits at that field, the summary takes the focus
        page.get_by_role("button", name="Сохранить заявку").first.click()
        problems = page.locator("#problems")
        expect(problems).to_be_focused()
        expect(problems.get_by_role("heading")).to_have_text("Заявка не сохранена: исправьте 1 ошибку")
        expect(problems.locator("li")).to_have_text(["Субъект РФ: обязательное поле не заполнено"])
        region_field = page.get_by_label("Субъект РФ")
        expect(region_field).to_have_attribute("aria-invalid", "true")
        expect(region_field).to_have_attribute("aria-describedby", re.compile(r"\bf-region-error\b"))
        error = page.locator("#f-region-error")
        expect(error).to_have_text("обязательное поле не заполнено")
        expect(error).to_be_visible()
        expect(page.locator(".field.invalid", has=region_field)).to_contain_text("обязательное поле не заполнено")
        expect(page.locator("[aria-invalid=true]")).to_have_count(1)  # no other field is marked
        expect(page.get_by_label(AREA)).to_have_value(str(area))
        expect(page.locator("#sec-management_company").get_by_label("ИНН")).to_have_value(inn)
        # the viewport, not the full page: a full-page capture paints the sticky «Сохранить» bar mid-form
        page.set_viewport_size({"width": LAPTOP["width"], "height": 1000})
        shot(page, "11-editor-errors", full_page=False)  # the summary and the field with its message
        page.set_viewport_size(LAPTOP)

        region_field.fill(region)
        page.get_by_role("button", name="Сохранить заявку").first.click()
        expect(page).to_have_url(re.compile(r"/applications/[^/?]+\?msg=created$"))
        app_url = page.url.split("?")[0]
        expect(page.get_by_role("heading", level=1)).to_have_text(site)
        expect(page.get_by_role("status")).to_have_text("Заявка сохранена.")
        facts = page.locator("dl.facts")
        expect(facts.locator("div", has=page.locator("dt", has_text="Субъект РФ")).locator("dd")).to_have_text(region)
        expect(facts.locator("div", has=page.locator("dt", has_text="Управляющая компания")).locator("dd")
               ).to_have_text(f"{company}, ИНН {inn}")
        expect(page.locator("ul.versions li")).to_contain_text("Версия 1 — ")
        expect(page.locator("ul.versions li")).to_contain_text("форма")
        expect(page.get_by_label("Дата оценки")).to_have_value(filed.isoformat())  # the filing date by default
        shot(page, "12-application")

        # the first check (in a worker process, as `compliance serve` runs them; the pool starts on first use)
        assert served.workers() == []
        page.get_by_role("button", name="Проверить").click()
        page.wait_for_url(re.compile(r"/checks/[0-9a-f]+$"), timeout=60_000)
        workers = served.workers()
        assert len(workers) == 1, (workers, served.log()[-2000:])  # COMPLIANCE_MAX_WORKERS defaults to 1
        expect(page.locator("#verdict")).to_have_text("не соответствует требованиям")
        blocking = page.locator('ol.blocking > li[data-requirement="794-P-1"]')
        expect(blocking).to_be_visible()
        expect(blocking.locator(".gap")).to_have_text(gap)
        expect(page.locator("article#f-794-P-1")).to_have_attribute("data-status", "not_met")
        shot(page, "13-report-top", full_page=False)

        with page.expect_download() as json_download:
            page.get_by_role("link", name="Скачать JSON").click()
        result = json.loads(Path(json_download.value.path()).read_text("utf-8"))
        finding = next(f for f in result["reports"][0]["findings"] if f["requirement_id"] == "794-P-1")
        assert (finding["norm"]["value"], finding["fact"]["value"]) == (norm, area)
        assert finding["shortfall"]["text"] == gap

        with page.expect_download() as word_download:
            page.get_by_role("link", name="Скачать отчёт Word (.docx)").click()
        word = word_download.value
        assert word.suggested_filename == f"Отчёт — {site} — {filed:%d.%m.%Y}.docx"
        text = docx_text(word.path())
        assert site in text and "794-P-1" in text and gap in text

        # a second version: enough area for the norm, checked again
        page.goto(app_url)
        page.get_by_role("link", name="Редактировать").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Редактирование заявки «{site}»")
        plot_area = page.get_by_label(AREA)
        expect(plot_area).to_have_value(str(area))
        enough = norm + 1
        plot_area.fill(f"{enough:g}".replace(".", ","))
        page.get_by_role("button", name="Сохранить заявку").first.click()
        expect(page).to_have_url(re.compile(r"\?msg=updated$"))
        expect(page.get_by_role("status")).to_have_text("Сохранена новая версия заявки.")
        page.get_by_role("button", name="Проверить").click()
        page.wait_for_url(re.compile(r"/checks/[0-9a-f]+$"), timeout=60_000)
        expect(page.locator("article#f-794-P-1")).to_have_attribute("data-status", "met")
        expect(page.locator('ol.blocking > li[data-requirement="794-P-1"]')).to_have_count(0)

        # the history: «было» the first check, «стало» the second
        page.goto(app_url)
        history = rows(page)
        expect(history).to_have_count(2)
        expect(history.nth(0).locator("td").nth(1)).to_have_text("2")  # newest first: version 2
        history.nth(1).get_by_role("radio", name=re.compile("^было")).check()
        history.nth(0).get_by_role("radio", name=re.compile("^стало")).check()
        page.get_by_role("button", name="Сравнить выбранные проверки").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Что изменилось между проверками")
        expect(page.locator("#compare-summary")).to_have_text("Находки изменились.")
        changed = page.locator('#compare-ip794 tr[data-requirement="794-P-1"]')
        expect(changed).to_be_visible()
        cells = changed.locator("td")
        expect(cells.nth(0)).to_have_text("не выполнено → выполнено")  # whitespace normalised by Playwright
        expect(cells.nth(1)).to_have_text(f"{shown(area, 'ha')} → {shown(enough, 'ha')}")
        expect(cells.nth(2)).to_have_text(f"{gap} → нет")
        shot(page, "14-compare")
    finally:
        context.close()


# --- helpers of the check pages -------------------------------------------------------------------------------------
def run_check(page, app_id: str, regime: str | None = None) -> str:
    """Run a check from the application page as a person does (the «Режим» select by its visible text, then
    «Проверить»); the new check's id, the browser on its report."""
    page.goto(f"/applications/{app_id}")
    if regime:
        page.get_by_label("Режим", exact=True).select_option(label=regime)
    page.get_by_role("button", name="Проверить").click()
    page.wait_for_url(re.compile(r"/checks/[0-9a-f]+$"))
    return page.url.rsplit("/", 1)[1]


def stored_check(org, check_id: str) -> dict:
    """The stored check with its full result, read through the JSON API (what the page should agree with)."""
    import httpx

    r = httpx.get(f"{org.server.url}/api/v1/checks/{check_id}", headers={"Authorization": f"Bearer {org.token}"},
                  timeout=30)
    assert r.status_code == 200, r.text[:2000]
    return r.json()


def no_sideways_scroll(page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} scrolls sideways at {width[1]} px: scrollWidth {width[0]}"


# --- the application form editor: keyboard ------------------------------------------------------------------------
def tab_to(page, test: str, limit: int = 250) -> dict:
    """Press Tab until the focused element satisfies the JavaScript expression `test` (on `e`, the focused element);
    what is focused then. Fails when `limit` presses do not get there."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const e = document.activeElement; return Boolean({test}); }})()"):
            return focused(page)
    pytest.fail(f"{limit} нажатий Tab не привели к элементу ({test}); фокус: {focused(page)}")


def test_keyboard_opens_the_land_plots_section_and_adds_rows_with_space_and_enter(signed_in_page):
    page = signed_in_page
    page.goto("/applications/new")
    plots = page.locator("#sec-land_plots")
    expect(plots).not_to_have_attribute("open", "")  # an empty section starts closed
    tab_to(page, "e.tagName === 'SUMMARY' && e.parentElement.id === 'sec-land_plots'")
    page.keyboard.press("Enter")
    expect(plots).to_have_attribute("open", "")
    add = tab_to(page, "e.value === 'add:land_plots'")
    assert add["text"] == "Добавить земельный участок", add
    assert add["outline"] != "none" and add["outlineWidth"] >= 2, f"focus is not visible: {add}"

    page.keyboard.press("Space")  # the button submits the form: the server adds a row, nothing is saved
    expect(page.locator("#f-land_plots-0")).to_be_visible()
    expect(page.locator("#f-land_plots-0 > legend")).to_have_text("Земельный участок № 1")
    assert page.evaluate("document.getElementById('f-land_plots-0').contains(document.activeElement)"), focused(page)
    page.keyboard.type("69:10:0000011:15")  # the focus is in the new row: typing fills its first field

    tab_to(page, "e.value === 'add:land_plots'")
    page.keyboard.press("Enter")
    expect(page.locator("#sec-land_plots fieldset.row")).to_have_count(2)
    expect(page.locator("#f-land_plots-1 > legend")).to_have_text("Земельный участок № 2")
    assert page.evaluate("document.getElementById('f-land_plots-1').contains(document.activeElement)"), focused(page)
    expect(page.locator("#f-land_plots-0-cadastral_number")).to_have_value("69:10:0000011:15")
    expect(page.locator("#sec-land_plots h2")).to_contain_text("(2)")
    assert page.evaluate("location.pathname") == "/applications/new"  # still the unsaved new form


# --- the check result page ------------------------------------------------------------------------------------------
def test_status_filter_shows_the_chosen_statuses_and_counts_agree(signed_in_page, org):
    """«Показано требований: N из M» counts every requirement: the findings (article.finding) and the document
    requirements, which the page lists in the document checklist below (filtered by the same boxes)."""
    from collections import Counter

    page = signed_in_page
    check_id = run_check(page, org.upload(GAPS))
    findings = stored_check(org, check_id)["reports"][0]["findings"]
    by_status = Counter(f["status"] for f in findings)
    articles_by = Counter(f["status"] for f in findings if f["kind"] != "document")
    documents_by = Counter(f["status"] for f in findings if f["kind"] == "document")
    total = len(findings)
    assert articles_by["not_met"] and articles_by["met"] and documents_by["not_met"], by_status  # a filter to see

    articles = page.locator("article.finding")
    document_rows = page.locator("#documents tr[data-status]")

    def shown_on_page(statuses: set[str]) -> int:
        n_articles = sum(articles_by[s] for s in statuses)
        n_documents = sum(documents_by[s] for s in statuses)
        expect(articles).to_have_count(n_articles)
        expect(document_rows).to_have_count(n_documents)
        assert set(articles.evaluate_all("a => a.map(x => x.dataset.status)")) == {
            s for s in statuses if articles_by[s]}
        assert set(document_rows.evaluate_all("a => a.map(x => x.dataset.status)")) == {
            s for s in statuses if documents_by[s]}
        return n_articles + n_documents

    assert shown_on_page(set(by_status)) == total
    expect(page.locator("#filter-result")).to_have_text(f"Показаны все требования: {total}.")
    boxes = page.locator("#findings form.filter input[name=status]")
    expect(boxes).to_have_count(len(by_status))  # one box per status that occurs
    for status, n in by_status.items():
        box = boxes.and_(page.locator(f"[value={status}]"))
        expect(box).to_be_checked()
        expect(page.locator("#findings form.filter label.check", has=page.locator(f"input[value={status}]"))
               ).to_contain_text(f"({n})")
        expect(page.locator(f"#count-{status} .n")).to_have_text(str(n))

    keep = {"not_met"}
    for status in by_status:
        if status not in keep:
            boxes.and_(page.locator(f"[value={status}]")).uncheck()
    page.get_by_role("button", name="Показать").click()
    expect(page).to_have_url(re.compile(r"/checks/[0-9a-f]+\?status=not_met#findings$"))
    shown = shown_on_page(keep)
    assert shown == by_status["not_met"]
    expect(page.locator("#filter-result")).to_have_text(
        f"Показано требований: {shown} из {total}; скрыто фильтром: {total - shown}.")
    expect(boxes.and_(page.locator("[value=met]"))).not_to_be_checked()  # the form shows the filter in force
    expect(page.locator("article#f-794-P-1")).to_be_visible()  # a blocking gap of this fixture, not hidden

    keep.add("met")
    boxes.and_(page.locator("[value=met]")).check()
    page.get_by_role("button", name="Показать").click()
    shown = shown_on_page(keep)
    expect(page.locator("#filter-result")).to_have_text(
        f"Показано требований: {shown} из {total}; скрыто фильтром: {total - shown}.")

    page.get_by_role("link", name="Показать все").click()
    assert shown_on_page(set(by_status)) == total
    expect(page.locator("#filter-result")).to_have_text(f"Показаны все требования: {total}.")


def test_all_suitable_regimes_give_the_matrix_with_both_regimes(signed_in_page, org):
    page = signed_in_page
    check_id = run_check(page, org.upload("brownfield-794-1863.yaml"), "Все подходящие режимы — матрица соответствия")
    result = stored_check(org, check_id)
    matrix = result["matrix"]
    rows_ = page.locator("#matrix table.matrix tbody tr")
    expect(page.locator("#matrix")).to_be_visible()
    expect(rows_).to_have_count(len(matrix))
    ids = rows_.evaluate_all("rs => rs.map(r => r.id)")
    assert ids == [f"matrix-{m['regime']}" for m in matrix]  # in the product's order: closest to conformity first
    assert {"matrix-ip794", "matrix-itp1863"} <= set(ids), ids
    for m in matrix:
        row = page.locator(f"#matrix-{m['regime']}")
        expect(row.locator("th a")).to_have_text(m["regime_title"])
        expect(row.locator("td").first).to_have_text(m["verdict_text"])
        expect(row.locator("td").nth(1)).to_have_text(str(m["blocking_not_met"]))
    shot(page, "20-matrix")

    page.locator("#matrix-itp1863 th a").click()  # the regime's own report, on the same page
    expect(page).to_have_url(re.compile(r"\?regime=itp1863#report$"))
    itp = next(r for r in result["reports"] if r["regime"] == "itp1863")
    expect(page.locator("#summary-title")).to_have_text(f"Итог: {itp['regime_title']}")
    expect(page.locator("#verdict")).to_have_text(itp["verdict_text"])


# --- the GOST assessment page -----------------------------------------------------------------------------------------
GOST_JUDGEMENTS = "gost-judgements-htp1381.yaml"
ASSESSED = ["G-3.2-1", "G-INF-3", "G-UK-1"]  # three manual criteria of the fixture's judgements
WAIVED = "G-DOC-1"


def test_gost_assessment_in_the_browser_gives_the_conclusion_of_a_direct_evaluation(signed_in_page, org):
    from compliance.evaluate import evaluate
    from compliance.judgements import JudgementsFile
    from compliance.loading import validate
    from compliance.report import stated_conclusion

    page = signed_in_page
    judged = fixture_body(GOST_JUDGEMENTS)
    header = (FIXTURES / GOST_JUDGEMENTS).read_text("utf-8").splitlines()[0]
    application = re.search(r"\(fixtures/([\w.-]+\.yaml)\)", header).group(1)  # the application it was written for
    app = validate(fixture_body(application))
    regime = judged["regime"]
    chosen = {j["requirement_id"]: j for j in judged["judgements"] if j["requirement_id"] in ASSESSED}
    waiver = next(w for w in judged["waivers"] if w["requirement_id"] == WAIVED)
    assert len(chosen) == len(ASSESSED)

    run_check(page, org.upload(application), "Технопарк по ГОСТ Р 56425")
    before = evaluate(app, regime)
    expect(page.locator("#conclusion")).to_have_text(stated_conclusion(before)[1])
    page.get_by_role("link", name="Оценка эксперта").click()
    expect(page).to_have_url(re.compile(rf"/assessment\?regime={regime}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Оценка эксперта: "))

    # a verdict without a comment: refused, the message at that criterion's comment
    first = ASSESSED[0]
    page.get_by_label("ФИО эксперта").fill(judged["assessor"])
    page.get_by_label(f"Вердикт по критерию {first}").select_option(label="выполнено")
    page.get_by_role("button", name="Сохранить оценку").click()
    alert = page.locator("#problems")
    expect(alert.get_by_role("heading")).to_have_text("Оценка не сохранена")
    expect(alert.locator("li")).to_have_text([f"{first}, комментарий: Напишите комментарий: на чём основан вердикт."])
    comment = page.get_by_label(f"Комментарий по критерию {first}")
    expect(comment).to_have_attribute("aria-invalid", "true")
    criterion = page.locator("fieldset.criterion", has=page.locator("legend .rid", has_text=first))
    error = criterion.locator(".f-comment .error")
    expect(error).to_have_text("Напишите комментарий: на чём основан вердикт.")
    expect(comment).to_have_attribute("aria-describedby", re.compile(rf"\b{error.get_attribute('id')}\b"))
    expect(page.get_by_label(f"Вердикт по критерию {first}")).to_have_value("met")  # kept
    expect(page.get_by_label("ФИО эксперта")).to_have_value(judged["assessor"])
    shot(page, "21-assessment-error")

    for rid, j in chosen.items():
        page.get_by_label(f"Вердикт по критерию {rid}").select_option(value=j["verdict"])
        page.get_by_label(f"Комментарий по критерию {rid}").fill(j["comment"])
        page.get_by_label(f"Дата оценки по критерию {rid}").fill(j["date"].isoformat())
    page.get_by_label(f"Обоснование отклонения по критерию {WAIVED}").fill(waiver["justification"])
    page.get_by_label(f"Отклонение действует до по критерию {WAIVED}").fill(waiver["expires"].isoformat())
    page.get_by_label(f"Кто утвердил по критерию {WAIVED}").fill(waiver["approved_by"])
    page.get_by_label("Организация эксперта").fill(judged["organisation"])
    page.get_by_role("button", name="Сохранить оценку").click()

    expect(page).to_have_url(re.compile(rf"/checks/[0-9a-f]+/assessment\?regime={regime}&saved=1$"))
    expect(page.get_by_role("status")).to_have_text("Оценка сохранена")
    # the fixture names this application (compliance judgements bind); the page names the same version
    data = {"regime": regime, "catalog_version": judged["catalog_version"], "application": judged["application"],
            "assessor": judged["assessor"],
            "organisation": judged["organisation"],
            "judgements": [{"requirement_id": rid, "verdict": j["verdict"], "comment": j["comment"],
                            "date": j["date"]} for rid, j in chosen.items()],
            "waivers": [{"requirement_id": WAIVED, "justification": waiver["justification"],
                         "expires": waiver["expires"], "approved_by": waiver["approved_by"]}]}
    judged_report = evaluate(app, regime, judgements=JudgementsFile.model_validate(data))
    expected = judged_report.assessment
    assert expected.conclusion != before.assessment.conclusion  # the assessment changes the conclusion: can fail
    # criteria the browser left unjudged still await the expert: the page states the verdict, not «соответствует»
    assert judged_report.verdict == "pending_review" and expected.conclusion == "conforms_with_remarks"
    assert stated_conclusion(judged_report) == ("pending_review", judged_report.verdict_text)
    expect(page.locator("#conclusion")).to_have_text(stated_conclusion(judged_report)[1])
    total = page.locator("#assessment tr.total td")
    expect(total.nth(0)).to_have_text(f"{expected.overall.mandatory_met} из {expected.overall.mandatory_applicable}")
    expect(total.nth(2)).to_have_text(str(expected.overall.mandatory_waived))
    expect(page.get_by_label(f"Комментарий по критерию {first}")).to_have_value(chosen[first]["comment"])
    shot(page, "22-assessment-saved")


# --- layout at tablet width ---------------------------------------------------------------------------------------
def test_editor_and_report_at_tablet_width_have_no_horizontal_page_scroll(signed_in_page, org):
    page = signed_in_page
    page.set_viewport_size(TABLET)
    page.goto("/applications/new")
    no_sideways_scroll(page)
    page.locator("#sec-land_plots > summary").click()
    page.get_by_role("button", name="Добавить земельный участок").click()
    expect(page.locator("#f-land_plots-0")).to_be_visible()
    no_sideways_scroll(page)  # a row of the list: three fields with a unit select

    app_id = org.upload(GAPS)
    page.goto(f"/applications/{app_id}/edit")
    no_sideways_scroll(page)
    run_check(page, app_id)
    expect(page.locator("#verdict")).to_be_visible()
    no_sideways_scroll(page)
    shot(page, "30-report-tablet")
    shot(page, "31-report-tablet-top", full_page=False)


# --- many files and many checks at once -----------------------------------------------------------------------------
def test_three_files_in_one_upload_then_check_all_gives_the_batch_table(signed_in_page, org):
    from compliance.evaluate import evaluate
    from compliance.formatting import field_label
    from compliance.loading import InputError, load_application

    page = signed_in_page
    batch = FIXTURES / "batch"
    good = ["cluster-01-conforming-chem-tatarstan.json", "cluster-04-contract-only-other.json"]
    broken = "broken-bad-inn.json"
    with pytest.raises(InputError) as caught:
        load_application(batch / broken)
    first = caught.value.problems[0]
    page.get_by_role("navigation", name="Основное меню").get_by_role("link", name="Загрузить файл").click()
    page.get_by_label("Файл заявки").set_input_files([batch / good[0], batch / broken, batch / good[1]])
    page.get_by_role("button", name="Загрузить").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Результат загрузки файлов")
    files = page.locator("table.batch-files tbody tr")
    expect(files).to_have_count(3)
    expect(files.locator("th")).to_have_text([good[0], broken, good[1]])
    expect(files.locator(".badge")).to_have_text(["сохранена", "не принята", "сохранена"])
    expect(files.nth(1).locator("ul.problems li")).to_have_count(len(caught.value.problems))
    expect(files.nth(1).locator("ul.problems li").first).to_have_text(f"{field_label(first.path)}: {first.message}")
    page.get_by_role("button", name="Проверить все").click()

    expect(page).to_have_url(re.compile(r"/checks/batch\?ids=[0-9a-f]+,[0-9a-f]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Пакетная проверка")
    table = page.locator("table.batch tbody tr")
    expect(table).to_have_count(2)
    models = [load_application(batch / name) for name in good]
    expect(table.locator("th a")).to_have_text([m.site_name for m in models])
    verdicts = [evaluate(m, "cl779").verdict for m in models]
    assert verdicts == ["conforms", "does_not_conform"]  # the fixtures' intended outcomes (fixtures/batch/expected.csv)
    expect(table.locator(".badge")).to_have_text(["соответствует", "не соответствует"])
    expect(page.locator("ul.batch-counts li")).to_have_text(["соответствует 1", "не соответствует 1"])
    expect(table.nth(1).locator("ul.gaps li").first).to_contain_text("779-C-1")
    shot(page, "40-batch")
    page.set_viewport_size(TABLET)  # the wide table scrolls in its own box, the page does not
    no_sideways_scroll(page)
    page.set_viewport_size(LAPTOP)

    table.nth(1).get_by_role("link", name=re.compile("^Отчёт")).click()  # each row leads to its stored check
    expect(page).to_have_url(re.compile(r"/checks/[0-9a-f]+$"))
    assert stored_check(org, page.url.rsplit("/", 1)[1])["verdicts"] == {"cl779": "does_not_conform"}
    page.goto("/applications")  # «Выбрать все на странице» (a line of JavaScript) ticks every row
    page.get_by_label("Выбрать все на странице").check()
    expect(page.locator('input[name="ids"]:checked')).to_have_count(2)
