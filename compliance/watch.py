"""The deadline watch: what falls due for an application, and when.

From an application (and its judgements file, for waivers) and a date: the end of a conformity decision's validity
and the date to file the re-confirmation package (by the period in force on the decision's date), lease ends of plots
and buildings, documents going out of date (their own validity, the catalog's freshness limits), contracts and
agreements ending, waivers expiring, and the notices the management company must send after a change. Every period
is read from the catalog (rules/<regime>.yaml): the validity from the parameter a rule names in
`deadline_years_param`, the notice from `notice_days_param`, the review period from `review_period_working_days`;
the requirements an element feeds are found through the facts and document kinds the catalog's rules read. Nothing
here names a regime.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Iterable, Literal

from pydantic import BaseModel, Field, computed_field

from .catalog import CONFIDENCE_RU, UNCONFIRMED, Catalog, CatalogError, ParamValue, cited_params, load_catalog
from .documents import describe, kind_title
from .findings import add_years
from .formatting import day, plural
from .judgements import JudgementsFile
from .labels import regime_name
from .models import Application, ConformityDecision

Kind = Literal["decision_expires", "reconfirmation_due", "lease_end", "document_expires", "document_stale",
               "contract_ends", "agreement_ends", "waiver_expires", "notice_due"]
KIND_RU: dict[str, str] = {
    "decision_expires": "окончание действия решения о соответствии",
    "reconfirmation_due": "подача документов на повторное подтверждение",
    "lease_end": "окончание аренды",
    "document_expires": "окончание срока действия документа",
    "document_stale": "документ перестаёт быть свежим",
    "contract_ends": "окончание договора",
    "agreement_ends": "окончание соглашения",
    "waiver_expires": "окончание принятого отклонения",
    "notice_due": "уведомление Минпромторга об изменениях",
}
# the parameter of the time the ministry takes to decide on an application (working days): the package is filed
# that much before the decision expires, so that the new decision can be taken in time
REVIEW_PARAM = "review_period_working_days"
# facts (compliance/facts.py) that count each kind of dated element: the requirements whose rules read them are the
# ones an element's end affects
ELEMENT_FACTS = {
    "land_plot": ("plots_without_right_count", "total_area_ha"),
    "building": ("buildings_without_right_count",),
    "resident": ("residents_count", "producing_residents_count"),
    "partnership": ("research_partnerships_count",),
}
# collections of per-item rules (`each`) an element feeds
ELEMENT_COLLECTIONS = {"cluster_contract": "contract"}
MAX_IDS = 4  # requirement IDs shown with one deadline; the rest as «и ещё N»


class Deadline(BaseModel):
    """One dated obligation of an application."""

    due: date | None = Field(description="дата, к которой наступает срок; нет — срок в каталоге не установлен")
    kind: Kind
    kind_text: str = Field(description="вид срока словами")
    title: str = Field(description="что наступает, по-русски")
    site_name: str = Field(description="площадка (кластер)")
    label: str = Field(description="заявка: файл или номер в сервисе")
    application_id: str | None = Field(None, description="номер заявки в сервисе")
    regime: str | None = Field(None, description="постановление словами")
    requirements: list[str] = Field([], description="ID требований, на которые влияет срок")
    rule: str = Field(description="правило, по которому получена дата, со ссылкой и степенью уверенности")
    element: str = Field(description="из какого раздела заявки срок")
    days_left: int | None = Field(None, description="дней до срока на дату просмотра (меньше нуля — просрочен)")

    @computed_field(description="срок уже прошёл")  # type: ignore[prop-decorator]
    @property
    def overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def requirement_text(self) -> str:
        shown = ", ".join(self.requirements[:MAX_IDS])
        more = len(self.requirements) - MAX_IDS
        return shown + (f" и ещё {more}" if more > 0 else "")


def confidence_words(pv: ParamValue) -> str:
    """«вторичный источник», «по аналогии, норма не сверена с текстом акта»."""
    words = CONFIDENCE_RU[pv.confidence]
    return words + (", норма не сверена с текстом акта" if pv.confidence in UNCONFIRMED else "")


def _cite(rid: str | None, pv: ParamValue) -> str:
    return "; ".join(filter(None, [rid, pv.reference, confidence_words(pv)]))


def _ids(found: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(found))


@lru_cache(maxsize=1)
def _calendar():  # noqa: ANN202
    import holidays

    return holidays.country_holidays("RU")


@lru_cache(maxsize=4096)
def _working_days_back(end: date, n: int) -> date:
    """The date n working days (by the Russian production calendar of the holidays library) before `end`."""
    return _calendar().get_nth_working_day(end, -n)


@dataclass
class _Regime:
    """What of one catalog the watch reads (built once per catalog)."""

    catalog: Catalog
    validity: tuple[str, str] | None  # (requirement ID, parameter) of the decision's period
    notice: tuple[str, str] | None  # (requirement ID, parameter) of the notice after a change
    review_rid: str | None  # the requirement that states the review period
    by_fact: dict[str, list[str]]
    by_collection: dict[str, list[str]]
    by_document: dict[str, list[str]]


_REGIMES: dict[str, _Regime] = {}
Cache = dict[str, _Regime]  # the catalogs of one run over many applications: each read from disk once


def _regime(code: str, cache: Cache | None = None) -> _Regime:
    if cache is not None and code in cache:
        return cache[code]
    catalog = load_catalog(code)
    cached = _REGIMES.get(code)
    if cached is not None and cached.catalog is catalog:
        if cache is not None:
            cache[code] = cached
        return cached
    validity = next(((r.requirement, r.deadline_years_param) for r in catalog.rulebook.rules
                     if r.deadline_years_param), None)
    notice = next(((r.requirement, r.notice_days_param) for r in catalog.rulebook.rules if r.notice_days_param), None)
    review = next((r.requirement for r in catalog.rulebook.rules if REVIEW_PARAM in cited_params(r)), None)
    by_collection: dict[str, list[str]] = {}
    by_document: dict[str, list[str]] = {}
    for rule in catalog.rulebook.rules:
        for v in rule.variants:
            if v.each is not None:
                by_collection.setdefault(v.each.related, []).append(rule.requirement)
            if v.documents:
                for kind in v.documents.all_of + v.documents.any_of:
                    by_document.setdefault(kind, []).append(rule.requirement)
    out = _Regime(catalog, validity, notice, review, catalog.facts_used_by, by_collection, by_document)
    _REGIMES[code] = out
    if cache is not None:
        cache[code] = out
    return out


class _Builder:
    def __init__(self, app: Application, label: str, as_of: date, cache: Cache | None, application_id: str | None):
        self.app, self.label, self.as_of, self.cache = app, label, as_of, cache
        self.application_id = application_id
        self.regimes: dict[str, _Regime] = {}
        for code in app.regimes:
            try:
                self.regimes[code] = _regime(code, cache)
            except CatalogError:
                continue
        self.out: list[Deadline] = []
        self._affected: dict[str, list[str]] = {}

    def add(self, due: date | None, kind: Kind, title: str, rule: str, element: str, requirements: list[str],
            regime: str | None = None) -> None:
        self.out.append(Deadline.model_construct(  # built from validated data: no second validation
            due=due, kind=kind, kind_text=KIND_RU[kind], title=title, site_name=self.app.site_name, label=self.label,
            application_id=self.application_id,
            regime=regime_name(regime) if regime else None, requirements=_ids(requirements), rule=rule,
            element=element, days_left=(due - self.as_of).days if due else None))

    def affected(self, element: str) -> list[str]:
        if element not in self._affected:
            facts = ELEMENT_FACTS.get(element, ())
            coll = ELEMENT_COLLECTIONS.get(element)
            self._affected[element] = _ids(
                [rid for r in self.regimes.values() for f in facts for rid in r.by_fact.get(f, [])] +
                [rid for r in self.regimes.values() if coll for rid in r.by_collection.get(coll, [])])
        return self._affected[element]

    # -- decisions ------------------------------------------------------------------------------------------------
    def decision(self, i: int, d: ConformityDecision) -> None:
        element = f"решение о соответствии от {day(d.date)}" + (f" № {d.number}" if d.number else "")
        where = f"{element} ({regime_name(d.regime)})"
        try:
            reg = self.regimes.get(d.regime) or _regime(d.regime, self.cache)
        except CatalogError:
            self.add(None, "decision_expires", "срок действия решения не определён", "каталога требований по этому "
                     "постановлению нет", where, [], None)
            return
        if reg.validity is None:
            self.add(None, "decision_expires", "срок действия решения не определён",
                     "срок действия решения в каталоге не установлен", where, [], d.regime)
            return
        rid, name = reg.validity
        pv = reg.catalog.rulebook.parameters[name].at(d.date)
        if pv is None:
            self.add(None, "decision_expires", "окончание действия решения — срок неизвестен",
                     f"срок действия решения на дату решения {day(d.date)} в каталоге не установлен ({rid}); "
                     "уточните его по официальному тексту", where, [rid], d.regime)
            return
        years = int(pv.value)
        expires = add_years(d.date, years)
        period = plural(years, "год", "года", "лет")
        self.add(expires, "decision_expires", "окончание действия решения о соответствии",
                 f"решение о соответствии действует {period} по норме на дату решения {day(d.date)} "
                 f"({_cite(rid, pv)})", where, [rid], d.regime)
        review = reg.catalog.rulebook.parameters.get(REVIEW_PARAM)
        rv = review.at(expires) if review else None
        if rv is None or not isinstance(rv.value, int):
            self.add(expires, "reconfirmation_due", "подать документы на повторное подтверждение соответствия",
                     f"решение действует до {day(expires)} ({rid}); срок рассмотрения заявки в каталоге не "
                     "установлен — подайте документы заранее, не позднее окончания действия решения", where, [rid],
                     d.regime)
            return
        due = _working_days_back(expires, rv.value)
        self.add(due, "reconfirmation_due", "подать документы на повторное подтверждение соответствия",
                 f"решение действует до {day(expires)} ({rid}), а заявку рассматривают "
                 f"{plural(rv.value, 'рабочий день', 'рабочих дня', 'рабочих дней')} "
                 f"({_cite(reg.review_rid, rv)}): подайте документы за этот срок до окончания действия решения "
                 "(рабочие дни — по производственному календарю)", where, [rid] + ([reg.review_rid] if reg.review_rid
                                                                                 else []), d.regime)

    def notices(self) -> None:
        """A notice after changes is owed once a decision includes the site in the register."""
        for d in self.app.conformity_decisions:
            if d.in_register is False:
                continue
            try:
                reg = self.regimes.get(d.regime) or _regime(d.regime, self.cache)
            except CatalogError:
                continue
            if reg.notice is None:
                continue
            rid, name = reg.notice
            param = reg.catalog.rulebook.parameters[name]
            pv = param.at(self.as_of)
            element = f"решение о соответствии от {day(d.date)} ({regime_name(d.regime)})"
            if pv is None or not isinstance(pv.value, int):
                self.add(None, "notice_due", "уведомить Минпромторг об изменении параметров",
                         f"после каждого изменения параметров УК уведомляет Минпромторг ({rid}); срок уведомления "
                         "в каталоге не установлен — уточните его по официальному тексту", element, [rid], d.regime)
            else:
                self.add(None, "notice_due", "уведомить Минпромторг об изменении параметров",
                         f"уведомление — в течение {plural(pv.value, 'дня', 'дней', 'дней')} после изменения "
                         f"параметров ({_cite(rid, pv)}); дата изменения в заявке не указана", element, [rid],
                         d.regime)

    # -- dated elements -------------------------------------------------------------------------------------------
    def leases(self) -> None:
        for i, p in enumerate(self.app.land_plots):
            if p.lease_end:
                name = f"земельный участок {p.cadastral_number}" if p.cadastral_number else f"земельный участок № {i + 1}"
                self.add(p.lease_end, "lease_end", f"окончание аренды: {name}",
                         "после окончания аренды у УК нет права на участок: он не учитывается в территории "
                         "(дата окончания аренды из заявки)", f"земельные участки: {name}", self.affected("land_plot"))
        for i, b in enumerate(self.app.buildings):
            if b.lease_end:
                name = b.name or (f"здание {b.cadastral_number}" if b.cadastral_number else f"здание № {i + 1}")
                self.add(b.lease_end, "lease_end", f"окончание аренды: {name}",
                         "после окончания аренды у УК нет права на здание: оно не учитывается (дата окончания "
                         "аренды из заявки)", f"здания: {name}", self.affected("building"))

    def documents(self) -> None:
        regs = list(self.regimes.values())
        # freshness counts for a filing: once a decision is taken on the application, its extracts have served, and
        # the re-confirmation deadline says when new ones are needed
        fresh = not self.app.conformity_decisions
        for doc in self.app.documents:
            limits = sorted({(r.catalog.rulebook.document_kinds[doc.kind].freshness_days, code)
                             for code, r in self.regimes.items() if doc.kind in r.catalog.rulebook.document_kinds
                             and r.catalog.rulebook.document_kinds[doc.kind].freshness_days}) if doc.date and fresh else []
            if not doc.valid_until and not limits:
                continue
            title = kind_title(regs[0].catalog, doc.kind) if regs else doc.title or doc.kind
            text = describe(doc, title)
            rids = [rid for r in regs for rid in r.by_document.get(doc.kind, [])]
            if doc.valid_until:
                self.add(doc.valid_until, "document_expires", f"истекает срок действия: {text}",
                         f"документ действует до {day(doc.valid_until)}; после этой даты он не учитывается в проверке",
                         f"документы: {text}", rids)
            if doc.date and limits:
                days = limits[0][0]
                self.add(doc.date + timedelta(days=days), "document_stale", f"получить свежий документ: {text}",
                         f"документ должен быть не старше {plural(days, 'дня', 'дней', 'дней')} на дату подачи "
                         f"(рекомендация каталога: срок свежести официально не подтверждён)",
                         f"документы: {text}", rids, limits[0][1])

    def contracts(self) -> None:
        parties = [(r.contract_end, "contract_ends", f"договор с резидентом «{r.name}»", r.contract_number,
                    "после окончания договора организация не считается резидентом", f"резиденты: {r.name}", "resident")
                   for r in self.app.residents or []]
        parties += [(p.agreement_end, "agreement_ends", f"соглашение с «{p.organisation}»", p.agreement_number,
                     "после окончания соглашения партнёрство не учитывается", f"партнёрства: {p.organisation}",
                     "partnership") for p in self.app.partnerships or []]
        for end, kind, what, number, rule, element, feeds in parties:
            if end:
                what += f" № {number}" if number else ""
                self.add(end, kind, f"окончание: {what}", rule + " (дата из заявки)", element, self.affected(feeds))
        cluster = self.app.cluster
        names = {x.inn: x.name for x in (cluster.participants or [])} if cluster else {}
        for c in (cluster.contracts or []) if cluster else []:
            if c.valid_until:
                sides = f"«{names.get(c.party_a_inn, c.party_a_inn)}» — «{names.get(c.party_b_inn, c.party_b_inn)}»"
                what = "договор между участниками" + (f" № {c.number}" if c.number else "") + f" ({sides})"
                self.add(c.valid_until, "contract_ends", f"окончание: {what}",
                         "после окончания срока действия договор не учитывается (дата из заявки)",
                         f"договоры кластера: {what}", self.affected("cluster_contract"))

    def waivers(self, judgements: JudgementsFile | None) -> None:
        for w in judgements.waivers if judgements else []:
            self.add(w.expires, "waiver_expires", f"окончание принятого отклонения по {w.requirement_id}",
                     f"отклонение принято до {day(w.expires)}" + (f" ({w.approved_by})" if w.approved_by else "") +
                     ": после этой даты требование снова проверяется как обычно", "оценки эксперта: принятые "
                     "отклонения", [w.requirement_id], judgements.regime)


def deadlines(app: Application, as_of: date, label: str = "", judgements: JudgementsFile | None = None,
              cache: Cache | None = None, application_id: str | None = None) -> list[Deadline]:
    """Every dated obligation of one application, soonest first (those without a date last). `cache`: one dict for
    a run over many applications, so that each catalog is read once; `application_id`: its number in the service."""
    b = _Builder(app, label or app.site_name, as_of, cache, application_id)
    for i, d in enumerate(app.conformity_decisions):
        b.decision(i, d)
    b.notices()
    b.leases()
    b.documents()
    b.contracts()
    b.waivers(judgements)
    return order(b.out)


def order(items: Iterable[Deadline]) -> list[Deadline]:
    return sorted(items, key=lambda d: (d.due is None, d.due or date.max, d.site_name, d.label, d.kind, d.title))


def within(items: Iterable[Deadline], as_of: date, days: int | None) -> list[Deadline]:
    """What falls due up to `days` after `as_of` (overdue items included; items without a date always listed)."""
    if days is None:
        return list(items)
    last = as_of + timedelta(days=days)
    return [d for d in items if d.due is None or d.due <= last]


# --- calendar ---------------------------------------------------------------------------------------------------
def uid(d: Deadline) -> str:
    """A UID that stays the same for the same obligation when the calendar is exported again (a calendar program
    then updates the event instead of adding a copy)."""
    import hashlib

    # the application by its number in the service (not the label, which names the version), else by its file
    key = "\0".join([d.application_id or d.label, d.kind, d.element, d.title, ",".join(d.requirements)])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + "@compliance-watch"


def to_ics(items: Iterable[Deadline], stamp: date) -> bytes:
    """An iCalendar file (RFC 5545): one all-day event per dated obligation; the undated ones have no place in a
    calendar and are left out. `stamp` is the export date (DTSTAMP)."""
    from datetime import datetime, timezone

    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//compliance//Сроки по заявкам//RU")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Сроки по заявкам")
    for d in items:
        if d.due is None:
            continue
        ev = Event()
        ev.add("uid", uid(d))
        ev.add("dtstamp", datetime(stamp.year, stamp.month, stamp.day, tzinfo=timezone.utc))
        ev.add("dtstart", d.due)
        ev.add("dtend", d.due + timedelta(days=1))
        ev.add("summary", f"{d.site_name}: {d.title}")
        lines = [f"Срок: {d.kind_text}", f"Заявка: {d.label}"]
        if d.regime:
            lines.append(f"Постановление: {d.regime}")
        if d.requirements:
            lines.append(f"Требования: {', '.join(d.requirements)}")
        lines += [f"Правило: {d.rule}", f"Откуда: {d.element}"]
        ev.add("description", "\n".join(lines))
        ev.add("categories", [d.kind_text])
        cal.add_component(ev)
    return cal.to_ical()


# --- text -------------------------------------------------------------------------------------------------------
def when_text(d: Deadline) -> str:
    """«через 12 дн.», «сегодня», «просрочен на 3 дн.», «срок не установлен»."""
    if d.days_left is None:
        return "срок не установлен"
    if d.days_left == 0:
        return "сегодня"
    if d.days_left < 0:
        return f"просрочен на {plural(-d.days_left, 'день', 'дня', 'дней')}"
    return f"через {plural(d.days_left, 'день', 'дня', 'дней')}"


def render_text(items: list[Deadline], as_of: date, within_days: int | None, color: bool = False,
                width: int = 160) -> str:
    """A table in Russian, soonest first; overdue rows marked."""
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    horizon = f" на {plural(within_days, 'день', 'дня', 'дней')} вперёд" if within_days is not None else ""
    head = f"Сроки на {day(as_of)}{horizon}: {len(items)}"
    overdue = sum(1 for d in items if d.overdue)
    if overdue:
        head += f", из них просрочено: {overdue}"
    if not items:
        return head + "\nВ этот период сроков нет.\n"
    table = Table(show_lines=False, expand=False)
    for name in ("Дата", "Когда", "Площадка", "Что наступает", "Требования", "Правило"):
        table.add_column(name, overflow="fold")
    for d in items:
        mark = "⚠ " if d.overdue else ""
        style = "bold red" if d.overdue else None
        table.add_row(day(d.due) if d.due else "—", mark + when_text(d), d.site_name, d.title,
                      d.requirement_text or "—", d.rule, style=style)
    buf = StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color, highlight=False)
    console.print(head, markup=False)
    console.print(table)
    return buf.getvalue()
