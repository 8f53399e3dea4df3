"""Several machines: the job queue on a shared Redis (COMPLIANCE_JOBS_BROKER=redis://…), two `compliance worker`
processes against it and the shared database; every job is done once, each item checked once. Skipped when the
redis-server program or the redis driver is not installed (apt-get install redis-server; pip install -e '.[redis]')."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from compliance.jobs import Job, JobItem
from compliance.storage import StoredCheck
from test_api_schema import free_port
from test_jobs import ROOT, V1, Svc, wait
from testdb import DATABASES

pytest.importorskip("redis")
REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="нет программы redis-server: тест общей очереди пропущен")


@pytest.fixture
def redis_url(tmp_path):
    port = free_port()
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                             "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.parametrize("database", DATABASES)
def test_two_workers_share_a_redis_queue_and_the_database(tmp_path, redis_url, database):
    svc = Svc(tmp_path, database)
    svc.settings = svc.settings.model_copy(update={"jobs_broker": redis_url, "jobs_embedded": False})
    svc = svc.again()  # the web service without a consumer of its own: the workers do the jobs
    a, b = svc.token("Организация А"), svc.token("Организация Б")
    apps = [svc.application(a) for _ in range(3)] + [svc.application(b)]
    before = svc.checks()
    jobs = [svc.client.post(f"{V1}/jobs/recheck", headers=h).json()["id"] for h in (a, b)]
    env = {**os.environ, "COMPLIANCE_DATABASE_URL": svc.url, "COMPLIANCE_JOBS_BROKER": redis_url}
    workers = [subprocess.Popen([sys.executable, "-c", "import sys; from compliance.cli import main; "
                                 "sys.argv = ['compliance', 'worker']; main()"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        done = [wait(svc.client, h, job_id, 180) for h, job_id in zip((a, b), jobs)]
    finally:
        for w in workers:
            w.send_signal(signal.SIGINT)  # huey's graceful stop
        codes = [w.wait(timeout=60) for w in workers]
    assert [(j["status"], j["done"]) for j in done] == [("done", 3), ("done", 1)]
    assert codes == [0, 0], [w.stderr.read()[-2000:] for w in workers]
    assert svc.checks() == before + 4  # every application checked once
    with svc.app.state.sessions() as s:
        assert s.scalar(select(func.count()).select_from(JobItem)) == 4
        holders = {s.get(Job, job_id).worker for job_id in jobs}
        assert all(h and h.rpartition(":")[2] in {str(w.pid) for w in workers} for h in holders)
        assert s.scalar(select(func.count()).select_from(StoredCheck)) == before + 4
    assert sorted(i["application_id"] for i in svc.client.get(f"{V1}/jobs/{jobs[0]}/result", headers=a)
                  .json()["result"]["items"]) == sorted(apps[:3])
