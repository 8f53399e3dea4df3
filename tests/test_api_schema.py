"""The OpenAPI document tells the truth (api/openapi.py): the Russian error body and every status code of every
operation are documented, the application body is the Application model's schema; and a bounded schemathesis run
with all checks against a live server (uvicorn, a fresh SQLite, a token) finds no failure."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import warnings
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

warnings.filterwarnings("ignore", message=".*httpx.*")
from fastapi.testclient import TestClient  # noqa: E402

from api.app import create_app  # noqa: E402
from api.openapi import ErrorOut  # noqa: E402
from api.schemas import AS_OF_PATTERN  # noqa: E402
from compliance.models import check_as_of  # noqa: E402
from compliance.settings import Settings  # noqa: E402
from compliance.storage import create_token, session_factory  # noqa: E402
from test_api import fixture_json  # noqa: E402

jsonschema = pytest.importorskip("jsonschema_rs")  # schemathesis validates with it too

ROOT = Path(__file__).resolve().parent.parent
V1 = "/api/v1"
# The bounded run: all checks, every phase (coverage, fuzzing, stateful), a fixed seed and number of examples per
# operation. About 40 s here (5000 cases); `make bench` does not repeat it.
EXAMPLES, SEED = 10, 1


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    db = tmp_path_factory.mktemp("openapi") / "service.db"
    app = create_app(Settings(database_url=f"sqlite:///{db}", evaluation_mode="thread"))
    with app.state.sessions() as s:
        token, _ = create_token(s, "Схема")
        s.commit()
    return TestClient(app, raise_server_exceptions=False), {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def document(service):
    client, _ = service
    return client.get("/openapi.json").json()


def body_schema(document: dict, method: str, path: str) -> jsonschema.Draft202012Validator:
    """A validator of the documented JSON body of an operation, its references resolved in the document."""
    schema = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return jsonschema.Draft202012Validator({**schema, "components": document["components"]})


def test_every_operation_documents_its_error_statuses(document):
    """Every operation of the JSON API: 400, 413 and 500 (any request), 401 with a token, 404 with a path parameter,
    422 with parameters or a body — each with the Russian error body; FastAPI's 422 model is gone."""
    assert "HTTPValidationError" not in document["components"]["schemas"]
    operations = [(m, p, op) for p, item in document["paths"].items() if p.startswith(V1) for m, op in item.items()]
    assert len(operations) >= 19
    for method, path, op in operations:
        codes = set(op["responses"])
        expected = {"400", "413", "500"}
        expected |= {"401"} if op.get("security") else set()
        expected |= {"404"} if "{" in path else set()
        expected |= {"422"} if op.get("parameters") or "requestBody" in op else set()
        assert expected <= codes, (method, path, sorted(codes))
        for code in {c for c in codes if not c.startswith("2")}:  # 200, 201, 202 (a job accepted) succeed
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, code)
            assert re.search("[а-я]", op["responses"][code]["description"]), (method, path, code)
    by_op = {(m, p): set(op["responses"]) for m, p, op in operations}
    assert "409" in by_op["put", f"{V1}/applications/{{app_id}}"]
    assert "503" in by_op["post", f"{V1}/applications/{{app_id}}/checks"]
    assert {"409", "503"} <= by_op["post", f"{V1}/checks/{{check_id}}/replay"]
    assert "404" in by_op["post", f"{V1}/checks/batch"]
    assert "401" not in by_op["get", f"{V1}/health"]
    assert {"202", "403"} <= by_op["post", f"{V1}/jobs/recheck"]
    assert "409" in by_op["post", f"{V1}/jobs/{{job_id}}/cancel"] and "409" in by_op["get", f"{V1}/jobs/{{job_id}}/result"]
    assert {"202", "403", "422"} <= by_op["post", f"{V1}/jobs/impact"]
    assert all({"200", "404", "409"} <= by_op["get", f"{V1}/jobs/{{job_id}}/impact.{fmt}"] for fmt in ("xlsx", "json", "docx"))


def test_real_errors_have_the_documented_body(service, document):
    """The answers the service really gives (401, 404, 413, 422, 405) fit the documented error model exactly."""
    client, auth = service
    answers = [client.get(f"{V1}/applications"),
               client.get(f"{V1}/applications/nope", headers=auth),
               client.post(f"{V1}/applications", headers={**auth, "Content-Type": "application/json"},
                           content=b"x" * (6 * 1024 * 1024)),
               client.post(f"{V1}/applications", headers=auth, json={}),
               client.get(f"{V1}/audit?limit=0", headers=auth),
               client.request("OPTIONS", f"{V1}/applications", headers=auth)]
    assert [r.status_code for r in answers] == [401, 404, 413, 422, 422, 405]
    validator = jsonschema.Draft202012Validator({"$ref": "#/components/schemas/ErrorOut",
                                                 "components": document["components"]})
    for r in answers:
        validator.validate(r.json())
        assert ErrorOut.model_validate(r.json()).status == r.status_code
    assert {p["path"] for p in answers[3].json()["problems"]} >= {"regimes", "site_name", "region", "filing_date"}


