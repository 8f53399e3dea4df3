"""Turn the rules that fired into one finding per catalog requirement, with its evidence."""
from __future__ import annotations

import operator
import re
from collections import defaultdict
from datetime import date
from typing import Any

from .catalog import UNCONFIRMED, Catalog, Check, ParamValue, Requirement, Rule, Variant
from .compiler import ITEM_FAIL, ITEM_OK, ITEMS_CHECKED, CompiledRuleset, RuleKey
from .dating import DatedApplication
from .documents import DocumentState, describe, kind_title
from .facts import COLLECTION_SOURCES, CONTEXT_SOURCES, Fact
from .formatting import UTILITY_KIND_RU, day, field_labels, norm_phrase, num, value as fmt_value
from .models import none_statable_lists
from .report import CheckResult, FactValue, Finding, Norm, Shortfall
from .units import unit_label

_UNCERTAINTY = "TSAMU"
_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
STATUS_RU_SHORT = {"met": "выполнено", "insufficient_data": "недостаточно данных"}


def _worst(*codes: str) -> str:
    return max(codes, key=_UNCERTAINTY.index)


def data_remedy(missing: list[str]) -> str:
    """What to supply when a requirement lacks data: the missing fields by their Russian labels, then how to say «нет»
    where the application can say it (a utility «нет и не планируется», a list «нет»)."""
    if not missing:
        return "Дополните заявку сведениями, по которым можно проверить требование."
    hints = {}
    for key in missing:
        token = re.sub(r"\[[^\]]*\]", "", key.partition(" (")[0]).split(".")[-1]
        if key.startswith("utilities.") and token in UTILITY_KIND_RU:
            hints["u"] = "По каждому ресурсу — технические условия, договор на подключение или подключение, с мощностью; " \
                         "если ресурса нет — «нет и не планируется»."
        elif token in none_statable_lists():
            hints["l"] = "Если чего-то из этого нет, укажите это явно: «нет» (не оставляйте раздел пустым)."
    text = "Дополните заявку — укажите: " + "; ".join(field_labels(missing)) + "."
    return " ".join([text, *hints.values()])


def undecided(value, upper, op: str, norm) -> bool:
    """A count known only between ``value`` and ``upper`` (items not stated): does the check's result depend on the
    unknown items?"""
    if value is None or upper is None or norm is None or value == upper or isinstance(norm, (bool, list)):
        return False
    if op in _OPS:
        return _OPS[op](value, norm) != _OPS[op](upper, norm)
    return value <= norm <= upper  # == and !=: decided only when the norm is outside the range


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


class _Assembler:
    """Builds a model from values that are already what its validation would give (the same types, each list a new
    one made by the caller): the instance pydantic would make — every field in the model's order, a default where no
    value is given, the fields given marked as set — without validating again what the finding builder made from
    validated parts (a validated Finding costs ~5 µs, most of the time of a simple finding). Keys that are no field
    are ignored, as validation ignores them. tests/test_evaluate_all.py validates every finding of every fixture and
    regime again and compares."""

    def __init__(self, model: type) -> None:
        self.model = model
        self.lists = tuple(name for name, f in model.model_fields.items() if f.default == [])
        # every field in the model's order with its default (a list one is made new for each instance)
        self.template = {name: None if f.is_required() else f.default for name, f in model.model_fields.items()}
        self.required = frozenset(name for name, f in model.model_fields.items() if f.is_required())
        self.fields = frozenset(self.template)
        self.given = frozenset(self.lists)  # marked as set although left out, as the validated findings had them

    def again(self, made: Any) -> Any:
        """A new instance equal to `made`, with list fields of its own (as validating its values would give)."""
        data = made.__dict__.copy()
        for name in self.lists:
            data[name] = list(data[name])
        return self._instance(data, set(made.__pydantic_fields_set__))

    def __call__(self, values: dict[str, Any]) -> Any:
        data = self.template.copy()
        data.update(values)  # a field keeps its place in the model's order
        for name in self.lists:
            if name not in values:
                data[name] = []
        if len(data) != len(self.template):  # a key that is no field
            data = {name: data[name] for name in self.template}
        if not self.required <= values.keys():
            raise TypeError(f"{self.model.__name__}: не заданы обязательные поля {sorted(self.required - values.keys())}")
        return self._instance(data, (values.keys() & self.fields) | self.given)

    def filled(self, data: dict[str, Any], fields_set: set[str]) -> Any:
        """An instance of a template filled in (every field in the model's order, _LIST for a list not given)."""
        for name in self.lists:
            if data[name] is _LIST:
                data[name] = []
        return self._instance(data, fields_set)

    def _instance(self, data: dict[str, Any], fields_set: set[str]) -> Any:
        made = _new(self.model)
        _set(made, "__dict__", data)
        _set(made, "__pydantic_fields_set__", fields_set)
        _set(made, "__pydantic_extra__", None)
        _set(made, "__pydantic_private__", None)
        return made


