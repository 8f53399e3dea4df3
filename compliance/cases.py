"""Catalog test cases (rules/cases/<regime>.yaml), OpenFisca-style: a base fixture, a few changed input fields,
an as-of date, and the expected status of one or more requirements."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .catalog import ROOT, Case, Catalog
from .evaluate import evaluate
from .loading import InputError, validate

FIXTURES = ROOT / "fixtures"


def fixture_path(name: str, root: Path = ROOT) -> Path:
    for suffix in (".yaml", ".yml", ".json"):
        p = root / "fixtures" / f"{name}{suffix}"
        if p.exists():
            return p
    raise FileNotFoundError(f"нет фикстуры «{name}» в {root / 'fixtures'}")


def _walk(data: Any, path: str) -> tuple[Any, Any]:
    tokens = path.split(".")
    node = data
    for tok in tokens[:-1]:
        node = node[int(tok)] if isinstance(node, list) else node.setdefault(tok, {})
    last = tokens[-1]
    return node, (int(last) if isinstance(node, list) else last)


def apply_patch(data: dict, set_: dict[str, Any], delete: list[str]) -> dict:
    """Dotted paths with list indices: {'land_plots.0.area.value': 3.5}; delete ['zoning']."""
    out = copy.deepcopy(data)
    for path in delete:
        node, key = _walk(out, path)
        del node[key]
    for path, value in set_.items():
        node, key = _walk(out, path)
        if isinstance(node, list) and key == len(node):
            node.append(value)
        else:
            node[key] = value
    return out


@dataclass
class CaseResult:
    case: Case
    actual: dict[str, str]

    @property
    def ok(self) -> bool:
        return all(self.actual.get(k) == v for k, v in self.case.expect.items())

    def describe(self) -> str:
        wrong = [f"{k}: ожидалось {v}, получено {self.actual.get(k)}" for k, v in self.case.expect.items()
                 if self.actual.get(k) != v]
        return f"«{self.case.name}»: " + "; ".join(wrong)


def run_case(catalog: Catalog, case: Case, root: Path = ROOT) -> CaseResult:
    base = yaml.safe_load(fixture_path(case.base, root).read_text(encoding="utf-8"))
    try:
        app = validate(apply_patch(base, case.set, case.delete))
        report = evaluate(app, catalog.regime, case.as_of, catalog=catalog)
    except InputError as exc:  # the case's input is refused: every expectation fails, with the reason
        return CaseResult(case, {rid: f"ошибка входных данных: {exc}" for rid in case.expect})
    return CaseResult(case, {f.requirement_id: f.status for f in report.findings})


# --- which requirements a case is written for ------------------------------------------------------------------
_RANGE = re.compile(r"([A-Z]+)-(\d+)\s*(?:…|\.\.\.|–|—)\s*\1-(\d+)")


def _short(rid: str) -> str:
    """'794-P-1' -> 'P-1', 'G-3.1-4' -> '3.1-4': how a case's name refers to a requirement of its own regime."""
    return rid.split("-", 1)[1] if "-" in rid else rid


def _named(prefix: str, rid: str) -> bool:
    short = _short(rid)
    for ref in (rid, short):
        if re.search(rf"(?<![\w.-]){re.escape(ref)}(?![\w-]|\.\d)", prefix):
            return True
    block, _, number = short.rpartition("-")
    if number.isdigit():
        for m in _RANGE.finditer(prefix):
            if m.group(1) == block and int(m.group(2)) <= int(number) <= int(m.group(3)):
                return True
    # a bare block name («DOC: полный комплект…») names every requirement of that block
    return bool(re.search(rf"(?<![\w-]){re.escape(short.split('-')[0])}(?![\w-])", prefix)) and short.count("-") == 1 \
        and not re.search(rf"(?<![\w-]){re.escape(short.split('-')[0])}-", prefix)


def named_targets(case: Case) -> list[str]:
    """The expected requirements the case's name begins with (the text before its first colon)."""
    prefix = case.name.split(":", 1)[0] if ":" in case.name else ""
    return [rid for rid in case.expect if _named(prefix, rid)]


def case_targets(case: Case) -> list[str]:
    """The requirements a case is written for: its `for:` list, or else the IDs its name begins with. The other
    expectations are side checks: they pin a neighbour's status on the same data, and the expert review document
    shows the case only under its own requirements."""
    return list(case.for_) or named_targets(case)


def target_problems(catalog: Catalog) -> list[str]:
    """`compliance catalog --check`: every case says whom it is for, and only requirements it expects."""
    problems = []
    for case in catalog.cases.cases if catalog.cases else []:
        for rid in case.for_:
            if rid not in case.expect:
                problems.append(f"тест «{case.name}»: в for указано {rid}, но для него нет ожидания в expect")
        if not case_targets(case):
            problems.append(f"тест «{case.name}»: не сказано, для какого требования пример — начните название с его "
                            "ID («P-1: …») или перечислите ID в поле for")
    return problems
