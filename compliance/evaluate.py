"""One direction of flow: validated application -> facts -> rules (durable-rules) -> findings -> report."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any, Callable

from .catalog import UNCONFIRMED, Catalog, available_regimes, cited_params, load_catalog
from .dating import on_date
from .documents import assess
from .engine import RulesEngine, SessionTooLarge, get_engine
from .facts import REGISTRY, Fact, collections, context, derive, first_specialized_organization
from .loading import InputError, Problem
from .findings import FindingBuilder
from .models import Application, check_as_of
from .formatting import value as fmt_value
from .judgements import Bound, JudgementsFile, bind, contradictions, score
from .judgements import apply as apply_judgements
from .labels import regime_name
from .report import (STATUS_RU, Applicant, AssessedBy, Calculation, DocumentChecklist, DocumentItem, Finding, NormShares,
                     Report, count_statuses, overall_verdict, verdict_text)

_SHARES: dict[tuple[str, str, date], NormShares] = {}  # (regime, catalog hash, date): the same for every application


def norm_shares(catalog: Catalog, as_of: date) -> NormShares:
    """The regime's norms on `as_of` by how they are confirmed (see NormShares): the values in force of the catalog's
    dated parameters, and the wording of every requirement whose rule cites no parameter in force. It depends on the
    catalog and the date only, so it is computed once per both (not on every application of a batch)."""
    key = (catalog.regime, catalog.content_hash, as_of)
    if key not in _SHARES:
        if len(_SHARES) > 4096:  # a long-running service that saw many dates: start again rather than grow
            _SHARES.clear()
        _SHARES[key] = _count_shares(catalog, as_of)
    return _SHARES[key]


def _count_shares(catalog: Catalog, as_of: date) -> NormShares:
    in_force = {name: v for name, v in catalog.params_at(as_of).items() if v is not None}
    codes = [v.confidence for v in in_force.values()]
    for req in catalog.decree.requirements:
        rule = catalog.rules.get(req.id)
        if rule is None or not any(name in in_force for name in cited_params(rule)):
            codes.append(req.confidence)
    return NormShares(total=len(codes), text=codes.count("T"), secondary=codes.count("S"),
                      unconfirmed=sum(1 for c in codes if c in UNCONFIRMED))


FactOrder = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


class FactTypeError(Exception):
    pass


def engine_facts(facts: dict[str, Fact], ctx: dict[str, Any], usable_docs,
                 item_sets: dict[str, list[dict[str, Any]]] | None = None) -> list[dict[str, Any]]:
    """Facts as the engine sees them. Facts without a value are not asserted (their rules then stay silent and
    the requirement becomes insufficient_data); every value is type-checked against the fact's declared kind. A
    context attribute that is not stated (None) is left out of the context fact, and a collection that is not stated
    (None) gives no items."""
    return session_facts(ctx, fact_rows(facts), usable_docs, item_rows(item_sets))


def session_facts(ctx: dict[str, Any], facts: list[dict[str, Any]], usable_docs,
                  items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The context fact, then the facts, the documents and the items, in that order."""
    return [{"t": "ctx", **{k: v for k, v in ctx.items() if v is not None}}, *facts,
            *[{"t": "doc", "kind": doc.kind} for _, doc in usable_docs], *items]


def fact_rows(facts: dict[str, Fact]) -> list[dict[str, Any]]:
    """The facts with a value as the engine sees them, each value checked against the fact's declared kind."""
    out = []
    for name, f in facts.items():
        if f.value is None:
            continue
        kind = REGISTRY[name].kind
        ok = (kind == "bool" and isinstance(f.value, bool)) or \
             (kind == "number" and isinstance(f.value, (int, float)) and not isinstance(f.value, bool)) or \
             (kind == "str" and isinstance(f.value, str))
        if not ok:
            raise FactTypeError(f"факт {name}: ожидался тип {kind}, получено {f.value!r}")
        out.append({"t": "fact", "name": name, "value": f.value})
    return out


def item_rows(item_sets: dict[str, list[dict[str, Any]]] | None) -> list[dict[str, Any]]:
    return [{"t": "item", "set": name, **item} for name, items in (item_sets or {}).items() for item in items or []]


