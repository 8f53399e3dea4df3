"""Word documents: the gap report, the GOST assessment conclusion, the matrix with several reports and the expert
review of every catalog — opened with python-docx and checked for content and Russian typography."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Cm, RGBColor
from typer.testing import CliRunner

from compliance.catalog import available_regimes, load_catalog
from compliance.cli import app as cli_app
from compliance.eligibility import eligibility
from compliance.evaluate import evaluate
from compliance.judgements import load_judgements
from compliance.loading import load_application
from compliance.report import STATUS_RU, count_statuses
from compliance.word import catalog_docx, check_text, report_docx, status_count_text
from tests.conftest import FIXTURES
from tests.docxtext import cell_text, paragraph_text, rows_under

FONT = "Times New Roman"
runner = CliRunner()


# --- helpers -------------------------------------------------------------------------------------------------------
def open_docx(data: bytes):
    assert data[:2] == b"PK", "a .docx is a zip package"
    return docx.Document(io.BytesIO(data))


def all_text(document) -> str:
    """Every paragraph of the body, tables included, one per line."""
    return "\n".join(paragraph_text(p) for p in document.element.body.iter(qn("w:p")))


def table_rows(document, first_header: str) -> list[list[str]]:
    """Data rows of every table whose header row starts with ``first_header``."""
    rows = []
    for table in document.tables:
        if not table.rows or cell_text(table.rows[0].cells[0]) != first_header:
            continue
        rows += [[cell_text(c) for c in row.cells] for row in table.rows[1:]]
    return rows


FINDINGS = ["ID", "Требование, пункт акта", "Норматив", "Факт", "Статус", "Что сделать"]
CRITERIA = ["ID", "Критерий", "Вердикт", "Обоснование, оценка эксперта и основание", "Что сделать"]
CHECKLIST = ["ID", "Документ", "Статус", "Представлено", "Не хватает"]
UNCONFIRMED = ["ID", "Требование", "Норматив", "Достоверность", "Ссылка и источник"]
WAIVERS = ["ID", "Критерий", "Обоснование", "Действует до", "Утвердил", "Состояние"]
SUMMARY = ["Результат проверки", "Требований"]
BLOCKING = ["ID", "Требование", "Чего не хватает"]


def headers_of(document) -> list[list[str]]:
    return [[cell_text(c) for c in t.rows[0].cells] for t in document.tables if t.rows]


def is_header_row(row) -> bool:
    tr_pr = row._tr.trPr
    if tr_pr is None:
        return False
    flag = tr_pr.find(qn("w:tblHeader"))
    return flag is not None and flag.get(qn("w:val"), "true") in ("true", "1", "on")


@lru_cache(maxsize=None)
def report_for(fixture: str, regime: str):
    return evaluate(load_application(FIXTURES / fixture), regime)


@lru_cache(maxsize=None)
def gaps_docx() -> bytes:
    return report_docx([report_for("ip794-created-gaps.yaml", "ip794")])


@lru_cache(maxsize=None)
def gost_report():
    app = load_application(FIXTURES / "htp1381-operating.yaml")
    judgements = load_judgements(FIXTURES / "gost-judgements-htp1381.yaml")
    return evaluate(app, "gost56425", judgements=judgements)


@lru_cache(maxsize=None)
def review_docx(regime: str) -> bytes:
    return catalog_docx(load_catalog(regime))


def application_fixtures() -> list[Path]:
    """Every application in fixtures/ (not the batch folder, not the assessors' judgement files)."""
    return sorted(p for p in FIXTURES.iterdir()
                  if p.is_file() and p.suffix in (".yaml", ".yml", ".json", ".xlsx")
                  and not p.name.startswith("gost-judgements"))


def assert_findings_present(document, report) -> None:
    """Every finding is in the document with its Russian status: requirements in the findings tables (or the
    assessment's criteria tables), documents in the checklist."""
    findings_rows = {row[0]: row for header in (FINDINGS, CRITERIA, CHECKLIST) for row in rows_under(document, header)}
    for f in report.findings:
        assert f.requirement_id in findings_rows, f"{f.requirement_id} отсутствует в документе"
        row = findings_rows[f.requirement_id]
        assert any(cell.startswith(STATUS_RU[f.status]) for cell in row), (f.requirement_id, f.status, row)


# --- the gap report ------------------------------------------------------------------------------------------------
def test_gap_report_has_every_finding_with_its_russian_status():
    report = report_for("ip794-created-gaps.yaml", "ip794")
    document = open_docx(gaps_docx())
    assert_findings_present(document, report)
    text = all_text(document)
    assert "ОТЧЁТ О СООТВЕТСТВИИ ТРЕБОВАНИЯМ" in text
    assert report.verdict_text.upper() in text
    assert ["Не выполнено", str(report.counts["not_met"])] in rows_under(document, ["Результат проверки", "Требований"])
    assert "Выявлено" not in text  # the count once, in the table, not again as a sentence
    # the findings table has the seven columns of the brief
    assert FINDINGS in headers_of(document)


def test_gap_report_title_block_names_the_applicant_the_act_in_full_and_the_catalog():
    report = report_for("ip794-created-gaps.yaml", "ip794")
    text = all_text(open_docx(gaps_docx()))
    assert report.act_citation == "постановление Правительства Российской Федерации от 04.08.2015 № 794"
    assert report.act_citation in text
    assert report.applicant.name in text and report.applicant.inn in text
    assert report.applicant.site_name in text
    assert "«02» июня 2025 г." in text  # as-of date, day_long
    assert f"версия {report.catalog_version}, контрольная сумма {report.catalog_hash[:12]}" in text
    n = len(report.unconfirmed_norms)
    assert n > 0 and f"{n} вердиктов основаны на нормативах, которые требуют сверки" in text
    assert report.evaluation_id in text


def test_gap_report_blocking_gaps_come_first_and_failing_items_are_named():
    report = report_for("ip794-created-gaps.yaml", "ip794")
    text = all_text(open_docx(gaps_docx()))
    summary, _, body = text.partition("2. Результаты проверки по требованиям")
    assert "Критичные требования, не подтверждённые проверкой" in summary
    for rid in report.blocking_gaps:
        assert rid in summary
    assert ["794-P-1", "Площадь территории", "не хватает 0,6 га"] in rows_under(open_docx(gaps_docx()), BLOCKING)
    # 794-P-3 fails for a plot without a cadastral number: the plot is named in the fact cell
    row = next(r for r in rows_under(open_docx(gaps_docx()), FINDINGS) if r[0] == "794-P-3")
    assert "участок № 2" in row[3]


def test_cluster_report_names_the_participant_without_a_contract():
    report = report_for("cl779-contract-gap.json", "cl779")
    c1 = next(f for f in report.findings if f.requirement_id == "779-C-1")
    assert c1.status == "not_met"
    named = [d for c in c1.checks if c.outcome == "failed" for d in c.fact.details]
    assert named
    row = next(r for r in rows_under(open_docx(report_docx([report])), FINDINGS) if r[0] == "779-C-1")
    for participant in named:
        assert participant in row[3]


def test_gap_report_has_documents_calculations_unconfirmed_norms_and_notes():
    report = report_for("cl779-contract-gap.json", "cl779")
    document = open_docx(report_docx([report]))
    text = all_text(document)
    assert "Документы для заявки" in text
    assert ["ID", "Документ", "Статус", "Представлено", "Не хватает"] in headers_of(document)
    assert report.calculations, "the cluster report carries the functional-dependency calculation"
    assert "Расчёты" in text
    for calc in report.calculations:
        assert calc.title in text
        for line in calc.lines:
            assert line.replace("\u00a0", " ") in text  # the reader's text: a no-break space is a space
        assert "Используется в: " + "; ".join(calc.used_by) in text
    assert "Нормативы, требующие сверки с официальным текстом" in text
    unconfirmed = {row[0]: row for row in rows_under(document, UNCONFIRMED)}
    for rid in report.unconfirmed_norms:
        assert rid in unconfirmed
    assert "Примечания" in text


def test_document_warnings_not_counted_documents_notes_and_special_regime():
    from datetime import date
    application = load_application(FIXTURES / "ip794-operating-conforming.yaml")
    stale = evaluate(application, "ip794", as_of=date(2027, 6, 1), freshness=True)
    assert stale.documents.warnings
    text = all_text(open_docx(report_docx([stale])))
    assert "Предупреждения о свежести документов" in text
    for w in stale.documents.warnings:
        assert f"{w.document}: {w.problem}" in text
    early = evaluate(application, "ip794", as_of=date(2015, 6, 1))
    assert early.notes and early.documents.not_counted
    text = all_text(open_docx(report_docx([early])))
    assert "Документы, не учтённые на дату оценки" in text
    for d in early.documents.not_counted:
        assert f"{d.document}: {d.problem}" in text
    for note in early.notes:
        assert note in text
    eco = report_for("ip794-eco-new-region.yaml", "ip794")
    assert eco.special_regimes
    text = all_text(open_docx(report_docx([eco])))
    assert "Особый режим" in text and eco.special_regimes[0] in text


def test_findings_header_row_repeats_on_every_page():
    document = open_docx(gaps_docx())
    data_tables = [t for t in document.tables if cell_text(t.rows[0].cells[0]) == "ID"]
    assert len(data_tables) >= 3
    for table in data_tables:
        assert is_header_row(table.rows[0])
        assert not any(is_header_row(r) for r in table.rows[1:])


@pytest.mark.parametrize("kind", ["gaps", "cluster", "gost", "matrix", "review"])
def test_every_table_row_has_one_cell_per_column_the_column_widths_and_the_table_text_style(kind):
    """The rows are written with lxml (word._add_row): each row has a w:tc per grid column with that column's
    width, every cell paragraph is in «Table Text», and only a first row is a header (repeated, never split,
    shaded, bold)."""
    if kind == "gaps":
        data = gaps_docx()
    elif kind == "cluster":
        data = report_docx([report_for("cl779-contract-gap.json", "cl779")])
    elif kind == "gost":
        data = report_docx([gost_report()])
    elif kind == "matrix":
        matrix = eligibility(load_application(FIXTURES / "brownfield-794-1863.yaml"))
        data = report_docx(matrix.reports, matrix)
    else:
        data = review_docx("ip794")
    document = open_docx(data)
    table_text = document.styles["Table Text"].style_id
    tables = list(document.element.body.iter(qn("w:tbl")))
    assert tables
    headers = 0
    for tbl in tables:
        widths = [col.get(qn("w:w")) for col in tbl.find(qn("w:tblGrid")).findall(qn("w:gridCol"))]
        rows = tbl.findall(qn("w:tr"))
        assert rows
        for i, tr in enumerate(rows):
            cells = tr.findall(qn("w:tc"))
            assert [tc.find(f"{qn('w:tcPr')}/{qn('w:tcW')}").get(qn("w:w")) for tc in cells] == widths
            for tc in cells:
                paras = tc.findall(qn("w:p"))
                assert paras
                for p in paras:
                    assert p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}").get(qn("w:val")) == table_text
            tr_pr = tr.find(qn("w:trPr"))
            header = tr_pr is not None and tr_pr.find(qn("w:tblHeader")) is not None
            if header:
                headers += 1
                assert i == 0
                assert tr_pr.find(qn("w:cantSplit")) is not None
                fills = [tc.find(f"{qn('w:tcPr')}/{qn('w:shd')}").get(qn("w:fill")) for tc in cells]
                assert fills == ["D9D9D9"] * len(cells)
                for run in tr.iter(qn("w:r")):
                    assert run.find(f"{qn('w:rPr')}/{qn('w:b')}") is not None
    assert headers >= 2


