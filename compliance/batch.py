"""Batch validation: many applications (any regime, mixed) in one run; a bad file is reported, never fatal."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from pydantic import BaseModel

from .catalog import CatalogError
from .cells import append_row
from .eligibility import _row as matrix_row
from .evaluate import Prepared, evaluate
from .loading import InputError, load_application
from .report import VERDICT_RU, VERDICT_SHORT, Report

SUFFIXES = {".json", ".yaml", ".yml", ".xlsx"}


class BatchRow(BaseModel):
    file: str
    site_name: str | None = None
    regime: str | None = None
    status: str  # conforms / pending_review / does_not_conform / incomplete / invalid / error
    status_text: str
    blocking_not_met: int | None = None
    insufficient_data: int | None = None
    manual_review: int | None = None
    documents_missing: int | None = None
    top_gaps: list[str] = []
    problem: str | None = None
    evaluation_id: str | None = None


class BatchSummary(BaseModel):
    generated_at: datetime
    files: int
    rows: list[BatchRow]
    counts: dict[str, int]


def collect(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """Application files under the given files and folders (recursively), sorted; and paths that do not exist."""
    files, missing = [], []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                            and not p.name.startswith(("~$", ".")))
        elif path.is_file():
            files.append(path)
        else:
            missing.append(str(path))
    return list(dict.fromkeys(files)), missing


def check_file(path: Path, as_of=None) -> list[BatchRow]:
    """Rows for one file: one per regime of the application, or one invalid/error row."""
    try:
        app = load_application(path)
    except InputError as exc:
        return [BatchRow(file=str(path), status="invalid", status_text="ошибка во входных данных",
                         problem="; ".join(map(str, exc.problems))[:2000])]
    rows = []
    prepared = Prepared(app, as_of or app.filing_date)  # the work every regime of the application shares
    for regime in app.regimes:
        try:
            report = evaluate(app, regime, as_of, prepared=prepared)
        except (InputError, CatalogError) as exc:
            problem = "; ".join(map(str, exc.problems)) if isinstance(exc, InputError) else str(exc)
            rows.append(BatchRow(file=str(path), site_name=app.site_name, regime=regime, status="invalid",
                                 status_text="ошибка во входных данных", problem=problem[:2000]))
            continue
        except Exception as exc:  # noqa: BLE001 - one broken application must not stop the batch
            rows.append(BatchRow(file=str(path), site_name=app.site_name, regime=regime, status="error",
                                 status_text="ошибка проверки", problem=f"{type(exc).__name__}: {exc}"[:2000]))
            continue
        rows.append(report_row(str(path), app.site_name, report))
    return rows


def report_row(file: str, site_name: str | None, report: Report) -> BatchRow:
    """The row of one regime's report: its verdict and the counts and top gaps of the eligibility matrix."""
    m = matrix_row(report)
    return BatchRow(file=file, site_name=site_name, regime=report.regime, status=report.verdict,
                    status_text=report.verdict_text, blocking_not_met=m.blocking_not_met,
                    insufficient_data=m.insufficient_data, manual_review=m.manual_review,
                    documents_missing=m.documents_missing, top_gaps=m.top_gaps, evaluation_id=report.evaluation_id)


def summarise(rows: list[BatchRow], files: int) -> BatchSummary:
    """The summary of a batch: its rows and how many rows have each status."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    return BatchSummary(generated_at=datetime.now(timezone.utc), files=files, rows=rows, counts=counts)


def run_batch(files: list[Path], as_of=None, progress: Callable[[Path], None] | None = None) -> BatchSummary:
    rows: list[BatchRow] = []
    for path in files:
        rows += check_file(path, as_of)
        if progress:
            progress(path)
    return summarise(rows, len(files))


HEADERS = ["Файл", "Заявка", "Режим", "Итог", "Критичных несоответствий", "Нет данных", "Экспертная оценка",
           "Нет документов", "Главные разрывы", "Ошибка"]
NOT_EVALUATED = {"invalid": "ошибка во входных данных", "error": "ошибка проверки"}
STATUS_RU = dict(VERDICT_RU, **NOT_EVALUATED)
STATUS_SHORT = dict(VERDICT_SHORT, **NOT_EVALUATED)
FILLS = {"conforms": "C6EFCE", "pending_review": "DDEBF7", "does_not_conform": "FFC7CE", "incomplete": "FFEB9C",
         "invalid": "D9D9D9", "error": "D9D9D9"}


def write_summary(summary: BatchSummary, xlsx_path: Path) -> Path:
    """Writes the summary as xlsx and, beside it, as JSON; both atomically. Returns the JSON path."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "Сводка"
    append_row(ws, HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r in summary.rows:
        append_row(ws, [r.file, r.site_name, r.regime, r.status_text, r.blocking_not_met, r.insufficient_data,
                        r.manual_review, r.documents_missing, "\n".join(r.top_gaps), r.problem])
        ws.cell(ws.max_row, 4).fill = PatternFill("solid", fgColor=FILLS.get(r.status, "FFFFFF"))
        for cell in ws[ws.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for col, width in zip("ABCDEFGHIJ", (40, 40, 10, 28, 14, 12, 12, 12, 70, 60)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    totals = wb.create_sheet("Итоги")
    append_row(totals, ["Итог", "Число"])
    for status, n in sorted(summary.counts.items()):
        append_row(totals, [STATUS_RU.get(status, status), n])
    append_row(totals, ["Файлов", summary.files])
    xlsx_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = xlsx_path.with_name(xlsx_path.name + ".tmp")
    wb.save(tmp)
    tmp.replace(xlsx_path)
    json_path = xlsx_path.with_suffix(".json")
    tmp = json_path.with_name(json_path.name + ".tmp")
    tmp.write_text(summary.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(json_path)
    return json_path