class Prepared:
    """The work of evaluating one application on one date that is the same for every regime, done once and shared by
    the regimes evaluated together (`evaluate_all`, `evaluate(prepared=…)`): the dated view, the item sets, the
    derived facts (those that read a catalog list, once per distinct set of lists), the facts as the report shows
    them and the documents as the report names them. It holds one application and one date: `evaluate` uses it only
    for exactly that application object and date, and builds a fresh one otherwise — nothing leaks between
    applications or dates. Everything is computed on first use."""

    def __init__(self, app: Application, as_of: date) -> None:
        self.app, self.as_of = app, as_of
        self._dated = self._items = None
        self._facts: dict[tuple, dict[str, Fact]] = {}
        self.fact_values: dict[int, Any] = {}  # id(Fact) -> FactValue (the facts are kept alive by self._facts)
        self.described: dict[tuple[int, str], str] = {}  # (id(Document), kind title) -> how the report names it
        self._rows: dict[int, list[dict[str, Any]]] = {}  # id(facts of self._facts) -> their rows for the engine
        self._item_rows: list[dict[str, Any]] | None = None

    def serves(self, app: Application, as_of: date) -> bool:
        return self.app is app and self.as_of == as_of

    @property
    def dated(self):
        if self._dated is None:
            self._dated = on_date(self.app, self.as_of)
        return self._dated

    @property
    def item_sets(self) -> dict[str, list[dict[str, Any]] | None]:
        if self._items is None:
            self._items = collections(self.dated, self.as_of)
        return self._items

    def engine_facts(self, facts: dict[str, Fact], ctx: dict[str, Any], usable_docs) -> list[dict[str, Any]]:
        """`engine_facts` of these facts (derived here) and of this application's items, their rows made once and
        shared by the regimes (the engine copies every row it asserts)."""
        rows = self._rows.get(id(facts))
        if rows is None:  # the facts are kept alive by self._facts: their id stays theirs
            rows = self._rows[id(facts)] = fact_rows(facts)
        if self._item_rows is None:
            self._item_rows = item_rows(self.item_sets)
        return session_facts(ctx, rows, usable_docs, self._item_rows)

    def facts(self, lists: dict[str, dict[str, str]]) -> dict[str, Fact]:
        key = tuple(sorted((role, tuple(items.items())) for role, items in lists.items()))
        if key not in self._facts:
            known = next(iter(self._facts.values()), None)
            self._facts[key] = derive(self.dated, self.as_of, lists, known)
        return self._facts[key]


def evaluate_all(app: Application, regimes: list[str], as_of: date | None = None, *, freshness: bool = False,
                 judgements: "dict[str, JudgementsFile | Bound] | None" = None,
                 engine: RulesEngine | None = None) -> list[Report]:
    """The reports of several regimes for one application, in the order given, sharing the work that does not depend
    on the regime (`Prepared`); each report is what `evaluate` gives for that regime alone. `judgements` — by
    regime. An input error of a regime is raised as `evaluate` raises it."""
    prepared = Prepared(app, as_of or app.filing_date)
    return [evaluate(app, regime, as_of, engine=engine, freshness=freshness, prepared=prepared,
                     judgements=(judgements or {}).get(regime)) for regime in regimes]


