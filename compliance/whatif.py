"""What-if: re-evaluate an application with some input fields changed and show which findings change."""
from __future__ import annotations

from datetime import date
from typing import Any

import yaml
from pydantic import BaseModel

from .cases import apply_patch
from .evaluate import evaluate
from .form_spec import unwrap
from .loading import InputError, Problem, validate
from .parsers import load_yaml, yaml_problem
from .models import Application
from .report import Report


class Change(BaseModel):
    path: str
    value: Any = None
    delete: bool = False


class FindingChange(BaseModel):
    requirement_id: str
    title: str
    before: str
    after: str
    fact_before: str | None = None
    fact_after: str | None = None
    shortfall_before: str | None = None
    shortfall_after: str | None = None


class WhatIf(BaseModel):
    changes: list[Change]
    before: Report
    after: Report
    changed: list[FindingChange]


def parse_assignment(text: str) -> Change:
    """'land_plots.0.area.value=9.5' -> Change; the value is read as YAML, so 9.5 is a number and 'true' a bool."""
    if "=" not in text:
        raise InputError([Problem("--set", f"«{text}»: ожидается ПУТЬ=ЗНАЧЕНИЕ, например land_plots.0.area.value=9.5")])
    path, raw = text.split("=", 1)
    try:
        value = load_yaml(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise InputError([Problem("--set", f"«{raw}»: значение не читается ({yaml_problem(exc)})")]) from None
    return Change(path=path.strip(), value=value)


def parse_override_file(data: Any) -> list[Change]:
    """An override file: {set: {path: value, ...}, delete: [path, ...]}."""
    if not isinstance(data, dict) or not set(data) <= {"set", "delete"}:
        raise InputError([Problem("--set-file", "ожидается объект с разделами set (путь: значение) и delete (список путей)")])
    changes = [Change(path=str(p), value=v) for p, v in (data.get("set") or {}).items()]
    changes += [Change(path=str(p), delete=True) for p in (data.get("delete") or [])]
    return changes


# the words the Excel template accepts for «да/нет», and their usual equivalents (case does not matter)
YES_WORDS = {"да", "истина", "true", "yes", "1"}
NO_WORDS = {"нет", "ложь", "false", "no", "0"}


def _field_type(path: str) -> Any:
    """The annotation of the application field a dotted path names (list items by number), or None."""
    import typing

    tp: Any = Application
    for token in path.split("."):
        tp = unwrap(tp)
        if typing.get_origin(tp) is list:
            if not token.isdigit():
                return None
            tp = typing.get_args(tp)[0]
            continue
        if isinstance(tp, type) and issubclass(tp, BaseModel) and token in tp.model_fields:
            tp = tp.model_fields[token].annotation
            continue
        return None
    return unwrap(tp)


def _yes_no(change: Change) -> Change:
    """A boolean field set to «да»/«нет» (or истина/ложь, true/false) — as the Excel template accepts it; any other
    text for a boolean field is refused naming the field."""
    if change.delete or not isinstance(change.value, (str, int)) or isinstance(change.value, bool) \
            or _field_type(change.path) is not bool:
        return change
    word = str(change.value).strip().casefold()
    if word in YES_WORDS or word in NO_WORDS:
        return Change(path=change.path, value=word in YES_WORDS)
    raise InputError([Problem(change.path, f"«{change.value}» — здесь нужно «да» или «нет» (можно также истина/ложь, "
                                           "true/false) (изменение --set)")])


def _path_problem(path: str, exc: Exception) -> Problem:
    """Why a --set / --set-file path does not lead anywhere in the application, in Russian."""
    if isinstance(exc, IndexError):
        why = ("номер элемента больше, чем элементов в списке (нумерация с нуля; новый элемент добавляется номером, "
               "равным длине списка)")
    elif isinstance(exc, KeyError):
        why = f"в заявке нет поля «{exc.args[0] if exc.args else ''}»"
    elif isinstance(exc, ValueError):
        why = "элемент списка указывается номером, например land_plots.0.area"
    else:  # TypeError, AttributeError: a step through a number, a string or an empty value
        why = "путь проходит через значение, у которого нет вложенных полей"
    return Problem("--set", f"путь не найден в заявке: «{path}» — {why}")


def apply_changes(app: Application, changes: list[Change]) -> Application:
    patched = app.model_dump(mode="json")
    changes = [_yes_no(c) for c in changes]
    # deletions first, then assignments in order (as apply_patch does), one at a time to name a path that fails
    for c in sorted(changes, key=lambda c: not c.delete):
        try:
            patched = apply_patch(patched, {} if c.delete else {c.path: c.value}, [c.path] if c.delete else [])
        except (KeyError, IndexError, ValueError, TypeError, AttributeError) as exc:
            raise InputError([_path_problem(c.path, exc)]) from None
    try:
        return validate(patched)
    except InputError as exc:
        raise InputError([Problem(p.path, p.message + " (после изменения --set)") for p in exc.problems]) from None


def diff(before: Report, after: Report) -> list[FindingChange]:
    out = []
    after_by_id = {f.requirement_id: f for f in after.findings}
    for b in before.findings:
        a = after_by_id[b.requirement_id]
        fb, fa = (b.fact.text if b.fact else None), (a.fact.text if a.fact else None)
        sb, sa = (b.shortfall.text if b.shortfall else None), (a.shortfall.text if a.shortfall else None)
        if (b.status, fb, sb) != (a.status, fa, sa):
            out.append(FindingChange(requirement_id=b.requirement_id, title=b.title, before=b.status, after=a.status,
                                     fact_before=fb, fact_after=fa, shortfall_before=sb, shortfall_after=sa))
    return out


def what_if(app: Application, regime: str, changes: list[Change], as_of: date | None = None,
            freshness: bool = False) -> WhatIf:
    changed_app = apply_changes(app, changes)
    before = evaluate(app, regime, as_of, freshness=freshness)
    after = evaluate(changed_app, regime, as_of, freshness=freshness)
    return WhatIf(changes=changes, before=before, after=after, changed=diff(before, after))
