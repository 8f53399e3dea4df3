"""Hostile files uploaded to the service are refused with a Russian 413 (too large to read) or 422 (malformed), in the
JSON API and on the web pages; in the "process" mode they are read in a worker under a memory limit, so a file that
blows up when read costs the worker's memory, never the web process's, and the worker lives on.
(Time and the web process's memory are measured by `make bench`, not here.)"""
from __future__ import annotations

import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message=".*httpx.*")
from fastapi.testclient import TestClient  # noqa: E402

from api.app import create_app  # noqa: E402
from api.workers import PARSE_MEMORY_MESSAGE  # noqa: E402
from compliance.settings import Settings  # noqa: E402
from compliance.storage import create_token  # noqa: E402
from tests.test_api import V1  # noqa: E402
from tests.test_hostile import DEEP_YAML, HOSTILE_WORKBOOKS, _laughs, _many_keys, hostile_workbook  # noqa: E402
from tests.webclient import FIXTURES, web_client  # noqa: E402

LIMIT = 8 * 2**20  # every hostile file below fits: the refusal comes from reading it, not from its size


def hostile_files(tmp_path: Path) -> dict[str, tuple[str, bytes, int, str]]:
    """name -> (file name, bytes, status, words of the Russian reason)."""
    out = {}
    for kind, (make, words) in HOSTILE_WORKBOOKS.items():
        path = hostile_workbook(tmp_path / f"{kind}.xlsx", **make())
        out[kind] = (f"{kind}.xlsx", path.read_bytes(), 413, words)
    out["yaml-keys"] = ("keys.yaml", _many_keys(), 413, "значений")
    out["yaml-laughs"] = ("laughs.yaml", _laughs(9), 413, "ссылок")
    out["yaml-deep"] = ("deep.yaml", DEEP_YAML, 422, "вложен")
    return out


def _client(tmp_path: Path, **settings) -> TestClient:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'service.db'}", max_body_bytes=LIMIT, **settings))
    with app.state.sessions() as s:
        token, _ = create_token(s, "УК «Атакуемая»")
        s.commit()
    client = TestClient(app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _refused(r, status: int, words: str) -> None:
    assert r.status_code == status, r.text[:500]
    body = r.json()
    assert body["detail"] and any("а" <= c <= "я" for c in body["detail"].lower())
    assert any(words in p["message"] for p in body["problems"]), body
    assert "Traceback" not in r.text and "Error" not in r.text


def test_hostile_uploads_are_refused_with_a_russian_413_or_422(tmp_path):
    client = _client(tmp_path, evaluation_mode="thread")
    for kind, (name, raw, status, words) in hostile_files(tmp_path).items():
        assert len(raw) < LIMIT, kind
        _refused(client.post(f"{V1}/applications/upload", files={"file": (name, raw)}), status, words)
    assert client.get(f"{V1}/applications").json() == []  # nothing stored


def test_hostile_upload_on_the_web_page_is_a_413_page(tmp_path):
    web = web_client(tmp_path, max_body_bytes=LIMIT)
    make, words = HOSTILE_WORKBOOKS["far-row"]
    path = hostile_workbook(tmp_path / "far-row.xlsx", **make())
    r = web.post("/applications/upload", files={"file": ("кластер.xlsx", path.read_bytes())})
    assert r.status_code == 413 and words in r.text and "кластер.xlsx" in r.text and "Traceback" not in r.text


@pytest.fixture
def process_client(tmp_path):
    client = _client(tmp_path, evaluation_mode="process", max_workers=1, upload_memory_mb=64)
    with client:  # the lifespan shuts the pool down
        yield client


def test_in_process_mode_uploads_are_read_in_the_worker_under_a_memory_limit(process_client, tmp_path):
    client = process_client
    pool = client.app.state.evaluation_pool
    files = hostile_files(tmp_path)
    for kind in ("shared-strings", "yaml-laughs", "yaml-deep"):
        name, raw, status, words = files[kind]
        _refused(client.post(f"{V1}/applications/upload", files={"file": (name, raw)}), status, words)
    assert pool._pool is not None and pool.crashes == 0  # read in the worker, which lives on
    # 1.3 million empty lists in 4 MB of JSON need about 75 MB: over the worker's 64 MB, refused with a 413
    r = client.post(f"{V1}/applications/upload", files={"file": ("lists.json", b"[" + b"[]," * 1_300_000 + b"[]]")})
    _refused(r, 413, PARSE_MEMORY_MESSAGE.format(limit=64))
    assert pool.crashes == 0
    good = client.post(f"{V1}/applications/upload",
                       files={"file": ("кластер.xlsx", (FIXTURES / "cl779-conforming.xlsx").read_bytes())})
    assert good.status_code == 201, good.text
    assert good.json()["regimes"] == ["cl779"]
