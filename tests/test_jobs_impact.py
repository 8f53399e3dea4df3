"""The impact of a draft amendment over stored applications as a background job (api/impact.py): the 2025 draft for 794
over applications stored through the API gives what `compliance impact` (run_impact) gives on the same files; the
organisation's applications or, for an administrator, everyone's; a bad scenario refused at upload in Russian; the
.xlsx, .json and Word brief with the organisation's letterhead; cancelling; a worker killed in the middle and the
service started again (the job resumes from its checkpoints and gives the same result); the child process that
evaluates a job's items and ends with it. On SQLite and (COMPLIANCE_TEST_POSTGRES_URL) PostgreSQL."""
from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import docx
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

import api.impact as impact_module
from compliance.impact import ImpactResult, impact_json, load_scenario, run_impact, totals_rows
from compliance.jobs import Job, JobContext, JobItem, run_job
from compliance.loading import load_application
from compliance.storage import AuditEntry, Organisation, StoredCheck
from leaks import applicant_strings, document_names
from test_api import fixture_json
from test_jobs import ROOT, V1, Svc, cancelled_after_first_item, wait, worker_dying_after
from testdb import DATABASES
from tests.docxtext import body_text, rows_under

FIXTURES = ROOT / "fixtures"
DRAFT = FIXTURES / "scenarios" / "ip794-draft-2025.yaml"
# the three example sites of the draft, the parks of fixtures/ and a technopark (a regime the draft does not touch)
FILES = sorted((FIXTURES / "scenarios" / "sites").glob("*.yaml")) + sorted(FIXTURES.glob("ip794-*.yaml")) \
    + [FIXTURES / "itp1863-operating-occupancy-gap.yaml"]


@pytest.fixture(params=DATABASES)
def svc(tmp_path, request) -> Svc:
    return Svc(tmp_path, request.param)


def store(svc: Svc, headers: dict, files=FILES) -> list[str]:
    ids = []
    for path in files:
        r = svc.client.post(f"{V1}/applications", json=fixture_json(str(path.relative_to(FIXTURES))), headers=headers)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def start(svc: Svc, headers: dict, data: dict | None = None, scenario: Path = DRAFT, name: str | None = None):
    return svc.client.post(f"{V1}/jobs/impact", files={"file": (name or scenario.name, scenario.read_bytes())},
                           data=data or {}, headers=headers)


def comparable(impact: dict) -> dict:
    """An impact result without what differs between two runs over the same applications: the time and the labels
    (file names on the command line, application numbers in the service)."""
    sites = [{k: v for k, v in s.items() if k != "label"} for s in impact["sites"]]
    return {**{k: v for k, v in impact.items() if k not in ("generated_at", "sites", "errors")}, "sites": sites,
            "errors": [e["problem"] for e in impact["errors"]]}


