"""README.md renders as written: each table is one table (no row cut off by a blank line or with a wrong number of
cells), parsed with markdown-it-py — the CommonMark parser rich already depends on — with GitHub's table extension."""
from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt

README = Path(__file__).resolve().parent.parent / "README.md"


def _tables(text: str) -> list[list[list[str]]]:
    """Every table of the rendered document as rows of cell texts (header row first)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    tables, rows, row, cell = [], None, None, None
    for t in tokens:
        if t.type == "table_open":
            rows = []
        elif t.type == "table_close":
            tables.append(rows)
            rows = None
        elif t.type == "tr_open":
            row = []
        elif t.type == "tr_close":
            rows.append(row)
        elif t.type in ("th_open", "td_open"):
            cell = ""
        elif t.type == "inline" and cell is not None:
            cell = t.content
        elif t.type in ("th_close", "td_close"):
            row.append(cell)
            cell = None
    return tables


def _pipe_rows(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every line outside code blocks that looks like a table row."""
    out, fenced = [], False
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("|") and line.rstrip().endswith("|"):
            out.append((n, line))
    return out


def test_every_table_row_of_the_readme_belongs_to_a_rendered_table():
    text = README.read_text(encoding="utf-8")
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    covered = {n + 1 for t in tokens if t.type == "table_open" for n in range(*t.map)}
    stray = [f"{n}: {line[:60]}" for n, line in _pipe_rows(text) if n not in covered]
    assert not stray, "строки таблиц, которые не вошли в таблицу (отделены пустой строкой?): " + "; ".join(stray)
    for table in _tables(text):
        assert len({len(r) for r in table}) == 1, table[0]


def test_the_regimes_table_is_one_table_with_every_regime():
    from compliance.catalog import available_regimes, load_catalog
    tables = _tables(README.read_text(encoding="utf-8"))
    regimes = next(t for t in tables if t[0][:2] == ["код", "режим"])
    codes = [re.sub(r"`", "", r[0]) for r in regimes[1:]]
    assert codes == ["ip794", "itp1863", "htp1381", "cl779", "gost56425"]
    assert set(codes) == set(available_regimes())
    for row in regimes[1:]:
        code = row[0].strip("`")
        assert row[3] == str(len(load_catalog(code).decree.requirements)), row
