"""The pages of background jobs: the «каталог обновлён» banner with its button (nothing is re-checked without it), the
job page with its progress bar, the JSON it polls and the cancel button (CSRF-protected forms), the re-check's result
with the diff per requirement and its download, and another organisation kept out."""
from __future__ import annotations

import json
import time
import warnings

from lxml import html as lxml_html

warnings.filterwarnings("ignore", message=".*httpx.*")

import compliance.catalog as catalog_module  # noqa: E402
from compliance.jobs import STATUS_RU, Job  # noqa: E402
from compliance.report import STATUS_RU as FINDING_RU, VERDICT_RU  # noqa: E402
from test_api import fixture_json  # noqa: E402
from test_jobs import stricter_catalog  # noqa: E402
from webclient import admin_client, csrf_of, second_org, web_client  # noqa: E402

V1 = "/api/v1"


def setup(tmp_path):
    web = web_client(tmp_path, jobs_broker=f"sqlite:///{tmp_path / 'queue.db'}")
    bearer = {"Authorization": f"Bearer {web.token}"}
    ids = []
    for name in ("ip794-operating-conforming.yaml", "ip794-created-gaps.yaml"):
        app_id = web.client.post(f"{V1}/applications", json=fixture_json(name), headers=bearer).json()["id"]
        assert web.client.post(f"{V1}/applications/{app_id}/checks", headers=bearer).status_code == 201
        ids.append(app_id)
    return web, ids


def text_of(page: str) -> str:
    return " ".join(lxml_html.fromstring(page).text_content().split())


def test_catalog_banner_button_job_page_and_the_result_with_the_diff(tmp_path, monkeypatch):
    web, (flips, stays) = setup(tmp_path)
    assert "каталог обновлён" not in web.client.get("/applications").text.lower()
    monkeypatch.setattr(catalog_module, "ROOT", stricter_catalog(tmp_path))
    listing = web.client.get("/applications").text
    assert "Каталог обновлён: 2 заявки проверены по прежней версии каталога" in text_of(listing)
    assert 'action="/jobs/recheck"' in listing
    # the form is CSRF-protected like every other
    assert web.client.post("/jobs/recheck", data={}, follow_redirects=False).status_code == 403
    r = web.post("/jobs/recheck")
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    job_url = r.headers["location"]
    page = web.client.get(job_url).text
    tree = lxml_html.fromstring(page)
    assert tree.xpath("//progress[@id='job-bar']/@max") == ["2"]
    assert tree.xpath("//form[@action=$a]", a=f"{job_url}/cancel")  # a queued job can be cancelled
    assert tree.xpath("//script/@src") == ["/static/jobs.js"]
    progress = web.client.get(f"{job_url}/progress").json()
    assert progress == {"status": "queued", "status_text": STATUS_RU["queued"], "total": 2, "done": 0,
                        "finished": False, "has_result": False, "cancel_requested": False}
    assert web.client.get(f"{job_url}/result").status_code == 409  # no result before the job is done
    with web.client:  # the service's own consumer runs the job
        deadline = time.monotonic() + 120
        while not web.client.get(f"{job_url}/progress").json()["finished"] and time.monotonic() < deadline:
            time.sleep(0.1)
    progress = web.client.get(f"{job_url}/progress").json()
    assert (progress["status"], progress["done"], progress["has_result"]) == ("done", 2, True)
    page = web.client.get(job_url).text
    assert f'href="{job_url}/result"' in page and 'action="' + job_url + '/cancel"' not in page
    result = web.client.get(f"{job_url}/result").text
    words = text_of(result)
    assert "Каталог обновлён: 1 заявка изменила итог." in words
    assert (f"{VERDICT_RU['pending_review']} → {VERDICT_RU['does_not_conform']}") in words
    row = lxml_html.fromstring(result).xpath("//table[contains(@class,'recheck-diff')]//tr[td]")
    assert [" ".join(r.text_content().split()) for r in row][0].startswith("794-P-1")
    assert [td.text_content() for td in row[0].xpath("td")][1:] == [FINDING_RU["met"], FINDING_RU["not_met"]]
    assert f'href="/applications/{flips}"' in result and f'href="/applications/{stays}"' not in result
    download = web.client.get(f"{job_url}/result.json")
    assert download.headers["content-disposition"].startswith("attachment")
    assert json.loads(download.content)["changed_count"] == 1
    # the banner now tells the outcome and links to it
    listing = web.client.get("/applications").text
    assert "Каталог обновлён: 1 заявка изменила итог" in text_of(listing) and f"{job_url}/result" in listing
    # another organisation sees neither the job nor its result
    other = second_org(web)
    assert other.get(job_url).status_code == 404 and other.get(f"{job_url}/result").status_code == 404
    assert other.get(f"{job_url}/progress").status_code == 404


def test_cancel_button_and_the_administrators_choice(tmp_path):
    web, _ = setup(tmp_path)
    jobs = web.client.get("/jobs").text
    assert 'name="scope"' not in jobs  # not an administrator: no «всех организаций»
    refused = web.post("/jobs/recheck", {"scope": "all"})
    assert refused.status_code == 403 and "только администратор" in text_of(refused.text)
    r = web.post("/jobs/recheck")
    job_url = r.headers["location"]
    r = web.post(f"{job_url}/cancel")
    assert r.status_code == 303
    page = text_of(web.client.get(job_url).text)
    assert f"Состояние: {STATUS_RU['cancelled']}" in page and "Итога нет" in page
    assert web.post(f"{job_url}/cancel").status_code == 409
    listing = text_of(web.client.get("/jobs").text)
    assert "Повторная проверка заявок по обновлённому каталогу" in listing and "0 из 2" in listing


def test_an_administrator_chooses_every_organisation_on_the_page(tmp_path):
    web, ids = setup(tmp_path)  # two applications of the organisation «УК «Тест»»
    administrator_starts_for_all(web, ids, "/jobs", "/jobs/recheck")


def administrator_starts_for_all(web, ids: list[str], page_url: str, form_url: str, files: dict | None = None) -> None:
    """An administrator's page offers «заявки всех организаций»; the job started with it covers `ids` (every
    organisation's applications), is listed as such, and the organisation does not see it."""
    admin = admin_client(web)
    page = admin.get(page_url).text
    assert 'name="scope" value="all"' in page and "заявки всех организаций" in page
    r = admin.post(form_url, data={"scope": "all", "csrf": csrf_of(page)}, files=files, follow_redirects=False)
    assert r.status_code == 303
    job_id = r.headers["location"].rsplit("/", 1)[1]
    with web.app.state.sessions() as s:
        assert s.get(Job, job_id).items == ids and s.get(Job, job_id).parameters["scope"] == "all"
    assert "(все организации)" in admin.get(page_url).text
    assert web.client.get(f"/jobs/{job_id}").status_code == 404  # the organisation does not see the admin's job
