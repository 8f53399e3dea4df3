"""Compile a regime's catalog, with the parameter values in force on a date, into a durable-rules ruleset.

Every rule name carries the requirement ID, the variant and the outcome, e.g. ``794-P-1|v0|not_met|c0``.
Patterns follow the safe pattern of docs/durable-rules notes: the trigger fact comes first, then the context,
then fact and document patterns; ``none()`` (``$not``) patterns come only after the trigger.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from datetime import date
from typing import Any, Iterable

from .catalog import Catalog, Check, ParamValue, Variant
from .facts import REGISTRY

OUTCOMES = ("met", "not_met", "not_applicable", "unenforced", "manual_review", "special_regime", "informational")

_OP = {">=": "$gte", ">": "$gt", "<=": "$lte", "<": "$lt", "!=": "$neq"}
_NEGATE = {">=": "<", ">": "<=", "<=": ">", "<": ">=", "==": "!=", "!=": "==", "in": "not in"}


@dataclass(frozen=True)
class RuleKey:
    requirement: str
    variant: int
    outcome: str
    part: str = ""  # which check / document / context attribute

    @cached_property
    def name(self) -> str:
        return "|".join(x for x in (self.requirement, f"v{self.variant}", self.outcome, self.part) if x)

    @staticmethod
    @lru_cache(maxsize=65536)  # rule names are few (those of the compiled catalogs); a key is immutable
    def parse(name: str) -> "RuleKey":
        parts = name.split("|")
        return RuleKey(parts[0], int(parts[1][1:]), parts[2], parts[3] if len(parts) > 3 else "")


@dataclass
class CompiledRuleset:
    name: str
    regime: str
    as_of_signature: str
    rules: dict[str, dict[str, Any]]  # rule name -> durable definition (without "run")
    variants: dict[str, int]  # requirement -> number of variants
    norms: dict[tuple[str, int, int], Any] = field(default_factory=dict)  # (req, variant, check) -> norm value
    # fact type -> the values of its selecting attribute some pattern reads (None: any fact of the type); None: a
    # pattern names no type, so every fact may be read
    _read: dict[str, set[Any] | None] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._read = read_by(self.rules)

    def reads(self, fact: dict[str, Any]) -> bool:
        """Whether some pattern of the ruleset may match the fact: a fact no rule reads changes no outcome, and is
        not asserted (RulesEngine.run)."""
        if self._read is None:
            return True
        t = fact.get("t")
        if t not in self._read:
            return False
        values = self._read[t]
        return values is None or fact.get(SELECTOR.get(t, "")) in values

    def read(self, facts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The facts some pattern may match (`reads`), in their order, in one pass."""
        by_type = self._read
        if by_type is None:
            return list(facts)
        out = []
        for fact in facts:
            t = fact.get("t")
            if t in by_type:
                values = by_type[t]
                if values is None or fact.get(SELECTOR.get(t, "")) in values:
                    out.append(fact)
        return out


class CompileError(Exception):
    pass


SELECTOR = {"fact": "name", "doc": "kind", "item": "set"}  # the attribute that picks facts of a type out


def _conjuncts(cond: dict) -> list[dict]:
    return cond["$and"] if len(cond) == 1 and "$and" in cond else [cond]


def _selected(conds: list[dict], attr: str) -> set[Any] | None:
    """The values of `attr` a conjunction requires (an equality, or $or of equalities), None if it does not."""
    for c in conds:
        if len(c) == 1 and attr in c and not isinstance(c[attr], (dict, list)):
            return {c[attr]}
        alts = c.get("$or") if len(c) == 1 else None
        if alts and all(len(a) == 1 and attr in a and not isinstance(a[attr], (dict, list)) for a in alts):
            return {a[attr] for a in alts}
    return None


def read_by(rules: dict[str, dict[str, Any]]) -> dict[str, set[Any] | None] | None:
    """Which facts the rules' patterns may match, by type (see CompiledRuleset.reads); None when a pattern names no
    fact type."""
    read: dict[str, set[Any] | None] = {}
    for body in rules.values():
        for pattern in body["all"]:
            for cond in pattern.values():
                conds = _conjuncts(cond)
                t = next((c["t"] for c in conds if len(c) == 1 and isinstance(c.get("t"), str)), None)
                if t is None:
                    return None
                values = _selected(conds, SELECTOR[t]) if t in SELECTOR else None
                if t in read and read[t] is None or values is None:
                    read[t] = None
                else:
                    read[t] = read.get(t, set()) | values
    return read


