"""The application form, generated from the input model: every field of `Application` (walked recursively, with its
Russian label, by compliance/form_spec.py) becomes an input, so a new model field shows up in the editor by itself.

Three representations of one application:
- the **body** (JSON of the model, as stored);
- the **raw** form state — what the person typed, as strings, in the shape of the model (dict for a model, list of
  dicts for a list of models, list of codes for a checkbox group, {"value", "unit"} for a quantity, text otherwise);
  it survives a failed save or an «Добавить»/«Удалить» press unchanged;
- the **posted form**: flat fields named by their dotted path, e.g. `land_plots.1.area.value`, `regimes` (repeated).

`spec()` (compliance/form_spec.py) walks the model once; `raw_from_body`, `raw_from_form`, `convert` (raw → JSON for
`validate`, numbers with a decimal comma, blank fields and blank rows dropped), `locate` (a validation problem's path →
the form field it names) and `build_view` (raw + messages → nodes the templates render) walk that spec.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from compliance.form_spec import MISSING, Spec, datalist, spec
from compliance.formatting import plural
from compliance.loading import InputError, Problem, validate
from compliance.models import Application

SECTION_TITLES = {
    "management_company": "Управляющая компания", "land_plots": "Земельные участки", "buildings": "Здания",
    "zoning": "Зонирование территории", "utilities": "Инженерная инфраструктура", "road_access": "Подъездная дорога",
    "service_objects": "Объекты сервисной инфраструктуры", "residents": "Резиденты",
    "infrastructure_users": "Пользователи инфраструктуры", "tech_infrastructure": "Технологическая инфраструктура",
    "partnerships": "Партнёрства с вузами и научными организациями", "cluster": "Промышленный кластер",
    "documents": "Документы", "conformity_decisions": "Принятые решения о соответствии",
}
GENERAL_TITLE = "Общие сведения"
# Sections shown open for a regime even when still empty.
SECTION_REGIMES = {"cluster": {"cl779"}}
# A list where «не указано» and «нет» differ (the model's default is null): with no rows (boxes, lines) typed, a choice
# posted as `<path>._state` tells them apart; «нет» with rows filled in is a mistake shown at the list.
STATE = "._state"
STATE_OPTIONS = (("", "не указано"), ("none", "нет (ни одного)"), ("listed", "указаны ниже"))


# --- numbers, dates --------------------------------------------------------------------------------------------------
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_SPACES = re.compile(r"[\s\u00a0\u2007\u2009\u202f']")
_RU_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_number(text: str, integer: bool = False) -> float | int:
    """'12 500,5' → 12500.5; ValueError when it is not a number (or not a whole one, for `integer`)."""
    t = _SPACES.sub("", text).replace("\u2212", "-").replace(",", ".")
    if not _NUMBER.match(t):
        raise ValueError(text)
    if integer:
        if re.fullmatch(r"[+-]?\d+", t):
            return int(t)
        x = float(t)
        if not x.is_integer():
            raise ValueError(text)
        return int(x)
    x = float(t)
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError(text)
    return x


def show_number(x: Any) -> str:
    """12500.5 → '12 500,5' (exact: parse_number gives the same float back)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return "" if x is None else str(x)
    if isinstance(x, float):
        text = str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)
    else:
        text = str(x)
    if "e" in text or "n" in text:
        return text.replace(".", ",")
    whole, _, frac = text.partition(".")
    sign, whole = ("-", whole[1:]) if whole.startswith("-") else ("", whole)
    if len(whole) > 4:
        whole = f"{int(whole):,}".replace(",", " ")
    return sign + whole + ("," + frac if frac else "")


def date_value(text: str) -> str | None:
    """The value for <input type=date> (ISO), or None when the text is not a valid date (shown as typed)."""
    t = text.strip()
    m = _RU_DATE.match(t)
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
        if _ISO_DATE.match(t):
            return date.fromisoformat(t).isoformat()
    except ValueError:
        return None
    return None


# --- raw form state --------------------------------------------------------------------------------------------------
def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _show(node: Spec, value: Any) -> str:
    if value is None or value is MISSING:
        return ""
    if node.kind == "bool":
        return "true" if value else "false"
    if node.kind in ("number", "integer"):
        return show_number(value)
    return str(value)


def _state_of(value: Any) -> str:
    """The «не указано» / «нет» / rows choice of a stored list."""
    return "" if value is None or value is MISSING else ("listed" if value else "none")


