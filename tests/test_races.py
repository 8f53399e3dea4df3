"""Races and faults of the service (issue 14 §2): concurrent writers of one application, integers beyond any column,
a worker that hangs, a server killed with -9, and the evaluation mode that cannot survive an engine crash."""
from __future__ import annotations

import os
import re
import signal
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

warnings.filterwarnings("ignore", message=".*httpx.*")

from compliance.storage import ApplicationVersion, StoredApplication  # noqa: E402
from tests.test_api import FIXTURES, fixture_json, svc  # noqa: E402,F401 — the service fixture (SQLite; PostgreSQL if set)

WRITERS = 30


def _versions(svc, app_id: str) -> tuple[int, list[int]]:
    with svc.app.state.sessions() as s:
        current = s.get(StoredApplication, app_id).current_version
        numbers = s.scalars(select(ApplicationVersion.version).where(ApplicationVersion.application_id == app_id)
                            .order_by(ApplicationVersion.version)).all()
    return current, list(numbers)


def test_parallel_puts_get_a_version_or_409_with_the_current_version(svc):
    created = svc.create()
    app_id, body = created["id"], created["body"]

    def put(k: int):
        r = svc.a("PUT", f"/applications/{app_id}", json={**body, "site_name": f"Площадка {k}"})
        return k, r.status_code, r.json()

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        results = list(pool.map(put, range(WRITERS)))
    statuses = [status for _, status, _ in results]
    assert set(statuses) <= {200, 409}, statuses
    saved = sorted(out["version"] for _, status, out in results if status == 200)
    current, stored = _versions(svc, app_id)
    # every 200 is a version of its own, stored once; nothing else was stored; the numbers have no gaps
    assert stored == list(range(1, current + 1)) == [1] + saved
    for k, status, out in results:
        if status == 200:
            got = svc.a("GET", f"/applications/{app_id}", params={"version": out["version"]}).json()
            assert got["body"]["site_name"] == f"Площадка {k}"
            continue
        # a conflict names the version it lost to (one that exists), in Russian, as the editor's stale save does
        number = int(re.search(r"текущая версия — (\d+)", out["detail"]).group(1))
        assert 2 <= number <= current and out["status"] == 409
    assert statuses.count(200) >= 1, statuses


def test_parallel_saves_of_one_edited_version_in_the_editor_keep_one_and_ask_the_others(tmp_path):
    from test_web_editor import _versions as editor_versions
    from test_web_editor import form_fields
    from webclient import web_client

    web = web_client(tmp_path)
    app_id = web.upload("ip794-created-gaps.yaml")
    fields = form_fields(web.client.get(f"/applications/{app_id}/edit").text)  # all edit version 1

    def save(_):
        return web.post(f"/applications/{app_id}/edit", fields)

    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = list(pool.map(save, range(10)))
    assert sorted(r.status_code for r in replies) == [303] + [409] * 9
    assert [v.version for v in editor_versions(web)] == [1, 2]  # one saved over version 1, no update lost silently
    for r in replies:
        if r.status_code == 409:
            assert "Заявка изменилась, пока вы её редактировали" in r.text
            assert 'name="base_version" value="2"' in r.text  # the second press saves over version 2


def test_a_put_over_a_stale_base_version_is_409_and_stores_nothing(svc):
    created = svc.create()
    app_id, body = created["id"], created["body"]
    assert svc.a("PUT", f"/applications/{app_id}", params={"base_version": 1}, json=body).json()["version"] == 2
    r = svc.a("PUT", f"/applications/{app_id}", params={"base_version": 1}, json={**body, "site_name": "Поздно"})
    assert r.status_code == 409 and r.headers["X-Current-Version"] == "2"
    assert "текущая версия — 2" in r.json()["detail"]
    assert _versions(svc, app_id) == (2, [1, 2])
    assert svc.a("PUT", f"/applications/{app_id}", params={"base_version": 2}, json=body).json()["version"] == 3


# --- integers beyond any column -------------------------------------------------------------------------------------
BEYOND_INT64 = 2**63


