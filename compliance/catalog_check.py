"""The catalog validator: refuses a catalog an expert's edit has broken (unknown IDs, undated or unreferenced
values, overlapping dates, automated requirements without test cases, rules that do not compile)."""
from __future__ import annotations

import re
import typing
from datetime import date
from pathlib import Path

from .catalog import ROOT, Catalog, CatalogError, Check, available_regimes, load_catalog
from .compiler import CompileError, compile_catalog, validate_check
from .facts import COLLECTION_SOURCES, REGISTRY
from .models import Application, DocumentKind

CONTEXT_ATTRS = {"category", "subtype", "has_residents", "has_partnerships"}


def check_catalog(catalog: Catalog, root: Path = ROOT, run_cases: bool = True) -> list[str]:
    problems: list[str] = []
    d, rb = catalog.decree, catalog.rulebook
    reqs = catalog.requirements
    if len(reqs) != len(d.requirements):
        problems.append("в decrees: повторяющиеся ID требований")
    seen = set()
    for rule in rb.rules:
        if rule.requirement not in reqs:
            problems.append(f"rules: правило ссылается на неизвестное требование {rule.requirement}")
        if rule.requirement in seen:
            problems.append(f"rules: для {rule.requirement} два правила")
        seen.add(rule.requirement)
    for rid, req in reqs.items():
        rule = catalog.rules.get(rid)
        if rule is None:
            problems.append(f"{rid}: нет записи в rules/{catalog.regime}.yaml")
            continue
        for vi, v in enumerate(rule.variants):
            where = f"{rid} (вариант {vi + 1})"
            if v.each is not None:
                if v.checks or v.documents:
                    problems.append(f"{where}: поэлементное правило (each) не сочетается с checks/documents в одном варианте")
                for coll in (v.each.items, v.each.related):
                    if coll not in COLLECTION_SOURCES:
                        problems.append(f"{where}: неизвестный набор элементов «{coll}»; есть: {', '.join(COLLECTION_SOURCES)}")
            if req.kind == "automated" and not v.checks and not v.documents and v.each is None:
                problems.append(f"{where}: автоматическое требование без проверок и документов")
            if req.kind == "document" and not v.documents:
                problems.append(f"{where}: требование-документ без списка документов")
            for c in v.checks:
                problems += _check_problems(catalog, where, c)
            if v.documents:
                for k in v.documents.all_of + v.documents.any_of:
                    if k not in typing.get_args(DocumentKind):
                        problems.append(f"{where}: неизвестный вид документа «{k}»")
            for attr, allowed in v.applies.items():
                special = {f"sr_{s.code}" for s in d.special_regimes}
                if attr not in CONTEXT_ATTRS | special:
                    problems.append(f"{where}: неизвестный признак применимости «{attr}»")
                if attr == "category" and not set(allowed) <= set(d.categories):
                    problems.append(f"{where}: неизвестная категория в {allowed}")
                if attr == "subtype" and not set(allowed) <= set(d.subtypes):
                    problems.append(f"{where}: неизвестный подтип в {allowed}")
            texts = [t for t in (v.norm_text, rule.message) if t]
            for name in re.findall(r"\{param:(\w+)\}", " ".join(texts)):
                if name not in rb.parameters:
                    problems.append(f"{where}: текст ссылается на неизвестный параметр «{name}»")
            for name in re.findall(r"\{fact:(\w+)\}", " ".join(texts)):
                if name not in REGISTRY:
                    problems.append(f"{where}: текст ссылается на неизвестный факт «{name}»")
        if req.kind in ("automated", "document") and not rule.remedy:
            problems.append(f"{rid}: нет текста «что сделать» (remedy)")
        if rule.remedy_insufficient_data is not None:
            if req.kind not in ("automated", "document"):
                problems.append(f"{rid}: remedy_insufficient_data — только для автоматических требований и документов "
                                "(у ручных и справочных требований нет статуса «недостаточно данных»)")
            if not rule.remedy_insufficient_data.strip():
                problems.append(f"{rid}: remedy_insufficient_data пуст — уберите его (совет сформируется по "
                                "недостающим полям) или напишите, какие данные или документы представить")
            elif not re.search(r"[А-Яа-яЁё]", rule.remedy_insufficient_data) or \
                    re.search(r"\{(param|fact):", rule.remedy_insufficient_data):
                problems.append(f"{rid}: remedy_insufficient_data — текст для заявителя по-русски, без подстановок {{...}}")
        if rule.deadline_years_param and rule.deadline_years_param not in rb.parameters:
            problems.append(f"{rid}: неизвестный параметр срока «{rule.deadline_years_param}»")
        if rule.notice_days_param and rule.notice_days_param not in rb.parameters:
            problems.append(f"{rid}: неизвестный параметр срока уведомления «{rule.notice_days_param}»")
    for name, p in rb.parameters.items():
        starts = [v.start for v in p.values]
        if len(starts) != len(set(starts)):
            problems.append(f"параметр {name}: два значения с одной датой начала действия — периоды перекрываются")
        for v in p.values:
            if not v.reference.strip():
                problems.append(f"параметр {name} с {v.start}: нет ссылки на акт (reference)")
        if not p.values:
            problems.append(f"параметр {name}: нет ни одного значения")
    for name in d.requires_inputs + d.indicative_inputs:
        if name not in Application.model_fields:
            problems.append(f"requires_inputs: в заявке нет раздела «{name}»")
    for rid, rule in catalog.rules.items():
        for name in rule.show:
            if name not in REGISTRY:
                problems.append(f"{rid}: show ссылается на неизвестный факт «{name}»")
        problems += _consistency_problems(catalog, rid, rule)
    for code in d.accompanies:
        if code not in available_regimes(root):
            problems.append(f"accompanies: нет каталога режима «{code}»")
    for s in d.special_regimes:
        for rid in s.affects:
            if rid not in reqs:
                problems.append(f"особый режим {s.code}: неизвестное требование {rid}")
    if problems:
        return problems
    # compile on every date a parameter changes, and today
    dates = sorted({v.start for p in rb.parameters.values() for v in p.values} | {date.today()})
    for when in dates:
        try:
            compile_catalog(catalog, when)
        except CompileError as exc:
            problems.append(f"компиляция на {when}: {exc}")
    problems += _check_cases(catalog, root, run_cases)
    return problems


