"""Reading a Word document's text as a person reads it (tests only).

The typography writes requirement IDs with Word's no-break hyphen (a `w:noBreakHyphen` element between `w:t` pieces)
and joins numbers to their units with no-break spaces. A reader sees «794-P-1» and «0,6 га»: these helpers give the
hyphen back and read a no-break space as a space, so that content tests need not know the typography (which has tests
of its own in tests/test_pdf.py)."""
from __future__ import annotations

from docx.oxml.ns import qn

NO_BREAK_HYPHEN = qn("w:noBreakHyphen")
TEXT = qn("w:t")


SPECIAL = {NO_BREAK_HYPHEN: "-", qn("w:tab"): "\t", qn("w:br"): "\n", qn("w:cr"): "\n"}


def paragraph_text(p_el) -> str:  # noqa: ANN001
    """One paragraph element's text (w:p), hyphens given back, tabs and line breaks as such, no-break spaces as
    spaces."""
    return "".join(SPECIAL[el.tag] if el.tag in SPECIAL else (el.text or "")
                   for run in p_el.iter(qn("w:r")) for el in run
                   if el.tag == TEXT or el.tag in SPECIAL).replace("\u00a0", " ")  # not the tab stops of w:pPr


def body_lines(document) -> list[str]:  # noqa: ANN001
    """Every paragraph of the body, tables included, in order."""
    return [paragraph_text(p) for p in document.element.body.iter(qn("w:p"))]


def body_text(document) -> str:  # noqa: ANN001
    return "\n".join(body_lines(document))


def cell_text(cell) -> str:  # noqa: ANN001
    """A table cell's text, its paragraphs one a line."""
    return "\n".join(paragraph_text(p._p) for p in cell.paragraphs)


def rows_under(document, header: list[str]) -> list[list[str]]:  # noqa: ANN001
    """Data rows of every table whose header row is exactly ``header``."""
    rows = []
    for table in document.tables:
        if table.rows and [cell_text(c) for c in table.rows[0].cells] == header:
            rows += [[cell_text(c) for c in row.cells] for row in table.rows[1:]]
    return rows
