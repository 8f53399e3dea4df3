"""Reading a Word document's text as a person reads it (tests only).

The typography writes requirement IDs with Word's no-break hyphen (a `w:noBreakHyphen` element between `w:t` pieces)
and joins numbers to their units with no-break spaces. A reader sees «794-P-1» and «0,6 га»: these helpers give the
hyphen back and read a no-break space as a space, so that content tests need not know the typography (which has tests
of its own in tests/test_pdf.py)."""
from __future__ import annotations

from docx.oxml.ns import qn

NO_BREAK_HYPHEN = qn("w:noBreakHyphen")
TEXT = qn("w:t")


def paragraph_text(p_el) -> str:  # noqa: ANN001
    """One paragraph element's text (w:p), hyphens given back, no-break spaces as spaces."""
    return "".join("-" if el.tag == NO_BREAK_HYPHEN else (el.text or "")
                   for el in p_el.iter(TEXT, NO_BREAK_HYPHEN)).replace("\u00a0", " ")


def body_lines(document) -> list[str]:  # noqa: ANN001
    """Every paragraph of the body, tables included, in order."""
    return [paragraph_text(p) for p in document.element.body.iter(qn("w:p"))]


def body_text(document) -> str:  # noqa: ANN001
    return "\n".join(body_lines(document))


def cell_text(cell) -> str:  # noqa: ANN001
    """A table cell's text, its paragraphs one a line."""
    return "\n".join(paragraph_text(p._p) for p in cell.paragraphs)
