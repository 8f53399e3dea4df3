"""Values that SQLite takes and PostgreSQL may not — NaN, NUL characters, very long strings — behave the same on both
databases through the API: refused with the same Russian 422 and nothing stored, or stored and read back unchanged.
Runs on SQLite; on PostgreSQL too under `make test-postgres` (tests/testdb.py)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from compliance.loading import validate
from compliance.models import SITE_NAME_MAX
from compliance.storage import ORG_NAME_MAX, ApplicationVersion, AuditEntry, StoredApplication
from testdb import DATABASES, database_url
from tests.conftest import FIXTURES
from tests.test_api import Service, fixture_json

NUL_MESSAGE = "символ NUL (код 0) в тексте не допускается: уберите его"


@pytest.fixture(params=DATABASES)
def database(request) -> str:
    return request.param


@pytest.fixture
def svc(tmp_path, database) -> Service:
    return Service(tmp_path, database)


def stored(svc: Service) -> tuple[int, int]:
    """(applications, versions) in the database."""
    with svc.app.state.sessions() as s:
        return (s.scalar(select(func.count()).select_from(StoredApplication)),
                s.scalar(select(func.count()).select_from(ApplicationVersion)))


def post_raw(svc: Service, url: str, data: dict, method: str = "POST"):
    """The body as JSON text written by Python's encoder, which writes NaN and Infinity as the bare words."""
    return svc.a(method, url, content=json.dumps(data, ensure_ascii=False), headers={"Content-Type": "application/json"})


def with_(field: str, value) -> dict:  # noqa: ANN001
    body = fixture_json("ip794-created-gaps.yaml")
    body[field] = value
    return body


def problems(r) -> list[tuple[str, str]]:  # noqa: ANN001
    assert r.status_code == 422, r.text
    return [(p["path"], p["message"]) for p in r.json()["problems"]]


# --- NUL -----------------------------------------------------------------------------------------------------------
def test_nul_in_application_text_is_refused_with_a_russian_422_and_nothing_is_stored(svc):
    r = post_raw(svc, "/applications", with_("site_name", "Парк\x00«Север»"))
    assert problems(r) == [("site_name", NUL_MESSAGE)]
    body = with_("address", "Тула\x00")
    body["land_plots"][0]["permitted_use"] = "\x00"
    assert problems(post_raw(svc, "/applications", body)) == [("address", NUL_MESSAGE),
                                                              ("land_plots[0].permitted_use", NUL_MESSAGE)]
    assert stored(svc) == (0, 0)

    created = svc.create()
    r = post_raw(svc, f"/applications/{created['id']}", with_("site_name", "\x00"), method="PUT")
    assert problems(r) == [("site_name", NUL_MESSAGE)]
    upload = json.dumps(with_("region", "Тульская\x00область")).encode()
    r = svc.a("POST", "/applications/upload", files={"file": ("заявка.json", upload)})
    assert problems(r) == [("region", NUL_MESSAGE)]
    assert stored(svc) == (1, 1)
    assert svc.a("GET", f"/applications/{created['id']}").json()["body"] == created["body"]


def test_nul_typed_into_the_editor_is_shown_next_to_its_field_and_nothing_is_stored(tmp_path):
    from test_web_editor import _field_block, _minimal
    from webclient import web_client

    web = web_client(tmp_path)  # on PostgreSQL under `make test-postgres`
    r = web.post("/applications/new", _minimal(address="Тверь\x00"))
    assert r.status_code == 422
    assert NUL_MESSAGE in _field_block(r.text, "f-address")
    with web.app.state.sessions() as s:
        assert s.scalar(select(func.count()).select_from(StoredApplication)) == 0


def test_nul_in_a_judgement_comment_is_stored_and_read_back_unchanged(svc):
    created = svc.create("itp1863-operating-occupancy-gap.yaml")
    jf = fixture_json("gost-judgements-itp1863.yaml")
    jf["judgements"][0]["comment"] = "до\x00после"
    r = svc.a("POST", f"/applications/{created['id']}/checks", json={"regime": "gost56425", "judgements": jf})
    assert r.status_code == 201, r.text
    assert svc.a("GET", f"/checks/{r.json()['id']}").json()["judgements"] == jf


