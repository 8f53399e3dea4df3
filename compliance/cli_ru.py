"""The command line in Russian: help screens, usage lines, usage errors and typos.

typer (0.29 here) carries its own copy of click (`typer._click`) whose help and error texts are plain English
f-strings, not gettext messages, so a translation catalogue cannot reach them. Everything a person reads is therefore
set where click keeps it, through click's own extension points:

- the command classes below (`typer.Typer(cls=RussianGroup)`, `@app.command(cls=RussianCommand)`): the usage line
  («Использование: compliance check [ПАРАМЕТРЫ] ЗАЯВКА»), the help option's text, a mistyped command answered with the
  closest command's name (difflib), unexpected extra arguments;
- every option's and argument's metavar (compliance/cli.py) — the value's name in Russian instead of <path>, <str>;
- the few help words typer itself marks with gettext (the section headings «Аргументы», «Параметры», «Команды», the
  «[по умолчанию: …]» and «[обязательно]» marks): `typer.core._` is bound to the small catalogue HELP_WORDS —
  `tests/test_cli_russian.py` fails when an installed typer no longer uses one of these words;
- usage errors: `usage_error()` builds the Russian message from the exception's data (the option's name, the value,
  the allowed values), never by translating click's English sentence; `compliance.cli.main` prints it.
"""
from __future__ import annotations

import difflib
import re
from typing import Any

import typer.core
from typer._click import exceptions as click_exc
from typer.core import TyperCommand, TyperGroup

OPTIONS_METAVAR = "[ПАРАМЕТРЫ]"
SUBCOMMAND_METAVAR = "КОМАНДА [АРГУМЕНТЫ]..."
USAGE_PREFIX = "Использование: "
HELP_OPTION_TEXT = "Показать эту справку и выйти."
HELP_HINT = "Справка: compliance --help или compliance КОМАНДА --help"

# typer.core's gettext message ids -> Russian
HELP_WORDS: dict[str, str] = {
    "Arguments": "Аргументы",
    "Options": "Параметры",
    "Commands": "Команды",
    "required": "обязательно",
    "default: {default}": "по умолчанию: {default}",
    "env var: {var}": "переменная окружения: {var}",
    "(dynamic)": "(вычисляется)",
    "Aborted!": "Прервано.",
    "Missing command.": "Не указана команда.",
    "No such command {name!r}.": "Нет такой команды {name!r}.",
}


def _help_word(message: str) -> str:
    return HELP_WORDS.get(message, message)


def install() -> None:
    """Bind typer's help words to Russian (idempotent)."""
    typer.core._ = _help_word


class UnknownCommand(click_exc.UsageError):
    """A command name that is not there; `closest` is the command meant, if any looks like it."""

    def __init__(self, name: str, closest: str | None, ctx: Any = None) -> None:
        message = f"Нет такой команды '{name}'." + (f" Возможно, вы имели в виду '{closest}'?" if closest else "")
        super().__init__(message, ctx)
        self.name, self.closest = name, closest


class ExtraArguments(click_exc.UsageError):
    def __init__(self, args: list[str], ctx: Any = None) -> None:
        shown = " ".join(args)
        super().__init__(("Лишний аргумент" if len(args) == 1 else "Лишние аргументы") + f": {shown}", ctx)
        self.args_ = args


class _Russian:
    """What a command and a group share: the usage line and the help option in Russian."""

    def format_usage(self, ctx, formatter) -> None:
        pieces = self.collect_usage_pieces(ctx)
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE_PREFIX)

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option


class RussianCommand(_Russian, TyperCommand):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.options_metavar = OPTIONS_METAVAR
        for param in self.params:
            if param.param_type_name == "argument" and param.metavar:
                # the Russian metavar names the value («ЗАЯВКА»): no English type after it («<path>»)
                param.display_type_rich = lambda ctx=None: None

    def collect_usage_pieces(self, ctx) -> list[str]:
        # «ЗАЯВКА», not typer's «{ЗАЯВКА}» for a required argument
        return [re.sub(r"^\{(.*)\}((?:\.\.\.)?)$", r"\1\2", piece) for piece in super().collect_usage_pieces(ctx)]

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        allowed = ctx.allow_extra_args
        ctx.allow_extra_args = True  # the leftovers are refused below, in Russian
        try:
            rest = super().parse_args(ctx, args)
        finally:
            ctx.allow_extra_args = allowed
        if rest and not allowed and not ctx.resilient_parsing:
            raise ExtraArguments(list(rest), ctx)
        return rest


