"""The pages of a draft amendment's impact (api/web/impact.py): the «Проект изменений» page in the menu with its form
(CSRF-protected; a scenario that does not load is shown with its Russian problems and no job is made), the job page's
progress, the result page — totals, how verdicts change, requirements, sites by region — computed like the command's,
the three downloads, the administrator's choice of every organisation, and another organisation kept out."""
from __future__ import annotations

import io
import time
import warnings

import docx
from lxml import html as lxml_html
from openpyxl import load_workbook
from sqlalchemy import func, select

warnings.filterwarnings("ignore", message=".*httpx.*")

from compliance.impact import load_scenario, run_impact, totals_rows  # noqa: E402
from compliance.jobs import Job  # noqa: E402
from compliance.storage import Organisation  # noqa: E402
from test_jobs_impact import DRAFT, FILES  # noqa: E402
from test_web_jobs import administrator_starts_for_all, text_of  # noqa: E402
from tests.docxtext import body_text  # noqa: E402
from webclient import second_org, web_client  # noqa: E402


def setup(tmp_path, files=FILES):
    web = web_client(tmp_path, jobs_broker=f"sqlite:///{tmp_path / 'queue.db'}")
    ids = [web.upload(str(path.relative_to(DRAFT.parents[1]))) for path in files]
    return web, ids


def run_impact_job(web, data: dict | None = None, scenario=DRAFT) -> str:
    """Start an impact job from the page and let the service's consumer finish it; the job's address."""
    r = web.post("/impact", data or {}, files={"file": (scenario.name, scenario.read_bytes())})
    assert r.status_code == 303, r.text[:2000]
    job_url = r.headers["location"]
    with web.client:
        deadline = time.monotonic() + 180
        while not web.client.get(f"{job_url}/progress").json()["finished"] and time.monotonic() < deadline:
            time.sleep(0.1)
    assert web.client.get(f"{job_url}/progress").json()["status"] == "done"
    return job_url


def test_the_page_the_job_and_the_result_with_its_downloads(tmp_path):
    web, ids = setup(tmp_path)
    with web.app.state.sessions() as s:
        org = s.scalar(select(Organisation))
        org.legal_name = "АНО «Агентство развития Тульской области»"
        s.commit()
    page = web.client.get("/impact").text
    tree = lxml_html.fromstring(page)
    assert tree.xpath("//nav//a[@href='/impact']/text()") == ["Проект изменений"]
    assert tree.xpath("//form[@action='/impact']/@enctype") == ["multipart/form-data"]
    assert 'name="scope"' not in page  # not an administrator
    # the form is CSRF-protected like every other
    assert web.client.post("/impact", files={"file": (DRAFT.name, DRAFT.read_bytes())},
                           follow_redirects=False).status_code == 403
    job_url = run_impact_job(web)
    assert f'href="{job_url}/result"' in web.client.get(job_url).text
    result = web.client.get(f"{job_url}/result").text
    words = text_of(result)
    expected = run_impact([(str(f), f) for f in FILES], load_scenario(DRAFT))
    t = expected.totals
    assert (f"Оценено заявок по режимам, которые меняет проект: {t.evaluated}. Если проект примут, итог ухудшится у "
            f"{t.worse}, улучшится у {t.better}, останется прежним у {t.same}") in words
    tree = lxml_html.fromstring(result)

    def rows(table_id: str) -> list[list[str]]:
        return [[" ".join(td.text_content().split()) for td in tr.xpath("td")]
                for tr in tree.xpath(f"//table[@id='{table_id}']//tr[td]")]
    assert rows("impact-totals") == [[k, str(v)] for k, v in totals_rows(expected)]
    assert rows("impact-transitions") == [[x.regime_title, x.before_text, x.after_text, str(x.sites)]
                                          for x in expected.transitions]
    assert [r[0] for r in rows("impact-requirements")] == [f"{x.requirement_id} {x.title}" for x in expected.requirements]
    assert rows("impact-regions") == [[x.region, str(x.sites), str(x.worse), str(x.better), str(x.same)]
                                      for x in expected.regions]
    changed_regions = sorted({x.region for x in expected.regions if x.worse or x.better})
    assert set(changed_regions) <= set(tree.xpath("//h3/text()"))
    assert "794-P-4 «Единая территория»: не выполнено → выполнено (было: превышение на 5 км)" in words
    assert any(f'href="/applications/{i}"' in result for i in ids)  # own applications are linked
    assert "ip794" not in words and "min_residents_count" not in words

    links = tree.xpath("//p[@class='downloads']/a/@href")
    assert links == [f"{job_url}/impact.xlsx", f"{job_url}/impact.docx", f"{job_url}/impact.json"]
    wb = load_workbook(io.BytesIO(web.client.get(links[0]).content))
    assert wb.sheetnames[:2] == ["Итоги", "Площадки"]
    brief = body_text(docx.Document(io.BytesIO(web.client.get(links[1]).content)))
    assert brief.index("АНО «Агентство развития Тульской области»") < brief.index("ОЦЕНКА ПОСЛЕДСТВИЙ")
    assert web.client.get(links[2]).json()["totals"] == expected.totals.model_dump()
    # the list on the page links to the result
    assert f'href="{job_url}/result"' in web.client.get("/impact").text

    other = second_org(web)
    for url in (job_url, f"{job_url}/result", *links):
        assert other.get(url).status_code == 404


def test_a_bad_scenario_is_shown_on_the_page_and_makes_no_job(tmp_path):
    web, _ = setup(tmp_path, FILES[:1])
    r = web.post("/impact", {"as_of": "31.02.2027"}, files={"file": ("проект.yaml", b"title: x\n")})
    assert r.status_code == 422
    words = text_of(r.text)
    assert "Файл «проект.yaml» не принят" in words and "Задание не создано" in words
    assert "проект.yaml, строка 1: source: обязательное поле не заполнено" in words
    assert "«31.02.2027» — не дата" in words and 'value="31.02.2027"' in r.text  # both, what was typed kept
    r = web.post("/impact", {"as_of": "31.02.2027"}, files={"file": (DRAFT.name, DRAFT.read_bytes())})
    assert r.status_code == 422 and "«31.02.2027» — не дата" in text_of(r.text)
    r = web.post("/impact", {})
    assert r.status_code == 422 and "выберите файл сценария" in text_of(r.text)
    with web.app.state.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0


def test_an_administrator_chooses_every_organisation_others_are_refused(tmp_path):
    web, ids = setup(tmp_path, FILES[:2])
    refused = web.post("/impact", {"scope": "all"}, files={"file": (DRAFT.name, DRAFT.read_bytes())})
    assert refused.status_code == 403 and "только администратор" in text_of(refused.text)
    administrator_starts_for_all(web, ids, "/impact", "/impact", {"file": (DRAFT.name, DRAFT.read_bytes())})
