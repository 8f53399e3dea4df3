"""The check route's fast path: the worker returns the result as JSON bytes (`api.workers.Evaluated`), the web
process stores that text and splices it into the response. The response must be the very JSON that serialising the
stored check as a CheckOut gives, and the stored result must read back as the same dict. A new worker compiles the
rulesets of every catalog before its first check."""
from __future__ import annotations

import json
import warnings
from datetime import date
from types import SimpleNamespace

import pytest

warnings.filterwarnings("ignore", message=".*httpx.*")
from fastapi.testclient import TestClient  # noqa: E402
from pydantic import TypeAdapter  # noqa: E402

from api import checking, workers  # noqa: E402
from api.app import create_app  # noqa: E402
from api.schemas import CheckOut  # noqa: E402
from api.service import check_out, stored_result  # noqa: E402
from compliance.loading import InputError, validate  # noqa: E402
from compliance.settings import Settings  # noqa: E402
from compliance.storage import StoredCheck, create_token  # noqa: E402
from tests.test_api import V1, fixture_json  # noqa: E402
from testdb import database_url  # noqa: E402


def _client(tmp_path, mode: str):
    app = create_app(Settings(database_url=database_url(tmp_path, "fast.db"), evaluation_mode=mode, max_workers=1))
    with app.state.sessions() as s:
        token, _ = create_token(s, "Быстрый путь")
        s.commit()
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {token}"
    return app, client


@pytest.fixture
def thread_service(tmp_path):
    app, client = _client(tmp_path, "thread")
    with client:
        yield app, client


CASES = [("ip794-created-gaps.yaml", {"regime": "ip794", "as_of": "2025-06-02"}),
         ("brownfield-794-1863.yaml", {}),  # several regimes: a matrix
         ("brownfield-794-1863.yaml", {"regime": "all"})]


@pytest.mark.parametrize("fixture,request_body", CASES)
def test_the_check_response_is_the_checkout_json_of_the_stored_check(thread_service, fixture, request_body):
    app, client = thread_service
    app_id = client.post(f"{V1}/applications", json=fixture_json(fixture)).json()["id"]
    r = client.post(f"{V1}/applications/{app_id}/checks", json=request_body)
    assert r.status_code == 201, r.text
    assert r.headers["content-type"] == "application/json"
    out = r.json()
    assert list(out) == list(CheckOut.model_fields)
    # byte for byte what FastAPI writes for a CheckOut (the route's response_model)
    assert TypeAdapter(CheckOut).dump_json(CheckOut.model_validate_json(r.content)) == r.content
    # the stored check reads back as the same JSON, and its result as the same dict
    assert client.get(f"{V1}/checks/{out['id']}").json() == out
    with app.state.sessions() as s:
        row = s.get(StoredCheck, out["id"])
        assert row.result == {"reports": out["reports"], "matrix": out["matrix"], "skipped": out["skipped"]}
        assert TypeAdapter(CheckOut).dump_python(check_out(row), mode="json") == out
        assert row.regimes == [x["regime"] for x in out["reports"]] == out["regimes"]
        assert row.evaluation_id == out["reports"][0]["evaluation_id"]
    # the same findings as evaluating in this process
    body = validate(fixture_json(fixture))
    as_of = date.fromisoformat(request_body["as_of"]) if "as_of" in request_body else None
    expected = checking.run(body, request_body.get("regime"), as_of, None)
    assert [r["findings"] for r in out["reports"]] == [r["findings"] for r in expected["reports"]]


def test_a_replay_and_a_batch_still_store_and_answer_as_before(thread_service):
    app, client = thread_service
    app_id = client.post(f"{V1}/applications", json=fixture_json("ip794-created-gaps.yaml")).json()["id"]
    first = client.post(f"{V1}/applications/{app_id}/checks", json={"regime": "ip794"}).json()
    rep = client.post(f"{V1}/checks/{first['id']}/replay")
    assert rep.status_code == 200 and rep.json()["same"] is True
    replayed = client.get(f"{V1}/checks/{rep.json()['check']['id']}").json()
    assert [r["findings"] for r in replayed["reports"]] == [r["findings"] for r in first["reports"]]
    batch = client.post(f"{V1}/checks/batch", json={"application_ids": [app_id]}).json()
    (summary,) = batch["checks"]
    full = client.get(f"{V1}/checks/{summary['id']}").json()
    assert summary == {k: full[k] for k in summary} and set(summary) < set(full)


def test_the_worker_sends_the_result_as_json_bytes_and_the_facts_of_the_stored_check():
    body = fixture_json("ip794-created-gaps.yaml")
    out = workers.evaluate_json(body, "ip794", "2025-06-02", None)
    assert isinstance(out, workers.Evaluated) and isinstance(out.json, bytes)
    result = out.result()
    assert list(result) == ["reports", "matrix", "skipped"]
    (report,) = result["reports"]
    assert out.facts == {"evaluation_id": report["evaluation_id"], "as_of": "2025-06-02", "regimes": ["ip794"],
                         "verdicts": {"ip794": report["verdict"]}, "catalogs": checking.catalogs_of(result)}
    assert workers.result_of(out) is out
    bad = workers.evaluate_json(body, "ip794", None, {"regime": 1})
    with pytest.raises(InputError) as exc:
        workers.result_of(bad)
    assert exc.value.problems[0].path.startswith("judgements")


def test_the_result_text_is_stored_as_it_is_only_on_sqlite():
    report = {"regime": "ip794", "evaluation_id": "e", "as_of": "2025-06-02", "verdict": "conforms",
              "catalog_version": "1", "catalog_hash": "h"}
    evaluated = workers.Evaluated.of({"reports": [report]})
    other = SimpleNamespace(get_bind=lambda: SimpleNamespace(dialect=SimpleNamespace(name="postgresql")))
    assert stored_result(other, evaluated) == json.loads(evaluated.json)


def test_a_new_worker_compiles_the_rulesets_of_every_catalog_before_its_first_check():
    from compliance.catalog import available_regimes
    from compliance.engine import get_engine

    workers._warm_worker()
    compiled = get_engine()._compiled
    assert {name.split("_")[0] for name in compiled} >= set(available_regimes())
