"""Replay under the catalog of the day: every catalog version a stored check used is kept (content-addressed, once per
hash); a replay under it gives the original result whatever the catalog files say now, a replay under the current
catalog gives what the newer rules change. On SQLite and (COMPLIANCE_TEST_POSTGRES_URL) PostgreSQL; in a thread and
in a worker process."""
from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import pytest
from sqlalchemy import func, select

warnings.filterwarnings("ignore", message=".*httpx.*")
from fastapi.testclient import TestClient  # noqa: E402

import compliance.catalog as catalog_module  # noqa: E402
from api.app import create_app  # noqa: E402
from compliance.catalog import available_regimes, load_catalog, pinned  # noqa: E402
from compliance.evaluate import evaluate  # noqa: E402
from compliance.loading import validate  # noqa: E402
from compliance.settings import Settings  # noqa: E402
from compliance.storage import CatalogSnapshot, StoredCheck, create_token  # noqa: E402
from tests.test_api import POSTGRES_URL, ROOT, V1, Service, comparable, fixture_json  # noqa: E402
from tests.webclient import web_client  # noqa: E402

FIXTURE = "ip794-created-gaps.yaml"


def edited_catalog(tmp_path: Path, min_area_ha: int = 1) -> Path:
    """A copy of the catalog tree in which the minimum total area of an industrial park (min_area_ha) is 1 ha (or
    `min_area_ha`) instead of 8 and the catalog version is new: the fixture's 794-P-1 (total area) turns from not met
    to met."""
    root = tmp_path / "catalog-new"
    for folder in ("decrees", "rules"):
        shutil.copytree(ROOT / folder, root / folder)
    rules = root / "rules" / "ip794.yaml"
    text = rules.read_text(encoding="utf-8")
    edited = re.sub(r"(  min_area_ha:\n(?:.*\n)*?\s+value: )8\n", rf"\g<1>{min_area_ha}\n", text, count=1)
    assert edited != text
    rules.write_text(edited, encoding="utf-8")
    decree = root / "decrees" / "ip794.yaml"
    text = decree.read_text(encoding="utf-8")
    edited = re.sub(r'^catalog_version: "[^"]+"$', 'catalog_version: "2099.1.0"', text, count=1, flags=re.M)
    assert edited != text
    decree.write_text(edited, encoding="utf-8")
    return root


def statuses(report: dict) -> dict[str, str]:
    return {f["requirement_id"]: f["status"] for f in report["findings"]}


def snapshots(app) -> list[tuple[str, str, str]]:
    with app.state.sessions() as s:
        return [(r.regime, r.catalog_version, r.content_hash)
                for r in s.scalars(select(CatalogSnapshot).order_by(CatalogSnapshot.created_at))]


@pytest.fixture(params=["sqlite"] + (["postgresql"] if POSTGRES_URL else []))
def svc(tmp_path, request) -> Service:
    return Service(tmp_path, request.param)


def test_load_catalog_from_a_snapshot_touches_no_file_and_pins_a_regime(tmp_path, monkeypatch):
    current = load_catalog("itp1863")  # a catalog with a list file (Order 3221) under its hash
    assert [path for path, _ in current.files] == ["decrees/itp1863.yaml", "rules/itp1863.yaml",
                                                   "decrees/lists/order3221.yaml"]
    empty = tmp_path / "empty"
    (empty / "decrees").mkdir(parents=True)
    monkeypatch.setattr(catalog_module, "ROOT", empty)  # no catalog on disk at all
    assert available_regimes() == []
    from_snapshot = load_catalog("itp1863", snapshot=current.files)
    assert from_snapshot.content_hash == current.content_hash
    assert from_snapshot.rulebook == current.rulebook and from_snapshot.decree == current.decree
    assert from_snapshot.lists == current.lists
    with pinned({"itp1863": from_snapshot}):
        assert available_regimes() == ["itp1863"] and load_catalog("itp1863") is from_snapshot
    assert available_regimes() == []


