"""What an official document has (issue 15, point 4), checked on the RENDERED Word documents: the issuing
organisation's letterhead and its outgoing number and date fields, the page-1 summary table (status counts, blocking
requirements with what they lack), the unconfirmed norms never as a run of IDs in prose, the signature block of who
prepared the document; in the GOST conclusion the assessor and the head of the assessing organisation named from the
judgements file with their roles, and the application the judgements were made on. Organisation details come from a
file (CLI) or from the organisation's record in the service (the page «Реквизиты»). Expected values are read from the
fixtures and from the evaluated reports, never written into the test."""
from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import docx
import pytest
import yaml
from docx.oxml.ns import qn
from typer.testing import CliRunner

from compliance.cli import app as cli_app
from compliance.evaluate import evaluate
from compliance.judgements import load_judgements
from compliance.loading import InputError, load_application
from compliance.report import STATUS_RU
from compliance.settings import get_settings
from tests.conftest import FIXTURES
from tests.docxtext import body_text, cell_text, paragraph_text, rows_under

runner = CliRunner()
ORG_FILE = FIXTURES / "organisation" / "upa-sever.yaml"
GAPS = FIXTURES / "ip794-created-gaps.yaml"
GOST_APP = FIXTURES / "htp1381-operating.yaml"
GOST_JUDGEMENTS = FIXTURES / "gost-judgements-htp1381.yaml"
SUMMARY = ["Результат проверки", "Требований"]
BLOCKING = ["ID", "Требование", "Чего не хватает"]
# a requirement ID as the catalogs write them: 794-P-1, 794-UK-2, 779-C-1, G-3.2-1, G-TER-4, 1863-DOC-3
REQUIREMENT_ID = re.compile(r"\b(?:\d{3,4}|G)-[A-ZА-Я0-9.]+(?:-[A-ZА-Я0-9.]+)*\b")


# --- helpers -------------------------------------------------------------------------------------------------------
def org_details() -> dict:
    return yaml.safe_load(ORG_FILE.read_text("utf-8"))


def cli_docx(tmp_path: Path, *args: str, name: str = "doc.docx", env: dict | None = None):
    out = tmp_path / name
    result = runner.invoke(cli_app, ["check", *args, "-f", "docx", "-o", str(out)], env=env)
    assert result.exit_code in (0, 1, 3), result.output
    return docx.Document(str(out))


def body_paragraphs(document) -> list[str]:
    """The text of every paragraph outside tables (prose), in order."""
    return [p.text for p in document.paragraphs]


def all_text(document) -> str:
    return body_text(document)


def page_one(document) -> str:
    """The text before the first page break (a new section starts the findings tables on a new page)."""
    out = []
    for p in document.element.body.iter(qn("w:p")):
        out.append(paragraph_text(p))
        if p.find(qn("w:pPr") + "/" + qn("w:sectPr")) is not None:
            break
    return "\n".join(out)


def signature_rows(document) -> list[list[str]]:
    """The rows of the last table of the document: the signature block."""
    return [[cell_text(c) for c in row.cells] for row in document.tables[-1].rows]


def report_of(path: Path, regime: str, judgements: Path | None = None):
    return evaluate(load_application(path), regime, judgements=load_judgements(judgements) if judgements else None)


# --- gap report ----------------------------------------------------------------------------------------------------
def test_gap_report_has_letterhead_outgoing_number_and_signer_from_the_organisation_file(tmp_path):
    details = org_details()
    document = cli_docx(tmp_path, str(GAPS), "--organisation", str(ORG_FILE), "--outgoing-number", "17",
                        "--outgoing-date", "03.06.2025")
    first = page_one(document)
    assert details["name"] in first and details["address"] in first
    assert len(document.inline_shapes) == 1  # the logo
    logo = (ORG_FILE.parent / details["logo"]).read_bytes()
    blob = document.inline_shapes[0]._inline.graphic.graphicData.pic.blipFill.blip.embed
    assert document.part.related_parts[blob].blob == logo
    assert f"Исх. № {details['outgoing_prefix']}17 от 03.06.2025" in first
    rows = signature_rows(document)
    assert rows[0][0] == f"Подготовил:\n{details['signer_position']}"
    assert rows[0][2] == f"/ {details['signer_name']} /"
    assert [r[0] for r in rows][-1] == "Дата"
    # the signatures end the document: nothing follows them (no empty paragraph that could spill onto a blank page)
    body = list(document.element.body.iterchildren())
    assert body[-1].tag == qn("w:sectPr") and body[-2] is document.tables[-1]._tbl