@pytest.mark.parametrize("method, url, kw", [
    ("POST", "/applications/{id}/checks", {"json": {"version": BEYOND_INT64}}),
    ("POST", "/applications/{id}/checks", {"json": {"version": 10**6 + 1}}),
    ("POST", "/applications/{id}/checks", {"json": {"version": -BEYOND_INT64}}),
    ("GET", "/applications/{id}", {"params": {"version": BEYOND_INT64}}),
    ("PUT", "/applications/{id}", {"params": {"base_version": BEYOND_INT64}, "json": "body"}),
    ("GET", "/applications", {"params": {"limit": BEYOND_INT64}}),
    ("GET", "/applications", {"params": {"offset": BEYOND_INT64}}),
    ("GET", "/audit", {"params": {"limit": BEYOND_INT64}}),
])
def test_an_integer_beyond_its_bound_is_a_russian_422_naming_the_parameter(svc, method, url, kw):
    created = svc.create()
    if kw.get("json") == "body":
        kw = {**kw, "json": created["body"]}
    r = svc.a(method, url.format(id=created["id"]), **kw)
    assert r.status_code == 422, r.text
    (problem,) = r.json()["problems"]
    name = next(iter(kw.get("params") or kw["json"]))
    assert problem["path"].split(":")[-1] == name and re.search("[а-я]", problem["message"])
    assert _versions(svc, created["id"]) == (1, [1])


def test_a_judgements_file_naming_a_version_beyond_any_column_is_refused():
    from compliance.judgements import AssessedApplication

    with pytest.raises(ValueError):
        AssessedApplication(site_name="Площадка", input_hash="0" * 64, version=BEYOND_INT64)


@pytest.mark.parametrize("extra", [[("base_version", "²")], [("land_plots.².area.value", "1")],
                                   [("action", "remove:land_plots.²")]])
def test_a_digit_that_is_not_ascii_in_an_editor_form_is_no_500(tmp_path, extra):
    from test_web_editor import _versions as editor_versions
    from test_web_editor import form_fields
    from webclient import web_client

    web = web_client(tmp_path)
    app_id = web.upload("ip794-created-gaps.yaml")
    fields = [(k, v) for k, v in form_fields(web.client.get(f"/applications/{app_id}/edit").text)
              if k != "base_version"]
    r = web.post(f"/applications/{app_id}/edit", fields + extra)
    assert r.status_code in (200, 303), r.text[:300]
    assert [v.version for v in editor_versions(web)] == ([1] if r.status_code == 200 else [1, 2])


# --- a hung worker, a killed server ---------------------------------------------------------------------------------
def _gone(pid: int, wait: float = 20.0) -> bool:
    """Whether process `pid` has ended (and been reaped, or is a zombie) within `wait` seconds."""
    import os
    import time

    deadline = time.monotonic() + wait
    while True:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP") or not os.path.isdir("/proc"), reason="SIGSTOP и /proc — Linux")
def test_a_stopped_worker_costs_a_503_in_russian_and_is_replaced(tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.workers import parse_timeout_message, timeout_message
    from compliance.settings import Settings
    from compliance.storage import create_token
    from tests.test_api import V1

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'service.db'}", evaluation_mode="process",
                              max_workers=1, evaluation_timeout=30))
    pool = app.state.evaluation_pool
    assert pool.timeout == 30  # the setting reaches the pool
    with app.state.sessions() as s:
        token, _ = create_token(s, "Зависший процесс")
        s.commit()
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        app_id = client.post(f"{V1}/applications", json=fixture_json("ip794-created-gaps.yaml")).json()["id"]
        first = client.post(f"{V1}/applications/{app_id}/checks", json={})  # a warm worker
        assert first.status_code == 201, first.text
        (pid,) = pool._pool._processes
        pool.timeout = 3  # warm now: a short wait keeps the test short on a loaded machine
        os.kill(pid, signal.SIGSTOP)
        try:
            r = client.post(f"{V1}/applications/{app_id}/checks", json={})
            assert r.status_code == 503, r.text
            assert r.json()["detail"] == timeout_message(3) and r.headers["Retry-After"] == "1"
            assert _gone(pid)  # killed, not left stopped
        finally:
            if not _gone(pid, 0):
                os.kill(pid, signal.SIGKILL)
        pool.timeout = 30  # a fresh worker starts and warms up within the check's time
        again = client.post(f"{V1}/applications/{app_id}/checks", json={})
        assert again.status_code == 201, again.text
        assert again.json()["reports"][0]["findings"] == first.json()["reports"][0]["findings"]
        (new_pid,) = pool._pool._processes
        assert new_pid != pid
        checks = client.get(f"{V1}/applications/{app_id}/checks").json()
        # an upload is read in the same workers: a stopped one costs the file a Russian 413, and nothing is stored
        pool.timeout = 3
        os.kill(new_pid, signal.SIGSTOP)
        try:
            raw = (FIXTURES / "ip794-created-gaps.yaml").read_bytes()
            up = client.post(f"{V1}/applications/upload", files={"file": ("заявка.yaml", raw)})
            assert up.status_code == 413, up.text
            assert up.json()["problems"][0]["message"] == parse_timeout_message(3)
            assert _gone(new_pid)
        finally:
            if not _gone(new_pid, 0):
                os.kill(new_pid, signal.SIGKILL)
        assert [a["id"] for a in client.get(f"{V1}/applications").json()] == [app_id]
    assert [c["id"] for c in checks] == [first.json()["id"], again.json()["id"]]  # nothing stored for the 503


