"""Read an application file (JSON, YAML or an Excel cluster workbook) into the validated model; every problem becomes a Russian message
with the field path, never a traceback."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .formatting import field_label
from .formatting import size as size_text
from .models import Application
from .parsers import DuplicateKey, TooDeep, TooLarge, json_problem, load_json, load_yaml, yaml_problem

MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        if not self.path:
            return self.message
        label = field_label(self.path)
        return f"{self.path} ({label}): {self.message}" if label != self.path else f"{self.path}: {self.message}"


class InputError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


class InputTooLarge(InputError):
    """Input refused for its size or its expansion (a workbook or YAML over a limit): the service answers 413."""


_TYPE_RU = {"str": "строка", "int": "целое число", "float": "число", "bool": "логическое значение",
            "list": "список", "dict": "объект", "NoneType": "пустое значение"}
# The same in the instrumental case, for «должна быть объектом, а не списком».
_TYPE_RU_INSTRUMENTAL = {"str": "строкой", "int": "целым числом", "float": "числом", "bool": "логическим значением",
                         "list": "списком", "dict": "объектом", "NoneType": "пустым значением"}


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and re.search(r"[\[\](]", part):
            continue  # union / validator branch tags
        else:
            out += ("." if out else "") + part
    return out


def _too_large(given: Any) -> bool:
    """A number no field can hold: an infinity, NaN, or an integer beyond the range of a float."""
    if isinstance(given, float):
        return not math.isfinite(given)
    return isinstance(given, int) and not isinstance(given, bool) and given.bit_length() > 1000


def _non_finite(given: Any) -> str:
    if isinstance(given, float) and math.isnan(given):
        return "передано «не число» (NaN): укажите число"
    return "число слишком велико (бесконечность или число из сотен цифр): укажите реальное значение"


def _message(err: dict[str, Any]) -> tuple[str, str]:
    """(extra path, Russian message) for one pydantic error; never pydantic's English text."""
    t, ctx, given = err["type"], err.get("ctx") or {}, err.get("input")
    given_type = _TYPE_RU.get(type(given).__name__, "значение другого типа")
    if t == "missing":
        return "", "обязательное поле не заполнено"
    if t == "extra_forbidden":
        return "", "неизвестное поле (проверьте написание; список полей — `compliance schema`)"
    if t == "finite_number" or (t in ("float_type", "int_type") and _too_large(given)):
        return "", _non_finite(given)
    if t in ("int_from_float", "int_parsing") or (t == "int_type" and isinstance(given, float)):
        return "", f"ожидается целое число, а передано «{given}»"
    if t in ("float_type", "int_type", "float_parsing"):
        shown = f" «{given}»" if isinstance(given, str) else ""
        return "", f"ожидается число, а передано: {given_type}{shown} (число пишется без кавычек)"
    if t == "bool_type":
        return "", f"ожидается true или false, а передано: {given_type} «{given}»"
    if t == "string_type":
        key = next((str(x) for x in reversed(err.get("loc", ())) if isinstance(x, str)), "")
        if key.endswith("inn") and isinstance(given, (int, float)) and not isinstance(given, bool):
            return "", _inn_hint(key, given)
        return "", f"ожидается строка, а передано: {given_type}"
    if t in ("list_type",):
        return "", "ожидается список"
    if t in ("model_type", "dict_type", "model_attributes_type"):
        return "", "ожидается объект с полями"
    if t == "literal_error":
        return "", f"недопустимое значение «{given}»; допустимо: {str(ctx.get('expected', '')).replace(' or ', ' или ')}"
    if t == "greater_than_equal":
        if ctx.get("ge") == 0:
            return "", f"значение не может быть отрицательным (передано {given})"
        return "", f"значение должно быть не меньше {_bound(ctx.get('ge'))}"
    if t in ("less_than_equal", "less_than"):
        return "", f"значение {_bound(given)} больше допустимого: не больше {_bound(ctx.get('le', ctx.get('lt')))}"
    if t == "greater_than":
        return "", f"значение должно быть больше {_bound(ctx.get('gt'))}"
    if t == "string_pattern_mismatch":
        return "", f"значение «{given}» не соответствует формату"
    if t == "string_too_short":
        return "", "пустое значение не допускается"
    if t == "too_short":
        return "", "список не может быть пустым"
    if t == "too_long":
        return "", f"слишком много элементов (не больше {ctx.get('max_length')})"
    if t == "string_too_long":
        return "", f"строка слишком длинная (не больше {ctx.get('max_length')} символов)"
    if t == "invalid_key":
        return "", f"ключ «{given}» — не строка: названия полей пишутся буквами (например, в YAML «2025:» или " \
                   "«true:» — не название поля)"
    if t in ("date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"):
        return "", "ожидается дата в формате ГГГГ-ММ-ДД или ДД.ММ.ГГГГ"
    if t == "recursion_loop":
        return "", "слишком глубокая вложенность данных"
    if t == "value_error":
        error = str(ctx.get("error", ""))
        return "", error if re.search(r"[а-яё]", error, re.I) else "недопустимое значение"
    return "", "недопустимое значение"


