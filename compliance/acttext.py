"""The text of a legal act as a user saves it from a legal reference system or the publication portal (.docx, .rtf,
.html, .txt, .pdf): read with well-kept parsers, normalised (soft hyphens, non-breaking spaces, words broken across
lines, editorial notes, footnotes) and split into parts (the decree itself and its annexes: «Требования к …»,
«Правила …», «Изменения, которые вносятся в …») and a tree of numbered points and subpoints.

Numbering styles: «5.», «5.1.», «Пункт 5.» (points), «1)» and «а)» (subpoints); «I. Общие положения» (sections, the
numbering of points goes on across them). The edition is the latest date of the editorial notes
«(в ред. постановления … от DD.MM.YYYY № …)»; an amendment act's date of entry into force comes from its decree
(«вступает в силу с 1 марта 2027 г.»).
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

SUFFIXES = (".txt", ".docx", ".rtf", ".html", ".htm", ".pdf")
MONTHS = {m: i + 1 for i, m in enumerate(
    ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября",
     "декабря"])}
DATE_RE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})|(\d{1,2})\s+(" + "|".join(MONTHS) + r")\s+(\d{4})")
# editorial notes: «(в ред. постановления … от 07.07.2022 № 1216)», «(п. 5 в ред. …)», «(введён постановлением …)»
NOTE_RE = re.compile(r"\((?:[^()]*?\s)?(?:в\s+ред\.|в\s+редакции|введен[аоы]?|утратил[аи]?\s+силу)[^()]*"
                     r"(?:\([^()]*\)[^()]*)*\)", re.IGNORECASE)
FOOTNOTE_MARK = re.compile(r"<\d{1,2}>|[¹²³⁴⁵⁶⁷⁸⁹]+|\[\d{1,2}\](?!\S*\])")
POINT_RE = re.compile(r"^(?:(?:пункт|п\.)\s*)?(\d{1,3}(?:\.\d{1,3})*)\.(?!\d)\s*(?=\S)", re.IGNORECASE)
SUB_NUM_RE = re.compile(r"^(\d{1,3})\)\s*(?=\S)")
SUB_LETTER_RE = re.compile(r"^([а-яё])\)\s*(?=\S)")
SECTION_RE = re.compile(r"^([IVXLC]{1,6})\.\s+(\S.*)$")
PART_WORDS = ("ТРЕБОВАНИЯ", "ПРАВИЛА", "ИЗМЕНЕНИЯ", "ПЕРЕЧЕНЬ", "ПОЛОЖЕНИЕ", "ПОРЯДОК", "МЕТОДИКА")
ANNEX_RE = re.compile(r"^(?:УТВЕРЖДЕН[ЫОА]?\b|Утвержден[ыоа]?\s|Приложение(?:\s+(?:N|№)?\s*\d+)?\b)")


class ActTextError(Exception):
    """The file cannot be read as the text of an act; message in Russian."""


@dataclass
class Point:
    part: str  # the part's title: «Постановление», «Требования к …»
    number: str  # as numbered: «5», «5.1», «2» (of «2)»), «а»
    level: int  # 1 point, 2 sub-point (dotted), 10 «1)», 11 «а)»
    parent: "Point | None" = field(default=None, repr=False)
    paragraphs: list[str] = field(default_factory=list)
    children: list["Point"] = field(default_factory=list, repr=False)
    section: str | None = None

    @property
    def text(self) -> str:
        """The point's own text (without its subpoints), editorial notes and footnote marks taken out."""
        return " ".join(self.paragraphs)

    @property
    def path(self) -> list["Point"]:
        chain, p = [], self
        while p is not None:
            chain.append(p)
            p = p.parent
        return chain[::-1]

    @property
    def label(self) -> str:
        """How a person cites it: «Требования к …, подпункт «а» пункта 5»."""
        bits = []
        for p in reversed(self.path):
            if p.level == 11:
                bits.append(f"подпункт «{p.number}»")
            elif p.level == 10:
                bits.append(f"подпункт {p.number}")
            else:
                bits.append(f"пункт {p.number}")
        words = [bits[0]] + [re.sub(r"^(под)?пункт", lambda m: (m.group(1) or "") + "пункта", b) for b in bits[1:]]
        return f"{self.part}, {' '.join(words)}"

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass
class Part:
    title: str
    annex: str | None = None  # «Приложение № 1» where the text says so
    points: list[Point] = field(default_factory=list)
    preamble: list[str] = field(default_factory=list)

    def walk(self):
        for p in self.points:
            yield from p.walk()


