"""Command line: `compliance check|schema|regimes|catalog`. Exit codes of check and batch: 0 conforms, 1 does not
conform or incomplete, 2 invalid input (or an invalid catalog), 3 every automatic check passes and requirements await
an expert's judgement; 4 an internal error. The code is decided by the regimes the application applies for (the worst
of them: 1 over 3 over 0); regimes added by `--regime all` are for information."""
from __future__ import annotations

import json
import sys
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from .catalog import UNCONFIRMED, CONFIDENCE_RU, CatalogError, available_regimes, load_catalog
from .cli_ru import HELP_HINT, RussianCommand, RussianGroup, install as _install_russian, usage_error
from .formatting import plural
from .loading import InputError, Problem, load_application
from .models import Application, _parse_date, check_as_of

_install_russian()  # click's help and usage errors in Russian, whatever the locale (compliance/cli_ru.py)
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, cls=RussianGroup,
                  help="Проверка площадки на соответствие требованиям Минпромторга (отчёт о несоответствиях).")
err = Console(stderr=True, soft_wrap=True)

EXIT_OK, EXIT_GAPS, EXIT_INVALID, EXIT_PENDING, EXIT_INTERNAL = 0, 1, 2, 3, 4
EXIT_BY_VERDICT = {"conforms": EXIT_OK, "pending_review": EXIT_PENDING, "does_not_conform": EXIT_GAPS,
                   "incomplete": EXIT_GAPS}
EXIT_CODES_HELP = ("Коды завершения: 0 — соответствует; 1 — не соответствует или оценка не завершена; 2 — ошибка во "
                   "входных данных; 3 — все автоматические проверки пройдены, требования ждут оценки эксперта. Код "
                   "определяют режимы, на которые подана заявка (режимы, указанные в заявке, или режим из --regime КОД), а из "
                   "нескольких — худший (1, затем 3, затем 0); --regime all добавляет остальные режимы в матрицу "
                   "для сведения и на код не влияет.")


def exit_code(verdicts: list[str]) -> int:
    """The worst code of the verdicts (1 over 3 over 0); a status that is not a verdict (an invalid file of a batch,
    an evaluation error) counts as 1."""
    codes = {EXIT_BY_VERDICT.get(v, EXIT_GAPS) for v in verdicts}
    return next((c for c in (EXIT_GAPS, EXIT_PENDING) if c in codes), EXIT_OK)


class Fmt(str, Enum):
    text = "text"
    json = "json"
    md = "md"
    docx = "docx"  # Word: a binary file, written only with --output
    pdf = "pdf"  # the Word document converted to PDF by LibreOffice (compliance/pdf.py), written only with --output


DOCX_NEEDS_OUTPUT = ("формат docx — файл Word, его нельзя вывести на экран: укажите, куда записать документ, "
                     "например --output отчёт.docx")


PDF_NEEDS_OUTPUT = ("формат pdf — файл PDF, его нельзя вывести на экран: укажите, куда записать документ, "
                    "например --output отчёт.pdf")


def _need_converter() -> None:
    """Exit 2 with a Russian message before any work when there is no LibreOffice to make the PDF."""
    from .pdf import INSTALL_HINT, find_converter

    if find_converter() is None:
        _fail([f"не найдена программа для преобразования в PDF: {INSTALL_HINT}"], "PDF недоступен")


def _to_pdf(data: bytes) -> bytes:
    """The PDF of the Word document ``data`` (the same bytes as --format docx writes), or exit 2 saying why not."""
    from .pdf import PdfError, docx_to_pdf

    try:
        return docx_to_pdf(data)
    except PdfError as exc:
        _fail([str(exc)], "PDF недоступен")
        raise  # pragma: no cover - _fail exits


def _fail(problems: list[Problem] | list[str], title: str = "Ошибка во входных данных") -> None:
    err.print(f"[bold red]{title}:[/bold red]")
    for p in problems:
        err.print(f"  • {p}", markup=False, highlight=False)
    raise typer.Exit(EXIT_INVALID)


