"""The page «Реквизиты»: an organisation's user enters the details its Word documents show (name, address, logo,
signer, outgoing-number prefix); every report downloaded afterwards — from the pages and from the API — carries them,
another organisation's documents do not. Bad input is a Russian message next to its field, and nothing is stored.
The migration that adds the columns upgrades a database holding an organisation and downgrades it."""
from __future__ import annotations

import html
import io
import re

import docx
import yaml

from compliance.storage import Organisation
from tests.docxtext import body_text, cell_text
from webclient import FIXTURES, second_org, web_client

ORG_FILE = FIXTURES / "organisation" / "upa-sever.yaml"


def details() -> dict:
    """The details typed into the form: those of the example organisation file."""
    data = yaml.safe_load(ORG_FILE.read_text("utf-8"))
    return {"legal_name": data["name"], "address": data["address"], "signer_name": data["signer_name"],
            "signer_position": data["signer_position"], "outgoing_prefix": data["outgoing_prefix"]}


def logo() -> bytes:
    return (ORG_FILE.parent / yaml.safe_load(ORG_FILE.read_text("utf-8"))["logo"]).read_bytes()


def text_of(document) -> str:
    return body_text(document)


def signature(document) -> list[str]:
    return [cell_text(c) for c in document.tables[-1].rows[0].cells]


def _check(web, name: str = "ip794-created-gaps.yaml") -> str:
    app_id = web.upload(name)
    r = web.post(f"/applications/{app_id}/check", {"regime": "", "as_of": ""})
    assert r.status_code == 303, r.text[:2000]
    return r.headers["location"].rsplit("/", 1)[1]


def test_details_entered_on_the_page_are_in_every_downloaded_report(tmp_path):
    web = web_client(tmp_path)
    page = web.client.get("/organisation")
    assert page.status_code == 200 and 'href="/organisation"' in page.text and "Реквизиты" in page.text
    want = details()
    r = web.post("/organisation", want, files={"logo": ("логотип.png", logo(), "image/png")})
    assert r.status_code == 303 and r.headers["location"] == "/organisation?msg=saved"
    saved = web.client.get(r.headers["location"]).text
    assert "Реквизиты сохранены" in saved
    for value in want.values():
        assert f'value="{html.escape(value)}"' in saved
    assert web.client.get("/organisation/logo").content == logo()

    check_id = _check(web)
    for url, headers in ((f"/checks/{check_id}/report.docx", None),
                         (f"/api/v1/checks/{check_id}/report.docx", {"Authorization": f"Bearer {web.token}"})):
        r = web.client.get(url, headers=headers)
        assert r.status_code == 200, r.text[:500]
        document = docx.Document(io.BytesIO(r.content))
        text = text_of(document)
        assert text.index(want["legal_name"]) < text.index("ОТЧЁТ О СООТВЕТСТВИИ ТРЕБОВАНИЯМ")
        assert want["address"] in text
        assert re.search(rf"Исх\. № {re.escape(want['outgoing_prefix'])}_+ от", text)
        assert signature(document)[0] == f"Подготовил:\n{want['signer_position']}"
        assert signature(document)[2] == f"/ {want['signer_name']} /"
        assert len(document.inline_shapes) == 1

    # another organisation's documents carry none of it
    other = second_org(web)
    app_id = other.post("/applications/upload", files={"file": ("a.yaml", (FIXTURES / "ip794-created-gaps.yaml")
                                                                 .read_bytes())}, data={"csrf": _csrf(other)},
                        follow_redirects=False).headers["location"].split("?")[0].rsplit("/", 1)[1]
    r = other.post(f"/applications/{app_id}/check", data={"regime": "", "as_of": "", "csrf": _csrf(other)},
                   follow_redirects=False)
    other_check = r.headers["location"].rsplit("/", 1)[1]
    document = docx.Document(io.BytesIO(other.get(f"/checks/{other_check}/report.docx").content))
    text = text_of(document)  # (the management company in the application is named as such, not as a letterhead)
    assert want["address"] not in text and want["signer_name"] not in text and len(document.inline_shapes) == 0
    assert not text.startswith(want["legal_name"]) and f"Исх. № {want['outgoing_prefix']}" not in text
    assert other.get("/organisation/logo").status_code == 404


def _csrf(client) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/applications").text).group(1)


def test_bad_details_are_refused_next_to_their_field_and_nothing_is_stored(tmp_path):
    web = web_client(tmp_path)
    good = details()
    assert web.post("/organisation", good).status_code == 303
    bad = dict(good, legal_name="Ю" * 301, signer_position="Директор по развитию")
    r = web.post("/organisation", bad, files={"logo": ("logo.png", b"GIF89a not an image", "image/png")})
    assert r.status_code == 422
    page = r.text
    assert "Реквизиты не сохранены" in page
    assert 'id="legal_name-error"' in page and "не больше 300 символов" in page
    assert 'id="logo-error"' in page and "PNG или JPEG" in page
    assert 'value="Директор по развитию"' in page  # what was typed is kept
    with web.app.state.sessions() as s:
        org = s.query(Organisation).one()
        assert (org.legal_name, org.signer_position, org.logo) == (good["legal_name"], good["signer_position"], None)


def test_emptied_fields_and_a_removed_logo_leave_lines_in_the_document(tmp_path):
    web = web_client(tmp_path)
    assert web.post("/organisation", details(), files={"logo": ("l.png", logo(), "image/png")}).status_code == 303
    assert web.post("/organisation", dict.fromkeys(details(), "") | {"remove_logo": "yes"}).status_code == 303
    with web.app.state.sessions() as s:
        org = s.query(Organisation).one()
        assert (org.legal_name, org.logo, org.signer_name) == (None, None, None)
    document = docx.Document(io.BytesIO(web.client.get(f"/checks/{_check(web)}/report.docx").content))
    assert len(document.inline_shapes) == 0
    assert re.fullmatch(r"/ _+ /", signature(document)[2])


def test_the_page_needs_sign_in_and_csrf(tmp_path):
    web = web_client(tmp_path)
    r = web.client.post("/organisation", data=details(), follow_redirects=False)
    assert r.status_code == 403
    with web.app.state.sessions() as s:
        assert s.query(Organisation).one().legal_name is None


def test_migration_0003_adds_the_details_to_a_database_with_an_organisation(tmp_path):
    from alembic import command
    from sqlalchemy import create_engine, inspect, text

    from tests.testdb import old_sqlite

    url, cfg = old_sqlite(tmp_path, "0002_catalog_snapshots")
    engine = create_engine(url)
    with engine.begin() as con:
        con.execute(text("INSERT INTO organisations (id, name, created_at) VALUES (1, 'УК', '2026-12-01')"))
    command.upgrade(cfg, "0003_organisation_details")
    columns = {c["name"] for c in inspect(engine).get_columns("organisations")}
    assert {"legal_name", "address", "logo", "signer_name", "signer_position", "outgoing_prefix"} <= columns
    with engine.connect() as con:
        assert con.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003_organisation_details"
        assert con.execute(text("SELECT name, legal_name, logo FROM organisations")).all() == [("УК", None, None)]
    command.downgrade(cfg, "0002_catalog_snapshots")
    assert "legal_name" not in {c["name"] for c in inspect(engine).get_columns("organisations")}
    with engine.connect() as con:
        assert con.execute(text("SELECT name FROM organisations")).all() == [("УК",)]
