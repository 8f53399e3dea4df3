"""Renderings of the report: plain text (terminal), Markdown, JSON. All user-facing text in Russian."""
from __future__ import annotations

import html
import json
import re
from collections import OrderedDict

from .formatting import day, num, plural
from .labels import regime_name
from .report import SEVERITY_RU, STATUS_RU, UNCONFIRMED_NOTE, Finding, Report, headline

MARK = {"met": "✓", "not_met": "✗", "insufficient_data": "?", "not_applicable": "–", "manual_review": "☐",
        "informational": "i", "error": "!", "waived": "≈"}
STATUS_ORDER = ["not_met", "error", "insufficient_data", "manual_review", "met", "waived", "informational", "not_applicable"]


def render_json(report: Report) -> str:
    return report.model_dump_json(indent=2)


def _header(r: Report) -> list[tuple[str, str]]:
    rows = [
        ("Режим", f"{r.regime_title} — {r.act_citation}"),
        ("Площадка" if r.applicant.role == "Управляющая компания" else "Кластер",
         f"{r.applicant.site_name} ({r.applicant.region})"),
        (r.applicant.role, f"{r.applicant.name}, ИНН {r.applicant.inn}"),
        ("Категория, подтип", f"{r.category}; {r.subtype}"),
        ("Дата оценки", f"{day(r.as_of)} (дата подачи {day(r.filing_date)})"),
        ("Каталог критериев" if r.assessment else "Каталог требований", f"версия {r.catalog_version}, контрольная сумма {r.catalog_hash[:12]}"),
    ]
    if r.special_regimes:
        rows.append(("Особый режим", "; ".join(r.special_regimes)))
    if r.judgements_mismatch:
        rows.append(("Внимание", r.judgements_mismatch))
    rows += [("Примечание", n) for n in r.notes]
    return rows


CONTRADICTIONS_TITLE = "Оценки эксперта, противоречащие вычисленным фактам"


def _counts(r: Report) -> str:
    return " · ".join(f"{STATUS_RU[s]}: {r.counts[s]}" for s in STATUS_ORDER if r.counts.get(s))


def _summary_lines(r: Report) -> list[str]:
    lines = [f"ИТОГ: {headline(r, upper=True)}", _counts(r)]  # the counts name the gaps: no second sentence on them
    if r.unconfirmed_norms:
        lines.append(f"{plural(len(r.unconfirmed_norms), 'вердикт основан', 'вердикта основаны', 'вердиктов основаны')} "
                     f"на нормативах, которые требуют сверки с официальным текстом: {', '.join(r.unconfirmed_norms)}.")
    if r.norm_shares:
        lines.append(r.norm_shares.sentence() + ".")
    if r.engine_error:
        lines.append("Внимание: при проверке произошла ошибка движка правил; затронутые требования помечены «ошибка проверки».")
    return lines


def natural_id(requirement_id: str) -> tuple:
    """'794-P-10' sorts after '794-P-9'."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", requirement_id))


def _priority(f: Finding) -> tuple:
    sev = ["blocking", "major", "minor", "info"].index(f.severity) if f.severity in SEVERITY_RU else 9
    return (sev, natural_id(f.requirement_id))


def blocking_findings(r: Report) -> list[Finding]:
    """The report's blocking gaps, most severe first, IDs in natural order."""
    ids = set(r.blocking_gaps)
    return sorted((f for f in r.findings if f.requirement_id in ids), key=_priority)


def findings_by_block(findings, documents: bool = False) -> "OrderedDict[str, list[Finding]]":
    """Findings grouped by block title in catalog order (document items only when asked)."""
    groups: OrderedDict[str, list[Finding]] = OrderedDict()
    for f in findings:
        if f.kind == "document" and not documents:
            continue
        groups.setdefault(f.block_title, []).append(f)
    return groups


def _failed_details(f: Finding) -> list[str]:
    """Which plots, objects or documents make a check fail (e.g. the plot without a cadastral number)."""
    if f.status != "not_met":
        return []
    return [d for c in f.checks if c.outcome == "failed" for d in c.fact.details][:20]