def _condition(attr: str, op: str, norm: Any) -> dict:
    if op == "==":
        return {attr: norm}
    if op == "in":
        return {"$or": [{attr: v} for v in norm]} if len(norm) != 1 else {attr: norm[0]}
    if op == "not in":
        return {"$and": [{"$neq": {attr: v}} for v in norm]} if len(norm) != 1 else {"$neq": {attr: norm[0]}}
    return {_OP[op]: {attr: norm}}


def _and(*conds: dict) -> dict:
    flat = [c for c in conds if c]
    return flat[0] if len(flat) == 1 else {"$and": flat}


def fact_pattern(fact: str, conds: list[dict]) -> dict:
    return _and({"t": "fact"}, {"name": fact}, *conds)


def _ctx_applies(applies: dict[str, list[Any]], extra: dict[str, Any]) -> dict:
    conds = [{"t": "ctx"}]
    for attr, allowed in sorted(applies.items()):
        conds.append(_condition(attr, "in", allowed))
    for attr, value in sorted(extra.items()):
        conds.append({attr: value})
    return _and(*conds)


def _doc_pattern(kinds: list[str]) -> dict:
    return _and({"t": "doc"}, _condition("kind", "in", kinds))


TRIGGER = {"trg": {"t": "trigger"}}


def norm_value(check: Check, params: dict[str, ParamValue | None]) -> tuple[bool, Any]:
    """(in force, value) of a check's norm on the compiled date."""
    if check.param is None:
        return True, check.value
    pv = params.get(check.param)
    return (pv is not None), (pv.value if pv is not None else None)


def validate_check(req: str, check: Check, norm: Any) -> None:
    spec = REGISTRY.get(check.fact)
    if spec is None:
        raise CompileError(f"{req}: неизвестный факт «{check.fact}»")
    if check.op == "in":
        if not isinstance(norm, list) or not norm:
            raise CompileError(f"{req}: для операции in норматив должен быть непустым списком")
        return
    if spec.kind == "number":
        if isinstance(norm, bool) or not isinstance(norm, (int, float)):
            raise CompileError(f"{req}: факт «{check.fact}» — число, а норматив «{norm!r}» — нет")
        if not math.isfinite(norm):  # the engine reads no NaN or infinity (compliance.engine.engine_number)
            raise CompileError(f"{req}: норматив факта «{check.fact}» — не конечное число ({norm!r})")
    elif spec.kind == "bool":
        if not isinstance(norm, bool) or check.op not in ("==", "!="):
            raise CompileError(f"{req}: факт «{check.fact}» логический: допустимы только == и != с true/false")
    elif check.op not in ("==", "!=") or not isinstance(norm, str):
        raise CompileError(f"{req}: факт «{check.fact}» строковый: допустимы ==, != и in со строками")


def signature(catalog: Catalog, as_of: date) -> str:
    """Identifies the set of parameter values and special regimes in force on the date."""
    params = catalog.params_at(as_of)
    blob = json.dumps({k: (v.value if v else None) for k, v in sorted(params.items())}, default=str, sort_keys=True)
    return hashlib.sha256((catalog.content_hash + blob).encode()).hexdigest()[:16]


def compile_catalog(catalog: Catalog, as_of: date) -> CompiledRuleset:
    params = catalog.params_at(as_of)
    special_affected: dict[str, list[str]] = {}
    for sr in catalog.decree.special_regimes:
        for req in sr.affects:
            special_affected.setdefault(req, []).append(f"sr_{sr.code}")

    rules: dict[str, dict] = {}
    variants: dict[str, int] = {}
    norms: dict[tuple[str, int, int], Any] = {}

    def add(key: RuleKey, patterns: list[dict]) -> None:
        rules[key.name] = {"all": [TRIGGER, *patterns]}

    for req_id, requirement in catalog.requirements.items():
        rule = catalog.rules.get(req_id)
        if rule is None:
            raise CompileError(f"{req_id}: нет правила в rules/{catalog.regime}.yaml")
        variants[req_id] = len(rule.variants)
        kind = requirement.kind
        flags = special_affected.get(req_id, [])
        for vi, variant in enumerate(rule.variants):
            _compile_not_applicable(add, req_id, vi, variant)
            if kind in ("automated", "document") and variant.each is not None:
                for flag in flags:
                    add(RuleKey(req_id, vi, "special_regime", flag), [{"ctx": _ctx_applies(variant.applies, {flag: True})}])
                _compile_each(add, req_id, vi, variant)
            elif kind in ("automated", "document"):
                # a special regime turns the requirement into manual review; the general rules still fire so the
                # expert sees how the site fares against the general norm
                for flag in flags:
                    add(RuleKey(req_id, vi, "special_regime", flag), [{"ctx": _ctx_applies(variant.applies, {flag: True})}])
                _compile_checks(add, norms, req_id, vi, variant, params, {})
            else:  # manual or informational: not applicable while a parameter its text cites is not in force
                cited = set(re.findall(r"\{param:(\w+)\}", " ".join(filter(None, (rule.message, variant.norm_text)))))
                cited |= {rule.deadline_years_param} if rule.deadline_years_param else set()
                outcome = "manual_review" if kind == "manual" else "informational"
                lapsed = sorted(p for p in cited if params.get(p) is None)
                key = RuleKey(req_id, vi, "unenforced", lapsed[0]) if lapsed else RuleKey(req_id, vi, outcome)
                add(key, [{"ctx": _ctx_applies(variant.applies, {})}])

    sig = signature(catalog, as_of)
    name = f"{catalog.regime}_{sig}"
    return CompiledRuleset(name, catalog.regime, sig, rules, variants, norms)