# --- long strings --------------------------------------------------------------------------------------------------
def test_a_site_name_longer_than_stored_names_is_refused_and_the_longest_is_kept_whole(svc):
    r = post_raw(svc, "/applications", with_("site_name", "П" * (SITE_NAME_MAX + 1)))
    assert problems(r) == [("site_name", f"строка слишком длинная (не больше {SITE_NAME_MAX} символов)")]
    assert stored(svc) == (0, 0)
    name = "Технопарк «" + "Ё😀" * ((SITE_NAME_MAX - 12) // 2) + "»"
    assert len(name) <= SITE_NAME_MAX
    app_id = svc.a("POST", "/applications", json=with_("site_name", name)).json()["id"]
    assert svc.a("GET", f"/applications/{app_id}").json()["site_name"] == name
    assert [a["site_name"] for a in svc.a("GET", "/applications").json()] == [name]


def test_long_free_text_is_stored_and_read_back_unchanged(svc):
    address = "Тульская область, " + "промышленная улица 😀 " * 40_000  # about 840 000 characters, 1.6 MB
    body = with_("address", address)
    r = svc.a("POST", "/applications", json=body)
    assert r.status_code == 413  # over the request limit of the test service (1 MB of UTF-8)
    body["address"] = address[:200_000]
    body["management_company"]["name"] = company = "ООО «" + "Ж" * 100_000 + "»"
    created = svc.a("POST", "/applications", json=body).json()
    assert svc.a("GET", f"/applications/{created['id']}").json()["body"] == validate(body).model_dump(mode="json")
    check = svc.a("POST", f"/applications/{created['id']}/checks", json={"regime": "ip794"})
    assert check.status_code == 201, check.text
    assert svc.a("GET", f"/checks/{check.json()['id']}").json()["reports"][0]["applicant"]["name"] == company


def test_a_long_file_name_is_shortened_in_the_versions_and_the_audit(svc):
    name = "заявка-" + "я" * 400 + ".yaml"
    raw = (FIXTURES / "ip794-created-gaps.yaml").read_bytes()
    r = svc.a("POST", "/applications/upload", files={"file": (name, raw)})
    assert r.status_code == 201, r.text
    (version,) = svc.a("GET", f"/applications/{r.json()['id']}/versions").json()
    assert version["source"] == name[:299] + "…"
    with svc.app.state.sessions() as s:
        details = list(s.scalars(select(AuditEntry.detail).where(AuditEntry.action == "application.create")))
    assert details == ["v1 " + name[:299] + "…"]


# --- NaN and infinities --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value,message", [
    (float("nan"), "передано «не число» (NaN): укажите число"),
    (float("inf"), "число слишком велико (бесконечность или число из сотен цифр): укажите реальное значение"),
])
def test_nan_and_infinity_are_refused_with_a_russian_422_and_nothing_is_stored(svc, value, message):
    body = fixture_json("ip794-created-gaps.yaml")
    body["land_plots"][0]["area"]["value"] = value
    assert problems(post_raw(svc, "/applications", body)) == [("land_plots[0].area.value", message)]
    assert stored(svc) == (0, 0)


def test_an_organisation_name_longer_than_stored_names_is_refused_by_the_cli(tmp_path, monkeypatch, database):
    from typer.testing import CliRunner

    from compliance.cli import app as cli
    from compliance.settings import get_settings

    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", database_url(tmp_path, database=database))
    get_settings.cache_clear()
    try:
        refused = CliRunner().invoke(cli, ["token", "create", "--org", "О" * (ORG_NAME_MAX + 1)])
        accepted = CliRunner().invoke(cli, ["token", "create", "--org", "О" * ORG_NAME_MAX])
    finally:
        get_settings.cache_clear()
    assert refused.exit_code == 2 and f"название организации длиннее {ORG_NAME_MAX} символов" in refused.output
    assert accepted.exit_code == 0 and accepted.stdout.strip().splitlines()[-1].startswith("cmp_")