CONDITION_RU = {"met": "Выполнено условие", "not_met": "Оценено по условию"}


def fact_lines(f: Finding) -> list[tuple[str, str]]:
    """What the application shows for a requirement, as (heading, text): its fact, or — when the requirement checks
    several facts — each of them with the norm it was held to (779-C-5 with the reduced threshold: the share of special
    territories and the FD itself), after the alternative condition the verdict rests on."""
    if not f.fact or f.status not in ("met", "not_met", "insufficient_data", "manual_review"):
        return []
    lines = [(CONDITION_RU[f.status], f"«{f.condition}»")] if f.condition and f.status in CONDITION_RU else []
    if lines and f.status == "not_met" and f.alternatives:
        lines.append(("Другие условия", "; ".join(f.alternatives)))
    if len(f.checks) > 1:
        return lines + [("Факт", f"{c.fact.label} — {c.fact.text} (норматив — {c.norm.text})") for c in f.checks]
    return lines + [("Факт", f"{f.fact.label} — {f.fact.text}")]


def waiver_state(f: Finding) -> str:
    """How a finding's waiver stands: in force, expired, or not applied (the criterion is not «не выполнено»)."""
    w = f.waiver
    if w.active:
        return f"принято, действует до {day(w.expires)}"
    if f.status == "not_met":
        return f"истекло {day(w.expires)}, не применяется"
    return "не применено: критерий не в статусе «не выполнено»"


def _finding_lines(f: Finding) -> list[str]:
    lines = []
    if f.judgement:
        j = f.judgement
        who = ", ".join(filter(None, [j.assessor, day(j.date) if j.date else None])) or "эксперт"
        lines.append(f"Оценка эксперта ({who}): {STATUS_RU[j.verdict]} — {j.comment}"
                     + (f" Основание: {j.evidence}." if j.evidence else "")
                     + (" [устарела: вынесена по версии каталога " + j.catalog_version + "]" if j.outdated else ""))
    if f.waiver:
        w = f.waiver
        state = waiver_state(f)
        lines.append(f"Отклонение ({state}): {w.justification.rstrip('.')}"
                     + (f"; утвердил: {w.approved_by}" if w.approved_by else ""))
    if f.norm:
        conf = f" [достоверность: {f.confidence}]"
        lines.append(f"Норматив: {f.norm.text}{conf}")
    lines += [f"{heading}: {text}" for heading, text in fact_lines(f)]
    if f.shortfall:
        lines.append(f"Разрыв: {f.shortfall.text}")
    lines += [f"  • {d}" for d in _failed_details(f)]
    if f.status not in ("met",) and (f.status != "not_met" or not f.checks) and not f.judgement and f.status != "waived":
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


def _assessment_lines(r: Report) -> list[str]:
    a = r.assessment
    if a is None:
        return []

    def share(s) -> str:
        pct = f" ({num(s.share_pct, 2)} %)" if s.share_pct is not None else ""
        waived = f", отклонения приняты: {s.mandatory_waived}" if s.mandatory_waived else ""
        rec = f"; рекомендуемые: выполнено {s.recommended_met} из {s.recommended_total}" if s.recommended_total else ""
        return f"обязательные: выполнено {s.mandatory_met} из {s.mandatory_applicable}{pct}{waived}{rec}"

    out = ["", "ОЦЕНКА ПО БЛОКАМ"]
    if r.judgements_by:
        out.append(f"Оценки эксперта: {r.judgements_by}")
    out += [f"  {s.title}: {share(s)}" for s in a.blocks]
    out.append(f"  Итого: {share(a.overall)}")
    out.append(f"Метод: {a.method}")
    for title, items in (("Несоответствия обязательным критериям", a.gaps), ("Не оценены (обязательные)", a.pending),
                         ("Замечания", a.remarks), ("Не оценены (рекомендуемые)", a.not_judged_recommended)):
        if items:
            out += [f"{title}:"] + [f"  • {x}" for x in items]
    return out


