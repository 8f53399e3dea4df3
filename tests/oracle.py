"""An independent evaluator of the catalog in plain Python (no durable-rules), for differential testing.

It shares only the fact derivation with the product (plain Python already) and reads the same catalog files; the
rule logic — applicability, dated norms, checks, documents, per-item joins, alternatives, special regimes and the
status precedence — is written again here from the README's description, not imported from the compiler, engine or
finding builder.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import date


from compliance.catalog import Catalog, Variant, load_catalog
from compliance.facts import collections, context, derive
from compliance.models import Application, document_usable

OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq, "!=": operator.ne,
       "in": lambda a, b: a in b}


@dataclass
class VariantOutcome:
    status: str  # met / not_met / undecided / not_applicable / manual_review / informational / special_regime
    failed_facts: list[str] = field(default_factory=list)
    failed_items: set[str] = field(default_factory=set)


@dataclass
class OracleFinding:
    status: str
    failed_facts: list[str]
    failed_items: set[str]


def _open(fact, op: str, norm) -> bool:
    """A count known only as a range (some items not stated): the check's result differs across the range."""
    lo, hi = fact.value, fact.upper
    if lo is None or hi is None or lo == hi:
        return False
    results = {OPS[op](n, norm) for n in range(int(lo), int(hi) + 1)}
    return len(results) > 1


def _variant(catalog: Catalog, req, rule, v: Variant, ctx, facts, docs: set[str], items, params, special: list[str]):
    # «not stated» (None) is neither inside nor outside the allowed values: such a variant stays undecided
    if any(ctx.get(attr) is not None and ctx.get(attr) not in allowed for attr, allowed in v.applies.items()):
        return VariantOutcome("not_applicable")
    if any(ctx.get(attr) is None for attr in v.applies):
        return VariantOutcome("undecided")
    if req.kind in ("manual", "informational"):
        import re
        cited = set(re.findall(r"\{param:(\w+)\}", " ".join(filter(None, (rule.message, v.norm_text)))))
        if rule.deadline_years_param:
            cited.add(rule.deadline_years_param)
        if any(params.get(p) is None for p in cited):
            return VariantOutcome("not_applicable")
        return VariantOutcome("manual_review" if req.kind == "manual" else "informational")
    norms = []
    for c in v.checks:
        if c.param is not None:
            pv = params.get(c.param)
            if pv is None:
                return VariantOutcome("not_applicable")
            norms.append(pv.value)
        else:
            norms.append(c.value)
    if any(ctx.get(flag) for flag in special):
        return VariantOutcome("special_regime")
    if v.each is not None:
        e = v.each
        if items.get(e.items) is None or items.get(e.related) is None:  # a list not stated: nothing can be decided
            return VariantOutcome("undecided")
        chosen = [i for i in items[e.items] if all(i.get(a) in allowed for a, allowed in e.items_where.items())]
        related = [r for r in items[e.related] if all(r.get(a) in allowed for a, allowed in e.related_where.items())]
        failing = {i["key"] for i in chosen if not any(r.get(m) == i["key"] for r in related for m in e.match)}
        if failing:
            return VariantOutcome("not_met", failed_items=failing)
        return VariantOutcome("met" if chosen else "undecided")
    failed, unknown = [], False
    for c, norm in zip(v.checks, norms):
        value = facts[c.fact].value
        if value is None or _open(facts[c.fact], c.op, norm):
            unknown = True
        elif not OPS[c.op](value, norm):
            failed.append(c.fact)
    if v.documents:
        if any(k not in docs for k in v.documents.all_of):
            failed.append("documents")
        if v.documents.any_of and not any(k in docs for k in v.documents.any_of):
            failed.append("documents")
    if failed:
        return VariantOutcome("not_met", failed_facts=failed)
    return VariantOutcome("undecided" if unknown else "met")


def oracle(app: Application, regime: str, as_of: date | None = None) -> dict[str, OracleFinding]:
    catalog = load_catalog(regime)
    as_of = as_of or app.filing_date
    lists = {role: {i.code: i.name for i in lst.items} for role, lst in catalog.lists.items()}
    facts = derive(app, as_of, lists)
    flags = {f"sr_{s.code}": s.active(app.region, as_of) for s in catalog.decree.special_regimes}
    subtype = app.subtype if app.subtype in catalog.decree.subtypes else "general"
    ctx = context(app, as_of, flags, subtype)
    docs = {d.kind for d in app.documents if document_usable(d, as_of)}
    items = collections(app, as_of)
    params = {name: p.at(as_of) for name, p in catalog.rulebook.parameters.items()}
    out = {}
    for req in catalog.decree.requirements:
        rule = catalog.rules[req.id]
        special = [f"sr_{s.code}" for s in catalog.decree.special_regimes if req.id in s.affects]
        outs = [_variant(catalog, req, rule, v, ctx, facts, docs, items, params, special) for v in rule.variants]
        live = [o for o in outs if o.status != "not_applicable"]
        statuses = {o.status for o in live}
        if not live:
            status = "not_applicable"
        elif "special_regime" in statuses:
            status = "manual_review"
        elif rule.combine == "any":
            status = "met" if "met" in statuses else ("not_met" if statuses == {"not_met"} else "insufficient_data")
        elif "not_met" in statuses:
            status = "not_met"
        elif "met" in statuses:
            status = "met"
        elif "manual_review" in statuses:
            status = "manual_review"
        elif "informational" in statuses:
            status = "informational"
        else:
            status = "insufficient_data"
        shown = next((o for o in live if o.status == status), live[0] if live else VariantOutcome(status))
        out[req.id] = OracleFinding(status, shown.failed_facts if status == "not_met" else [],
                                    shown.failed_items if status == "not_met" else set())
    return out