def _as_of(value: Optional[str]) -> Optional[date]:
    if value is None:
        return None
    try:
        return check_as_of(_parse_date(value))
    except ValueError as exc:
        _fail([Problem("--as-of", str(exc))])


def _write(text: str | bytes, output: Optional[Path]) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(output.name + ".tmp")
        if isinstance(text, bytes):  # a Word document
            tmp.write_bytes(text)
        else:
            tmp.write_text(text, encoding="utf-8")
        tmp.replace(output)  # never leave a half-written report behind
    except OSError as exc:
        _fail([f"не удалось записать {output}: {exc.strerror}"], "Ошибка записи")
    err.print(f"Отчёт записан: {output}")


@app.command(cls=RussianCommand, help="Проверить заявку и вывести отчёт о несоответствиях (или матрицу режимов, или «что если»).\n\n"
             + EXIT_CODES_HELP)
def check(
    application: Path = typer.Argument(..., metavar="ЗАЯВКА", help="файл заявки: .json, .yaml, .yml или .xlsx (кластер)"),
    regime: Optional[str] = typer.Option(None, "--regime", "-r", metavar="КОД", help="код режима (ip794, …) или all — матрица по всем подходящим режимам; по умолчанию — режимы из заявки"),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="ДАТА", help="дата оценки (ГГГГ-ММ-ДД); по умолчанию — дата подачи"),
    fmt: Fmt = typer.Option(Fmt.text, "--format", "-f", help="формат отчёта"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="ФАЙЛ", help="куда записать отчёт (по умолчанию — на экран)"),
    freshness: bool = typer.Option(False, "--freshness", help="предупреждать об устаревших выписках (ЕГРЮЛ, ЕГРН)"),
    set_: list[str] = typer.Option([], "--set", metavar="ПУТЬ=ЗНАЧЕНИЕ", help="что если: ПУТЬ=ЗНАЧЕНИЕ, например land_plots.0.area.value=9.5 (можно несколько)"),
    set_file: Optional[Path] = typer.Option(None, "--set-file", metavar="ФАЙЛ", help="что если: файл YAML с разделами set (путь: значение) и delete"),
    judgements_file: Optional[Path] = typer.Option(None, "--judgements", metavar="ФАЙЛ", help="файл оценок эксперта и принятых отклонений (.yaml, .json)"),
    force_judgements: bool = typer.Option(False, "--force-judgements", help="применить оценки эксперта, вынесенные по другой заявке или редакции заявки (отчёт скажет об этом на первой странице)"),
    organisation: Optional[Path] = typer.Option(None, "--organisation", metavar="ФАЙЛ", help="для docx и pdf: файл реквизитов организации (.yaml, .json) — шапка документа, подписант, префикс исходящего номера; по умолчанию — из настройки COMPLIANCE_ORGANISATION_FILE"),
    outgoing_number: Optional[str] = typer.Option(None, "--outgoing-number", metavar="НОМЕР", help="для docx и pdf: исходящий номер документа (без него — строка для записи от руки)"),
    outgoing_date: Optional[str] = typer.Option(None, "--outgoing-date", metavar="ДАТА", help="для docx и pdf: дата исходящего номера (ГГГГ-ММ-ДД или ДД.ММ.ГГГГ)"),
) -> None:
    from .judgements import for_check, load_judgements
    from .loading import parse_document
    from .whatif import apply_changes, parse_assignment, parse_override_file

    when = _as_of(as_of)
    if fmt == Fmt.docx and output is None:
        _fail([Problem("--output", DOCX_NEEDS_OUTPUT)])
    if fmt == Fmt.pdf:
        if output is None:
            _fail([Problem("--output", PDF_NEEDS_OUTPUT)])
        _need_converter()
    issuer = _issuer(organisation, outgoing_number, outgoing_date) if fmt.value not in ("text", "json", "md") else None
    try:
        app_model = load_application(application)
        changes = [parse_assignment(s) for s in set_]
        if set_file is not None:
            if not set_file.is_file():
                raise InputError([Problem("--set-file", f"файл не найден: {set_file}")])
            changes += parse_override_file(parse_document(set_file.read_bytes(), set_file.name, "--set-file"))
        changed_app = apply_changes(app_model, changes) if changes else None
        judgements = load_judgements(judgements_file) if judgements_file else None
        # the judgements of this application (with what-if: of the application as filed)
        judgements, regime, note = for_check(judgements, app_model, regime, "cli", override=force_judgements)
    except InputError as exc:
        _fail(exc.problems)
    except CatalogError as exc:
        _fail(str(exc).splitlines(), "Ошибка каталога требований")
    try:
        text, verdicts = _run_check(app_model, changed_app, changes, regime, when, Fmt.docx if fmt == Fmt.pdf else fmt,
                                    freshness, judgements, note, issuer)
    except CatalogError as exc:
        _fail(str(exc).splitlines(), "Ошибка каталога требований")
    except InputError as exc:  # e.g. a section the regime requires is absent
        _fail(exc.problems)
    if fmt == Fmt.pdf:  # made from the very bytes --format docx writes: the two never differ
        text = _to_pdf(text)
    _write(text, output)
    raise typer.Exit(exit_code(verdicts))