def render_text(r: Report) -> str:
    out = ["ОТЧЁТ О СООТВЕТСТВИИ ТРЕБОВАНИЯМ (предварительная проверка заявки)", ""]
    out += [f"{k}: {v}" for k, v in _header(r)]
    out += [""] + _summary_lines(r) + _assessment_lines(r)
    if r.judgement_contradictions:
        out += ["", CONTRADICTIONS_TITLE.upper() + ":"] + [f"  ⚠ {c.text}" for c in r.judgement_contradictions]
    blocking = blocking_findings(r)
    if blocking:
        out += ["", f"Критичные {'критерии' if r.assessment else 'требования'}, не подтверждённые проверкой:"]
        for f in blocking:
            tail = f" — {f.shortfall.text}" if f.shortfall else f" — {STATUS_RU[f.status]}"
            out.append(f"  {MARK[f.status]} {f.requirement_id} {f.title}{tail}")
    for block, items in findings_by_block(r.findings).items():
        out += ["", block.upper(), "-" * min(len(block), 100)]
        for f in items:
            out.append(f"[{MARK[f.status]}] {f.requirement_id}  {f.title} — {STATUS_RU[f.status]} "
                       f"({SEVERITY_RU.get(f.severity, f.severity)}; {f.clause})")
            out += [f"      {line}" for line in _finding_lines(f)]
    if r.calculations:
        out += ["", "РАСЧЁТЫ", "-" * 7]
        for c in r.calculations:
            out.append(f"{c.title}: {c.text}")
            out += [f"    {line}" for line in c.lines]
            out += [f"    нет данных: {m}" for m in c.missing_labels]
            out.append("    Используется в: " + "; ".join(c.used_by))
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


_BREAKS = re.compile(r"[\r\n]+")


def _md(text: object) -> str:
    """Text for a Markdown line or table cell: HTML escaped (a user's `<script>` stays text, whatever renders the
    file), "|" escaped, line breaks as spaces."""
    return _BREAKS.sub(" ", html.escape(str(text), quote=False)).replace("|", "\\|")


