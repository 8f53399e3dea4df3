"""Renderings of the report: plain text (terminal), Markdown, JSON. All user-facing text in Russian."""
from __future__ import annotations

import json
import re
from collections import OrderedDict

from .formatting import day, plural
from .report import SEVERITY_RU, STATUS_RU, UNCONFIRMED_NOTE, Finding, Report

MARK = {"met": "✓", "not_met": "✗", "insufficient_data": "?", "not_applicable": "–", "manual_review": "☐",
        "informational": "i", "error": "!", "waived": "≈"}
STATUS_ORDER = ["not_met", "error", "insufficient_data", "manual_review", "met", "waived", "informational", "not_applicable"]


def render_json(report: Report) -> str:
    return report.model_dump_json(indent=2)


def _header(r: Report) -> list[tuple[str, str]]:
    rows = [
        ("Режим", f"{r.regime_title} — {r.act_citation}"),
        ("Площадка", f"{r.applicant.site_name} ({r.applicant.region})"),
        ("Управляющая компания", f"{r.applicant.name}, ИНН {r.applicant.inn}"),
        ("Категория, подтип", f"{r.category}; {r.subtype}"),
        ("Дата оценки", f"{day(r.as_of)} (дата подачи {day(r.filing_date)})"),
        ("Каталог требований", f"версия {r.catalog_version}, контрольная сумма {r.catalog_hash[:12]}"),
    ]
    if r.special_regimes:
        rows.append(("Особый режим", "; ".join(r.special_regimes)))
    return rows


def _counts(r: Report) -> str:
    return " · ".join(f"{STATUS_RU[s]}: {r.counts[s]}" for s in STATUS_ORDER if r.counts.get(s))


def _summary_lines(r: Report) -> list[str]:
    gaps = [f for f in r.findings if f.status == "not_met"]
    lines = [f"ИТОГ: {r.verdict_text.upper()}", _counts(r)]
    if gaps:
        lines.append("Выявлено " + plural(len(gaps), "несоответствие", "несоответствия", "несоответствий") + ".")
    if r.unconfirmed_norms:
        lines.append(f"{plural(len(r.unconfirmed_norms), 'вердикт основан', 'вердикта основаны', 'вердиктов основаны')} "
                     f"на нормативах, которые требуют сверки с официальным текстом: {', '.join(r.unconfirmed_norms)}.")
    if r.engine_error:
        lines.append("Внимание: при проверке произошла ошибка движка правил; затронутые требования помечены «ошибка проверки».")
    return lines