class RussianGroup(_Russian, TyperGroup):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.options_metavar = OPTIONS_METAVAR
        self.subcommand_metavar = SUBCOMMAND_METAVAR

    def resolve_command(self, ctx, args: list[str]):
        name = args[0] if args else ""
        if args and not name.startswith("-") and not ctx.resilient_parsing and self.get_command(ctx, name) is None:
            closest = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            raise UnknownCommand(name, closest[0] if closest else None, ctx)
        return super().resolve_command(ctx, args)


# --- usage errors --------------------------------------------------------------------------------------------------
def _param_name(param) -> str:
    """How the user wrote or would write a parameter: '--format' for an option, its metavar for an argument."""
    if param is None:
        return ""
    if getattr(param, "param_type_name", "") == "argument":
        return param.metavar or param.name.upper()
    opts = sorted(param.opts, key=len, reverse=True)  # the long name: '--format', not '-f'
    return opts[0] if opts else param.name


def _choices(param) -> list[str]:
    desc = getattr(param, "type_descriptor", None)
    if desc is None or not getattr(desc, "is_choice", False):
        return []
    return [str(getattr(c, "value", c)) for c in desc.choices or ()]


_PYDANTIC_RU = {
    "int_parsing": "нужно целое число", "int_from_float": "нужно целое число", "float_parsing": "нужно число",
    "bool_parsing": "нужно «да» или «нет»", "date_parsing": "нужна дата ГГГГ-ММ-ДД", "date_from_datetime_parsing":
    "нужна дата ГГГГ-ММ-ДД", "string_type": "нужен текст", "path_type": "нужен путь к файлу",
}


def _bad_value(exc) -> str:
    param = exc.param
    name = _param_name(param)
    cause = exc.__cause__
    value = None
    reason = None
    errors = cause.errors() if hasattr(cause, "errors") else []
    if errors:
        value = errors[0].get("input")
        reason = _PYDANTIC_RU.get(errors[0].get("type", ""))
    choices = _choices(param)
    shown = f": «{value}»" if value is not None and not isinstance(value, (list, tuple)) else ""
    if choices:
        return f"недопустимое значение параметра {name}{shown}; допустимо: {', '.join(choices)}"
    return f"недопустимое значение параметра {name}{shown}" + (f" — {reason}" if reason else "")


def usage_error(exc: Exception) -> str:
    """The Russian message of a usage error of the command-line parser."""
    if isinstance(exc, (UnknownCommand, ExtraArguments)):
        return exc.message
    if isinstance(exc, click_exc.NoSuchOption):
        closest = difflib.get_close_matches(exc.option_name, exc.possibilities or [], n=1)
        return (f"Нет такого параметра '{exc.option_name}'."
                + (f" Возможно, вы имели в виду '{closest[0]}'?" if closest else ""))
    if isinstance(exc, click_exc.MissingParameter):
        param = exc.param
        what = "аргумент" if getattr(param, "param_type_name", "") == "argument" else "параметр"
        return f"не указан обязательный {what} {_param_name(param)}".rstrip()
    if isinstance(exc, click_exc.BadParameter):
        return _bad_value(exc)
    if isinstance(exc, click_exc.BadOptionUsage):
        option = getattr(exc, "option_name", "")
        if "does not take a value" in exc.message:
            return f"параметр {option} пишется без значения"
        return f"после параметра {option} нужно значение"
    if isinstance(exc, click_exc.BadArgumentUsage):
        return "неверное число значений аргумента"
    return "ошибка в команде"  # a usage error click has no class for: say so without its English text
