"""Crash safety: the service process is killed (SIGKILL) in the middle of a stream of checks; every check it
acknowledged is still stored and the database (SQLite, and PostgreSQL under `make test-postgres`) opens cleanly."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from compliance.loading import load_application
from compliance.storage import StoredCheck, session_factory
from testdb import DATABASES, database_url
from tests.conftest import FIXTURES, ROOT

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen([str(BIN / "uvicorn"), "api.app:create_app", "--factory", "--host", "127.0.0.1",
                               "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    pytest.fail("сервис не запустился")


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL есть только в POSIX")
@pytest.mark.parametrize("database", DATABASES)
def test_acknowledged_checks_survive_a_sigkill(tmp_path, database):
    url = database_url(tmp_path, database=database)
    env = dict(os.environ, COMPLIANCE_DATABASE_URL=url, COMPLIANCE_EVALUATION_MODE="thread")
    token = subprocess.run([str(BIN / "compliance"), "token", "create", "--org", "Проверка сбоя"], env=env,
                           capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip().splitlines()[-1]
    port = _free_port()
    server = _start(env, port)
    headers = {"Authorization": f"Bearer {token}"}
    base = f"http://127.0.0.1:{port}/api/v1"
    body = load_application(FIXTURES / "ip794-created-gaps.yaml").model_dump(mode="json")
    app_id = httpx.post(f"{base}/applications", json=body, headers=headers, timeout=30).json()["id"]

    acknowledged: list[str] = []
    stop = threading.Event()

    def stream() -> None:
        with httpx.Client(headers=headers, timeout=10) as client:
            while not stop.is_set():
                try:
                    r = client.post(f"{base}/applications/{app_id}/checks", json={"regime": "ip794"})
                except httpx.HTTPError:
                    return  # the server is gone: this request was never acknowledged
                if r.status_code == 201:
                    acknowledged.append(r.json()["id"])

    writers = [threading.Thread(target=stream) for _ in range(3)]
    for w in writers:
        w.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 15 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.send_signal(signal.SIGKILL)  # mid-stream: requests are in flight
    server.wait(10)
    stop.set()
    for w in writers:
        w.join(15)
    assert len(acknowledged) >= 15

    sessions = session_factory(url, migrate=False)
    with sessions() as s:
        if database == "sqlite":
            assert s.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        stored = set(s.scalars(select(StoredCheck.id)))
    assert set(acknowledged) <= stored

    # the service starts again on the same database and serves the stored checks
    server = _start(env, port)
    try:
        r = httpx.get(f"{base}/checks/{acknowledged[0]}", headers=headers, timeout=10)
        assert r.status_code == 200 and r.json()["reports"][0]["regime"] == "ip794"
    finally:
        server.terminate()
        server.wait(10)
