"""Word (.docx) documents, all text in Russian:

* ``report_docx(reports, matrix)`` — the gap report (for a regime with an assessment, e.g. GOST R 56425, the
  assessment conclusion instead); several reports go into one document after the eligibility matrix;
* ``catalog_docx(catalog)`` — the expert review of a regime's catalog: every requirement with what the program
  checks, the norm values with their dates and sources, the test cases that pin it and empty columns for the
  expert's confirmation.

Renderings of the same Report as render.py (same content and wording); typography follows Russian business
documents: Times New Roman 12 pt (tables 10 pt), black headings, A4, margins 2/1.5/2/2 cm, page numbers in the
footer from page 2.
"""
from __future__ import annotations

import io
import re
from collections import OrderedDict
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable, Sequence, Union

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.simpletypes import ST_HpsMeasure
from docx.shared import Cm, Pt, RGBColor
from lxml.etree import SubElement

from .catalog import (CONFIDENCE_RU, UNCONFIRMED, Catalog, CatalogError, Check, Requirement, Rule, Variant, cited_params,
                      load_catalog)
from .formatting import OP_RU, day, day_long, field_label, norm_phrase, num, plural, value as fmt_value
from .labels import regime_name
from .render import CONTRADICTIONS_TITLE, STATUS_ORDER, blocking_findings, fact_lines, findings_by_block, waiver_state
from .report import SEVERITY_RU, STATUS_RU, UNCONFIRMED_NOTE, Finding, Report, headline, stated_conclusion

if TYPE_CHECKING:  # pragma: no cover
    from .eligibility import Eligibility
    from .organisation import Issuer

FONT = "Times New Roman"
BODY_PT, TABLE_PT, SMALL_PT = 12, 10, 9
PAGE_W, PAGE_H = Cm(21.0), Cm(29.7)
MARGIN_TOP, MARGIN_RIGHT, MARGIN_BOTTOM, MARGIN_LEFT = Cm(2), Cm(1.5), Cm(2), Cm(2)
TEXT_WIDTH_CM = 21.0 - 2 - 1.5  # portrait; landscape pages (wide tables): 29.7 - 2 - 1.5
WIDE_WIDTH_CM = 29.7 - 2 - 1.5
AUTHOR = "Программа предварительной проверки соответствия требованиям Минпромторга"
TABLE_TEXT = "Table Text"  # paragraph style of table cells (10 pt)
HEADER_FILL = "D9D9D9"

# How many requirements are in a status, with the right Russian plural form (1 / 2–4 / 5+; 11–14 are «many»).
STATUS_FORMS: dict[str, tuple[str, str, str]] = {
    "not_met": ("несоответствие", "несоответствия", "несоответствий"),
    "error": ("ошибка проверки", "ошибки проверки", "ошибок проверки"),
    "insufficient_data": ("требование без достаточных данных", "требования без достаточных данных",
                          "требований без достаточных данных"),
    "manual_review": ("требование для экспертной оценки", "требования для экспертной оценки",
                      "требований для экспертной оценки"),
    "met": ("требование выполнено", "требования выполнены", "требований выполнено"),
    "waived": ("принятое отклонение", "принятых отклонения", "принятых отклонений"),
    "informational": ("требование для сведения", "требования для сведения", "требований для сведения"),
    "not_applicable": ("требование не применяется", "требования не применяются", "требований не применяется"),
}
KIND_RU = {"automated": "автоматически", "manual": "экспертно", "informational": "для сведения", "document": "документ"}

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# The same counts in an assessment conclusion, which calls the standard's requirements «критерии» throughout.
CRITERION_FORMS: dict[str, tuple[str, str, str]] = dict(STATUS_FORMS, **{
    "insufficient_data": ("критерий без достаточных данных", "критерия без достаточных данных",
                          "критериев без достаточных данных"),
    "manual_review": ("критерий для экспертной оценки", "критерия для экспертной оценки",
                      "критериев для экспертной оценки"),
    "met": ("критерий выполнен", "критерия выполнены", "критериев выполнено"),
    "informational": ("критерий для сведения", "критерия для сведения", "критериев для сведения"),
    "not_applicable": ("критерий не применяется", "критерия не применяются", "критериев не применяется"),
})


def status_count_text(status: str, n: int, criteria: bool = False) -> str:
    """status_count_text('not_met', 2) -> '2 несоответствия'; criteria — in the words of an assessment."""
    return plural(n, *(CRITERION_FORMS if criteria else STATUS_FORMS)[status])


def _clean(text: Any) -> str:
    """Text as Word can store it: characters XML forbids (control characters from pasted data) are dropped."""
    return _XML_INVALID.sub("", "" if text is None else str(text))


# --- content model: a cell or a list item is text, or paragraphs of runs -------------------------------------------
class R:
    """A run of text with its formatting."""

    __slots__ = ("text", "bold", "italic", "size")

    def __init__(self, text: str, bold: bool = False, italic: bool = False, size: float | None = None):
        self.text, self.bold, self.italic, self.size = text, bold, italic, size


Para = Union[str, R, Sequence[R]]
Cell = Union[str, R, Sequence[Para]]


