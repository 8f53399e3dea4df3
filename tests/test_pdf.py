"""PDF: the documents as a reader gets them. Every fixture's gap report, `--regime all` matrix, GOST R 56425
conclusion (with each judgements file) and each regime's catalog review document are converted to PDF by LibreOffice
(compliance/pdf.py; once per session, tests/pdfdocs.py) and read page by page: no unit at the start of a line after a
number, no requirement ID split across lines, no header word broken inside, no blank last page of the GOST
conclusion, more than four requirement rows on a landscape page where the rows are short. The CLI's --format pdf and
the service's PDF downloads are checked against the same Word document. Skipped, saying why, without LibreOffice
(`make test` installs it: the pdf-converter target)."""
from __future__ import annotations

import io
import re
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from typer.testing import CliRunner

from compliance.cli import app as cli
from compliance.evaluate import evaluate
from compliance.loading import load_application
from compliance.pdf import ConverterMissing, PdfError, docx_to_pdf, docx_to_pdf_many, find_converter
from compliance.word import REQUIREMENT_ID, _Doc, report_docx, signatures, typeset
from tests.conftest import FIXTURES
from tests.docxtext import body_text

pytest.importorskip("pypdfium2", reason="нет библиотеки pypdfium2 (make setup её устанавливает)")
from pdfdocs import Rendered, read_pdf, render_all  # noqa: E402

needs_converter = pytest.mark.skipif(
    find_converter() is None, reason="LibreOffice не установлен (make test ставит его целью pdf-converter; без прав "
                                     "root или sudo, без apt-get или сети это невозможно) — проверка PDF пропущена")
runner = CliRunner()

# A unit that must never begin a line after a number that ended the previous one.
UNIT_AT_START = re.compile(r"^(?:га|%|‰|км|м²|м³|МВт|кВт|МВА|кВ|Гкал|п\. ?п\.|руб\.?|тыс\.|млн|млрд|чел\.|шт\.|г\.|"
                           r"лет|года?|мес\.|дней|дн\.|сут\.?|м|т|ч)(?![\w²³])")


@pytest.fixture(scope="session")
def rendered() -> list[Rendered]:
    if find_converter() is None:
        pytest.skip(needs_converter.kwargs["reason"])
    return render_all()


def of_kind(rendered: list[Rendered], *kinds: str) -> list[Rendered]:
    docs = [d for d in rendered if d.kind in kinds]
    assert docs, kinds
    return docs


def line_pairs(d: Rendered):
    for n, lines in enumerate(d.pages, 1):
        for prev, cur in zip(lines, lines[1:]):
            yield n, prev.rstrip(), cur.strip()


def units_split(d: Rendered) -> list[str]:
    """'page 3: «… 0,6» / «га …»' for every line that begins with a unit after a line ending in a number."""
    return [f"стр. {n}: «…{prev[-30:]}» / «{cur[:30]}…»" for n, prev, cur in line_pairs(d)
            if (re.search(r"\d$", prev) and UNIT_AT_START.match(cur)) or (prev.endswith("№") and cur[:1].isdigit())]


def ids_split(d: Rendered) -> list[str]:
    """Every requirement ID broken across two lines (at a hyphen or inside a part)."""
    found = []
    for n, prev, cur in line_pairs(d):
        tail, head = (prev.split() or [""])[-1], (cur.split() or [""])[0]
        if not tail or not head or any(REQUIREMENT_ID.fullmatch(t.strip("(),.;:«»")) for t in (tail, head)):
            continue  # a whole ID at the end of a line or at the start of the next (after a number of another cell)
        joined = tail + head
        if any(m.start() < len(tail) < m.end() for m in REQUIREMENT_ID.finditer(joined)):
            found.append(f"стр. {n}: «{tail}» / «{head}»")
    return found


WORD = re.compile(r"[А-Яа-яЁё]{2,}")


