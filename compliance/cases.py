"""Catalog test cases (rules/cases/<regime>.yaml), OpenFisca-style: a base fixture, a few changed input fields,
an as-of date, and the expected status of one or more requirements."""
from __future__ import annotations

import copy
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