def _issuer(path: Optional[Path], number: Optional[str], when: Optional[str]):
    """The organisation details for a Word document: the file of --organisation, else of the setting
    COMPLIANCE_ORGANISATION_FILE, else none (blank lines); with the outgoing number and date of the options."""
    from .organisation import Issuer, load_organisation
    from .settings import get_settings

    day_ = None
    if when is not None:
        try:
            day_ = _parse_date(when)
        except ValueError as exc:
            _fail([Problem("--outgoing-date", str(exc))])
    if number is not None and not number.strip():
        _fail([Problem("--outgoing-number", "пустой исходящий номер: укажите его или уберите параметр")])
    path = path if path is not None else get_settings().organisation_file
    try:
        issuer = load_organisation(path) if path is not None else Issuer()
    except InputError as exc:
        _fail(exc.problems, "Ошибка в реквизитах организации")
    return issuer.with_outgoing(number.strip() if number else None, day_)


def _run_check(app_model, changed_app, changes, regime, when, fmt: Fmt, freshness: bool,
               judgements=None, note: str | None = None, issuer=None) -> tuple[str | bytes, list[str]]:
    """Render the check (one regime, several regimes as a matrix, and what-if when changes are given); with it the
    verdicts of the regimes the application applies for, which decide the exit code. `note` — why the judgements
    file chose the regime, for the report; `issuer` — the organisation details of a Word document."""
    from . import render as rd
    from .eligibility import eligibility, regimes_for
    from .evaluate import evaluate
    from .whatif import diff

    codes = _regimes(app_model, regime)
    target = changed_app or app_model
    if regime == "all" or len(codes) > 1:
        chosen, _ = regimes_for(target, codes if regime != "all" else None)
        if not chosen:
            _fail(["ни один режим не подходит: в заявке нет нужных разделов (земельные участки, здания …)"])
        after = eligibility(target, when, chosen if regime != "all" else None, freshness, judgements)
        before = eligibility(app_model, when, chosen, freshness, judgements) if changed_app else None
        applied = target.regimes if regime == "all" else codes  # the regimes --regime all adds are for information
        verdicts = [r.verdict for r in after.reports if r.regime in applied]
        before_by_regime = {r.regime: r for r in before.reports} if before else {}
        diffs = {a.regime: (before_by_regime[a.regime], a, diff(before_by_regime[a.regime], a))
                 for a in after.reports if a.regime in before_by_regime}
        if fmt == Fmt.docx:  # one document: the matrix, then every report
            from .word import report_docx
            for a in after.reports:
                if a.regime in diffs:
                    a.notes += _what_if_notes(changes, diffs[a.regime][2], diffs[a.regime][0], a)
            return report_docx(after.reports, after, issuer), verdicts
        if fmt == Fmt.json:
            payload = {"matrix": [r.model_dump(mode="json") for r in after.rows],
                       "skipped": [s.model_dump(mode="json") for s in after.skipped],
                       "reports": [r.model_dump(mode="json") for r in after.reports]}
            if before:
                payload["matrix_before"] = [r.model_dump(mode="json") for r in before.rows]
                payload["what_if"] = {"changes": [c.model_dump(mode="json") for c in changes],
                                      "changed": {k: [c.model_dump(mode="json") for c in d[2]] for k, d in diffs.items()}}
            return json.dumps(payload, ensure_ascii=False, indent=2) + "\n", verdicts
        matrix = rd.render_matrix_markdown if fmt == Fmt.md else rd.render_matrix_text
        changes_fn = rd.render_changes_markdown if fmt == Fmt.md else rd.render_changes_text
        parts = [matrix(after)]
        if before:
            parts.insert(0, "Матрица до изменений:\n" + matrix(before))
            parts += [changes_fn(k, changes, d[2], d[0], d[1]) for k, d in diffs.items()]
        parts.append(rd.render_many(after.reports, fmt.value))
        return "\n".join(parts), verdicts
    report = evaluate(target, codes[0], when, freshness=freshness, judgements=judgements)
    report.notes += [note] if note else []
    if not changed_app:
        if fmt == Fmt.docx:
            from .word import report_docx
            return report_docx([report], issuer=issuer), [report.verdict]
        return rd.render_many([report], fmt.value), [report.verdict]
    base = evaluate(app_model, codes[0], when, freshness=freshness, judgements=judgements)
    base.notes += [note] if note else []
    changed = diff(base, report)
    if fmt == Fmt.docx:
        from .word import report_docx
        report.notes += _what_if_notes(changes, changed, base, report)
        return report_docx([report], issuer=issuer), [report.verdict]
    if fmt == Fmt.json:
        payload = {"what_if": {"changes": [c.model_dump(mode="json") for c in changes],
                               "changed": [c.model_dump(mode="json") for c in changed],
                               "verdict_before": base.verdict, "verdict_after": report.verdict},
                   "report": report.model_dump(mode="json")}
        return json.dumps(payload, ensure_ascii=False, indent=2) + "\n", [report.verdict]
    changes_fn = rd.render_changes_markdown if fmt == Fmt.md else rd.render_changes_text
    return (changes_fn(codes[0], changes, changed, base, report) + "\n"
            + rd.render_many([report], fmt.value)), [report.verdict]


