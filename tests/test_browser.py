"""The web pages in a real browser (Chromium through Playwright): sign-in, the applications list with search, uploading
a file, the application page, keyboard use, a tablet-width layout, sign-out. Screenshots go to out/screenshots/.

How to add a test (fixtures `server`, `chromium`, `page`, `org`, `signed_in_page` come from tests/browser.py):
  def test_something(signed_in_page, org):      # a new organisation, signed in, on /applications
      app_id = org.upload("ip794-created-gaps.yaml")    # seed through the API when the upload itself is not the point
      signed_in_page.goto(f"/applications/{app_id}")
      expect(signed_in_page.get_by_role("heading", level=1)).to_have_text("…")
      shot(signed_in_page, "some-page")
Sections below: sign-in · list and search · upload and the application page · keyboard and layout · sign-out.
Planned sections (pages being built now): the application form editor, the check result page, the GOST assessment.
"""
from __future__ import annotations

import re

import pytest
import yaml

from browser import FIXTURES, MISSING, TABLET, chromium_found, shot, sign_in

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
    assert page.context.cookies() == []  # not signed in
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


# --- the application form editor (/applications/new): tests to come ----------------------------------------------
# --- the check result page (POST /applications/{id}/check → /checks/{id}): tests to come --------------------------
# --- the GOST assessment page: tests to come ------------------------------------------------------------------------
