"""Read an application file (JSON, YAML or an Excel cluster workbook) into the validated model; every problem becomes a Russian message
with the field path, never a traceback."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .formatting import field_label
from .formatting import size as size_text
from .models import Application

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


_TYPE_RU = {"str": "строка", "int": "целое число", "float": "число", "bool": "логическое значение",
            "list": "список", "dict": "объект", "NoneType": "пустое значение"}


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


def _message(err: dict[str, Any]) -> tuple[str, str]:
    """(extra path, Russian message) for one pydantic error."""
    t, ctx, given = err["type"], err.get("ctx") or {}, err.get("input")
    given_type = _TYPE_RU.get(type(given).__name__, type(given).__name__)
    if t == "missing":
        return "", "обязательное поле не заполнено"
    if t == "extra_forbidden":
        return "", "неизвестное поле (проверьте написание; список полей — `compliance schema`)"
    if t in ("float_type", "int_type", "float_parsing", "int_from_float"):
        shown = f" «{given}»" if isinstance(given, str) else ""
        return "", f"ожидается число, а передано: {given_type}{shown} (число пишется без кавычек)"
    if t == "bool_type":
        return "", f"ожидается true или false, а передано: {given_type} «{given}»"
    if t == "string_type":
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
        return "", f"значение должно быть не меньше {ctx.get('ge')}"
    if t == "string_pattern_mismatch":
        return "", f"значение «{given}» не соответствует формату"
    if t == "string_too_short":
        return "", "пустое значение не допускается"
    if t == "too_short":
        return "", "список не может быть пустым"
    if t == "value_error":
        return "", str(ctx.get("error", err["msg"]))
    return "", err["msg"]


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


def parse_document(raw: bytes, name: str) -> Any:
    suffix = Path(name).suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise InputError([Problem("", f"неподдерживаемый формат файла «{suffix or name}»: ожидается .json, .yaml, .yml "
                                      "или .xlsx")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError([Problem("", f"файл «{name}» не в кодировке UTF-8 (байт {exc.start}); сохраните его в UTF-8")]) from None
    try:
        return json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except RecursionError:
        raise InputError([Problem("", f"файл «{name}» слишком глубоко вложен: заявка не бывает такой структуры")]) from None
    except json.JSONDecodeError as exc:
        raise InputError([Problem("", f"ошибка JSON в строке {exc.lineno}, позиции {exc.colno}: {exc.msg}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" в строке {mark.line + 1}, позиции {mark.column + 1}" if mark else ""
        raise InputError([Problem("", f"ошибка YAML{where}: {getattr(exc, 'problem', exc)}")]) from None


def validate(data: Any) -> Application:
    if not isinstance(data, dict):
        raise InputError([Problem("", "заявка должна быть объектом (словарём полей), а не "
                                      + _TYPE_RU.get(type(data).__name__, type(data).__name__))])
    try:
        return Application.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems_from(exc)) from None
    except RecursionError:
        raise InputError([Problem("", "слишком глубокая вложенность данных")]) from None


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
