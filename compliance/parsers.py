"""Reading YAML and JSON text the way an application must be read, with every parser message in Russian.

- A key repeated in one object is an error naming the key (and, in YAML, both lines) — never a silent last-wins.
- YAML dates stay text: the model's date parser accepts 2025-04-01 and 01.04.2025 and reports an impossible date
  (2025-02-30, 0000-01-01) at its field in Russian, where PyYAML's own constructor would raise.
- A number too long for Python's integer parser (over 4300 digits) becomes an infinity, and NaN, Infinity and
  1e999 stay what they are: the model refuses a non-finite number at its field, with the field's path.
- YAML reads 1e-6 and 1.5e7 as numbers (as YAML 1.2 and JSON do), not as text.
- YAML is first read as a stream of events by libyaml (C) and refused, before PyYAML's slower loader builds anything,
  when it has more than MAX_YAML_NODES values (aliases counted as what they expand to: no «billion laughs») or is
  nested deeper than MAX_YAML_DEPTH.
"""
from __future__ import annotations

import ast
import json
import math
import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from .formatting import num

# --- YAML ----------------------------------------------------------------------------------------------------------
MAX_YAML_NODES = 100_000  # keys, values and lists of one file, aliases expanded (the largest fixture has 1 249)
MAX_YAML_DEPTH = 100  # objects and lists inside each other (an application is about 6 deep)
_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$")


class UniqueKeys:
    """A YAML loader mix-in: a key repeated in one mapping is an error naming the key and both lines, not a silent
    last-wins (for applications, and for the catalog an expert edits by hand)."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict:
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, yaml.Mark] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # `<<: *defaults` may be overridden by the keys next to it
                key = self.construct_object(key_node, deep=True)
                try:
                    seen = first.get(key)
                except TypeError:
                    continue  # an unhashable key: the base constructor reports it
                if seen is not None:
                    raise ConstructorError(None, None, f"ключ «{key}» повторяется: он уже был в строке "
                                                       f"{seen.line + 1}; оставьте одно значение",
                                           key_node.start_mark)
                first[key] = key_node.start_mark
        return super().construct_mapping(node, deep)


class InputLoader(UniqueKeys, yaml.SafeLoader):
    """PyYAML's SafeLoader for applications and the files that go with them (what-if, judgements)."""

    def construct_yaml_int(self, node: yaml.Node) -> int | float:
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # longer than Python's integer-string limit: the model refuses it as too large
            return -math.inf if str(node.value).lstrip().startswith("-") else math.inf

    def construct_timestamp_as_text(self, node: yaml.Node) -> str:
        return self.construct_scalar(node)


InputLoader.add_constructor("tag:yaml.org,2002:int", InputLoader.construct_yaml_int)
InputLoader.add_constructor("tag:yaml.org,2002:timestamp", InputLoader.construct_timestamp_as_text)
InputLoader.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT_FLOAT, list("-+.0123456789"))


class TooLarge(ValueError):
    """YAML with more values than MAX_YAML_NODES (after expanding aliases): the message is Russian."""


class TooDeep(ValueError):
    """YAML nested deeper than MAX_YAML_DEPTH."""


_EVENTS_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it


def check_yaml_size(text: str) -> None:
    """Refuse, from libyaml's events and before anything is built, YAML over MAX_YAML_NODES values (an alias counts
    as the size of what it names, so nested aliases that expand to billions are refused at the first few) or nested
    over MAX_YAML_DEPTH. A syntax error ends the count: the loader then reports it in its own words (it reads no
    further than libyaml did)."""
    total = 0
    sizes: dict[str, int] = {}  # anchor -> values it expands to
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, total before the node) of each open object or list
    try:
        for event in yaml.parse(text, Loader=_EVENTS_LOADER):
            if isinstance(event, yaml.AliasEvent):
                total += sizes.get(event.anchor, 1)
            elif isinstance(event, yaml.ScalarEvent):
                total += 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.CollectionStartEvent):
                open_nodes.append((event.anchor, total))
                total += 1
                if len(open_nodes) > MAX_YAML_DEPTH:
                    raise TooDeep(f"вложенность больше {MAX_YAML_DEPTH} уровней: заявка не бывает такой структуры")
            elif isinstance(event, yaml.CollectionEndEvent) and open_nodes:
                anchor, before = open_nodes.pop()
                if anchor:
                    sizes[anchor] = total - before
            if total > MAX_YAML_NODES:
                raise TooLarge(f"в файле больше {num(MAX_YAML_NODES)} значений"
                               + (" (с учётом ссылок «*…» на якоря «&…»)" if sizes else "")
                               + ": заявка столько не содержит")
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem):  # libyaml stops at 1 000 levels, sometimes before any event
            raise TooDeep("вложенность больше 1000 уровней") from None
    except yaml.YAMLError:
        pass