def _code(text: str) -> str:
    """A Markdown code span of `text`: fenced by more backticks than it holds, so the text cannot close it."""
    text = _BREAKS.sub(" ", text)
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render_markdown(r: Report) -> str:
    out = [f"# Отчёт о соответствии: {_md(r.applicant.site_name)}", ""]
    out += ["| | |", "|---|---|"] + [f"| {_md(k)} | {_md(v)} |" for k, v in _header(r)]
    summary = _summary_lines(r)  # under the heading «Итог» the verdict stands without a second «ИТОГ:»
    out += ["", "## Итог", ""] + [f"**{_md(headline(r, upper=True))}**", ""] + [f"- {_md(x)}" for x in summary[1:]]
    if r.assessment:
        a = r.assessment
        out += ["", "## Оценка по блокам", "", "| Блок | Обязательные: выполнено | Доля, % | Отклонения приняты | Рекомендуемые: выполнено |",
                "|---|---|---|---|---|"]
        for s in a.blocks + [a.overall]:
            out.append(f"| {_md(s.title)} | {s.mandatory_met} из {s.mandatory_applicable} | "
                       f"{num(s.share_pct, 2) if s.share_pct is not None else '—'} | {s.mandatory_waived} | "
                       f"{s.recommended_met} из {s.recommended_total} |")
        out += ["", f"Метод: {_md(a.method)}"]
        for title, items in (("Несоответствия обязательным критериям", a.gaps), ("Не оценены (обязательные)", a.pending),
                             ("Замечания", a.remarks)):
            if items:
                out += ["", f"**{title}:**", ""] + [f"- {_md(x)}" for x in items]
    if r.judgement_contradictions:
        out += ["", f"### {CONTRADICTIONS_TITLE}", ""] + [f"- ⚠ {_md(c.text)}" for c in r.judgement_contradictions]
    blocking = blocking_findings(r)
    if blocking:
        out += ["", f"### Критичные {'критерии' if r.assessment else 'требования'}, не подтверждённые проверкой", ""]
        out += [f"- **{_md(f.requirement_id)}** {_md(f.title)} — "
                f"{_md(f.shortfall.text if f.shortfall else STATUS_RU[f.status])}" for f in blocking]
    for block, items in findings_by_block(r.findings).items():
        out += ["", f"## {_md(block)}", "", f"| ID | Пункт | {'Критерий' if r.assessment else 'Требование'} | Норматив | Факт "
                "| Статус | Что сделать |",
                "|---|---|---|---|---|---|---|"]
        for f in items:
            norm = (f.norm.text + (" ⚠" if f.needs_confirmation else "")) if f.norm else "—"
            if not f.fact:
                fact = "; ".join(x.text for x in f.shown_facts) or "—"
            elif len(f.checks) > 1 or f.condition:
                fact = "; ".join(t if h == "Факт" else f"{h}: {t}" for h, t in fact_lines(f)) or f.fact.text
            else:
                fact = f.fact.text
            status = STATUS_RU[f.status] + (f" ({f.shortfall.text})" if f.shortfall else "")
            details = _failed_details(f)
            if details:
                fact += ": " + "; ".join(details)
            todo = f.remedy if f.status in ("not_met", "insufficient_data") else (f.what_to_check or "")
            out.append(f"| {_md(f.requirement_id)} | {_md(f.clause)} | {_md(f.title)} | {_md(norm)} | {_md(fact)} | "
                       f"{_md(status)} | {_md(todo or '')} |")
    if r.calculations:
        out += ["", "## Расчёты"]
        for c in r.calculations:
            out += ["", f"**{_md(c.title)}: {_md(c.text)}**", ""] + [f"- {_md(line)}" for line in c.lines]
            out += [f"- нет данных: {_md(m)}" for m in c.missing_labels]
            out.append(f"- Используется в: {_md('; '.join(c.used_by))}")
    out += ["", "## Документы для заявки", "", "| ID | Документ | Статус | Представлено | Не хватает |", "|---|---|---|---|---|"]
    for item in r.documents.items:
        out.append(f"| {_md(item.requirement_id)} | {_md(item.title)} | {STATUS_RU[item.status]} | "
                   f"{_md('; '.join(item.provided) or '—')} | {_md('; '.join(item.missing) or '—')} |")
    if r.documents.not_counted or r.documents.warnings:
        out += ["", "### Замечания к документам", ""]
        out += [f"- {_md(d.document)}: {_md(d.problem)}" for d in r.documents.not_counted + r.documents.warnings]
    out += ["", f"⚠ — {UNCONFIRMED_NOTE}. Идентификатор проверки: {_code(r.evaluation_id)}.", ""]
    return "\n".join(out)


RENDERERS = {"text": render_text, "md": render_markdown, "json": render_json}


def render_many(reports: list[Report], fmt: str) -> str:
    if fmt == "json":
        if len(reports) == 1:
            return render_json(reports[0])
        return json.dumps({"reports": [json.loads(render_json(r)) for r in reports]}, ensure_ascii=False, indent=2)
    sep = "\n" + ("=" * 100 if fmt == "text" else "---") + "\n\n"
    return sep.join(RENDERERS[fmt](r) for r in reports)


# --- eligibility matrix and what-if ---------------------------------------------------------------------------
def _cell(text: str, width: int) -> str:
    return text[: width - 1] + "…" if len(text) > width else text.ljust(width)


def render_matrix_text(e) -> str:
    out = [f"МАТРИЦА ПРИМЕНИМОСТИ РЕЖИМОВ: {e.site_name} (дата оценки {day(e.as_of)})", ""]
    head = ["Режим", "Итог", "Не вып.", "Нет данных", "Эксперт", "Нет док."]
    widths = [44, 40, 8, 11, 8, 8]
    out.append(" ".join(_cell(h, w) for h, w in zip(head, widths)))
    out.append(" ".join("-" * w for w in widths))
    for r in e.rows:
        mark = "► " if r.closest else "  "
        cells = [mark + regime_name(r.regime), r.verdict_short or r.verdict_text, str(r.blocking_not_met),
                 str(r.insufficient_data), str(r.manual_review), str(r.documents_missing)]
        out.append(" ".join(_cell(c, w) for c, w in zip(cells, widths)))
    out.append("")
    out.append("Не вып. — критичных несоответствий; Нет данных — требований без данных; Эксперт — требований для "
               "экспертной оценки; Нет док. — недостающих документов. ► — ближайший статус.")
    out += _applied_note(e)
    for r in e.rows:
        if r.top_gaps:
            out += ["", f"Главные разрывы — {r.regime_title} ({r.act_citation}):"] + [f"  • {g}" for g in r.top_gaps]
    for s in e.skipped:
        out.append(f"\nНе оценивался: {regime_name(s.regime)} — {s.reason}.")
    return "\n".join(out) + "\n"