def _children(pid: int) -> dict[int, str]:
    """The live child processes of `pid`: pid → command line."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    out[int(entry)] = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return out


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="процессы читаются из /proc (Linux)")
def test_after_a_kill_9_of_the_server_its_worker_and_resource_tracker_exit(tmp_path):
    import subprocess

    import httpx

    from tests.test_crash import BIN, ROOT, _free_port, _start

    env = dict(os.environ, COMPLIANCE_DATABASE_URL=f"sqlite:///{tmp_path / 'service.db'}",
               COMPLIANCE_EVALUATION_MODE="process", COMPLIANCE_MAX_WORKERS="2")
    token = subprocess.run([str(BIN / "compliance"), "token", "create", "--org", "Снятый сервер"], env=env,
                           capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip().splitlines()[-1]
    port = _free_port()
    server = _start(env, port)
    children: dict[int, str] = {}
    try:
        base, headers = f"http://127.0.0.1:{port}/api/v1", {"Authorization": f"Bearer {token}"}
        app_id = httpx.post(f"{base}/applications", json=fixture_json("ip794-created-gaps.yaml"), headers=headers,
                            timeout=30).json()["id"]
        r = httpx.post(f"{base}/applications/{app_id}/checks", json={}, headers=headers, timeout=120)
        assert r.status_code == 201, r.text
        children = _children(server.pid)
        assert any("resource_tracker" in c for c in children.values()), children
        assert sum("spawn_main" in c for c in children.values()) >= 1, children
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    left = {pid: cmd for pid, cmd in children.items() if not _gone(pid)}
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == {}


# --- the "thread" mode cannot survive an engine crash: it never starts silently ---------------------------------------
def _start_warnings(tmp_path, caplog, mode: str) -> list[str]:
    import logging

    from api.app import create_app
    from compliance.settings import Settings

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="compliance.api"):
        create_app(Settings(database_url=f"sqlite:///{tmp_path / f'{mode}.db'}", evaluation_mode=mode))
    return [r.getMessage() for r in caplog.records if r.name == "compliance.api" and r.levelno >= logging.WARNING]


def test_the_thread_mode_warns_at_start_that_an_engine_crash_stops_the_service(tmp_path, caplog):
    (message,) = _start_warnings(tmp_path, caplog, "thread")
    assert "остановит весь сервис" in message and "process" in message
    assert _start_warnings(tmp_path, caplog, "process") == []


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX")
def test_the_warning_reaches_the_console_of_a_server_started_in_the_thread_mode(tmp_path):
    import subprocess
    import sys

    from api.workers import THREAD_MODE_WARNING
    from tests.test_crash import ROOT, _free_port

    env = dict(os.environ, COMPLIANCE_DATABASE_URL=f"sqlite:///{tmp_path / 'service.db'}",
               COMPLIANCE_EVALUATION_MODE="thread")
    code = "from compliance.cli import app; app()"
    server = subprocess.Popen([sys.executable, "-c", code, "serve", "--port", str(_free_port())], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        for line in server.stderr:
            if "COMPLIANCE_EVALUATION_MODE" in line or "Uvicorn running" in line:
                break
    finally:
        server.kill()
        server.wait(10)
    assert line.strip() == THREAD_MODE_WARNING