def test_the_job_over_stored_applications_gives_the_commands_result_and_its_files(svc):
    a = svc.token("Управляющая компания А")
    with svc.app.state.sessions() as s:  # the letterhead of the Word brief: the organisation's record
        org = s.scalar(select(Organisation).where(Organisation.name == "Управляющая компания А"))
        org.legal_name, org.address = "АНО «Агентство развития Тульской области»", "300041, г. Тула, ул. Ленина, д. 2"
        org.signer_name, org.signer_position = "Е. В. Морозова", "Директор"
        s.commit()
    ids = store(svc, a)
    checks = svc.checks()
    with svc.client:  # the service's own consumer runs the job
        r = start(svc, a)
        assert r.status_code == 202 and r.json()["kind"] == "impact" and r.json()["total"] == len(FILES)
        job = wait(svc.client, a, r.json()["id"])
    assert (job["status"], job["done"], job["has_result"]) == ("done", len(FILES), True)
    assert svc.checks() == checks  # an impact run stores no check
    result = svc.client.get(f"{V1}/jobs/{job['id']}/result", headers=a).json()["result"]
    impact = result["impact"]

    # the same as `compliance impact` over the same files (its core, run_impact), computed here
    expected = json.loads(impact_json(run_impact([(str(f), f) for f in FILES], load_scenario(DRAFT))))
    assert comparable(impact) == comparable(expected)
    assert impact["totals"]["worse"] and impact["totals"]["better"] and impact["totals"]["not_concerned"] == 1
    assert [x["application_id"] for x in result["sites"]] == ids
    assert [s["label"] for s in impact["sites"]] == [f"{i}, версия 1" for i in ids]

    xlsx = svc.client.get(f"{V1}/jobs/{job['id']}/impact.xlsx", headers=a)
    assert xlsx.status_code == 200 and xlsx.headers["content-disposition"].startswith("attachment")
    wb = load_workbook(io.BytesIO(xlsx.content))
    totals = {row[0]: row[1] for row in wb["Итоги"].iter_rows(min_row=2, values_only=True)}
    assert all(totals[k] == v for k, v in totals_rows(ImpactResult.model_validate(expected)))
    assert [row[0] for row in wb["Площадки"].iter_rows(min_row=2, values_only=True)] == \
        [s["label"] for s in impact["sites"] for r in s["regimes"] if not r["error"]]

    data = svc.client.get(f"{V1}/jobs/{job['id']}/impact.json", headers=a)
    assert json.loads(data.content) == impact

    brief = svc.client.get(f"{V1}/jobs/{job['id']}/impact.docx", headers=a)
    document = docx.Document(io.BytesIO(brief.content))
    text = body_text(document)
    assert text.index("АНО «Агентство развития Тульской области»") < text.index("ОЦЕНКА ПОСЛЕДСТВИЙ ПРОЕКТА ИЗМЕНЕНИЙ")
    assert "Е. В. Морозова" in text
    t = impact["totals"]
    assert f"Оценено {t['evaluated']} заявок по режимам, которые меняет проект" in text
    assert len(rows_under(document, ["Режим", "Итог сейчас", "Итог по проекту", "Площадок"])) == \
        len(impact["transitions"])
    allowed = [x for f in FILES for x in applicant_strings(load_application(f).model_dump(mode="json"))]
    allowed += ["АНО «Агентство развития Тульской области»"]
    leaks = {line: found for line in text.splitlines() if (found := document_names(line, allowed))}
    assert not leaks
    with svc.app.state.sessions() as s:  # each download is in the audit log
        actions = set(s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == job["id"])))
    assert {"job.create", "job.impact.xlsx", "job.impact.json", "job.impact.docx"} <= actions


def test_the_organisations_applications_or_an_administrators_choice_of_all(svc):
    a, b = svc.token("Организация А"), svc.token("Организация Б")
    admin = svc.token("Министерство", admin=True)
    (app_a,), (app_b,) = store(svc, a, FILES[:1]), store(svc, b, FILES[1:2])
    refused = start(svc, a, {"all_organisations": "true"})
    assert refused.status_code == 403 and "только администратор" in refused.json()["detail"]
    own = start(svc, b).json()
    every = start(svc, admin, {"all_organisations": "true"}).json()
    with svc.app.state.sessions() as s:
        assert s.get(Job, own["id"]).items == [app_b]  # not A's application
        assert s.get(Job, every["id"]).items == [app_a, app_b]
        assert s.scalar(select(func.count()).select_from(Job)) == 2  # the refused request made no job
    assert every["scope"] == "all" and own["scope"] == "own"
    with svc.client:
        wait(svc.client, b, own["id"])
        wait(svc.client, admin, every["id"])
    everyone = svc.client.get(f"{V1}/jobs/{every['id']}/result", headers=admin).json()["result"]
    assert {(x["application_id"], x["organisation"]) for x in everyone["sites"]} == {
        (app_a, "Организация А"), (app_b, "Организация Б")}
    assert [s["label"] for s in everyone["impact"]["sites"]] == [f"Организация А: {app_a}, версия 1",
                                                                 f"Организация Б: {app_b}, версия 1"]
    assert [x["application_id"] for x in
            svc.client.get(f"{V1}/jobs/{own['id']}/result", headers=b).json()["result"]["sites"]] == [app_b]
    # another organisation sees neither the job nor its files
    for fmt in ("xlsx", "json", "docx"):
        assert svc.client.get(f"{V1}/jobs/{own['id']}/impact.{fmt}", headers=a).status_code == 404
    assert svc.client.get(f"{V1}/jobs/{own['id']}/impact.xlsx", headers=b).status_code == 200


