"""Every fixture's documents rendered to PDF and read page by page (tests/test_pdf.py).

The documents are made as a user makes them, with `compliance check … -f docx` and `compliance catalog … -f docx`:
the gap report of each application fixture, its `--regime all` matrix, the GOST R 56425 conclusion with each
judgements file of fixtures/ (on the application it is bound to), and the catalog review document of each regime.
They are converted by compliance/pdf.py in two LibreOffice runs side by side (a run converts many files: LibreOffice
starts once), and each page's text is read with pypdfium2 (PDFium, the PDF engine of Chromium): it gives the lines
in the order they are drawn, so the lines of a table cell follow each other, and it marks a line broken at a hyphen
(U+FFFE), which is read back as a hyphen at the end of the line."""
from __future__ import annotations

import io
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import docx
import yaml
from docx.oxml.ns import qn
from typer.testing import CliRunner

from compliance.catalog import available_regimes
from compliance.cli import app as cli
from compliance.pdf import docx_to_pdf_many

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
runner = CliRunner()


@dataclass
class Rendered:
    name: str  # "gap-ip794-created-gaps", "matrix-…", "gost-…", "catalog-ip794"
    kind: str  # gap, matrix, gost, catalog
    docx: bytes
    pages: list[list[str]] = field(default_factory=list)  # the lines of each page
    landscape: list[bool] = field(default_factory=list)  # each page: wider than high

    @property
    def headers(self) -> list[list[str]]:
        """The text of each cell of every repeated header row (w:tblHeader) of the Word document."""
        document = docx.Document(io.BytesIO(self.docx))
        out = []
        for table in document.tables:
            row = table.rows[0] if table.rows else None
            if row is not None and row._tr.trPr is not None and row._tr.trPr.find(qn("w:tblHeader")) is not None:
                out.append([c.text.replace("\u00a0", " ").replace("\u00ad", "") for c in row.cells])
        return out


def applications() -> list[Path]:
    """The application fixtures (a file with regimes), not judgements files or scripts; the .xlsx workbooks too."""
    out = []
    for p in sorted(FIXTURES.iterdir()):
        if p.suffix in (".yaml", ".json") and "regimes" in (yaml.safe_load(p.read_text("utf-8")) or {}):
            out.append(p)
        elif p.suffix == ".xlsx":
            out.append(p)
    return out


def judged() -> list[tuple[Path, Path]]:
    """(judgements file, the application fixture it is bound to: same INN and site name)."""
    pairs = []
    for j in sorted(FIXTURES.glob("gost-judgements-*.yaml")):
        bound = yaml.safe_load(j.read_text("utf-8"))["application"]
        for p in applications():
            if p.suffix == ".xlsx":
                continue
            text = p.read_text("utf-8")
            if bound["inn"] in text and bound["site_name"] in text:
                pairs.append((j, p))
                break
        else:  # pragma: no cover - a judgements file without its application is a fixture error
            raise AssertionError(f"no application fixture for {j.name}")
    return pairs


def _cli_docx(args: list[str], out: Path) -> bytes:
    result = runner.invoke(cli, args + ["-f", "docx", "-o", str(out)])
    assert result.exit_code in (0, 1, 3), (args, result.output)
    return out.read_bytes()


def documents() -> list[Rendered]:
    """Every document of every fixture, as Word files (not yet converted)."""
    out: list[Rendered] = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        for p in applications():
            out.append(Rendered(f"gap-{p.stem}-{p.suffix[1:]}", "gap", _cli_docx(["check", str(p)], t / "a.docx")))
            if p.suffix != ".xlsx":  # the workbooks hold the same applications as their .json twins
                out.append(Rendered(f"matrix-{p.stem}", "matrix",
                                    _cli_docx(["check", str(p), "-r", "all"], t / "a.docx")))
        for j, p in judged():
            out.append(Rendered(f"gost-{j.stem}", "gost", _cli_docx(
                ["check", str(p), "-r", "gost56425", "--judgements", str(j)], t / "a.docx")))
        for code in available_regimes():
            out.append(Rendered(f"catalog-{code}", "catalog", _cli_docx(["catalog", "-r", code], t / "a.docx")))
    return out


def page_lines(text: str) -> list[str]:
    """The lines of a page as PDFium gives them (CR LF between lines; U+FFFE where a line ends at a hyphen)."""
    return text.replace("\ufffe", "-\r\n").replace("\u00a0", " ").split("\r\n")


def read_pdf(data: bytes) -> tuple[list[list[str]], list[bool]]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        pages, landscape = [], []
        for page in pdf:
            width, height = page.get_size()
            textpage = page.get_textpage()
            pages.append(page_lines(textpage.get_text_range()))
            landscape.append(width > height)
            textpage.close()
            page.close()
        return pages, landscape
    finally:
        pdf.close()


def render_all() -> list[Rendered]:
    """Every document converted to PDF (two LibreOffice runs side by side) and read page by page."""
    docs = documents()
    halves = [docs[0::2], docs[1::2]]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda part: docx_to_pdf_many({d.name: d.docx for d in part}, timeout=600), halves))
    for part, pdfs in zip(halves, results):
        for d in part:
            d.pages, d.landscape = read_pdf(pdfs[d.name])
    return docs