def render_matrix_markdown(e) -> str:
    out = [f"# Матрица применимости режимов: {_md(e.site_name)}", "", f"Дата оценки: {day(e.as_of)}", "",
           "| Режим | Акт | Итог | Критичных несоответствий | Нет данных | Экспертная оценка | Нет документов | Главные разрывы |",
           "|---|---|---|---|---|---|---|---|"]
    for r in e.rows:
        name = f"**{_md(r.regime_title)}**" + (" ► ближайший" if r.closest else "")
        out.append(f"| {name} | {_md(r.act_citation)} | {_md(r.verdict_text)} | {r.blocking_not_met} | "
                   f"{r.insufficient_data} | {r.manual_review} | {r.documents_missing} | {_md('; '.join(r.top_gaps) or '—')} |")
    out += [f"- Не оценивался: {_md(regime_name(s.regime))} — {_md(s.reason)}." for s in e.skipped]
    note = _applied_note(e)
    out += ["", *map(_md, note)] if note else []
    return "\n".join(out) + "\n"


def _applied_note(e) -> list[str]:
    """Which rows decide the exit code, when the matrix also shows regimes the application does not apply for."""
    if all(r.applied for r in e.rows):
        return []
    applied = "; ".join(regime_name(r.regime) for r in e.rows if r.applied)
    return [f"Код завершения определяют режимы, на которые подана заявка: {applied}; остальные режимы показаны "
            "для сведения."]


def _shown(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def render_changes_text(regime: str, changes, changed, before: Report, after: Report) -> str:
    out = [f"ЧТО ЕСЛИ ({regime_name(regime)}): изменения в заявке"]
    out += [f"  • {c.path} " + ("удалить" if c.delete else f"= {_shown(c.value)}") for c in changes]
    out.append(f"Итог: {headline(before)} → {headline(after)}")
    if not changed:
        out.append("Ни одна находка не изменилась.")
    for c in changed:
        line = f"  {c.requirement_id} {c.title}: {STATUS_RU[c.before]} → {STATUS_RU[c.after]}"
        if c.fact_before != c.fact_after:
            line += f"; факт {c.fact_before or '—'} → {c.fact_after or '—'}"
        if c.shortfall_before != c.shortfall_after:
            line += f"; разрыв {c.shortfall_before or 'нет'} → {c.shortfall_after or 'нет'}"
        out.append(line)
    return "\n".join(out) + "\n"


def render_changes_markdown(regime: str, changes, changed, before: Report, after: Report) -> str:
    out = [f"## Что если ({_md(regime_name(regime))})", ""] + [f"- {_code(c.path)} " + ("удалить" if c.delete else f"= {_code(_shown(c.value))}")
                                             for c in changes]
    out += ["", f"Итог: {_md(headline(before))} → **{_md(headline(after))}**", "",
            "| ID | Требование | Было | Стало | Факт было → стало | Разрыв было → стало |", "|---|---|---|---|---|---|"]
    for c in changed:
        out.append(f"| {_md(c.requirement_id)} | {_md(c.title)} | {STATUS_RU[c.before]} | {STATUS_RU[c.after]} | "
                   f"{_md((c.fact_before or '—') + ' → ' + (c.fact_after or '—'))} | "
                   f"{_md((c.shortfall_before or 'нет') + ' → ' + (c.shortfall_after or 'нет'))} |")
    return "\n".join(out) + "\n"