def _inn_hint(key: str, given: int | float) -> str:
    """An ИНН written without quotes: YAML and JSON read it as a number (a leading zero is lost, and YAML reads
    digits 0–7 after a leading zero as an octal number)."""
    digits = str(int(given)) if isinstance(given, int) or float(given).is_integer() else str(given)
    example = digits if len(digits) in (10, 12) else "0123456789"
    lost = "" if len(digits) in (10, 12) else " (ведущий ноль при этом теряется — впишите ИНН полностью)"
    return (f'ИНН заключите в кавычки: {key}: "{example}" — без кавычек ИНН читается как число {digits}{lost}')


def _bound(x: Any) -> str:
    """A number in a message about a bound: 20000.0 -> '20 000', 1e15 -> '1 000 000 000 000 000'."""
    from .formatting import num
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e18:
        x = int(x)
    return num(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and abs(x) < 10**18 else str(x)


def problems_from(exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors():
        path = _loc(err["loc"])
        extra, message = _message(err)
        # a model-level validator reports one problem a line, each as "sub.path: message"
        for line in message.split("\n") if err["type"] == "value_error" else [message]:
            m = re.match(r"^([a-z_][\w\[\]\.]*): (.*)$", line, re.S)
            sub, text = (m.group(1), m.group(2)) if m else ("", line)
            out.append(Problem(".".join(x for x in (path, extra, sub) if x), text))
    return out


# Windows-1251: what Notepad and Excel on a Russian Windows save by default. Read when the text is plausibly
# Cyrillic: every character beyond ASCII a letter of the Russian (or Ukrainian, Belarusian) alphabet or common
# typographic sign, no word mixing Latin and Cyrillic letters, and «Р»/«С» not half of the letters — the mark of
# UTF-8 read as Windows-1251 («РџР°СЂРє»).
_CP1251_LETTERS = re.compile(r"[А-Яа-яЁёІіЇїЄєҐґЎў]")
_CP1251_ALLOWED = re.compile(r"[А-Яа-яЁёІіЇїЄєҐґЎў«»—–№…“”„‘’\u00a0•°§±·‰©®™€]")
_MIXED_WORD = re.compile(r"[A-Za-z][А-Яа-яЁё]|[А-Яа-яЁё][A-Za-z]")
HOW_TO_UTF8 = ("сохраните его в кодировке UTF-8: в Блокноте — «Файл → Сохранить как…», в поле «Кодировка» выберите "
               "UTF-8 и сохраните")


def _cp1251_text(raw: bytes) -> str | None:
    try:
        text = raw.decode("cp1251")
    except UnicodeDecodeError:
        return None
    beyond = [c for c in text if ord(c) > 127]
    letters = [c for c in beyond if _CP1251_LETTERS.match(c)]
    if not letters or any(not _CP1251_ALLOWED.match(c) for c in beyond):
        return None
    if sum(c in "РС" for c in letters) * 2 >= len(letters) and len(letters) > 4:
        return None
    if _MIXED_WORD.search(text):  # «GrцЯe»: Latin-1 or another code page, not Russian text
        return None
    words = re.findall(r"[А-Яа-яЁё]{3,}", text)
    if sum(w[0].islower() and w[1:].isupper() for w in words) * 2 > len(words):  # «пАРК»: KOI8-R, not 1251
        return None
    return text


def decode_text(raw: bytes, name: str, source: str = "") -> str:
    """The text of an uploaded or given file: UTF-8 (with or without a BOM), or Windows-1251 when the bytes are not
    UTF-8 and read as Cyrillic text; anything else is refused, saying how to convert it."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = _cp1251_text(raw)
        if text is not None:
            return text
        raise InputError([Problem(source, f"файл «{name}» не в кодировке UTF-8 (байт {exc.start}) и не русский текст "
                                          f"в кодировке 1251; {HOW_TO_UTF8}")]) from None


def parse_document(raw: bytes, name: str, source: str = "") -> Any:
    """The data of a .json / .yaml file; InputError (its problems under `source`, e.g. "--set-file") when it does not
    read."""
    suffix = Path(name).suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise InputError([Problem(source, f"неподдерживаемый формат файла «{suffix or name}»: ожидается .json, "
                                          ".yaml, .yml или .xlsx")])
    text = decode_text(raw, name, source)
    try:
        return load_json(text) if suffix == ".json" else load_yaml(text)
    except (RecursionError, TooDeep):
        raise InputError([Problem(source, f"файл «{name}» слишком глубоко вложен: заявка не бывает такой структуры")]) from None
    except TooLarge as exc:
        raise InputTooLarge([Problem(source, f"файл «{name}» отклонён: {exc}")]) from None
    except json.JSONDecodeError as exc:
        raise InputError([Problem(source, json_problem(exc))]) from None
    except DuplicateKey as exc:
        raise InputError([Problem(source, str(exc))]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(source, yaml_problem(exc))]) from None


NUL_MESSAGE = "символ NUL (код 0) в тексте не допускается: уберите его"


def nul_problems(data: Any, path: str = "") -> list[Problem]:
    """A problem for each text holding the character NUL: PostgreSQL stores no NUL in text, so no database gets one."""
    if isinstance(data, str):
        return [Problem(path, NUL_MESSAGE)] if "\x00" in data else []
    if isinstance(data, dict):
        items = [(f"{path}.{key}" if path else str(key), value) for key, value in data.items()]
    elif isinstance(data, list):
        items = [(f"{path}[{i}]", value) for i, value in enumerate(data)]
    else:
        return []
    return [problem for where, value in items for problem in nul_problems(value, where)]


def validate(data: Any) -> Application:
    if not isinstance(data, dict):
        raise InputError([Problem("", "заявка должна быть объектом (словарём полей), а не "
                                      + _TYPE_RU_INSTRUMENTAL.get(type(data).__name__, "значением другого типа"))])
    try:
        nul = nul_problems(data)
        application = Application.model_validate(data)
    except ValidationError as exc:
        raise InputError(nul + problems_from(exc)) from None
    except RecursionError:
        raise InputError([Problem("", "слишком глубокая вложенность данных")]) from None
    if nul:
        raise InputError(nul)
    return application


def load_application(path: str | Path) -> Application:
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError([Problem("", f"файл не найден: {path}")]) from None
    if path.is_dir():
        raise InputError([Problem("", f"{path} — это папка, а не файл заявки")])
    if size > MAX_FILE_BYTES:
        raise InputError([Problem("", f"файл {path} слишком велик ({size_text(size)}; предел {size_text(MAX_FILE_BYTES)})")])
    if path.suffix.lower() == ".xlsx":  # an industrial-cluster application filled in the Excel template
        from .excel import read_workbook

        return read_workbook(path)
    return validate(parse_document(path.read_bytes(), path.name))