@dataclass
class ActText:
    source: str  # the file's name
    fmt: str  # txt, docx, …
    heading: str  # the first lines: kind, date and number of the act
    act_date: date | None
    act_number: str | None
    parts: list[Part]
    editions: list[tuple[date, str]]  # dates of editorial notes with the note
    footnotes: list[str]
    effective: date | None = None  # an amendment act: «вступает в силу с …»

    @property
    def citation(self) -> str | None:
        """«постановление Правительства Российской Федерации от 20.01.2027 № 55», as the heading says."""
        if not (self.act_date and self.act_number):
            return None
        head = self.heading.upper()
        kind = next((k for k in ("ПОСТАНОВЛЕНИЕ", "ПРИКАЗ", "РАСПОРЯЖЕНИЕ", "УКАЗ") if k in head), "акт").lower()
        issuer = " Правительства Российской Федерации" if "ПРАВИТЕЛЬСТВО РОССИЙСКОЙ ФЕДЕРАЦИИ" in head else ""
        return f"{kind}{issuer} от {self.act_date.strftime('%d.%m.%Y')} № {self.act_number}"

    @property
    def edition(self) -> date | None:
        return max((d for d, _ in self.editions), default=None)

    @property
    def is_amendment(self) -> bool:
        return any(p.title.lower().startswith("изменения") for p in self.parts)

    def points(self):
        for part in self.parts:
            yield from part.walk()

    def outline(self) -> list[tuple[str, str]]:
        """(label, words of the text) of every point: what each format must give alike (a PDF keeps the words of a
        table, not its cell borders)."""
        return [(p.label, " ".join(re.findall(r"[\w,.%«»()\-—]+", p.text.replace("|", " ")))) for p in self.points()]


# --- reading ---------------------------------------------------------------------------------------------------
def _decode(data: bytes, name: str) -> str:
    """UTF-8, or Windows-1251 when the bytes read as Russian text: the same rule as for applications."""
    from .loading import InputError, decode_text
    try:
        return decode_text(data, name)
    except InputError as exc:
        raise ActTextError(exc.problems[0].message) from None


def _docx_lines(data: bytes) -> list[str]:
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = Document(io.BytesIO(data))
    lines: list[str] = []
    for block in doc.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(block, doc).text)
        elif tag == "tbl":
            for row in Table(block, doc).rows:
                lines.append(" | ".join(c.text.strip() for c in row.cells))
    return lines