def test_replay_under_the_stored_catalog_gives_the_original_result_and_under_the_current_the_new(svc, tmp_path,
                                                                                                 monkeypatch):
    created = svc.create(FIXTURE)
    check = svc.a("POST", f"/applications/{created['id']}/checks", json={}).json()
    old_hash = check["catalog_hash"]
    assert statuses(check["reports"][0])["794-P-1"] == "not_met"
    assert snapshots(svc.app) == [("ip794", check["catalog_version"], old_hash)]

    monkeypatch.setattr(catalog_module, "ROOT", edited_catalog(tmp_path))  # the catalog of today has changed
    new = evaluate(validate(fixture_json(FIXTURE)), "ip794")
    assert new.catalog_hash != old_hash and new.catalog_version == "2099.1.0"
    assert {f.requirement_id: f.status for f in new.findings}["794-P-1"] == "met"

    stored = svc.a("POST", f"/checks/{check['id']}/replay", params={"catalog": "stored"})
    assert stored.status_code == 200, stored.text
    out = stored.json()
    assert out["catalog"] == "stored" and out["same"] is True and out["catalog_changed"] is False
    assert out["regimes"][0]["changed"] == [] and out["check"]["replay_catalog"] == "stored"
    again = svc.a("GET", f"/checks/{out['after']}").json()
    assert again["catalog_hash"] == old_hash and again["catalog_version"] == check["catalog_version"]
    assert [comparable(r) for r in again["reports"]] == [comparable(r) for r in check["reports"]]

    current = svc.a("POST", f"/checks/{check['id']}/replay", params={"catalog": "current"}).json()
    assert current["catalog"] == "current" and current["same"] is False and current["catalog_changed"] is True
    assert [(c["requirement_id"], c["before"], c["after"]) for c in current["regimes"][0]["changed"]] == \
        [("794-P-1", "not_met", "met")]
    latest = svc.a("GET", f"/checks/{current['after']}").json()
    assert latest["catalog_hash"] == new.catalog_hash and latest["replay_catalog"] == "current"
    assert latest["reports"][0]["findings"] == new.model_dump(mode="json")["findings"]

    # each catalog version once, however many checks and replays used it
    svc.a("POST", f"/checks/{check['id']}/replay", params={"catalog": "stored"})
    svc.a("POST", f"/applications/{created['id']}/checks", json={})
    assert sorted(snapshots(svc.app)) == sorted([("ip794", check["catalog_version"], old_hash),
                                                 ("ip794", "2099.1.0", new.catalog_hash)])
    # a replay under the stored catalog of a check made under the newer one: its own catalog, not the first one
    again_new = svc.a("POST", f"/checks/{current['after']}/replay", params={"catalog": "stored"}).json()
    assert again_new["same"] is True and again_new["check"]["catalog_hash"] == new.catalog_hash
    replays = [e for e in svc.a("GET", "/audit").json() if e["action"] == "check.replay"]
    assert [e["detail"].rsplit(" ", 1)[1] for e in reversed(replays)] == ["stored", "current", "stored", "stored"]


def test_stored_replay_without_a_stored_catalog_is_refused_in_russian(svc):
    created = svc.create(FIXTURE)
    check = svc.a("POST", f"/applications/{created['id']}/checks", json={}).json()
    with svc.app.state.sessions() as s:  # a snapshot whose files no longer give its hash
        row = s.get(CatalogSnapshot, check["catalog_hash"])
        files = [list(f) for f in row.files]
        files[1][1] = files[1][1].replace("value: 8\n", "value: 1\n", 1)
        row.files = files
        s.commit()
    broken = svc.a("POST", f"/checks/{check['id']}/replay", params={"catalog": "stored"})
    assert broken.status_code == 409 and "повреждён" in broken.json()["detail"]
    with svc.app.state.sessions() as s:  # a check made before the service kept catalog versions
        s.delete(s.get(CatalogSnapshot, check["catalog_hash"]))
        s.commit()
    svc.app.state.service.kept_catalogs.clear()
    r = svc.a("POST", f"/checks/{check['id']}/replay", params={"catalog": "stored"})
    assert r.status_code == 409, r.text
    assert r.json()["detail"].startswith("каталог требований, по которому выполнена эта проверка")
    assert "только по текущему каталогу" in r.json()["detail"]
    with svc.app.state.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StoredCheck)) == 1  # nothing stored for the refusal
    assert svc.a("POST", f"/checks/{check['id']}/replay").json()["same"] is True  # the current catalog: as before
    bad = svc.a("POST", f"/checks/{check['id']}/replay", params={"catalog": "yesterday"})
    assert bad.status_code == 422 and "catalog" in bad.text


def test_a_snapshot_crosses_into_the_worker_process(tmp_path, monkeypatch):
    """A check made under an edited catalog; the service restarted with the worker processes and the original catalog
    files: the stored replay runs in a worker under the stored (edited) catalog, the current one under the files."""
    url = f"sqlite:///{tmp_path / 'service.db'}"
    with monkeypatch.context() as m:
        m.setattr(catalog_module, "ROOT", edited_catalog(tmp_path))
        first = create_app(Settings(database_url=url, evaluation_mode="thread"))
        with first.state.sessions() as s:
            token, _ = create_token(s, "Рабочие процессы")
            s.commit()
        auth = {"Authorization": f"Bearer {token}"}
        client = TestClient(first, raise_server_exceptions=False)
        app_id = client.post(f"{V1}/applications", json=fixture_json(FIXTURE), headers=auth).json()["id"]
        check = client.post(f"{V1}/applications/{app_id}/checks", json={}, headers=auth).json()
        assert check["catalog_version"] == "2099.1.0" and statuses(check["reports"][0])["794-P-1"] == "met"
    app = create_app(Settings(database_url=url, evaluation_mode="process", max_workers=1))
    with TestClient(app, raise_server_exceptions=False) as client:
        stored = client.post(f"{V1}/checks/{check['id']}/replay", params={"catalog": "stored"}, headers=auth)
        assert stored.status_code == 200, stored.text
        assert stored.json()["same"] is True and stored.json()["check"]["catalog_version"] == "2099.1.0"
        current = client.post(f"{V1}/checks/{check['id']}/replay", params={"catalog": "current"}, headers=auth)
        assert [(c["requirement_id"], c["before"], c["after"]) for c in current.json()["regimes"][0]["changed"]] \
            == [("794-P-1", "met", "not_met")]
        assert current.json()["check"]["catalog_hash"] == load_catalog("ip794").content_hash
    assert len(snapshots(app)) == 2


