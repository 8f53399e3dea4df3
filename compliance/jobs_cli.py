"""`compliance recheck` (re-check the stored applications under the current catalog, as a job run in this process, with
a progress bar) and `compliance worker` (a consumer of background jobs — on this machine or on another one sharing the
database and the queue)."""
from __future__ import annotations

import sys
from typing import Optional

import typer

from .cli import EXIT_OK, _fail, app, err
from .cli_ru import RussianCommand
from .loading import Problem


def _sessions():
    from .settings import get_settings
    from .storage import session_factory

    return session_factory(get_settings().database_url)


@app.command(cls=RussianCommand)
def recheck(
    org: Optional[str] = typer.Option(None, "--org", metavar="ОРГАНИЗАЦИЯ", help="только заявки этой организации "
                                      "(по умолчанию — заявки всех организаций)"),
) -> None:
    """Проверить заново последнюю версию каждой сохранённой заявки по текущему каталогу (в базе
    COMPLIANCE_DATABASE_URL): каждая проверка сохраняется, выводятся заявки, у которых изменился итог, и что
    изменилось по требованиям. Выполняется в этом процессе как задание (его видно на странице «Задания»)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from sqlalchemy import select

    from api import recheck as kind
    from compliance.jobs import Job, run_job
    from compliance.report import STATUS_RU, VERDICT_RU
    from compliance.labels import regime_name
    from compliance.storage import Organisation

    sessions = _sessions()
    with sessions() as s:
        org_id = None
        if org is not None:
            row = s.scalar(select(Organisation).where(Organisation.name == org.strip()))
            if row is None:
                _fail([Problem("--org", f"организации «{org.strip()}» нет")])
            org_id = row.id
        job = kind.start(s, org_id, None, "own" if org_id is not None else "all")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, transient=True) as progress:
        task = progress.add_task("Повторная проверка заявок", total=job.total)
        status = run_job(sessions, job.id, progress=lambda p: progress.update(task, completed=p.done))
    with sessions() as s:
        job = s.get(Job, job.id)
    if status != "done":
        err.print(f"[bold red]Повторная проверка не завершена:[/bold red] {job.error or status}", highlight=False)
        raise typer.Exit(4)
    result = job.result
    err.print(f"Проверено заявок: {result['total']}; по каталогу проверены впервые: {result['first_checks']}; "
              f"не проверены из-за ошибок: {result['error_count']}.", highlight=False)
    lines = [result["message"][:1].upper() + result["message"][1:] + ".\n"]
    for item in result["items"]:
        if "error" in item:
            lines.append(f"\n{item['site_name'] or item['application_id']}: {item['error']}\n")
            continue
        if not item["verdict_changed"]:
            continue
        lines.append(f"\n{item['site_name']} ({item['organisation']}), версия {item['version']}:\n")
        for regime in item["regimes"]:
            before = VERDICT_RU.get(regime["verdict_before"], "—") if regime["verdict_before"] else "—"
            after = VERDICT_RU.get(regime["verdict_after"], "—") if regime["verdict_after"] else "—"
            lines.append(f"  {regime_name(regime['regime'])}: {before} → {after}\n")
            for c in regime["changes"]:
                lines.append(f"    {c['requirement_id']} {c['title']}: {STATUS_RU.get(c['before'], c['before'])} → "
                             f"{STATUS_RU.get(c['after'], c['after'])}\n")
            for rid in regime["added"]:
                lines.append(f"    {rid}: новое требование каталога\n")
            for rid in regime["removed"]:
                lines.append(f"    {rid}: требования больше нет в каталоге\n")
    sys.stdout.write("".join(lines))
    raise typer.Exit(EXIT_OK)


@app.command(cls=RussianCommand)
def worker(
    workers: int = typer.Option(1, "--workers", metavar="ЧИСЛО", help="сколько заданий выполнять одновременно "
                                "(отдельными процессами), от 1 до 64"),
) -> None:
    """Выполнять фоновые задания сервиса (повторные проверки) из очереди COMPLIANCE_JOBS_BROKER с базой
    COMPLIANCE_DATABASE_URL — на этой машине или на другой с общей базой PostgreSQL и общей очередью Redis.
    Остановка — Ctrl+C (задание, прерванное на середине, продолжит другой обработчик или этот после запуска)."""
    from compliance.jobs import check_location, consume, queue_location
    from compliance.settings import get_settings

    if not 1 <= workers <= 64:
        _fail([Problem("--workers", f"число обработчиков должно быть от 1 до 64, а не {workers}")])
    settings = get_settings()
    location = queue_location(settings.jobs_broker, settings.database_url)
    try:
        check_location(location)
    except ValueError as exc:
        _fail([Problem("COMPLIANCE_JOBS_BROKER", str(exc))])
    _sessions()  # the schema is brought up to date (migrations) before any job is taken
    err.print(f"Обработчик заданий: база {settings.database_url}, очередь {location}; остановка — Ctrl+C",
              highlight=False)
    consume(location, settings.database_url, settings.jobs_stale_after, workers=workers)