@pytest.mark.parametrize("name, body, status, message", [
    ("bad.yaml", b"title: x\n", 422, "bad.yaml, строка 1: source: обязательное поле не заполнено"),
    ("draft.txt", DRAFT.read_bytes(), 422, "draft.txt: сценарий пишется в файле YAML (.yaml или .yml), как каталог"),
    ("broken.yaml", b"title: [\n", 422, "broken.yaml"),
    ("other.yaml", DRAFT.read_bytes().replace(b"  ip794:", b"  ip999:"), 422, "неизвестный режим «ip999»"),
    ("big.yaml", b"#" * (2 * 1024 * 1024 + 1), 422, "файл сценария слишком велик (предел — 2 МБ)"),
])
def test_a_scenario_that_does_not_load_is_refused_at_upload_in_russian(svc, tmp_path, name, body, status, message):
    a = svc.token("Организация А")
    store(svc, a, FILES[:1])
    path = tmp_path / "upload"
    path.write_bytes(body)
    r = start(svc, a, scenario=path, name=name)
    assert r.status_code == status, r.text
    assert r.json()["detail"] == "ошибка во входных данных"
    assert any(message in p["message"] and p["path"] == "file" for p in r.json()["problems"]), r.json()
    with svc.app.state.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0  # never a failed job
    bad_date = start(svc, a, {"as_of": "1999-01-01"})
    assert bad_date.status_code == 422


def test_files_wait_for_the_result_and_a_job_is_cancelled_queued_or_between_items(svc):
    a = svc.token("Организация А")
    store(svc, a, FILES[:3])
    queued = start(svc, a, {"as_of": "2027-06-01"}).json()
    for fmt in ("xlsx", "json", "docx"):
        r = svc.client.get(f"{V1}/jobs/{queued['id']}/impact.{fmt}", headers=a)
        assert r.status_code == 409 and "итога пока нет: задание в очереди (обработано 0 из 3)" == r.json()["detail"]
    assert svc.client.post(f"{V1}/jobs/{queued['id']}/cancel", headers=a).json()["status"] == "cancelled"
    assert svc.client.get(f"{V1}/jobs/{queued['id']}/impact.docx", headers=a).status_code == 409

    job_id = start(svc, a).json()["id"]

    cancelled_after_first_item(svc, a, job_id, 3)
    r = svc.client.get(f"{V1}/jobs/{job_id}/impact.xlsx", headers=a)
    assert r.status_code == 409 and "отменено" in r.json()["detail"] and "1 из 3" in r.json()["detail"]
    # a re-check job has no impact files
    recheck = svc.client.post(f"{V1}/jobs/recheck", headers=a).json()
    assert svc.client.get(f"{V1}/jobs/{recheck['id']}/impact.json", headers=a).status_code == 404