def header_words_broken(d: Rendered) -> list[str]:
    """A word of a table header (as in the Word document) drawn as two pieces on two lines."""
    words = {w.strip("(),.:;«»") for row in d.headers for cell in row for w in cell.split()}
    words = {w for w in words if len(w) > 2}
    found = set()
    for n, prev, cur in line_pairs(d):
        tail, head = (prev.split() or [""])[-1], (cur.split() or [""])[0]
        for w in words:
            for k in range(1, len(w)):
                if tail == w[:k] or tail == w[:k] + "-":
                    if head.startswith(w[k:]) and w not in (tail, head):
                        found.add(f"стр. {n}: «{w}» разорвано как «{tail}» / «{head}»")
    return sorted(found)


def cell_words_broken(d: Rendered) -> list[str]:
    """A word of any table cell drawn as two pieces on two lines without a hyphen (a column narrower than the word:
    «автоматичес» / «ки»): the end of a line and the start of the next make a word of the tables, and neither piece
    is one."""
    words: set[str] = set()
    for table in docx.Document(io.BytesIO(d.docx)).tables:
        for row in table.rows:
            for cell in row.cells:
                words.update(WORD.findall(cell.text))
    found = set()
    for n, prev, cur in line_pairs(d):
        tail = WORD.findall(prev[-40:])
        head = WORD.findall(cur[:40])
        if not tail or not head or not prev.endswith(tail[-1]) or not cur.startswith(head[0]):
            continue
        joined = tail[-1] + head[0]
        if joined in words and tail[-1] not in words and head[0] not in words:
            found.add(f"стр. {n}: «{joined}» разорвано как «{tail[-1]}» / «{head[0]}»")
    return sorted(found)


# --- 1. typography, checked on every document ----------------------------------------------------------------------
def test_every_document_converts_and_has_text_on_every_page(rendered):
    assert len(rendered) >= 25
    for d in rendered:
        assert d.pages, d.name
        for n, lines in enumerate(d.pages, 1):
            assert any(len(line.strip()) > 3 for line in lines), f"{d.name}: пустая страница {n}"


def test_no_unit_begins_a_line_after_its_number(rendered):
    problems = {d.name: units_split(d) for d in rendered}
    assert not {k: v for k, v in problems.items() if v}


def test_no_requirement_id_is_split_across_lines(rendered):
    problems = {d.name: ids_split(d) for d in rendered}
    assert not {k: v for k, v in problems.items() if v}


def test_no_table_header_word_breaks_inside(rendered):
    problems = {d.name: header_words_broken(d) for d in rendered}
    assert not {k: v for k, v in problems.items() if v}


def test_no_word_in_a_table_breaks_inside(rendered):
    problems = {d.name: cell_words_broken(d) for d in rendered}
    assert not {k: v for k, v in problems.items() if v}


def test_gost_conclusion_ends_with_the_signatures_not_a_blank_page(rendered):
    for d in of_kind(rendered, "gost"):
        last = [line.strip() for line in d.pages[-1] if line.strip()]
        body = [line for line in last if not line.isdigit()]  # the page number in the footer
        assert body, f"{d.name}: последняя страница пуста"
        assert "Подписи" in " ".join(line for page in d.pages[-2:] for line in page), d.name


def rows_starting(lines: list[str]) -> list[str]:
    """The requirement IDs that begin a row on a page (an ID alone at the start of a line: the ID column)."""
    return [m.group(0) for line in lines if (m := REQUIREMENT_ID.match(line)) and line[m.end():m.end() + 1] in ("", " ")]


def row_sizes(d: Rendered) -> dict[str, int]:
    """Requirement ID -> the characters of its row in all cells, in the requirement tables of the Word document (their
    header ends with «Что сделать»): a measure of the text that does not depend on the column widths."""
    sizes: dict[str, int] = {}
    for table in docx.Document(io.BytesIO(d.docx)).tables:
        if table.rows and table.rows[0].cells[-1].text == "Что сделать":
            for row in table.rows[1:]:
                cells = [c.text for c in row.cells]
                sizes[cells[0].replace("\u2011", "-")] = sum(len(c) for c in cells)
    return sizes


