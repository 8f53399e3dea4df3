"""The result of checking a catalog against the text of its act: a table for the terminal, JSON, and a Word review
document with the clause text beside the catalog's norm and what the program checks, for an expert to sign off."""
from __future__ import annotations

import io
import json
from datetime import date

from .actmatch import AMBIGUOUS, CONFIRMED, CONTRADICTED, NOT_LOCATED, OUTCOME_RU, ParamOutcome, ReqOutcome, \
    Verification
from .catalog import Catalog
from .formatting import day, day_long, plural, value as fmt_value

OUTCOME_MARK = {CONFIRMED: "✓", CONTRADICTED: "✗", AMBIGUOUS: "?", NOT_LOCATED: "—"}


def _catalog_value(p: ParamOutcome) -> str:
    if p.catalog_value is None:
        return "не действует"
    v = int(p.catalog_value) if float(p.catalog_value).is_integer() else p.catalog_value
    return f"{fmt_value(v, p.unit)} (с {day(p.catalog_from)})"


def _found(p: ParamOutcome) -> str:
    if p.found is not None:
        v = p.found.value
        return fmt_value(int(v) if float(v).is_integer() else v, p.unit)
    if p.candidates:
        return "; ".join(f"{fmt_value(c.value.value, p.unit)} ({c.clause})" for c in p.candidates)
    return "—"


def summary(v: Verification) -> list[str]:
    act = v.act
    kind = "акт об изменениях" if act.is_amendment else "акт"
    lines = [f"Файл: {act.source} ({kind}; частей: {len(act.parts)}, пунктов и подпунктов: "
             f"{sum(1 for _ in act.points())})",
             f"Дата, на которую сверяются значения каталога: {day(v.on)} ({v.edition_from})"]
    if act.is_amendment:
        n = sum(1 for p in v.params if p.outcome != NOT_LOCATED)
        lines.append(f"Изменения затрагивают нормативов каталога: {n}")
    else:
        c = v.counts()
        lines.append("Требования: " + "; ".join(f"{OUTCOME_RU[k]} — {c[k]}" for k in OUTCOME_RU))
    return lines + [f"Внимание: {w}" for w in v.warnings]


def render_text(v: Verification, catalog: Catalog, width: int = 160) -> str:
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=False, color_system=None, highlight=False)
    console.print(f"СВЕРКА КАТАЛОГА С ТЕКСТОМ АКТА: {catalog.decree.title}", markup=False)
    console.print(f"Каталог составлен по акту: {catalog.decree.act.citation}", markup=False)
    for line in summary(v):
        console.print(line, markup=False)
    if v.requirements:
        t = Table(title="Требования", show_lines=True, title_justify="left")
        for h, w in (("Требование", 28), ("Итог", 22), ("Пункт акта", 30), ("Текст акта", None)):
            t.add_column(h, width=w, overflow="fold")
        for r in v.requirements:
            t.add_row(f"{r.id} {r.title}", f"{OUTCOME_MARK[r.outcome]} {OUTCOME_RU[r.outcome]}",
                      "\n".join(c.clause for c in r.candidates) or "—",
                      "\n".join(f"«{c.sentence}»" for c in r.candidates) + (f"\n{r.note}" if r.note else ""))
        console.print(t)
    if v.params:
        t = Table(title="Нормативы" if not v.act.is_amendment else "Нормативы, которые меняет акт",
                  show_lines=True, title_justify="left")
        for h, w in (("Норматив", 30), ("В каталоге", 18), ("В тексте", 16), ("Итог", 24), ("Пункт и текст", None)):
            t.add_column(h, width=w, overflow="fold")
        for p in v.params:
            where = f"{p.clause}: «{p.sentence}»" if p.clause else "\n".join(
                f"{c.clause}: «{c.sentence}»" for c in p.candidates) or "—"
            t.add_row(p.title, _catalog_value(p), _found(p), f"{OUTCOME_MARK[p.outcome]} {_param_outcome(v, p)}",
                      where)
        console.print(t)
    return buf.getvalue()