def _what_if_notes(changes, changed, before, after) -> list[str]:
    """What-if in a Word report: the changes and what they change, as notes of the report."""
    from .render import render_changes_text
    lines = render_changes_text("", changes, changed, before, after).splitlines()
    return ["Что если: отчёт построен по заявке с изменениями. " + "; ".join(x.strip() for x in lines[1:] if x.strip())]


def _regimes(app_model: Application, regime: Optional[str]) -> list[str]:
    from .eligibility import requested_regimes
    try:
        return requested_regimes(app_model, regime, "--regime")
    except InputError as exc:
        _fail(exc.problems)


def application_files(paths: list[Path], skip: Optional[Path] = None) -> list[Path]:
    """The application files under the given files and folders (compliance.batch.collect), without `skip`; exit 2
    when a path does not exist or there is no file at all."""
    from .batch import collect

    files, missing = collect(paths)
    if skip is not None:
        files = [f for f in files if f.resolve() != skip.resolve()]
    if missing:
        _fail([Problem("", f"не найден: {m}") for m in missing])
    if not files:
        _fail([Problem("", "не найдено ни одного файла заявки (.json, .yaml, .yml, .xlsx)")])
    return files


@app.command(cls=RussianCommand, help="Проверить много заявок (любые режимы): сводная таблица xlsx и JSON; ошибочный файл не "
                  "останавливает проверку.\n\nКод завершения — худший по всем заявкам и режимам, на которые они "
                  "поданы (1, затем 3, затем 0): 0 — все соответствуют; 1 — есть несоответствия, незавершённые оценки "
                  "или файлы с ошибками; 3 — все автоматические проверки пройдены, но есть требования, которые ждут "
                  "оценки эксперта; 2 — ошибка в самой команде (нет файлов, неверный --output).")