def sparse_pages(d: Rendered, short: int) -> list[str]:
    """The landscape pages that a requirement table fills (it goes on over the page) with short rows (each of them
    and the first row of the next page at most ``short`` characters) and still four rows or fewer; a table that
    begins lower on the page counts its heading and header row as a row."""
    sizes = row_sizes(d)
    out = []
    for n in range(1, len(d.pages)):
        if not (d.landscape[n - 1] and d.landscape[n]):
            continue
        here, there = rows_starting(d.pages[n - 1]), rows_starting(d.pages[n])
        if not here or not there or not all(rid in sizes for rid in here + there[:1]):
            continue
        tables = sum(1 for line in d.pages[n - 1] if line.startswith("ID ") and "Что сделать" in line)
        if max(sizes[rid] for rid in here + there[:1]) <= short and len(here) + max(0, tables - 1) <= 4:
            out.append(f"стр. {n}: {len(here)} ({', '.join(here)})")
    return out


SHORT_ROW = 460  # characters in all cells of a row: a met requirement with its norm and fact


def test_landscape_pages_of_short_requirement_rows_hold_more_than_four(rendered):
    """Where the text allows, a landscape page of the findings (or GOST criteria) table holds more than four rows:
    the clause of the act sits under the title instead of a column of its own that made every row taller (before:
    four short rows a page in the reports of ip794-created-gaps, ip794-operating-conforming, itp1863-*)."""
    problems = {d.name: sparse_pages(d, SHORT_ROW) for d in of_kind(rendered, "gap", "matrix", "gost")}
    assert not {k: v for k, v in problems.items() if v}


def test_signatures_at_the_foot_of_a_page_leave_no_blank_page_after_them():
    """The signature block at every height of a page (a text of 30 to 45 lines before it): the document never ends
    with a blank page (before, at 36 lines the empty paragraph after the table went alone onto page 2)."""
    if find_converter() is None:
        pytest.skip(needs_converter.kwargs["reason"])
    docs = {}
    for n in range(30, 46):
        d = _Doc("Проверка подписей")
        for i in range(n):
            d.para(f"Строка {i + 1} текста перед подписями.")
        signatures(d)
        docs[f"lines-{n}"] = d.save()
    blank = []
    for name, pdf in docx_to_pdf_many(docs).items():
        pages, _ = read_pdf(pdf)
        if not [line for line in pages[-1] if line.strip() and not line.strip().isdigit()]:
            blank.append(f"{name}: {len(pages)} стр., последняя пустая")
    assert not blank


# --- 2. typography in the Word document itself (no converter needed) -----------------------------------------------
def test_word_runs_join_numbers_and_units_and_keep_ids_whole():
    report = evaluate(load_application(FIXTURES / "ip794-created-gaps.yaml"), "ip794")
    document = docx.Document(io.BytesIO(report_docx([report])))
    body = document.element.body
    texts = ["".join(t.text or "" for t in p.iter(qn("w:t"))) for p in body.iter(qn("w:p"))]
    joined = "\n".join(texts)
    assert "не хватает 0,6\u00a0га" in joined and "5\u00a0п.\u00a0п." in joined
    assert "№\u00a0794" in joined
    assert not re.search(r"\d (?:га|%|км|МВт|м²)(?!\w)", joined), "a plain space between a number and its unit"
    # an ID is written with no-break hyphens: three w:t pieces around two w:noBreakHyphen, python-docx reads it back
    runs = [r for r in body.iter(qn("w:r")) if r.find(qn("w:noBreakHyphen")) is not None]
    assert runs and "794-P-1" in {"".join("-" if el.tag == qn("w:noBreakHyphen") else el.text or ""
                                           for el in r if el.tag in (qn("w:t"), qn("w:noBreakHyphen"))) for r in runs}
    assert not re.search(r"\b794-P-\d", joined), "a breakable hyphen in an ID"
    assert "794-P-1" in body_text(document)  # a reader sees the hyphen