# --- the document and its typography -------------------------------------------------------------------------------
def _rfonts(rpr) -> None:
    """Times New Roman for every script; theme fonts (which win over explicit names) removed."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    _rfonts_element(fonts)


def _rfonts_element(fonts) -> None:
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)


def _lang(rpr) -> None:
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "ru-RU")
    lang.set(qn("w:eastAsia"), "ru-RU")
    lang.set(qn("w:bidi"), "ar-SA")


def _style_font(style, size: float | None = None, bold: bool | None = None, black: bool = False) -> None:
    font = style.font
    font.name = FONT
    _rfonts(style.element.get_or_add_rPr())
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if black:
        font.color.rgb = RGBColor(0, 0, 0)  # replaces the theme colour (w:themeColor is dropped with it)


class _Doc:
    """A python-docx Document with the house style and small helpers for headings, paragraphs, lists, tables."""

    def __init__(self, title: str, subject: str = "", keywords: str = "", created: datetime | None = None):
        self.doc = doc = Document()
        styles = doc.styles
        defaults = styles.element.find(qn("w:docDefaults"))
        if defaults is not None:
            rpr = defaults.find(qn("w:rPrDefault") + "/" + qn("w:rPr"))
            if rpr is not None:
                _rfonts(rpr)
                _lang(rpr)
        normal = styles["Normal"]
        _style_font(normal, BODY_PT)
        _lang(normal.element.get_or_add_rPr())
        fmt = normal.paragraph_format
        fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(4), 1.0
        for name, size in (("Heading 1", 14), ("Heading 2", 13), ("Heading 3", 12), ("Title", 16), ("Subtitle", 13)):
            st = styles[name]
            _style_font(st, size, bold=True, black=True)
            st.font.italic = False
            st.paragraph_format.space_before = Pt(12 if name == "Heading 1" else 8)
            st.paragraph_format.space_after = Pt(6)
            st.paragraph_format.keep_with_next = True
            if name in ("Title", "Subtitle"):
                st.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
                _no_border(st)
        names = {s.name for s in styles}
        for level in range(4, 10):  # unused deeper levels too: a user adding one gets the house style
            _style_font(styles[f"Heading {level}"], BODY_PT, bold=True, black=True)
        for name in [f"Heading {n} Char" for n in range(1, 10)] + ["Title Char", "Subtitle Char"]:
            if name in names:
                _style_font(styles[name], bold=True, black=True)
        for fonts in styles.element.iter(qn("w:rFonts")):  # no theme font left anywhere: it wins over the name
            _rfonts_element(fonts)
        for name in ("List Bullet", "Header", "Footer", "Table Grid", "Normal Table"):
            try:
                _style_font(styles[name])
            except KeyError:  # pragma: no cover - every python-docx template has them
                pass
        table_text = styles.add_style(TABLE_TEXT, WD_STYLE_TYPE.PARAGRAPH)
        table_text.base_style = normal
        _style_font(table_text, TABLE_PT)
        table_text.paragraph_format.space_after = Pt(1)  # paragraphs of a cell close together: more rows a page
        table_text.paragraph_format.space_before = Pt(0)
        # style ids, set directly: python-docx looks a style name up by scanning every style (slow in big tables);
        # other paragraph styles are added to this cache on first use (_style_id)
        self.style_ids: dict[str, str | None] = {name: styles[name].style_id for name in (TABLE_TEXT, "List Bullet")}
        self.table_grid_id = styles["Table Grid"].style_id

        section = doc.sections[0]
        _page_setup(section, landscape=False)
        section.different_first_page_header_footer = True  # no number on the title page
        first = section.first_page_footer
        first.is_linked_to_previous = False
        footer = section.footer
        footer.is_linked_to_previous = False
        para = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _page_field(para)

        props = doc.core_properties
        props.title = _clean(title)[:250]
        props.author = AUTHOR
        props.last_modified_by = AUTHOR
        props.subject = _clean(subject)[:250]
        props.keywords = _clean(keywords)[:250]
        props.language = "ru-RU"
        props.comments = "Документ сформирован автоматически; формулировки нормативов предварительные — см. раздел о сверке."
        when = (created or datetime.now(timezone.utc)).replace(tzinfo=None, microsecond=0)
        props.created = props.modified = when
        props.revision = 1

    # -- text ------------------------------------------------------------------------------------------------------
    def _style_id(self, name: str) -> str | None:
        """The id of a paragraph style, looked up by python-docx once per document (None for the default style,
        as python-docx gives)."""
        if name not in self.style_ids:
            self.style_ids[name] = self.doc.part.get_style_id(name, WD_STYLE_TYPE.PARAGRAPH)
        return self.style_ids[name]

    def _paragraph(self, style: str | None = None):
        """``doc.add_paragraph(style=style)`` with the style id from the cache."""
        p = self.doc.add_paragraph()
        if style is not None:
            _set_style(p, self._style_id(style))
        return p

    def heading(self, text: str, level: int = 1):
        """``doc.add_heading(text, level)``: a run only if there is text, then the heading style."""
        p = self._paragraph("Title" if level == 0 else f"Heading {level}")
        text = _clean(text)
        if text:
            _add_run(p._p, text)
        return p

    def title(self, text: str, sub: str | None = None) -> None:
        p = self._paragraph("Title")
        _add_run(p._p, _clean(text))
        if sub:
            s = self._paragraph("Subtitle")
            _add_run(s._p, _clean(sub))

    def para(self, content: Para, *, bold: bool = False, italic: bool = False, size: float | None = None,
             align: str | None = None, style: str | None = None, space_after: float | None = None):
        p = self._paragraph(style)
        _fill(p, content, bold=bold, italic=italic, size=size)
        if align == "center":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif align == "right":
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif align == "justify":
            p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        if space_after is not None:
            p.paragraph_format.space_after = Pt(space_after)
        return p

    def bullets(self, items: Iterable[Para]) -> None:
        for item in items:
            p = self.doc.add_paragraph()
            _set_style(p, self.style_ids["List Bullet"])
            _fill(p, item)
            p.paragraph_format.space_after = Pt(2)

    def page_break(self) -> None:
        self.doc.add_page_break()

    def new_section(self, landscape: bool) -> None:
        """A new page in landscape (wide tables) or back in portrait; page numbers continue in the footer."""
        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        section.different_first_page_header_footer = False  # only the title page goes without a number
        _page_setup(section, landscape)

    # -- tables ----------------------------------------------------------------------------------------------------
    def table(self, headers: Sequence[str] | None, widths_cm: Sequence[float], rows: Iterable[Sequence[Cell]],
              *, grid: bool = True, bold_rows: set[int] | None = None, shade_first_col: bool = False,
              keep_rows: bool = False):
        """A table with fixed column widths; the header row (if any) repeats on every page (w:tblHeader);
        ``keep_rows``: a row is not split across pages (for rows well shorter than a page)."""
        ncols = len(widths_cm)
        table = self.doc.add_table(rows=0, cols=ncols)
        if grid:
            table._tbl.tblStyle_val = self.table_grid_id  # as ``table.style = "Table Grid"``, without the name lookup
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        _fixed_layout(table, widths_cm, margins_cm=0.1)
        for i, w in enumerate(widths_cm):
            table.columns[i].width = Cm(w)
        # the rows are written with lxml (_add_row), not table.add_row() and row.cells: see "Table rows" below
        tbl = table._tbl
        col_widths = [col.get(_W_W) for col in tbl.tblGrid.gridCol_lst]  # twips, as python-docx gives each cell
        style_id = self.style_ids[TABLE_TEXT]
        if headers is not None:
            _add_row(tbl, col_widths, [R(text, bold=True) for text in headers], style_id, header=True,
                     fills={i: HEADER_FILL for i in range(ncols)})
        first_col_fill = {0: "F2F2F2"} if shade_first_col else {}
        for n, values in enumerate(rows):
            _add_row(tbl, col_widths, values, style_id, bold=bold_rows is not None and n in bold_rows,
                     cant_split=keep_rows and _short(values), fills=first_col_fill)
        self.doc.add_paragraph().paragraph_format.space_after = Pt(2)  # air after the table
        return table

    def kv_table(self, rows: Sequence[tuple[str, Cell]], widths_cm: Sequence[float] = (5.0, TEXT_WIDTH_CM - 5.0)):
        """Label: value lines (the title block), without borders."""
        return self.table(None, widths_cm, ([R(k, bold=True), v] for k, v in rows), grid=False)

    def save(self) -> bytes:
        _no_blank_page_after_tables(self.doc.element.body)
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()


def _no_blank_page_after_tables(body) -> None:
    """No paragraph of a full line after a table that ends a section or the document: when the table filled the page
    to the bottom, that empty paragraph went on alone to a blank page (after the signatures; after a landscape table
    of findings). The empty paragraph after the document's last table is dropped (a body may end with a table); the
    paragraph that carries a section break after a table takes the place of the one before it and is 1 pt high (a
    hidden paragraph mark did not help: LibreOffice still gives it a line)."""
    blocks = [el for el in body if el.tag in (_W_P, _W_TBL)]

    def empty(el) -> bool:
        return el.tag == _W_P and not any(t.text for t in el.iter(_W_T))

    def breaks_section(el) -> bool:
        return el.find(f"{_W_PPR}/{_W_SECTPR}") is not None

    for i, el in enumerate(blocks[:-1]):
        if el.tag != _W_TBL or not empty(blocks[i + 1]) or breaks_section(blocks[i + 1]):
            continue
        after = blocks[i + 2] if i + 2 < len(blocks) else None
        if after is None:
            body.remove(blocks[i + 1])
        elif empty(after) and breaks_section(after):
            body.remove(blocks[i + 1])
            ppr = after.find(_W_PPR)
            spacing = OxmlElement("w:spacing")
            for attr, val in (("w:before", "0"), ("w:after", "0"), ("w:line", "20"), ("w:lineRule", "exact")):
                spacing.set(qn(attr), val)
            ppr.insert(0 if ppr.find(_W_PSTYLE) is None else 1, spacing)
            rpr = OxmlElement("w:rPr")
            SubElement(rpr, _W_SZ).set(_W_VAL, "2")
            ppr.find(_W_SECTPR).addprevious(rpr)


def _page_setup(section, landscape: bool) -> None:
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (PAGE_H, PAGE_W) if landscape else (PAGE_W, PAGE_H)
    section.top_margin, section.right_margin = MARGIN_TOP, MARGIN_RIGHT
    section.bottom_margin, section.left_margin = MARGIN_BOTTOM, MARGIN_LEFT
    section.header_distance = section.footer_distance = Cm(1.0)


def _no_border(style) -> None:
    ppr = style.element.get_or_add_pPr()
    border = ppr.find(qn("w:pBdr"))
    if border is not None:
        ppr.remove(border)


def _page_field(paragraph) -> None:
    """A PAGE field as fldChar runs (begin, instruction, separator, shown value, end)."""
    def run_with(child):
        r = OxmlElement("w:r")
        rpr = OxmlElement("w:rPr")
        fonts = OxmlElement("w:rFonts")
        for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            fonts.set(qn(attr), FONT)
        rpr.append(fonts)
        sz = OxmlElement("w:sz")
        sz.set(qn("w:val"), str(BODY_PT * 2))
        rpr.append(sz)
        r.append(rpr)
        r.append(child)
        paragraph._p.append(r)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    run_with(instr)
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    run_with(sep)
    shown = OxmlElement("w:t")
    shown.text = "2"
    run_with(shown)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def _short(values: Sequence[Cell]) -> bool:
    """A row that surely fits on a page (so keeping it whole never clips it): few paragraphs, little text."""
    for content in values:
        paras = [content] if isinstance(content, (str, R)) else list(content)
        chars = sum(len(r.text) for p in paras for r in _runs(p))
        if len(paras) > 15 or chars > 1200:
            return False
    return True


def _fixed_layout(table, widths_cm: Sequence[float], margins_cm: float) -> None:
    """Fixed layout (python-docx's autofit = False), the total width, narrow cell margins; elements inserted in
    the order the schema requires (Word refuses a document whose table properties are out of order)."""
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    width = tbl_pr.find(qn("w:tblW"))
    if width is None:  # pragma: no cover - python-docx always writes one
        width = OxmlElement("w:tblW")
        tbl_pr.insert_element_before(width, "w:jc", "w:tblCellSpacing", "w:tblInd", "w:tblBorders", "w:shd",
                                     "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription")
    width.set(qn("w:w"), str(int(sum(widths_cm) * 567)))
    width.set(qn("w:type"), "dxa")
    mar = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(int(margins_cm * 567)))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    tbl_pr.insert_element_before(mar, "w:tblLook", "w:tblCaption", "w:tblDescription")


def _runs(content: Para) -> list[R]:
    if isinstance(content, str):
        return [R(content)]
    if isinstance(content, R):
        return [content]
    return list(content)


def _set_style(paragraph, style_id: str | None) -> None:
    paragraph._p.get_or_add_pPr().style = style_id


# --- Table rows, cells and runs, written with lxml ------------------------------------------------------------------
# python-docx places every new child by searching its parent for each tag the schema allows after it (some thirty
# names for a w:pStyle), converts every value through its descriptors, and table.add_row() + row.cells rebuild the
# table grid on each access: for a report of 100 findings that was four fifths of the time. The rows, cells,
# paragraphs and runs of tables (and the runs of body paragraphs) are therefore appended with lxml directly, in
# the order python-docx would write them, so the XML is the same: w:tr (w:trPr) w:tc (w:tcPr: w:tcW, w:shd) w:p
# (w:pPr: w:pStyle) w:r (w:rPr: w:b, w:i, w:sz) w:t. Elements appended under the python-docx tree get python-docx's
# element classes, so the document stays usable through its API.
_W_P, _W_PPR, _W_PSTYLE, _W_R, _W_RPR, _W_B, _W_I, _W_SZ, _W_T, _W_TAB, _W_BR = (
    qn(f"w:{tag}") for tag in ("p", "pPr", "pStyle", "r", "rPr", "b", "i", "sz", "t", "tab", "br"))
_W_TR, _W_TRPR, _W_CANTSPLIT, _W_TBLHEADER, _W_TC, _W_TCPR, _W_TCW, _W_SHD = (
    qn(f"w:{tag}") for tag in ("tr", "trPr", "cantSplit", "tblHeader", "tc", "tcPr", "tcW", "shd"))
_W_VAL, _W_TYPE, _W_W, _W_COLOR, _W_FILL = (qn(f"w:{a}") for a in ("val", "type", "w", "color", "fill"))
_XML_SPACE = qn("xml:space")
_W_TBL, _W_SECTPR = qn("w:tbl"), qn("w:sectPr")
_W_NOBREAKHYPHEN = qn("w:noBreakHyphen")
_TAB_OR_BREAK = re.compile("([\t\r\n])")


def _half_points(size: float) -> str:
    """A font size as w:sz writes it (python-docx's own conversion of ``font.size = Pt(size)``)."""
    return ST_HpsMeasure.convert_to_xml(Pt(size))


# --- typography: what a line must not break ------------------------------------------------------------------------
# A number and its unit («0,6 га», «5 п. п.», «50 %», «2025 г.»), «№ 794», «п. 3.1», «т. п.» are joined by no-break
# spaces; a requirement ID (794-P-1, G-3.2-1, 1863-DOC-3, P-2) gets Word's no-break hyphens (w:noBreakHyphen, which
# LibreOffice honours too). Applied to every run of every document in _add_run, so no call site has to remember it.
NBSP = "\u00a0"
_NB_HYPHEN = "\u2011"  # marks a no-break hyphen inside _add_run; written as w:noBreakHyphen
UNITS = ("п. п.", "п.п.", "м²", "м³", "кв. м", "МВт", "кВт", "МВА", "кВА", "кВ", "Гкал", "га", "км", "м", "%", "‰",
         "руб.", "руб", "рублей", "рубля", "тыс.", "млн", "млрд", "чел.", "человек", "шт.", "ед.", "т", "г.", "гг.",
         "лет", "год", "года", "мес.", "месяцев", "месяца", "дней", "дня", "дн.", "сут.", "сут", "ч", "мин")
_UNIT_RE = "|".join(re.escape(u).replace("\\ ", "[ \u00a0]") for u in sorted(UNITS, key=len, reverse=True))
_NUMBER_UNIT = re.compile(rf"(?<=\d) (?=(?:{_UNIT_RE})(?![\w²³]))")
_BEFORE_NUMBER = re.compile(r"(?<![\w.])(№|пп?\.|ст\.|ч\.|≈|гл\.|разд\.) (?=\d)")
_ABBREVIATION = re.compile(r"(?<![\w.])(п\.|т\.|кв\.) (?=(?:п|е|д|м|к)\.?(?!\w))")
REQUIREMENT_ID = re.compile(r"(?<![\w-])(?:G-\d+(?:\.\d+)+-\d{1,3}|(?:\d{3,4}-|G-)?[A-Z]{1,4}-\d{1,3})(?![\w-])")


def typeset(text: str) -> str:
    """``text`` with no-break spaces where a line must not break, and requirement IDs' hyphens as U+2011 (written
    as w:noBreakHyphen by _add_run). typeset('не хватает 0,6 га; 794-P-1') -> 'не хватает 0,6\xa0га; 794‑P‑1'."""
    if " " in text:
        text = _ABBREVIATION.sub(r"\1" + NBSP, text)
        text = _NUMBER_UNIT.sub(NBSP, text)
        text = _BEFORE_NUMBER.sub(r"\1" + NBSP, text)
    if "-" in text:
        text = REQUIREMENT_ID.sub(lambda m: m.group(0).replace("-", _NB_HYPHEN), text)
    return text


def _add_run(p, text: str, bold: bool = False, italic: bool = False, size: float | None = None) -> None:
    """Append a run to the paragraph element ``p`` as ``paragraph.add_run(text)`` then ``run.bold = True``,
    ``run.italic = True``, ``run.font.size = Pt(size)`` write it: an empty text gives an empty run; a tab is a w:tab,
    a line feed or carriage return a w:br; a w:t with outer spaces keeps them (xml:space="preserve"). The text is
    typeset first (``typeset``): a hyphen that must not break is a w:noBreakHyphen."""
    r = SubElement(p, _W_R)
    if bold or italic or size:
        rpr = SubElement(r, _W_RPR)
        if bold:
            SubElement(rpr, _W_B)
        if italic:
            SubElement(rpr, _W_I)
        if size:
            SubElement(rpr, _W_SZ).set(_W_VAL, _half_points(size))
    for piece in _TAB_OR_BREAK.split(typeset(text)) if text else ():
        if piece == "\t":
            SubElement(r, _W_TAB)
        elif piece == "\r" or piece == "\n":
            SubElement(r, _W_BR)
        elif piece:
            for i, part in enumerate(piece.split(_NB_HYPHEN)):
                if i:
                    SubElement(r, _W_NOBREAKHYPHEN)
                if part:
                    t = SubElement(r, _W_T)
                    t.text = part
                    if len(part.strip()) < len(part):
                        t.set(_XML_SPACE, "preserve")


def _add_runs(p, content: Para, *, bold: bool = False, italic: bool = False, size: float | None = None) -> None:
    """Every run of ``content`` into the paragraph element ``p``; ``bold``, ``italic``, ``size`` apply to all."""
    for r in _runs(content):
        _add_run(p, _clean(r.text), r.bold or bold, r.italic or italic, r.size or size)


def _fill(paragraph, content: Para, *, bold: bool = False, italic: bool = False, size: float | None = None) -> None:
    _add_runs(paragraph._p, content, bold=bold, italic=italic, size=size)


def _add_row(tbl, col_widths: Sequence[str], values: Sequence[Cell], style_id: str, *, bold: bool = False,
             header: bool = False, cant_split: bool = False, fills: dict[int, str] | None = None) -> None:
    """Append a row to the w:tbl element ``tbl``, as ``table.add_row()`` gives it (one cell per grid column, each
    with its column's width in twips) and filled as python-docx would: a cell's content is a text or R (one
    paragraph) or a list of paragraphs (a nested list is one paragraph of several runs), every paragraph in
    ``style_id``. Cells beyond ``values`` keep python-docx's empty paragraph; values beyond the columns are
    dropped. ``header``: the row repeats at the top of every page and is never split (w:tblHeader, w:cantSplit);
    ``cant_split``: the row is not split across pages; ``fills``: shading of the cells by column index."""
    tr = SubElement(tbl, _W_TR)
    if header or cant_split:
        tr_pr = SubElement(tr, _W_TRPR)
        SubElement(tr_pr, _W_CANTSPLIT).set(_W_VAL, "true")
        if header:
            SubElement(tr_pr, _W_TBLHEADER).set(_W_VAL, "true")
    values = list(values)
    for ci, width in enumerate(col_widths):
        tc = SubElement(tr, _W_TC)
        tc_pr = SubElement(tc, _W_TCPR)
        tc_w = SubElement(tc_pr, _W_TCW)
        tc_w.set(_W_TYPE, "dxa")
        tc_w.set(_W_W, width)
        if ci >= len(values):
            SubElement(tc, _W_P)
            continue
        fill = fills.get(ci) if fills else None
        if fill:
            shd = SubElement(tc_pr, _W_SHD)
            shd.set(_W_VAL, "clear")
            shd.set(_W_COLOR, "auto")
            shd.set(_W_FILL, fill)
        content = values[ci]
        # a list is paragraphs; one paragraph of several runs is a nested list; an empty list is one empty paragraph
        paras: list[Para] = [content] if isinstance(content, (str, R)) else (list(content) or [""])
        for para in paras:
            p = SubElement(tc, _W_P)
            SubElement(SubElement(p, _W_PPR), _W_PSTYLE).set(_W_VAL, style_id)
            _add_runs(p, para, bold=bold)


# --- the gap report ------------------------------------------------------------------------------------------------
def _severity(f: Finding, mandatory: set[str] | None = None) -> str:
    if mandatory is not None:
        return "обязательный" if f.severity in mandatory else "рекомендуемый"
    return SEVERITY_RU.get(f.severity, f.severity)


def _confidence_text(code: str) -> str:
    return f"{code} — {CONFIDENCE_RU.get(code, code)}" + (" (требует сверки)" if code in UNCONFIRMED else "")


def _title_block(d: _Doc, r: Report, extra: Sequence[tuple[str, Cell]] = (), annex: int | None = None) -> None:
    site_label = "Площадка" if r.applicant.role == "Управляющая компания" else "Кластер"
    n_unconfirmed = len(r.unconfirmed_norms)
    if n_unconfirmed:
        confirmation = (f"{plural(n_unconfirmed, 'вердикт основан', 'вердикта основаны', 'вердиктов основаны')} на "
                        "нормативах, которые требуют сверки с официальным текстом (перечень — в разделе "
                        + (f"{annex} " if annex else "") + "«Нормативы, требующие сверки с официальным текстом»)")
    else:
        confirmation = "все вердикты основаны на нормативах, сверенных с текстом акта или вторичным источником"
    rows: list[tuple[str, Cell]] = [
        (r.applicant.role, r.applicant.name),
        ("ИНН", r.applicant.inn),
        (site_label, f"{r.applicant.site_name} ({r.applicant.region})"),
        ("Режим", r.regime_title),
        ("Акт", r.act_citation),
        ("Категория, подтип", f"{r.category}; {r.subtype}"),
        ("Дата оценки", f"{day_long(r.as_of)} (дата подачи {day_long(r.filing_date)})"),
        ("Каталог критериев" if r.assessment else "Каталог требований", f"версия {r.catalog_version}, контрольная сумма {r.catalog_hash[:12]}"),
        ("Сверка нормативов", confirmation),
    ]
    if r.norm_shares:
        rows.append(("Нормативы режима", r.norm_shares.sentence().removeprefix("Нормативы режима: ")))
    if r.special_regimes:
        rows.append(("Особый режим", "; ".join(r.special_regimes)))
    if r.judgements_mismatch:
        rows.append(("Внимание", R(r.judgements_mismatch, bold=True)))
    rows += list(extra)
    rows.append(("Документ сформирован", day_long(r.generated_at.date())))
    d.kv_table(rows)


def _contradictions(d: _Doc, r: Report, level: int) -> None:
    """The assessor's verdicts that a computed fact contradicts (as the catalog declares), each with the fact."""
    if r.judgement_contradictions:
        d.heading(CONTRADICTIONS_TITLE, level)
        d.bullets(c.text for c in r.judgement_contradictions)


def _count_lines(r: Report) -> list[str]:
    return [status_count_text(s, r.counts[s], criteria=r.assessment is not None) for s in STATUS_ORDER if r.counts.get(s)]


def failed_details(f: Finding) -> list[str]:
    """Which items make a check fail (e.g. the participants without a qualifying contract)."""
    if f.status != "not_met":
        return []
    return [d for c in f.checks if c.outcome == "failed" for d in c.fact.details]


def _judgement_paras(f: Finding) -> list[Para]:
    out: list[Para] = []
    if f.judgement:
        j = f.judgement
        who = ", ".join(filter(None, [j.assessor, day(j.date) if j.date else None])) or "эксперт"
        out.append([R(f"Оценка эксперта ({who}): ", bold=True), R(f"{STATUS_RU.get(j.verdict, j.verdict)} — {j.comment}")])
        if j.evidence:
            out.append([R("Основание: ", italic=True), R(j.evidence)])
        if j.outdated:
            out.append(R(f"Оценка устарела: вынесена по версии каталога {j.catalog_version}", italic=True))
    if f.waiver:
        w = f.waiver
        state = waiver_state(f)
        out.append([R(f"Отклонение ({state}): ", bold=True), R(w.justification.rstrip(".")
                                                               + (f"; утвердил: {w.approved_by}" if w.approved_by else ""))])
    return out


def _fact_paras(f: Finding) -> list[Para]:
    """The «Факт» column: measured facts, failing items, and the explanation where the status needs one."""
    out: list[Para] = list(_judgement_paras(f))
    out += [text if heading == "Факт" else f"{heading}: {text}" for heading, text in fact_lines(f)]
    details = failed_details(f)
    shown = details[:50]
    out += [f"• {x}" for x in shown]
    if len(details) > len(shown):
        out.append(f"… и ещё {len(details) - len(shown)}")
    if f.status != "met" and (f.status != "not_met" or not f.checks) and not f.judgement and f.status != "waived":
        out.append(R(f.explanation, italic=True))
    if f.status == "manual_review":
        out += [f"{fv.label} — {fv.text}" for fv in f.shown_facts]
    return out or ["—"]


def _norm_paras(f: Finding) -> list[Para]:
    if not f.norm:
        return ["—"]
    note = f"; {UNCONFIRMED_NOTE}" if f.needs_confirmation and f.status in ("met", "not_met") else ""
    return [f.norm.text, R(f"достоверность: {f.confidence}{note}", italic=True, size=SMALL_PT)]  # one line less


def _status_paras(f: Finding, severity: str | None = None) -> list[Para]:
    out: list[Para] = [R(STATUS_RU[f.status], bold=f.status in ("not_met", "error"))]
    if f.shortfall:
        out.append(f.shortfall.text)
    if severity:
        out.append(R(severity, italic=True, size=SMALL_PT))
    return out


def _todo(f: Finding) -> str:
    if f.status in ("not_met", "insufficient_data") and f.remedy:
        return f.remedy
    if f.status == "manual_review" and f.what_to_check:
        return "Что проверить: " + f.what_to_check
    if f.status == "waived" and f.remedy:
        return "До окончания срока отклонения: " + f.remedy
    return ""


# A landscape page. The clause of the act goes under the requirement's title in small type (as in the GOST
# criteria table): a column of its own took a fifth of the width for a few words, mostly «пункт не установлен»,
# and made every row taller — four rows to a page.
FINDINGS_HEADERS = ["ID", "Требование, пункт акта", "Норматив", "Факт", "Статус", "Что сделать"]
FINDINGS_WIDTHS = [2.4, 4.2, 5.2, 5.6, 2.6, 6.2]


def _findings_tables(d: _Doc, r: Report, level: int) -> None:
    for block, items in findings_by_block(r.findings).items():
        d.heading(block, level)
        d.table(FINDINGS_HEADERS, FINDINGS_WIDTHS,
                ([R(f.requirement_id, bold=True), [f.title, R(f.clause, size=SMALL_PT)], _norm_paras(f),
                  _fact_paras(f), _status_paras(f, _severity(f)), _todo(f) or "—"] for f in items), keep_rows=True)


def _documents_section(d: _Doc, r: Report, level: int) -> None:
    docs = r.documents
    if docs.items:
        d.table(["ID", "Документ", "Статус", "Представлено", "Не хватает"], [2.4, 3.9, 2.2, 4.8, 4.2],
                ([R(i.requirement_id, bold=True), [i.title, R(i.needed, italic=True, size=SMALL_PT)],
                  R(STATUS_RU[i.status], bold=i.status == "not_met"), list(i.provided) or "—", list(i.missing) or "—"]
                 for i in docs.items))
    else:
        d.para("Документных требований в каталоге режима нет.")
    if docs.not_counted:
        d.heading("Документы, не учтённые на дату оценки", level + 1)
        d.bullets(f"{x.document}: {x.problem}" for x in docs.not_counted)
    if docs.warnings:
        d.heading("Предупреждения о свежести документов", level + 1)
        d.bullets(f"{x.document}: {x.problem}" for x in docs.warnings)


def _calculations_section(d: _Doc, r: Report) -> None:
    for c in r.calculations:
        d.para([R(f"{c.title}: ", bold=True), R(c.text, bold=True)], space_after=2)
        d.bullets(list(c.lines) + [f"нет данных: {m}" for m in c.missing_labels])
        d.para([R("Используется в: ", italic=True), R("; ".join(c.used_by) or "—")])


def _unconfirmed_rows(r: Report) -> list[list[Cell]]:
    by_id = {f.requirement_id: f for f in r.findings}
    rows = []
    for rid in r.unconfirmed_norms:
        f = by_id.get(rid)
        if f is None:
            continue
        checks = [c for c in f.checks if c.norm.needs_confirmation]
        norms = [c.norm for c in checks] or ([f.norm] if f.norm else [])
        labels = [c.fact.label for c in checks] or [None] * len(norms)
        values: list[Para] = [f.norm.text] if f.norm else [f.text]
        seen = {values[0]}
        refs: list[Para] = []
        for n, label in zip(norms, labels):
            if isinstance(n.value, (int, float, list)) and not isinstance(n.value, bool):
                # each value says what it is for: «Участков без кадастрового номера — ни одного»
                shown = (f"{label} — " if label else "") + n.text + (f" (с {day(n.effective_from)})" if n.effective_from else "")
                if shown not in seen:
                    seen.add(shown)
                    values.append(R(shown, italic=True))
            ref = "; ".join(filter(None, [n.reference, f"источник: {n.source}" if n.source else None]))
            if ref and ref not in refs:
                refs.append(ref)
        rows.append([R(rid, bold=True), f.title, values, _confidence_text(f.confidence), refs or [f.clause]])
    return rows


def _unconfirmed_section(d: _Doc, r: Report) -> None:
    if not r.unconfirmed_norms:
        d.para("Все вердикты основаны на нормативах, сверенных с текстом акта или вторичным источником.")
        return
    d.para(f"{plural(len(r.unconfirmed_norms), 'вердикт основан', 'вердикта основаны', 'вердиктов основаны')} на "
           "нормативах с достоверностью A (по аналогии), M (по памяти) или U (значение неизвестно). До сверки с "
           "официальным текстом акта эти вердикты предварительные.", align="justify")
    d.table(["ID", "Критерий" if r.assessment else "Требование", "Норматив", "Достоверность", "Ссылка и источник"],
            [2.4, 3.7, 4.2, 2.8, 4.4],
            _unconfirmed_rows(r))


def _notes_section(d: _Doc, r: Report) -> None:
    notes = list(r.notes)
    if r.engine_error:
        notes.append("При проверке произошла ошибка движка правил; затронутые требования помечены «ошибка проверки».")
    if notes:
        d.bullets(notes)
    else:
        d.para("Примечаний нет.")
    d.para([R("Обозначения достоверности нормативов: ", italic=True),
            R("T — текст акта; S — вторичный источник; A — по аналогии; M — по памяти, не подтверждено; "
              "U — значение неизвестно. A, M и U требуют сверки с официальным текстом.", italic=True)], size=SMALL_PT)


def _evaluation_id(d: _Doc, r: Report) -> None:
    d.para([R("Идентификатор проверки: ", bold=True), R(r.evaluation_id)], size=SMALL_PT)


def _gap_report(d: _Doc, r: Report, base: int = 1) -> None:
    d.title("ОТЧЁТ О СООТВЕТСТВИИ ТРЕБОВАНИЯМ", "предварительная проверка заявки")
    _title_block(d, r, annex=4 + bool(r.calculations))

    d.heading("1. Итог проверки", base)
    d.para(headline(r, upper=True), bold=True, size=14)
    _summary_tables(d, r, base + 1)
    _contradictions(d, r, base + 1)

    d.new_section(landscape=True)
    d.heading("2. Результаты проверки по требованиям", base)
    _findings_tables(d, r, base + 1)

    d.new_section(landscape=False)
    d.heading("3. Документы для заявки", base)
    _documents_section(d, r, base + 1)

    n = _annexes(d, r, base, 4)
    d.heading(f"{n}. Примечания", base)
    _notes_section(d, r)
    _evaluation_id(d, r)


SUMMARY_WIDTHS = [9.0, 3.0]
BLOCKING_HEADERS = ["ID", "Требование", "Чего не хватает"]
BLOCKING_WIDTHS = [2.3, 6.7, 8.5]


def summary_rows(r: Report) -> list[tuple[str, int]]:
    """(status in words, how many requirements) for every status the report has, in the report's order."""
    return [(STATUS_RU[s][:1].upper() + STATUS_RU[s][1:], r.counts[s]) for s in STATUS_ORDER if r.counts.get(s)]


def blocking_rows(r: Report) -> list[tuple[str, str, str]]:
    """(ID, requirement, shortfall) of every blocking requirement the check did not confirm."""
    return [(f.requirement_id, f.title, f.shortfall.text if f.shortfall else STATUS_RU[f.status])
            for f in blocking_findings(r)]


def _summary_tables(d: _Doc, r: Report, level: int) -> None:
    """Page 1: how many requirements are in each status, and the blocking requirements with what they lack."""
    rows = summary_rows(r)
    total = sum(n for _, n in rows)
    d.table(["Результат проверки", "Требований"], SUMMARY_WIDTHS,
            [[label, str(n)] for label, n in rows] + [[R("Всего", bold=True), R(str(total), bold=True)]])
    blocking = blocking_rows(r)
    if blocking:
        d.heading("Критичные требования, не подтверждённые проверкой", level)
        d.table(BLOCKING_HEADERS, BLOCKING_WIDTHS,
                ([R(rid, bold=True), title, shortfall] for rid, title, shortfall in blocking), keep_rows=True)


def _annexes(d: _Doc, r: Report, base: int, n: int) -> int:
    """The numbered calculations (if any) and unconfirmed-norms sections; returns the next section number."""
    if r.calculations:
        d.heading(f"{n}. Расчёты", base)
        _calculations_section(d, r)
        n += 1
    d.heading(f"{n}. Нормативы, требующие сверки с официальным текстом", base)
    _unconfirmed_section(d, r)
    return n + 1


# --- the assessment conclusion (GOST R 56425) ----------------------------------------------------------------------
def _mandatory_severities(r: Report) -> set[str]:
    try:
        assessment = load_catalog(r.regime).decree.assessment
    except CatalogError:
        assessment = None
    return set(assessment.mandatory) if assessment else {"blocking"}


def _share(s) -> str:
    return num(s.share_pct, 2) if s.share_pct is not None else "—"


def _criterion_reason(f: Finding) -> list[Para]:
    out = list(_judgement_paras(f))
    if not f.judgement:
        if f.norm:
            out.append([R("Норматив: ", italic=True), R(f.norm.text)])
        out += [[R(f"{heading}: ", italic=True), R(text)] for heading, text in fact_lines(f)]
        out += [f"• {x}" for x in failed_details(f)[:50]]
        if f.status in ("insufficient_data", "not_applicable", "informational", "error", "manual_review"):
            out.append(R(f.explanation, italic=True))
        if f.status == "manual_review":
            out += [f"{fv.label} — {fv.text}" for fv in f.shown_facts]
    if f.documents_found and f.status in ("met", "waived"):
        out.append([R("Представлено: ", italic=True), R("; ".join(f.documents_found))])
    if f.documents_missing:
        out.append([R("Нет документов: ", italic=True), R("; ".join(f.documents_missing))])
    return out or ["—"]


def _assessment_report(d: _Doc, r: Report, base: int = 1) -> None:
    a = r.assessment
    assert a is not None
    mandatory = _mandatory_severities(r)
    d.title("ЗАКЛЮЧЕНИЕ ОБ ОЦЕНКЕ СООТВЕТСТВИЯ", r.act_citation)
    _title_block(d, r, _assessed_by_rows(r), annex=6 + bool(r.calculations))

    d.heading("1. Заключение", base)
    p = d.para(R(stated_conclusion(r)[1].upper(), bold=True, size=16), space_after=6)  # the heading says «Заключение»
    p.paragraph_format.keep_with_next = True
    o = a.overall
    d.para(f"Обязательные критерии: выполнено {o.mandatory_met} из {o.mandatory_applicable} применимых "
           f"({_share(o)} %)" + (f", отклонения приняты: {o.mandatory_waived}" if o.mandatory_waived else "")
           + (f"; рекомендуемые: выполнено {o.recommended_met} из {o.recommended_total}" if o.recommended_total else "")
           + ".")
    d.bullets(_count_lines(r))

    d.heading("2. Оценка по блокам", base)
    blocks = list(a.blocks) + [a.overall]
    d.table(["Блок", "Обязательные: выполнено из применимых", "Доля, %", "Отклонения приняты",
             "Рекомендуемые: выполнено из всех"], [5.3, 3.6, 2.2, 2.6, 3.8],
            ([s.title, f"{s.mandatory_met} из {s.mandatory_applicable}", _share(s), str(s.mandatory_waived),
              f"{s.recommended_met} из {s.recommended_total}"] for s in blocks),
            bold_rows={len(blocks) - 1})

    d.heading("3. Несоответствия, замечания и неоценённые критерии", base)
    by_id = {f.requirement_id: f for f in r.findings}
    lists = (("Несоответствия обязательным критериям", a.gaps, "Несоответствий обязательным критериям нет."),
             ("Не оценены (обязательные)", a.pending, "Все обязательные критерии оценены."),
             ("Замечания", a.remarks, "Замечаний нет."),
             ("Не оценены (рекомендуемые)", a.not_judged_recommended, None))
    for title, items, empty in lists:
        if not items and empty is None:
            continue
        d.heading(title, base + 1)
        if not items:
            d.para(empty)
            continue
        entries: list[Para] = []
        for text in items:
            entry: list[R] = [R(text)]
            rid = text.split(" ", 1)[0]
            f = by_id.get(rid)
            todo = _todo(f) if f is not None else ""
            if todo and todo not in text:
                own_prefix = todo.startswith(("Что проверить", "До окончания"))
                sep = "" if text.rstrip().endswith(".") else "."
                entry.append(R(sep + (" " if own_prefix else " Что сделать: "), italic=True))
                entry.append(R(todo))
            entries.append(entry)
        d.bullets(entries)
    _contradictions(d, r, base + 1)

    d.heading("4. Принятые отклонения", base)
    waived = [f for f in r.findings if f.waiver]
    if waived:
        rows = []
        for f in waived:
            w = f.waiver
            state = ("действует" if w.active else
                     (f"истекло {day(w.expires)}" if f.status == "not_met" else "не применено"))
            rows.append([R(f.requirement_id, bold=True), f.title, w.justification, day_long(w.expires),
                         w.approved_by or "—", state])
        d.table(["ID", "Критерий", "Обоснование", "Действует до", "Утвердил", "Состояние"],
                [2.4, 3.0, 4.9, 2.6, 2.3, 2.3], rows)
    else:
        d.para("Отклонений не принято.")

    d.new_section(landscape=True)
    d.heading("5. Оценка по критериям", base)
    for block, items in findings_by_block(r.findings, documents=True).items():
        d.heading(block, base + 1)
        d.table(["ID", "Критерий", "Вердикт", "Обоснование, оценка эксперта и основание", "Что сделать"],
                [2.4, 5.0, 2.6, 9.9, 6.3],
                ([R(f.requirement_id, bold=True),
                  [f.title, R(_severity(f, mandatory), italic=True, size=SMALL_PT), R(f.clause, size=SMALL_PT)],
                  _status_paras(f), _criterion_reason(f), _todo(f) or "—"] for f in items), keep_rows=True)

    d.new_section(landscape=False)
    n = _annexes(d, r, base, 6)
    d.heading(f"{n}. Метод оценки", base)
    d.para(a.method, align="justify")
    d.para(f"Каталог критериев: версия {r.catalog_version}, контрольная сумма {r.catalog_hash[:12]}.")
    d.heading(f"{n + 1}. Примечания", base)
    _notes_section(d, r)
    _evaluation_id(d, r)
    _assessment_signatures(d, r)


BLANK_NAME = "_______________________"
BLANK_DATE = "«___» ____________ 20___ г."
ASSESSOR_ROLE = "Эксперт, проводивший оценку"
HEAD_ROLE = "Руководитель организации, проводившей оценку"


def _assessed_by_rows(r: Report) -> list[tuple[str, Cell]]:
    """The title block rows of a conclusion: who assessed, for which organisation, and the application the judgements
    file names (management company, INN, site, the version's hash) — as the file binds the judgements."""
    a = r.assessed_by
    if a is None:
        return [(ASSESSOR_ROLE, r.judgements_by or "—")]
    assessor = ", ".join(filter(None, [a.assessor, _in_sentence(a.assessor_position)])) or "—"
    rows: list[tuple[str, Cell]] = [(ASSESSOR_ROLE, assessor),
                                    ("Организация, проводившая оценку", a.organisation or "—")]
    if a.input_hash:
        company = r.applicant.name if a.inn and a.inn == r.applicant.inn else None
        who = (f"{r.applicant.role.lower()} {company} (ИНН {a.inn})" if company else
               f"ИНН {a.inn}" if a.inn else "ИНН не указан")
        version = f", версия {a.version} в сервисе" if a.version else ""
        rows.append(("Оценки вынесены по заявке", f"{who}; площадка «{a.site_name}»; редакция заявки с хешем "
                                                   f"{a.input_hash[:12]}{version}"))
    else:
        rows.append(("Оценки вынесены по заявке", "в файле оценок не указано, по какой заявке они вынесены"))
    return rows


def _in_sentence(position: str | None) -> str | None:
    """«Ведущий эксперт» inside a sentence: «ведущий эксперт» (an abbreviation such as «ООО» stays as it is)."""
    if position and len(position) > 1 and position[1].islower():
        return position[0].lower() + position[1:]
    return position


def _signature_table(d: _Doc, signers: Sequence[tuple[Sequence[Para], str | None, str | None]]) -> None:
    """Signature lines: per signer the role (with the position, or a line for it), the signature line and the name
    (or a line for it), the captions under them; the date line last. Rows are not split across pages, and the
    paragraph Word needs after the table is made tiny, so no empty page follows the signatures."""
    rows: list[list[Cell]] = []
    for role, position, name in signers:
        rows.append([list(role) + [position or BLANK_NAME], "_______________", f"/ {name or BLANK_NAME} /"])
        rows.append([R("(должность)", italic=True, size=SMALL_PT), R("(подпись)", italic=True, size=SMALL_PT),
                     R("(фамилия, инициалы)", italic=True, size=SMALL_PT)])
    rows.append([R("Дата", bold=True), BLANK_DATE, ""])
    table = d.table(None, [5.5, 5.5, 6.5], rows, grid=False, keep_rows=True)
    for row in table._tbl.tr_lst[:-1]:  # the block stays on one page
        for p in row.iter(qn("w:p")):
            p.get_or_add_pPr().keepNext_val = True
    _tiny_last_paragraph(d)


def _tiny_last_paragraph(d: _Doc) -> None:
    last = d.doc.paragraphs[-1]
    last.paragraph_format.space_after = Pt(0)
    last.paragraph_format.space_before = Pt(0)
    last.paragraph_format.line_spacing = Pt(1)
    _add_run(last._p, "", size=1)


def _assessment_signatures(d: _Doc, r: Report) -> None:
    """The conclusion is signed by the assessor and by the head of the assessing organisation, named (with their
    positions) from the judgements file; lines to fill in where the file does not name them."""
    a = r.assessed_by
    d.heading("Подписи", 2)
    d.para("Заключение подписывают эксперт, проводивший оценку, — он отвечает за оценки критериев, которые оценивает "
           "человек, и за их основания, — и руководитель организации, проводившей оценку, — он утверждает заключение "
           "от имени организации.", size=SMALL_PT, align="justify")
    org = [R(a.organisation, italic=True, size=SMALL_PT)] if a and a.organisation else []
    _signature_table(d, [([R(ASSESSOR_ROLE, bold=True)], a.assessor_position if a else None, a.assessor if a else None),
                         ([R(HEAD_ROLE, bold=True)] + org, a.head_position if a else None, a.head if a else None)])


def outgoing_text(issuer: "Issuer | None") -> str:
    """«Исх. № УК-17 от 05.12.2026», with lines to fill in by hand for what is not given."""
    prefix = (issuer.outgoing_prefix or "") if issuer else ""
    number = issuer.outgoing_number if issuer and issuer.outgoing_number else None
    when = issuer.outgoing_date if issuer else None
    return (f"Исх. № {prefix}{number or '____________'} от " + (day(when) if when else BLANK_DATE))


def _letterhead(d: _Doc, issuer: "Issuer | None", width_cm: float) -> None:
    """The issuing organisation's name, address and logo (if given), then the outgoing number and date fields."""
    if issuer is not None and (issuer.name or issuer.address or issuer.logo):
        lines: list[Para] = ([R(issuer.name, bold=True)] if issuer.name else []) + \
            ([R(issuer.address, size=TABLE_PT)] if issuer.address else [])
        if issuer.logo:
            table = d.table(None, [3.0, width_cm - 3.0], [["", lines or ""]], grid=False)
            _logo(table.cell(0, 0).paragraphs[0], issuer.logo)
        else:
            for line in lines:
                d.para(line, align="center", space_after=0)
    d.para(outgoing_text(issuer), space_after=6)


def _logo(paragraph, data: bytes) -> None:
    """The logo, at most 2.5 cm wide or high."""
    from docx.image.image import Image
    image = Image.from_blob(data)
    side = Cm(2.5)
    if image.px_height > image.px_width:
        paragraph.add_run().add_picture(io.BytesIO(data), height=side)
    else:
        paragraph.add_run().add_picture(io.BytesIO(data), width=side)


def _prepared_by(d: _Doc, issuer: "Issuer | None") -> None:
    """«Подготовил»: the position and name of who prepared the document (from the organisation's details), the
    signature and date lines."""
    d.heading("Подписи", 2)
    _signature_table(d, [([R("Подготовил:", bold=True)], issuer.signer_position if issuer else None,
                          issuer.signer_name if issuer else None)])


def signatures(d: _Doc, roles: Sequence[str] = ("Эксперт", "Руководитель")) -> None:
    d.heading("Подписи", 2)
    rows: list[list[Cell]] = []
    for role in roles:
        rows.append([R(role, bold=True), "_______________________", "/ _______________________ /"])
        rows.append(["", R("(подпись)", italic=True, size=SMALL_PT), R("(фамилия, инициалы)", italic=True, size=SMALL_PT)])
    rows.append([R("Дата", bold=True), "«____» ______________ 20___ г.", ""])
    d.table(None, [4.0, 6.0, 7.5], rows, grid=False)


# --- the eligibility matrix ----------------------------------------------------------------------------------------
def _matrix_section(d: _Doc, e: "Eligibility") -> None:
    d.title("МАТРИЦА ПРИМЕНИМОСТИ РЕЖИМОВ", e.site_name)
    d.para(f"Дата оценки: {day_long(e.as_of)}", align="center")
    d.table(["Режим", "Акт", "Итог", "Критичных несоответствий", "Нет данных", "Экспертная оценка",
             "Нет документов", "Главные разрывы"], [3.6, 3.8, 3.4, 3.0, 1.8, 2.4, 2.4, 5.8],  # a landscape page
            ([[R(row.regime_title, bold=True)] + ([R("► ближайший статус", bold=True)] if row.closest else []),
              row.act_citation, row.verdict_text, str(row.blocking_not_met), str(row.insufficient_data),
              str(row.manual_review), str(row.documents_missing), [f"• {g}" for g in row.top_gaps] or "—"]
             for row in e.rows))
    d.para("«Критичных несоответствий» — невыполненных критичных требований; «Нет данных» — требований без данных; "
           "«Экспертная оценка» — требований для экспертной оценки; «Нет документов» — недостающих документов. "
           "«► ближайший статус» — режим, к которому площадка ближе всего. Ниже — полные отчёты по каждому режиму в "
           "том же порядке.", size=SMALL_PT, italic=True)
    if e.skipped:
        d.heading("Не оценивались", 2)
        d.bullets(f"{regime_name(s.regime)} — {s.reason}." for s in e.skipped)


def report_docx(reports: list[Report], matrix: "Eligibility | None" = None, issuer: "Issuer | None" = None) -> bytes:
    """One .docx: the matrix first (if given), then each report — a gap report, or the assessment conclusion for a
    regime with an assessment — each on a new page. The first page has the issuing organisation's letterhead and the
    outgoing number fields (`issuer`; lines to fill in where not given); the document ends with the signature of who
    prepared it (a conclusion alone ends with its assessor's and head's signatures)."""
    reports = list(reports)
    if not reports and matrix is not None:
        reports = list(matrix.reports)
    if not reports and matrix is None:
        raise ValueError("нет отчётов для документа Word")
    first = reports[0] if reports else None
    site = first.applicant.site_name if first else matrix.site_name  # type: ignore[union-attr]
    if len(reports) == 1 and matrix is None:
        kind = "Заключение об оценке соответствия" if first.assessment else "Отчёт о соответствии"
        title = f"{kind}: {site}"
    else:
        title = f"Отчёты о соответствии: {site}"
    created = first.generated_at if first else None
    d = _Doc(title, subject="; ".join(f"{r.regime_title} — {r.act_citation}" for r in reports),
             keywords=", ".join(regime_name(r.regime) for r in reports) + ", соответствие, отчёт", created=created)
    if matrix is not None:
        _page_setup(d.doc.sections[0], landscape=True)
    _letterhead(d, issuer, WIDE_WIDTH_CM if matrix is not None else TEXT_WIDTH_CM)
    if matrix is not None:
        _matrix_section(d, matrix)
    for i, r in enumerate(reports):
        if i or matrix is not None:
            d.new_section(landscape=False)
        if r.assessment is not None:
            _assessment_report(d, r)
        else:
            _gap_report(d, r)
    if matrix is not None or not reports or reports[-1].assessment is None:
        _prepared_by(d, issuer)
    return d.save()


# --- the expert review of a catalog --------------------------------------------------------------------------------
ITEM_RU = {"participant": "участник кластера", "contract": "договор между участниками"}
FIELD_RU = {"party_a": "сторона 1", "party_b": "сторона 2", "type": "вид договора", "active": "действует на дату оценки",
            "kind": "вид участника", "products": "продукция кластера"}
CODE_RU = {
    "import_substitution_project": "совместный проект по производству импортозамещающей продукции",
    "cluster_products_supply": "поставка продукции кластера",
    "production_works_services": "работы (услуги) производственного характера",
    "special_investment_contract": "участие в специальном инвестиционном контракте",
    "industrial": "промышленность", "education": "образование", "science": "наука", "other": "иное",
    "final": "конечная", "intermediate": "промежуточная", "none": "нет", "unknown": "не указана",
}
CHECK_OP_RU = dict(OP_RU, **{"==": "должно быть", "!=": "не должно быть", "in": "одно из:"})


def _code(v: Any) -> str:
    if isinstance(v, bool):
        return "да" if v else "нет"
    return CODE_RU.get(str(v), str(v))


def _plural_adjective(name: str) -> str:
    """'создаваемый' -> 'создаваемых', 'действующий' -> 'действующих'."""
    for end, repl in (("ый", "ых"), ("ий", "их"), ("ой", "ых")):
        if name.endswith(end):
            return name[: -len(end)] + repl
    return f"«{name}»"


def _applies_text(catalog: Catalog, applies: dict[str, list[Any]]) -> str:
    d = catalog.decree
    parts = []
    for attr, allowed in applies.items():
        if attr == "category":
            parts.append("для " + " и ".join(_plural_adjective(d.categories.get(v, v)) for v in allowed))
        elif attr == "subtype":
            parts.append("для подтипа " + " или ".join(f"«{d.subtypes.get(v, v)}»" for v in allowed))
        elif attr == "has_residents":
            parts.append("если есть резиденты (без планируемых)" if True in allowed else "если резидентов нет")
        elif attr == "has_partnerships":
            parts.append("если в заявке есть партнёрства с вузами или научными организациями" if True in allowed
                         else "если партнёрств с вузами и научными организациями нет")
        elif attr.startswith("sr_"):
            sr = next((s for s in d.special_regimes if f"sr_{s.code}" == attr), None)
            title = sr.title if sr else attr
            parts.append(f"при действии особого режима «{title}»" if True in allowed else f"вне особого режима «{title}»")
        else:
            parts.append(f"если {attr}: " + ", ".join(_code(v) for v in allowed))
    return "; ".join(parts)


def _param_values_text(catalog: Catalog, name: str, unit: str | None = None) -> str:
    """'8 га (с 04.08.2015)'; several dated values joined; a repeal shown as such; A/M/U marked."""
    param = catalog.rulebook.parameters.get(name)
    if param is None:
        return f"(параметр {name} не найден)"
    unit = param.unit or unit
    parts = []
    for v in sorted(param.values, key=lambda v: v.start):
        mark = ", требует сверки" if v.confidence in UNCONFIRMED else ""
        if v.value is None and v.confidence == "U":  # a norm known to exist, its value not (e.g. a notice period)
            parts.append(f"значение неизвестно (с {day(v.start)}; U{mark})")
        elif v.value is None:
            parts.append(f"норматив отменён с {day(v.start)}")
        else:
            parts.append(f"{_value_text(v.value, unit)} (с {day(v.start)}; {v.confidence}{mark})")
    return "; ".join(parts)


def _value_text(v: Any, unit: str | None) -> str:
    if isinstance(v, list):
        return ", ".join(_code(x) for x in v)
    if isinstance(v, bool):
        return "да" if v else "нет"
    if isinstance(v, (int, float)) and unit == "pcs":
        return num(v)
    return fmt_value(v, unit)


def _fact_label(name: str) -> str:
    from .facts import REGISTRY
    spec = REGISTRY.get(name)
    return spec.label if spec else name


def check_text(catalog: Catalog, check: Check) -> str:
    """«Суммарная площадь земельных участков — не менее 8 га (с 04.08.2015; S)»."""
    from .facts import REGISTRY
    spec = REGISTRY.get(check.fact)
    label = spec.label if spec else check.fact
    unit = spec.unit if spec else None
    if check.param:
        norm = _param_values_text(catalog, check.param, unit)
        param = catalog.rulebook.parameters.get(check.param)
        values = [v.value for v in param.values] if param else []
        if values and all(isinstance(v, bool) for v in values if v is not None) and check.op in ("==", "!="):
            return f"{label}: {CHECK_OP_RU[check.op]} «{norm}»"
        if len(values) == 1 and isinstance(values[0], (int, float)) and values[0] == 0:  # «0 км, больше не допускается»
            v = param.values[0]
            mark = ", требует сверки" if v.confidence in UNCONFIRMED else ""
            return f"{label} — {norm_phrase(check.op, 0, param.unit or unit)} (с {day(v.start)}; {v.confidence}{mark})"
        return f"{label} — {CHECK_OP_RU[check.op]} {norm}"
    if isinstance(check.value, bool):
        wanted = check.value if check.op == "==" else not check.value
        return f"{label}: должно быть «{'да' if wanted else 'нет'}»"
    return f"{label} — {CHECK_OP_RU[check.op]} {_value_text(check.value, unit)}"


def _substitute(catalog: Catalog, text: str, rule: Rule | None = None, on: date | None = None) -> str:
    """A report text as the report prints it on a date (today by default): parameters by their value in force,
    facts by their label in brackets (the value is the site's)."""
    on = on or date.today()

    def param(m: re.Match) -> str:
        p = catalog.rulebook.parameters.get(m.group(1))
        pv = p.at(on) if p else None
        return "(норматив не действует)" if pv is None else _value_text(pv.value, p.unit)

    text = re.sub(r"\{param:(\w+)\}", param, text)
    text = re.sub(r"\{fact:(\w+)\}", lambda m: f"[{_fact_label(m.group(1))}]", text)
    if rule is not None and rule.deadline_years_param:
        text = text.replace("{deadline}", "[дата оценки + " + param(re.match(r"(\w+)", rule.deadline_years_param)) + "]")
    return " ".join(text.split())


def _each_text(each) -> list[str]:
    from .facts import COLLECTION_SOURCES
    item = ITEM_RU.get(each.items, each.items)
    related = ITEM_RU.get(each.related, each.related)
    item_src = field_label(COLLECTION_SOURCES.get(each.items, each.items))
    rel_src = field_label(COLLECTION_SOURCES.get(each.related, each.related))
    match = " или ".join(FIELD_RU.get(m, m) for m in each.match)
    lines = [f"Проверка каждого элемента: у каждого элемента «{item}» ({item_src}) должна найтись хотя бы одна "
             f"запись «{related}» ({rel_src}), в которой {match} — этот элемент."]
    if each.items_where:
        lines.append("Проверяются только элементы, у которых " + "; ".join(
            f"{FIELD_RU.get(k, k)} — {', '.join(_code(v) for v in vals)}" for k, vals in each.items_where.items()) + ".")
    if each.related_where:
        lines.append("Учитываются только записи, у которых " + "; ".join(
            f"{FIELD_RU.get(k, k)} — {', '.join(_code(v) for v in vals)}" for k, vals in each.related_where.items()) + ".")
    lines.append(f"Каждый элемент, не выполняющий условие, называется в отчёте поимённо: «{each.label}».")
    return lines


def _documents_text(catalog: Catalog, need) -> list[str]:
    from .documents import kind_title
    out = []
    if need.all_of:
        out.append("Документы (нужны все): " + "; ".join(f"«{kind_title(catalog, k)}»" for k in need.all_of) + ".")
    if need.any_of:
        out.append("Документы (достаточно одного из): " + "; ".join(f"«{kind_title(catalog, k)}»" for k in need.any_of) + ".")
    return out


def _list_line(catalog: Catalog, fact: str) -> str | None:
    """The catalog list a fact is counted against (e.g. the Order 3221 types), for the expert to check too."""
    from .facts import REGISTRY
    spec = REGISTRY.get(fact)
    lst = catalog.lists.get(spec.needs_list) if spec is not None and spec.needs_list else None
    if lst is None:
        return None
    return (f"Перечень для подсчёта: «{lst.title}» ({lst.act}; достоверность {lst.confidence}; "
            f"{plural(len(lst.items), 'позиция', 'позиции', 'позиций')})")


def _variant_lines(catalog: Catalog, variant: Variant) -> list[str]:
    lines = [check_text(catalog, c) for c in variant.checks]
    lines += list(dict.fromkeys(x for x in (_list_line(catalog, c.fact) for c in variant.checks) if x))
    if variant.documents:
        lines += _documents_text(catalog, variant.documents)
    if variant.each:
        lines += _each_text(variant.each)
    if variant.norm_text:
        lines.append("Норматив в отчёте: " + _substitute(catalog, variant.norm_text))
    return lines


def what_it_checks(catalog: Catalog, req: Requirement) -> list[str]:
    """What the program checks for a requirement, in plain Russian, generated from its rule."""
    rule = catalog.rules.get(req.id)
    if rule is None:
        return ["Правила для требования нет: требование не проверяется."]
    out: list[str] = []
    if req.kind == "manual":
        out.append("Экспертная оценка: программа не выносит вердикт сама, а показывает эксперту факты площадки.")
    elif req.kind == "informational":
        out.append("Для сведения: вердикт не выносится, в отчёте выводится пояснение.")
    elif req.kind == "document":
        out.append("Проверяется наличие документов, действующих на дату оценки (выданы не позже её и не истекли).")
    variants = rule.variants
    several = len(variants) > 1
    if rule.combine == "any" and several:
        out.append("Достаточно выполнить любое из условий (альтернативы):")
    for i, v in enumerate(variants):
        lines = _variant_lines(catalog, v)
        when = _applies_text(catalog, v.applies)
        if several or when:
            name = f"«{v.label}»" if v.label else f"вариант {i + 1}"
            head = (f"{name}" + (f" ({when})" if when else "")) if rule.combine == "any" and several else \
                (when[:1].upper() + when[1:] if when else name)
            out.append(head + (":" if lines else ": требование применяется."))
            out += [f"— {x}" for x in lines]
        else:
            out += lines
    if rule.what_to_check:
        out.append("Что проверить эксперту: " + " ".join(rule.what_to_check.split()))
    if rule.show:
        out.append("Эксперту показываются факты: " + "; ".join(_fact_label(n) for n in rule.show) + ".")
    if rule.message:
        out.append("Текст в отчёте: " + _substitute(catalog, rule.message, rule))
    if any(v.applies for v in variants):
        out.append("Если площадка не подходит ни под одно из условий применимости — «не применяется».")
    return out


def norms_text(catalog: Catalog, req: Requirement) -> list[Para]:
    """Every norm value the requirement depends on: dates, confidence, reference, source."""
    rule = catalog.rules.get(req.id)
    out: list[Para] = []
    for name in cited_params(rule) if rule else []:
        param = catalog.rulebook.parameters.get(name)
        if param is None:
            continue
        out.append(R(param.title, bold=True))
        unit = param.unit
        for v in sorted(param.values, key=lambda v: v.start):
            shown = _value_text(v.value, unit) if v.value is not None else \
                "значение не установлено" if v.confidence == "U" else "отменён (null)"
            runs = [R(f"с {day(v.start)}: {shown}; достоверность {v.confidence} ({CONFIDENCE_RU[v.confidence]})")]
            if v.confidence in UNCONFIRMED:
                runs.append(R(" — требует сверки", bold=True))
            runs.append(R(f"; ссылка: {v.reference}"))
            if v.source:
                runs.append(R(f"; источник: {v.source}"))
            if v.note:
                runs.append(R(f". Примечание: {' '.join(v.note.split())}", italic=True))
            out.append(runs)
    fixed = [c for v in (rule.variants if rule else []) for c in v.checks if c.param is None]
    if fixed:
        out.append(R("Значения, заданные в самом правиле:", bold=True))
        out += [f"{_fact_label(c.fact)}: {CHECK_OP_RU[c.op]} {_value_text(c.value, None)}" for c in fixed]
    runs = [R("Формулировка требования: ", bold=True),
            R(f"достоверность {req.confidence} ({CONFIDENCE_RU[req.confidence]})")]
    if req.confidence in UNCONFIRMED:
        runs.append(R(" — требует сверки", bold=True))
    runs.append(R(f"; источник: {req.source}"))
    out.append(runs)
    if req.note:
        out.append(R("Примечание: " + " ".join(req.note.split()), italic=True))
    return out


def special_text(catalog: Catalog, req: Requirement) -> list[str]:
    out = []
    for sr in catalog.decree.special_regimes:
        if req.id in sr.affects:
            regions = ", ".join(r.name for r in sr.regions)
            out.append(f"«{sr.title}» ({regions}; с {day(sr.start)} до {day(sr.until)}; достоверность {sr.confidence}; "
                       f"{sr.reference}): пока режим действует, требование оценивает эксперт, а общий норматив "
                       "показывается для сравнения.")
    return out


def cases_for(catalog: Catalog, req_id: str) -> list[tuple[str, str]]:
    """(case name, expected status in Russian) for the test cases written for a requirement — not the cases of other
    requirements that pin its status on the side (compliance.cases.case_targets)."""
    from .cases import case_targets
    if catalog.cases is None:
        return []
    out = []
    for c in catalog.cases.cases:
        if req_id in c.expect and req_id in case_targets(c):
            status = STATUS_RU.get(c.expect[req_id], c.expect[req_id])
            out.append((c.name, status + (f" (дата оценки {day(c.as_of)})" if c.as_of else "")))
    return out


def _case_rows(catalog: Catalog, req_id: str) -> list[list[Cell]]:
    """A row per own test case: the example's input in words, what the program finds, the expected status and why;
    the expert confirms each case in its own row."""
    from .case_text import case_story
    from .cases import case_targets
    own = [c for c in (catalog.cases.cases if catalog.cases else []) if req_id in c.expect and req_id in case_targets(c)]
    if not own:
        return [[R("Тестовые примеры", bold=True), [R("тестовых примеров нет", italic=True)], "", ""]]
    rows: list[list[Cell]] = []
    for i, case in enumerate(own, 1):
        s = case_story(catalog, case, req_id)
        paras: list[Para] = [R(f"«{s.name}»", italic=True),
                             [R("Данные примера: ", bold=True), R(f"за основу взята заявка: {s.sample}; "
                              + ("изменено: " + "; ".join(s.changes) if s.changes else "без изменений")
                              + (f"; оценка на {day(case.as_of)}" if case.as_of else ""))]]
        if s.found:
            paras.append([R("Программа находит: ", bold=True), R("; ".join(s.found))])
        paras.append([R("Ожидается: ", bold=True), R(s.expected)])
        if s.why:
            paras.append([R("Почему: ", bold=True), R(s.why)])
        if s.actual:
            paras.append([R("Сейчас программа выдаёт: ", bold=True), R(f"{s.actual} — пример не проходит", italic=True)])
        rows.append([R(f"Тестовый пример {i}", bold=True), paras, "", ""])
    return rows


def _severity_text(catalog: Catalog, rule: Rule | None) -> str:
    if rule is None:
        return "—"
    a = catalog.decree.assessment
    if a is not None:
        role = ("обязательный критерий" if rule.severity in a.mandatory else
                "рекомендуемый критерий" if rule.severity in a.recommended else "критерий")
        return f"{role} ({SEVERITY_RU.get(rule.severity, rule.severity)})"
    return SEVERITY_RU.get(rule.severity, rule.severity)


REVIEW_HEADERS = ["Элемент", "Содержание каталога", "Подтверждение эксперта", "Комментарий"]
REVIEW_WIDTHS = [3.0, 8.3, 3.0, 3.2]


def _requirement_section(d: _Doc, catalog: Catalog, req: Requirement) -> None:
    rule = catalog.rules.get(req.id)
    d.heading(f"{req.id}. {req.title}", 2)
    rows: list[list[Cell]] = [
        [R("Пункт акта", bold=True), req.clause, "", ""],
        [R("Наша формулировка", bold=True), req.text, "", ""],
        [R("Вид проверки", bold=True), KIND_RU.get(req.kind, req.kind), "", ""],
        [R("Критичность", bold=True), _severity_text(catalog, rule), "", ""],
        [R("Что проверяет программа", bold=True), what_it_checks(catalog, req), "", ""],
        [R("Нормативы, ссылки, источники, достоверность", bold=True), norms_text(catalog, req), "", ""],
    ]
    special = special_text(catalog, req)
    if special:
        rows.append([R("Особые режимы", bold=True), special, "", ""])
    if rule is not None and rule.remedy:
        rows.append([R("Что сделать (текст для заявителя)", bold=True), " ".join(rule.remedy.split()), "", ""])
    rows += _case_rows(catalog, req.id)
    d.table(REVIEW_HEADERS, REVIEW_WIDTHS, rows, shade_first_col=True)


def _worst_confidence_text(catalog: Catalog, req: Requirement) -> str:
    """The least certain of the wording and the norm values it depends on: 'S', 'M (нормативы), требует сверки'."""
    order = "TSAMU"
    rule = catalog.rules.get(req.id)
    params = catalog.rulebook.parameters
    codes = [v.confidence for name in (cited_params(rule) if rule else []) if name in params for v in params[name].values]
    worst = max([req.confidence] + codes, key=order.index)
    text = worst + (" (нормативы)" if worst != req.confidence and order.index(worst) > order.index(req.confidence) else "")
    return text + (", требует сверки" if worst in UNCONFIRMED else "")


def _needs_confirmation(catalog: Catalog, req: Requirement) -> bool:
    """The wording or any norm value the requirement depends on is A, M or U."""
    if req.confidence in UNCONFIRMED:
        return True
    rule = catalog.rules.get(req.id)
    params = catalog.rulebook.parameters
    return rule is not None and any(v.confidence in UNCONFIRMED for name in cited_params(rule) if name in params
                                    for v in params[name].values)


def catalog_docx(catalog: Catalog) -> bytes:
    """The expert review document of one regime's catalog."""
    dec = catalog.decree
    today = date.today()
    d = _Doc(f"Каталог требований на экспертизу: {dec.title}", subject=f"{dec.title} — {dec.act.citation}",
             keywords=f"{regime_name(catalog.regime)}, каталог требований, экспертиза")
    d.title("КАТАЛОГ ТРЕБОВАНИЙ ДЛЯ ЭКСПЕРТНОЙ СВЕРКИ", dec.title)
    n_reqs = len(dec.requirements)
    n_cases = len(catalog.cases.cases) if catalog.cases else 0
    unconfirmed = [r for r in dec.requirements if _needs_confirmation(catalog, r)]
    d.kv_table([
        ("Режим", dec.title),
        ("Акт", dec.act.citation),
        ("Название акта", dec.act.title),
        ("Правовое основание", dec.act.legal_basis or "—"),
        ("Каталог", f"версия {dec.catalog_version}, контрольная сумма {catalog.content_hash[:12]}"),
        ("Состав", f"{plural(n_reqs, 'требование', 'требования', 'требований')}, "
                   f"{plural(n_cases, 'тестовый пример', 'тестовых примера', 'тестовых примеров')}; "
                   f"требуют сверки: {len(unconfirmed)}"),
        ("Дата документа", day_long(today)),
    ])

    d.heading("Пояснение для эксперта", 1)
    for text in (
        "Программа проверяет заявку площадки по каталогу требований: формулировки и пункты акта, числовые нормативы "
        "с датами вступления в силу, правила проверки и тестовые примеры. Каталог составлен без доступа к "
        "официальному тексту части актов, поэтому его нужно сверить.",
        "Для каждого требования ниже приведены: пункт акта, наша формулировка, вид проверки, что именно проверяет "
        "программа (сформировано из правила), нормативы со ссылками, источниками и степенью достоверности, "
        "особые режимы и тестовые примеры, которые закрепляют вывод программы.",
        "В графе «Подтверждение эксперта» укажите «верно», «неверно» или «уточнить»; в графе «Комментарий» — "
        "правильное значение, дату вступления в силу и пункт акта. Изменение норматива вносится новым датированным "
        "значением, старое значение не удаляется.",
        "Степень достоверности: T — текст акта; S — вторичный источник; A — по аналогии; M — по памяти, не "
        "подтверждено; U — значение неизвестно (требование оценивает эксперт). Значения A, M и U отмечены "
        "«требует сверки» — их следует проверить в первую очередь.",
    ):
        d.para(text, align="justify")

    if dec.amendments:
        d.heading("Редакции акта", 1)
        d.table(["Акт", "Опубликован", "Вступил в силу", "Содержание", "Достоверность"], [3.4, 2.6, 2.2, 6.6, 2.7],
                ([a.act, day(a.published), day(a.effective), " ".join(a.summary.split()), a.confidence]
                 for a in dec.amendments))
    if dec.special_regimes:
        d.heading("Особые режимы", 1)
        d.bullets(f"«{s.title}»: {', '.join(r.name for r in s.regions)}; с {day(s.start)} до {day(s.until)}; "
                  f"достоверность {s.confidence}; {s.reference}; затрагивает: {', '.join(s.affects)}"
                  for s in dec.special_regimes)

    d.heading("Перечень требований", 1)
    # widths: no word breaks inside (a bold 10 pt «Подтверждение» takes 2,5 cm), an ID stays on one line; the kind
    # of check goes under the title in small type (a column of its own broke «автоматически» in two)
    d.table(["ID", "Требование, вид проверки", "Достоверность", "Примеров", "Подтверждение эксперта", "Комментарий"],
            [2.4, 4.9, 2.6, 1.9, 2.9, 2.8],
            ([R(r.id, bold=True), [r.title, R(KIND_RU.get(r.kind, r.kind), italic=True, size=SMALL_PT)],
              _worst_confidence_text(catalog, r),
              str(len(cases_for(catalog, r.id))), "", ""] for r in dec.requirements))

    groups: OrderedDict[str, list[Requirement]] = OrderedDict()
    for r in dec.requirements:
        groups.setdefault(r.block, []).append(r)
    for block, reqs in groups.items():
        d.heading("Требования: " + dec.blocks.get(block, block), 1)
        for r in reqs:
            _requirement_section(d, catalog, r)
    signatures(d, ("Эксперт",))
    return d.save()