def batch(
    paths: list[Path] = typer.Argument(..., metavar="ЗАЯВКИ", help="файлы заявок и папки с ними (.json, .yaml, .xlsx)"),
    output: Path = typer.Option(Path("batch-summary.xlsx"), "--output", "-o", metavar="ФАЙЛ", help="сводная таблица .xlsx (рядом — .json)"),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="ДАТА", help="дата оценки для всех заявок; по умолчанию — их даты подачи"),
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .batch import STATUS_SHORT, run_batch, write_summary

    when = _as_of(as_of)
    if output.suffix.lower() != ".xlsx":
        _fail([Problem("--output", "сводка пишется в файл .xlsx (JSON — рядом, с тем же именем)")])
    files = application_files(paths)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, transient=True) as progress:
        task = progress.add_task("Проверка заявок", total=len(files))
        summary = run_batch(files, when, progress=lambda path: progress.advance(task))
    try:
        json_path = write_summary(summary, output)
    except OSError as exc:
        _fail([f"не удалось записать сводку {output}: {exc.strerror}"], "Ошибка записи")
    sys.stdout.write(f"Проверено файлов: {summary.files}; строк сводки: {len(summary.rows)}\n")
    for status, n in sorted(summary.counts.items()):
        sys.stdout.write(f"  {STATUS_SHORT.get(status, status)}: {n}\n")
    for row in summary.rows:
        if row.status in ("invalid", "error"):
            sys.stdout.write(f"  ✗ {row.file}: {row.problem}\n")
    sys.stdout.write(f"Сводка: {output} и {json_path}\n")
    raise typer.Exit(exit_code([row.status for row in summary.rows]))


@app.command(cls=RussianCommand)
def schema() -> None:
    """Вывести JSON Schema заявки."""
    sys.stdout.write(json.dumps(Application.model_json_schema(), ensure_ascii=False, indent=2) + "\n")


@app.command(cls=RussianCommand)
def regimes() -> None:
    """Перечислить режимы, для которых есть каталог требований."""
    for code in available_regimes():
        cat = load_catalog(code)
        d = cat.decree
        sys.stdout.write(f"{code}\t{d.title}\t{d.act.citation}\tкаталог {d.catalog_version}\t"
                         f"требований: {len(d.requirements)}\n")


@app.command(cls=RussianCommand)
def template(
    regime: str = typer.Argument(..., metavar="КОД", help="код режима; шаблон Excel пока есть только для cl779 (промышленные кластеры)"),
    output: Path = typer.Option(..., "--output", "-o", metavar="ФАЙЛ", help="куда записать книгу .xlsx"),
    from_: Optional[Path] = typer.Option(None, "--from", metavar="ЗАЯВКА", help="заполнить книгу из заявки (.json, .yaml, .yml или .xlsx)"),
) -> None:
    """Записать шаблон заявки в Excel (.xlsx) для заполнения; с --from — заполненный из готовой заявки."""
    from .excel import REGIME, write_template

    if regime != REGIME:
        _fail([Problem("", f"шаблона Excel для режима «{regime}» нет: пока он есть только для {REGIME} "
                           "(промышленные кластеры); для других режимов заявка пишется в JSON или YAML "
                           "(схема — compliance schema)")])
    if output.suffix.lower() != ".xlsx":
        _fail([Problem("--output", f"шаблон пишется в файл .xlsx, а указан «{output.name}»")])
    source = None
    if from_ is not None:
        try:
            source = load_application(from_)
        except InputError as exc:
            _fail(exc.problems)
        if source.cluster is None:
            err.print("Внимание: в заявке нет раздела cluster — в книгу перенесены только общие поля и документы.",
                      highlight=False)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(output.name + ".tmp.xlsx")
        notes = write_template(tmp, source)
        tmp.replace(output)  # never leave a half-written workbook behind
    except OSError as exc:
        _fail([f"не удалось записать {output}: {exc.strerror}"], "Ошибка записи")
    for note in notes:
        err.print(f"Внимание: {note}", highlight=False)
    err.print(f"Шаблон записан: {output}" + (f" (заполнен из {from_.name})" if from_ else ""), highlight=False)


