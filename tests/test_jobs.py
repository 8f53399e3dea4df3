"""Background jobs (compliance/jobs.py, api/jobs.py) and the re-check after a catalog change (api/recheck.py): the
lifecycle through the API with the service's own consumer, cancelling, a worker process killed in the middle of a job
and the service started again (the job resumes from its checkpoints; its result is never shown half-done), the
administrator's scope, the diff of a real catalog change, `compliance recheck`, and migration 0004 from 0003. On SQLite
and (COMPLIANCE_TEST_POSTGRES_URL) PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

warnings.filterwarnings("ignore", message=".*httpx.*")
from fastapi.testclient import TestClient  # noqa: E402

import compliance.catalog as catalog_module  # noqa: E402
from api.app import create_app  # noqa: E402
from api.recheck import changed_message  # noqa: E402
from compliance.jobs import MAX_ATTEMPTS, Job, JobItem, cancel_job, recover, run_job  # noqa: E402
from compliance.settings import Settings  # noqa: E402
from compliance.storage import StoredCheck, create_token  # noqa: E402
from test_api import fixture_json  # noqa: E402
from testdb import DATABASES, database_url, old_sqlite  # noqa: E402
from tests.test_replay_catalog import edited_catalog  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
V1 = "/api/v1"


def stricter_catalog(tmp_path: Path) -> Path:
    """A copy of the catalog in which an industrial park needs at least 100 ha instead of 8 (and the catalog version is
    new): the conforming fixture (46 ha of plots) turns from «ждёт оценки эксперта» to «не соответствует» on 794-P-1."""
    return edited_catalog(tmp_path, min_area_ha=100)


class Svc:
    """The service in thread mode on one database, its job queue in the test's directory."""

    def __init__(self, tmp_path: Path, database: str, url: str | None = None):
        self.url = url or database_url(tmp_path, "service.db", database)
        self.settings = Settings(database_url=self.url, evaluation_mode="thread",
                                 jobs_broker=f"sqlite:///{tmp_path / 'queue.db'}")
        self.app = create_app(self.settings)
        self.client = TestClient(self.app, raise_server_exceptions=False)

    def again(self) -> Svc:
        """The service started again on the same database and queue (a restart)."""
        other = object.__new__(Svc)
        other.url, other.settings = self.url, self.settings
        other.app = create_app(self.settings)
        other.client = TestClient(other.app, raise_server_exceptions=False)
        return other

    def token(self, org: str, admin: bool = False) -> dict[str, str]:
        with self.app.state.sessions() as s:
            token, _ = create_token(s, org, admin)
            s.commit()
        return {"Authorization": f"Bearer {token}"}

    def application(self, headers: dict, name: str = "ip794-operating-conforming.yaml", check: bool = True) -> str:
        r = self.client.post(f"{V1}/applications", json=fixture_json(name), headers=headers)
        assert r.status_code == 201, r.text
        if check:
            assert self.client.post(f"{V1}/applications/{r.json()['id']}/checks", headers=headers).status_code == 201
        return r.json()["id"]

    def checks(self) -> int:
        with self.app.state.sessions() as s:
            return s.scalar(select(func.count()).select_from(StoredCheck))