def test_cell_runs_keep_tabs_line_breaks_outer_spaces_and_sizes():
    report = report_for("ip794-created-gaps.yaml", "ip794")
    applicant = report.applicant.model_copy(update={"site_name": " Парк\t«Север»\n2 "})
    document = open_docx(report_docx([report.model_copy(update={"applicant": applicant})]))
    site = next(row for row in table_rows(document, report.applicant.role) if row[0] == "Площадка")
    assert site[1] == " Парк\t«Север»\n2  (Тульская область)"
    kv = document.tables[0]._tbl
    first_t = next(t for t in kv.iter(qn("w:t")) if (t.text or "").startswith(" Парк"))
    assert first_t.get(qn("xml:space")) == "preserve"
    # the norm cell: the text, then its confidence in small italics (9 pt), as python-docx reads them back
    table = next(t for t in document.tables if cell_text(t.rows[0].cells[0]) == "ID"
                 and [cell_text(c) for c in t.rows[0].cells] == FINDINGS)
    norm = table.rows[1].cells[2].paragraphs
    assert norm[1].text.startswith("достоверность: ")
    small = norm[1].runs[0]
    assert small.italic and not small.bold and small.font.size.pt == 9
    assert norm[0].runs[0].font.size is None and not norm[0].runs[0].italic


