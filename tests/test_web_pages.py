"""Web pages: sign-in, the applications list and search, upload, the application page, downloads, scoping, CSRF."""
from __future__ import annotations

import io
import json
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import yaml

from compliance.loading import validate
from compliance.storage import StoredApplication
from webclient import FIXTURES, second_org, sign_in, web_client


def _count_apps(web) -> int:
    with web.app.state.sessions() as s:
        return s.query(StoredApplication).count()


def _api(web, path: str):
    return web.client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {web.token}"}).json()


def test_pages_need_sign_in_and_come_back_after_it(tmp_path):
    web = web_client(tmp_path)
    fresh = type(web.client)(web.app)
    r = fresh.get("/applications?q=парк", follow_redirects=False)
    location = urlsplit(r.headers["location"])
    assert r.status_code == 303 and location.path == "/sign-in"
    back = parse_qs(location.query)["next"][0]
    assert back == "/applications?q=" + quote("парк")
    r = sign_in(fresh, web.token, back)
    assert r.headers["location"] == back
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_sign_in_never_redirects_to_another_site(tmp_path, target):
    web = web_client(tmp_path)
    r = sign_in(type(web.client)(web.app), web.token, target)
    assert r.headers["location"] == "/applications"


def test_wrong_token_is_refused_next_to_the_field(tmp_path):
    web = web_client(tmp_path)
    fresh = type(web.client)(web.app)
    r = sign_in(fresh, web.token + "x")
    assert r.status_code == 401
    assert 'id="token-error"' in r.text and "Токен не действителен" in r.text and 'aria-invalid="true"' in r.text
    assert "set-cookie" not in r.headers
    r = sign_in(fresh, "   ")
    assert r.status_code == 401 and "Введите токен организации" in r.text


def test_upload_then_list_and_application_page(tmp_path):
    web = web_client(tmp_path)
    assert "пока нет заявок" in web.client.get("/applications").text
    app_id = web.upload("ip794-created-gaps.yaml")
    model = validate(yaml.safe_load((FIXTURES / "ip794-created-gaps.yaml").read_text("utf-8")))
    page = web.client.get(f"/applications/{app_id}").text
    assert model.site_name in page and model.region in page
    assert f"{len(model.land_plots)} земельных участков" in page and "Заявка ещё не проверялась" in page
    listing = web.client.get("/applications").text
    assert f'href="/applications/{app_id}"' in listing and "Всего заявок: 1" in listing
    assert "Индустриальный парк (ПП № 794)" in listing and "не проверялась" in listing
    # the stored body is the validated application
    assert _api(web, f"/applications/{app_id}")["body"] == model.model_dump(mode="json")


def test_search_folds_cyrillic_case_and_pages_say_what_was_found(tmp_path):
    web = web_client(tmp_path)
    web.upload("ip794-created-gaps.yaml")
    web.upload("cl779-conforming.json")
    names = {n["site_name"] for n in _api(web, "/applications")}
    cluster = next(n for n in names if "ластер" in n)
    word = cluster.split()[0].upper()
    page = web.client.get("/applications", params={"q": word}).text
    assert "Найдено 1 из 2" in page and cluster in page
    assert all(n not in page for n in names - {cluster})
    assert "ничего не найдено" in web.client.get("/applications", params={"q": "нет такой площадки"}).text


def test_bad_file_lists_russian_field_labels_and_stores_nothing(tmp_path):
    web = web_client(tmp_path)
    r = web.post("/applications/upload", files={"file": ("app.json", json.dumps({"regimes": ["ip794"]}).encode())})
    assert r.status_code == 422 and "Файл «app.json» не принят" in r.text
    for label in ("название площадки (кластера)", "субъект РФ", "дата подачи"):
        assert f"<strong>{label}</strong>: обязательное поле не заполнено" in r.text
    r = web.post("/applications/upload", files={"file": ("app.txt", b"hello")})
    assert r.status_code == 422 and "неподдерживаемый формат файла" in r.text
    r = web.post("/applications/upload", data={})
    assert r.status_code == 422 and "выберите файл заявки" in r.text
    assert _count_apps(web) == 0


def test_oversized_upload_gets_a_russian_page(tmp_path):
    web = web_client(tmp_path, max_body_bytes=4096)
    r = web.post("/applications/upload", files={"file": ("big.json", b"{" + b" " * 8000 + b"}")})
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
    assert "слишком" in r.text.lower() or "больше допустимого" in r.text
    assert _count_apps(web) == 0


def test_forms_without_the_csrf_field_are_refused(tmp_path):
    web = web_client(tmp_path)
    path = FIXTURES / "ip794-created-gaps.yaml"
    r = web.client.post("/applications/upload", files={"file": (path.name, path.read_bytes())},
                        data={"csrf": "0" * 40})
    assert r.status_code == 403 and "Форма устарела" in r.text
    r = web.client.post("/sign-out", follow_redirects=False)
    assert r.status_code == 403
    assert _count_apps(web) == 0