_new, _set = object.__new__, object.__setattr__
_FINDING = _Assembler(Finding)
_CHECK = _Assembler(CheckResult)
_CHECK_FIELDS = ("fact", "norm", "outcome")
_FACT = _Assembler(FactValue)
if tuple(FactValue.model_fields) != ("name", "label", "value", "unit", "text", "sources", "missing", "details", "gaps",
                                     "upper", "unknown"):  # FindingBuilder._fact_value fills exactly these, in order
    raise RuntimeError(f"FactValue fields changed: {tuple(FactValue.model_fields)}")
if tuple(CheckResult.model_fields) != _CHECK_FIELDS:  # _check fills exactly these, in this order
    raise RuntimeError(f"CheckResult fields changed: {tuple(CheckResult.model_fields)}")


def _check(fact: FactValue, norm: Norm, outcome: str) -> CheckResult:
    """CheckResult(fact=…, norm=…, outcome=…), assembled (see _Assembler)."""
    return _CHECK._instance({"fact": fact, "norm": norm, "outcome": outcome}, set(_CHECK_FIELDS))


def _made(common: dict[str, Any], given: frozenset[str], **values: Any) -> Finding:
    """The finding of `common` (a plan's template filled in: _Plan.template) with `values`; `given` — the fields
    marked as set."""
    common.update(values)
    fields_set = set(given)  # a set of its own: pydantic adds to it when a field is assigned
    fields_set.update(values)
    return _FINDING.filled(common, fields_set)


_LIST = object()  # a list field of a template not filled in: a new empty list
# the fields every finding's outcome gives (FindingBuilder._finding)
_COMMON = frozenset({"rules_fired", "checks", "norm", "fact", "confidence", "needs_confirmation", "inputs_used",
                     "documents_found", "documents_missing", "shown_facts"})


class _Constants:
    """What the findings of one catalog on one date share, whatever the application: the parameters in force, the norm
    of every check, the norm texts that read no fact, each requirement's plan (`_Plan`: what its finding takes from
    the catalog) and the findings that depend on the context alone. Kept per catalog object and date (`constants`)."""

    def __init__(self, catalog: Catalog, as_of: date) -> None:
        self.catalog = catalog
        self.params = catalog.params_at(as_of)
        self.norms: dict[tuple[str, int, int], Norm] = {}
        self.texts: dict[str, str] = {}
        self.measure: dict[str, set[str]] = {}
        self.norm_ids: set[int] = set()  # the norms above, kept alive here: their ids stay theirs
        self.worded: dict[tuple[str, int, str], Norm] = {}
        self.worded_from: dict[tuple[str, int, str], Norm] = {}  # the same by (requirement, norm, wording as written)
        self.plans: dict[str, _Plan] = {}
        # (requirement, the rules that fired for it, the context) -> the finding of a requirement that reads nothing
        # else of the application (_Plan.static); each report gets its own copy (_Assembler.again)
        self.findings: dict[tuple, Finding] = {}

    def plan(self, req: Requirement) -> "_Plan":
        found = self.plans.get(req.id)
        if found is None:
            found = self.plans[req.id] = _Plan(self.catalog, req)
        return found


class _VariantPlan:
    """What the finding of one variant reads from the catalog: its checks' facts, the kinds of the documents it needs
    and their titles (the titles of an alternative set of kinds joined as the report names what is lacking)."""

    __slots__ = ("facts", "kinds", "all_of", "any_of", "any_of_text")

    def __init__(self, catalog: Catalog, variant: Variant) -> None:
        self.facts = frozenset(c.fact for c in variant.checks)
        need = variant.documents
        self.kinds = None if need is None else frozenset(need.all_of) | frozenset(need.any_of)
        self.all_of = [] if need is None else [(k, kind_title(catalog, k)) for k in need.all_of]
        self.any_of = frozenset(need.any_of) if need is not None else frozenset()
        self.any_of_text = None
        if need is not None and need.any_of:
            titles = [kind_title(catalog, k) for k in need.any_of]
            self.any_of_text = " или ".join([titles[0]] + [t[:1].lower() + t[1:] for t in titles[1:]])


class _Plan:
    """What the finding of one requirement takes from the catalog alone, whatever the application and the rules that
    fired: the rule, the fields from the catalog, the facts its checks read, the context attributes its variants
    depend on, and per variant what `_VariantPlan` keeps."""

    __slots__ = ("rule", "n_variants", "base", "facts", "applies", "variants", "each", "any", "static", "template",
                 "given", "given_any")

    def __init__(self, catalog: Catalog, req: Requirement) -> None:
        rule = self.rule = catalog.rules[req.id]
        self.n_variants = len(rule.variants)
        self.base = dict(
            requirement_id=req.id, regime=catalog.regime, block=req.block,
            block_title=catalog.decree.blocks.get(req.block, req.block), clause=req.clause, title=req.title,
            text=req.text, kind=req.kind, severity=rule.severity, remedy=rule.remedy)
        # the finding's fields in the model's order: the catalog's, the defaults, a mark for each list not yet given
        self.template = {**_FINDING.template, **{name: _LIST for name in _FINDING.lists}, **self.base}
        # the fields every finding is given (those of the catalog, of every outcome, each list), and with an
        # alternative's condition
        self.given = frozenset(self.base) | _COMMON | _FINDING.given
        self.given_any = self.given | {"condition", "alternatives"}
        self.variants = [_VariantPlan(catalog, v) for v in rule.variants]
        self.facts = frozenset().union(*(v.facts for v in self.variants))
        self.applies = [(vi, attr, CONTEXT_SOURCES.get(attr, attr)) for vi, v in enumerate(rule.variants)
                        for attr in v.applies]
        self.each = any(v.each is not None for v in rule.variants)
        self.any = rule.combine == "any"
        # reads no fact (no check, no fact shown or cited in its wording), no document and no item
        self.static = not self.any and not rule.show and all(
            not v.checks and v.documents is None and v.each is None for v in rule.variants) and not any(
            "{fact:" in (text or "") for text in (rule.message, req.text, *(v.norm_text for v in rule.variants)))


