"""`compliance catalog verify`: check a regime's catalog against the text of its act saved from a legal reference
system or the publication portal, and (only when asked) write what the text confirmed into the catalog."""
from __future__ import annotations

import sys
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from .catalog import ROOT, CatalogError, load_catalog
from .cli import EXIT_GAPS, EXIT_INVALID, EXIT_OK, DOCX_NEEDS_OUTPUT, _fail, _write, catalog_app, err
from .cli_ru import RussianCommand
from .loading import Problem
from .models import _parse_date


class VerifyFmt(str, Enum):
    text = "text"
    json = "json"
    docx = "docx"


def _date(option: str, value: Optional[str]) -> Optional[date]:
    if value is None:
        return None
    try:
        return _parse_date(value)
    except ValueError as exc:
        _fail([Problem(option, str(exc))])


@catalog_app.command("verify", cls=RussianCommand)
def verify_command(
    regime: str = typer.Option(..., "--regime", "-r", metavar="КОД", help="код режима, каталог которого сверяется"),
    text: Path = typer.Option(..., "--text", "-t", metavar="ФАЙЛ", help="текст акта: .docx, .rtf, .html, .txt или .pdf"),
    edition: Optional[str] = typer.Option(None, "--edition", metavar="ДАТА", help="дата редакции текста (ДД.ММ.ГГГГ), если в "
                                          "тексте её нет; для акта об изменениях — дата вступления в силу"),
    fmt: VerifyFmt = typer.Option(VerifyFmt.text, "--format", "-f", help="text, json или docx — документ для "
                                  "эксперта (нужен --output)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="ФАЙЛ", help="куда записать (для docx обязательно)"),
    apply_: bool = typer.Option(False, "--apply", help="записать в каталог подтверждённые пункты и значения "
                                "(достоверность T) и проверить каталог"),
    apply_contradicted: bool = typer.Option(False, "--apply-contradicted", help="вместе с --apply: добавить "
                                            "значения, расходящиеся с каталогом, новыми датированными значениями "
                                            "(нужен --from)"),
    from_: Optional[str] = typer.Option(None, "--from", metavar="ДАТА", help="дата, с которой действуют новые значения "
                                        "(ДД.ММ.ГГГГ)"),
    root: Optional[Path] = typer.Option(None, "--catalog", metavar="ПАПКА", help="папка каталога (с папками decrees и rules); по "
                                        "умолчанию — каталог программы"),
) -> None:
    """Сверить каталог требований с текстом акта: найти пункты, в которых изложено каждое требование, и сравнить
    нормативы каталога со значениями в тексте. Коды завершения: 0 — сверка выполнена; 1 — после --apply каталог не
    проходит проверку; 2 — ошибка во входных данных."""
    from .acttext import ActTextError, parse
    from .actmatch import verify
    from .actreport import render_docx, render_json, render_text

    when = _date("--edition", edition)
    start = _date("--from", from_)
    if apply_contradicted and start is None:
        _fail([Problem("--from", "для --apply-contradicted укажите дату, с которой действуют новые значения, "
                                 "например --from 01.03.2027")])
    if start is not None and not apply_contradicted:
        _fail([Problem("--from", "дата --from нужна только вместе с --apply-contradicted")])
    if apply_contradicted and not apply_:
        apply_ = True
    if fmt == VerifyFmt.docx and output is None:
        _fail([Problem("--output", DOCX_NEEDS_OUTPUT.replace("отчёт.docx", "сверка.docx"))])
    catalog_root = root.resolve() if root else ROOT
    if root is not None and not (catalog_root / "decrees").is_dir():
        _fail([Problem("--catalog", f"в папке {root} нет папки decrees с каталогом")])
    try:
        catalog = load_catalog(regime, catalog_root)
    except CatalogError as exc:
        _fail(str(exc).splitlines(), "Ошибка каталога требований")
    try:
        act = parse(text)
    except ActTextError as exc:
        _fail([str(exc)], "Текст акта не прочитан")
    result = verify(catalog, act, when)
    if fmt == VerifyFmt.json:
        _write(render_json(result), output)
    elif fmt == VerifyFmt.docx:
        _write(render_docx(result, catalog), output)
    else:
        _write(render_text(result, catalog), output)
    if not apply_:
        raise typer.Exit(EXIT_OK)
    if result.other_act:
        _fail([f"{result.other_act}. Сверьте каталог с текстом его акта."], "Каталог не изменён")
    from .actapply import apply

    received = datetime.fromtimestamp(text.stat().st_mtime).date()
    try:
        applied = apply(result, catalog_root, received, start if apply_contradicted else None)
    except (CatalogError, OSError) as exc:
        _fail([str(exc)], "Каталог не изменён")
    sys.stdout.write(f"\nИзменения в каталоге ({len(applied.changes)}):\n")
    for line in applied.changes or ["нет подтверждённых пунктов и значений — каталог не изменён"]:
        sys.stdout.write(f"  • {line}\n")
    if applied.problems:
        err.print(f"[bold red]После изменений каталог не проходит проверку ({len(applied.problems)}):[/bold red]")
        for p in applied.problems:
            err.print(f"  • {p}", markup=False, highlight=False)
        raise typer.Exit(EXIT_GAPS)
    sys.stdout.write(f"Каталог проверен: ошибок нет, тестовых примеров пройдено: {applied.cases}.\n")
    raise typer.Exit(EXIT_OK)

