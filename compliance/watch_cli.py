"""`compliance watch`: what falls due for the applications in the given files and folders, soonest first."""
from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from .cli import EXIT_GAPS, EXIT_OK, _as_of, _fail, _write, app, application_files, err
from .cli_ru import RussianCommand
from .loading import InputError, Problem, load_application
from .settings import today


MAX_WITHIN = 36500  # a hundred years


class WatchFmt(str, Enum):
    text = "text"
    json = "json"
    ics = "ics"


def _judgements(paths: list[Path]):  # noqa: ANN202
    from .judgements import load_judgements

    out = []
    for path in paths:
        try:
            out.append(load_judgements(path))
        except InputError as exc:
            _fail(exc.problems)
    return out


def _of(app_model, judgements: list):  # noqa: ANN001, ANN202
    """The judgements file made on this application: by its hash, else by the site's name."""
    from .fingerprint import input_hash

    if not judgements:
        return None
    digest = input_hash(app_model)
    for j in judgements:
        if j.application and j.application.input_hash == digest:
            return j
    return next((j for j in judgements if j.application and j.application.site_name == app_model.site_name), None)


@app.command(cls=RussianCommand, help="Сроки по заявкам: окончание действия решения о соответствии и подача документов на "
                  "повторное подтверждение, окончание аренды, договоров и соглашений, срок действия и свежесть "
                  "документов, принятые отклонения, уведомления об изменениях — ближайшие первыми, с ID требования и "
                  "правилом, по которому получена дата.\n\nКод завершения: 0 — все файлы прочитаны; 1 — часть файлов "
                  "прочитать не удалось (они перечислены, по остальным сроки выведены); 2 — ошибка в самой команде.")
def watch(
    paths: list[Path] = typer.Argument(..., metavar="ЗАЯВКИ", help="файлы заявок и папки с ними (.json, .yaml, .xlsx)"),
    within: int = typer.Option(90, "--within", metavar="ДНЕЙ",
                               help="показать сроки, наступающие не позже чем через столько дней, от 0 до 36 500 "
                                    "(просроченные — всегда)"),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="ДАТА", help="на какую дату считать (ГГГГ-ММ-ДД); по умолчанию — сегодня"),
    fmt: WatchFmt = typer.Option(WatchFmt.text, "--format", "-f", help="формат: таблица, JSON или календарь .ics"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="ФАЙЛ", help="куда записать (по умолчанию — на экран)"),
    judgements_files: list[Path] = typer.Option([], "--judgements", metavar="ФАЙЛ", help="файл оценок эксперта: сроки принятых отклонений (можно несколько)"),
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from .watch import deadlines, order, render_text, to_ics
    from .watch import within as within_days

    if not 0 <= within <= MAX_WITHIN:
        _fail([Problem("--within", f"число дней от 0 до {MAX_WITHIN}, а указано {within}")])
    when = _as_of(as_of) or today()
    files = application_files(paths)
    judgements = _judgements(judgements_files)
    items, unreadable, cache = [], [], {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err,
                  transient=True) as progress:
        task = progress.add_task("Сроки по заявкам", total=len(files))
        for path in files:
            try:
                model = load_application(path)
            except InputError as exc:
                unreadable.append((path, "; ".join(map(str, exc.problems))))
            else:
                items += deadlines(model, when, str(path), _of(model, judgements), cache)
            progress.advance(task)
    shown = within_days(order(items), when, within)
    for path, problem in unreadable:
        err.print(f"Не удалось прочитать {path}: {problem}", markup=False, highlight=False)
    if fmt == WatchFmt.json:
        body = json.dumps({"as_of": when.isoformat(), "within_days": within, "files": len(files),
                           "unreadable": [{"file": str(p), "problem": m} for p, m in unreadable],
                           "deadlines": [d.model_dump(mode="json") for d in shown]}, ensure_ascii=False, indent=2)
        _write(body + "\n", output)
    elif fmt == WatchFmt.ics:
        _write(to_ics(shown, when), output)
    else:
        _write(render_text(shown, when, within, color=output is None and sys.stdout.isatty()), output)
    raise typer.Exit(EXIT_GAPS if unreadable else EXIT_OK)