_CONSTANTS: dict[tuple[str, str, date], _Constants] = {}
_NONE: frozenset[int] = frozenset()
_NO_KEYS: list[RuleKey] = []
_NOT_APPLYING = frozenset({"not_applicable", "unenforced"})


def constants(catalog: Catalog, as_of: date) -> _Constants:
    key = (catalog.regime, catalog.content_hash, as_of)
    found = _CONSTANTS.get(key)
    if found is None or found.catalog is not catalog:
        if len(_CONSTANTS) > 4096:  # a long-running service that saw many dates: start again rather than grow
            _CONSTANTS.clear()
        found = _CONSTANTS[key] = _Constants(catalog, as_of)
    return found


class FindingBuilder:
    def __init__(self, catalog: Catalog, compiled: CompiledRuleset, facts: dict[str, Fact], ctx: dict[str, Any],
                 docs: DocumentState, as_of: date, fired: list[str], engine_error: str | None,
                 item_hits: dict[str, set[str]] | None = None, item_sets: dict[str, list[dict]] | None = None,
                 dated: DatedApplication | None = None, fact_values: dict[int, FactValue] | None = None,
                 described: dict[tuple[int, str], str] | None = None):
        """`fact_values` and `described`: the facts as shown and the documents as named, kept across the regimes of
        one application and date (evaluate.Prepared); they depend only on the fact and on the document and title."""
        self.catalog, self.compiled, self.facts, self.ctx = catalog, compiled, facts, ctx
        self.fact_values = {} if fact_values is None else fact_values
        self.described = {} if described is None else described
        self.dated = dated  # for the reasons why items were not counted on the as-of date
        self.item_hits, self.item_sets = item_hits or {}, item_sets or {}
        self.docs, self.as_of, self.engine_error = docs, as_of, engine_error
        self.constants = constants(catalog, as_of)
        # the counts known only between two values (items not stated): only checks of these facts may be undecided
        self.bounded_facts = frozenset(name for name, f in facts.items() if f.upper is not None)
        self.bounded = bool(self.bounded_facts)
        self._named: dict[int, str] = {}  # the application's document number -> how this report names it
        self._by_kind: dict[str, list[int]] | None = None
        self._ctx_key: tuple | None = None
        self._undecided: dict[tuple[str, int], frozenset[int]] = {}
        self.kinds = {doc.kind for _, doc in docs.usable}  # the kinds of the documents that count on the date
        self.params = self.constants.params
        self.by_req: dict[str, list[RuleKey]] = defaultdict(list)
        for name in fired:
            key = RuleKey.parse(name)
            self.by_req[key.requirement].append(key)

    # -- helpers -----------------------------------------------------------------------------------------------
    def fact_value(self, name: str) -> FactValue:
        f = self.facts[name]
        shown = self.fact_values.get(id(f))
        if shown is None:
            shown = self.fact_values[id(f)] = self._fact_value(f)
        return shown

    @staticmethod
    def _fact_value(f: Fact) -> FactValue:
        name = f.name
        text = fmt_value(f.value, f.unit) if not f.missing else "нет данных"
        if f.upper is not None and not f.missing:
            text = f"от {fmt_value(f.value, f.unit)} до {fmt_value(f.upper, f.unit)} (не указано у {len(f.unknown)})"
        # FactValue(name=…, …), assembled (see _Assembler): the lists copied, as validation copies them
        return _FACT._instance({"name": name, "label": f.label, "value": f.value, "unit": f.unit, "text": text,
                                "sources": list(f.sources), "missing": list(f.missing), "details": list(f.details),
                                "gaps": list(f.gaps), "upper": f.upper, "unknown": list(f.unknown)}, set(_FACT.fields))

    def undecided_checks(self, req_id: str, vi: int, variant: Variant) -> set[int]:
        """The checks of a variant whose fact is a count with items not stated, and whose result depends on them."""
        if not self.bounded:  # no count with items not stated: nothing is undecided
            return _NONE
        known = self._undecided.get((req_id, vi))  # asked for the outcomes of the variant, then for its checks
        if known is None:
            known = self._undecided[(req_id, vi)] = frozenset(
                ci for ci, check in enumerate(variant.checks) if check.fact in self.bounded_facts
                and (f := self.facts.get(check.fact)) is not None
                and undecided(f.value, f.upper, check.op, self.compiled.norms.get((req_id, vi, ci))))
        return known

    def substitute(self, template: str, extra: dict[str, str] | None = None) -> str:
        if extra or "{fact:" in template:
            return self._substitute(template, extra)
        texts = self.constants.texts
        if template not in texts:
            texts[template] = self._substitute(template)
        return texts[template]

    def _substitute(self, template: str, extra: dict[str, str] | None = None) -> str:
        def repl(m: re.Match) -> str:
            name = m.group(1)
            pv = self.params.get(name)
            if pv is None:
                return "(норматив не действует)"
            unit = self.catalog.rulebook.parameters[name].unit
            if isinstance(pv.value, list):
                return fmt_value(pv.value)
            return fmt_value(pv.value, unit)
        text = re.sub(r"\{param:(\w+)\}", repl, template)
        text = re.sub(r"\{fact:(\w+)\}", lambda m: self.fact_value(m.group(1)).text if m.group(1) in self.facts
                      else m.group(0), text)
        for k, v in (extra or {}).items():
            text = text.replace("{" + k + "}", v)
        return text

    def worded(self, req: Requirement, norm: Norm | None, template: str) -> Norm | None:
        """The norm a finding shows under the rule's own wording of it (`template`): the check's norm with that text,
        or, for a requirement without checks, the requirement's norm in words. When the norm is one of `constants` and
        the wording reads no fact of the application, it depends on the catalog and the date only and is kept there
        (by the wording as written too, so that the next finding finds it without substituting it again)."""
        known = self.constants.worded_from.get((req.id, id(norm), template))
        if known is not None:  # kept only for a norm of `constants` (alive there: no other object has its id) or None
            return known
        text = self.substitute(template)
        if not text:
            return norm
        keep = "{fact:" not in template and (norm is None or id(norm) in self.constants.norm_ids)
        key = (req.id, id(norm), text)
        if keep and key in self.constants.worded:
            return self.constants.worded[key]
        made = norm.model_copy(update={"text": text}) if norm is not None else Norm(
            text=text, confidence=req.confidence, reference=req.clause, source=req.source,
            needs_confirmation=req.confidence in UNCONFIRMED)
        if keep:
            self.constants.worded[key] = made
            self.constants.worded_from[(req.id, id(norm), template)] = made
        return made

    def norm_for(self, req: Requirement, variant: Variant, vi: int, ci: int, check: Check) -> Norm:
        """The norm of a check: it depends on the catalog and the date only (kept in `constants`)."""
        norms = self.constants.norms
        key = (req.id, vi, ci)
        norm = norms.get(key)
        if norm is None:  # setdefault: of two threads computing it, both keep the one stored (whose id is noted)
            norm = norms.setdefault(key, self._norm_for(req, variant, vi, ci, check))
            self.constants.norm_ids.add(id(norm))
        return norm

    def _norm_for(self, req: Requirement, variant: Variant, vi: int, ci: int, check: Check) -> Norm:
        pv: ParamValue | None = self.params.get(check.param) if check.param else None
        unit = self.catalog.rulebook.parameters[check.param].unit if check.param else self.facts[check.fact].unit
        value = self.compiled.norms.get((req.id, vi, ci), pv.value if pv else check.value)
        confidence = pv.confidence if pv else req.confidence
        if value is None:
            text = "норматив не действует на дату оценки"
        else:  # «ни одного», not «равно 0»: the norm as a person states it
            text = norm_phrase(check.op, value, unit)
        return Norm(text=text, op=check.op, value=value, unit=unit, parameter=check.param,
                    effective_from=pv.start if pv else None, confidence=confidence,
                    reference=pv.reference if pv else req.clause, source=pv.source if pv else req.source,
                    needs_confirmation=confidence in UNCONFIRMED)

    def per_hectare_total(self, gap: float, unit: str | None) -> str:
        """A shortfall per hectare, restated for the whole territory: '(≈ 0,21 МВт на 7,4 га)'."""
        area = self.facts.get("total_area_ha")
        if not unit or not unit.endswith("/ha") or area is None or not area.value:
            return ""
        base = unit[: -len("/ha")]
        return f" (≈ {num(gap * area.value, 3)} {unit_label(base)} на {num(area.value)} га)"

    def shortfall(self, check: Check, fact: FactValue, norm: Norm) -> Shortfall | None:
        v, n = fact.value, norm.value
        if isinstance(v, bool) and fact.gaps:  # a yes/no fact: the gap is the part that fails, by name
            return Shortfall(value=float(len(fact.gaps)), unit=None, text="; ".join(fact.gaps))
        if isinstance(v, bool) or isinstance(n, bool) or not isinstance(v, (int, float)) or not isinstance(n, (int, float)):
            return None
        unit = "" if norm.unit == "pcs" else ("п. п." if norm.unit == "%" else unit_label(norm.unit))  # share gaps: points
        digits = 2 if norm.unit == "%" else 4

        def amount(x: float) -> str:
            return " ".join(f"{num(x, digits)} {unit}".split())

        if check.op in (">=", ">"):
            gap = n - v
            text = f"не хватает {amount(gap)}" + self.per_hectare_total(gap, norm.unit)
        elif check.op in ("<=", "<"):
            gap = v - n
            text = f"превышение на {amount(gap)}"
        elif check.op == "==" and n == 0:
            gap = abs(v)
            text = f"выявлено {fmt_value(v, norm.unit)}, допустимо 0"
        elif check.op == "==":
            gap = abs(v - n)
            text = f"требуется ровно {fmt_value(n, norm.unit)}, указано {fmt_value(v, norm.unit)}"
        else:  # "!=": the one value that is not allowed
            gap = 0.0
            text = f"значение {fmt_value(v, norm.unit)} не допускается"
        return Shortfall(value=round(gap, 6), unit=norm.unit, text=text)

    def ctx_text(self, attr: str, v: Any) -> str:
        d = self.catalog.decree
        if attr == "category":
            return f"категория «{d.categories.get(v, v)}»"
        if attr == "subtype":
            return f"подтип «{d.subtypes.get(v, v)}»"
        if attr.startswith("sr_"):
            sr = next((s for s in d.special_regimes if f"sr_{s.code}" == attr), None)
            title = sr.title if sr else attr
            return f"особый режим «{title}» {'действует' if v else 'не действует (регион или дата оценки вне его действия)'}"
        if attr == "has_residents":
            return "есть резиденты" if v else "резидентов нет"
        if attr == "has_partnerships":
            return "есть партнёрства с вузами или научными организациями" if v else \
                "партнёрств с вузами и научными организациями нет"
        return f"{attr} = {v}"

    # -- main --------------------------------------------------------------------------------------------------
    def build(self) -> list[Finding]:
        return [self.finding(req) for req in self.catalog.decree.requirements]

    def finding(self, req: Requirement) -> Finding:
        plan = self.constants.plan(req)
        if not plan.static or self.engine_error:
            return self._finding(req, plan)
        # a requirement that reads no fact, document or item of the application (a manual or informational one, say):
        # its finding follows from the rules that fired and the context alone, and is made once per both
        if self._ctx_key is None:
            self._ctx_key = tuple(sorted(self.ctx.items()))
        key = (req.id, tuple(sorted(k.name for k in self.by_req.get(req.id, _NO_KEYS))), self._ctx_key)
        made = self.constants.findings.get(key)
        if made is None:
            if len(self.constants.findings) > 20000:  # many contexts seen: start again rather than grow
                self.constants.findings.clear()
            made = self.constants.findings[key] = self._finding(req, plan)
        return _FINDING.again(made)

    def _finding(self, req: Requirement, plan: "_Plan") -> Finding:
        rule: Rule = plan.rule
        keys = self.by_req.get(req.id, _NO_KEYS)
        n_variants = self.compiled.variants[req.id]
        per_variant = self.variant_outcomes(req, rule, keys, plan)
        na_variants = {vi for vi, o in per_variant.items() if o & _NOT_APPLYING} if keys else set()
        outcomes, vi = self.combine(rule, per_variant, na_variants, keys)
        variant = rule.variants[vi]
        common = plan.template.copy()
        given = plan.given
        common["rules_fired"] = sorted(k.name for k in keys) if keys else []

        checks = self.check_results(req, variant, vi, keys, plan.variants[vi])
        if variant.each is not None:
            checks.append(self.each_result(req, variant, vi, outcomes))
        confidence = _worst(req.confidence, *[c.norm.confidence for c in checks]) if checks else req.confidence
        for lead in checks:
            if lead.outcome == "failed":
                break
        else:
            lead = self.primary_check(rule, checks) if checks else None
        norm, fact = (lead.norm, lead.fact) if lead else (None, None)
        if variant.norm_text:
            norm = self.worded(req, norm, variant.norm_text)
        if len(checks) == 1:
            inputs, missing = sorted(set(fact.sources)), set(fact.missing)
        elif checks:
            inputs = sorted({s for c in checks for s in c.fact.sources})
            missing = {m for c in checks for m in c.fact.missing}
        else:
            inputs, missing = [], set()
        ctx = self.ctx
        if plan.applies:
            missing.update([source for v, attr, source in plan.applies if v not in na_variants and ctx.get(attr) is None])
        missing = sorted(missing)
        found, lacking = self.documents(variant, keys, plan.variants[vi])
        shown = [self.fact_value(n) for n in rule.show] if rule.show else []
        if plan.any and variant.label:
            common["condition"], given = variant.label, plan.given_any
            common["alternatives"] = self.alternative_parts(req, rule, per_variant, na_variants, keys, skip=vi)
        common.update(checks=checks, norm=norm, fact=fact, confidence=confidence,
                      needs_confirmation=confidence in UNCONFIRMED, inputs_used=inputs,
                      documents_found=found, documents_missing=lacking, shown_facts=shown)

        if "special_regime" in outcomes:
            sr_titles = [s.title for s in self.catalog.decree.special_regimes
                         if any(k.part == f"sr_{s.code}" for k in keys)]
            alternatives_met = rule.combine == "any" and any("met" in o for o in per_variant.values())
            if alternatives_met or ("met" in outcomes and "not_met" not in outcomes):
                general = "выполнено"
            elif "not_met" in outcomes and rule.combine == "any":
                general = "не выполнено. " + self.alternatives_text(req, rule, per_variant, na_variants, keys)
            elif "not_met" in outcomes:
                general = "не выполнено" + "".join(f" ({c.fact.label}: {c.fact.text}; норматив — {c.norm.text})"
                                                   for c in checks if c.outcome == "failed")
            else:
                general = "недостаточно данных"
            return _made(common, given, status="manual_review",
                           what_to_check="Сравните факты площадки с упрощёнными требованиями особого режима "
                                         "(их значения в доступных источниках не установлены).",
                           explanation=f"Действует особый режим ({'; '.join(sr_titles)}): требование оценивает эксперт. "
                                       f"По общему нормативу — {general}.")
        if "error" in outcomes:
            return _made(common, given, status="error", missing_inputs=missing,
                           explanation="Движок правил вернул неполный результат по элементам: часть элементов не "
                                       "подтверждена и не отклонена. Проверка требует повторения.")
        if "not_met" in outcomes:
            failed = next(c for c in checks if c.outcome == "failed") if any(c.outcome == "failed" for c in checks) else None
            sf = self.shortfall_of(variant, failed) if failed else None
            parts = [f"{c.fact.label}: {c.fact.text}; норматив — {c.norm.text}" for c in checks if c.outcome == "failed"]
            if rule.combine == "any":
                parts = [self.alternatives_text(req, rule, per_variant, na_variants, keys)] + \
                        [f"Ближе всего — «{variant.label or f'вариант {vi + 1}'}»: " + "; ".join(parts)]
            if lacking:
                parts.append("Нет документов: " + "; ".join(lacking))
            return _made(common, given, status="not_met", shortfall=sf, missing_inputs=missing,
                           explanation="Не выполнено. " + ". ".join(parts) + (f" ({sf.text})" if sf else "") + ".")
        if "met" in outcomes:
            parts = [f"{c.fact.label}: {c.fact.text}; норматив — {c.norm.text}" for c in checks]
            if rule.combine == "any" and variant.label:
                parts.insert(0, f"Выполнено условие «{variant.label}»")
            if found:
                parts.append("представлено: " + "; ".join(found))
            return _made(common, given, status="met", explanation="Выполнено. " + ". ".join(parts) + ".")
        if "manual_review" in outcomes:
            return _made(common, given, status="manual_review", what_to_check=rule.what_to_check,
                           explanation="Норматив не установлен в доступных источниках: требуется экспертная оценка "
                                       "по фактам площадки.")
        if "informational" in outcomes:
            extra = {}
            if rule.deadline_years_param:
                pv = self.params.get(rule.deadline_years_param)
                if pv is not None:
                    extra["deadline"] = day(add_years(self.as_of, int(pv.value)))
            message = self.substitute(rule.message or req.text, extra)
            return _made(common, given, status="informational", explanation=message)
        if n_variants and len(na_variants) == n_variants:
            return _made(common, given, documents_found=[], documents_missing=[], status="not_applicable",
                           explanation=self.not_applicable_text(rule, keys))
        if self.engine_error:
            return _made(common, given, status="error", missing_inputs=missing,
                           explanation="Ошибка при проверке правила: " + self.engine_error.splitlines()[0][:300])
        labels = field_labels(missing)
        return _made(common, given, remedy=rule.remedy_insufficient_data or data_remedy(missing),
                       status="insufficient_data", missing_inputs=missing,
                       explanation="Недостаточно данных: " + ("не указано — " + "; ".join(labels) if labels
                                                              else "нет фактов для проверки") + ".")

    def unstated_sets(self, variant: Variant) -> list[str]:
        """The item sets of a per-item variant that the application does not state (their source fields)."""
        each = variant.each
        return [COLLECTION_SOURCES.get(name, name) for name in (each.items, each.related)
                if self.item_sets.get(name) is None]

    def primary_check(self, rule: Rule, checks: list[CheckResult]) -> CheckResult | None:
        """The check whose fact is the requirement's measure: the fact every variant checks (779-C-5: the FD, not the
        share of special territories that only selects the threshold); else the first check."""
        measure = self.measure_facts(rule)
        return next((c for c in checks if c.fact.name in measure), checks[0] if checks else None)

    # -- variants: per-item outcomes and alternatives ---------------------------------------------------------------
    def item_keys(self, req_id: str, vi: int, outcome: str) -> set[str]:
        return self.item_hits.get(RuleKey(req_id, vi, outcome).name, set())

    def each_items(self, variant: Variant) -> list[dict]:
        each = variant.each
        return [i for i in self.item_sets.get(each.items) or []
                if all(i.get(attr) in allowed for attr, allowed in each.items_where.items())]

    def variant_outcomes(self, req: Requirement, rule: Rule, keys: list[RuleKey],
                         plan: _Plan | None = None) -> dict[int, set[str]]:
        """Outcomes per variant; a per-item variant becomes met / not_met from the items the engine named."""
        per: dict[int, set[str]] = {vi: set() for vi in range(len(rule.variants))}
        if not keys:  # no rule fired: no outcome, and no items were checked
            return per
        plan = plan or self.constants.plan(req)
        open_checks = {vi: self.undecided_checks(req.id, vi, v) for vi, v in enumerate(rule.variants)} \
            if self.bounded and not self.bounded_facts.isdisjoint(plan.facts) else None
        for k in keys:
            if open_checks and ((k.outcome == "met" and open_checks[k.variant]) or (
                    k.outcome == "not_met" and k.part.startswith("c") and int(k.part[1:]) in open_checks[k.variant])):
                continue  # decided on the known items only: the unknown ones could change it
            per[k.variant].add(k.outcome)
        for vi, variant in enumerate(rule.variants) if plan.each else ():
            if variant.each is None or ITEMS_CHECKED not in per[vi]:
                continue
            if self.unstated_sets(variant):  # e.g. the contracts not stated: no participant fails for want of one
                continue
            ok, fail = self.item_keys(req.id, vi, ITEM_OK), self.item_keys(req.id, vi, ITEM_FAIL)
            expected = {i["key"] for i in self.each_items(variant)}
            if (ok & fail) or (expected and (ok | fail) != expected):  # every item exactly once, else never "met"
                per[vi].add("error")
            elif fail:
                per[vi].add("not_met")
            elif expected:
                per[vi].add("met")
        return per

    def combine(self, rule: Rule, per: dict[int, set[str]], na: set[int], keys: list[RuleKey]) -> tuple[set[str], int]:
        """The requirement's outcomes and the variant to show. ``all``: any failing variant fails the requirement;
        ``any``: one met variant suffices, and it fails only when every applicable variant fails."""
        if len(per) == 1 and rule.combine != "any":  # one variant: its outcomes, and it is the one shown
            return set(per[0]), 0
        union = set().union(*per.values()) if per else set()
        applicable = [vi for vi in per if vi not in na]
        if rule.combine == "any" and "special_regime" not in union:
            met = [vi for vi in applicable if "met" in per[vi]]
            if met:
                return union - {"not_met"}, met[0]
            if applicable and all("not_met" in per[vi] for vi in applicable):
                return union, min(applicable, key=lambda vi: self.distance(rule, vi, keys))
            return union - {"not_met"}, applicable[0] if applicable else 0
        decided = [vi for vi in applicable if per[vi] - {"not_applicable", "unenforced"}]
        return union, (decided[0] if decided else (applicable[0] if applicable else 0))

    def distance(self, rule: Rule, vi: int, keys: list[RuleKey]) -> tuple[int, int, int]:
        """How far a failed alternative is from being met. Its checks of the requirement's measure (the fact every
        alternative checks: 779-C-5's FD) are weighed after its conditions (the share of special territories that
        selects the reduced threshold): the alternative whose conditions hold is the one that applies; among those,
        the one with fewer failed checks, then the more specific one (more conditions holding)."""
        measure = self.measure_facts(rule)
        failed = {k.part for k in keys if k.variant == vi and k.outcome == "not_met"}
        conditions = [(f"c{ci}", c) for ci, c in enumerate(rule.variants[vi].checks) if c.fact not in measure]
        held = sum(1 for part, c in conditions if part not in failed and self.facts.get(c.fact) is not None
                   and self.facts[c.fact].value is not None)
        return sum(1 for part, _ in conditions if part in failed), len(failed), -held

    def measure_facts(self, rule: Rule) -> set[str]:
        """The facts every variant of the rule checks: the requirement's measure."""
        measure = self.constants.measure
        if rule.requirement not in measure:
            measure[rule.requirement] = self._measure_facts(rule)
        return measure[rule.requirement]

    @staticmethod
    def _measure_facts(rule: Rule) -> set[str]:
        return set.intersection(*({c.fact for c in v.checks} for v in rule.variants)) if rule.variants else set()

    def alternatives_text(self, req: Requirement, rule: Rule, per, na, keys) -> str:
        return "Условия (достаточно одного): " + "; ".join(self.alternative_parts(req, rule, per, na, keys))

    def alternative_parts(self, req: Requirement, rule: Rule, per, na, keys, skip: int | None = None) -> list[str]:
        """«name» — how each alternative of the rule stands (all but `skip`)."""
        parts = []
        for vi, variant in enumerate(rule.variants):
            if vi == skip:
                continue
            name = variant.label or f"вариант {vi + 1}"
            if vi in na:
                parts.append(f"«{name}» — не применяется")
                continue
            failed = [c for c in self.check_results(req, variant, vi, keys) if c.outcome == "failed"]
            parts.append(f"«{name}» — " + ("не выполнено: " + "; ".join(
                f"{c.fact.label} {c.fact.text}, норматив {c.norm.text}" for c in failed) if failed else STATUS_RU_SHORT.get(
                "met" if "met" in per[vi] else "insufficient_data")))
        return parts

    def each_result(self, req: Requirement, variant: Variant, vi: int, outcomes: set[str]) -> CheckResult:
        each = variant.each
        labels = {i["key"]: i["label"] for i in self.each_items(variant)}
        items = self.each_items(variant)
        source = COLLECTION_SOURCES.get(each.items, each.items)
        sources = [source, COLLECTION_SOURCES.get(each.related, each.related)]
        not_counted = self.dated.reasons_for(sources) if self.dated else []
        unknown = self.unstated_sets(variant) or ([] if items else [source])
        fail = [] if unknown else sorted(self.item_keys(req.id, vi, ITEM_FAIL))
        fact = FactValue(name=f"{each.items}:{each.related}", label=each.label, value=None if unknown else len(fail),
                         unit="pcs", text="нет данных" if unknown else str(len(fail)), sources=sources,
                         missing=unknown, details=[labels.get(k, k) for k in fail] + not_counted)
        norm = Norm(text="0 (у каждого — хотя бы один)", op="==", value=0, unit="pcs", confidence=req.confidence,
                    reference=req.clause, source=req.source, needs_confirmation=req.confidence in UNCONFIRMED)
        outcome = "failed" if fail else ("passed" if "met" in outcomes else "no_data")
        return _check(fact, norm, outcome)

    def check_results(self, req: Requirement, variant: Variant, vi: int, keys: list[RuleKey],
                      plan: _VariantPlan | None = None) -> list[CheckResult]:
        if not variant.checks:
            return []
        failed_parts = {k.part for k in keys if k.outcome == "not_met" and k.variant == vi}
        met = any(k.outcome == "met" and k.variant == vi for k in keys)
        # only a check of a count known between two values may be undecided
        open_checks = _NONE if plan is not None and self.bounded_facts.isdisjoint(plan.facts) else \
            self.undecided_checks(req.id, vi, variant)
        out = []
        norms, facts, shown = self.constants.norms, self.facts, self.fact_values
        for ci, check in enumerate(variant.checks):
            fact = shown.get(id(facts[check.fact])) or self.fact_value(check.fact)
            norm = norms.get((req.id, vi, ci)) or self.norm_for(req, variant, vi, ci, check)
            if ci in open_checks:
                fact = fact.model_copy(update={"missing": fact.unknown})
                outcome = "no_data"
            elif f"c{ci}" in failed_parts:
                outcome = "failed"
            elif met or fact.value is not None:
                outcome = "passed" if fact.value is not None else "no_data"
            else:
                outcome = "no_data"
            out.append(_check(fact, norm, outcome))
        return out

    def shortfall_of(self, variant: Variant, failed: CheckResult) -> Shortfall | None:
        ci = next((i for i, c in enumerate(variant.checks) if c.fact == failed.fact.name), None)
        check = variant.checks[ci] if ci is not None else Check(fact=failed.fact.name, op="==", value=0)
        return self.shortfall(check, failed.fact, failed.norm)

    def documents(self, variant: Variant, keys: list[RuleKey],
                  plan: _VariantPlan | None = None) -> tuple[list[str], list[str]]:
        if variant.documents is None:
            return [], []
        plan = plan or _VariantPlan(self.catalog, variant)
        named, by_kind = self._named, self._by_kind
        if by_kind is None:  # the usable documents' positions by kind, once per report
            by_kind = self._by_kind = {}
            for pos, (_, doc) in enumerate(self.docs.usable):
                by_kind.setdefault(doc.kind, []).append(pos)
        positions = [pos for kind in plan.kinds if kind in by_kind for pos in by_kind[kind]]
        if len(plan.kinds) > 1:
            positions.sort()  # in the application's order
        usable = self.docs.usable
        found = [named[i] if i in named else self._name(i, doc) for i, doc in (usable[pos] for pos in positions)]
        lacking = [title for kind, title in plan.all_of if kind not in self.kinds]
        if plan.any_of_text is not None and self.kinds.isdisjoint(plan.any_of):
            lacking.append(plan.any_of_text)
        return found, lacking

    def _name(self, i: int, doc) -> str:
        named = self._named[i] = self.describe(doc)
        return named

    def describe(self, doc) -> str:
        title = kind_title(self.catalog, doc.kind)
        key = (id(doc), title)
        if key not in self.described:
            self.described[key] = describe(doc, title)
        return self.described[key]

    def not_applicable_text(self, rule: Rule, keys: list[RuleKey]) -> str:
        reasons = []
        for k in sorted(keys, key=lambda k: (k.variant, k.part)):
            if k.outcome == "unenforced":
                param = self.catalog.rulebook.parameters.get(k.part)
                reasons.append(f"норматив «{param.title if param else k.part}» не действовал на {day(self.as_of)}")
            elif k.outcome == "not_applicable":
                allowed = rule.variants[k.variant].applies.get(k.part, [])
                if k.part.startswith("sr_"):
                    reasons.append(f"для площадки {self.ctx_text(k.part, self.ctx.get(k.part))}")
                    continue
                reasons.append(f"у площадки {self.ctx_text(k.part, self.ctx.get(k.part))}, а требование применяется, когда "
                               + " или ".join(self.ctx_text(k.part, a) for a in allowed))
        unique = list(dict.fromkeys(reasons))
        return "Не применяется: " + "; ".join(unique) + "."
