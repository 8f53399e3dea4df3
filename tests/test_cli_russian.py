"""The command line speaks Russian: every help screen, the usage line, option value names and defaults, usage errors
and typos (with the command or option meant), whatever the user's locale."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from compliance import cli
from compliance.catalog import available_regimes

COMMANDS = [[], ["check"], ["batch"], ["schema"], ["regimes"], ["template"], ["catalog"], ["serve"], ["token"],
            ["token", "create"], ["token", "list"], ["token", "revoke"], ["judgements"], ["judgements", "bind"]]
# words a help screen may show besides option and command names: codes and names the user types or sets (formats,
# file extensions, regime codes, the --set path syntax and the sections of a --set-file, the service's database
# variable and file, the batch's default file), and proper names
HELP_ALLOWED = {"compliance", "help", "json", "yaml", "yml", "xlsx", "docx", "md", "text", "all", "JSON", "YAML",
                "Excel", "FastAPI", "API", "SQLite", "Schema", "ID", "set", "delete", "land_plots.0.area.value",
                "COMPLIANCE_DATABASE_URL", "compliance.db", "batch-summary", "ip794"}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:[.-][A-Za-z0-9_]+)*")


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """The console script's entry point, in this process: (exit code, stdout, stderr)."""
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("LANG", "C.UTF-8")  # a locale without Russian: the Russian must not depend on it
    monkeypatch.setenv("LANGUAGE", "en")
    monkeypatch.setattr(sys, "argv", ["compliance", *args])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    out = capsys.readouterr()
    return stop.value.code, out.out, out.err


def _names() -> set[str]:
    """Command names and option names (without dashes) of the whole command line."""
    import typer
    root = typer.main.get_command(cli.app)
    names: set[str] = set()

    def walk(cmd):
        for p in cmd.params:
            names.update(o.lstrip("-") for o in p.opts)
            desc = getattr(p, "type_descriptor", None)
            if desc is not None and getattr(desc, "is_choice", False):
                names.update(str(getattr(c, "value", c)) for c in desc.choices)
        for name, sub in getattr(cmd, "commands", {}).items():
            names.add(name)
            walk(sub)
    walk(root)
    return names | set(available_regimes())


def _no_extensions(text: str) -> str:
    return re.sub(r"\.(json|yaml|yml|xlsx|docx)\b", "", text)


def english(text: str, allowed: set[str]) -> list[str]:
    text = _no_extensions(text)
    return [w for w in WORD.findall(text) if w not in allowed and w.strip(".") not in allowed]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "compliance")
def test_every_help_screen_is_russian(monkeypatch, capsys, command):
    code, out, err = run(monkeypatch, capsys, *command, "--help")
    assert code == 0 and err == ""
    assert out.startswith(f"Использование: compliance {' '.join(command)}".replace("  ", " ").rstrip() + " ")
    assert "Показать эту справку и выйти." in out
    assert english(out, _names() | HELP_ALLOWED) == [], out
    for word in ("Usage", "Options", "Arguments", "Commands", "default", "required", "OPTIONS", "COMMAND", "ARGS",
                 "<path>", "<str>", "<int>", "list[", "Show this message"):
        assert word not in out, (word, out)


def test_check_help_shows_value_names_and_defaults_in_russian(monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, "check", "--help")
    flat = " ".join(out.split())
    assert "Использование: compliance check [ПАРАМЕТРЫ] ЗАЯВКА" in flat
    assert "Аргументы:" in out and "Параметры:" in out
    assert "ЗАЯВКА файл заявки" in flat and "[обязательно]" in flat
    assert "-r, --regime КОД" in flat and "--as-of ДАТА" in flat and "-o, --output ФАЙЛ" in flat
    assert "--set ПУТЬ=ЗНАЧЕНИЕ" in flat
    assert "[по умолчанию: text]" in flat
    code, out, _ = run(monkeypatch, capsys)
    assert code == 0 and "Использование: compliance [ПАРАМЕТРЫ] КОМАНДА [АРГУМЕНТЫ]..." in out and "Команды:" in out


USAGE_ERRORS = [
    (["chek"], "Нет такой команды 'chek'. Возможно, вы имели в виду 'check'?"),
    (["token", "creat"], "Нет такой команды 'creat'. Возможно, вы имели в виду 'create'?"),
    (["judgements", "bnd"], "Нет такой команды 'bnd'. Возможно, вы имели в виду 'bind'?"),
    (["zzz"], "Нет такой команды 'zzz'."),
    (["check", "x.yaml", "--regim", "ip794"], "Нет такого параметра '--regim'. Возможно, вы имели в виду '--regime'?"),
    (["check", "x.yaml", "--fromat", "json"], "Нет такого параметра '--fromat'. Возможно, вы имели в виду '--format'?"),
    (["check", "x.yaml", "--bogus"], "Нет такого параметра '--bogus'."),
    (["check"], "Не указан обязательный аргумент ЗАЯВКА"),
    (["batch"], "Не указан обязательный аргумент ЗАЯВКИ"),
    (["template", "cl779"], "Не указан обязательный параметр --output"),
    (["check", "x.yaml", "--format", "pdf"], "Недопустимое значение параметра --format: «pdf»; допустимо: text, json, md, docx"),
    (["serve", "--port", "abc"], "Недопустимое значение параметра --port: «abc» — нужно целое число"),
    (["token", "revoke", "abc"], "Недопустимое значение параметра НОМЕР: «abc» — нужно целое число"),
    (["check", "a.yaml", "b.yaml"], "Лишний аргумент: b.yaml"),
    (["check", "x.yaml", "-o"], "После параметра -o нужно значение"),
    (["check", "x.yaml", "--freshness=1"], "Параметр --freshness пишется без значения"),
]


@pytest.mark.parametrize("args, message", USAGE_ERRORS, ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_usage_errors_and_typos_are_russian(monkeypatch, capsys, args, message):
    code, out, err = run(monkeypatch, capsys, *args)
    assert code == 2 and out == ""
    assert f"Ошибка: {message}\n" in err, err
    assert "Справка: compliance --help или compliance КОМАНДА --help" in err
    # no English: only what the user typed, the names of options and commands, and the program's name
    typed = {w for a in args for w in WORD.findall(_no_extensions(a))}
    assert english(err, _names() | typed | {"compliance", "help"}) == [], err
    assert "Traceback" not in err


def test_the_help_words_taken_from_typer_are_still_typers():
    """typer marks a few help words with gettext; cli_ru translates those ids. An upgrade of typer that renames one
    would leave it English: this says which."""
    import typer.core
    from compliance.cli_ru import HELP_WORDS
    source = Path(typer.core.__file__).read_text(encoding="utf-8")
    used = {"Arguments", "Options", "Commands", "required", "default: {default}"}
    for msgid in used:
        assert f'_("{msgid}")' in source, msgid
    assert used <= set(HELP_WORDS)