def test_the_check_page_replays_under_both_catalogs_and_shows_both(tmp_path, monkeypatch):
    version = load_catalog("ip794").decree.catalog_version  # the catalog on disk, before the edit
    web = web_client(tmp_path)
    app_id = web.upload(FIXTURE)
    r = web.post(f"/applications/{app_id}/check", {"regime": "", "as_of": ""})
    check_id = r.headers["location"].rsplit("/", 1)[1]
    page = web.client.get(f"/checks/{check_id}").text
    assert 'id="replays"' in page and f'action="/checks/{check_id}/replay"' in page
    assert 'id="replay-results"' not in page and 'id="replay-no-snapshot"' not in page

    monkeypatch.setattr(catalog_module, "ROOT", edited_catalog(tmp_path))
    r = web.post(f"/checks/{check_id}/replay")
    assert r.status_code == 303 and r.headers["location"] == f"/checks/{check_id}#replays"
    page = web.client.get(f"/checks/{check_id}").text
    rows = dict(re.findall(r'<tr data-replay="(\w+)">(.*?)</tr>', page, re.S))
    assert set(rows) == {"stored", "current"}
    assert "тот же результат: находки совпадают" in rows["stored"]
    assert f"версия {version}" in rows["stored"] and version != "2099.1.0"
    assert "находки изменились" in rows["current"] and "версия 2099.1.0" in rows["current"]
    after = re.search(r'/checks/compare\?before=\w+&amp;after=(\w+)', rows["current"]).group(1)
    compare = web.client.get(f"/checks/compare?before={check_id}&after={after}").text
    assert 'data-requirement="794-P-1"' in compare
    replay_page = web.client.get(f"/checks/{after}").text
    assert "по каталогу требований на дату повтора" in replay_page

    with web.app.state.sessions() as s:  # a check whose catalog was not kept: the page says so, current still runs
        for row in s.scalars(select(CatalogSnapshot)):
            s.delete(row)
        s.commit()
    web.app.state.service.kept_catalogs.clear()
    page = web.client.get(f"/checks/{check_id}").text
    assert 'id="replay-no-snapshot"' in page
    assert web.post(f"/checks/{check_id}/replay").status_code == 303
    with web.app.state.sessions() as s:
        kinds = [c.replay_catalog for c in s.scalars(select(StoredCheck).where(StoredCheck.replay_of == check_id))]
    assert sorted(kinds) == ["current", "current", "stored"]


def test_migration_0002_upgrades_a_database_with_checks_and_downgrades(tmp_path):
    from alembic import command
    from sqlalchemy import create_engine, inspect, text

    from tests.testdb import old_sqlite

    url, cfg = old_sqlite(tmp_path, "0001")
    engine = create_engine(url)
    with engine.begin() as con:
        con.execute(text("INSERT INTO organisations (id, name, created_at) VALUES (1, 'УК', '2026-12-01')"))
        con.execute(text("INSERT INTO applications VALUES ('a1', 1, 'Парк', 1, '2026-12-01', '2026-12-01')"))
        con.execute(text("INSERT INTO checks (id, organisation_id, application_id, application_version, evaluation_id, "
                         "regimes, catalog_version, catalog_hash, catalogs, input_hash, as_of, verdicts, result, "
                         "created_at) VALUES ('c1', 1, 'a1', 1, 'e', '[]', 'v', 'h', '{}', 'i', '2025-06-02', '{}', "
                         "'{}', '2026-12-01')"))  # a check stored under revision 0001
    command.upgrade(cfg, "0002_catalog_snapshots")
    inspector = inspect(engine)
    assert "catalog_snapshots" in inspector.get_table_names()
    assert {c["name"] for c in inspector.get_columns("checks")} >= {"replay_catalog"}
    with engine.connect() as con:
        assert con.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002_catalog_snapshots"
        assert con.execute(text("SELECT id, replay_catalog FROM checks")).all() == [("c1", None)]
    command.downgrade(cfg, "0001")
    assert "catalog_snapshots" not in inspect(engine).get_table_names()
    with engine.connect() as con:
        assert con.execute(text("SELECT id FROM checks")).all() == [("c1",)]
    engine.dispose()