def load_yaml(text: str) -> Any:
    """One YAML document; yaml.YAMLError (see `yaml_problem`) when it does not read, TooLarge or TooDeep (see
    `check_yaml_size`) when it is too big to read."""
    check_yaml_size(text)
    return yaml.load(text, Loader=InputLoader)  # noqa: S506 - InputLoader is a SafeLoader


_TOKENS = {
    "<stream end>": "конец файла", "<block end>": "конец блока", "<scalar>": "значение", "<key>": "ключ",
    "<value>": "«:»", "<block entry>": "«-» (элемент списка)", "<flow entry>": "«,»", "<anchor>": "якорь «&…»",
    "<alias>": "ссылка «*…»", "<tag>": "тег «!…»", "<document start>": "«---»", "<document end>": "«...»",
    "<block mapping start>": "начало объекта", "<block sequence start>": "начало списка",
    "<flow mapping start>": "«{»", "<flow mapping end>": "«}»", "<flow sequence start>": "«[»",
    "<flow sequence end>": "«]»", "<stream start>": "начало файла", "<directive>": "директива «%…»",
    "\t": "«табуляция»", " ": "«пробел»", "\n": "конец строки", "\0": "конец файла",
}


def _token(raw: str) -> str:
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        try:
            text = str(ast.literal_eval(text))  # the repr() of a character or token in the parser's message
        except (ValueError, SyntaxError):
            text = text[1:-1]
    return _TOKENS.get(text, f"«{text}»")


_YAML_RU: list[tuple[re.Pattern[str], str]] = [(re.compile(p), t) for p, t in [
    (r"^expected ',' or '\]', but got (.+)$", "ожидается «,» или «]» (список в квадратных скобках не закрыт?), "
                                               "а встретилось: {0}"),
    (r"^expected ',' or '\}', but got (.+)$", "ожидается «,» или «}}» (объект в фигурных скобках не закрыт?), "
                                               "а встретилось: {0}"),
    (r"^could not find expected ':'$", "после ключа не найдено двоеточие «:»"),
    (r"^mapping values are not allowed here$", "здесь не может стоять «ключ: значение»: проверьте отступы, а значение "
                                               "с двоеточием возьмите в кавычки"),
    (r"^found character (.+) that cannot start any token$", "значение не может начинаться с символа {0} (отступы "
                                                            "делаются пробелами, не табуляцией)"),
    (r"^expected <block end>, but found (.+)$", "нарушены отступы: ожидался конец блока, а встретилось: {0}"),
    (r"^expected <document start>, but found (.+)$", "ожидалось начало документа, а встретилось: {0}"),
    (r"^expected '<document start>', but found (.+)$", "ожидалось начало документа, а встретилось: {0}"),
    (r"^expected the node content, but found (.+)$", "ожидалось значение, а встретилось: {0}"),
    (r"^found unexpected end of stream$", "файл закончился раньше, чем закрылись кавычки или скобки"),
    (r"^found unexpected document separator$", "разделитель документов «---» внутри строки в кавычках"),
    (r"^expected a single document in the stream$", "в файле несколько документов YAML (разделитель «---»): "
                                                     "нужен один"),
    (r"^but found another document$", "в файле несколько документов YAML (разделитель «---»): нужен один"),
    (r"^found undefined alias (.+)$", "ссылка на якорь {0}, который нигде не объявлен"),
    (r"^found duplicate anchor (.+?); first occurrence$", "якорь {0} объявлен дважды"),
    (r"^second occurrence$", "якорь объявлен дважды"),
    (r"^found unhashable key$", "ключом объекта не может быть список или объект"),
    (r"^found unconstructable recursive node$", "объект ссылается сам на себя"),
    (r"^could not determine a constructor for the tag (.+)$", "тег {0} не поддерживается: в заявке теги YAML "
                                                               "не используются"),
    (r"^(?:block )?sequence entries are not allowed here$", "элемент списка «-» здесь недопустим: проверьте отступы"),
    (r"^mapping keys are not allowed here$", "ключ «?» здесь недопустим: проверьте отступы"),
    (r"^found unknown escape character (.+)$", "неизвестная последовательность с обратной косой чертой в строке "
                                               "в кавычках: {0}"),
    (r"^expected escape sequence of (\d+) hexadecimal numbers, but found (.+)$",
     "после «\\x», «\\u» или «\\U» ожидается {0} шестнадцатеричных цифр, а встретилось: {1}"),
    (r"^invalid indentation or unclosed '\[' or '\{'$", "неверный отступ или не закрыта скобка «[» или «{{»"),
    (r"^expected alphabetic or numeric character, but found (.+)$", "после «&», «*» или «!» ожидаются буквы или "
                                                                   "цифры, а встретилось: {0}"),
    (r"^expected ' ', but found (.+)$", "ожидается пробел, а встретилось: {0}"),
    (r"^expected a comment or a line break, but found (.+)$", "после значения ожидается конец строки или "
                                                             "комментарий «#», а встретилось: {0}"),
    (r"^expected (?:chomping or indentation indicators|indentation indicator in the range 1-9), but found (.+)$",
     "после «|» или «>» ожидается «+», «-» или цифра 1–9, а встретилось: {0}"),
    (r"^expected a mapping(?: or list of mappings)? for merging, but found (.+)$",
     "«<<» объединяет только объекты, а здесь: {0}"),
    (r"^found undefined tag handle (.+)$", "неизвестный префикс тега {0}"),
    (r"^found (?:duplicate YAML directive|incompatible YAML document.*|duplicate tag handle.*)$",
     "неподдерживаемая директива «%» в начале файла"),
]]


