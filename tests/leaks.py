"""Internal names in text meant for a person: a reusable scanner.

`internal_names(text, allowed=...)` returns the Latin identifiers a Russian page, report or message should never
show: snake_case words (field keys, fact names, parameter ids, document kind keys), file names (*.yaml, *.md, *.py,
…), the model's enum codes and the catalog's parameter ids, and any other Latin word that is not on the explicit
allow-list below. The allow-list (what a person may legitimately see in Latin letters):

- requirement IDs (794-P-1, 779-DOC-5, G-TER-3, G-3.1-1) and regime codes (ip794 …): the catalog's and the CLI's own
  vocabulary, printed so a person can find the requirement in the act and pass `--regime`;
- single letters (the confidence marks T/S/A/M/U), the column title «ID», the names of file formats the product
  offers (JSON, Markdown, Word/.docx, Excel/.xlsx) and URL schemes;
- URLs and e-mail addresses, evaluation ids and catalog checksums (hex digits);
- paths into the application next to their Russian name, as the documented error and missing-data messages print
  them so a person can find the field in the file: «land_plots[0].area.value (земельные участки № 1 → площадь →
  значение)», «здания (buildings)»; and full paths (`buildings[*].useful_area`) anywhere;
- the applicant's own text: every free-text string of the application (`applicant_strings`) and whatever the caller
  passes in `allowed` (e.g. the file name the user typed).

Nor may a person read the name of our internal working source (the requirements digest, «дайджест»): a source is
cited as a person cites it — the act, its publication, the clause, «изложение по вторичному источнику», «по аналогии
с постановлением № …», «текст акта не сверен» (README, «Как называть и цитировать»).

A document an official reads (the Word documents of issue 15: the gap report, the matrix, the GOST conclusion, the
catalog review) is held to more: `document_names(text, allowed)` allows neither the regime codes (the documents
name a regime by its title or act) nor paths into the application next to their Russian name (the Russian name
alone), and allows the requirement IDs without their act prefix (UK-4, DOC-1) the catalog's examples use.
"""
from __future__ import annotations

import re
import typing
from functools import lru_cache
from typing import Any, Iterable

from pydantic import BaseModel

from compliance.models import Application

REQUIREMENT_ID = re.compile(r"(?<![\w-])(?:\d{3,4}|G)(?:-[A-Z0-9]+(?:\.[0-9]+)*)+(?![\w-])")
URL = re.compile(r"\b(?:https?://|www\.)[^\s,;«»()<>]+|\b[\w.+-]+@[\w-]+\.[\w.-]+")
HEX_ID = re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{12,64}\b")  # evaluation ids, catalog checksums
SEGMENT = r"[a-z][a-z0-9_]*(?:\[(?:\d+|\*)\])?"
PATH = re.compile(rf"(?<![\w.])(?:{SEGMENT}(?:\.{SEGMENT})+|[a-z][a-z0-9_]*\[(?:\d+|\*)\](?:\.{SEGMENT})*)(?![\w.\[])")
NAME = re.compile(rf"(?<![\w.]){SEGMENT}(?:\.{SEGMENT})*(?![\w.\[])")
SNAKE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")
FILE_NAME = re.compile(r"[\w./-]+\.(?:ya?ml|md|py|json|xlsx|docx|csv|txt)\b", re.IGNORECASE)
LATIN_WORD = re.compile(r"(?<![\w-])[A-Za-z][A-Za-z0-9]*(?![\w])")
REGIME_CODES = {"ip794", "itp1863", "htp1381", "cl779", "gost56425"}
ALLOWED_WORDS = {"ID", "UTF", *REGIME_CODES,
                 "JSON", "YAML", "Markdown", "Word", "Excel", "PDF", "docx", "xlsx", "http", "https",
                 "RTF", "HTML"}  # formats (RTF, HTML: the texts of acts a user uploads), schemes
DOCUMENT_WORDS = (ALLOWED_WORDS - REGIME_CODES) | {"IT"}  # «IT-технопарк»: a word of Russian business usage
SHORT_ID = re.compile(r"(?<![\w-])[A-Z]{1,3}(?:-[A-Z]{1,3})?(?:-\d+(?:\.\d+)*)(?![\w-])")  # UK-4, DOC-1, G-TER-3
ROMAN = re.compile(r"(?<![\w-])[IVXLC]+(?![\w-])")  # «IV квартал», «III очередь»: numerals, not identifiers
INTERNAL_SOURCE = re.compile(r"(?<!\w)[Дд]айджест\w*")  # our working digest of the acts: never cited to a person


def _literal_values(tp: Any, out: set[str]) -> None:
    if typing.get_origin(tp) is typing.Literal:
        out.update(str(a) for a in typing.get_args(tp))
    for arg in typing.get_args(tp):
        _literal_values(arg, out)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        _model_codes(tp, out)


def _model_codes(model: type[BaseModel], out: set[str], seen: set | None = None) -> None:
    seen = seen if seen is not None else set()
    if model in seen:
        return
    seen.add(model)
    for f in model.model_fields.values():
        _literal_values(f.annotation, out)


@lru_cache(maxsize=1)
def enum_codes() -> frozenset[str]:
    """Every code of a closed choice in the application model (lease, connected, canteen, linear_infrastructure …)."""
    out: set[str] = set()
    _model_codes(Application, out)
    return frozenset(c for c in out if re.search(r"[A-Za-z]", c))


