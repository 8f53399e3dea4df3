"""Russian legal language in every rendered document (issue 15 §2): the gap report, the `--regime all` matrix, the GOST
conclusion with the expert's judgements and the catalog review document of every fixture — Word (read back with
python-docx), text and Markdown — are read as an official reads them: no word twice in a row («Требования,
требования», «cluster, cluster»), no citation with two numbers («ПП РФ № 794 № 12») or a date twice («от 14.09.2023)
от 14.09.2023»), no heading repeated by the line under it («1. Заключение» / «Заключение: …»), each count stated once
(«19 несоответствий» / «Выявлено 19 несоответствий»), no bare operator as a norm («равно 0 / равно 0»), and the GOST
conclusion calls its items by one term («критерии»)."""
from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path

import docx
import pytest
import yaml
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from compliance.catalog import load_catalog
from compliance.documents import describe
from compliance.eligibility import eligibility, regimes_for
from compliance.evaluate import evaluate
from compliance.judgements import load_judgements
from compliance.loading import InputError, load_application, validate
from compliance.models import Document
from compliance.render import render_markdown, render_matrix_markdown, render_matrix_text, render_text
from compliance.word import catalog_docx, report_docx
from tests.conftest import FIXTURES

ALL_REGIMES = ["ip794", "itp1863", "htp1381", "cl779", "gost56425"]
APPLICATIONS = sorted(p for p in list(FIXTURES.glob("*.yaml")) + list(FIXTURES.glob("*.json"))
                      if "regimes" in (yaml.safe_load(p.read_text("utf-8")) or {}))
P_TAG = qn("w:p")
JUDGED = {"gost-judgements-itp1863.yaml": "itp1863-operating-occupancy-gap.yaml",
          "gost-judgements-htp1381.yaml": "htp1381-operating.yaml"}


# --- reading a document as lines ------------------------------------------------------------------------------------
def docx_blocks(data: bytes) -> list[tuple[str, str]]:
    """(kind, text) of a Word document in reading order: ('h', heading), ('p', paragraph), ('c', table cell)."""
    document = docx.Document(io.BytesIO(data))
    out: list[tuple[str, str]] = []
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            p = Paragraph(element, document)
            if p.text.strip():
                out.append(("h" if p.style.name.startswith(("Heading", "Title")) else "p", p.text))
        elif tag == "tbl":
            for row in Table(element, document).rows:
                for tc in row._tr.tc_lst:  # each cell of the row once, a merged one too
                    out += [("c", p.text) for p in (Paragraph(e, document) for e in tc.iterchildren(P_TAG))
                            if p.text.strip()]
    return out


