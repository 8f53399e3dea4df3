"""In a real browser: the «Проект изменений» page from the menu — a scenario that does not load is shown with its
line and field; the 2025 draft starts the job, its page shows the result link when it is done, and the result page
shows the totals, the verdict changes and the sites by region with the three downloads."""
from __future__ import annotations

from browser import shot, sign_in
from test_jobs_impact import DRAFT


def test_the_impact_page_job_and_result_in_a_browser(page, org, server, tmp_path):
    for name in ("scenarios/sites/park-plot-5km.yaml", "scenarios/sites/park-two-residents.yaml",
                 "ip794-operating-conforming.yaml"):
        org.upload(name)
    sign_in(page, org.token)
    page.get_by_role("link", name="Проект изменений").click()
    page.wait_for_url(lambda url: url.endswith("/impact"))
    bad = tmp_path / "проект.yaml"
    bad.write_text("title: x\n", encoding="utf-8")
    page.set_input_files("#file", str(bad))
    page.get_by_role("button", name="Оценить последствия").click()
    alert = page.locator("#problems").inner_text()
    assert "проект.yaml, строка 1: source: обязательное поле не заполнено" in alert
    shot(page, "impact-refused")
    page.set_input_files("#file", str(DRAFT))
    page.get_by_role("button", name="Оценить последствия").click()
    page.wait_for_url(lambda url: "/jobs/" in url)
    page.get_by_role("link", name="Итог").wait_for(timeout=120_000)
    page.get_by_role("link", name="Итог").click()
    text = page.locator("main").inner_text()
    assert "Последствия проекта изменений" in text and "Проект изменений в ПП № 794 (2025 г.)" in text
    assert "итог ухудшится у 1, улучшится у 2, останется прежним у 0" in " ".join(text.split())
    assert "794-P-4 «Единая территория»: не выполнено → выполнено (было: превышение на 5 км)" in text
    for name in ("Скачать таблицу (Excel)", "Справка для письма (Word)", "Итог в JSON"):
        assert page.get_by_role("link", name=name).is_visible()
    shot(page, "impact-result")
