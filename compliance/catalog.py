"""The catalog: per regime, the act and its requirements (decrees/<regime>.yaml) and the machine rules
(rules/<regime>.yaml) with dated parameters, plus test cases (rules/cases/<regime>.yaml).

Nothing here names a regime: a regime is the set of files that carry its code.
"""
from __future__ import annotations

import hashlib
import os
import re
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Callable, Iterable, Iterator, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .models import Day
from .parsers import UniqueKeys, yaml_problem

Confidence = Literal["T", "S", "A", "M", "U"]
UNCONFIRMED = {"A", "M", "U"}
Kind = Literal["automated", "manual", "informational", "document"]
Severity = Literal["blocking", "major", "minor", "info"]
Op = Literal[">=", ">", "<=", "<", "==", "!=", "in"]

CONFIDENCE_RU = {
    "T": "текст акта", "S": "вторичный источник", "A": "по аналогии", "M": "по памяти, не подтверждено",
    "U": "значение неизвестно",
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- decrees/<regime>.yaml ---------------------------------------------------------------------------------
class Amendment(Strict):
    act: str
    published: Day | None = None
    effective: Day | None = None
    summary: str
    confidence: Confidence


class Act(Strict):
    kind: str
    number: str
    date: Day
    title: str
    citation: str
    legal_basis: str | None = None


class RegionMatch(Strict):
    name: str
    match: list[str]


class SpecialRegime(Strict):
    code: Annotated[str, Field(pattern=r"^[a-z_]+$")]
    title: str
    regions: list[RegionMatch]
    start: Day = Field(alias="from")
    until: Day
    confidence: Confidence
    reference: str
    affects: list[str]

    def active(self, region: str, as_of: date) -> bool:
        text = region.lower()
        hit = any(m.lower() in text for r in self.regions for m in r.match)
        return hit and self.start <= as_of < self.until


class Requirement(Strict):
    id: str
    block: str
    clause: str
    title: str
    text: str
    kind: Kind
    confidence: Confidence
    source: str
    note: str | None = None


class Assessment(Strict):
    """A conformity assessment with scoring and a conclusion (e.g. GOST R 56425): which severities make a criterion
    mandatory or recommended, and the wording of each conclusion."""

    mandatory: list[Severity] = ["blocking"]
    recommended: list[Severity] = ["minor"]
    conclusions: dict[Literal["conforms", "conforms_with_remarks", "does_not_conform", "incomplete"], str]
    method: str  # Russian: how the conclusion is reached, printed with it


class Decree(Strict):
    regime: str
    title: str
    catalog_version: str
    act: Act
    amendments: list[Amendment]
    categories: dict[str, str]
    subtypes: dict[str, str]
    blocks: dict[str, str]
    special_regimes: list[SpecialRegime] = []
    assessment: Assessment | None = None
    # application sections without which the regime cannot be evaluated at all (refused as invalid input)
    requires_inputs: list[str] = []
    # sections whose absence means the site is not this kind of object: --regime all skips the regime
    indicative_inputs: list[str] = []
    # regimes of an application for which an assessment under this catalog is natural (e.g. GOST R 56425 on a
    # technopark's data): a judgements file for this regime may select it when the check names no regime
    accompanies: list[str] = []
    requirements: list[Requirement]


# --- rules/<regime>.yaml -----------------------------------------------------------------------------------
class ParamValue(Strict):
    start: Day = Field(alias="from")
    value: Any
    confidence: Confidence
    reference: str
    source: str | None = None
    note: str | None = None


class Parameter(Strict):
    title: str
    unit: str | None = None
    values: list[ParamValue]

    def at(self, as_of: date) -> ParamValue | None:
        """The value in force on the date (None before the first value or after a repeal: value null)."""
        current = None
        for v in sorted(self.values, key=lambda v: v.start):
            if v.start <= as_of:
                current = v
        if current is None or current.value is None:
            return None
        return current


class Check(Strict):
    fact: str
    op: Op
    param: str | None = None
    value: Any = None

    @model_validator(mode="after")
    def _one_norm(self):
        if (self.param is None) == (self.value is None):
            raise ValueError("в проверке укажите ровно одно из: param (параметр-норматив) или value (значение)")
        return self


class Consistency(Check):
    """A computed fact an assessor's verdict on a manual criterion must agree with: the verdict contradicts the fact
    when the comparison holds (e.g. «не выполнено» for a reserve for growth while occupancy_pct < 100)."""

    verdict: Literal["met", "not_met", "not_applicable"]
    reason: str  # Russian: what the fact shows, e.g. «есть свободные помещения для новых резидентов»


class DocumentNeed(Strict):
    all_of: list[str] = []
    any_of: list[str] = []


class Each(Strict):
    """A per-item rule joined in the engine: every item of a collection must have at least one related item
    pointing at it (e.g. every participant has a qualifying contract with another participant). The engine names
    each item that fails."""

    items: str  # collection of items, e.g. participant
    items_where: dict[str, list[Any]] = {}
    related: str  # collection of related items, e.g. contract
    related_where: dict[str, list[Any]] = {}
    match: list[str]  # fields of the related item; any of them equal to the item's key links the two
    label: str  # Russian: what failing items are, e.g. «Участники без квалифицирующего договора»


class Variant(Strict):
    label: str | None = None  # Russian name of the variant, shown when variants are alternatives (combine: any)
    applies: dict[str, list[Any]] = {}
    checks: list[Check] = []
    documents: DocumentNeed | None = None
    each: Each | None = None
    norm_text: str | None = None


class Rule(Strict):
    requirement: str
    severity: Severity
    remedy: str | None = None  # what to do when the requirement is not met
    # what to supply when it lacks data (insufficient_data); without it the advice names the missing fields
    remedy_insufficient_data: str | None = None
    what_to_check: str | None = None  # manual items: what a person must look at
    message: str | None = None  # informational items: may use {param:NAME}, {deadline}
    deadline_years_param: str | None = None  # informational: as_of + N years, shown as {deadline}
    # a notice the management company must send after a change, due within this parameter's days (the deadline
    # watch, compliance.watch); a parameter with no value says the deadline is unknown
    notice_days_param: str | None = None
    show: list[str] = []  # facts shown with manual/informational findings
    # manual items: assessor's verdicts that contradict a computed fact, flagged in the conclusion
    consistency: list[Consistency] = []
    # all: every applicable variant must hold (variants differ by applicability); any: the variants are alternative
    # ways to meet the requirement (e.g. the general or the reduced threshold) and one met variant suffices
    combine: Literal["all", "any"] = "all"
    variants: list[Variant] = []
    # single-variant shorthand
    applies: dict[str, list[Any]] | None = None
    checks: list[Check] | None = None
    documents: DocumentNeed | None = None
    each: Each | None = None
    norm_text: str | None = None

    @model_validator(mode="after")
    def _shorthand(self):
        short = any(x is not None for x in (self.applies, self.checks, self.documents, self.each, self.norm_text))
        if short and self.variants:
            raise ValueError("укажите либо variants, либо applies/checks/documents/each на верхнем уровне, но не то и другое")
        if short or not self.variants:
            self.variants = [Variant(applies=self.applies or {}, checks=self.checks or [], documents=self.documents,
                                     each=self.each, norm_text=self.norm_text)]
        return self


class DocumentKindSpec(Strict):
    title: str
    freshness_days: int | None = None  # advisory only: older than this on the as-of date gives a warning


class ListItem(Strict):
    code: Annotated[str, Field(pattern=r"^[a-z_]+$")]
    name: str
    confidence: Confidence
    note: str | None = None


class NamedList(Strict):
    """A list a catalog references by role, e.g. the Order 3221 types of technological-infrastructure objects."""

    code: str
    title: str
    act: str
    confidence: Confidence
    source: str
    items: list[ListItem]

    def codes(self) -> set[str]:
        return {i.code for i in self.items}


class RuleBook(Strict):
    regime: str
    lists: dict[str, str] = {}  # role used by facts (e.g. tech_object_types) -> list file stem in decrees/lists/
    parameters: dict[str, Parameter] = {}
    document_kinds: dict[str, DocumentKindSpec] = {}
    rules: list[Rule]


# --- rules/cases/<regime>.yaml ------------------------------------------------------------------------------
class Case(Strict):
    name: str
    base: str  # fixture file name without extension
    as_of: Day | None = None
    set: dict[str, Any] = {}
    delete: list[str] = []
    expect: dict[str, str]
    # the requirements the case is written for (a subset of `expect`; the rest are side checks); when absent, the
    # IDs its name begins with («P-1: …», «T-4, T-6: …», «R-1 … R-5: …») — compliance.cases.case_targets
    for_: list[str] = Field([], alias="for")


class CaseBook(Strict):
    regime: str
    cases: list[Case]


# --- loading -----------------------------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parent.parent


class _CatalogLoader(UniqueKeys, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present: faster
    """The catalog's YAML: a repeated key (e.g. two `value:` of one parameter) is an error, never last-wins."""


class CatalogError(Exception):
    """A catalog file is unreadable or invalid; message in Russian."""


def _read_yaml(path: Path, data: bytes | None = None) -> Any:
    """The YAML of a catalog file: read from disk, or `data` (a stored snapshot) named as `path`."""
    try:
        text = data.decode("utf-8") if data is not None else path.read_text(encoding="utf-8")
        return yaml.load(text, Loader=_CatalogLoader)  # noqa: S506 - a SafeLoader
    except FileNotFoundError:
        raise CatalogError(f"файл каталога не найден: {path}") from None
    except UnicodeDecodeError:
        raise CatalogError(f"{path}: файл не в кодировке UTF-8") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: {yaml_problem(exc)}") from None


def _parse(model, path: Path, data: bytes | None = None):
    from pydantic import ValidationError
    try:
        return model.model_validate(_read_yaml(path, data))
    except ValidationError as exc:
        lines = [f"{path.name}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise CatalogError("\n".join(lines)) from None


@dataclass
class Catalog:
    decree: Decree
    rulebook: RuleBook
    cases: CaseBook | None
    content_hash: str
    lists: dict[str, NamedList]
    # the files the content hash covers, in its order: (path relative to the catalog root, bytes) — what a stored
    # snapshot of this catalog version keeps (compliance.storage.CatalogSnapshot)
    files: tuple[tuple[str, bytes], ...] = ()

    @property
    def regime(self) -> str:
        return self.decree.regime

    @cached_property
    def requirements(self) -> dict[str, Requirement]:
        return {r.id: r for r in self.decree.requirements}

    @cached_property
    def rules(self) -> dict[str, Rule]:
        return {r.requirement: r for r in self.rulebook.rules}

    @cached_property
    def facts_used_by(self) -> dict[str, list[str]]:
        """Fact name -> the requirements whose checks, shown facts or texts read it."""
        used: dict[str, list[str]] = {}
        for rule in self.rulebook.rules:
            names = {c.fact for v in rule.variants for c in v.checks} | set(rule.show)
            texts = " ".join(filter(None, [rule.message] + [v.norm_text for v in rule.variants]))
            names |= set(re.findall(r"\{fact:(\w+)\}", texts))
            for name in names:
                used.setdefault(name, []).append(rule.requirement)
        return used

    def params_at(self, as_of: date) -> dict[str, ParamValue | None]:
        return {name: p.at(as_of) for name, p in self.rulebook.parameters.items()}

    def special_flags(self, region: str, as_of: date) -> dict[str, bool]:
        return {f"sr_{s.code}": s.active(region, as_of) for s in self.decree.special_regimes}


def catalog_paths(regime: str, root: Path | None = None) -> tuple[Path, Path, Path]:
    root = root or ROOT
    return root / "decrees" / f"{regime}.yaml", root / "rules" / f"{regime}.yaml", root / "rules" / "cases" / f"{regime}.yaml"


# Catalogs pinned for the current context (a replay under the catalogs a stored check used): `load_catalog(regime)`
# without an explicit root returns the pinned catalog of that regime instead of the one on disk.
_PINNED: ContextVar[dict[str, Catalog] | None] = ContextVar("compliance_pinned_catalogs", default=None)


@contextmanager
def pinned(catalogs: dict[str, Catalog]) -> Iterator[None]:
    """Within the block, `load_catalog(regime)` (no root given) returns `catalogs[regime]` where there is one, and
    `available_regimes()` includes their regimes; every other regime is read from disk as usual."""
    token = _PINNED.set(catalogs)
    try:
        yield
    finally:
        _PINNED.reset(token)


def available_regimes(root: Path | None = None) -> list[str]:
    pins = _PINNED.get() if root is None else None
    root = root or ROOT
    on_disk = {p.stem for p in (root / "decrees").glob("*.yaml") if (root / "rules" / p.name).exists()}
    return sorted(on_disk | set(pins or ()))


def snapshot_hash(files: Iterable[tuple[str, bytes]]) -> str:
    """The content hash of a catalog from its files in order (decree, rules, the lists it uses by role)."""
    return hashlib.sha256(b"\0".join(data for _, data in files)).hexdigest()


_CACHE: dict[tuple[str, str], tuple[Catalog, list[tuple[Path, bytes]]]] = {}
_SNAPSHOTS: dict[str, Catalog] = {}


def _build(regime: str, read: Callable[[str], bytes], root: Path) -> tuple[Catalog, list[tuple[Path, bytes]]]:
    """The catalog from its files (`read`: path relative to the root -> bytes) and the files it depends on."""
    rel_decree, rel_rules = f"decrees/{regime}.yaml", f"rules/{regime}.yaml"
    files = [(rel_decree, read(rel_decree)), (rel_rules, read(rel_rules))]
    rulebook = _parse(RuleBook, root / rel_rules, files[1][1])
    lists: dict[str, NamedList] = {}
    for role, stem in sorted(rulebook.lists.items()):
        rel = f"decrees/lists/{stem}.yaml"
        data = read(rel)
        lists[role] = _parse(NamedList, root / rel, data)
        files.append((rel, data))
    decree = _parse(Decree, root / rel_decree, files[0][1])
    catalog = Catalog(decree, rulebook, None, snapshot_hash(files), lists, tuple(files))
    return catalog, [(root / rel, data) for rel, data in files[2:]]


def load_catalog(regime: str, root: Path | None = None,
                 snapshot: Iterable[tuple[str, bytes]] | None = None) -> Catalog:
    """The catalog of a regime from the catalog root (the project's by default; a catalog pinned for the context
    when no root is given), or from `snapshot` — the files of a stored catalog version (`Catalog.files`), read
    without touching the disk and without test cases."""
    if snapshot is not None:
        files = list(snapshot)
        stored, digest = dict(files), snapshot_hash(files)
        if digest not in _SNAPSHOTS:
            def read(rel: str) -> bytes:
                if rel not in stored:
                    raise CatalogError(f"в сохранённом каталоге режима «{regime}» нет файла {rel}")
                return stored[rel]
            _SNAPSHOTS[digest] = _build(regime, read, ROOT)[0]
        return _SNAPSHOTS[digest]
    pins = _PINNED.get() if root is None else None
    if pins and regime in pins:
        return pins[regime]
    root = root or ROOT
    unchanged = _UNCHANGED.get((str(root), regime))
    if unchanged is not None and unchanged[0] == _stamps(unchanged[2]):
        return unchanged[1]
    decree_path, rules_path, cases_path = catalog_paths(regime, root)
    if not decree_path.exists():
        known = ", ".join(available_regimes(root)) or "нет"
        raise CatalogError(f"неизвестный режим «{regime}»; доступны: {known}")
    if not rules_path.exists():
        raise CatalogError(f"для режима «{regime}» нет файла правил rules/{regime}.yaml")
    # cached by the bytes of the decree and rules files; the list files a catalog uses are re-read and compared,
    # the cases file too, so an edit of any of them gives a fresh catalog (and a new content hash)
    started = time.time_ns()  # before the files are read: a file written since then is never taken as unchanged
    key = (str(root), hashlib.sha256(decree_path.read_bytes() + b"\0" + rules_path.read_bytes()).hexdigest())
    cached = _CACHE.get(key)
    if cached and all(p.exists() and p.read_bytes() == b for p, b in cached[1]):
        _remember(root, regime, cached[0], [decree_path, rules_path, *(p for p, _ in cached[1])], started)
        return cached[0]
    def read(rel: str) -> bytes:
        try:
            return (root / rel).read_bytes()
        except FileNotFoundError:
            raise CatalogError(f"файл каталога не найден: {root / rel}") from None
    catalog, dependencies = _build(regime, read, root)
    if cases_path.exists():
        catalog.cases = _parse(CaseBook, cases_path)
        dependencies.append((cases_path, cases_path.read_bytes()))
    _CACHE[key] = (catalog, dependencies)
    _remember(root, regime, catalog, [decree_path, rules_path, *(p for p, _ in dependencies)], started)
    return catalog


# (root, regime) -> (the stat stamps of every file of the catalog, the catalog, the files): a catalog whose files all
# still have the same stamps is returned without reading them. Any write changes a file's ctime, which nothing can
# set back; a file modified within RACY_NS before the catalog was read may have been written again within one tick of
# the file system's clock, so its catalog is not remembered (read again next time, as git treats "racily clean"
# files). Files that do not exist any more, or differ in any stamp, go the long way (reading and comparing bytes).
_UNCHANGED: dict[tuple[str, str], tuple[tuple, "Catalog", list[Path]]] = {}
RACY_NS = 2_000_000_000


def _stamps(paths: list[Path]) -> tuple | None:
    try:
        return tuple((st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_dev)
                     for st in (os.stat(p) for p in paths))
    except OSError:
        return None


def _remember(root: Path, regime: str, catalog: "Catalog", paths: list[Path], started: int) -> None:
    stamps = _stamps(paths)
    if stamps is None or any(started - max(mtime, ctime) < RACY_NS for mtime, ctime, *_ in stamps):
        _UNCHANGED.pop((str(root), regime), None)
        return
    _UNCHANGED[(str(root), regime)] = (stamps, catalog, paths)


def cited_params(rule: "Rule") -> list[str]:
    """The parameters a rule cites: in its checks, its norm texts and its message ({param:NAME}), its deadlines."""
    names: list[str] = []
    for v in rule.variants:
        names += [c.param for c in v.checks if c.param]
        names += re.findall(r"\{param:(\w+)\}", v.norm_text or "")
    names += re.findall(r"\{param:(\w+)\}", rule.message or "")
    if rule.deadline_years_param:
        names.append(rule.deadline_years_param)
    if rule.notice_days_param:
        names.append(rule.notice_days_param)
    return list(dict.fromkeys(names))