def markdown_blocks(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        if not line.strip() or set(line.strip()) <= set("|-"):
            continue
        if line.startswith("#"):
            out.append(("h", line.lstrip("#").strip()))
        elif line.startswith("|"):
            out += [("c", cell.strip()) for cell in re.split(r"(?<!\\)\|", line.strip("|")) if cell.strip()]
        else:
            out.append(("p", line.strip().lstrip("-•").strip()))
    return out


def text_blocks(text: str) -> list[tuple[str, str]]:
    return [("p", line.strip()) for line in text.splitlines() if line.strip()]


# --- the defects -----------------------------------------------------------------------------------------------------
WORD = r"[^\W\d_]+"
# «что что»; «Требования, требования к …» and «кластер, кластер»: a word repeated after a comma is a defect when one of
# the two is a whole item of its list — «лабораторные помещения, помещения для НИОКР» is an honest enumeration.
DOUBLED = re.compile(rf"(?<![\w-])({WORD})[ \u00a0]+\1(?![\w-])"
                     rf"|(?:^|[,;:(—][ \u00a0]*)({WORD}),[ \u00a0]*\2(?![\w-])"
                     rf"|(?<![\w-])({WORD}),[ \u00a0]*\3(?=[ \u00a0]*(?:$|[,;.)]))", re.IGNORECASE)
TWO_NUMBERS = re.compile(r"№[ \u00a0]*[\w./-]+[ \u00a0]+№")
DATE_TWICE = re.compile(r"(\d\d\.\d\d\.\d{4})\)?,?[ \u00a0]+от[ \u00a0]+\1")
BARE_NORM = re.compile(r"(?<!\w)(?:равно|не равно|не более|более|не менее|менее)[ \u00a0]+0(?![,.]?\d)")
COUNT = re.compile(r"(?<![\d,])(\d+)[ \u00a0]+(несоответстви\w*)")


def line_defects(text: str) -> list[str]:
    out = []
    for m in DOUBLED.finditer(text):
        out.append(f"слово дважды подряд «{m.group(0).lstrip(',;:(— ')}»")
    for regex, what in ((TWO_NUMBERS, "два номера подряд"), (DATE_TWICE, "дата дважды"),
                        (BARE_NORM, "норматив без слов («равно 0»)")):
        out += [f"{what} «{m.group(0)}»" for m in regex.finditer(text)]
    return out


def _heading_words(heading: str) -> str:
    return re.sub(r"^[\d.]+\s*", "", heading).strip().lower()


def document_defects(blocks: list[tuple[str, str]]) -> list[str]:
    """Every defect of a rendered document, each with the text it was found in."""
    out = [f"{d}: {text[:160]}" for _, text in blocks for d in line_defects(text)]
    section_counts: dict[str, str] = {}
    for i, (kind, text) in enumerate(blocks):
        if kind == "h":
            section_counts = {}
            following = next((t for k, t in blocks[i + 1:i + 2] if k != "h"), "")
            words = _heading_words(text)
            if words and following.lower().lstrip("*").startswith(words + ":"):
                out.append(f"заголовок «{text}» повторён строкой под ним: {following[:120]}")
            continue
        if kind == "c":
            continue
        for m in COUNT.finditer(text):  # «19 несоответствий», then «Выявлено 19 несоответствий»: one fact twice
            key = f"{m.group(1)} {m.group(2)}"
            if key in section_counts and section_counts[key] != text:
                out.append(f"одно число сказано дважды «{key}»: «{section_counts[key][:80]}» и «{text[:80]}»")
            section_counts.setdefault(key, text)
    return out


# --- the documents of every fixture -----------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _application(path: Path):
    return load_application(path)


def _documents_of(path: Path):
    """(name, blocks) of every rendering of the fixture: each regime's gap report (Word, text, Markdown) and, for an
    application that several regimes can evaluate, the matrix (Word, text, Markdown)."""
    app = _application(path)
    regimes, _ = regimes_for(app, ALL_REGIMES)
    for regime in regimes:
        report = evaluate(app, regime)
        yield f"{regime}: Word", docx_blocks(report_docx([report]))
        yield f"{regime}: текст", text_blocks(render_text(report))
        yield f"{regime}: Markdown", markdown_blocks(render_markdown(report))
    matrix = eligibility(app, regimes=ALL_REGIMES)
    yield "матрица: Word", docx_blocks(report_docx([], matrix=matrix))
    yield "матрица: текст", text_blocks(render_matrix_text(matrix))
    yield "матрица: Markdown", markdown_blocks(render_matrix_markdown(matrix))


def _report(defects: dict[str, list[str]]) -> str:
    return "\n" + "\n".join(f"{where}:\n  " + "\n  ".join(found[:12]) for where, found in defects.items())


@pytest.mark.parametrize("path", APPLICATIONS, ids=lambda p: p.name)
def test_reports_and_matrix_of_every_fixture_read_as_clean_russian(path):
    defects = {where: found for where, blocks in _documents_of(path) if (found := document_defects(blocks))}
    assert not defects, _report(defects)


@lru_cache(maxsize=None)
def _conclusion(judgements: str, application: str):
    report = evaluate(_application(FIXTURES / application), "gost56425", judgements=load_judgements(FIXTURES / judgements))
    assert report.assessment is not None and report.judgements_by
    return report


@pytest.mark.parametrize("judgements, application", sorted(JUDGED.items()))
def test_gost_conclusion_reads_as_clean_russian(judgements, application):
    report = _conclusion(judgements, application)
    renderings = {"Word": docx_blocks(report_docx([report])), "текст": text_blocks(render_text(report)),
                  "Markdown": markdown_blocks(render_markdown(report))}
    defects = {where: found for where, blocks in renderings.items() if (found := document_defects(blocks))}
    assert not defects, _report(defects)


def _own_words(text: str) -> str:
    """The conclusion's own words: without the standard's title («Технопарки. Требования») and the sources it cites."""
    text = text.replace("«Технопарки. Требования»", "")
    return re.sub(r"источник: [^;|]*", "", text)


@pytest.mark.parametrize("judgements, application", sorted(JUDGED.items()))
def test_gost_conclusion_calls_its_items_criteria_throughout(judgements, application):
    blocks = docx_blocks(report_docx([_conclusion(judgements, application)]))
    mixed = [text for _, text in blocks if re.search(r"(?<!\w)требовани", _own_words(text), re.IGNORECASE)]
    assert not mixed, "«требования» в заключении, которое называет их критериями:\n" + "\n".join(mixed[:20])
    headings = [text for kind, text in blocks if kind == "h"]
    assert "5. Оценка по критериям" in headings
    cells = [text for kind, text in blocks if kind == "c"]
    assert "Критерий" in cells and "Требование" not in cells
    assert any(re.fullmatch(r"\d+ критери(й|я|ев) выполнен(о|ы)?", text) for _, text in blocks)


@pytest.mark.parametrize("judgements, application", sorted(JUDGED.items()))
def test_gost_conclusion_is_stated_under_its_heading_once(judgements, application):
    report = _conclusion(judgements, application)
    blocks = docx_blocks(report_docx([report]))
    at = blocks.index(("h", "1. Заключение"))
    conclusion = blocks[at + 1][1]
    assert conclusion == report.assessment.conclusion_text.upper()  # the heading names it, the line states it
    assert not any(text.startswith("Заключение:") for _, text in blocks)


@pytest.mark.parametrize("regime", ALL_REGIMES)
def test_catalog_review_document_reads_as_clean_russian(regime):
    blocks = docx_blocks(catalog_docx(load_catalog(regime)))
    found = [f"{d}: {text[:160]}" for _, text in blocks for d in line_defects(text)]
    assert not found, "\n" + "\n".join(found[:30])


# --- the general rules behind the fixes ------------------------------------------------------------------------------
@pytest.mark.parametrize("title, number, when, expected", [
    ("Заявление о подтверждении соответствия требованиям ПП РФ № 794", "12", "2025-05-30",
     "Заявление о подтверждении соответствия требованиям ПП РФ № 794, от 30.05.2025 № 12"),
    ("Устав АНО «Парк» (в редакции решения учредителя от 14.09.2023)", None, "2023-09-14",
     "Устав АНО «Парк» (в редакции решения учредителя от 14.09.2023)"),
    ("Положение о резидентах (протокол № 31)", "31", "2024-03-15", "Положение о резидентах (протокол № 31) от 15.03.2024"),
    ("Технические условия на присоединение, 900 кВт", "20-1/2025-ТУ", "2025-03-14",
     "Технические условия на присоединение, 900 кВт, от 14.03.2025 № 20-1/2025-ТУ"),
    ("Выписка из ЕГРЮЛ", "ЮЭ9965", "2025-05-26", "Выписка из ЕГРЮЛ от 26.05.2025 № ЮЭ9965"),
])
def test_a_document_is_cited_with_its_date_and_number_once(title, number, when, expected):
    doc = Document.model_validate({"kind": "other", "title": title, "number": number, "date": when})
    assert describe(doc, "документ") == expected


@pytest.mark.parametrize("op, value, unit, expected", [
    ("==", 0, "pcs", "ни одного"), ("<=", 0, None, "ни одного"), ("<", 1, "pcs", "ни одного"),
    (">", 0, "pcs", "хотя бы один"), ("!=", 0, None, "хотя бы один"),
    ("<=", 0, "km", "0 км, больше не допускается"), (">", 0, "km", "больше 0 км"),
    ("==", True, None, "да"), ("!=", True, None, "нет"), ("==", False, None, "нет"),
    ("in", [], None, "допустимых значений нет"), ("in", ["ООО", "АО"], None, "одно из: ООО, АО"),
    (">=", 8, "ha", "не менее 8 га"),
])
def test_a_norm_is_written_in_words(op, value, unit, expected):
    from compliance.formatting import norm_phrase
    assert norm_phrase(op, value, unit) == expected


@pytest.mark.parametrize("data, expected", [([1, 2], "а не списком"), ("заявка", "а не строкой"), (5, "а не целым числом"),
                                            (None, "а не пустым значением")])
def test_a_non_object_application_is_refused_in_the_instrumental_case(data, expected):
    with pytest.raises(InputError) as caught:
        validate(data)
    message = caught.value.problems[0].message
    assert message == f"заявка должна быть объектом (словарём полей), {expected}"


def test_a_requirement_that_does_not_apply_says_why_in_a_sentence():
    text = render_text(evaluate(_application(FIXTURES / "ip794-created-gaps.yaml"), "ip794"))
    assert "требование — при:" not in text
    assert ("Не применяется: у площадки категория «создаваемый», а требование применяется, когда категория "
            "«действующий».") in text