@pytest.mark.parametrize("text, expected", [
    ("не хватает 0,6 га", "не хватает 0,6\u00a0га"),
    ("5 п. п. до 50 %", "5\u00a0п.\u00a0п. до 50\u00a0%"),
    ("0,0284 МВт/га на 7,4 га и 100 м²", "0,0284\u00a0МВт/га на 7,4\u00a0га и 100\u00a0м²"),
    ("от 04.08.2015 № 794, п. 3.1", "от 04.08.2015 №\u00a0794, п.\u00a03.1"),
    ("794-P-1, G-3.2-1, 1863-DOC-10, G-INF-3 и P-2", "794‑P‑1, G‑3.2‑1, 1863‑DOC‑10, G‑INF‑3 и P‑2"),
    ("5 места и 2 гектара; ГОСТ Р 56425-2015", "5 места и 2 гектара; ГОСТ Р 56425-2015"),  # not units, not an ID
])
def test_typeset(text, expected):
    assert typeset(text) == expected


# --- 3. the converter: errors in Russian, a timeout stops it -------------------------------------------------------
def test_missing_converter_is_a_russian_error():
    with pytest.raises(ConverterMissing, match="Не найдена программа для преобразования в PDF: установите LibreOffice"):
        docx_to_pdf(b"PK", soffice="/nonexistent/soffice")


def test_a_converter_that_fails_is_a_russian_error(tmp_path):
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\necho 'Error: source file could not be loaded' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(PdfError, match="LibreOffice не смог преобразовать документ в PDF"):
        docx_to_pdf(b"PK", soffice=str(fake))


def test_a_converter_over_its_time_is_stopped_with_its_children(tmp_path):
    pids = tmp_path / "pids"
    fake = tmp_path / "soffice"
    fake.write_text(f"#!/bin/sh\nsleep 300 &\necho $$ $! > {pids}\nwait\n")
    fake.chmod(0o755)
    with pytest.raises(PdfError, match="не уложилось в 1 с и остановлено"):
        docx_to_pdf(b"PK", soffice=str(fake), timeout=1)
    for pid in map(int, pids.read_text().split()):  # the script and its child: gone, or dead and not yet reaped
        status = Path(f"/proc/{pid}/status")
        assert not status.exists() or "State:\tZ" in status.read_text(), status.read_text()


