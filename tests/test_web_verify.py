"""The catalog page's check of the catalog against an uploaded act text (`compliance catalog verify` in the service):
the result on a page with the same counts as the CLI's JSON, the Word review document of the CLI's builder, a
non-act refused next to the field with nothing stored, the CSRF field and a signed-in user required, the file parsed
in a worker process (mode "process") as any untrusted upload."""
from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re

import pytest
from docx import Document
from sqlalchemy import func, select
from typer.testing import CliRunner

from compliance.catalog import load_catalog
from compliance.cli import app as cli
from compliance.formatting import value as fmt_value
from compliance.storage import AuditEntry, StoredApplication, StoredCheck
from leaks import document_names
from tests.conftest import FIXTURES, ROOT
from webclient import csrf_of, web_client

ACTS = FIXTURES / "acts"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    return web_client(tmp_path_factory.mktemp("verify"))


def _cli_json(path) -> dict:
    result = CliRunner().invoke(cli, ["catalog", "verify", "-r", "ip794", "-t", str(path), "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _upload(web, name: str, output: str | None = None, code: str = "ip794"):
    path = ACTS / name
    data = {"output": output} if output else {}
    return web.post(f"/catalog/{code}/verify", data, files={"file": (path.name, path.read_bytes())})


def _cells(doc) -> list[list[str]]:
    return [[c.text for c in row.cells] for t in doc.tables for row in t.rows]


def _stored(web) -> tuple[int, int, int]:
    with web.app.state.sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (StoredApplication, StoredCheck,
                                                                              AuditEntry))


def _catalog_digest() -> str:
    h = hashlib.sha256()
    for path in sorted([*ROOT.glob("decrees/*.yaml"), *ROOT.glob("rules/*.yaml")]):
        h.update(path.read_bytes())
    return h.hexdigest()


def test_the_catalog_page_offers_the_upload_and_says_applying_is_a_separate_step(web):
    page = web.client.get("/catalog/ip794").text
    form = page[page.index('<form method="post" action="/catalog/ip794/verify"'):]
    form = form[:form.index("</form>")]
    assert 'enctype="multipart/form-data"' in form and 'name="csrf"' in form and 'name="file"' in form
    assert '<code class="command">compliance catalog verify --regime ip794 --text ФАЙЛ --apply</code>' in page
    assert "выполняет и проверяет человек" in page


@pytest.mark.parametrize("name", ["park-decree.docx", "park-decree.txt", "park-decree.pdf"])
def test_upload_shows_the_same_counts_and_outcomes_as_the_cli(web, name):
    before, digest = _stored(web), _catalog_digest()
    r = _upload(web, name)
    assert r.status_code == 200, r.text[:2000]
    page = r.text
    cli = _cli_json(ACTS / name)
    ru = {"confirmed": "подтверждено", "contradicted": "расходится с текстом", "ambiguous": "неоднозначно",
          "not_located": "не найдено в тексте"}
    counts = dict(re.findall(r'<tr data-outcome="(\w+)"><td>[^<]*</td><td>(\d+)</td></tr>', page))
    assert {k: int(v) for k, v in counts.items()} == cli["counts"]
    assert "Требования: " + "; ".join(f"{ru[k]} — {n}" for k, n in cli["counts"].items()) in html.unescape(page)
    for req in cli["requirements"]:  # each requirement's row: its outcome, clause and quoted sentence
        row = page[page.index(f'<tr id="v-{req["id"]}" data-outcome="{req["outcome"]}">'):]
        row = html.unescape(row[:row.index("</tr>")])
        assert req["outcome_text"] in row
        for cand in req["candidates"]:
            assert f'{cand["clause"]}: «{cand["sentence"]}»' in re.sub(r"</?strong>", "", row)
        for par in req["parameters"]:  # the catalog's value beside the value found (or «не найдено»)
            assert f'{par["title"]}: в каталоге ' in row
            if par["outcome"] == "not_located":
                assert f'{par["title"]}: в каталоге {par["catalog_value"] is None and "не действует" or ""}' in row
                assert "в тексте — не найдено" in row
            else:
                assert f'— {"✓✗?"["confirmed contradicted ambiguous".split().index(par["outcome"])]} ' \
                       f'{par["outcome_text"]}' in row
    p6 = html.unescape(page[page.index('<tr id="v-794-P-6"'):])
    p6 = p6[:p6.index("</tr>")].replace("\u00a0", " ")
    par = next(r for r in cli["requirements"] if r["id"] == "794-P-6")["parameters"][0]
    assert par["catalog_value"] != par["found_value"]
    shown = [fmt_value(v, par["unit"]).replace("\u00a0", " ") for v in (par["catalog_value"], par["found_value"])]
    assert f"в каталоге {shown[0]} (с " in p6 and f"в тексте {shown[1]} — ✗ расходится с текстом" in p6
    assert ('<code class="command">compliance catalog verify --regime ip794 --text ' + name + " --apply</code>") in page
    assert "Эта страница ничего не меняет в каталоге" in page
    assert _stored(web) == before and _catalog_digest() == digest  # nothing stored, the catalog unchanged


def test_the_review_document_is_the_clis(web, tmp_path):
    out = tmp_path / "cli.docx"
    result = CliRunner().invoke(cli, ["catalog", "verify", "-r", "ip794", "-t", str(ACTS / "park-decree.docx"),
                                      "-f", "docx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    expected = _cells(Document(out))
    r = _upload(web, "park-decree.docx", output="docx")
    assert r.status_code == 200 and r.headers["content-type"] == DOCX_TYPE
    assert "catalog-ip794-verify.docx" in r.headers["content-disposition"]
    assert _cells(Document(io.BytesIO(r.content))) == expected
    page = _upload(web, "park-decree.docx").text  # the page links the same document
    link = re.search(r'href="data:' + re.escape(DOCX_TYPE) + r';base64,([A-Za-z0-9+/=]+)" download', page)
    assert link, "no link to the review document on the result page"
    assert _cells(Document(io.BytesIO(base64.b64decode(link.group(1))))) == expected


def test_an_amendment_act_shows_the_values_it_changes(web):
    r = _upload(web, "park-amendment.txt")
    assert r.status_code == 200, r.text[:2000]
    cli = _cli_json(ACTS / "park-amendment.txt")
    changed = [p for p in cli["parameters"] if p["outcome"] == "contradicted"]
    assert changed and "Нормативы, которые меняет акт" in r.text
    for p in changed:
        assert f"<td>{html.escape(p['title'])}</td>" in r.text


def test_a_file_that_is_not_an_act_is_refused_next_to_the_field_and_nothing_is_stored(web):
    before, digest = _stored(web), _catalog_digest()
    r = _upload(web, "letter-not-an-act.txt")
    assert r.status_code == 422
    error = r.text[r.text.index('<p class="error" id="act-file-error"'):]
    error = html.unescape(error[:error.index("</p>")])
    assert "Файл «letter-not-an-act.txt» не похож на текст нормативного акта" in error
    assert "--text ФАЙЛ --apply" in r.text and "--text letter-not-an-act.txt" not in r.text
    assert 'aria-invalid="true"' in r.text and "Ничего не сохранено" in r.text
    assert 'id="verify-result"' not in r.text and "Traceback" not in r.text
    r = web.post("/catalog/ip794/verify", {}, files={"file": ("акт.pdf", b"%PDF-1.4 not really")})
    assert r.status_code == 422 and "повреждён или это не файл PDF" in html.unescape(r.text)
    r = web.post("/catalog/ip794/verify", {})
    assert r.status_code == 422 and "Выберите файл с текстом акта" in r.text
    assert _stored(web) == before and _catalog_digest() == digest


def test_the_refusal_page_names_nothing_internal(web):
    r = _upload(web, "letter-not-an-act.txt")
    text = re.sub(r'<code class="command">.*?</code>', " ", r.text, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style).*?</\1>", " ", text, flags=re.S)))
    assert document_names(text, ["letter-not-an-act.txt"]) == []


def test_an_oversized_file_is_refused(tmp_path):
    small = web_client(tmp_path, max_body_bytes=20_000)
    path = ACTS / "park-decree.pdf"
    assert path.stat().st_size > 20_000
    r = small.post("/catalog/ip794/verify", {}, files={"file": (path.name, path.read_bytes())})
    assert r.status_code == 413 and "больше допустимого" in r.text  # the whole request is limited first


def test_csrf_field_and_sign_in_are_required(web):
    path = ACTS / "park-decree.txt"
    r = web.client.post("/catalog/ip794/verify", files={"file": (path.name, path.read_bytes())},
                        follow_redirects=False)
    assert r.status_code == 403 and "Форма устарела" in r.text
    fresh = type(web.client)(web.app)
    r = fresh.post("/catalog/ip794/verify", data={"csrf": csrf_of(web.client.get("/catalog/ip794").text)},
                   files={"file": (path.name, path.read_bytes())}, follow_redirects=False)
    assert r.status_code in (303, 403) and 'id="verify-result"' not in r.text
    assert fresh.get("/catalog/ip794/verify", follow_redirects=False).status_code == 303


def test_catalogs_are_shared_another_organisation_gets_the_same_result(web, tmp_path):
    other = web_client(tmp_path, org="УК «Другая»")
    mine, theirs = _upload(web, "park-decree.txt").text, _upload(other, "park-decree.txt").text
    table = re.compile(r'<table class="counts">.*?</table>', re.S)
    assert table.search(mine).group(0) == table.search(theirs).group(0)


def test_unknown_regime_is_404(web):
    assert _upload(web, "park-decree.txt", code="nope").status_code == 404


def test_the_file_is_read_in_a_worker_process(tmp_path):
    """Mode "process": the act is parsed and matched in a worker under the memory limit, as the other uploads."""
    web = web_client(tmp_path, evaluation_mode="process", max_workers=1)
    with web.client:
        r = _upload(web, "park-decree.rtf")
        assert r.status_code == 200, r.text[:2000]
        counts = dict(re.findall(r'<tr data-outcome="(\w+)"><td>[^<]*</td><td>(\d+)</td></tr>', r.text))
        assert {k: int(v) for k, v in counts.items()} == _cli_json(ACTS / "park-decree.rtf")["counts"]
        r = _upload(web, "letter-not-an-act.txt")
        assert r.status_code == 422 and "не похож на текст нормативного акта" in html.unescape(r.text)
        assert web.app.state.evaluation_pool._pool is not None  # the pool ran it
    assert load_catalog("ip794")  # the catalog still loads


def test_the_api_gives_the_clis_json(web):
    """POST /api/v1/regimes/{code}/verify (multipart): the CLI's JSON; a non-act 422 with the problem; a token
    required."""
    auth = {"Authorization": f"Bearer {web.token}"}
    path = ACTS / "park-decree.html"
    r = web.client.post("/api/v1/regimes/ip794/verify", files={"file": (path.name, path.read_bytes())}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json() == _cli_json(path)
    letter = ACTS / "letter-not-an-act.txt"
    r = web.client.post("/api/v1/regimes/ip794/verify", files={"file": (letter.name, letter.read_bytes())},
                        headers=auth)
    assert r.status_code == 422
    assert "не похож на текст нормативного акта" in r.json()["problems"][0]["message"]
    r = type(web.client)(web.app).post("/api/v1/regimes/ip794/verify", files={"file": (path.name, path.read_bytes())})
    assert r.status_code == 401
    r = web.client.post("/api/v1/regimes/nope/verify", files={"file": (path.name, path.read_bytes())}, headers=auth)
    assert r.status_code == 404