def _html_lines(data: bytes) -> list[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(["script", "style", "head"]):
        tag.decompose()
    for cell in soup.find_all(["td", "th"]):
        cell.append(" | ")
    for tag in soup.find_all(["p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre"]):
        tag.append("\n")
    text = soup.get_text()
    return [re.sub(r"(\s*\|\s*)+$", "", line) for line in text.split("\n")]


def _rtf_lines(data: bytes) -> list[str]:
    from striprtf.striprtf import rtf_to_text

    text = rtf_to_text(data.decode("latin-1"), encoding="cp1251", errors="replace")
    return [re.sub(r"\s*\|\s*", " | ", re.sub(r"(\s*\|\s*)+$", "", line)) for line in text.split("\n")]


def _pdf_lines(data: bytes) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    lines: list[str] = []
    for page in reader.pages:
        lines += (page.extract_text() or "").split("\n")
        lines.append("")
    return lines


def read_lines(path: Path, data: bytes | None = None) -> tuple[str, list[str]]:
    """The format and the raw lines of a file (of `data`, when given: an upload named `path`)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ActTextError(f"файл «{path.name}»: формат не поддерживается — сохраните текст акта как .docx, .rtf, "
                           ".html, .txt или .pdf")
    try:
        data = path.read_bytes() if data is None else data
    except FileNotFoundError:
        raise ActTextError(f"файл «{path}» не найден") from None
    except OSError as exc:
        raise ActTextError(f"не удалось прочитать «{path}»: {exc.strerror}") from None
    fmt = "html" if suffix == ".htm" else suffix[1:]
    try:
        if fmt == "txt":
            return fmt, _decode(data, path.name).splitlines()
        if fmt == "docx":
            return fmt, _docx_lines(data)
        if fmt == "html":
            return fmt, _html_lines(data)
        if fmt == "rtf":
            if not data.lstrip().startswith(b"{\\rtf"):
                raise ValueError("no rtf header")
            return fmt, _rtf_lines(data)
        return fmt, _pdf_lines(data)
    except ActTextError:
        raise
    except Exception:  # noqa: BLE001 - a damaged file of any format: one Russian message
        kind = {"docx": "документ Word", "rtf": "файл RTF", "html": "страницу HTML", "pdf": "файл PDF"}[fmt]
        raise ActTextError(f"файл «{path.name}» повреждён или это не {kind}: откройте его в программе, где он "
                           "создан, и сохраните заново") from None


# --- normalising -----------------------------------------------------------------------------------------------
def normalise_line(line: str) -> str:
    line = line.replace("\u00ad", "").replace("\u200b", "").replace("\ufeff", "")
    line = re.sub(r"[\u00a0\u2007\u202f\t]", " ", line)
    line = re.sub(r"\bN\s?(?=\d)", "№ ", line.replace("\u2011", "-"))  # «N 794» of the reference systems
    return re.sub(r" {2,}", " ", line).strip()


def parse_date(text: str) -> date | None:
    m = DATE_RE.search(text)
    if not m:
        return None
    try:
        if m.group(1):
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return date(int(m.group(6)), MONTHS[m.group(5).lower()], int(m.group(4)))
    except ValueError:
        return None


def _all_dates(text: str) -> list[date]:
    out = []
    for m in DATE_RE.finditer(text):
        d = parse_date(m.group(0))
        if d:
            out.append(d)
    return out


def _is_caps_heading(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters if c.isalpha() and c.lower() != c.upper())


def _starts_block(line: str) -> bool:
    return bool(POINT_RE.match(line) or SUB_NUM_RE.match(line) or SUB_LETTER_RE.match(line) or SECTION_RE.match(line)
                or ANNEX_RE.match(line) or _is_caps_heading(line) or re.match(r"^<\d{1,2}>", line)
                or NOTE_RE.fullmatch(line))


def paragraphs(lines: list[str]) -> list[str]:
    """Lines joined into paragraphs: a wrapped line goes on its paragraph, a word broken with a hyphen at the end of a
    line is joined; page numbers (a line of digits alone) are dropped."""
    out: list[str] = []
    blank = True
    for raw in lines:
        line = normalise_line(raw)
        if not line:
            blank = True
            continue
        if re.fullmatch(r"-?\s*\d{1,3}\s*-?", line):  # a page number
            continue
        prev = out[-1] if out else ""
        cont = (not blank and out and not _starts_block(line) and not _is_caps_heading(prev)
                and not (re.search(r"[.:;]$", prev) and re.match(r"^[А-ЯЁA-Z(«]", line))
                and " | " not in line and (" | " not in prev or re.match(r"^[а-яё]", line)))
        if cont and re.search(r"[а-яё]-$", prev) and re.match(r"^[а-яё]", line):
            out[-1] = prev[:-1] + line  # «тепло-» + «снабжение»
        elif cont:
            out[-1] = prev + " " + line
        else:
            out.append(line)
        blank = False
    return out


def _clean(text: str, notes: list[tuple[date, str]]) -> str:
    for m in NOTE_RE.finditer(text):
        for d in _all_dates(m.group(0)):
            notes.append((d, m.group(0)))
    text = NOTE_RE.sub("", text)
    text = FOOTNOTE_MARK.sub("", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def _title_case(text: str) -> str:
    text = " ".join(text.split())
    if not _is_caps_heading(text):
        return text
    text = text[:1].upper() + text[1:].lower()
    for name in ("Правительства Российской Федерации", "Российской Федерации", "Правительства РФ"):
        text = re.sub(re.escape(name), name, text, flags=re.IGNORECASE)
    return text


# --- splitting -------------------------------------------------------------------------------------------------
def parse(path: Path, data: bytes | None = None) -> ActText:
    """The act in the file `path` (or in `data`, an upload named `path`)."""
    fmt, lines = read_lines(path, data)
    paras = paragraphs(lines)
    notes: list[tuple[date, str]] = []
    footnotes: list[str] = []
    heading: list[str] = []
    parts: list[Part] = [Part("Постановление")]
    stack: list[Point] = []
    section: str | None = None
    pending_annex: str | None = None
    title: list[str] = []  # the caps title of a part may run over several paragraphs
    annex_head = False  # «УТВЕРЖДЕНЫ постановлением …» above an annex's title: not text of a point
    in_body = False
    for para in paras:
        if re.match(r"^<\d{1,2}>", para):
            footnotes.append(re.sub(r"^<\d{1,2}>\s*", "", para))
            continue
        if NOTE_RE.fullmatch(para):
            _clean(para, notes)
            continue
        if ANNEX_RE.match(para) and not POINT_RE.match(para):
            m = re.match(r"^Приложение\s+((?:N|№)?\s*\d+)", para)
            pending_annex = f"Приложение № {re.sub(r'[^0-9]', '', m.group(1))}" if m else pending_annex
            annex_head, title, stack = True, [], []
            continue
        if re.match(r"^(Председатель Правительства|Президент Российской Федерации|Министр\b)", para):
            stack = []  # the signature closes the decree's text
            continue
        caps = _is_caps_heading(para)
        if caps and para.split()[0].strip(",") in PART_WORDS and (in_body or annex_head):
            parts.append(Part(_title_case(para), pending_annex))
            pending_annex, stack, section, title, annex_head = None, [], None, [para], False
            continue
        if caps and title:
            title.append(para)
            parts[-1].title = _title_case(" ".join(title))
            continue
        if caps and not in_body:
            heading.append(para)
            continue
        title = []
        if annex_head:
            continue
        text = _clean(para, notes)
        if not text:
            continue
        part = parts[-1]
        if SECTION_RE.match(text) and not POINT_RE.match(text):
            section = SECTION_RE.match(text).group(2)
            continue
        m, level = POINT_RE.match(text), 0
        if m:
            number, level = m.group(1), m.group(1).count(".") + 1
        elif stack and (m := SUB_NUM_RE.match(text)):
            number, level = m.group(1), 10
        elif stack and (m := SUB_LETTER_RE.match(text)):
            number, level = m.group(1), 11
        if level:
            in_body = True
            while stack and stack[-1].level >= level:
                stack.pop()
            point = Point(part.title, number, level, stack[-1] if stack else None, [text[m.end():].strip()],
                          section=section)
            (stack[-1].children if stack else part.points).append(point)
            stack.append(point)
        elif stack:
            stack[-1].paragraphs.append(text)  # an indent of a point (абзац) or a table row under it
        elif not in_body:
            heading.append(text)
        else:
            part.preamble.append(text)
    act_date = act_number = None
    head = " ".join(heading)
    m = re.search(r"от\s+(" + DATE_RE.pattern + r")\s*(?:г\.|года)?\s*№\s*([\d\-а-яА-Я]+)", head)
    if m:
        act_date, act_number = parse_date(m.group(1)), m.group(m.lastindex)
    n_points = sum(1 for part in parts for _ in part.walk())
    looks_like_act = re.search(r"ПОСТАНОВЛЕНИЕ|ПРИКАЗ|РАСПОРЯЖЕНИЕ|УКАЗ|ФЕДЕРАЛЬНЫЙ ЗАКОН|ГОСТ", head.upper())
    if n_points < 2 or not (looks_like_act or len(parts) > 1):
        raise ActTextError(
            f"файл «{path.name}» не похож на текст нормативного акта: в нём не найдено заголовка акта (например, "
            "«ПОСТАНОВЛЕНИЕ … от … № …») и пронумерованных пунктов. Сохраните из справочной правовой системы или с "
            "портала опубликования полный текст акта вместе с приложениями")
    act = ActText(path.name, fmt, head, act_date, act_number, [p for p in parts if p.points or p.preamble],
                  sorted(set(notes)), footnotes)
    body = " ".join(p.text for p in parts[0].walk()) + " " + " ".join(parts[0].preamble)
    m = re.search(r"вступа\w+\s+в\s+силу\s+с\s+(" + DATE_RE.pattern + ")", body)
    if m:
        act.effective = parse_date(m.group(1))
    return act
