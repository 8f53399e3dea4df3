"""The web service (api/): FastAPI test client over a real SQLite file in tmp_path."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import sqlite3
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

warnings.filterwarnings("ignore", message=".*httpx.*")
from fastapi.testclient import TestClient  # noqa: E402

from api.app import create_app  # noqa: E402
from compliance.engine import MAX_LIVE_SESSIONS, RulesEngine, get_engine  # noqa: E402
from compliance.evaluate import evaluate  # noqa: E402
from compliance.judgements import JudgementsFile  # noqa: E402
from compliance.loading import validate  # noqa: E402
from compliance.settings import Settings  # noqa: E402
from compliance.storage import create_token  # noqa: E402
from testdb import DATABASES, DEFAULT, POSTGRES_URL, database_url  # noqa: E402,F401 — POSTGRES_URL: for older imports

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
V1 = "/api/v1"
LIMIT = 1024 * 1024


def fixture_json(name: str) -> dict:
    """A fixture as the JSON a client would send (YAML dates become strings)."""
    path = FIXTURES / name
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.suffix == ".yaml" else json.loads(path.read_text("utf-8"))
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def comparable(report: dict) -> dict:
    """A report without what legitimately differs between two evaluations (session id, time)."""
    return {k: v for k, v in report.items() if k not in ("evaluation_id", "generated_at")}


class Service:
    def __init__(self, tmp_path: Path, database: str = DEFAULT):
        self.db = tmp_path / "service.db" if database == "sqlite" else None
        url = database_url(tmp_path, "service.db", database)
        self.app = create_app(Settings(database_url=url, max_body_bytes=LIMIT, evaluation_mode="thread"))
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.token_a = self.token("Управляющая компания А")
        self.token_b = self.token("Министерство Б")

    def token(self, org: str) -> str:
        with self.app.state.sessions() as s:
            token, _ = create_token(s, org)
            s.commit()
        return token

    @staticmethod
    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def a(self, method: str, url: str, headers: dict | None = None, **kw):
        return self.client.request(method, V1 + url, headers={**self.auth(self.token_a), **(headers or {})}, **kw)

    def b(self, method: str, url: str, headers: dict | None = None, **kw):
        return self.client.request(method, V1 + url, headers={**self.auth(self.token_b), **(headers or {})}, **kw)

    def create(self, name: str = "ip794-created-gaps.yaml") -> dict:
        r = self.a("POST", "/applications", json=fixture_json(name))
        assert r.status_code == 201, r.text
        return r.json()


@pytest.fixture(params=DATABASES)
def svc(tmp_path, request) -> Service:
    """The service on a real SQLite file; also on PostgreSQL when COMPLIANCE_TEST_POSTGRES_URL is set."""
    return Service(tmp_path, request.param)


# --- storage, tokens, migrations --------------------------------------------------------------------------------
def test_migrated_sqlite_in_wal_mode_and_tokens_hashed_at_rest(svc):
    if svc.db is None:
        pytest.skip("проверка файла SQLite")
    con = sqlite3.connect(svc.db)
    try:
        tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
        assert {"organisations", "api_tokens", "applications", "application_versions", "checks", "audit_log",
                "alembic_version"} <= tables
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        hashes = {r[0] for r in con.execute("select token_hash from api_tokens")}
    finally:
        con.close()
    assert hashes == {hashlib.sha256(t.encode()).hexdigest() for t in (svc.token_a, svc.token_b)}
    raw = b"".join(p.read_bytes() for p in svc.db.parent.glob("service.db*"))
    assert svc.token_a.encode() not in raw and svc.token_b.encode() not in raw


def test_cli_token_create_prints_a_working_token_once(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from compliance.cli import app as cli
    from compliance.settings import get_settings

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["token", "create", "--org", "Технопарк «Исеть»"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    token = [line for line in result.stdout.splitlines() if line.startswith("cmp_")][0]
    client = TestClient(create_app(Settings(database_url=url, evaluation_mode="thread")), raise_server_exceptions=False)
    assert client.get(f"{V1}/applications", headers={"Authorization": f"Bearer {token}"}).status_code == 200


# --- public routes ----------------------------------------------------------------------------------------------
def test_public_routes_need_no_token(svc):
    c = svc.client
    assert c.get(f"{V1}/health").json()["status"] == "ok"
    regimes = {r["code"] for r in c.get(f"{V1}/regimes").json()}
    assert {"ip794", "itp1863", "htp1381", "cl779", "gost56425"} <= regimes
    cat = c.get(f"{V1}/regimes/ip794").json()
    first = cat["items"][0]
    assert first["id"] == "794-P-1" and first["kind"] == "automated" and first["confidence"] in "TSAMU"
    assert first["severity"] == "blocking" and first["severity_text"] == "критичное"
    missing = c.get(f"{V1}/regimes/xx999")
    assert missing.status_code == 404 and "не найден" in missing.json()["detail"]
    schema = c.get(f"{V1}/schema/application").json()
    assert "land_plots" in schema["properties"]


# --- applications and checks ------------------------------------------------------------------------------------
def test_check_equals_evaluate_fetch_and_replay(svc):
    created = svc.create()
    assert created["current_version"] == 1 and created["regimes"] == ["ip794"]
    r = svc.a("POST", f"/applications/{created['id']}/checks", json={"regime": "ip794"})
    assert r.status_code == 201, r.text
    check = r.json()
    expected = evaluate(validate(fixture_json("ip794-created-gaps.yaml")), "ip794")
    report = check["reports"][0]
    assert check["verdicts"] == {"ip794": expected.verdict} and report["verdict"] == expected.verdict
    assert comparable(report)["findings"] == expected.model_dump(mode="json")["findings"]
    assert check["catalog_version"] == expected.catalog_version and check["catalog_hash"] == expected.catalog_hash
    assert check["as_of"] == "2025-06-02" and check["input_hash"] == created["input_hash"]

    fetched = svc.a("GET", f"/checks/{check['id']}").json()
    assert fetched == check

    replay = svc.a("POST", f"/checks/{check['id']}/replay").json()
    assert replay["same"] is True and replay["catalog_changed"] is False
    assert replay["regimes"][0]["changed"] == [] and replay["check"]["replay_of"] == check["id"]
    again = svc.a("GET", f"/checks/{replay['after']}").json()
    assert [comparable(x) for x in again["reports"]] == [comparable(x) for x in check["reports"]]


def test_replay_under_a_newer_catalog_shows_the_diff(svc):
    """A stored check made under another catalog: replay reports the catalog change and what changed."""
    created = svc.create()
    check = svc.a("POST", f"/applications/{created['id']}/checks", json={}).json()
    with svc.app.state.sessions() as s:  # simulate an older catalog in which 794-P-1 was met
        from compliance.storage import StoredCheck

        row = s.get(StoredCheck, check["id"])
        result = json.loads(json.dumps(row.result))
        rep = result["reports"][0]
        rep["catalog_version"], rep["catalog_hash"] = "2025.1.0", "0" * 64
        f = next(x for x in rep["findings"] if x["requirement_id"] == "794-P-1")
        f["status"], f["shortfall"] = "met", None
        row.result = result
        row.catalogs = {"ip794": {"version": "2025.1.0", "hash": "0" * 64}}
        s.commit()
    replay = svc.a("POST", f"/checks/{check['id']}/replay").json()
    assert replay["same"] is False and replay["catalog_changed"] is True
    changed = replay["regimes"][0]["changed"]
    assert [(c["requirement_id"], c["before"], c["after"]) for c in changed] == [("794-P-1", "met", "not_met")]


def test_versions_are_kept_and_checks_diff(svc):
    created = svc.create()
    app_id = created["id"]
    first = svc.a("POST", f"/applications/{app_id}/checks", json={}).json()
    changed = fixture_json("ip794-created-gaps.yaml")
    changed["land_plots"][1]["area"]["value"] = 30000
    changed["road_access"]["hard_surface"] = True
    r = svc.a("PUT", f"/applications/{app_id}", json=changed)
    assert r.status_code == 200 and r.json()["current_version"] == 2
    versions = svc.a("GET", f"/applications/{app_id}/versions").json()
    assert [v["version"] for v in versions] == [1, 2] and versions[0]["input_hash"] != versions[1]["input_hash"]
    assert svc.a("GET", f"/applications/{app_id}", params={"version": 1}).json()["body"] == created["body"]
    assert svc.a("GET", f"/applications/{app_id}").json()["version"] == 2
    assert svc.a("GET", f"/applications/{app_id}", params={"version": 7}).status_code == 404
    second = svc.a("POST", f"/applications/{app_id}/checks", json={}).json()
    assert second["application_version"] == 2
    old = svc.a("POST", f"/applications/{app_id}/checks", json={"version": 1}).json()
    assert old["application_version"] == 1 and old["input_hash"] == first["input_hash"]
    d = svc.a("GET", f"/checks/{first['id']}/diff/{second['id']}").json()
    ids = {c["requirement_id"]: (c["before"], c["after"]) for c in d["regimes"][0]["changed"]}
    assert d["same"] is False and ids["794-P-1"] == ("not_met", "met") and ids["794-P-9"] == ("not_met", "met")
    assert [c["id"] for c in svc.a("GET", f"/applications/{app_id}/checks").json()] == [first["id"], second["id"], old["id"]]


def test_uploads_yaml_xlsx_and_refusals(svc):
    yaml_bytes = (FIXTURES / "ip794-operating-conforming.yaml").read_bytes()
    r = svc.a("POST", "/applications/upload", files={"file": ("парк.yaml", yaml_bytes)})
    assert r.status_code == 201, r.text
    xlsx = svc.a("POST", "/applications/upload", files={"file": ("кластер.xlsx", (FIXTURES / "cl779-conforming.xlsx").read_bytes())})
    assert xlsx.status_code == 201, xlsx.text
    check = svc.a("POST", f"/applications/{xlsx.json()['id']}/checks", json={}).json()
    assert check["regimes"] == ["cl779"]
    upd = svc.a("PUT", f"/applications/{r.json()['id']}/upload", files={"file": ("v2.yaml", yaml_bytes)})
    assert upd.status_code == 200 and upd.json()["current_version"] == 2
    bad = svc.a("POST", "/applications/upload", files={"file": ("заявка.docx", b"PK..")})
    assert bad.status_code == 422 and "неподдерживаемый формат" in bad.json()["problems"][0]["message"]
    broken = svc.a("POST", "/applications/upload", files={"file": ("a.yaml", b"site_name: [")})
    assert broken.status_code == 422 and "YAML" in broken.json()["problems"][0]["message"]


def test_judgements_with_a_check(svc):
    created = svc.create("itp1863-operating-occupancy-gap.yaml")
    jf = fixture_json("gost-judgements-itp1863.yaml")
    r = svc.a("POST", f"/applications/{created['id']}/checks", json={"regime": "gost56425", "judgements": jf})
    assert r.status_code == 201, r.text
    expected = evaluate(validate(fixture_json("itp1863-operating-occupancy-gap.yaml")), "gost56425",
                        judgements=JudgementsFile.model_validate(jf))
    report = r.json()["reports"][0]
    assert report["verdict"] == expected.verdict and report["assessment"]["conclusion"] == expected.assessment.conclusion
    assert r.json()["judgements"] == jf
    assert svc.a("POST", f"/checks/{r.json()['id']}/replay").json()["same"] is True
    wrong = svc.a("POST", f"/applications/{created['id']}/checks", json={"regime": "itp1863", "judgements": jf})
    assert wrong.status_code == 422 and wrong.json()["problems"][0]["path"] == "judgements.regime"
    bad = svc.a("POST", f"/applications/{created['id']}/checks",
                json={"regime": "gost56425", "judgements": {**jf, "judgements": [{"verdict": "maybe"}]}})
    assert bad.status_code == 422
    assert any(p["path"].startswith("judgements.judgements[0]") for p in bad.json()["problems"])


def test_matrix_check_and_batch(svc):
    brown = svc.create("brownfield-794-1863.yaml")
    gaps = svc.create()
    m = svc.a("POST", f"/applications/{brown['id']}/checks", json={}).json()
    assert set(m["regimes"]) == {"ip794", "itp1863"} and len(m["matrix"]) == 2
    r = svc.a("POST", "/checks/batch", json={"application_ids": [brown["id"], gaps["id"]], "regime": "ip794"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert [c["application_id"] for c in out["checks"]] == [brown["id"], gaps["id"]] and out["errors"] == []
    r = svc.a("POST", "/checks/batch", json={"application_ids": [gaps["id"]], "regime": "cl779"})
    assert r.json()["checks"] == [] and r.json()["errors"][0]["status"] == 422


# --- access -----------------------------------------------------------------------------------------------------
def _protected_routes(app_id: str, check_id: str, other_check: str) -> list[tuple[str, str, dict]]:
    body = fixture_json("ip794-created-gaps.yaml")
    upload = {"files": {"file": ("a.yaml", (FIXTURES / "ip794-created-gaps.yaml").read_bytes())}}
    return [
        ("GET", f"/applications/{app_id}", {}),
        ("GET", f"/applications/{app_id}?version=1", {}),
        ("PUT", f"/applications/{app_id}", {"json": body}),
        ("PUT", f"/applications/{app_id}/upload", upload),
        ("GET", f"/applications/{app_id}/versions", {}),
        ("POST", f"/applications/{app_id}/checks", {"json": {}}),
        ("GET", f"/applications/{app_id}/checks", {}),
        ("GET", f"/checks/{check_id}", {}),
        ("POST", f"/checks/{check_id}/replay", {}),
        ("GET", f"/checks/{check_id}/diff/{other_check}", {}),
        ("GET", f"/checks/{other_check}/diff/{check_id}", {}),
        ("GET", f"/checks/{check_id}/report.docx", {}),
        ("GET", f"/checks/{check_id}/report.pdf", {}),
        ("POST", "/checks/batch", {"json": {"application_ids": [app_id]}}),
    ]


def test_other_organisation_gets_404_on_every_route(svc):
    created = svc.create()
    check = svc.a("POST", f"/applications/{created['id']}/checks", json={}).json()
    own_b = svc.b("POST", "/applications", json=fixture_json("ip794-operating-conforming.yaml")).json()
    check_b = svc.b("POST", f"/applications/{own_b['id']}/checks", json={}).json()
    for method, url, kw in _protected_routes(created["id"], check["id"], check_b["id"]):
        r = svc.b(method, url, **kw)
        assert r.status_code == 404, (method, url, r.status_code, r.text)
        assert "не найден" in r.json()["detail"]
    assert [a["id"] for a in svc.b("GET", "/applications").json()] == [own_b["id"]]
    assert all(e["object_id"] != created["id"] for e in svc.b("GET", "/audit").json())
    # nothing of A changed
    assert svc.a("GET", f"/applications/{created['id']}/versions").json()[-1]["version"] == 1
    assert len(svc.a("GET", f"/applications/{created['id']}/checks").json()) == 1


def test_missing_or_bad_token_is_401(svc):
    created = svc.create()
    check = svc.a("POST", f"/applications/{created['id']}/checks", json={}).json()
    routes = _protected_routes(created["id"], check["id"], check["id"]) + [
        ("GET", "/applications", {}), ("POST", "/applications", {"json": {}}), ("GET", "/audit", {}),
        ("POST", "/applications/upload", {"files": {"file": ("a.yaml", b"x: 1")}})]
    for headers in ({}, {"Authorization": "Bearer cmp_wrong"}, {"Authorization": "Basic abc"}, {"Authorization": ""}):
        for method, url, kw in routes:
            r = svc.client.request(method, V1 + url, headers=headers, **kw)
            assert r.status_code == 401, (headers, method, url, r.status_code)
            assert r.headers.get("www-authenticate") == "Bearer" and "токен" in r.json()["detail"]


def test_audit_log_records_writes_and_reads(svc):
    created = svc.create()
    check = svc.a("POST", f"/applications/{created['id']}/checks", json={}).json()
    svc.a("GET", f"/checks/{check['id']}")
    svc.a("GET", f"/applications/{created['id']}")
    actions = [(e["action"], e["object_id"]) for e in svc.a("GET", "/audit").json()]
    assert ("application.create", created["id"]) in actions and ("check.create", check["id"]) in actions
    assert ("check.read", check["id"]) in actions and ("application.read", created["id"]) in actions


# --- errors -----------------------------------------------------------------------------------------------------
def test_oversized_bodies_and_uploads_are_413(svc):
    big = {"site_name": "x" * (LIMIT + 10)}
    r = svc.a("POST", "/applications", json=big)
    assert r.status_code == 413 and "слишком" in r.json()["detail"] or "больше допустимого" in r.json()["detail"]
    r = svc.a("POST", "/applications/upload", files={"file": ("a.json", b" " * (LIMIT + 10))})
    assert r.status_code == 413

    def chunks():  # no Content-Length: counted while read
        for _ in range(LIMIT // 65536 + 2):
            yield b" " * 65536
    r = svc.client.post(f"{V1}/applications", content=chunks(),
                        headers={**svc.auth(svc.token_a), "Content-Type": "application/json"})
    assert r.status_code == 413


def test_invalid_application_is_422_with_russian_paths(svc):
    body = fixture_json("ip794-created-gaps.yaml")
    body["land_plots"][0]["area"]["value"] = -5
    body["site_name"] = 12
    body["unknown_field"] = 1
    r = svc.a("POST", "/applications", json=body)
    assert r.status_code == 422
    problems = {p["path"]: p for p in r.json()["problems"]}
    assert "отрицательным" in problems["land_plots[0].area.value"]["message"]
    assert problems["land_plots[0].area.value"]["label"].startswith("земельные участки № 1")
    assert "ожидается строка" in problems["site_name"]["message"]
    assert "неизвестное поле" in problems["unknown_field"]["message"]
    assert svc.a("POST", "/applications", json=[1, 2]).status_code == 422
    r = svc.a("POST", "/applications", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["problems"][0]["message"]
    created = svc.create()
    r = svc.a("POST", f"/applications/{created['id']}/checks", json={"as_of": "вчера", "regime": "zz1"})
    assert r.status_code == 422 and r.json()["problems"][0]["path"] == "as_of"
    r = svc.a("POST", f"/applications/{created['id']}/checks", json={"regime": "zz1"})
    assert r.status_code == 422 and "нет каталога" in r.json()["problems"][0]["message"]
    r = svc.a("POST", f"/applications/{created['id']}/checks", json={"regime": "cl779"})
    assert r.status_code == 422 and r.json()["problems"][0]["path"] == "cluster"


def test_internal_errors_are_russian_without_traceback(svc, monkeypatch):
    from api import checking

    created = svc.create()

    def boom(*a, **k):
        raise RuntimeError("secret internal detail")
    monkeypatch.setattr(checking, "run", boom)
    r = svc.a("POST", f"/applications/{created['id']}/checks", json={})
    assert r.status_code == 500
    assert "внутренняя ошибка" in r.json()["detail"] and "secret" not in r.text and "Traceback" not in r.text


# --- concurrency ------------------------------------------------------------------------------------------------
def test_50_concurrent_checks_equal_sequential_and_engine_is_entered_once_at_a_time(svc, monkeypatch):
    names = ["ip794-created-gaps.yaml", "ip794-operating-conforming.yaml", "itp1863-operating-occupancy-gap.yaml",
             "brownfield-794-1863.yaml", "htp1381-operating.yaml"]
    ids = [svc.create(n)["id"] for n in names]
    sequential = {i: [comparable(r) for r in svc.a("POST", f"/applications/{i}/checks", json={}).json()["reports"]]
                  for i in ids}
    inside, peak, lock = 0, 0, threading.Lock()
    original = RulesEngine.run

    def counting(self, compiled, facts):
        nonlocal inside, peak
        with lock:
            inside += 1
            peak = max(peak, inside)
        try:
            return original(self, compiled, facts)
        finally:
            with lock:
                inside -= 1
    monkeypatch.setattr(RulesEngine, "run", counting)
    with TestClient(svc.app, raise_server_exceptions=False) as client:
        def one(k: int):
            app_id = ids[k % len(ids)]
            r = client.post(f"{V1}/applications/{app_id}/checks", json={}, headers=svc.auth(svc.token_a))
            assert r.status_code == 201, r.text
            return app_id, [comparable(x) for x in r.json()["reports"]]
        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(one, range(50)))
    for app_id, reports in results:
        assert reports == sequential[app_id]
    assert peak == 1
    assert get_engine().live_sessions == 0 and get_engine().max_live_sessions_seen <= MAX_LIVE_SESSIONS
    assert len({c["id"] for i in ids for c in svc.a("GET", f"/applications/{i}/checks").json()}) == 55


# --- Word ----------------------------------------------------------------------------------------------------
def test_docx_download(svc):
    if importlib.util.find_spec("compliance.word") is None:
        pytest.skip("compliance.word ещё нет")
    created = svc.create()
    check = svc.a("POST", f"/applications/{created['id']}/checks", json={}).json()
    r = svc.a("GET", f"/checks/{check['id']}/report.docx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats") and r.content[:2] == b"PK"
    brown = svc.create("brownfield-794-1863.yaml")
    matrix = svc.a("POST", f"/applications/{brown['id']}/checks", json={}).json()
    assert svc.a("GET", f"/checks/{matrix['id']}/report.docx").status_code == 200


def test_docx_without_word_module_is_503(svc, monkeypatch):
    import sys

    created = svc.create()
    check = svc.a("POST", f"/applications/{created['id']}/checks", json={}).json()
    monkeypatch.setitem(sys.modules, "compliance.word", None)  # import fails as if the module were absent
    r = svc.a("GET", f"/checks/{check['id']}/report.docx")
    assert r.status_code == 503 and "Word" in r.json()["detail"]