@lru_cache(maxsize=1)
def catalog_ids() -> frozenset[str]:
    """Parameter ids, fact names and document kind keys of every regime's catalog."""
    from compliance.catalog import available_regimes, load_catalog
    from compliance.facts import REGISTRY
    out = set(REGISTRY)
    for regime in available_regimes():
        cat = load_catalog(regime)
        out |= set(cat.rulebook.parameters) | set(cat.rulebook.document_kinds)
    return frozenset(out)


@lru_cache(maxsize=1)
def input_field_names() -> frozenset[str]:
    """Every field name of the application model, at any depth."""
    out: set[str] = set()

    def walk(model: type[BaseModel]) -> None:
        for name, f in model.model_fields.items():
            if name in out:
                continue
            out.add(name)
            for tp in _types(f.annotation):
                walk(tp)
    walk(Application)
    return frozenset(out)


def _types(tp: Any) -> list[type[BaseModel]]:
    found = [tp] if isinstance(tp, type) and issubclass(tp, BaseModel) else []
    for arg in typing.get_args(tp):
        found += _types(arg)
    return found


def is_input_path(text: str) -> bool:
    """`land_plots[0].area.value`, `buildings[*].useful_area`: a path into the application (every name a field)."""
    return all(re.sub(r"\[.*?\]", "", part) in input_field_names() for part in text.split("."))


def _named_paths(text: str) -> str:
    """Blanks «path (Russian name)» and «Russian name (path)» where the name is the field's own label."""
    from compliance.formatting import field_label

    for path in dict.fromkeys(m.group(0) for m in NAME.finditer(text)):
        if not is_input_path(path):
            continue
        label = field_label(path)
        text = text.replace(f"{path} ({label})", " ").replace(f"{label} ({path})", " ")
    return text


def applicant_strings(data: Any) -> list[str]:
    """The applicant's own text in raw application data: every string except the codes of closed choices (a field
    typed as a list of codes) and units. Free-text fields that hold a code the applicant chose (a technological
    object's kind outside the catalog's list) are the applicant's text too."""
    out: list[str] = []

    def walk(x: Any, model: type[BaseModel] | None) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                field = model.model_fields.get(k) if model else None
                if k == "unit" or (field is not None and _is_code(field.annotation)):
                    continue
                inner = next(iter(_types(field.annotation)), None) if field is not None else None
                walk(v, inner)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v, model)
        elif isinstance(x, str) and re.search(r"[A-Za-z]", x):
            out.append(x)
    walk(data, Application if isinstance(data, dict) and "regimes" in data else None)
    return out


def _is_code(tp: Any) -> bool:
    return typing.get_origin(tp) is typing.Literal or any(_is_code(a) for a in typing.get_args(tp))


def internal_names(text: str, allowed: Iterable[str] = (), *, document: bool = False) -> list[str]:
    """The internal names found in `text` (empty when it is clean), each once, in order of appearance. `document`:
    the stricter rules of a document an official reads (see the module's docstring)."""
    found: list[str] = INTERNAL_SOURCE.findall(text)
    for s in sorted({a for a in allowed if a}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(s)}(?!\w)", " ", text)
    for pattern in (URL, HEX_ID, REQUIREMENT_ID, ROMAN) + ((SHORT_ID,) if document else ()):
        text = pattern.sub(" ", text)
    if not document:
        text = _named_paths(text)
        text = PATH.sub(lambda m: " " if is_input_path(m.group(0)) else m.group(0), text)
    for pattern in (FILE_NAME, SNAKE):
        found += pattern.findall(text)
        text = pattern.sub(" ", text)
    words = DOCUMENT_WORDS if document else ALLOWED_WORDS
    found += [w for w in LATIN_WORD.findall(text) if len(w) > 1 and w not in words]
    return list(dict.fromkeys(found))


def document_names(text: str, allowed: Iterable[str] = ()) -> list[str]:
    """`internal_names` by the rules of a document an official reads."""
    return internal_names(text, allowed, document=True)


def explain(hits: dict[str, list[str]]) -> str:
    """A readable failure message: where, and which names (marking enum codes and catalog ids)."""
    codes, ids = enum_codes(), catalog_ids()

    def mark(name: str) -> str:
        return name + (" [код перечня]" if name in codes else "") + (" [id каталога]" if name in ids else "")
    return "\n".join(f"{where}: {', '.join(map(mark, names))}" for where, names in hits.items())


HUMAN_KEYS = {"explanation", "remedy", "what_to_check", "text", "label", "details", "title", "problem", "document",
              "documents_found", "documents_missing", "notes", "verdict_text", "conclusion_text", "gaps", "remarks",
              "pending", "not_judged_recommended", "lines", "used_by", "provided", "missing_text", "needed", "method",
              "message", "detail", "top_gaps", "reason", "block_title", "clause", "category", "subtype",
              "special_regimes", "regime_title", "act_citation", "status_text", "comment", "justification", "evidence",
              "reference", "source", "judgements_by", "role", "name_ru", "error"}
MACHINE_KEYS = {"sources", "missing", "inputs_used", "missing_inputs", "rules_fired", "name", "parameter", "fact",
                "kind", "status", "regime", "requirement_id", "block", "severity", "op", "unit", "verdict",
                "evaluation_id", "catalog_hash", "confidence"}


def human_fields(data: Any, where: str = "") -> Iterable[tuple[str, str]]:
    """(path, text) for every string a person reads in a JSON report: the message-like fields, not the machine
    ones (codes, field paths, rule names)."""
    if isinstance(data, dict):
        for k, v in data.items():
            if k in MACHINE_KEYS:
                continue
            if k in HUMAN_KEYS or isinstance(v, (dict, list)):
                yield from human_fields(v, f"{where}.{k}" if where else k)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from human_fields(v, f"{where}[{i}]")
    elif isinstance(data, str):
        yield where, data