def blank(node: Spec) -> Any:
    """The raw state of an untouched field (the model's default shown)."""
    if node.kind == "group":
        return {c.name: blank(c) for c in node.children} | {c.name + STATE: "" for c in node.children if c.statable}
    if node.kind in ("list", "checks"):
        return list(node.default) if node.kind == "checks" and isinstance(node.default, list) else []
    if node.kind == "lines":
        return "\n".join(node.default) if isinstance(node.default, list) else ""
    if node.kind == "quantity":
        return {"value": "", "unit": "" if node.free_unit or not node.options else node.options[0][0]}
    return _show(node, node.default)


def raw_from_body(node: Spec, value: Any) -> Any:
    """The raw state of a stored body (a JSON value of the model)."""
    if value is None or value is MISSING:
        return blank(node)
    if node.kind == "group":
        raw = {c.name: raw_from_body(c, value.get(c.name)) for c in node.children}
        raw |= {c.name + STATE: _state_of(value.get(c.name)) for c in node.children if c.statable}
        if node.marker:
            raw["_present"] = True
        return raw
    if node.kind == "list":
        return [raw_from_body(node.children[0], v) for v in value]
    if node.kind == "checks":
        return [str(v) for v in value]
    if node.kind == "lines":
        return "\n".join(str(v) for v in value)
    if node.kind == "quantity":
        return {"value": show_number(value.get("value")), "unit": str(value.get("unit") or "")}
    return _show(node, value)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def is_index(text: str) -> bool:
    """A row number or version in a posted name or value: ASCII digits only (str.isdigit also takes «²», which int()
    refuses), at most 7 of them."""
    return text.isascii() and text.isdigit() and len(text) <= 7


def _row_numbers(form) -> dict[str, list[int]]:
    """For each list path of the posted names, its row numbers: `land_plots.3.area.value` → land_plots: [3]."""
    found: dict[str, set[int]] = {}
    for key in form.keys():
        parts = key.split(".")
        for i, part in enumerate(parts[1:], 1):
            if is_index(part):
                found.setdefault(".".join(parts[:i]), set()).add(int(part))
    return {path: sorted(numbers) for path, numbers in found.items()}


def raw_from_form(form) -> dict:
    """The raw state of a posted form (a starlette FormData, or anything with get, getlist and keys)."""
    return _raw_from_form(form, _row_numbers(form), spec(), "")


def _raw_from_form(form, rows: dict[str, list[int]], node: Spec, name: str) -> Any:
    if node.kind == "group":
        raw = {c.name: _raw_from_form(form, rows, c, _join(name, c.name)) for c in node.children}
        raw |= {c.name + STATE: _text(form.get(_join(name, c.name) + STATE)) for c in node.children if c.statable}
        if node.marker and form.get(_join(name, "_present")):
            raw["_present"] = True
        return raw
    if node.kind == "list":
        return [_raw_from_form(form, rows, node.children[0], f"{name}.{i}") for i in rows.get(name, [])]
    if node.kind == "checks":
        chosen = list(dict.fromkeys(v for v in form.getlist(name) if isinstance(v, str)))
        order = _text(form.get(f"{name}._order")).split()
        return [v for v in order if v in chosen] + [v for v in chosen if v not in order]
    if node.kind == "quantity":
        return {"value": _text(form.get(f"{name}.value")), "unit": _text(form.get(f"{name}.unit"))}
    return _text(form.get(name))


def _at(raw: Any, node: Spec, path: str) -> tuple[Any, Spec] | None:
    """The raw value and spec at a dotted form path, e.g. `cluster.participants` or `land_plots.2`."""
    for token in path.split(".") if path else []:
        if node.kind == "group" and isinstance(raw, dict) and node.child(token):
            node, raw = node.child(token), raw.get(token)
        elif node.kind == "list" and is_index(token) and isinstance(raw, list) and int(token) < len(raw):
            node, raw = node.children[0], raw[int(token)]
        else:
            return None
    return raw, node


def apply_action(raw: dict, action: str) -> str | None:
    """«add:<list path>» appends a blank row, «remove:<row path>» deletes one; the path to focus afterwards."""
    verb, _, path = action.partition(":")
    if verb == "add":
        found = _at(raw, spec(), path)
        if found and found[1].kind == "list":
            found[0].append(blank(found[1].children[0]))
            return f"{path}.{len(found[0]) - 1}"
    elif verb == "remove" and "." in path:
        parent, _, index = path.rpartition(".")
        found = _at(raw, spec(), parent)
        if found and found[1].kind == "list" and is_index(index) and int(index) < len(found[0]):
            del found[0][int(index)]
            return parent
    return None


