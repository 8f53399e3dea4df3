"""Draft amendments as scenarios: a YAML file, in the catalog's own format, that adds or changes dated parameter
values, rules and requirements of one or more regimes. Loading a scenario gives, per regime it touches, the current
catalog with the scenario applied — a `Catalog` with its own content hash (so its durable-rules ruleset has its own
name) and a version label that says it is a draft.

The file::

    title: Проект изменений в ПП № 794 (2025 г.)
    source: где опубликован проект
    description: что он меняет (необязательно)
    effective: 2027-01-01          # предполагаемая дата вступления в силу
    confidence: S                  # достоверность сведений о проекте (по умолчанию S)
    regimes:
      ip794:
        parameters:                # новые датированные значения (from по умолчанию — effective) или новые параметры
          max_plot_gap_km:
            values: [{value: 10, confidence: S, reference: ..., source: ...}]
        requirements: [...]        # требования: добавить или заменить (по id), как в decrees/<режим>.yaml
        rules: [...]               # правила: добавить или заменить (по requirement), как в rules/<режим>.yaml
        cases: [...]               # тестовые примеры сценария, как в rules/cases/<режим>.yaml

Nothing here names a regime.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .catalog import (ROOT, Case, CaseBook, Catalog, CatalogError, Confidence, Requirement, Rule, Strict, _build,
                      _CatalogLoader, available_regimes, load_catalog)
from .models import Day
from .parsers import yaml_problem

MAX_SCENARIO_BYTES = 2 * 1024 * 1024
LABEL_TITLE_CHARS = 120  # the version label is stored with checks (200 characters at most)


# --- the file ----------------------------------------------------------------------------------------------------
class ScenarioValue(Strict):
    """A dated parameter value, as in rules/<regime>.yaml; `from` defaults to the scenario's effective date."""

    start: Day | None = Field(None, alias="from")
    value: Any
    confidence: Confidence
    reference: str
    source: str | None = None
    note: str | None = None


class ScenarioParameter(Strict):
    title: str | None = None  # required for a new parameter
    unit: str | None = None
    values: list[ScenarioValue] = Field(min_length=1)


class RegimeChanges(Strict):
    parameters: dict[str, ScenarioParameter] = {}
    requirements: list[Requirement] = []
    rules: list[Rule] = []
    cases: list[Case] = []


class ScenarioFile(Strict):
    title: str = Field(min_length=1)
    source: str = Field(min_length=1)
    description: str | None = None
    effective: Day
    confidence: Confidence = "S"
    regimes: dict[str, RegimeChanges] = Field(min_length=1)


