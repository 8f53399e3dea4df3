"""`compliance impact` (what a draft amendment changes for many applications) and `compliance catalog --check
--scenario` (validate a scenario file like the catalog)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from .cli import EXIT_INVALID, EXIT_OK, _as_of, _fail, _issuer, app, application_files, err, exit_code
from .cli_ru import RussianCommand
from .formatting import plural
from .labels import regime_name
from .loading import Problem

OUTPUT_SUFFIXES = (".xlsx", ".json")


def _scenario(path: Path):
    from .scenario import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as exc:
        _fail(exc.problems, "Ошибка в файле сценария")
    except Exception as exc:  # noqa: BLE001 - a catalog error (CatalogError) and the like: Russian already
        _fail(str(exc).splitlines(), "Ошибка каталога требований")


def check_scenario_command(path: Path) -> None:
    """`compliance catalog --check --scenario FILE`: exit 0 when the scenario is valid, 2 otherwise."""
    from .scenario import check_scenario

    scenario = _scenario(path)
    result = check_scenario(scenario)
    for regime, problems in result.problems.items():
        name = regime_name(regime)
        if problems:
            err.print(f"[bold red]{name}: сценарий с ошибками ({len(problems)}):[/bold red]")
            for p in problems:
                err.print(f"  • {p}", markup=False, highlight=False)
            continue
        own = plural(result.own_cases[regime], "тестовый пример сценария пройден", "тестовых примера сценария пройдены",
                     "тестовых примеров сценария пройдено")
        changed = result.changed_cases[regime]
        base = result.base_cases[regime]
        sys.stdout.write(f"{name}: сценарий в порядке — {scenario.label(regime)}; {own}; примеров каталога: "
                         f"{base}, из них сценарий меняет вывод {len(changed)}\n")
        for line in changed:
            sys.stdout.write(f"  изменён пример {line}\n")
    raise typer.Exit(EXIT_OK if result.ok else EXIT_INVALID)


def _print_summary(result) -> None:
    from rich.console import Console
    from rich.table import Table

    from .impact import totals_rows

    out = Console(soft_wrap=False, highlight=False)
    out.print(f"Проект: {result.scenario.title}; дата оценки {result.as_of:%d.%m.%Y}", markup=False)
    table = Table(title="Итоги", show_header=True)
    table.add_column("Показатель")
    table.add_column("Число", justify="right")
    for label, n in totals_rows(result):
        table.add_row(label, str(n))
    out.print(table)
    if result.transitions:
        table = Table(title="Как меняется итог")
        for column in ("Режим", "Сейчас", "По проекту", "Площадок"):
            table.add_column(column, justify="right" if column == "Площадок" else "left")
        for t in result.transitions:
            table.add_row(t.regime_title, t.before_text, t.after_text, str(t.sites))
        out.print(table)
    if result.requirements:
        table = Table(title="Требования, статус которых меняется")
        for column in ("Требование", "Площадок", "Появляется несоответствие", "Устраняется", "Иное"):
            table.add_column(column, justify="left" if column == "Требование" else "right")
        for x in result.requirements:
            table.add_row(f"{x.requirement_id} {x.title}", str(x.sites_changed), str(x.appears), str(x.vanishes),
                          str(x.status + x.shortfall))
        out.print(table)
    for note in result.notes:
        out.print(note, markup=False)
    for e in result.errors:
        sys.stdout.write(f"  ✗ {e.label}: {e.problem}\n")


@app.command(cls=RussianCommand, help="Оценить последствия проекта изменений: каждая заявка проверяется по действующему "
             "каталогу и по каталогу с проектом (сценарием) на одну дату; сводка — какие итоги меняются, у каких "
             "требований меняется статус, какие недостатки появляются или исчезают. Пишет таблицу .xlsx и рядом "
             ".json, по желанию — справку для письма (.docx).\n\nКод завершения — как у batch, по итогам заявок по "
             "проекту (1, затем 3, затем 0): 0 — по проекту все соответствуют; 1 — есть несоответствия, "
             "незавершённые оценки или файлы с ошибками; 3 — ждут оценки эксперта; 2 — ошибка в самой команде "
             "(нет файлов, ошибка в файле сценария, неверный --output).")
def impact(
    paths: list[Path] = typer.Argument(..., metavar="ЗАЯВКИ", help="файлы заявок и папки с ними (.json, .yaml, .xlsx)"),
    scenario_path: Path = typer.Option(..., "--scenario", "-s", metavar="ФАЙЛ", help="файл сценария (проекта изменений) .yaml"),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="ДАТА", help="дата оценки для всех заявок; по умолчанию — предполагаемая дата вступления проекта в силу"),
    output: Path = typer.Option(Path("impact.xlsx"), "--output", "-o", metavar="ФАЙЛ", help="сводка: .xlsx (рядом — .json с тем же именем) или только .json"),
    brief: Optional[Path] = typer.Option(None, "--brief", metavar="ФАЙЛ", help="справка для письма (.docx): итоги, таблицы, площадки по регионам"),
    organisation: Optional[Path] = typer.Option(None, "--organisation", metavar="ФАЙЛ", help="для справки: файл реквизитов организации (.yaml, .json); по умолчанию — из настройки COMPLIANCE_ORGANISATION_FILE"),
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from .impact import impact_docx, impact_json, impact_xlsx, run_impact

    when = _as_of(as_of)
    if output.suffix.lower() not in OUTPUT_SUFFIXES:
        _fail([Problem("--output", "сводка пишется в файл .xlsx (JSON — рядом, с тем же именем) или .json")])
    if brief is not None and brief.suffix.lower() != ".docx":
        _fail([Problem("--brief", f"справка пишется в файл Word .docx, а указан «{brief.name}»")])
    issuer = _issuer(organisation, None, None) if brief is not None else None
    scenario = _scenario(scenario_path)
    files = application_files(paths, skip=scenario_path)  # the scenario may lie among the applications
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, transient=True) as progress:
        task = progress.add_task("Оценка последствий проекта", total=len(files))
        result = run_impact([(str(f), f) for f in files], scenario, when,
                            progress=lambda done, total: progress.update(task, completed=done))
    written = []
    try:
        if output.suffix.lower() == ".xlsx":
            written.append(_save(output, impact_xlsx(result)))
        written.append(_save(output.with_suffix(".json"), impact_json(result)))
        if brief is not None:
            written.append(_save(brief, impact_docx(result, issuer)))
    except OSError as exc:
        _fail([f"не удалось записать {exc.filename or output}: {exc.strerror}"], "Ошибка записи")
    _print_summary(result)
    sys.stdout.write("Записано: " + ", ".join(map(str, written)) + "\n")
    verdicts = [r.verdict_after or "error" for s in result.sites if s.concerned for r in s.regimes]
    raise typer.Exit(exit_code(verdicts + ["error"] * len(result.errors)) if verdicts or result.errors else EXIT_OK)


def _save(path: Path, data: bytes) -> Path:
    """Atomically: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