def _consistency_problems(catalog: Catalog, rid: str, rule) -> list[str]:
    """The consistency checks of a manual criterion: a known fact, a norm that fits it, a reason in Russian."""
    problems = []
    req = catalog.requirements.get(rid)
    for i, c in enumerate(rule.consistency):
        where = f"{rid} (consistency[{i}])"
        if req is not None and req.kind != "manual":
            problems.append(f"{where}: согласование с фактами задаётся только для ручного критерия (kind: manual), "
                            f"а у {rid} — {req.kind}")
        if not c.reason.strip():
            problems.append(f"{where}: нет пояснения reason — что показывает факт")
        problems += _check_problems(catalog, where, c)
    return problems


def _check_problems(catalog: Catalog, where: str, c: Check) -> list[str]:
    """A comparison of a fact with a norm: a known fact (and its list), a known parameter, and every dated value of
    the norm fitting the fact's type and the comparison."""
    if c.fact not in REGISTRY:
        return [f"{where}: неизвестный факт «{c.fact}»"]
    problems = []
    role = REGISTRY[c.fact].needs_list
    if role and role not in catalog.lists:
        problems.append(f"{where}: факт «{c.fact}» считается по перечню «{role}», а в rules нет lists: {{{role}: ...}}")
    parameters = catalog.rulebook.parameters
    if c.param and c.param not in parameters:
        return problems + [f"{where}: неизвестный параметр «{c.param}»"]
    norms = [pv.value for pv in parameters[c.param].values if pv.value is not None] if c.param else [c.value]
    for norm in norms:  # every dated value must fit the fact's type and the comparison
        try:
            validate_check(where, c, norm)
        except CompileError as exc:
            problems.append(str(exc))
    return problems


def _check_cases(catalog: Catalog, root: Path, run_cases: bool) -> list[str]:
    from .cases import fixture_path, run_case, target_problems
    problems = []
    cases = catalog.cases.cases if catalog.cases else []
    expected: dict[str, set[str]] = {}
    for case in cases:
        for rid, status in case.expect.items():
            if rid not in catalog.requirements:
                problems.append(f"тест «{case.name}»: неизвестное требование {rid}")
            expected.setdefault(rid, set()).add(status)
        try:
            fixture_path(case.base, root)
        except FileNotFoundError as exc:
            problems.append(f"тест «{case.name}»: {exc}")
    for rid, req in catalog.requirements.items():
        if req.kind == "automated":
            got = expected.get(rid, set())
            for status in ("met", "not_met"):
                if status not in got:
                    problems.append(f"{rid}: нет тестового примера со статусом {status} (rules/cases/{catalog.regime}.yaml)")
    problems += target_problems(catalog)
    if run_cases and not problems:
        for case in cases:
            result = run_case(catalog, case, root)
            if not result.ok:
                problems.append("тест " + result.describe())
    return problems


def check_all(regimes: list[str], root: Path = ROOT, run_cases: bool = True) -> dict[str, list[str]]:
    out = {}
    for regime in regimes:
        try:
            out[regime] = check_catalog(load_catalog(regime, root), root, run_cases)
        except CatalogError as exc:
            out[regime] = str(exc).splitlines()
    return out