# --- raw → JSON --------------------------------------------------------------------------------------------------
@dataclass
class Conversion:
    problems: list[Problem] = field(default_factory=list)  # paths are form paths
    rows: dict[str, list[int]] = field(default_factory=dict)  # list path → the form row of each JSON row


def convert(raw: dict) -> tuple[dict, Conversion]:
    """The JSON to validate: numbers parsed, blank fields, objects and rows left out, defaults left to the model."""
    out = Conversion()
    data = _convert(spec(), raw, "", out)
    return ({} if data is MISSING else data), out


def _convert(node: Spec, raw: Any, name: str, out: Conversion) -> Any:
    kind = node.kind
    if kind == "group":
        raw = raw if isinstance(raw, dict) else {}
        data = {}
        for c in node.children:
            value = _convert(c, raw.get(c.name), _join(name, c.name), out)
            if c.statable:
                value = _stated(value, raw.get(c.name + STATE), _join(name, c.name), out)
            if value is not MISSING and value != c.default:
                data[c.name] = value
        return data if data or (node.marker and raw.get("_present")) else MISSING
    if kind == "list":
        rows, origin = [], []
        for i, row in enumerate(raw if isinstance(raw, list) else []):
            value = _convert(node.children[0], row, f"{name}.{i}", out)
            if value is not MISSING:
                rows.append(value)
                origin.append(i)
        out.rows[name] = origin
        return rows or MISSING
    if kind == "checks":
        return list(raw) if isinstance(raw, list) and raw else MISSING
    if kind == "lines":
        items = [line.strip() for line in _text(raw).splitlines() if line.strip()]
        return items or MISSING
    if kind == "quantity":
        raw = raw if isinstance(raw, dict) else {}
        value = _convert_number(_text(raw.get("value")), f"{name}.value", False, out)
        if value is MISSING:
            return MISSING
        unit = _text(raw.get("unit")).strip()
        return {"value": value, "unit": unit} if unit else {"value": value}
    text = _text(raw).strip()
    if not text:
        return MISSING
    if kind in ("number", "integer"):
        return _convert_number(text, name, kind == "integer", out)
    if kind == "bool":
        if text in ("true", "false"):
            return text == "true"
        out.problems.append(Problem(name, "выберите «да», «нет» или «не указано»"))
        return MISSING
    return text


def _stated(value: Any, state: Any, name: str, out: Conversion) -> Any:
    """A list with nothing typed: «нет» ([]) or «не указано» (left out); with rows, the rows."""
    if value is MISSING:
        return [] if state == "none" else MISSING
    if state == "none":
        out.problems.append(Problem(name, "выбрано «нет», а ниже есть заполненные строки: удалите их или выберите "
                                          "«указаны ниже»"))
    return value


def _convert_number(text: str, name: str, integer: bool, out: Conversion) -> Any:
    if not text.strip():
        return MISSING
    try:
        return parse_number(text, integer)
    except ValueError:
        what = "ожидается целое число" if integer else "ожидается число"
        out.problems.append(Problem(name, f"«{text.strip()}» — {what}, например {'2025' if integer else '12 500,5'}"))
        return MISSING


# --- a validation problem → the form field it names -------------------------------------------------------------------
_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def locate(path: str, rows: dict[str, list[int]]) -> str:
    """The form path of the deepest form element a model path names: `land_plots[0].area.value` →
    `land_plots.3.area.value` when the first stored row was the form's fourth (blank rows are left out)."""
    path = path.partition(" (")[0]
    node, name = spec(), ""
    for m in _TOKEN.finditer(path):
        index, word = m.group(1), m.group(2)
        if node.kind == "group" and word and node.child(word):
            node, name = node.child(word), _join(name, word)
        elif node.kind == "list" and index is not None:
            origin = rows.get(name, [])
            i = int(index)
            name = f"{name}.{origin[i] if i < len(origin) else i}"
            node = node.children[0]
        elif node.kind == "quantity" and word in ("value", "unit"):
            return f"{name}.{word}"
        else:
            break
    return name


# --- the view: nodes the templates render ------------------------------------------------------------------------
def field_id(name: str) -> str:
    return "f-" + name.replace(".", "-") if name else "f-application"