def test_without_organisation_details_the_fields_are_lines_to_fill_by_hand(tmp_path):
    document = cli_docx(tmp_path, str(GAPS), env={"COMPLIANCE_ORGANISATION_FILE": ""})
    first = page_one(document)
    assert re.search(r"Исх\. № _{6,} от «_+» _+ 20_+ г\.", first)
    assert len(document.inline_shapes) == 0
    rows = signature_rows(document)
    assert rows[0][0].startswith("Подготовил:\n___") and re.fullmatch(r"/ _+ /", rows[0][2])
    assert rows[1] == ["(должность)", "(подпись)", "(фамилия, инициалы)"]


def test_organisation_file_from_the_setting(tmp_path):
    get_settings.cache_clear()
    try:
        document = cli_docx(tmp_path, str(GAPS), env={"COMPLIANCE_ORGANISATION_FILE": str(ORG_FILE)})
    finally:
        get_settings.cache_clear()
    assert org_details()["name"] in page_one(document)
    assert f"/ {org_details()['signer_name']} /" in signature_rows(document)[0]


def test_page_one_summary_table_equals_the_reports_counts_and_blocking_shortfalls(tmp_path):
    report = report_of(GAPS, "ip794")
    document = cli_docx(tmp_path, str(GAPS))
    counts = Counter(f.status for f in report.findings)
    want = {STATUS_RU[s][:1].upper() + STATUS_RU[s][1:]: str(n) for s, n in counts.items()}
    summary = rows_under(document, SUMMARY)
    assert {label: n for label, n in summary[:-1]} == want
    assert summary[-1] == ["Всего", str(len(report.findings))]
    by_id = {f.requirement_id: f for f in report.findings}
    blocking = rows_under(document, BLOCKING)
    assert {row[0] for row in blocking} == set(report.blocking_gaps) and len(blocking) == len(report.blocking_gaps)
    for rid, title, shortfall in blocking:
        f = by_id[rid]
        assert title == f.title
        assert shortfall == (f.shortfall.text if f.shortfall else STATUS_RU[f.status])
    assert ["794-P-1", by_id["794-P-1"].title, by_id["794-P-1"].shortfall.text] in blocking
    # both tables are on page 1, before the findings tables
    first = page_one(document)
    assert "Результат проверки" in first and "Чего не хватает" in first


@pytest.mark.parametrize("args", [[str(GAPS)], [str(GAPS), "-r", "all"],
                                  [str(GOST_APP), "-r", "gost56425", "--judgements", str(GOST_JUDGEMENTS)]],
                         ids=["gap-report", "matrix", "gost-conclusion"])
def test_no_run_of_requirement_ids_in_prose(tmp_path, args):
    document = cli_docx(tmp_path, *args)
    for text in body_paragraphs(document):
        ids = REQUIREMENT_ID.findall(text)
        assert len(ids) < 3, f"перечень ID в тексте: {text[:200]}"
    # the unconfirmed norms are counted on page 1 with a pointer to their table, which lists each of them
    report = report_of(*((GAPS, "ip794") if "gost56425" not in args else (GOST_APP, "gost56425", GOST_JUDGEMENTS)))
    if "all" not in args:
        first = page_one(document)
        assert f"{len(report.unconfirmed_norms)} вердикт" in first and "перечень — в разделе" in first
        term = "Критерий" if report.assessment else "Требование"  # the GOST conclusion speaks of criteria
        listed = [row[0] for row in rows_under(document, ["ID", term, "Норматив", "Достоверность",
                                                          "Ссылка и источник"])]
        assert listed == report.unconfirmed_norms


def test_matrix_document_has_letterhead_outgoing_fields_and_signature(tmp_path):
    details = org_details()
    document = cli_docx(tmp_path, str(GAPS), "-r", "all", "--organisation", str(ORG_FILE))
    first = page_one(document)
    assert first.index(details["name"]) < first.index("МАТРИЦА ПРИМЕНИМОСТИ РЕЖИМОВ")
    assert re.search(rf"Исх\. № {re.escape(details['outgoing_prefix'])}_+ от «_+» _+ 20_+ г\.", first)
    assert signature_rows(document)[0][0] == f"Подготовил:\n{details['signer_position']}"
    assert all_text(document).count("Подготовил:") == 1  # one document, one signature of who prepared it


# --- organisation file errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("content, expected", [
    ("name: ООО «Север»\nsigner_nane: И. И. Иванов\n", "лишнее поле «signer_nane»"),
    ("signer_position: [Директор]\n", "поле «signer_position» (подписант: должность): ожидается текст"),
    ("name: ''\n", "поле «name» (наименование организации): пустое значение"),
    ("outgoing_prefix: " + "А" * 41 + "\n", "поле «outgoing_prefix» (префикс исходящего номера): слишком длинное"),
    ("logo: нет.png\n", "файл логотипа не найден"),
    ("logo: bad.png\n", "логотип должен быть изображением PNG или JPEG"),
    ("- name: ООО\n", "а не список"),
])
def test_bad_organisation_file_is_a_russian_error_and_exit_2(tmp_path, content, expected):
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    path = tmp_path / "org.yaml"
    path.write_text(content, "utf-8")
    out = tmp_path / "x.docx"
    result = runner.invoke(cli_app, ["check", str(GAPS), "-f", "docx", "-o", str(out), "--organisation", str(path)])
    assert result.exit_code == 2, result.output
    assert "Ошибка в реквизитах организации" in result.output and expected in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_bad_outgoing_date_is_a_russian_error(tmp_path):
    result = runner.invoke(cli_app, ["check", str(GAPS), "-f", "docx", "-o", str(tmp_path / "x.docx"),
                                     "--outgoing-date", "32.13.2025"])
    assert result.exit_code == 2 and "не дата" in result.output