class ScenarioError(CatalogError):
    """A scenario file that does not read or does not apply; each line of the message names the file, the line and
    the field where it can."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# --- what a loaded scenario is -----------------------------------------------------------------------------------
class Scenario(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str  # the file's name
    title: str
    source: str
    description: str | None = None
    effective: date
    digest: str  # sha256 of the file's bytes
    catalogs: dict[str, Catalog]  # regime -> the current catalog with the scenario applied
    base_versions: dict[str, str]  # regime -> the current catalog's version
    base_hashes: dict[str, str]
    own_cases: dict[str, list[str]] = {}  # regime -> names of the cases the scenario adds
    lines: dict[str, int] = {}  # "regime/what/key" -> line of the file, for messages

    @property
    def regimes(self) -> list[str]:
        return list(self.catalogs)

    def label(self, regime: str) -> str:
        """«каталог 2026.12.1 с проектом изменений „…“»."""
        return f"каталог {self.catalogs[regime].decree.catalog_version}"


def version_label(base_version: str, title: str) -> str:
    short = title if len(title) <= LABEL_TITLE_CHARS else title[:LABEL_TITLE_CHARS - 1].rstrip() + "…"
    return f"{base_version} с проектом изменений „{short}“"


# --- line numbers ------------------------------------------------------------------------------------------------
def _node_lines(node: yaml.Node, path: tuple = (), out: dict[tuple, int] | None = None) -> dict[tuple, int]:
    """Path of every value of the document (keys and list indices) -> its line (1-based)."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value if isinstance(key, yaml.ScalarNode) else None
            out[path + (k,)] = key.start_mark.line + 1
            _node_lines(value, path + (k,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _node_lines(item, path + (i,), out)
    return out


def _line_of(lines: dict[tuple, int], loc: tuple) -> int | None:
    loc = tuple(str(x) if not isinstance(x, int) else x for x in loc)
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def _where(name: str, line: int | None) -> str:
    return f"{name}, строка {line}" if line else name


# --- loading -----------------------------------------------------------------------------------------------------
def load_scenario(path: Path, root: Path = ROOT) -> Scenario:
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ScenarioError([f"файл сценария не найден: {path}"]) from None
    if path.is_dir():
        raise ScenarioError([f"{path} — это папка, а не файл сценария"])
    if size > MAX_SCENARIO_BYTES:
        raise ScenarioError([f"{path.name}: файл сценария слишком велик (предел — 2 МБ)"])
    return load_scenario_bytes(path.read_bytes(), path.name, root)


def load_scenario_bytes(raw: bytes, name: str, root: Path = ROOT) -> Scenario:
    """The scenario from the bytes of its file (an upload); `name` names it in messages."""
    if len(raw) > MAX_SCENARIO_BYTES:
        raise ScenarioError([f"{name}: файл сценария слишком велик (предел — 2 МБ)"])
    if Path(name).suffix.lower() not in (".yaml", ".yml"):
        raise ScenarioError([f"{name}: сценарий пишется в файле YAML (.yaml или .yml), как каталог"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError([f"{name}: файл не в кодировке UTF-8"]) from None
    try:
        node = yaml.compose(text, Loader=_CatalogLoader)
        data = yaml.load(text, Loader=_CatalogLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{name}: {yaml_problem(exc)}"]) from None
    lines = _node_lines(node) if node is not None else {}
    if not isinstance(data, dict):
        raise ScenarioError([f"{name}: сценарий — объект с полями title, source, effective и regimes"])
    try:
        spec = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([_validation_line(name, lines, e) for e in exc.errors()]) from None

    known = available_regimes(root)
    problems = [f"{_where(name, _line_of(lines, ('regimes', code)))}: неизвестный режим «{code}»; доступны: "
                f"{', '.join(known)}" for code in spec.regimes if code not in known]
    if problems:
        raise ScenarioError(problems)
    catalogs, versions, hashes, own, where = {}, {}, {}, {}, {}
    for code, changes in spec.regimes.items():
        base = load_catalog(code, root)
        raw_changes = data["regimes"][code] or {}
        found = _apply(base, spec, changes, raw_changes, name, lines, ("regimes", code))
        if isinstance(found, list):
            problems += found
            continue
        catalogs[code], versions[code], hashes[code] = found, base.decree.catalog_version, base.content_hash
        own[code] = [c.name for c in changes.cases]
        for i, r in enumerate(changes.requirements):
            where[f"{code}/requirement/{r.id}"] = _line_of(lines, ("regimes", code, "requirements", i)) or 0
        for i, r in enumerate(changes.rules):
            where[f"{code}/rule/{r.requirement}"] = _line_of(lines, ("regimes", code, "rules", i)) or 0
        for p in changes.parameters:
            where[f"{code}/parameter/{p}"] = _line_of(lines, ("regimes", code, "parameters", p)) or 0
        for i, c in enumerate(changes.cases):
            where[f"{code}/case/{c.name}"] = _line_of(lines, ("regimes", code, "cases", i)) or 0
    if problems:
        raise ScenarioError(problems)
    return Scenario(name=name, title=spec.title, source=spec.source, description=spec.description,
                    effective=spec.effective, digest=hashlib.sha256(raw).hexdigest(), catalogs=catalogs,
                    base_versions=versions, base_hashes=hashes, own_cases=own, lines=where)


def _validation_line(name: str, lines: dict[tuple, int], e: dict) -> str:
    from .loading import _loc, _message
    loc = tuple(e["loc"])
    _, message = _message(e)
    shown = _loc(loc) or "сценарий"
    return f"{_where(name, _line_of(lines, loc))}: {shown}: {message}"


def _apply(base: Catalog, spec: ScenarioFile, changes: RegimeChanges, raw: dict, name: str,
           lines: dict[tuple, int], at: tuple) -> Catalog | list[str]:
    """The base catalog with the changes of one regime, or the problems that stop it."""
    decree = yaml.load(base.files[0][1].decode("utf-8"), Loader=_CatalogLoader)  # noqa: S506
    rules = yaml.load(base.files[1][1].decode("utf-8"), Loader=_CatalogLoader)  # noqa: S506
    problems: list[str] = []
    decree["catalog_version"] = version_label(str(decree["catalog_version"]), spec.title)
    decree.setdefault("amendments", []).append({
        "act": f"{spec.title} (проект изменений, рассматривается как сценарий)", "published": None,
        "effective": spec.effective,
        "summary": (spec.description or spec.title) + f" Источник: {spec.source}. Дата вступления в силу — "
                                                      "предполагаемая.",
        "confidence": spec.confidence})
    _replace_or_add(decree.setdefault("requirements", []), raw.get("requirements") or [], "id")
    params = rules.setdefault("parameters", {}) or {}
    rules["parameters"] = params
    for pname, p in changes.parameters.items():
        raw_p = raw["parameters"][pname]
        values = []
        for v, raw_v in zip(p.values, raw_p["values"]):
            values.append({"from": v.start or spec.effective, **{k: x for k, x in raw_v.items() if k != "from"}})
        if pname in params:
            params[pname]["values"] = list(params[pname]["values"]) + values
            for key in ("title", "unit"):
                if key in raw_p:
                    params[pname][key] = raw_p[key]
        else:
            if not p.title:
                problems.append(f"{_where(name, _line_of(lines, at + ('parameters', pname)))}: новый параметр "
                                f"«{pname}»: укажите title — название норматива")
                continue
            params[pname] = {k: x for k, x in raw_p.items() if k != "values"} | {"values": values}
    _replace_or_add(rules.setdefault("rules", []), raw.get("rules") or [], "requirement")
    if problems:
        return problems
    files = {rel: data for rel, data in base.files}
    rel_decree, rel_rules = base.files[0][0], base.files[1][0]
    files[rel_decree] = _dump(decree)
    files[rel_rules] = _dump(rules)

    def read(rel: str) -> bytes:
        if rel not in files:
            raise CatalogError(f"в каталоге режима нет файла {rel}")
        return files[rel]
    try:
        catalog, _ = _build(base.regime, read, ROOT)
    except CatalogError as exc:
        return [f"{name}: после применения к каталогу — {line}" for line in str(exc).splitlines()]
    base_cases = list(base.cases.cases) if base.cases else []
    catalog.cases = CaseBook(regime=base.regime, cases=base_cases + list(changes.cases))
    return catalog


def _replace_or_add(items: list[dict], changes: list[dict], key: str) -> None:
    """Each changed item replaces the item with the same `key` value, or is added at the end."""
    index = {item[key]: i for i, item in enumerate(items)}
    for item in changes:
        if item[key] in index:
            items[index[item[key]]] = item
        else:
            items.append(item)


def _dump(data: Any) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120).encode("utf-8")


# --- the check -------------------------------------------------------------------------------------------------------
@dataclass
class ScenarioCheck:
    """`compliance catalog --check --scenario`: problems (the scenario is refused), and the catalog's own test cases
    whose outcome the scenario changes (expected: that is what a draft does; listed, not refused)."""

    problems: dict[str, list[str]] = field(default_factory=dict)
    changed_cases: dict[str, list[str]] = field(default_factory=dict)
    own_cases: dict[str, int] = field(default_factory=dict)
    base_cases: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())


def check_scenario(scenario: Scenario, root: Path = ROOT) -> ScenarioCheck:
    """Validate every scenario catalog as the catalog is validated (references, dates, compilation on every date a
    value changes, a met and a not_met case for each automated requirement), run the scenario's own cases (each must
    pass) and the catalog's cases (a different outcome is reported as a change the scenario makes)."""
    from .catalog_check import check_catalog
    from .cases import run_case

    out = ScenarioCheck()
    for regime, catalog in scenario.catalogs.items():
        problems = [_locate(scenario, regime, p) for p in check_catalog(catalog, root, run_cases=False)]
        own = set(scenario.own_cases.get(regime, []))
        changed: list[str] = []
        cases = catalog.cases.cases if catalog.cases else []
        if not problems:
            for case in cases:
                result = run_case(catalog, case, root)
                if result.ok:
                    continue
                if case.name in own:
                    line = scenario.lines.get(f"{regime}/case/{case.name}")
                    problems.append(f"{_where(scenario.name, line)}: тест сценария {result.describe()}")
                else:
                    changed.append(result.describe())
        out.problems[regime] = problems
        out.changed_cases[regime] = changed
        out.own_cases[regime] = len(own)
        out.base_cases[regime] = len(cases) - len(own)
    return out


def _locate(scenario: Scenario, regime: str, problem: str) -> str:
    """A validator's message about the scenario catalog, prefixed with the file and the line of what the scenario
    wrote that it names (a requirement, a rule, a parameter), or with the file alone."""
    best = None
    for key, line in scenario.lines.items():
        code, _, rest = key.partition("/")
        what = rest.partition("/")[2]
        if code == regime and what and re.search(rf"(?<![\w-]){re.escape(what)}(?![\w-])", problem):
            best = line if best is None else min(best, line)
    return f"{_where(scenario.name, best)}: {problem}"