@dataclass
class Node:
    kind: str
    name: str
    id: str
    label: str
    crumb: str
    help: str = ""
    required: bool = False
    value: str = ""
    input_type: str = "text"
    inputmode: str = ""
    options: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    children: list["Node"] = field(default_factory=list)
    unit: "Node | None" = None
    order: str = ""  # checks: the hidden order of the chosen codes
    present: bool = False  # group: the hidden mark of a stored empty object
    datalist: str = ""
    rows: int = 0
    add_action: str = ""
    add_text: str = ""
    remove_action: str = ""
    remove_text: str = ""
    autofocus: bool = False
    anchor: str = ""  # where a link to this element's message goes
    lines: int = 3
    state: dict | None = None  # a list where «не указано» and «нет» differ: the choice between them (see STATE)

    @property
    def described_by(self) -> str:
        ids = ([f"{self.id}-error"] if self.errors else []) + ([f"{self.id}-help"] if self.help else [])
        return " ".join(ids)

    @property
    def invalid(self) -> bool:
        return bool(self.errors) or any(c.invalid for c in self.children) or bool(self.unit and self.unit.errors)

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass
class Section:
    id: str
    title: str
    node: Node | None  # a group or list section; None for the general one
    fields: list[Node]  # the general section's fields
    open: bool
    count: int | None = None  # rows of a list section
    parts: list[Node] = field(default_factory=list)  # sub-sections (lists inside a group) for the contents

    @property
    def invalid(self) -> bool:
        return any(f.invalid for f in self.fields) or bool(self.node and self.node.invalid)


@dataclass
class View:
    sections: list[Section]
    summary: list[dict[str, str]]  # {"href", "label", "message"} in page order
    datalists: dict[str, tuple[tuple[str, str], ...]]

    @property
    def error_count(self) -> int:
        return len(self.summary)

    @property
    def error_title(self) -> str:
        return f"Заявка не сохранена: исправьте {plural(self.error_count, 'ошибку', 'ошибки', 'ошибок')}"


class _Ctx:
    def __init__(self, errors: dict[str, list[str]], focus: str | None):
        self.errors = errors
        self.focus = focus
        self.datalists: dict[str, tuple[tuple[str, str], ...]] = {}


def _crumb(parent: str, label: str) -> str:
    return f"{parent} → {label}" if parent else label


def _node(node: Spec, raw: Any, name: str, crumb: str, ctx: _Ctx, label: str | None = None) -> Node:
    label = label or node.label
    crumb = _crumb(crumb, label)
    v = Node(node.kind, name, field_id(name), label, crumb, help=node.help, required=node.required,
             errors=list(ctx.errors.get(name, [])), input_type=node.input_type)
    v.anchor = v.id
    kind = node.kind
    if kind == "group":
        raw = raw if isinstance(raw, dict) else {}
        v.present = bool(node.marker and raw.get("_present"))
        v.children = [_with_state(_node(c, raw.get(c.name), _join(name, c.name), crumb, ctx), c, raw)
                      for c in node.children]
    elif kind == "list":
        rows = raw if isinstance(raw, list) else []
        v.rows = len(rows)
        v.add_action, v.add_text = f"add:{name}", node.add
        v.autofocus = ctx.focus == name
        for i, row in enumerate(rows):
            legend = f"{node.row} № {i + 1}"
            r = _node(node.children[0], row, f"{name}.{i}", crumb, ctx, label=legend)
            r.kind = "row"
            r.remove_action, r.remove_text = f"remove:{name}.{i}", legend
            if ctx.focus == r.name:
                first = next((n for n in r.walk() if n.kind not in ("row", "group", "fixed")), None)
                if first:
                    first.autofocus = True
            v.children.append(r)
    elif kind in ("choice", "checks", "bool", "fixed"):
        chosen = [x for x in raw if isinstance(x, str)] if kind == "checks" else [_text(raw)]
        options = list(node.options)
        if kind == "choice" and (node.default is MISSING or node.default is None):
            options.insert(0, ("", "— не указано —" if node.default is None else "— выберите —"))
        options += [(c, c) for c in chosen if c and c not in {o[0] for o in options}]  # kept as typed
        v.options = [{"value": val, "label": text, "selected": val in chosen,
                      "id": f"{v.id}-{re.sub(r'[^A-Za-z0-9_-]', '_', val) or 'none'}"} for val, text in options]
        if kind == "checks":
            v.order = " ".join(chosen)
            v.anchor = v.options[0]["id"] if v.options else v.id
        if kind == "fixed":
            v.value = _text(raw)
    elif kind == "quantity":
        raw = raw if isinstance(raw, dict) else {}
        v.id = v.anchor = field_id(f"{name}.value")  # the value input; its unit is `v.unit`
        v.value = _text(raw.get("value"))
        v.inputmode = "decimal"
        v.errors += ctx.errors.get(f"{name}.value", [])
        unit = _text(raw.get("unit"))
        options = list(node.options)
        if node.free_unit:
            options.insert(0, ("", "— единица —"))
        if unit and unit not in {o[0] for o in options}:
            options.append((unit, unit))
        v.unit = Node("unit", f"{name}.unit", field_id(f"{name}.unit"), f"Единица измерения: {label.lower()}",
                      _crumb(crumb, "единица измерения"), errors=list(ctx.errors.get(f"{name}.unit", [])),
                      options=[{"value": val, "label": text, "selected": val == unit} for val, text in options])
        if v.unit.errors and not v.errors:
            v.anchor = v.unit.id
    elif kind == "lines":
        v.value = _text(raw)
        v.lines = max(3, min(12, v.value.count("\n") + 2))
    else:
        v.value = _text(raw)
        if kind == "date":
            iso = date_value(v.value)
            if v.value.strip() and iso is None:
                v.input_type = "text"  # typed by hand and not a date: shown as typed, with its message
            else:
                v.value = iso or ""
        elif kind in ("number", "integer"):
            v.inputmode = "numeric" if kind == "integer" else "decimal"
        if node.datalist:
            v.datalist = f"dl-{node.datalist}"
            ctx.datalists[v.datalist] = datalist(node.datalist)
    return v