# --- GOST conclusion -----------------------------------------------------------------------------------------------
def gost_document(tmp_path):
    return cli_docx(tmp_path, str(GOST_APP), "-r", "gost56425", "--judgements", str(GOST_JUDGEMENTS))


def test_gost_conclusion_names_the_assessor_and_the_head_with_their_roles(tmp_path):
    data = yaml.safe_load(GOST_JUDGEMENTS.read_text("utf-8"))
    document = gost_document(tmp_path)
    rows = signature_rows(document)
    assessor_row = next(r for r in rows if r[0].startswith("Эксперт, проводивший оценку"))
    head_row = next(r for r in rows if r[0].startswith("Руководитель организации, проводившей оценку"))
    assert assessor_row[0].endswith(data["assessor_position"]) and assessor_row[2] == f"/ {data['assessor']} /"
    assert data["organisation"] in head_row[0] and head_row[0].endswith(data["head_position"])
    assert head_row[2] == f"/ {data['head']} /"
    text = all_text(document)
    assert "Заключение подписывают эксперт, проводивший оценку" in text  # the roles explained
    title = {row[0]: row[1] for row in ([cell_text(c) for c in r.cells] for r in document.tables[0].rows)}
    assert title["Эксперт, проводивший оценку"].startswith(data["assessor"])
    assert title["Организация, проводившая оценку"] == data["organisation"]


def test_gost_conclusion_identifies_the_application_the_judgements_were_made_on(tmp_path):
    data = yaml.safe_load(GOST_JUDGEMENTS.read_text("utf-8"))
    application = yaml.safe_load(GOST_APP.read_text("utf-8"))
    document = gost_document(tmp_path)
    title = {row[0]: row[1] for row in ([cell_text(c) for c in r.cells] for r in document.tables[0].rows)}
    bound = title["Оценки вынесены по заявке"]
    named = data["application"]
    assert f"ИНН {named['inn']}" in bound and f"«{named['site_name']}»" in bound
    assert named["input_hash"][:12] in bound and named["input_hash"] not in bound  # short, as the report shows it
    assert application["management_company"]["name"] in bound


def test_gost_conclusion_without_head_leaves_lines(tmp_path):
    data = yaml.safe_load(GOST_JUDGEMENTS.read_text("utf-8"))
    for key in ("head", "head_position", "assessor_position"):
        data.pop(key)
    path = tmp_path / "j.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    document = cli_docx(tmp_path, str(GOST_APP), "-r", "gost56425", "--judgements", str(path))
    head_row = next(r for r in signature_rows(document) if r[0].startswith("Руководитель организации"))
    assert re.fullmatch(r"/ _+ /", head_row[2]) and head_row[0].endswith("___")


def test_judgements_head_fields_are_validated(tmp_path):
    data = yaml.safe_load(GOST_JUDGEMENTS.read_text("utf-8"))
    data["head"] = "Ф" * 201
    data["head_position"] = ""
    path = tmp_path / "j.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(InputError) as exc:
        load_judgements(path)
    paths = {p.path for p in exc.value.problems}
    assert {"judgements:head", "judgements:head_position"} <= paths


# --- the signatures end the document (LibreOffice, where installed) ------------------------------------------------
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice не установлен: проверка по PDF пропущена")
def test_no_empty_page_after_the_signatures(tmp_path):
    cli_docx(tmp_path, str(GAPS), "--organisation", str(ORG_FILE), name="gap.docx")
    cli_docx(tmp_path, str(GOST_APP), "-r", "gost56425", "--judgements", str(GOST_JUDGEMENTS), name="gost.docx")
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(tmp_path / "gap.docx"), str(tmp_path / "gost.docx")],
                   check=True, capture_output=True, timeout=300)
    for name, last_words in (("gap", "Подготовил:"), ("gost", "Руководитель организации")):
        text = subprocess.run(["pdftotext", "-layout", str(tmp_path / f"{name}.pdf"), "-"], check=True,
                              capture_output=True, text=True).stdout
        pages = text.split("\f")
        pages = pages[:-1] if pages and not pages[-1].strip() else pages
        assert last_words in pages[-1], f"{name}: последняя страница без подписей"
