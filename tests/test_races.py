"""Races and faults of the service (issue 14 §2): concurrent writers of one application, integers beyond any column,
a worker that hangs, a server killed with -9, and the evaluation mode that cannot survive an engine crash."""
from __future__ import annotations

import re
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

warnings.filterwarnings("ignore", message=".*httpx.*")

from compliance.storage import ApplicationVersion, StoredApplication  # noqa: E402
from tests.test_api import fixture_json, svc  # noqa: E402,F401 — the service fixture (SQLite; PostgreSQL if set)

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
    assert statuses.count(200) >= 1


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