catalog_app = typer.Typer(add_completion=False, no_args_is_help=False, rich_markup_mode=None, cls=RussianGroup)
app.add_typer(catalog_app, name="catalog")


@catalog_app.callback(invoke_without_command=True)
def catalog(
    ctx: typer.Context,
    regime: Optional[str] = typer.Option(None, "--regime", "-r", metavar="КОД", help="код режима; по умолчанию — все"),
    check_: bool = typer.Option(False, "--check", help="проверить каталог: ссылки, даты, тестовые примеры"),
    fmt: Fmt = typer.Option(Fmt.text, "--format", "-f", help="text, json, docx или pdf — документ для экспертной сверки каталога (нужны --regime и --output)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="ФАЙЛ", help="куда записать (для docx и pdf обязательно)"),
    scenario: Optional[Path] = typer.Option(None, "--scenario", metavar="ФАЙЛ", help="с --check: проверить файл сценария (проекта изменений) так же, как каталог"),
) -> None:
    """Показать каталог требований (ID, вид, достоверность) или проверить его (--check)."""
    from .catalog_check import check_all

    if ctx.invoked_subcommand is not None:  # `compliance catalog verify …`
        return
    if scenario is not None:
        if not check_:
            _fail([Problem("--scenario", "сценарий проверяется вместе с --check: compliance catalog --check "
                                         "--scenario ФАЙЛ")])
        from .impact_cli import check_scenario_command
        check_scenario_command(scenario)

    if fmt in (Fmt.docx, Fmt.pdf) and not check_:
        if output is None:
            _fail([Problem("--output", (DOCX_NEEDS_OUTPUT if fmt == Fmt.docx else PDF_NEEDS_OUTPUT)
                           .replace("отчёт.", "сверка."))])
        if not regime:
            _fail([Problem("--regime", "документ для экспертной сверки составляется по одному режиму: укажите "
                                       f"--regime (доступны: {', '.join(available_regimes())})")])
        if fmt == Fmt.pdf:
            _need_converter()
        from .word import catalog_docx
        try:
            data = catalog_docx(load_catalog(regime))
        except CatalogError as exc:
            _fail(str(exc).splitlines(), "Ошибка каталога требований")
        if fmt == Fmt.pdf:
            data = _to_pdf(data)
        _write(data, output)
        return
    codes = [regime] if regime else available_regimes()
    if check_:
        results = check_all(codes)
        bad = {k: v for k, v in results.items() if v}
        for code, problems in results.items():
            if problems:
                err.print(f"[bold red]{code}: каталог с ошибками ({len(problems)}):[/bold red]")
                for p in problems:
                    err.print(f"  • {p}", markup=False, highlight=False)
            else:
                cat = load_catalog(code)
                n_cases = len(cat.cases.cases) if cat.cases else 0
                reqs = plural(len(cat.requirements), "требование", "требования", "требований")
                cases = plural(n_cases, "тестовый пример пройден", "тестовых примера пройдены", "тестовых примеров пройдено")
                sys.stdout.write(f"{code}: каталог в порядке ({reqs}, {cases})\n")
        raise typer.Exit(EXIT_INVALID if bad else EXIT_OK)
    rows = []
    for code in codes:
        try:
            cat = load_catalog(code)
        except CatalogError as exc:
            _fail(str(exc).splitlines(), "Ошибка каталога требований")
        for r in cat.decree.requirements:
            rule = cat.rules.get(r.id)
            rows.append({"regime": code, "id": r.id, "kind": r.kind, "confidence": r.confidence,
                         "needs_confirmation": r.confidence in UNCONFIRMED,
                         "severity": rule.severity if rule else None, "clause": r.clause, "title": r.title})
    if fmt == Fmt.json:
        _write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n", output)
        return
    kinds = {"automated": "автоматически", "manual": "экспертно", "informational": "для сведения", "document": "документ"}
    lines = []
    for row in rows:
        mark = " ⚠" if row["needs_confirmation"] else ""
        lines.append(f"{row['id']:<14} {kinds[row['kind']]:<14} {row['confidence']} "
                     f"({CONFIDENCE_RU[row['confidence']]}){mark}  {row['title']}\n")
    _write("".join(lines), output)



@app.command(cls=RussianCommand)
def serve(
    host: str = typer.Option("127.0.0.1", "--host", metavar="АДРЕС", help="адрес, на котором слушать"),
    port: int = typer.Option(8000, "--port", metavar="ПОРТ", help="порт"),
    demo_org: str | None = typer.Option(None, "--demo-org", metavar="ОРГАНИЗАЦИЯ", help="выдать при запуске токен этой организации (создаётся, "
                                                                 "если её нет) и напечатать ссылку для входа"),
) -> None:
    """Запустить веб-сервис (FastAPI): страницы для браузера и API; база — COMPLIANCE_DATABASE_URL, по умолчанию файл
    SQLite ./compliance.db."""
    import uvicorn

    from api.app import create_app
    from .settings import get_settings

    settings = get_settings()
    app = create_app(settings)
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    address = f"http://{shown}:{port}"
    err.print(f"База данных: {settings.database_url}", highlight=False)
    if demo_org and demo_org.strip():
        from .storage import create_token

        with app.state.sessions() as s:
            token, _ = create_token(s, demo_org.strip())
            s.commit()
        err.print(f"\nОткройте в браузере: {address}/sign-in#{token}\n"
                  f"(вход от имени организации «{demo_org.strip()}»; токен для API и повторного входа: {token})\n",
                  highlight=False, soft_wrap=True)
    else:
        err.print(f"Страницы: {address}/  ·  API: {address}/docs  ·  вход — с токеном организации "
                  "(compliance token create --org …)", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="info")


token_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, cls=RussianGroup,
                        help="Токены доступа к веб-сервису.")
