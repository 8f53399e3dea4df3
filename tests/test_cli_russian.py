"""The command line speaks Russian: every help screen, the usage line, option value names and defaults, usage errors
and typos (with the command or option meant), whatever the user's locale."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from compliance import cli
from compliance.catalog import available_regimes

COMMANDS = [[], ["check"], ["batch"], ["schema"], ["regimes"], ["template"], ["catalog"], ["catalog", "verify"], ["serve"], ["token"],
            ["token", "create"], ["token", "list"], ["token", "revoke"], ["judgements"], ["judgements", "bind"],
            ["impact"], ["watch"], ["recheck"], ["worker"]]
# words a help screen may show besides option and command names: codes and names the user types or sets (formats,
# file extensions, regime codes, the --set path syntax and the sections of a --set-file, the service's database
# variable and file, the batch's default file), and proper names
HELP_ALLOWED = {"compliance", "help", "json", "yaml", "yml", "xlsx", "docx", "md", "text", "all", "JSON", "YAML",
                "Excel", "FastAPI", "API", "SQLite", "Schema", "ID", "set", "delete", "land_plots.0.area.value",
                "COMPLIANCE_DATABASE_URL", "COMPLIANCE_ORGANISATION_FILE", "COMPLIANCE_JOBS_BROKER", "PostgreSQL", "Redis", "Ctrl",
                "C", "compliance.db", "pdf", "rtf", "html", "txt",
                "decrees", "rules", "batch-summary", "ip794", "T", "ics"}  # decrees, rules: the folders of a catalog copy (verify)
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
    (["check", "x.yaml", "--format", "odt"], "Недопустимое значение параметра --format: «odt»; допустимо: text, json, md, docx, pdf"),
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


# --- what the user writes: да/нет, an ИНН without quotes, a file saved in Windows-1251 ------------------------------
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
GAPS = str(FIXTURES / "ip794-created-gaps.yaml")


@pytest.mark.parametrize("word, after", [("да", "выполнено"), ("Да", "выполнено"), ("истина", "выполнено"),
                                         ("true", "выполнено"), ("нет", None), ("ложь", None), ("false", None)])
def test_set_accepts_yes_and_no_as_the_excel_template_does(monkeypatch, capsys, word, after):
    code, out, err = run(monkeypatch, capsys, "check", GAPS, "--set", f"road_access.hard_surface={word}")
    assert code == 1 and err == "", err
    if after:
        assert "794-P-9 Подъездная дорога: не выполнено → выполнено" in out
    else:
        assert "✗ 794-P-9 Подъездная дорога — подъезд без твёрдого покрытия" in out
        assert "794-P-9 Подъездная дорога: не выполнено →" not in out


def test_set_with_a_word_that_is_not_yes_or_no_names_the_field(monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, "check", GAPS, "--set", "road_access.hard_surface=может")
    assert code == 2
    flat = " ".join(err.split())
    assert ("road_access.hard_surface (подъездная дорога → твёрдое покрытие дороги): «может» — здесь нужно «да» или "
            "«нет» (можно также истина/ложь, true/false)") in flat
    # a text field keeps «да» as text: nothing is converted where a boolean is not expected
    code, out, err = run(monkeypatch, capsys, "check", GAPS, "--set", "site_name=да")
    assert code == 1 and "Площадка: да" in out


@pytest.mark.parametrize("written, digits, lost", [("7118015332", "7118015332", False), ("0274062111", None, True)])
def test_an_inn_without_quotes_gets_a_hint_to_quote_it(monkeypatch, capsys, tmp_path, written, digits, lost):
    text = Path(GAPS).read_text(encoding="utf-8")
    assert '  inn: "7118015332"' in text
    path = tmp_path / "заявка.yaml"
    path.write_text(text.replace('  inn: "7118015332"', f"  inn: {written}"), encoding="utf-8")
    code, out, err = run(monkeypatch, capsys, "check", str(path))
    assert code == 2
    flat = " ".join(err.split())
    assert "management_company.inn (управляющая компания → ИНН): ИНН заключите в кавычки: inn: " in flat
    assert f'inn: "{digits or "0123456789"}"' in flat
    assert ("ведущий ноль при этом теряется" in flat) == lost
    assert "ожидается строка" not in flat


def test_a_file_saved_in_windows_1251_is_read_as_in_utf8(monkeypatch, capsys, tmp_path):
    # the sample's text without the two signs Windows-1251 has no code for («≈», «³»: Notepad would not keep them)
    text = Path(GAPS).read_text(encoding="utf-8").replace("≈", "~").replace("³", "3")
    (tmp_path / "1251").mkdir()
    (tmp_path / "utf8").mkdir()
    path = tmp_path / "1251" / "заявка.yaml"
    path.write_bytes(text.encode("cp1251"))
    (tmp_path / "utf8" / "заявка.yaml").write_text(text, encoding="utf-8")
    code_1251, out_1251, err_1251 = run(monkeypatch, capsys, "check", str(path))
    code_utf8, out_utf8, _ = run(monkeypatch, capsys, "check", str(tmp_path / "utf8" / "заявка.yaml"))
    assert (code_1251, err_1251) == (1, "")
    def same(text: str) -> str:  # each check has its own number
        return re.sub(r"[0-9a-f]{32}", "№", text)
    assert same(out_1251) == same(out_utf8) and "Индустриальный парк «Упа-Север»" in out_1251


def test_the_batch_file_in_windows_1251_gets_the_verdict_of_its_utf8_original():
    from compliance.evaluate import evaluate
    from compliance.loading import load_application
    batch = FIXTURES / "batch"
    original = load_application(batch / "cluster-07-fd-20.json")
    read = load_application(batch / "cp1251-cluster-07-fd-20.json")
    assert (batch / "cp1251-cluster-07-fd-20.json").read_bytes() != (batch / "cluster-07-fd-20.json").read_bytes()
    assert read == original and evaluate(read, "cl779").verdict == "conforms"
