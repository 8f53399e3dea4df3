"""In a real browser: after a catalog change the list of applications says «каталог обновлён…» with a button; the button
starts the re-check, the job page moves its progress bar by itself (it polls the job's progress) and shows the result
link when the job is done; the result names the application whose verdict changed and the requirement behind it."""
from __future__ import annotations

import dataclasses
import time

import httpx

import compliance.catalog as catalog_module
from compliance.jobs import KINDS
from browser import shot, sign_in
from test_jobs import stricter_catalog


def test_the_recheck_button_job_progress_and_result_in_a_browser(page, org, server, tmp_path, monkeypatch):
    auth = {"Authorization": f"Bearer {org.token}"}
    ids = [org.upload(name) for name in ("ip794-operating-conforming.yaml", "ip794-created-gaps.yaml")]
    for app_id in ids:
        assert httpx.post(f"{server.url}/api/v1/applications/{app_id}/checks", headers=auth,
                          timeout=60).status_code == 201
    monkeypatch.setattr(catalog_module, "ROOT", stricter_catalog(tmp_path))  # the service runs in this process
    kind = KINDS["recheck"]

    def slow(ctx, session, key):  # each item takes a while, so the page sees the job unfinished and polls
        time.sleep(1.5)
        return kind.process(ctx, session, key)
    monkeypatch.setitem(KINDS, "recheck", dataclasses.replace(kind, process=slow))
    sign_in(page, org.token)
    banner = page.locator(".catalog-banner")
    assert "Каталог обновлён: 2 заявки проверены по прежней версии каталога" in banner.inner_text()
    banner.get_by_role("button", name="Проверить заявки заново").click()
    page.wait_for_url(lambda url: "/jobs/" in url)
    assert page.locator("#job").get_attribute("data-finished") == "no"
    assert page.get_by_role("button", name="Отменить задание").is_visible()
    # the page was loaded while the job was queued or running; the result link appears without a reload by hand
    page.get_by_role("link", name="Итог").wait_for(timeout=60_000)
    assert page.locator("#job-status").inner_text() == "готово"
    assert page.locator("#job-bar").get_attribute("value") == "2"
    shot(page, "job-done")
    page.get_by_role("link", name="Итог").click()
    text = page.locator("main").inner_text()
    assert "Каталог обновлён: 1 заявка изменила итог." in text
    assert "794-P-1" in text
    shot(page, "recheck-result")