app.add_typer(token_app, name="token")


@token_app.command("create", cls=RussianCommand)
def token_create(org: str = typer.Option(..., "--org", metavar="ОРГАНИЗАЦИЯ", help="название организации (создаётся, если её ещё нет)"),
                 admin: bool = typer.Option(False, "--admin", help="токен администратора: может запускать задания по заявкам всех организаций")) -> None:
    """Создать токен организации и напечатать его (один раз: хранится только его хеш)."""
    from .settings import get_settings
    from .storage import ORG_NAME_MAX, create_token, session_factory

    name = org.strip()
    if not name:
        _fail([Problem("--org", "название организации не может быть пустым")])
    if len(name) > ORG_NAME_MAX:
        _fail([Problem("--org", f"название организации длиннее {ORG_NAME_MAX} символов: сократите его")])
    sessions = session_factory(get_settings().database_url)
    with sessions() as s:
        token, _ = create_token(s, name, admin)
        s.commit()
    role = " с правом администратора" if admin else ""
    err.print(f"Токен организации «{name}»{role} (сохраните его: повторно он не показывается):", highlight=False)
    sys.stdout.write(token + "\n")


@token_app.command("list", cls=RussianCommand)
def token_list(org: str = typer.Option(..., "--org", metavar="ОРГАНИЗАЦИЯ", help="название организации")) -> None:
    """Токены организации: номер, начало токена, когда выдан и отозван ли (сами токены не хранятся)."""
    from sqlalchemy import select

    from .settings import get_settings
    from .storage import ApiToken, Organisation, session_factory

    sessions = session_factory(get_settings().database_url)
    with sessions() as s:
        org_row = s.scalar(select(Organisation).where(Organisation.name == org.strip()))
        if org_row is None:
            _fail([Problem("--org", f"организации «{org.strip()}» нет")])
        rows = s.scalars(select(ApiToken).where(ApiToken.organisation_id == org_row.id).order_by(ApiToken.id)).all()
    for row in rows:
        state = f"отозван {row.revoked_at:%d.%m.%Y %H:%M} UTC" if row.revoked_at else "действует"
        sys.stdout.write(f"{row.id}\t{row.hint}…\tвыдан {row.created_at:%d.%m.%Y %H:%M} UTC\t{state}\n")