def test_typography_times_new_roman_black_headings_a4_margins():
    document = open_docx(gaps_docx())
    styles = document.styles
    for name in ("Normal", "Heading 1", "Heading 2", "Heading 3", "Table Text", "List Bullet"):
        assert styles[name].font.name == FONT, name
    assert styles["Normal"].font.size.pt == 12
    assert 10 <= styles["Table Text"].font.size.pt <= 11
    # theme fonts would win over the explicit name in Word: none are left in the styles
    styles_xml = styles.element.xml
    assert "asciiTheme" not in styles_xml and "hAnsiTheme" not in styles_xml
    for name in ("Heading 1", "Heading 2", "Heading 3"):
        style = styles[name]
        assert style.font.color.rgb == RGBColor(0, 0, 0), name
        assert style.font.bold is True
        color = style.element.rPr.find(qn("w:color"))
        assert color is not None and color.get(qn("w:themeColor")) is None
    # every run either inherits the style font or names Times New Roman
    for run in document.element.body.iter(qn("w:r")):
        fonts = run.find(qn("w:rPr") + "/" + qn("w:rFonts"))
        if fonts is not None:
            assert fonts.get(qn("w:ascii")) in (None, FONT)
    # every heading paragraph uses a heading style (and so is black)
    headings = [p for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert any(p.text.startswith("1. Итог проверки") for p in headings)
    section = document.sections[0]
    assert abs(section.page_width - Cm(21)) < Cm(0.05) and abs(section.page_height - Cm(29.7)) < Cm(0.05)
    assert abs(section.top_margin - Cm(2)) < Cm(0.01) and abs(section.bottom_margin - Cm(2)) < Cm(0.01)
    assert abs(section.left_margin - Cm(2)) < Cm(0.01) and abs(section.right_margin - Cm(1.5)) < Cm(0.01)
    for s in document.sections:  # landscape pages for the wide tables keep A4 and the margins
        assert {round(s.page_width.cm, 1), round(s.page_height.cm, 1)} == {21.0, 29.7}
    props = document.core_properties
    assert props.title.startswith("Отчёт о соответствии") and re.search("[а-я]", props.author)


def _has_page_field(part_element) -> bool:
    instr = " ".join(t.text or "" for t in part_element.iter(qn("w:instrText")))
    simple = [f.get(qn("w:instr"), "") for f in part_element.iter(qn("w:fldSimple"))]
    return "PAGE" in instr.split() or any("PAGE" in s.split() for s in simple)


def test_page_numbers_in_the_footer_from_page_two():
    document = open_docx(gaps_docx())
    first = document.sections[0]
    assert first.different_first_page_header_footer is True
    assert _has_page_field(first.footer._element)
    assert not _has_page_field(first.first_page_footer._element)
    for later in document.sections[1:]:  # later sections continue the numbering and show it on every page
        assert later.different_first_page_header_footer is False
        assert later.footer.is_linked_to_previous or _has_page_field(later.footer._element)


@pytest.mark.parametrize("n, expected", [(1, "1 несоответствие"), (2, "2 несоответствия"), (5, "5 несоответствий"),
                                         (11, "11 несоответствий"), (21, "21 несоответствие"),
                                         (22, "22 несоответствия"), (111, "111 несоответствий")])
def test_plural_forms_of_gaps(n, expected):
    assert status_count_text("not_met", n) == expected


@pytest.mark.parametrize("n, met_text", [(1, "1 критерий выполнен"), (2, "2 критерия выполнены"),
                                         (5, "5 критериев выполнено"), (11, "11 критериев выполнено"),
                                         (21, "21 критерий выполнен")])
def test_plural_forms_in_the_conclusion_summary(n, met_text):
    """The GOST conclusion still lists its counts (the gap report has them in a table): criteria, each count once."""
    report = gost_report()
    counts = dict(report.counts, not_met=n, met=n)
    text = all_text(open_docx(report_docx([report.model_copy(update={"counts": counts})])))
    assert status_count_text("not_met", n, criteria=True) in text
    assert met_text in text
    assert text.count(status_count_text("not_met", n, criteria=True)) == 1


@pytest.mark.parametrize("path", application_fixtures(), ids=lambda p: p.name)
def test_every_fixture_and_every_regime_it_carries(path):
    application = load_application(path)
    assert application.regimes
    for regime in application.regimes:
        report = evaluate(application, regime)
        document = open_docx(report_docx([report]))
        assert_findings_present(document, report)
        assert report.act_citation in all_text(document)


def test_a_report_with_more_than_300_findings():
    base = report_for("ip794-created-gaps.yaml", "ip794")
    findings = [f.model_copy(update={"requirement_id": f"{f.requirement_id}-{copy}"})
                for copy in range(8) for f in base.findings]
    assert len(findings) >= 300
    items = [i.model_copy(update={"requirement_id": f"{i.requirement_id}-{copy}"})
             for copy in range(8) for i in base.documents.items]
    documents = base.documents.model_copy(update={"items": items})
    big = base.model_copy(update={"findings": findings, "counts": count_statuses(findings), "documents": documents,
                                  "blocking_gaps": [f.requirement_id for f in findings
                                                    if f.requirement_id.split("-")[-1] == "0"
                                                    and f.requirement_id[:-2] in base.blocking_gaps]})
    document = open_docx(report_docx([big]))
    assert_findings_present(document, big)
    rows = rows_under(document, FINDINGS) + rows_under(document, CHECKLIST)
    assert len(rows) == len(findings)
    assert ["Не выполнено", str(big.counts["not_met"])] in rows_under(document, SUMMARY)


def test_control_characters_in_application_text_do_not_break_the_document():
    report = report_for("ip794-created-gaps.yaml", "ip794")
    applicant = report.applicant.model_copy(update={"site_name": "Парк\x01 «Север»\x0b"})
    document = open_docx(report_docx([report.model_copy(update={"applicant": applicant})]))
    assert "Парк «Север»" in all_text(document)


def test_no_reports_is_an_error():
    with pytest.raises(ValueError):
        report_docx([])


# --- several regimes: the matrix first ----------------------------------------------------------------------------
def test_matrix_then_every_report_in_one_document():
    matrix = eligibility(load_application(FIXTURES / "brownfield-794-1863.yaml"))
    assert len(matrix.reports) >= 2
    document = open_docx(report_docx(matrix.reports, matrix))
    text = all_text(document)
    assert text.index("МАТРИЦА ПРИМЕНИМОСТИ РЕЖИМОВ") < text.index("ОТЧЁТ О СООТВЕТСТВИИ ТРЕБОВАНИЯМ")
    matrix_rows = table_rows(document, "Режим")
    assert [row[0].split("\n")[0] for row in matrix_rows] == [r.regime_title for r in matrix.rows]  # titles, not codes
    assert "► ближайший статус" in matrix_rows[0][0]
    for report in matrix.reports:
        assert report.act_citation in text
        assert report.evaluation_id in text
    for s in matrix.skipped:
        assert s.reason in text


# --- the GOST assessment conclusion --------------------------------------------------------------------------------
def test_gost_conclusion_with_judgements_and_waiver():
    report = gost_report()
    assert report.assessment is not None and report.assessment.conclusion == "conforms_with_remarks"
    document = open_docx(report_docx([report]))
    text = all_text(document)
    assert "ЗАКЛЮЧЕНИЕ ОБ ОЦЕНКЕ СООТВЕТСТВИЯ" in text
    assert "соответствует с замечаниями" in text
    # the conclusion is large and bold
    paragraphs = [p for p in document.paragraphs if p.text.strip()]
    conclusion = paragraphs[[p.text for p in paragraphs].index("1. Заключение") + 1]
    assert conclusion.text == "СООТВЕТСТВУЕТ С ЗАМЕЧАНИЯМИ"
    assert all(r.bold and r.font.size.pt >= 14 for r in conclusion.runs)
    # block scores
    scores = {row[0]: row for row in table_rows(document, "Блок")}
    for block in report.assessment.blocks + [report.assessment.overall]:
        row = scores[block.title]
        assert row[1] == f"{block.mandatory_met} из {block.mandatory_applicable}"
        assert row[3] == str(block.mandatory_waived)
        assert row[4] == f"{block.recommended_met} из {block.recommended_total}"
    assert scores["Итого"][2] == "94,12"
    # every criterion with its verdict; the assessor's comment and evidence
    assert_findings_present(document, report)
    judged = [f for f in report.findings if f.judgement]
    assert judged
    for f in judged:
        assert " ".join(f.judgement.comment.split()) in text
        if f.judgement.evidence:
            assert f.judgement.evidence in text
    assert "Петрова А. В." in text
    # the waiver: justification and expiry
    waived = next(f for f in report.findings if f.waiver)
    waiver_rows = {row[0]: row for row in rows_under(document, WAIVERS)}
    assert waived.requirement_id in waiver_rows
    assert " ".join(waived.waiver.justification.split()) in waiver_rows[waived.requirement_id][2]
    assert "«31» декабря 2025 г." in waiver_rows[waived.requirement_id][3]
    # remarks with what to do, the method, the catalog version, the signatures
    for remark in report.assessment.remarks:
        assert remark.split(":")[0] in text
    assert "Что сделать" in text
    assert report.assessment.method in text
    assert f"версия {report.catalog_version}" in text
    signatures = text[text.index("Подписи"):]
    for word in ("Эксперт", "Руководитель", "Дата", "(подпись)"):
        assert word in signatures
    assert document.core_properties.title.startswith("Заключение об оценке соответствия")


def test_gost_conclusion_header_rows_and_footer():
    document = open_docx(report_docx([gost_report()]))
    for table in document.tables:
        if cell_text(table.rows[0].cells[0]) in ("ID", "Блок"):
            assert is_header_row(table.rows[0])
    assert document.sections[0].different_first_page_header_footer
    assert _has_page_field(document.sections[0].footer._element)


# --- the expert review of a catalog --------------------------------------------------------------------------------
@pytest.mark.parametrize("regime", available_regimes())
def test_review_document_for_every_regime(regime):
    catalog = load_catalog(regime)
    document = open_docx(review_docx(regime))
    text = all_text(document)
    assert catalog.decree.act.citation in text
    assert f"версия {catalog.decree.catalog_version}, контрольная сумма {catalog.content_hash[:12]}" in text
    for req in catalog.decree.requirements:
        assert f"{req.id}. {req.title}" in text, req.id
    case_names = [c.name for c in catalog.cases.cases]
    assert any(f"«{name}»" in text for name in case_names)
    headers = headers_of(document)
    assert ["Элемент", "Содержание каталога", "Подтверждение эксперта", "Комментарий"] in headers
    # the expert's columns are empty, to be filled in
    for row in table_rows(document, "Элемент"):
        assert row[2] == "" and row[3] == ""
    assert "требует сверки" in text or all(r.confidence not in "AMU" for r in catalog.decree.requirements)
    for table in document.tables:
        if cell_text(table.rows[0].cells[0]) in ("ID", "Элемент"):
            assert is_header_row(table.rows[0])


def test_review_document_explains_794_p_1_in_plain_russian():
    catalog = load_catalog("ip794")
    rule = catalog.rules["794-P-1"]
    text = check_text(catalog, rule.variants[0].checks[0])
    assert "Суммарная площадь земельных участков" in text
    assert "не менее 8 га" in text
    document = open_docx(review_docx("ip794"))
    row = next(r for r in table_rows(document, "Элемент") if r[0] == "Что проверяет программа")
    assert "8" in row[1] and "га" in row[1]
    full = all_text(document)
    section = full[full.index("794-P-1. Площадь территории"):full.index("794-P-2. ")]
    assert "не менее 8 га" in section
    assert "P-1: создаваемый парк, участки 5,79 + 2,2 га — 7,99 га, меньше 8 га" in section
    assert "Ожидается: не выполнено" in section
    assert "с 04.08.2015" in section and "ПП № 794" in section  # effective date and reference
    assert "Упрощённые требования" in section  # the special regime that affects it


def _review_case_rows(regime: str) -> list[tuple[str, str, str]]:
    """(requirement ID of the section, case name, the row's text) for every «Тестовый пример» row of the rendered
    review document, in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    document = open_docx(review_docx(regime))
    current, out = "", []
    for el in document.element.body.iterchildren():
        if el.tag == qn("w:p"):
            p = Paragraph(el, document)
            if p.style is not None and p.style.name == "Heading 2":
                current = paragraph_text(el).split(". ", 1)[0]
        elif el.tag == qn("w:tbl"):
            for row in Table(el, document).rows:
                cells = [cell_text(c) for c in row.cells]
                if cells[0].startswith("Тестовый пример"):
                    paras = [paragraph_text(p._p) for p in row.cells[1].paragraphs]
                    out.append((current, paras[0][1:-1], "\n".join(paras)))
                    assert cells[2] == "" and cells[3] == ""  # the expert's columns stay empty
    return out


def _written_for(case, rid: str) -> bool:
    """Whom a case is for, read from the YAML as a person reads it: its `for:` list, or the IDs its name begins with
    (the short ID, e.g. «P-2» of 794-P-2; a range «R-1 … R-5»; a block «DOC»)."""
    if case.for_:
        return rid in case.for_
    prefix = case.name.split(":", 1)[0]
    short = rid.split("-", 1)[1]
    if re.search(rf"(?<![\w.-]){re.escape(short)}(?![\w-]|\.\d)", prefix):
        return True
    block, _, n = short.rpartition("-")
    for m in re.finditer(r"([A-Z]+)-(\d+) … \1-(\d+)", prefix):
        if m.group(1) == block and int(m.group(2)) <= int(n) <= int(m.group(3)):
            return True
    return prefix.strip() == block


# an internal name in the input of an example: a field key, a snake_case code, a file name, a Latin word
_INTERNAL = re.compile(r"\b[a-z]+_[a-z_]+\b|\.(ya?ml|json|xlsx)\b|\b[A-Za-z]{3,}\b")


@pytest.mark.parametrize("regime", available_regimes())
def test_review_document_lists_under_each_requirement_only_its_own_examples_in_words(regime):
    catalog = load_catalog(regime)
    by_name = {c.name: c for c in catalog.cases.cases}
    rows = _review_case_rows(regime)
    assert rows
    shown: dict[str, int] = {}
    for rid, name, text in rows:
        case = by_name[name]
        assert rid in case.expect and _written_for(case, rid), f"под {rid} пример другого требования: «{name}»"
        shown[rid] = shown.get(rid, 0) + 1
        data = next(line for line in text.splitlines() if line.startswith("Данные примера: "))
        assert not _INTERNAL.search(re.sub(r"https?://\S+", "", data)), (rid, data)  # a site's address is data
        assert case.base not in text
        assert f"Ожидается: {STATUS_RU[case.expect[rid]]}" in text
        assert "Почему: " in text and "Сейчас программа выдаёт" not in text  # every example passes
    for req in catalog.decree.requirements:
        own = [c for c in catalog.cases.cases if req.id in c.expect and _written_for(c, req.id)]
        assert shown.get(req.id, 0) == len(own), (req.id, shown.get(req.id, 0), len(own))


def test_review_document_example_input_is_told_in_words():
    rows = {(rid, name): text for rid, name, text in _review_case_rows("ip794")}
    p1 = rows[("794-P-1", "P-1: создаваемый парк, участки 5,79 + 2,2 га — 7,99 га, меньше 8 га")]
    assert "Земельный участок № 1, площадь участка: 5,79 га" in p1
    assert "Суммарная площадь земельных участков — 7,99 га (норматив: не менее 8 га)" in p1
    assert "Почему: разрыв: не хватает 0,01 га" in p1
    # the P-2 case pins P-1 on the side: it is shown under P-2 only
    assert not any(rid == "794-P-1" and name.startswith("P-2:") for rid, name in rows)
    assert any(rid == "794-P-2" and name == "P-2: нет схемы зонирования — недостаточно данных" for rid, name in rows)
    p2 = rows[("794-P-2", "P-2: нет схемы зонирования — недостаточно данных")]
    assert "Зонирование территории: удалено — в заявке не указано" in p2


def test_review_document_variants_documents_each_and_alternatives():
    ip = all_text(open_docx(review_docx("ip794")))
    p6 = ip[ip.index("794-P-6. "):ip.index("794-P-7. ")]
    assert "Для создаваемых" in p6 and "Для действующих" in p6
    assert "не менее 0,15 МВт/га" in p6 and "требует сверки" in p6
    uk6 = ip[ip.index("794-UK-6. "):ip.index("794-UK-7. ")]
    assert "Документы (нужны все): «Концепция парка»" in uk6
    cl = all_text(open_docx(review_docx("cl779")))
    c1 = cl[cl.index("779-C-1. "):cl.index("779-C-2. ")]
    assert "у каждого элемента «участник кластера»" in c1
    assert "Участники без действующего квалифицирующего договора с другим участником" in c1
    c5 = cl[cl.index("779-C-5. "):cl.index("779-C-6. ")]
    assert "Достаточно выполнить любое из условий" in c5
    assert "«общий порог»" in c5 and "«пониженный порог для особых территорий»" in c5
    gost = all_text(open_docx(review_docx("gost56425")))
    assert "обязательный критерий" in gost and "рекомендуемый критерий" in gost
    assert "Что проверить эксперту" in gost


# --- the command line ----------------------------------------------------------------------------------------------
def test_cli_check_writes_a_word_report(tmp_path):
    out = tmp_path / "отчёт.docx"
    result = runner.invoke(cli_app, ["check", str(FIXTURES / "ip794-created-gaps.yaml"), "--format", "docx", "-o", str(out)])
    assert result.exit_code == 1, result.output  # gaps: exit code as for the other formats
    document = open_docx(out.read_bytes())
    assert "794-P-1" in all_text(document)
    assert not list(tmp_path.glob("*.tmp"))


def test_cli_check_docx_without_output_is_refused_in_russian():
    result = runner.invoke(cli_app, ["check", str(FIXTURES / "ip794-created-gaps.yaml"), "--format", "docx"])
    assert result.exit_code == 2
    assert "--output" in result.output and "docx" in result.output
    assert "PK" not in result.output


def test_cli_check_several_regimes_gives_one_document_with_the_matrix(tmp_path):
    out = tmp_path / "матрица.docx"
    result = runner.invoke(cli_app, ["check", str(FIXTURES / "brownfield-794-1863.yaml"), "--regime", "all",
                                     "--format", "docx", "-o", str(out)])
    assert result.exit_code == 3, result.output  # as the text report: both regimes of the application await the expert
    text = all_text(open_docx(out.read_bytes()))
    assert "МАТРИЦА ПРИМЕНИМОСТИ РЕЖИМОВ" in text
    assert "от 04.08.2015 № 794" in text and "от 27.12.2019 № 1863" in text


def test_cli_check_gost_with_judgements_as_word(tmp_path):
    out = tmp_path / "заключение.docx"
    result = runner.invoke(cli_app, ["check", str(FIXTURES / "htp1381-operating.yaml"), "--regime", "gost56425",
                                     "--judgements", str(FIXTURES / "gost-judgements-htp1381.yaml"),
                                     "--format", "docx", "-o", str(out)])
    assert result.exit_code in (0, 1), result.output
    assert "соответствует с замечаниями" in all_text(open_docx(out.read_bytes()))


def test_cli_what_if_as_word_notes_the_changes(tmp_path):
    out = tmp_path / "что-если.docx"
    result = runner.invoke(cli_app, ["check", str(FIXTURES / "ip794-created-gaps.yaml"), "--set",
                                     "road_access.hard_surface=true", "--format", "docx", "-o", str(out)])
    assert result.exit_code == 1, result.output
    text = all_text(open_docx(out.read_bytes()))
    assert "Что если" in text and "road_access.hard_surface" in text


def test_cli_catalog_review_as_word(tmp_path):
    out = tmp_path / "сверка.docx"
    result = runner.invoke(cli_app, ["catalog", "--regime", "ip794", "--format", "docx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "794-P-1. Площадь территории" in all_text(open_docx(out.read_bytes()))
    refused = runner.invoke(cli_app, ["catalog", "--format", "docx", "-o", str(out)])
    assert refused.exit_code == 2 and "--regime" in refused.output
    refused = runner.invoke(cli_app, ["catalog", "--regime", "ip794", "--format", "docx"])
    assert refused.exit_code == 2 and "--output" in refused.output


# --- optional: LibreOffice renders the report --------------------------------------------------------------------
OFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(OFFICE is None, reason="LibreOffice (soffice) не установлен: проверка PDF пропущена")
def test_libreoffice_converts_the_gap_report_to_a_pdf_of_several_pages(tmp_path):
    source = tmp_path / "report.docx"
    source.write_bytes(gaps_docx())
    profile = tmp_path / "profile"
    completed = subprocess.run([OFFICE, "--headless", f"-env:UserInstallation=file://{profile}", "--convert-to",
                                "pdf", "--outdir", str(tmp_path), str(source)],
                               capture_output=True, timeout=240)
    pdf = tmp_path / "report.pdf"
    assert pdf.exists(), completed.stderr.decode(errors="replace")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = None
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, timeout=60).stdout
        found = re.search(r"^Pages:\s+(\d+)", info, re.M)
        pages = int(found.group(1)) if found else None
    if pages is None:
        counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", data)]
        pages = max(counts) if counts else len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    assert pages >= 2
