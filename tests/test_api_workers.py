"""Evaluations in worker processes (COMPLIANCE_EVALUATION_MODE=process): the same findings as in-process evaluation,
and a worker that dies mid-check costs that request a 503 — the service keeps answering, the next check runs in a
fresh pool, and the database holds nothing for the crashed check while earlier checks stay intact."""
from __future__ import annotations

import os
import signal
import time
import warnings
from datetime import date

import pytest
from sqlalchemy import func, select

warnings.filterwarnings("ignore", message=".*httpx.*")
from fastapi.testclient import TestClient  # noqa: E402

from api.app import create_app  # noqa: E402
from api.workers import CRASH_MESSAGE, CRASH_SITE_NAME  # noqa: E402
from compliance.evaluate import evaluate  # noqa: E402
from compliance.loading import validate  # noqa: E402
from compliance.settings import Settings  # noqa: E402
from compliance.storage import StoredCheck, create_token  # noqa: E402
from tests.test_api import V1, comparable, fixture_json  # noqa: E402
from testdb import database_url  # noqa: E402


@pytest.fixture
def service(tmp_path, monkeypatch):
    # Inherited by the spawned workers (the pool is created on the first check, after this).
    monkeypatch.setenv("COMPLIANCE_TEST_CRASH", "1")
    app = create_app(Settings(database_url=database_url(tmp_path), evaluation_mode="process",
                              max_workers=1))
    with app.state.sessions() as s:
        token, _ = create_token(s, "Рабочие процессы")
        s.commit()
    with TestClient(app, raise_server_exceptions=False) as client:  # the lifespan shuts the pool down
        client.headers["Authorization"] = f"Bearer {token}"
        yield app, client
    assert app.state.evaluation_pool._pool is None


def _create(client: TestClient, body: dict) -> str:
    r = client.post(f"{V1}/applications", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _stored_checks(app, app_id: str | None = None) -> int:
    with app.state.sessions() as s:
        q = select(func.count()).select_from(StoredCheck)
        if app_id is not None:
            q = q.where(StoredCheck.application_id == app_id)
        return s.scalar(q)


def test_a_check_in_a_worker_process_equals_evaluate_in_process(service):
    app, client = service
    body = fixture_json("ip794-created-gaps.yaml")
    app_id = _create(client, body)
    r = client.post(f"{V1}/applications/{app_id}/checks", json={"regime": "ip794", "as_of": "2025-06-02"})
    assert r.status_code == 201, r.text
    (report,) = r.json()["reports"]
    expected = evaluate(validate(body), "ip794", date(2025, 6, 2))
    assert comparable(report) == comparable(expected.model_dump(mode="json"))
    # an input error raised inside the worker comes back as a 422 with the field path
    bad = client.post(f"{V1}/applications/{app_id}/checks", json={"regime": "ip794", "judgements": {"regime": 1}})
    assert bad.status_code == 422 and any(p["path"].startswith("judgements") for p in bad.json()["problems"])
    # a matrix over several regimes and a replay also run in the worker
    brown = _create(client, fixture_json("brownfield-794-1863.yaml"))
    m = client.post(f"{V1}/applications/{brown}/checks", json={})
    assert m.status_code == 201 and m.json()["matrix"]
    rep = client.post(f"{V1}/checks/{m.json()['id']}/replay")
    assert rep.status_code == 200 and rep.json()["same"] is True


def test_a_crashed_worker_costs_one_request_a_503_and_nothing_else(service):
    app, client = service
    good = _create(client, fixture_json("ip794-created-gaps.yaml"))
    first = client.post(f"{V1}/applications/{good}/checks", json={})
    assert first.status_code == 201, first.text
    before = client.get(f"{V1}/checks/{first.json()['id']}").json()

    doomed = _create(client, {**fixture_json("ip794-created-gaps.yaml"), "site_name": CRASH_SITE_NAME})
    r = client.post(f"{V1}/applications/{doomed}/checks", json={})
    assert r.status_code == 503, r.text
    assert r.json()["detail"] == CRASH_MESSAGE and "Traceback" not in r.text
    assert app.state.evaluation_pool.crashes == 1

    assert client.get(f"{V1}/health").json()["status"] == "ok"
    assert _stored_checks(app, doomed) == 0
    assert _stored_checks(app) == 1
    assert client.get(f"{V1}/checks/{first.json()['id']}").json() == before

    again = client.post(f"{V1}/applications/{good}/checks", json={})  # a fresh pool
    assert again.status_code == 201, again.text
    assert [comparable(x) for x in again.json()["reports"]] == [comparable(x) for x in before["reports"]]
    assert _stored_checks(app) == 2

    # in a batch the crashed application is an error item; the others are checked
    out = client.post(f"{V1}/checks/batch", json={"application_ids": [doomed, good]})
    assert out.status_code == 200, out.text
    assert [(e["application_id"], e["status"]) for e in out.json()["errors"]] == [(doomed, 503)]
    assert [c["application_id"] for c in out.json()["checks"]] == [good]
    assert _stored_checks(app, doomed) == 0 and app.state.evaluation_pool.crashes == 2


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL есть только в POSIX")
def test_a_worker_killed_while_idle_does_not_fail_the_next_check(service):
    app, client = service
    app_id = _create(client, fixture_json("ip794-created-gaps.yaml"))
    assert client.post(f"{V1}/applications/{app_id}/checks", json={}).status_code == 201
    executor = app.state.evaluation_pool._pool
    (pid,) = executor._processes
    os.kill(pid, signal.SIGKILL)  # as a segfault between two checks would
    for _ in range(100):
        if executor._broken:
            break
        time.sleep(0.05)
    assert executor._broken
    r = client.post(f"{V1}/applications/{app_id}/checks", json={})
    assert r.status_code == 201, r.text
    assert app.state.evaluation_pool._pool is not executor and _stored_checks(app) == 2


def test_concurrent_checks_in_two_workers_equal_sequential(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    app = create_app(Settings(database_url=database_url(tmp_path), evaluation_mode="process",
                              max_workers=2))
    assert app.state.engine_limiter.total_tokens == 2
    with app.state.sessions() as s:
        token, _ = create_token(s, "Два процесса")
        s.commit()
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        ids = [_create(client, fixture_json(n)) for n in ("ip794-created-gaps.yaml", "htp1381-operating.yaml")]
        sequential = {i: [comparable(x) for x in client.post(f"{V1}/applications/{i}/checks", json={}).json()["reports"]]
                      for i in ids}

        def one(k: int):
            r = client.post(f"{V1}/applications/{ids[k % 2]}/checks", json={})
            assert r.status_code == 201, r.text
            return ids[k % 2], [comparable(x) for x in r.json()["reports"]]
        with ThreadPoolExecutor(max_workers=10) as pool:
            results = list(pool.map(one, range(10)))
    assert all(reports == sequential[i] for i, reports in results)
    assert _stored_checks(app) == 12