def _yaml_text(problem: str) -> str:
    for pattern, template in _YAML_RU:
        m = pattern.match(problem.strip())
        if m:
            return template.format(*(_token(g) if not g.isdigit() else g for g in m.groups()))
    return "синтаксическая ошибка YAML"


def yaml_problem(exc: yaml.YAMLError) -> str:
    """The Russian description of a PyYAML error, with its line and position."""
    if isinstance(exc, yaml.reader.ReaderError):
        return (f"недопустимый управляющий символ (код {exc.character:#x}) в позиции {exc.position + 1}: "
                "сохраните файл как обычный текст в UTF-8" if isinstance(exc.character, int)
                else "файл не читается как текст UTF-8")
    mark = getattr(exc, "problem_mark", None)
    where = f" в строке {mark.line + 1}, позиции {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or ""
    text = problem if re.search(r"[а-яё]", problem, re.I) else _yaml_text(problem)
    context_mark = getattr(exc, "context_mark", None)
    if context_mark is not None and mark is not None and context_mark.line != mark.line:
        text += f" (конструкция начата в строке {context_mark.line + 1})"
    return f"ошибка YAML{where}: {text}"


# --- JSON ----------------------------------------------------------------------------------------------------------
class DuplicateKey(ValueError):
    def __init__(self, key: str):
        self.key = key
        super().__init__(f"ключ «{key}» повторяется в одном объекте JSON: оставьте одно значение")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(key)
        out[key] = value
    return out


def _integer(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:  # longer than Python's integer-string limit: the model refuses it as too large
        return float(text)


def load_json(text: str | bytes) -> Any:
    """JSON text; json.JSONDecodeError (see `json_problem`) or DuplicateKey when it does not read."""
    return json.loads(text, object_pairs_hook=_object, parse_int=_integer)


_JSON_RU: list[tuple[re.Pattern[str], str]] = [(re.compile(p), t) for p, t in [
    (r"^Expecting value$", "ожидается значение (число, строка в кавычках, true/false, null, объект или список)"),
    (r"^Expecting ',' delimiter$", "ожидается запятая между элементами"),
    (r"^Expecting ':' delimiter$", "после ключа ожидается двоеточие"),
    (r"^Expecting property name enclosed in double quotes$", "ожидается ключ в двойных кавычках (одинарные "
                                                             "кавычки в JSON не допускаются; нет ли лишней запятой "
                                                             "перед «}}»?)"),
    (r"^Unterminated string starting at$", "строка в кавычках не закрыта"),
    (r"^Invalid control character(?: .+)? at$", "управляющий символ внутри строки в кавычках (перевод строки пишется "
                                             "как \\n)"),
    (r"^Invalid \\escape(?:: .+)?$", "недопустимая последовательность с обратной косой чертой (сама черта "
                                       "пишется как \\\\)"),
    (r"^Invalid \\uXXXX escape$", "после \\u ожидаются четыре шестнадцатеричные цифры"),
    (r"^Extra data$", "после конца JSON есть лишний текст"),
    (r"^Illegal trailing comma before end of (?:object|array)$", "лишняя запятая перед закрывающей скобкой"),
]]


def json_problem(exc: json.JSONDecodeError) -> str:
    """The Russian description of a JSON syntax error, with its line and position."""
    text = "синтаксическая ошибка JSON"
    for pattern, template in _JSON_RU:
        m = pattern.match(exc.msg)
        if m:
            text = template.format(*(_token(g) for g in m.groups()))
            break
    return f"ошибка JSON в строке {exc.lineno}, позиции {exc.colno}: {text}"
