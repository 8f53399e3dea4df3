"""Web pages of the requirement catalogs: every requirement, what the program checks, norms and the review .docx."""
from __future__ import annotations

import html
import io

import pytest

from compliance.catalog import UNCONFIRMED, available_regimes, load_catalog
from compliance.word import what_it_checks
from webclient import web_client


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    return web_client(tmp_path_factory.mktemp("catalog"))


def test_catalog_list_counts_every_regime(web):
    page = web.client.get("/catalog").text
    for code in available_regimes():
        cat = load_catalog(code)
        unconfirmed = sum(1 for r in cat.decree.requirements if r.confidence in UNCONFIRMED)
        assert f'<a href="/catalog/{code}">{html.escape(cat.decree.title)}</a>' in page
        assert f'<a href="/catalog/{code}?unconfirmed=true">{unconfirmed}</a>' in page
        assert f"<td>{len(cat.decree.requirements)}</td>" in page


@pytest.mark.parametrize("code", available_regimes())
def test_regime_page_shows_each_requirement_and_what_is_checked(web, code):
    cat = load_catalog(code)
    page = web.client.get(f"/catalog/{code}").text
    assert page.count('class="card req"') == len(cat.decree.requirements)
    for req in cat.decree.requirements:
        assert f'id="r-{req.id}"' in page
        for line in what_it_checks(cat, req):
            assert f"<li>{html.escape(line)}</li>" in page, (req.id, line)
    only = web.client.get(f"/catalog/{code}", params={"unconfirmed": "true"}).text
    expected = [r.id for r in cat.decree.requirements if r.confidence in UNCONFIRMED]
    assert only.count('class="card req"') == len(expected)
    assert all(f'id="r-{rid}"' in only for rid in expected)


def test_review_document_and_unknown_regime(web):
    from docx import Document

    r = web.client.get("/catalog/ip794/review.docx")
    assert r.status_code == 200 and "catalog-ip794-review.docx" in r.headers["content-disposition"]
    doc = Document(io.BytesIO(r.content))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    cat = load_catalog("ip794")
    assert cat.decree.title in [p.text for p in doc.paragraphs]
    assert f"версия {cat.decree.catalog_version}, контрольная сумма {cat.content_hash[:12]}" in cells
    r = web.client.get("/catalog/nope")
    assert r.status_code == 404 and "Режима «nope» нет" in r.text


def test_catalog_pages_need_sign_in(web):
    fresh = type(web.client)(web.app)
    assert fresh.get("/catalog/ip794", follow_redirects=False).status_code == 303