@token_app.command("revoke", cls=RussianCommand)
def token_revoke(token_id: int = typer.Argument(..., metavar="НОМЕР", help="номер токена (compliance token list --org …)")) -> None:
    """Отозвать токен: запросы и вход в браузере с ним больше не принимаются; проверки и журнал сохраняются."""
    from .settings import get_settings
    from .storage import ApiToken, audit, session_factory, utcnow

    sessions = session_factory(get_settings().database_url)
    with sessions() as s:
        row = s.get(ApiToken, token_id)
        if row is None:
            _fail([Problem("token_id", f"токена № {token_id} нет")])
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit(s, row.organisation_id, row.id, "token.revoke", "token", str(row.id))
            s.commit()
    err.print(f"Токен № {token_id} ({row.hint}…) отозван.", highlight=False)


judgements_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, cls=RussianGroup,
                             help="Файлы оценок эксперта.")
app.add_typer(judgements_app, name="judgements")


@judgements_app.command("bind", cls=RussianCommand)
def judgements_bind(
    application: Path = typer.Argument(..., metavar="ЗАЯВКА", help="файл заявки, по которой эксперт вынес оценки (.json, .yaml, .xlsx)"),
    judgements_file: Path = typer.Argument(..., metavar="ОЦЕНКИ", help="файл оценок эксперта (.yaml, .json)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="ФАЙЛ", help="куда записать (по умолчанию — в тот же файл)"),
    force: bool = typer.Option(False, "--force", help="привязать оценки, вынесенные по другой площадке или ИНН"),
) -> None:
    """Привязать файл оценок к заявке: записать в него ИНН, площадку и хеш заявки — после того как эксперт
    пересмотрел оценки по этой заявке (например, по её новой редакции)."""
    from .judgements import bind_file

    try:
        report, block = bind_file(load_application(application), judgements_file, output, force)
    except CatalogError as exc:
        _fail(str(exc).splitlines(), "Ошибка каталога требований")
    except InputError as exc:
        _fail(exc.problems)
    except OSError as exc:
        _fail([f"не удалось записать {output or judgements_file}: {exc.strerror}"], "Ошибка записи")
    inn = f", ИНН {block['inn']}" if block["inn"] else ""
    sys.stdout.write(f"Оценки привязаны к заявке: «{block['site_name']}»{inn}, хеш заявки {block['input_hash'][:12]}… "
                     f"— {output or judgements_file}\n")
    for c in report.judgement_contradictions:
        sys.stdout.write(f"  ⚠ {c.text}\n")


from . import verify_cli  # noqa: E402,F401 - registers `compliance catalog verify`
from . import impact_cli  # noqa: E402,F401 - registers `compliance impact`
from . import watch_cli  # noqa: E402,F401 - registers `compliance watch`
from . import jobs_cli  # noqa: E402,F401 - registers `compliance recheck` and `compliance worker`


def main() -> None:
    """Console entry point: usage errors in Russian with exit code 2; never a traceback (unless COMPLIANCE_DEBUG=1)."""
    import os

    command = typer.main.get_command(app)
    try:
        code = command.main(prog_name="compliance", standalone_mode=False)
    except typer.Exit as exc:
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("Прервано.")
        code = EXIT_INVALID
    except Exception as exc:  # noqa: BLE001 - the last line of defence of a command-line tool
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `compliance`: show the help
            sys.stdout.write(exc.format_message() + "\n")
            code = EXIT_OK
        elif hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            message = usage_error(exc)
            from rich.markup import escape
            err.print(f"[bold red]Ошибка:[/bold red] {escape(message[:1].upper() + message[1:])}", highlight=False)
            err.print(HELP_HINT, highlight=False)
            code = EXIT_INVALID
        elif os.environ.get("COMPLIANCE_DEBUG") == "1":
            raise
        else:
            err.print(f"[bold red]Внутренняя ошибка программы[/bold red] ({type(exc).__name__}: {exc}). "
                      "Повторите с COMPLIANCE_DEBUG=1 и передайте вывод разработчикам.", highlight=False)
            code = EXIT_INTERNAL
    sys.exit(code or 0)


if __name__ == "__main__":  # pragma: no cover
    main()