def natural_id(requirement_id: str) -> tuple:
    """'794-P-10' sorts after '794-P-9'."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", requirement_id))


def _priority(f: Finding) -> tuple:
    sev = ["blocking", "major", "minor", "info"].index(f.severity) if f.severity in SEVERITY_RU else 9
    return (sev, natural_id(f.requirement_id))


def _blocking(r: Report) -> list[Finding]:
    ids = set(r.blocking_gaps)
    return sorted((f for f in r.findings if f.requirement_id in ids), key=_priority)


def _by_block(r: Report) -> "OrderedDict[str, list[Finding]]":
    groups: OrderedDict[str, list[Finding]] = OrderedDict()
    for f in r.findings:
        if f.kind == "document":
            continue
        groups.setdefault(f.block_title, []).append(f)
    return groups


def _failed_details(f: Finding) -> list[str]:
    """Which plots, objects or documents make a check fail (e.g. the plot without a cadastral number)."""
    if f.status != "not_met":
        return []
    return [d for c in f.checks if c.outcome == "failed" for d in c.fact.details][:20]


def _finding_lines(f: Finding) -> list[str]:
    lines = []
    if f.norm:
        conf = f" [достоверность: {f.confidence}]"
        lines.append(f"Норматив: {f.norm.text}{conf}")
    if f.fact and f.status in ("met", "not_met", "insufficient_data", "manual_review"):
        lines.append(f"Факт: {f.fact.label} — {f.fact.text}")
    if f.shortfall:
        lines.append(f"Разрыв: {f.shortfall.text}")
    lines += [f"  • {d}" for d in _failed_details(f)]
    if f.status != "met" and (f.status != "not_met" or not f.checks):
        lines.append(f.explanation)
    for fv in f.shown_facts if f.status == "manual_review" else []:
        lines.append(f"Факт: {fv.label} — {fv.text}")
    if f.what_to_check and f.status == "manual_review":
        lines.append(f"Что проверить: {f.what_to_check}")
    if f.remedy and f.status in ("not_met", "insufficient_data"):
        lines.append(f"Что сделать: {f.remedy}")
    if f.needs_confirmation and f.status in ("met", "not_met"):
        lines.append(f"⚠ {UNCONFIRMED_NOTE}")
    return lines


def render_text(r: Report) -> str:
    out = ["ОТЧЁТ О СООТВЕТСТВИИ ТРЕБОВАНИЯМ (предварительная проверка заявки)", ""]
    out += [f"{k}: {v}" for k, v in _header(r)]
    out += [""] + _summary_lines(r)
    blocking = _blocking(r)
    if blocking:
        out += ["", "Критичные требования, не подтверждённые проверкой:"]
        for f in blocking:
            tail = f" — {f.shortfall.text}" if f.shortfall else f" — {STATUS_RU[f.status]}"
            out.append(f"  {MARK[f.status]} {f.requirement_id} {f.title}{tail}")
    for block, items in _by_block(r).items():
        out += ["", block.upper(), "-" * min(len(block), 100)]
        for f in items:
            out.append(f"[{MARK[f.status]}] {f.requirement_id}  {f.title} — {STATUS_RU[f.status]} "
                       f"({SEVERITY_RU.get(f.severity, f.severity)}; {f.clause})")
            out += [f"      {line}" for line in _finding_lines(f)]
    out += ["", "ДОКУМЕНТЫ ДЛЯ ЗАЯВКИ", "-" * 20]
    for item in r.documents.items:
        out.append(f"[{MARK[item.status]}] {item.requirement_id}  {item.title} — {STATUS_RU[item.status]}")
        for p in item.provided:
            out.append(f"      представлено: {p}")
        for m in item.missing:
            out.append(f"      нет: {m}")
    if r.documents.not_counted:
        out += ["", "Документы, не учтённые на дату оценки:"]
        out += [f"  • {d.document}: {d.problem}" for d in r.documents.not_counted]
    if r.documents.warnings:
        out += ["", "Предупреждения о свежести документов:"]
        out += [f"  • {d.document}: {d.problem}" for d in r.documents.warnings]
    out += ["", "Обозначения: ✓ выполнено, ✗ не выполнено, ? недостаточно данных, ☐ экспертная оценка, "
                "– не применяется, i для сведения, ! ошибка проверки.",
            f"Идентификатор проверки: {r.evaluation_id}"]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(r: Report) -> str:
    out = [f"# Отчёт о соответствии: {r.applicant.site_name}", ""]
    out += ["| | |", "|---|---|"] + [f"| {k} | {_md(v)} |" for k, v in _header(r)]
    out += ["", "## Итог", ""] + [f"**{_summary_lines(r)[0]}**", ""] + [f"- {x}" for x in _summary_lines(r)[1:]]
    blocking = _blocking(r)
    if blocking:
        out += ["", "### Критичные требования, не подтверждённые проверкой", ""]
        out += [f"- **{f.requirement_id}** {f.title} — {f.shortfall.text if f.shortfall else STATUS_RU[f.status]}"
                for f in blocking]
    for block, items in _by_block(r).items():
        out += ["", f"## {block}", "", "| ID | Пункт | Требование | Норматив | Факт | Статус | Что сделать |",
                "|---|---|---|---|---|---|---|"]
        for f in items:
            norm = (f.norm.text + (" ⚠" if f.needs_confirmation else "")) if f.norm else "—"
            fact = f.fact.text if f.fact else ("; ".join(x.text for x in f.shown_facts) or "—")
            status = STATUS_RU[f.status] + (f" ({f.shortfall.text})" if f.shortfall else "")
            details = _failed_details(f)
            if details:
                fact += ": " + "; ".join(details)
            todo = f.remedy if f.status in ("not_met", "insufficient_data") else (f.what_to_check or "")
            out.append(f"| {f.requirement_id} | {_md(f.clause)} | {_md(f.title)} | {_md(norm)} | {_md(fact)} | "
                       f"{_md(status)} | {_md(todo or '')} |")
    out += ["", "## Документы для заявки", "", "| ID | Документ | Статус | Представлено | Не хватает |", "|---|---|---|---|---|"]
    for item in r.documents.items:
        out.append(f"| {item.requirement_id} | {_md(item.title)} | {STATUS_RU[item.status]} | "
                   f"{_md('; '.join(item.provided) or '—')} | {_md('; '.join(item.missing) or '—')} |")
    if r.documents.not_counted or r.documents.warnings:
        out += ["", "### Замечания к документам", ""]
        out += [f"- {d.document}: {d.problem}" for d in r.documents.not_counted + r.documents.warnings]
    out += ["", f"⚠ — {UNCONFIRMED_NOTE}. Идентификатор проверки: `{r.evaluation_id}`.", ""]
    return "\n".join(out)


RENDERERS = {"text": render_text, "md": render_markdown, "json": render_json}


def render_many(reports: list[Report], fmt: str) -> str:
    if fmt == "json":
        if len(reports) == 1:
            return render_json(reports[0])
        return json.dumps({"reports": [json.loads(render_json(r)) for r in reports]}, ensure_ascii=False, indent=2)
    sep = "\n" + ("=" * 100 if fmt == "text" else "---") + "\n\n"
    return sep.join(RENDERERS[fmt](r) for r in reports)