ITEM_OK, ITEM_FAIL, ITEMS_CHECKED = "item_ok", "item_fail", "items_checked"


def _where(conds: dict[str, list[Any]]) -> list[dict]:
    return [_condition(attr, "in", allowed) for attr, allowed in sorted(conds.items())]


def _compile_each(add, req_id: str, vi: int, variant: Variant) -> None:
    """Per-item join: one rule fires for each item that has a related item pointing at it, one for each item
    that has none (named in the report), and one marks that the items were checked."""
    each = variant.each
    ctx = {"ctx": _ctx_applies(variant.applies, {})}
    item = {"p": _and({"t": "item"}, {"set": each.items}, *_where(each.items_where))}
    link = {"$or": [{field: {"p": "key"}} for field in each.match]} if len(each.match) > 1 else {each.match[0]: {"p": "key"}}
    # The join condition must come before any $or filter on the related item's own attributes: with the filter
    # first, durable-rules silently drops the join and any qualifying contract satisfies every participant
    # (measured: 91 of 150 random clusters wrong; with the join first, 0). Regression: tests/test_engine_pitfalls.py.
    related = _and({"t": "item"}, {"set": each.related}, link, *_where(each.related_where))
    add(RuleKey(req_id, vi, ITEM_OK), [ctx, item, {"r": related}])
    add(RuleKey(req_id, vi, ITEM_FAIL), [ctx, item, {"r$not": related}])
    add(RuleKey(req_id, vi, ITEMS_CHECKED), [ctx])


def _compile_not_applicable(add, req_id: str, vi: int, variant: Variant) -> None:
    for attr, allowed in sorted(variant.applies.items()):
        add(RuleKey(req_id, vi, "not_applicable", attr), [{"ctx": _and({"t": "ctx"}, _condition(attr, "not in", allowed))}])


def _compile_checks(add, norms, req_id: str, vi: int, variant: Variant, params, normal: dict) -> None:
    ctx = {"ctx": _ctx_applies(variant.applies, normal)}
    resolved = []
    for ci, check in enumerate(variant.checks):
        in_force, norm = norm_value(check, params)
        if not in_force:
            add(RuleKey(req_id, vi, "unenforced", check.param or ""), [ctx])
            return
        validate_check(req_id, check, norm)
        norms[(req_id, vi, ci)] = norm
        resolved.append((ci, check, norm))

    # met: every check holds and every needed document is present. Checks on one fact share one pattern.
    by_fact: dict[str, list[dict]] = {}
    for _, check, norm in resolved:
        by_fact.setdefault(check.fact, []).append(_condition("value", check.op, norm))
    patterns = [ctx] + [{f"f{i}": fact_pattern(f, conds)} for i, (f, conds) in enumerate(sorted(by_fact.items()))]
    docs = variant.documents
    if docs:
        patterns += [{f"d{i}": _doc_pattern([k])} for i, k in enumerate(docs.all_of)]
        if docs.any_of:
            patterns.append({"da": _doc_pattern(docs.any_of)})
    add(RuleKey(req_id, vi, "met"), patterns)

    # not_met: one rule per failing check, one per missing document (none() only after the trigger).
    for ci, check, norm in resolved:
        add(RuleKey(req_id, vi, "not_met", f"c{ci}"), [ctx, {"f": fact_pattern(check.fact, [_condition("value", _NEGATE[check.op], norm)])}])
    if docs:
        for k in docs.all_of:
            add(RuleKey(req_id, vi, "not_met", f"d:{k}"), [ctx, {"d$not": _doc_pattern([k])}])
        if docs.any_of:
            add(RuleKey(req_id, vi, "not_met", "d:" + "+".join(docs.any_of)), [ctx, {"d$not": _doc_pattern(docs.any_of)}])