def wait(client: TestClient, headers: dict, job_id: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(f"{V1}/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed", "cancelled", "interrupted"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"the job did not finish: {job}")


def worker_dying_after(svc: Svc, checkpoints: int) -> None:
    """Run `compliance worker` on the service's database and queue until it dies (os._exit) right after its
    `checkpoints`-th checkpoint."""
    env = {**os.environ, "COMPLIANCE_DATABASE_URL": svc.url, "COMPLIANCE_JOBS_BROKER": svc.settings.jobs_broker,
           "COMPLIANCE_TEST_JOB_CRASH_AFTER": str(checkpoints)}
    proc = subprocess.run([sys.executable, "-c", "import sys; from compliance.cli import main; "
                           "sys.argv = ['compliance', 'worker']; main()"], cwd=ROOT, env=env, timeout=300,
                          capture_output=True, text=True)
    assert proc.returncode == 70, proc.stderr[-2000:]


def cancelled_after_first_item(svc: Svc, headers: dict, job_id: str, total: int) -> None:
    """Run the job in this process; its cancel is asked (through the API) after the first item: the worker stops
    before the second, the job is «отменено» with one item done and no result."""
    def cancel_after_first(progress) -> None:
        if progress.done == 1:
            assert svc.client.post(f"{V1}/jobs/{job_id}/cancel", headers=headers).json()["cancel_requested"] is True

    assert run_job(svc.app.state.sessions, job_id, progress=cancel_after_first) == "cancelled"
    job = svc.client.get(f"{V1}/jobs/{job_id}", headers=headers).json()
    assert (job["status"], job["done"], job["total"], job["has_result"]) == ("cancelled", 1, total, False)


@pytest.fixture(params=DATABASES)
def svc(tmp_path, request) -> Svc:
    return Svc(tmp_path, request.param)


def test_russian_plural_forms_of_the_banner():
    assert [changed_message(n) for n in (1, 2, 5, 11, 21, 22, 112)] == [
        "каталог обновлён: 1 заявка изменила итог", "каталог обновлён: 2 заявки изменили итог",
        "каталог обновлён: 5 заявок изменили итог", "каталог обновлён: 11 заявок изменили итог",
        "каталог обновлён: 21 заявка изменила итог", "каталог обновлён: 22 заявки изменили итог",
        "каталог обновлён: 112 заявок изменили итог"]


def test_recheck_after_a_real_catalog_change_lists_the_flipped_verdict_with_its_diff(svc, tmp_path, monkeypatch):
    a = svc.token("Управляющая компания А")
    flips = svc.application(a)  # 46 ha: meets 8 ha, not 100 ha
    stays = svc.application(a, "ip794-created-gaps.yaml")  # does not conform either way
    unchecked = svc.application(a, check=False)
    r = svc.client.get(f"{V1}/catalog/changes", headers=a).json()
    assert (r["outdated"], r["message"]) == (0, None)  # nothing to say under the catalog of the checks

    monkeypatch.setattr(catalog_module, "ROOT", stricter_catalog(tmp_path))
    changes = svc.client.get(f"{V1}/catalog/changes", headers=a).json()
    assert changes["outdated"] == 2 and changes["catalogs"]["ip794"]["version"] == "2099.1.0"
    assert changes["message"].startswith("каталог обновлён: 2 заявки проверены по прежней версии каталога")
    before = svc.checks()
    with svc.client:  # the service's lifespan: its own consumer runs the job
        assert svc.checks() == before  # nothing is re-checked silently at the start
        job = svc.client.post(f"{V1}/jobs/recheck", headers=a)
        assert job.status_code == 202 and job.json()["status"] in ("queued", "running", "done")
        done = wait(svc.client, a, job.json()["id"])
    assert (done["status"], done["done"], done["total"], done["has_result"]) == ("done", 3, 3, True)
    assert svc.checks() == before + 3  # each re-check is a stored check
    out = svc.client.get(f"{V1}/jobs/{done['id']}/result", headers=a).json()["result"]
    assert (out["changed_count"], out["first_checks"], out["catalog_changed"]) == (1, 1, True)
    assert out["message"] == "каталог обновлён: 1 заявка изменила итог"
    by_id = {i["application_id"]: i for i in out["items"]}
    item = by_id[flips]
    assert item["verdict_changed"] and item["before"]["verdicts"] == {"ip794": "pending_review"}
    assert item["after"]["verdicts"] == {"ip794": "does_not_conform"}
    (regime,) = item["regimes"]
    assert (regime["regime"], regime["verdict_before"], regime["verdict_after"]) == \
        ("ip794", "pending_review", "does_not_conform")
    assert {(c["requirement_id"], c["before"], c["after"]) for c in regime["changes"]} == {("794-P-1", "met", "not_met")}
    assert not by_id[stays]["verdict_changed"] and by_id[unchecked]["before"] is None
    stored = svc.client.get(f"{V1}/checks/{item['after']['check_id']}", headers=a).json()
    assert stored["catalogs"]["ip794"]["version"] == "2099.1.0" and stored["verdicts"] == item["after"]["verdicts"]
    # the banner now tells the outcome, with the right plural form
    changes = svc.client.get(f"{V1}/catalog/changes", headers=a).json()
    assert (changes["outdated"], changes["changed"]) == (0, 1)
    assert changes["message"] == "каталог обновлён: 1 заявка изменила итог"
    assert changes["last_recheck"]["id"] == done["id"]


def test_an_administrator_rechecks_every_organisation_others_only_their_own(svc):
    a, b = svc.token("Организация А"), svc.token("Организация Б")
    admin = svc.token("Министерство", admin=True)
    app_a, app_b = svc.application(a), svc.application(b)
    refused = svc.client.post(f"{V1}/jobs/recheck", json={"all_organisations": True}, headers=a)
    assert refused.status_code == 403 and "администратор" in refused.json()["detail"]
    own = svc.client.post(f"{V1}/jobs/recheck", headers=b).json()
    every = svc.client.post(f"{V1}/jobs/recheck", json={"all_organisations": True}, headers=admin).json()
    with svc.app.state.sessions() as s:
        assert s.get(Job, own["id"]).items == [app_b]
        assert s.get(Job, every["id"]).items == [app_a, app_b]
    # another organisation's job is not found, its list does not show it
    assert svc.client.get(f"{V1}/jobs/{every['id']}", headers=a).status_code == 404
    assert svc.client.post(f"{V1}/jobs/{own['id']}/cancel", headers=a).status_code == 404
    assert [j["id"] for j in svc.client.get(f"{V1}/jobs", headers=b).json()] == [own["id"]]
    with svc.client:
        done = wait(svc.client, admin, every["id"])
        wait(svc.client, b, own["id"])
    result = svc.client.get(f"{V1}/jobs/{every['id']}/result", headers=admin).json()["result"]
    assert {(i["application_id"], i["organisation"]) for i in result["items"]} == {
        (app_a, "Организация А"), (app_b, "Организация Б")}
    assert done["scope"] == "all"
    # the admin's re-check of A's application is A's check (A sees it), made with the admin's token
    check_a = next(i for i in result["items"] if i["application_id"] == app_a)["after"]["check_id"]
    assert svc.client.get(f"{V1}/checks/{check_a}", headers=a).status_code == 200
    assert svc.client.get(f"{V1}/checks/{check_a}", headers=admin).status_code == 404


def test_cancel_a_queued_job_and_a_running_one_between_items(svc):
    a = svc.token("Организация А")
    for _ in range(3):
        svc.application(a)
    # no consumer runs (the service's lifespan is not started): the job stays queued, then is cancelled at once
    queued = svc.client.post(f"{V1}/jobs/recheck", headers=a).json()
    r = svc.client.post(f"{V1}/jobs/{queued['id']}/cancel", headers=a)
    assert (r.status_code, r.json()["status"], r.json()["status_text"]) == (200, "cancelled", "отменено")
    assert svc.client.post(f"{V1}/jobs/{queued['id']}/cancel", headers=a).status_code == 409
    assert run_job(svc.app.state.sessions, queued["id"]) == "cancelled"  # a worker that gets it later does nothing
    assert svc.client.get(f"{V1}/jobs/{queued['id']}/result", headers=a).status_code == 409

    # a running job: the cancel is asked after its first item; the worker stops before the second
    job_id = svc.client.post(f"{V1}/jobs/recheck", headers=a).json()["id"]
    before = svc.checks()

    cancelled_after_first_item(svc, a, job_id, 3)
    assert svc.checks() == before + 1  # the one item done stays stored
    r = svc.client.get(f"{V1}/jobs/{job_id}/result", headers=a)
    assert r.status_code == 409 and "отменено" in r.json()["detail"] and "1 из 3" in r.json()["detail"]


def test_a_worker_killed_in_the_middle_is_resumed_at_the_next_start_without_a_half_result(svc, tmp_path):
    a = svc.token("Организация А")
    apps = [svc.application(a) for _ in range(4)]
    before = svc.checks()
    job_id = svc.client.post(f"{V1}/jobs/recheck", headers=a).json()["id"]
    worker_dying_after(svc, 2)
    job = svc.client.get(f"{V1}/jobs/{job_id}", headers=a).json()
    assert (job["status"], job["done"], job["has_result"]) == ("running", 2, False)
    r = svc.client.get(f"{V1}/jobs/{job_id}/result", headers=a)
    assert r.status_code == 409 and "2 из 4" in r.json()["detail"]  # never a half result
    assert svc.checks() == before + 2
    with svc.app.state.sessions() as s:
        assert s.get(Job, job_id).result is None

    restarted = svc.again()
    with restarted.client:  # the start resumes the job: its worker is gone
        job = wait(restarted.client, a, job_id)
    assert (job["status"], job["done"], job["total"], job["has_result"]) == ("done", 4, 4, True)
    assert restarted.checks() == before + 4  # the two checkpointed items were not checked again
    result = restarted.client.get(f"{V1}/jobs/{job_id}/result", headers=a).json()["result"]
    assert [i["application_id"] for i in result["items"]] == apps
    with restarted.app.state.sessions() as s:
        assert s.scalar(select(Job.attempts).where(Job.id == job_id)) == 2
        assert [i.position for i in s.scalars(select(JobItem).where(JobItem.job_id == job_id))] == [0, 1, 2, 3]


def test_a_job_that_keeps_killing_its_worker_is_reported_interrupted(svc):
    a = svc.token("Организация А")
    svc.application(a)
    job_id = svc.client.post(f"{V1}/jobs/recheck", headers=a).json()["id"]
    with svc.app.state.sessions() as s:  # as a worker that died on it for the last allowed time left it
        s.execute(text("UPDATE jobs SET status = 'running', worker = 'no-such-host:1', attempts = :n, "
                       "heartbeat_at = :t WHERE id = :id"),
                  {"n": MAX_ATTEMPTS, "t": "2000-01-01 00:00:00", "id": job_id})
        s.commit()
    assert recover(svc.app.state.sessions, stale_after=60) == []
    job = svc.client.get(f"{V1}/jobs/{job_id}", headers=a).json()
    assert (job["status"], job["status_text"], job["has_result"]) == ("interrupted", "прервано", False)
    assert job["error"].startswith(f"задание прервано: обработчик заданий останавливался {MAX_ATTEMPTS} раз")


def test_a_running_job_of_a_live_worker_on_another_machine_is_left_to_it(svc):
    a = svc.token("Организация А")
    svc.application(a)
    job_id = svc.client.post(f"{V1}/jobs/recheck", headers=a).json()["id"]
    with svc.app.state.sessions() as s:
        job = s.get(Job, job_id)
        job.status, job.worker, job.attempts = "running", "other-host:42", 1
        from compliance.storage import utcnow
        job.heartbeat_at = utcnow()
        s.commit()
    assert recover(svc.app.state.sessions, stale_after=60) == []  # it sends heartbeats: not ours to resume
    assert svc.client.get(f"{V1}/jobs/{job_id}", headers=a).json()["status"] == "running"
    with svc.app.state.sessions() as s:
        assert cancel_job(s, s.get(Job, job_id), None) is True  # its worker will stop at the next item
        assert s.get(Job, job_id).cancel_requested


def test_recheck_command_runs_on_the_configured_database_with_the_catalog_change(svc, tmp_path, monkeypatch, capsys):
    from compliance import cli
    from compliance.settings import get_settings

    a, b = svc.token("Организация А"), svc.token("Организация Б")
    svc.application(a)
    svc.application(b, "ip794-created-gaps.yaml")
    monkeypatch.setattr(catalog_module, "ROOT", stricter_catalog(tmp_path))
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", svc.url)
    get_settings.cache_clear()
    try:
        monkeypatch.setattr(sys, "argv", ["compliance", "recheck", "--org", "Организация А"])
        with pytest.raises(SystemExit) as stop:
            cli.main()
        assert stop.value.code == 0
        out = capsys.readouterr()
        assert out.out.startswith("Каталог обновлён: 1 заявка изменила итог.\n")
        assert "794-P-1" in out.out and "Проверено заявок: 1" in out.err
        monkeypatch.setattr(sys, "argv", ["compliance", "recheck", "--org", "Нет такой"])
        with pytest.raises(SystemExit) as stop:
            cli.main()
        assert stop.value.code == 2 and "организации «Нет такой» нет" in capsys.readouterr().err
        assert [j["scope"] for j in svc.client.get(f"{V1}/jobs", headers=a).json()] == ["own"]
        # without --org: every organisation's applications, a job of the operator (no organisation)
        monkeypatch.setattr(sys, "argv", ["compliance", "recheck"])
        with pytest.raises(SystemExit) as stop:
            cli.main()
        assert stop.value.code == 0 and "Проверено заявок: 2" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
    admin = svc.token("Министерство", admin=True)
    assert [(j["scope"], j["status"]) for j in svc.client.get(f"{V1}/jobs", headers=admin).json()] == [("all", "done")]
    assert svc.client.get(f"{V1}/jobs", headers=b).json() == []


def test_migration_0004_from_0003_adds_jobs_and_the_administrator_flag(tmp_path):
    from alembic import command
    from sqlalchemy import create_engine

    url, cfg = old_sqlite(tmp_path, "0003_organisation_details")
    engine = create_engine(url)
    with engine.begin() as con:
        con.execute(text("INSERT INTO organisations (id, name, created_at) VALUES (1, 'Орг', '2026-01-01')"))
        con.execute(text("INSERT INTO api_tokens (id, organisation_id, token_hash, hint, created_at) "
                         "VALUES (1, 1, 'h', 'cmp_x', '2026-01-01')"))
    command.upgrade(cfg, "head")
    names = set(inspect(engine).get_table_names())
    assert {"jobs", "job_items"} <= names
    with engine.connect() as con:
        assert con.execute(text("SELECT admin FROM api_tokens WHERE id = 1")).scalar() in (0, False)
    command.downgrade(cfg, "0003_organisation_details")
    engine.dispose()
    engine = create_engine(url)
    assert not {"jobs", "job_items"} & set(inspect(engine).get_table_names())
    assert "admin" not in {c["name"] for c in inspect(engine).get_columns("api_tokens")}
    engine.dispose()


def test_in_process_mode_the_services_own_worker_process_runs_the_job(tmp_path):
    url = database_url(tmp_path, "service.db", DATABASES[-1])
    settings = Settings(database_url=url, evaluation_mode="process",
                        jobs_broker=f"sqlite:///{tmp_path / 'queue.db'}")
    app = create_app(settings)
    with app.state.sessions() as s:
        token, _ = create_token(s, "Организация А")
        s.commit()
    a = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        app_id = client.post(f"{V1}/applications", json=fixture_json("ip794-created-gaps.yaml"), headers=a).json()["id"]
        job_id = client.post(f"{V1}/jobs/recheck", headers=a).json()["id"]
        job = wait(client, a, job_id, 300)
    assert (job["status"], job["done"]) == ("done", 1)
    with app.state.sessions() as s:
        worker = s.get(Job, job_id).worker
    assert worker.rpartition(":")[2] != str(os.getpid())  # not this process: the service's consumer process
    result = TestClient(app).get(f"{V1}/jobs/{job_id}/result", headers=a).json()["result"]
    (item,) = result["items"]
    assert item["application_id"] == app_id and item["before"] is None
    assert item["after"]["verdicts"] == {"ip794": "does_not_conform"}


def test_the_services_worker_process_dying_mid_job_is_restarted_and_the_job_resumed(tmp_path, monkeypatch):
    """Mode process: the service's own consumer process dies (os._exit) after every checkpoint; the service's watchdog
    starts it again, and each new process resumes the job from its checkpoints until it is done — each item once."""
    monkeypatch.setenv("COMPLIANCE_TEST_JOB_CRASH_AFTER", "1")  # inherited by the consumer processes only
    url = database_url(tmp_path, "service.db", DATABASES[-1])
    app = create_app(Settings(database_url=url, evaluation_mode="process",
                              jobs_broker=f"sqlite:///{tmp_path / 'queue.db'}"))
    with app.state.sessions() as s:
        token, _ = create_token(s, "Организация А")
        s.commit()
    a = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        apps = [client.post(f"{V1}/applications", json=fixture_json("ip794-created-gaps.yaml"), headers=a).json()["id"]
                for _ in range(2)]
        job_id = client.post(f"{V1}/jobs/recheck", headers=a).json()["id"]
        job = wait(client, a, job_id, 300)
    assert (job["status"], job["done"], job["has_result"]) == ("done", 2, True)
    with app.state.sessions() as s:
        # a process per item (each died after its checkpoint), and the last one finished the job
        assert s.scalar(select(Job.attempts).where(Job.id == job_id)) == 3
        assert s.scalar(select(func.count()).select_from(StoredCheck)) == 2
    result = TestClient(app).get(f"{V1}/jobs/{job_id}/result", headers=a).json()["result"]
    assert [i["application_id"] for i in result["items"]] == apps


def test_a_service_that_runs_no_job_opens_no_queue(tmp_path):
    queue = tmp_path / "queue.db"
    app = create_app(Settings(database_url=database_url(tmp_path, "service.db", DATABASES[-1]),
                              evaluation_mode="thread", jobs_broker=f"sqlite:///{queue}"))
    with TestClient(app) as client:
        assert client.get(f"{V1}/health").status_code == 200
    assert not queue.exists()


def test_a_new_job_kind_needs_only_its_item_and_final_steps_and_a_failure_stores_no_result(svc, monkeypatch):
    """The generic machinery with a kind of this test: items processed in order with a checkpoint each, the final step
    given every checkpoint; an exception in an item ends the job «ошибка» with a Russian message, the items before it
    checkpointed, no result."""
    from compliance.jobs import KINDS, JobKind, create_job, register

    def process(ctx, session, key):
        if key == "boom":
            raise RuntimeError("internal detail that users must not see")
        return {"double": int(key) * 2, "scale": ctx.parameters["scale"]}

    def finish(ctx, session, results):
        return {"keys": [k for k, _ in results], "sum": sum(r["double"] * r["scale"] for _, r in results)}

    monkeypatch.setitem(KINDS, "doubling", KINDS.get("doubling"))  # restored (removed) after the test
    register(JobKind(name="doubling", title="удвоение", process=process, finish=finish))
    sessions = svc.app.state.sessions
    a = svc.token("Организация А")
    with sessions() as s:
        org_id = s.scalar(text("SELECT id FROM organisations WHERE name = 'Организация А'"))
        good = create_job(s, org_id, None, "doubling", {"scale": 10}, ["1", "2", "3"]).id
        bad = create_job(s, org_id, None, "doubling", {"scale": 1}, ["4", "boom", "5"]).id
        s.commit()
    seen = []
    assert run_job(sessions, good, progress=lambda p: seen.append((p.done, p.total, p.key))) == "done"
    assert seen == [(1, 3, "1"), (2, 3, "2"), (3, 3, "3")]
    assert svc.client.get(f"{V1}/jobs/{good}/result", headers=a).json()["result"] == {"keys": ["1", "2", "3"],
                                                                                       "sum": 120}
    assert run_job(sessions, bad) == "failed"
    job = svc.client.get(f"{V1}/jobs/{bad}", headers=a).json()
    assert (job["status"], job["status_text"], job["done"], job["has_result"]) == ("failed", "ошибка", 1, False)
    assert job["error"].startswith("задание «удвоение» остановлено из-за внутренней ошибки на элементе № 2")
    assert "internal detail" not in job["error"]
    assert svc.client.get(f"{V1}/jobs/{bad}/result", headers=a).status_code == 409
    with sessions() as s:
        assert [(i.key, i.result["double"]) for i in s.scalars(select(JobItem).where(JobItem.job_id == bad))] == \
            [("4", 8)]


def test_the_minutely_watch_resumes_a_silent_machines_job_but_leaves_the_queue_alone(svc):
    a = svc.token("Организация А")
    svc.application(a)
    waiting = svc.client.post(f"{V1}/jobs/recheck", headers=a).json()["id"]
    silent = svc.client.post(f"{V1}/jobs/recheck", headers=a).json()["id"]
    with svc.app.state.sessions() as s:  # a worker on another machine that stopped sending heartbeats long ago
        s.execute(text("UPDATE jobs SET status = 'running', worker = 'stopped-host:7', attempts = 1, "
                       "heartbeat_at = :t WHERE id = :id"), {"t": "2000-01-01 00:00:00", "id": silent})
        s.commit()
    assert recover(svc.app.state.sessions, stale_after=60, queued=False) == [silent]
    assert svc.client.get(f"{V1}/jobs/{silent}", headers=a).json()["status"] == "queued"
    assert svc.client.get(f"{V1}/jobs/{waiting}", headers=a).json()["status"] == "queued"
    assert sorted(recover(svc.app.state.sessions, stale_after=60)) == sorted([waiting, silent])  # at a start: both
    with svc.client:  # the service's consumer does both
        assert [wait(svc.client, a, j)["status"] for j in (waiting, silent)] == ["done", "done"]