def test_another_organisation_sees_nothing(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload("ip794-created-gaps.yaml")
    other = second_org(web)
    assert "пока нет заявок" in other.get("/applications").text
    for url in (f"/applications/{app_id}", f"/applications/{app_id}/application.json", f"/applications/{app_id}/upload"):
        r = other.get(url)
        assert r.status_code == 404 and "Не найдено" in r.text and r.headers["content-type"].startswith("text/html")


def test_new_version_from_a_file_and_downloads(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload("ip794-created-gaps.yaml")
    data = yaml.safe_load((FIXTURES / "ip794-created-gaps.yaml").read_text("utf-8"))
    data["site_name"] = "Парк после правки"
    r = web.post(f"/applications/{app_id}/upload",
                 files={"file": ("v2.json", json.dumps(data, default=str, ensure_ascii=False).encode())})
    assert r.status_code == 303 and r.headers["location"] == f"/applications/{app_id}?msg=updated"
    page = web.client.get(r.headers["location"]).text
    assert "Сохранена новая версия заявки" in page and "Парк после правки" in page
    assert "Версия 2" in page and "Версия 1" in page
    v1 = web.client.get(f"/applications/{app_id}/application.json?version=1")
    assert "v1.json" in v1.headers["content-disposition"]
    assert v1.json() == _api(web, f"/applications/{app_id}?version=1")["body"]
    assert web.client.get(f"/applications/{app_id}/application.json").json()["site_name"] == "Парк после правки"
    assert web.client.get(f"/applications/{app_id}/application.json?version=9").status_code == 404


def test_excel_template_download_is_the_cluster_template(tmp_path):
    from openpyxl import load_workbook

    from compliance.excel import REQUIRED_SHEETS

    web = web_client(tmp_path)
    r = web.client.get("/template.xlsx")
    assert r.status_code == 200 and "cluster-template.xlsx" in r.headers["content-disposition"]
    assert set(REQUIRED_SHEETS) <= set(load_workbook(io.BytesIO(r.content)).sheetnames)


def test_list_shows_the_last_check_verdict(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload("ip794-created-gaps.yaml")
    out = web.client.post(f"/api/v1/applications/{app_id}/checks", json={},
                          headers={"Authorization": f"Bearer {web.token}"}).json()
    verdict = out["verdicts"]["ip794"]
    listing = web.client.get("/applications").text
    row = re.search(rf'href="/checks/{out["id"]}">\s*<span class="badge v-(\w+)">([^<]+)</span>', listing)
    assert row and row.group(1) == verdict
    page = web.client.get(f"/applications/{app_id}").text
    assert f'href="/checks/{out["id"]}"' in page


def test_sign_out_forgets_the_session(tmp_path):
    web = web_client(tmp_path)
    r = web.post("/sign-out")
    assert r.status_code == 303
    assert web.client.get("/applications", follow_redirects=False).status_code == 303


def test_api_errors_stay_json_and_pages_are_html(tmp_path):
    web = web_client(tmp_path)
    assert web.client.get("/api/v1/applications/nope").headers["content-type"] == "application/json"
    r = web.client.get("/nowhere")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html") and "Не найдено" in r.text


def test_serve_prints_a_sign_in_link_with_a_working_token(tmp_path, monkeypatch):
    import uvicorn
    from typer.testing import CliRunner

    from compliance import cli
    from compliance.settings import get_settings
    from compliance.storage import session_factory, token_owner

    url = f"sqlite:///{tmp_path / 'serve.db'}"
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", url)
    get_settings.cache_clear()
    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(kw))
    try:
        result = CliRunner().invoke(cli.app, ["serve", "--port", "8123", "--demo-org", "Демо УК"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    m = re.search(r"http://localhost:8123/sign-in#(cmp_\S+)", result.output)
    assert m and started["port"] == 8123
    with session_factory(url)() as s:
        assert token_owner(s, m.group(1)) is not None


def test_a_revoked_token_ends_the_browser_session(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from compliance import cli
    from compliance.settings import get_settings
    from compliance.storage import token_owner

    web = web_client(tmp_path)
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", web.database_url)
    get_settings.cache_clear()
    try:
        with web.app.state.sessions() as s:
            token_id = token_owner(s, web.token).id
        listed = CliRunner().invoke(cli.app, ["token", "list", "--org", "УК «Тест»"])
        assert listed.exit_code == 0 and f"{token_id}\t{web.token[:10]}…" in listed.output and "действует" in listed.output
        assert web.client.get("/applications", follow_redirects=False).status_code == 200
        revoked = CliRunner().invoke(cli.app, ["token", "revoke", str(token_id)])
        assert revoked.exit_code == 0, revoked.output
        missing = CliRunner().invoke(cli.app, ["token", "revoke", "999"])
        assert missing.exit_code == 2 and "токена № 999 нет" in missing.output
    finally:
        get_settings.cache_clear()
    assert web.client.get("/applications", follow_redirects=False).status_code == 303
    r = sign_in(type(web.client)(web.app), web.token)
    assert r.status_code == 401 and "отозван" in r.text