def evaluate(app: Application, regime: str, as_of: date | None = None, *, catalog: Catalog | None = None,
             engine: RulesEngine | None = None, fact_order: FactOrder | None = None,
             freshness: bool = False, judgements: "JudgementsFile | Bound | None" = None,
             prepared: Prepared | None = None) -> Report:
    """The report. `judgements` — a judgements file (it must name this application version: see
    `judgements.bind`) or judgements already bound to the application, e.g. with an explicit override. `prepared` —
    the regime-independent work shared with other regimes of the same application and date (see `evaluate_all`)."""
    catalog = catalog or load_catalog(regime)
    engine = engine or get_engine()
    as_of = as_of or app.filing_date
    try:
        check_as_of(as_of)
    except ValueError as exc:
        raise InputError([Problem("as_of", str(exc))]) from None
    if prepared is None or not prepared.serves(app, as_of):
        prepared = Prepared(app, as_of)
    missing_sections = [name for name in catalog.decree.requires_inputs if not getattr(app, name, None)]
    if missing_sections:
        raise InputError([Problem(name, f"для режима «{regime_name(catalog.regime)}» этот раздел заявки "
                                        "обязателен") for name in missing_sections])
    lists = {role: {i.code: i.name for i in lst.items} for role, lst in catalog.lists.items()}
    dated = prepared.dated  # the application as it stood on as_of: what was not yet or no longer there is out
    facts = prepared.facts(lists)
    flags = catalog.special_flags(app.region, as_of)
    notes = []
    if dated.exclusions:
        notes.append(f"На дату оценки {as_of:%d.%m.%Y} не учтено (ещё не действовало или уже истекло): "
                     + "; ".join(e.reason for e in dated.exclusions) + ".")
    if as_of < catalog.decree.act.date:
        notes.append(f"Дата оценки {as_of:%d.%m.%Y} раньше даты акта ({catalog.decree.act.citation}): "
                     "нормативы, введённые актом, на эту дату не действовали.")
    subtype = app.subtype
    if subtype not in catalog.decree.subtypes:  # e.g. an agrobiotechnopark checked as an industrial park
        notes.append(f"Подтип «{subtype_title(app, subtype)}» режимом не предусмотрен: площадка оценена как объект "
                     "общего типа.")
        subtype = "general"
    ctx = context(dated, as_of, flags, subtype)
    docs = assess(app, catalog, as_of, freshness)
    compiled = engine.ruleset_for(catalog, as_of)
    item_sets = prepared.item_sets
    asserted = prepared.engine_facts(facts, ctx, docs.usable)  # as engine_facts(facts, ctx, docs.usable, item_sets)
    if fact_order:
        asserted = fact_order(asserted)
    try:
        result = engine.run(compiled, asserted)
    except SessionTooLarge as exc:
        raise InputError([Problem("", str(exc))]) from None
    findings = FindingBuilder(catalog, compiled, facts, ctx, docs, as_of, result.fired, result.exception,
                              result.items, item_sets, dated, prepared.fact_values, prepared.described).build()
    assessor = bound = assessed_by = None
    if judgements is not None:
        bound = bind(judgements, app)
        jf = bound.file
        findings, judgement_notes = apply_judgements(findings, jf, catalog, as_of)
        notes += judgement_notes
        assessor = ", ".join(filter(None, [jf.assessor, jf.organisation])) or "эксперт"
        named = jf.application
        assessed_by = AssessedBy(assessor=jf.assessor, assessor_position=jf.assessor_position,
                                 organisation=jf.organisation, head=jf.head, head_position=jf.head_position,
                                 inn=named.inn if named else None, site_name=named.site_name if named else None,
                                 input_hash=named.input_hash if named else None,
                                 version=named.version if named else None)
    verdict = overall_verdict(findings)
    assessment = score(findings, catalog)
    mc = app.management_company or first_specialized_organization(app)
    return Report(
        regime=catalog.regime, regime_title=catalog.decree.title, act_citation=catalog.decree.act.citation,
        catalog_version=catalog.decree.catalog_version, catalog_hash=catalog.content_hash,
        evaluation_id=result.session_id or uuid.uuid4().hex, generated_at=datetime.now(timezone.utc),
        as_of=as_of, filing_date=app.filing_date,
        applicant=Applicant(role="Управляющая компания" if app.management_company else "Специализированная организация",
                            name=mc.name if mc else "—", inn=mc.inn if mc else "—", site_name=app.site_name,
                            region=app.region),
        category=catalog.decree.categories.get(app.category, app.category or "—"),
        subtype=catalog.decree.subtypes.get(subtype, subtype), notes=notes,
        special_regimes=[s.title for s in catalog.decree.special_regimes if flags.get(f"sr_{s.code}")],
        verdict=verdict, verdict_text=verdict_text(verdict, findings), counts=count_statuses(findings),
        blocking_gaps=[f.requirement_id for f in findings if f.severity == "blocking"
                       and f.status not in ("met", "not_applicable", "informational", "waived")],
        unconfirmed_norms=[f.requirement_id for f in findings if f.needs_confirmation and f.status in ("met", "not_met")],
        norm_shares=norm_shares(catalog, as_of), findings=findings, assessment=assessment, judgements_by=assessor,
        assessed_by=assessed_by,
        calculations=calculations(catalog, facts, findings),
        documents=checklist(findings, docs), engine_error=result.exception,
        judgements_mismatch=bound.mismatch if bound else None,
        judgement_contradictions=contradictions(findings, catalog, facts, as_of) if bound else [],
    )


def subtype_title(app: Application, code: str) -> str:
    """The Russian name of a subtype from the catalog of a regime that has it (the application's own regimes first)."""
    for regime in list(dict.fromkeys([*app.regimes, *available_regimes()])):
        title = load_catalog(regime).decree.subtypes.get(code)
        if title:
            return title
    return code


def calculations(catalog: Catalog, facts: dict[str, Fact], findings: list[Finding]) -> list[Calculation]:
    """The calculation facts this regime's rules read, with every step and the requirements that use them."""
    status = {f.requirement_id: f for f in findings}
    used = catalog.facts_used_by
    out = []
    for name, spec in REGISTRY.items():
        if not spec.calculation or name not in used:
            continue
        f = facts[name]
        users = [f"{rid}: {STATUS_RU[status[rid].status]}" + (f" — {status[rid].shortfall.text}" if status[rid].shortfall else "")
                 for rid in used[name] if rid in status and status[rid].status != "not_applicable"]
        if not users:
            continue
        out.append(Calculation(title=spec.calculation, fact=name, value=f.value, unit=f.unit,
                               text=fmt_value(f.value, f.unit) if f.value is not None else "нет данных",
                               lines=f.details, missing=f.missing, used_by=users))
    return out


def checklist(findings: list[Finding], docs) -> DocumentChecklist:
    items = [
        DocumentItem(requirement_id=f.requirement_id, title=f.title, status=f.status,
                     needed=f.norm.text if f.norm else f.text, provided=f.documents_found,
                     missing=f.documents_missing + [d for c in f.checks if c.outcome == "failed" for d in c.fact.details])
        for f in findings if f.kind == "document"
    ]
    return DocumentChecklist(items=items, not_counted=docs.not_counted, warnings=docs.warnings)