def _with_state(v: Node, node: Spec, parent_raw: dict) -> Node:
    """Attach the «не указано» / «нет» / rows choice to the view of a list where they differ."""
    if node.statable:
        chosen = _text(parent_raw.get(node.name + STATE))
        v.state = {"name": v.name + STATE, "id": field_id(v.name + STATE), "label": f"{v.label}: сведения",
                   "options": [{"value": val, "label": text, "selected": val == chosen} for val, text in STATE_OPTIONS]}
    return v


def _summary(nodes, out: list[dict[str, str]]) -> None:
    for n in nodes:
        messages = list(n.errors) + (list(n.unit.errors) if n.unit else [])
        for text in dict.fromkeys(messages):
            out.append({"href": f"#{n.anchor}", "label": n.crumb, "message": text})
        _summary(n.children, out)


def check(raw: dict) -> tuple[Application | None, list[tuple[str, str]]]:
    """convert + validate: (the model, []) or (None, [(form path or "" when no field fits, message), …])."""
    data, conv = convert(raw)
    try:
        model: Application | None = validate(data)
        model_problems: list[Problem] = []
    except InputError as exc:
        model, model_problems = None, exc.problems
    located = [(p.path, p.message) for p in conv.problems]
    typed = {p.path for p in conv.problems}
    for p in model_problems:
        name = locate(p.path, conv.rows) if p.path else ""
        if name in typed or f"{name}.value" in typed:
            continue  # a number that could not be read was left out: «обязательное поле» about it is not news
        located.append((name, p.message))
    return (None if located else model), located


def build_view(raw: dict, errors: list[tuple[str, str]] = (), focus: str | None = None) -> View:
    """The form's sections with the raw values and each message (located by `check`) at its field."""
    root = spec()
    placed: dict[str, list[str]] = {}
    for name, message in errors:
        placed.setdefault(name, []).append(message)
    ctx = _Ctx(placed, focus)
    regimes = set(raw.get("regimes") or [])
    general = [c for c in root.children if c.kind not in ("group", "list")]
    sections = [Section("sec-general", GENERAL_TITLE, None,
                        [_node(c, raw.get(c.name), c.name, "", ctx) for c in general], True)]
    for c in root.children:
        if c in general:
            continue
        title = SECTION_TITLES.get(c.name, c.label)
        n = _with_state(_node(c, raw.get(c.name), c.name, "", ctx, label=title), c, raw)
        focused = bool(focus) and (focus == c.name or focus.startswith(c.name + "."))
        is_open = (raw.get(c.name) != blank(c) or bool(raw.get(c.name + STATE)) or n.invalid or focused
                   or bool(SECTION_REGIMES.get(c.name, set()) & regimes))
        parts = [x for x in n.children if x.kind in ("list", "group")] if c.kind == "group" else []
        sections.append(Section(f"sec-{c.name}", title, n, [], is_open, n.rows if c.kind == "list" else None, parts))
    summary = [{"href": "", "label": "", "message": m} for m in placed.get("", [])]
    for s in sections:
        _summary(s.fields, summary)
        if s.node:
            _summary([s.node], summary)
    return View(sections, summary, ctx.datalists)