def test_a_worker_killed_in_the_middle_resumes_and_gives_the_same_result(svc):
    a = svc.token("Организация А")
    store(svc, a, FILES[:5])
    job_id = start(svc, a).json()["id"]
    worker_dying_after(svc, 2)  # `compliance worker` dies right after its second checkpoint
    job = svc.client.get(f"{V1}/jobs/{job_id}", headers=a).json()
    assert (job["status"], job["done"], job["has_result"]) == ("running", 2, False)
    r = svc.client.get(f"{V1}/jobs/{job_id}/impact.json", headers=a)
    assert r.status_code == 409 and "2 из 5" in r.json()["detail"]  # never a half result

    restarted = svc.again()
    with restarted.client:  # the start resumes the job: its worker is gone
        job = wait(restarted.client, a, job_id, 300)
    assert (job["status"], job["done"], job["total"], job["has_result"]) == ("done", 5, 5, True)
    resumed = restarted.client.get(f"{V1}/jobs/{job_id}/result", headers=a).json()["result"]
    with restarted.app.state.sessions() as s:
        assert s.scalar(select(Job.attempts).where(Job.id == job_id)) == 2
        assert [i.position for i in s.scalars(select(JobItem).where(JobItem.job_id == job_id))] == [0, 1, 2, 3, 4]
    # the same job run in one go, over the same applications
    again = start(restarted, a).json()["id"]
    assert run_job(restarted.app.state.sessions, again) == "done"
    whole = restarted.client.get(f"{V1}/jobs/{again}/result", headers=a).json()["result"]
    assert comparable(resumed["impact"]) == comparable(whole["impact"]) and resumed["sites"] == whole["sites"]


def test_the_items_run_in_a_child_process_that_ends_with_the_job_or_when_idle(svc, monkeypatch):
    """The scenario's rules are compiled in a child process, never in the consumer's: the child ends with the job's
    final step, exits by itself when idle (a cancelled job), and a dead child is replaced for the next item."""
    a = svc.token("Организация А")
    (app_id,) = store(svc, a, FILES[:1])
    job_id = start(svc, a).json()["id"]
    assert run_job(svc.app.state.sessions, job_id) == "done"
    assert impact_module.evaluator.process is None  # ended with the job

    monkeypatch.setattr(impact_module, "IDLE_SECONDS", 1.0)
    other = start(svc, a).json()["id"]
    with svc.app.state.sessions() as s:
        job = s.get(Job, other)
        ctx = JobContext(job.id, job.organisation_id, job.token_id, dict(job.parameters))
        first = impact_module.process(ctx, s, app_id)
        child = impact_module.evaluator.process
        assert child.pid != os.getpid() and child.poll() is None
        deadline = time.monotonic() + 30
        while child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert child.poll() == 0  # idle: it exited by itself
        second = impact_module.process(ctx, s, app_id)
        assert impact_module.evaluator.process.pid != child.pid  # a new child
    assert "site" in first and second == first
    impact_module.evaluator.done(other)
    assert impact_module.evaluator.process is None
    with svc.app.state.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StoredCheck)) == 0


def test_an_application_that_crashes_the_child_process_is_listed_and_the_others_are_evaluated(svc, monkeypatch):
    """The child process dies on one application (as on a crash of the rules engine): it is tried once more in a new
    process, then listed among the errors with a Russian reason; the job goes on and is done."""
    from api.impact import CRASHED
    from api.workers import CRASH_SITE_NAME

    monkeypatch.setenv("COMPLIANCE_TEST_CRASH", "1")  # inherited by the child processes
    a = svc.token("Организация А")
    first, last = store(svc, a, FILES[:1]), store(svc, a, FILES[1:2])
    body = {**fixture_json(str(FILES[0].relative_to(FIXTURES))), "site_name": CRASH_SITE_NAME}
    crash = svc.client.post(f"{V1}/applications", json=body, headers=a).json()["id"]
    with svc.app.state.sessions() as s:  # the crashing application in the middle
        job = s.get(Job, start(svc, a).json()["id"])
        job.items = [first[0], crash, last[0]]
        s.commit()
        job_id = job.id
    assert run_job(svc.app.state.sessions, job_id) == "done"
    impact = svc.client.get(f"{V1}/jobs/{job_id}/result", headers=a).json()["result"]["impact"]
    assert [e["problem"] for e in impact["errors"]] == [CRASHED]
    assert impact["errors"][0]["label"] == f"{crash}, версия 1"
    assert (impact["totals"]["applications"], impact["totals"]["evaluated"], impact["totals"]["errors"]) == (3, 2, 1)