# --- 4. the command line -------------------------------------------------------------------------------------------
@needs_converter
def test_cli_format_pdf_writes_the_word_document_as_pdf(tmp_path):
    fixture = str(FIXTURES / "ip794-created-gaps.yaml")
    word = runner.invoke(cli, ["check", fixture, "-f", "docx", "-o", str(tmp_path / "r.docx")])
    result = runner.invoke(cli, ["check", fixture, "-f", "pdf", "-o", str(tmp_path / "r.pdf")])
    assert result.exit_code == word.exit_code == 1, result.output
    data = (tmp_path / "r.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    pages, _ = read_pdf(data)
    first = " ".join(pages[0])
    assert "ОТЧЁТ О СООТВЕТСТВИИ ТРЕБОВАНИЯМ" in first and "794-P-1" in first and "не хватает 0,6 га" in first
    # the same pages as the Word document converted by hand
    by_hand, _ = read_pdf(docx_to_pdf((tmp_path / "r.docx").read_bytes()))
    assert len(pages) == len(by_hand)

    review = runner.invoke(cli, ["catalog", "-r", "ip794", "-f", "pdf", "-o", str(tmp_path / "c.pdf")])
    assert review.exit_code == 0, review.output
    pages, _ = read_pdf((tmp_path / "c.pdf").read_bytes())
    assert "КАТАЛОГ ТРЕБОВАНИЙ ДЛЯ ЭКСПЕРТНОЙ СВЕРКИ" in " ".join(pages[0])


def test_cli_format_pdf_without_converter_or_output_exits_2_in_russian(tmp_path, monkeypatch):
    from compliance.settings import get_settings

    fixture = str(FIXTURES / "ip794-created-gaps.yaml")
    result = runner.invoke(cli, ["check", fixture, "-f", "pdf"])
    assert result.exit_code == 2 and "формат pdf — файл PDF, его нельзя вывести на экран" in result.output
    monkeypatch.setenv("COMPLIANCE_SOFFICE", str(tmp_path / "нет-такой-программы"))
    get_settings.cache_clear()
    try:
        for args in (["check", fixture], ["catalog", "-r", "ip794"]):
            result = runner.invoke(cli, args + ["-f", "pdf", "-o", str(tmp_path / "r.pdf")])
            assert result.exit_code == 2, result.output
            assert "PDF недоступен" in result.output and "установите LibreOffice" in result.output
            assert "Traceback" not in result.output and not (tmp_path / "r.pdf").exists()
    finally:
        get_settings.cache_clear()


# --- 5. the service ------------------------------------------------------------------------------------------------
@needs_converter
def test_service_pdf_download_is_the_word_report_converted(tmp_path):
    from test_api import Service

    svc = Service(tmp_path)
    created = svc.create()
    check = svc.a("POST", f"/applications/{created['id']}/checks", json={}).json()
    r = svc.a("GET", f"/checks/{check['id']}/report.pdf")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF-")
    assert f'filename="check-{check["id"]}.pdf"' in r.headers["content-disposition"]
    pages, _ = read_pdf(r.content)
    assert created["site_name"] in " ".join(pages[0])
    assert svc.b("GET", f"/checks/{check['id']}/report.pdf").status_code == 404  # another organisation's check
    entries = svc.a("GET", "/audit").json()
    assert any(e["action"] == "check.pdf" and e["object_id"] == check["id"] for e in entries)


def test_service_pdf_without_converter_is_503_in_russian(tmp_path):
    from test_api import Service

    svc = Service(tmp_path)
    created = svc.create()
    check = svc.a("POST", f"/applications/{created['id']}/checks", json={}).json()
    svc.app.state.settings.soffice = str(tmp_path / "нет-такой-программы")  # the settings the routes read
    r = svc.a("GET", f"/checks/{check['id']}/report.pdf")
    assert r.status_code == 503, r.text
    assert r.json()["detail"] == ("Отчёты PDF недоступны на этом сервере: не установлен LibreOffice. Скачайте отчёт "
                                  "Word (.docx).")


@needs_converter
def test_web_pages_offer_pdf_next_to_word(tmp_path):
    from test_web_results import _check
    from webclient import web_client

    web = web_client(tmp_path)
    check_id = _check(web, web.upload("ip794-created-gaps.yaml"))
    page = web.client.get(f"/checks/{check_id}").text
    assert f'href="/checks/{check_id}/report.pdf"' in page and "Скачать отчёт PDF" in page
    r = web.client.get(f"/checks/{check_id}/report.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith(f'attachment; filename="check-{check_id}.pdf"')
    pages, _ = read_pdf(r.content)
    assert "ОТЧЁТ О СООТВЕТСТВИИ ТРЕБОВАНИЯМ" in " ".join(pages[0])

    catalog = web.client.get("/catalog/ip794").text
    assert 'href="/catalog/ip794/review.pdf"' in catalog
    r = web.client.get("/catalog/ip794/review.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")
    assert "КАТАЛОГ ТРЕБОВАНИЙ ДЛЯ ЭКСПЕРТНОЙ СВЕРКИ" in " ".join(read_pdf(r.content)[0][0])

    web.app.state.settings.soffice = str(tmp_path / "нет-такой-программы")  # a server without LibreOffice
    r = web.client.get(f"/checks/{check_id}/report.pdf")
    assert r.status_code == 503 and "не установлен LibreOffice" in r.text and "Traceback" not in r.text