def test_a_real_version_conflict_fits_the_documented_409_and_its_header(service, document):
    """A PUT over a stale base version: the 409 body is the error model, and the header the document names for 409
    (the current version) is really sent."""
    client, auth = service
    body = fixture_json("ip794-created-gaps.yaml")
    app_id = client.post(f"{V1}/applications", headers=auth, json=body).json()["id"]
    assert client.put(f"{V1}/applications/{app_id}", headers=auth, json=body).status_code == 200
    r = client.put(f"{V1}/applications/{app_id}", headers=auth, params={"base_version": 1}, json=body)
    assert r.status_code == 409
    documented = document["paths"][f"{V1}/applications/{{app_id}}"]["put"]["responses"]["409"]
    assert set(documented["headers"]) == {"X-Current-Version"}
    assert r.headers["X-Current-Version"] == "2"
    assert ErrorOut.model_validate(r.json()).detail.startswith("заявку уже изменили: текущая версия — 2")
    replay_409 = document["paths"][f"{V1}/checks/{{check_id}}/replay"]["post"]["responses"]["409"]["description"]
    assert "каталог" in replay_409  # its own meaning, not the version conflict of a PUT


def test_405_names_every_method_of_the_address(service):
    """Allow lists the documented methods of the address, not only those of the first route that matched it."""
    client, auth = service
    assert client.request("OPTIONS", f"{V1}/applications", headers=auth).headers["allow"] == "GET, POST"
    assert client.delete(f"{V1}/applications/x", headers=auth).headers["allow"] == "GET, PUT"
    # the address's own route, not GET /applications/{app_id} with the id "upload"
    assert client.request("OPTIONS", f"{V1}/applications/upload", headers=auth).headers["allow"] == "POST"


def test_application_body_is_the_application_schema(document):
    """`{}` is invalid in the document as it is for the service; a real application is valid."""
    for method, path in (("post", f"{V1}/applications"), ("put", f"{V1}/applications/{{app_id}}")):
        validator = body_schema(document, method, path)
        missing = {e.message for e in validator.iter_errors({})}
        assert missing == {f'"{f}" is a required property' for f in ("regimes", "site_name", "region", "filing_date")}
        validator.validate(fixture_json("ip794-created-gaps.yaml"))
        assert not validator.is_valid({**fixture_json("ip794-created-gaps.yaml"), "regimes": "ip794"})


def test_as_of_pattern_is_the_range_of_check_as_of(document):
    """The documented pattern of as_of admits exactly the dates check_as_of admits (leap days included)."""
    day, admitted = date(1998, 1, 1), 0
    while day < date(2103, 1, 1):
        try:
            check_as_of(day)
            valid = True
        except ValueError:
            valid = False
        assert bool(re.fullmatch(AS_OF_PATTERN, day.isoformat())) is valid, day
        admitted += valid
        day += timedelta(days=1)
    assert admitted == (date(2101, 1, 1) - date(2000, 1, 1)).days
    assert not re.fullmatch(AS_OF_PATTERN, "2100-02-29") and re.fullmatch(AS_OF_PATTERN, "2000-02-29")
    validator = body_schema(document, "post", f"{V1}/checks/batch")
    assert validator.is_valid({"application_ids": ["a"], "as_of": "2025-06-02"})
    assert not validator.is_valid({"application_ids": ["a"], "as_of": "1999-12-31"})


# --- the bounded schemathesis run -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(tmp_path):
    """uvicorn in a subprocess (the service as `compliance serve` runs it: checks in worker processes) on a fresh
    SQLite file, with a token of one organisation."""
    url = f"sqlite:///{tmp_path / 'service.db'}"
    with session_factory(url, migrate=True)() as s:
        token, _ = create_token(s, "Схемная проверка")
        s.commit()
    port = free_port()
    env = {**os.environ, "COMPLIANCE_DATABASE_URL": url}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "server.log", "wb"))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}{V1}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            time.sleep(0.1)
        yield base, token
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_schemathesis_all_checks_no_failures(live_server, tmp_path):
    """`st run --checks all` with a fixed seed and number of examples: every operation tested, no failure, no error
    (tests/schemathesis.toml says why 422 is an expected answer to a schema-valid application)."""
    base, token = live_server
    report = tmp_path / "report.json"
    st = Path(sys.executable).with_name("st")
    run = subprocess.run([str(st), "--config-file", str(ROOT / "tests" / "schemathesis.toml"), "run",
                          f"{base}/openapi.json", "--checks", "all", "--max-examples", str(EXAMPLES), "--seed",
                          str(SEED), "--workers", "1", "--generation-database", "none", "--no-color",
                          "-H", f"Authorization: Bearer {token}", "--report", "json", "--report-json-path", str(report)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    result = json.loads(report.read_text())
    summary = run.stdout[-6000:]
    assert result["complete"] and result["exit_code"] == 0, summary
    assert result["failures"] == [] and result["errors"] == [], summary
    assert result["operations"]["tested"] == result["operations"]["total"] >= 19, result["operations"]
    assert all(result["phases"][p]["status"] == "success" for p in ("coverage", "fuzzing", "stateful")), result["phases"]
    assert result["test_cases"]["generated"] > 1000 and result["test_cases"]["with_failures"] == 0
    print(f"schemathesis: {result['test_cases']['generated']} cases, 0 failures, {result['running_time']:.0f} s")
