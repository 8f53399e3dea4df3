"""A catalog test case told in words for the expert review document: what the example application has (the sample
it is built on and the fields the case changes, named as the application form names them), what the program finds
on it for the requirement, the expected status and why — no field key, file name or code reaches the reader."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

import yaml

from .catalog import ROOT, Case, Catalog
from .form_spec import datalist, spec  # the application form: the one place with a Russian label for every field
from .formatting import day, field_label, num, plural
from .report import STATUS_RU, Finding
from .units import unit_label


@dataclass
class CaseStory:
    name: str
    sample: str  # the sample application the case starts from
    changes: list[str]  # what the case changes in it, in words
    found: list[str]  # what the program finds on the example for the requirement (facts against norms)
    expected: str  # the expected status in Russian (with the as-of date when the case sets one)
    why: str  # why that status: the shortfall, the explanation or the norm met
    actual: str | None = None  # the status the program gives when it differs from the expected one


def _options(node) -> dict[str, str]:
    labels = dict(node.options)
    if node.datalist:
        labels = dict(datalist(node.datalist)) | labels
    return labels


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _show(node, value: Any) -> str:
    """A value of a form field as a person reads it."""
    if value is None:
        return "не указано"
    kind = node.kind if node is not None else ""
    if kind == "quantity" and isinstance(value, dict):
        label = unit_label(value.get("unit"))
        return f"{_number(value.get('value'))} {label}".strip()
    if kind in ("choice", "fixed") or (kind == "text" and node.datalist):
        shown = _options(node).get(str(value))
        if shown is None and kind == "text":
            return "вид, которого нет в перечне"  # the case's point: a code the catalog list does not know
        return shown if shown is not None else str(value)
    if kind == "checks" and isinstance(value, list):
        opts = _options(node)
        return _counted([opts.get(str(v), str(v)) for v in value]) or "ни одного"
    if isinstance(value, bool):
        return "да" if value else "нет"
    if kind == "date" or isinstance(value, date):
        try:
            return day(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if isinstance(value, (int, float)):
        return _number(value)
    if kind == "group" and isinstance(value, dict):
        return _group(node, value)
    if kind == "list" and isinstance(value, list):
        if not value:
            return "нет ни одной записи"
        row = node.children[0]
        return "; ".join(f"{row.label.lower()} {i + 1} — {_group(row, v) if isinstance(v, dict) else _show(row, v)}"
                         for i, v in enumerate(value))
    if kind == "lines" and isinstance(value, list):
        return "; ".join(str(v) for v in value) or "нет"
    if isinstance(value, list):
        return ", ".join(_show(None, v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)} — {_show(None, v)}" for k, v in value.items())
    return str(value)


def _counted(names: list[str]) -> str:
    """«консалтинг (2 раза), инжиниринг»: a value the example repeats is named once, with how many times."""
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    return ", ".join(n + (f" ({plural(k, 'раз', 'раза', 'раз')})" if k > 1 else "") for n, k in counts.items())


def _number(v: Any) -> str:
    return num(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)


def _group(node, value: dict) -> str:
    parts = []
    for child in node.children:
        if child.name in value:
            parts.append(f"{_lower(child.label)} — {_show(child, value[child.name])}")
    return "(" + "; ".join(parts) + ")" if parts else "(пустая запись)"


def _row_title(node, value: dict) -> str:
    """What names a row of a list: its kind, name, title or number, as the form shows it."""
    for key in ("kind", "title", "name", "cadastral_number", "purpose"):
        child = node.child(key)
        if child is not None and value.get(key) not in (None, ""):
            return _show(child, value[key])
    return "запись"


def _walk(path: str, data: dict) -> tuple[str, Any, Any, bool]:
    """(the field's name in words, its spec node, its value in `data`, whether the path adds a row to a list)."""
    node = spec()
    labels: list[str] = []
    value: Any = data
    added = False
    for token in path.split("."):
        if node is not None and node.kind == "quantity":
            break  # 'area.value': the quantity is shown whole, with its unit
        if node is not None and node.kind == "list" and token.isdigit():
            i = int(token)
            row = node.children[0]
            if labels:
                labels.pop()  # «Земельный участок № 1», not «Земельные участки, земельный участок № 1»
            labels.append(f"{row.label} № {i + 1}" if not labels else f"{row.label.lower()} № {i + 1}")
            value = value[i] if isinstance(value, list) and i < len(value) else None
            node = row
            continue
        child = node.child(token) if node is not None else None
        label = child.label if child is not None else field_label(token)
        labels.append(label if not labels else _lower(label))
        value = value.get(token) if isinstance(value, dict) else None
        node = child
    return ", ".join(labels), node, value, added


def changes_text(case: Case, base: dict, patched: dict) -> list[str]:
    out = []
    for path in case.delete:
        name, node, value, _ = _walk(path, base)
        if path.split(".")[-1].isdigit() and node is not None and node.kind == "group" and isinstance(value, dict):
            out.append(f"из заявки удалено: {_lower(name)} ({_row_title(node, value)})")  # a row of a list: say which
        else:
            out.append(f"{name}: удалено — в заявке не указано")
    for path in case.set:
        name, node, value, _ = _walk(path, patched)
        tokens = path.split(".")
        parent_name, parent, base_value, _ = _walk(".".join(tokens[:-1]), base) if len(tokens) > 1 else ("", None, None, False)
        if parent is not None and parent.kind == "list" and tokens[-1].isdigit() \
                and isinstance(base_value, list) and int(tokens[-1]) >= len(base_value):
            row = parent.children[0]
            out.append(f"добавлено: {row.label.lower()} {_group(row, value) if isinstance(value, dict) else _show(row, value)}")
        else:
            out.append(f"{name}: {_show(node, value)}")
    return out


def sample_text(catalog: Catalog, base: dict) -> str:
    d = catalog.decree
    category = d.categories.get(base.get("category"), "") if base.get("category") else ""
    site = base.get("site_name", "")
    parts = [site if "«" in site or '"' in site else f"«{site}»"] if site else [""]
    if base.get("region"):
        parts[0] += f" ({base['region']})"
    if category:
        parts.append(category)
    if base.get("filing_date"):
        filed = base["filing_date"]
        parts.append("подана " + (day(filed) if isinstance(filed, date) else day(date.fromisoformat(str(filed)))))
    docs = base.get("documents")
    if isinstance(docs, list):
        parts.append(plural(len(docs), "документ", "документа", "документов"))
    return ", ".join(p for p in parts if p)


def _found(f: Finding) -> list[str]:
    if f.checks:
        return [f"{c.fact.label} — {c.fact.text} (норматив: {c.norm.text})" for c in f.checks]
    out = []
    if f.fact is not None:
        out.append(f"{f.fact.label} — {f.fact.text}" + (f" (норматив: {f.norm.text})" if f.norm else ""))
    out += [f"{fv.label} — {fv.text}" for fv in f.shown_facts]
    if f.documents_found:
        out.append("Документы есть: " + "; ".join(f"«{x}»" for x in f.documents_found))
    if f.documents_missing:
        out.append("Документов нет: " + "; ".join(f"«{x}»" for x in f.documents_missing))
    return out


def _why(f: Finding) -> str:
    if f.shortfall is not None:
        return f"разрыв: {f.shortfall.text}"
    if f.status == "met" and f.checks:
        return "значения удовлетворяют нормативу"
    return " ".join(f.explanation.split()) if f.explanation else STATUS_RU.get(f.status, f.status)


_CACHE: dict[tuple[str, str, str], CaseStory] = {}


def case_story(catalog: Catalog, case: Case, req_id: str, root=ROOT) -> CaseStory:
    """The case told in words for one of its requirements; the program is run on the example to say what it finds."""
    from .cases import apply_patch, fixture_path
    from .evaluate import evaluate
    from .loading import InputError, validate

    key = (catalog.content_hash, case.model_dump_json(), req_id)
    if key in _CACHE:
        return _CACHE[key]
    expected = STATUS_RU.get(case.expect[req_id], case.expect[req_id])
    if case.as_of:
        expected += f" (дата оценки {day(case.as_of)})"
    base = yaml.safe_load(fixture_path(case.base, root).read_text(encoding="utf-8"))
    patched = apply_patch(copy.deepcopy(base), case.set, case.delete)
    story = CaseStory(case.name, sample_text(catalog, base), changes_text(case, base, patched), [], expected, "")
    try:
        report = evaluate(validate(patched), catalog.regime, case.as_of, catalog=catalog)
    except InputError as exc:
        story.why = f"заявка примера не принята: {exc}"
    else:
        finding = next((f for f in report.findings if f.requirement_id == req_id), None)
        if finding is not None:
            story.found = _found(finding)
            story.why = _why(finding)
            if finding.status != case.expect[req_id]:
                story.actual = STATUS_RU.get(finding.status, finding.status)
    _CACHE[key] = story
    return story
