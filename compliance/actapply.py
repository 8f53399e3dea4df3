"""Write what the text of the act confirmed into the catalog: for a confirmed requirement its clause, confidence T and
the source; for a confirmed parameter value the same on the dated value compared; a contradicted value (only when
asked, with the date it takes effect) as a new dated value — the old one stays for checks «on a date» before it.

The YAML files are edited line by line where the fields are (found with ruamel.yaml's positions), so the expert's
comments, the order, the quoting and the line breaks of everything else stay exactly as they were."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .actmatch import CONFIRMED, CONTRADICTED, Verification
from .catalog import CatalogError, catalog_paths, load_catalog
from .formatting import day


@dataclass
class Applied:
    changes: list[str] = field(default_factory=list)  # Russian, one line per change
    problems: list[str] = field(default_factory=list)  # what the catalog check says afterwards
    cases: int = 0


def _q(text: str) -> str:
    """A YAML scalar: plain when it reads back as the same string, else double-quoted."""
    import yaml

    try:
        if yaml.safe_load(f"k: {text}") == {"k": text}:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)


def _load(path: Path):
    from ruamel.yaml import YAML

    return YAML().load(path.read_text(encoding="utf-8"))


class _Lines:
    def __init__(self, path: Path):
        self.path = path
        self.lines = path.read_text(encoding="utf-8").split("\n")
        self.edits: list[tuple[int, int, list[str]]] = []  # (first line, end line, new lines)

    def extent(self, line: int, col: int) -> int:
        """The line after a key's value: continuation lines are indented deeper than the key."""
        end = line + 1
        while end < len(self.lines) and self.lines[end].strip() and \
                len(self.lines[end]) - len(self.lines[end].lstrip()) > col:
            end += 1
        return end

    def set_key(self, mapping, key: str, value: str) -> None:
        if mapping.fa.flow_style():  # «{from: …, value: …}» on one line: not rewritten by lines
            raise CatalogError(f"{self.path.name}: запись в одну строку ({{…}}) — внесите изменение вручную")
        if key in mapping:
            line, col = mapping.lc.key(key)
            self.edits.append((line, self.extent(line, col), [" " * col + f"{key}: {_q(value)}"]))
            return
        last = list(mapping)[-1]
        line, col = mapping.lc.key(last)
        end = self.extent(line, col)
        self.edits.append((end, end, [" " * col + f"{key}: {_q(value)}"]))

    def append_item(self, seq, item: dict[str, str]) -> None:
        last = seq[-1]
        first_key = list(last)[0]
        line, col = last.lc.key(first_key)
        end = line
        for k in last:
            kl, kc = last.lc.key(k)
            end = max(end, self.extent(kl, kc))
        dash = self.lines[line][:col].rstrip()
        lead = " " * len(dash[:-1]) + "- " if dash.endswith("-") else " " * (col - 2) + "- "
        new = []
        for i, (k, v) in enumerate(item.items()):
            new.append((lead if i == 0 else " " * col) + f"{k}: {v}")
        self.edits.append((end, end, new))

    def save(self) -> None:
        lines = list(self.lines)
        for first, end, new in sorted(self.edits, key=lambda e: (-e[0], -e[1])):
            lines[first:end] = new
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("\n".join(lines), encoding="utf-8")
        tmp.replace(self.path)


def _number(v: float):
    return int(v) if float(v).is_integer() else v


def _shown(v: float | None) -> str:
    return "—" if v is None else f"{v:g}".replace(".", ",")


def apply(v: Verification, root: Path, received: date, contradicted_from: date | None = None) -> Applied:
    """Write the confirmed items (and, with `contradicted_from`, the contradicted values) into the catalog under
    `root`, then run the catalog check on it."""
    catalog = load_catalog(v.regime, root)
    decree_path, rules_path, _ = catalog_paths(v.regime, root)
    act = v.act
    edition = act.effective if act.is_amendment else (act.edition or v.on)
    kind = "текст акта об изменениях" if act.is_amendment else "текст акта"
    source = (f"{kind} в редакции от {day(edition)}, файл «{act.source}» получен {day(received)}" if edition else
              f"{kind}, файл «{act.source}» получен {day(received)}")
    out = Applied()
    decree_lines, decree = _Lines(decree_path), _load(decree_path)
    by_id = {item["id"]: item for item in decree["requirements"]}
    for r in v.requirements:
        if r.outcome != CONFIRMED or r.id not in by_id:
            continue
        item = by_id[r.id]
        decree_lines.set_key(item, "clause", r.best.clause)
        decree_lines.set_key(item, "confidence", "T")
        decree_lines.set_key(item, "source", source)
        out.changes.append(f"{r.id} «{r.title}»: пункт — {r.best.clause}; достоверность T")
    rules_lines, rules = _Lines(rules_path), _load(rules_path)
    citation = (act.citation or "акт об изменениях") if act.is_amendment else catalog.decree.act.citation
    for p in v.params:
        values = rules["parameters"][p.name]["values"]
        # an amendment confirming a value the catalog has is no source of that value's earlier basis: untouched
        if p.outcome == CONFIRMED and p.catalog_from is not None and not act.is_amendment:
            for item in values:
                if item["from"] == p.catalog_from:
                    rules_lines.set_key(item, "confidence", "T")
                    rules_lines.set_key(item, "reference", f"{citation}, {p.clause}")
                    rules_lines.set_key(item, "source", source)
                    out.changes.append(f"норматив «{p.title}» (с {day(p.catalog_from)}): достоверность T, "
                                       f"{p.clause}")
        elif p.outcome == CONTRADICTED and contradicted_from is not None and p.found is not None:
            if any(item["from"] == contradicted_from for item in values):
                out.problems.append(f"норматив «{p.title}»: значение с {day(contradicted_from)} уже есть — новое "
                                    "не добавлено; исправьте его вручную")
                continue
            rules_lines.append_item(values, {
                "from": contradicted_from.isoformat(), "value": str(_number(p.found.value)), "confidence": "T",
                "reference": _q(f"{citation}, {p.clause}"), "source": _q(source),
                "note": _q(f"по тексту акта {p.found.text()} вместо {_shown(p.catalog_value)} "
                           f"(значение с {day(p.catalog_from)})")})
            out.changes.append(f"норматив «{p.title}»: добавлено значение {p.found.text()} с "
                               f"{day(contradicted_from)} (было {_shown(p.catalog_value)})")
    decree_lines.save()
    rules_lines.save()
    from .catalog_check import check_catalog

    try:
        fresh = load_catalog(v.regime, root)
        out.problems += check_catalog(fresh, root)
        out.cases = len(fresh.cases.cases) if fresh.cases else 0
    except CatalogError as exc:
        out.problems += str(exc).splitlines()
    return out


def contradicted_count(v: Verification) -> int:
    return sum(1 for p in v.params if p.outcome == CONTRADICTED)