def _param_outcome(v: Verification, p: ParamOutcome) -> str:
    if v.act.is_amendment:
        return {CONTRADICTED: "новое значение", CONFIRMED: "значение уже в каталоге", AMBIGUOUS: OUTCOME_RU[AMBIGUOUS],
                NOT_LOCATED: "не затрагивается"}[p.outcome]
    return OUTCOME_RU[p.outcome]


def _cand(c) -> dict:
    return {"clause": c.clause, "sentence": c.sentence, "score": round(c.score, 3),
            "value": c.value.value if c.value else None}


def _param_json(v: Verification, p: ParamOutcome) -> dict:
    return {"parameter": p.name, "title": p.title, "unit": p.unit, "outcome": p.outcome,
            "outcome_text": _param_outcome(v, p), "catalog_value": p.catalog_value,
            "catalog_value_from": p.catalog_from.isoformat() if p.catalog_from else None,
            "found_value": p.found.value if p.found else None, "clause": p.clause, "sentence": p.sentence,
            "candidates": [_cand(c) for c in p.candidates],
            "effective": p.effective.isoformat() if p.effective else None}


def render_json(v: Verification) -> str:
    act = v.act
    data = {
        "file": act.source, "format": act.fmt, "amendment": act.is_amendment,
        "act_date": act.act_date.isoformat() if act.act_date else None, "act_number": act.act_number,
        "edition": act.edition.isoformat() if act.edition else None,
        "compared_on": v.on.isoformat() if v.on else None, "compared_on_basis": v.edition_from,
        "parts": [{"title": p.title, "annex": p.annex, "points": sum(1 for _ in p.walk())} for p in act.parts],
        "counts": v.counts() if not act.is_amendment else None,
        "warnings": v.warnings,
        "requirements": [{"id": r.id, "title": r.title, "outcome": r.outcome, "outcome_text": OUTCOME_RU[r.outcome],
                          "note": r.note, "candidates": [_cand(c) for c in r.candidates],
                          "parameters": [_param_json(v, p) for p in r.params]} for r in v.requirements],
        "parameters": [_param_json(v, p) for p in v.params],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _checks(catalog: Catalog, rid: str) -> list[str]:
    from .word import check_text

    rule = catalog.rules.get(rid)
    if rule is None:
        return ["—"]
    lines = []
    for var in rule.variants:
        prefix = f"{var.label}: " if var.label else ""
        lines += [prefix + check_text(catalog, c) for c in var.checks]
        if var.documents:
            lines.append(prefix + "наличие документов")
    if rule.what_to_check:
        lines.append(" ".join(rule.what_to_check.split()))
    return lines or ["проверка не автоматическая"]


def render_docx(v: Verification, catalog: Catalog) -> bytes:
    from .word import WIDE_WIDTH_CM, R, _Doc

    dec = catalog.decree
    d = _Doc(f"Сверка каталога с текстом акта: {dec.title}", subject=dec.act.citation,
             keywords="сверка каталога, текст акта, экспертиза")
    d.title("СВЕРКА КАТАЛОГА С ТЕКСТОМ АКТА", dec.title)
    d.kv_table([("Акт каталога", dec.act.citation), ("Файл с текстом", v.act.source),
                ("Вид текста", "акт об изменениях" if v.act.is_amendment else "текст акта"),
                ("Значения каталога на дату", f"{day(v.on)} ({v.edition_from})"),
                ("Итоги", "; ".join(summary(v)[2:]) or "—"),
                ("Дата документа", day_long(date.today()))])
    d.heading("Пояснение для эксперта", 1)
    for text in (
        "Программа нашла в тексте акта пункты, в которых изложено каждое требование каталога, и сравнила числовые "
        "нормативы каталога со значениями, записанными в этих пунктах (цифрами или словами).",
        "«Подтверждено» — пункт найден и значение совпадает; «расходится с текстом» — в пункте другое значение; "
        "«неоднозначно» — подходят несколько пунктов или совпадение слабое; «не найдено в тексте» — подходящего "
        "пункта нет. Программа сопоставляет формулировки, а не толкует их: каждое совпадение подтверждает эксперт.",
        "В графе «Подтверждение эксперта» укажите «верно», «неверно» или «уточнить»; в графе «Комментарий» — "
        "правильный пункт и значение. В каталог вносятся только подтверждённые экспертом сведения.",
    ):
        d.para(text, align="justify")
    d.new_section(landscape=True)
    if v.requirements:
        d.heading("Требования", 1)
        widths = [3.3, 4.6, 3.9, 5.7, 2.8, 3.1, 3.0]
        scale = WIDE_WIDTH_CM / sum(widths)
        rows = []
        for r in v.requirements:
            where: list = [x for c in r.candidates for x in ([R(c.clause, bold=True)], f"«{c.sentence}»")] or ["—"]
            if r.note:
                where.append(r.note)
            rows.append([[[R(r.id, bold=True)], r.title], [r.norm], _checks(catalog, r.id), where,
                         OUTCOME_RU[r.outcome], "", ""])
        d.table(["Требование", "Норма каталога", "Что проверяет программа", "Пункт и текст акта", "Итог",
                 "Подтверждение эксперта", "Комментарий"], [w * scale for w in widths], rows)
    if v.params:
        d.heading("Нормативы" if not v.act.is_amendment else "Нормативы, которые меняет акт", 1)
        widths = [4.4, 2.8, 2.6, 6.5, 2.8, 3.1, 3.0]
        scale = WIDE_WIDTH_CM / sum(widths)
        rows = []
        for p in v.params:
            where = [[R(p.clause, bold=True)], f"«{p.sentence}»"] if p.clause else (
                [x for c in p.candidates for x in ([R(c.clause, bold=True)], f"«{c.sentence}»")] or ["—"])
            rows.append([p.title, _catalog_value(p), _found(p), where, _param_outcome(v, p), "", ""])
        d.table(["Норматив", "В каталоге", "В тексте", "Пункт и текст акта", "Итог", "Подтверждение эксперта",
                 "Комментарий"], [w * scale for w in widths], rows)
    d.new_section(landscape=False)
    d.heading("Подписи", 1)
    d.para("Сверку выполнил (эксперт): ____________________ / ____________________ /   «___» __________ 20___ г.")
    d.para("Изменения в каталог внесены: ____________________ / ____________________ /   «___» __________ 20___ г.")
    return d.save()


def outcome_counts_text(v: Verification) -> str:
    c = v.counts()
    return ", ".join(plural(c[k], "требование", "требования", "требований") + f" — {OUTCOME_RU[k]}"
                     for k in OUTCOME_RU if c[k])


def verify_view(v: Verification) -> dict:
    """What the service's page shows of a verification: plain data (it crosses a process boundary), in Russian."""
    def param(p: ParamOutcome) -> dict:
        where = [{"clause": p.clause, "sentence": p.sentence}] if p.clause else [
            {"clause": c.clause, "sentence": c.sentence} for c in p.candidates]
        return {"title": p.title, "catalog": _catalog_value(p), "found": _found(p), "outcome": p.outcome,
                "outcome_text": _param_outcome(v, p), "mark": OUTCOME_MARK[p.outcome], "where": where}

    return {
        "file": v.act.source, "amendment": v.act.is_amendment, "summary": summary(v),
        "counts": [{"outcome": k, "text": OUTCOME_RU[k], "n": n} for k, n in v.counts().items()]
        if not v.act.is_amendment else [],
        "requirements": [{"id": r.id, "title": r.title, "outcome": r.outcome, "outcome_text": OUTCOME_RU[r.outcome],
                          "mark": OUTCOME_MARK[r.outcome], "note": r.note,
                          "where": [{"clause": c.clause, "sentence": c.sentence} for c in r.candidates],
                          "params": [param(p) for p in r.params]} for r in v.requirements],
        "params": [param(p) for p in v.params] if v.act.is_amendment else [],
    }
