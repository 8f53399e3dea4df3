"""The impact of a draft amendment (a scenario, compliance/scenario.py): every application evaluated under the current
catalog and under the scenario, on the same date; verdicts that flip, requirements whose status changes, shortfalls
that appear or vanish — per site, and in totals per requirement and per region. Excel, JSON and a Word brief.

The core (`compare_site`, `summarise`, `run_impact`) takes applications, not files: the service runs it over stored
applications; the command line over files (an item may be a path: a file that does not read is listed as an error,
never fatal). Nothing here names a regime."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Literal

from pydantic import BaseModel, Field, computed_field

from .catalog import CatalogError, load_catalog
from .evaluate import Prepared, evaluate
from .formatting import plural
from .labels import regime_name
from .loading import InputError, load_application
from .models import Application
from .report import STATUS_RU, VERDICT_SHORT, Finding, Report
from .scenario import Scenario, ScenarioError, load_scenario, load_scenario_bytes  # noqa: F401 - the interface

__all__ = ["load_scenario", "load_scenario_bytes", "compare_site", "summarise", "run_impact", "impact_xlsx",
           "impact_json", "impact_docx", "Scenario", "ScenarioError", "ImpactSite", "ImpactResult"]

# worse = a higher rank after the change
VERDICT_RANK = {"conforms": 0, "pending_review": 1, "incomplete": 2, "does_not_conform": 3}
ABSENT_BEFORE = "требования нет в действующем каталоге"
ABSENT_AFTER = "требование исключено проектом"
Direction = Literal["worse", "better", "same"]
DIRECTION_RU = {"worse": "хуже", "better": "лучше", "same": "без изменений"}
NOT_ASSERTED = {"met", "not_applicable", "informational", "waived"}


class RequirementChange(BaseModel):
    requirement_id: str
    title: str
    before: str | None = Field(description="статус по действующему каталогу; пусто — требования в нём нет")
    after: str | None = Field(description="статус по каталогу с проектом; пусто — проект требование исключает")
    before_text: str
    after_text: str
    shortfall_before: str | None = Field(None, description="недостаток по действующему каталогу")
    shortfall_after: str | None = Field(None, description="недостаток по каталогу с проектом")
    change: Literal["appears", "vanishes", "status", "shortfall"] = Field(
        description="appears — несоответствие появляется; vanishes — исчезает; status — меняется иной статус; "
                    "shortfall — статус тот же, меняется величина недостатка")
    change_text: str


class RegimeImpact(BaseModel):
    regime: str
    regime_title: str
    catalog_before: str = Field(description="версия действующего каталога")
    catalog_after: str = Field(description="версия каталога с проектом")
    verdict_before: str | None = None
    verdict_after: str | None = None
    verdict_before_text: str = ""
    verdict_after_text: str = ""
    direction: Direction = "same"
    changes: list[RequirementChange] = []
    error: str | None = Field(None, description="почему заявка не оценена по этому режиму")


class ImpactSite(BaseModel):
    label: str = Field(description="файл или номер заявки")
    site_name: str
    region: str
    as_of: date
    regimes: list[RegimeImpact] = []
    concerned: bool = Field(description="заявка подана по режиму, который проект меняет")

    @computed_field(description="worse — итог ухудшается хотя бы по одному режиму; better — улучшается; same — прежний")
    @property
    def direction(self) -> Direction:
        """worse if any regime's verdict worsens, else better if any improves."""
        found = {r.direction for r in self.regimes}
        return "worse" if "worse" in found else "better" if "better" in found else "same"

    @computed_field(description="меняется итог или статус хотя бы одного требования")
    @property
    def changed(self) -> bool:
        return any(r.changes or r.direction != "same" for r in self.regimes)


class ImpactError(BaseModel):
    label: str
    problem: str


class Transition(BaseModel):
    regime: str
    regime_title: str
    before: str
    after: str
    before_text: str
    after_text: str
    sites: int


class RequirementTotals(BaseModel):
    regime: str
    requirement_id: str
    title: str
    sites_changed: int = 0
    appears: int = Field(0, description="площадок, у которых появилось несоответствие")
    vanishes: int = Field(0, description="площадок, у которых несоответствие исчезло")
    status: int = Field(0, description="площадок с иным изменением статуса")
    shortfall: int = Field(0, description="площадок, у которых изменилась величина недостатка")


class RegionTotals(BaseModel):
    region: str
    sites: int = 0
    worse: int = 0
    better: int = 0
    same: int = 0


class Totals(BaseModel):
    applications: int = Field(0, description="заявок передано")
    evaluated: int = Field(0, description="заявок оценено по режимам, которые меняет проект")
    not_concerned: int = Field(0, description="заявок по другим режимам (проект их не касается)")
    errors: int = Field(0, description="файлов или заявок с ошибками")
    worse: int = Field(0, description="площадок, итог которых ухудшается")
    better: int = Field(0, description="площадок, итог которых улучшается")
    same: int = Field(0, description="площадок с прежним итогом")
    requirements_changed: int = Field(0, description="площадок, у которых меняется статус хотя бы одного требования")


class ScenarioInfo(BaseModel):
    name: str
    title: str
    source: str
    description: str | None = None
    effective: date
    digest: str
    regimes: list[str]
    regime_titles: list[str]
    catalogs_before: list[str]
    catalogs_after: list[str]


class ImpactResult(BaseModel):
    scenario: ScenarioInfo
    as_of: date
    generated_at: datetime
    totals: Totals
    transitions: list[Transition] = []
    requirements: list[RequirementTotals] = []
    regions: list[RegionTotals] = []
    sites: list[ImpactSite] = []
    errors: list[ImpactError] = []
    notes: list[str] = []
    stopped: bool = Field(False, description="прервано до конца: оценена только часть заявок")


# --- one application -----------------------------------------------------------------------------------------------
def _shortfall(f: Finding | None) -> str | None:
    if f is None or f.status != "not_met":
        return None
    if f.shortfall is not None:
        return f.shortfall.text
    return f.explanation or None


def _change(rid: str, b: Finding | None, a: Finding | None) -> RequirementChange | None:
    sb, sa = (b.status if b else None), (a.status if a else None)
    short_b, short_a = _shortfall(b), _shortfall(a)
    if sb == sa and short_b == short_a:
        return None
    if sa == "not_met" and sb != "not_met":
        kind, text = "appears", "появляется несоответствие"
    elif sb == "not_met" and sa != "not_met":
        kind, text = "vanishes", "несоответствие устраняется"
    elif sb == sa:
        kind, text = "shortfall", "меняется величина недостатка"
    else:
        kind, text = "status", "меняется статус"
    title = (a or b).title
    return RequirementChange(requirement_id=rid, title=title, before=sb, after=sa,
                             before_text=STATUS_RU.get(sb, sb) if sb else ABSENT_BEFORE,
                             after_text=STATUS_RU.get(sa, sa) if sa else ABSENT_AFTER,
                             shortfall_before=short_b, shortfall_after=short_a, change=kind, change_text=text)


def compare_reports(before: Report, after: Report) -> list[RequirementChange]:
    old = {f.requirement_id: f for f in before.findings}
    new = {f.requirement_id: f for f in after.findings}
    order = list(new) + [rid for rid in old if rid not in new]
    return [c for rid in order if (c := _change(rid, old.get(rid), new.get(rid))) is not None]


def _direction(before: str, after: str) -> Direction:
    b, a = VERDICT_RANK.get(before, 3), VERDICT_RANK.get(after, 3)
    return "worse" if a > b else "better" if a < b else "same"


def compare_site(label: str, app: Application, scenario: Scenario, as_of: date | None = None) -> ImpactSite:
    """The application under the current catalog and under the scenario, for each regime the scenario touches that
    the application claims, on `as_of` (by default the scenario's assumed effective date: the question is what
    changes once the draft is in force)."""
    when = as_of or scenario.effective
    regimes = [r for r in app.regimes if r in scenario.catalogs]
    site = ImpactSite(label=label, site_name=app.site_name, region=app.region, as_of=when, concerned=bool(regimes))
    prepared = Prepared(app, when)  # the dated view and derived facts: the same under both catalogs and every regime
    for regime in regimes:
        scenario_catalog = scenario.catalogs[regime]
        item = RegimeImpact(regime=regime, regime_title=regime_name(regime),
                            catalog_before=scenario.base_versions[regime],
                            catalog_after=scenario_catalog.decree.catalog_version)
        try:
            before = evaluate(app, regime, when, catalog=load_catalog(regime), prepared=prepared)
            after = evaluate(app, regime, when, catalog=scenario_catalog, prepared=prepared)
        except InputError as exc:
            item.error = "; ".join(map(str, exc.problems))[:2000]
        except CatalogError as exc:
            item.error = str(exc)[:2000]
        except Exception as exc:  # noqa: BLE001 - one broken application must not stop the run
            item.error = f"ошибка проверки: {exc}"[:2000]
        else:
            item.verdict_before, item.verdict_after = before.verdict, after.verdict
            item.verdict_before_text = VERDICT_SHORT[before.verdict]
            item.verdict_after_text = VERDICT_SHORT[after.verdict]
            item.direction = _direction(before.verdict, after.verdict)
            item.changes = compare_reports(before, after)
        site.regimes.append(item)
    return site


# --- many ----------------------------------------------------------------------------------------------------------
def scenario_info(scenario: Scenario) -> ScenarioInfo:
    return ScenarioInfo(name=scenario.name, title=scenario.title, source=scenario.source,
                        description=scenario.description, effective=scenario.effective, digest=scenario.digest,
                        regimes=scenario.regimes, regime_titles=[regime_name(r) for r in scenario.regimes],
                        catalogs_before=[scenario.base_versions[r] for r in scenario.regimes],
                        catalogs_after=[scenario.catalogs[r].decree.catalog_version for r in scenario.regimes])


def summarise(sites: list[ImpactSite], scenario: Scenario, as_of: date | None = None,
              errors: list[ImpactError] | None = None, stopped: bool = False) -> ImpactResult:
    """Totals: sites whose verdict worsens or improves, the verdict transitions, per requirement how many sites see
    its status change (and which way), per region."""
    when = as_of or scenario.effective
    errors = list(errors or [])
    totals = Totals(applications=len(sites) + len(errors), errors=len(errors))
    transitions: dict[tuple[str, str, str], Transition] = {}
    requirements: dict[tuple[str, str], RequirementTotals] = {}
    regions: dict[str, RegionTotals] = {}
    for site in sites:
        if not site.concerned:
            totals.not_concerned += 1
            continue
        failed = [r for r in site.regimes if r.error]
        for r in failed:
            errors.append(ImpactError(label=site.label, problem=f"{r.regime_title}: {r.error}"))
        totals.errors += bool(failed)
        evaluated = [r for r in site.regimes if not r.error]
        if not evaluated:
            continue
        totals.evaluated += 1
        direction = site.direction
        setattr(totals, direction, getattr(totals, direction) + 1)
        totals.requirements_changed += any(r.changes for r in evaluated)
        region = regions.setdefault(site.region, RegionTotals(region=site.region))
        region.sites += 1
        setattr(region, direction, getattr(region, direction) + 1)
        for r in evaluated:
            if r.verdict_before != r.verdict_after:
                key = (r.regime, r.verdict_before, r.verdict_after)
                t = transitions.setdefault(key, Transition(regime=r.regime, regime_title=r.regime_title,
                                                           before=r.verdict_before, after=r.verdict_after,
                                                           before_text=r.verdict_before_text,
                                                           after_text=r.verdict_after_text, sites=0))
                t.sites += 1
            for c in r.changes:
                rt = requirements.setdefault((r.regime, c.requirement_id), RequirementTotals(
                    regime=r.regime, requirement_id=c.requirement_id, title=c.title))
                rt.sites_changed += 1
                setattr(rt, c.change, getattr(rt, c.change) + 1)
    notes = []
    if when < scenario.effective:
        notes.append(f"Дата оценки {when:%d.%m.%Y} раньше предполагаемой даты вступления проекта в силу "
                     f"({scenario.effective:%d.%m.%Y}): нормативы проекта на эту дату ещё не действуют.")
    if stopped:
        done = plural(len(sites) + len(errors), "заявка", "заявки", "заявок")
        notes.append(f"Оценка прервана: обработано {done}; итоги — только по ним.")
    return ImpactResult(
        scenario=scenario_info(scenario), as_of=when, generated_at=datetime.now(timezone.utc), totals=totals,
        transitions=sorted(transitions.values(), key=lambda t: (t.regime, -t.sites, t.before, t.after)),
        requirements=sorted(requirements.values(), key=lambda x: (x.regime, _rid_key(x.requirement_id))),
        regions=sorted(regions.values(), key=lambda x: (-x.worse - x.better, x.region)),
        sites=sites, errors=errors, notes=notes, stopped=stopped)


def _rid_key(rid: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in rid.replace(".", "-").split("-"))


def run_impact(items: Iterable[tuple[str, Application | Path]], scenario: Scenario, as_of: date | None = None,
               progress: Callable[[int, int], None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> ImpactResult:
    """Every item compared (`compare_site`); an item may be a path to an application file, read here: a file that does
    not read is listed in `errors`. `progress(done, total)` after each item; `should_stop()` before each: when it
    answers yes, the result covers the items done so far and says it was stopped."""
    items = list(items)
    sites: list[ImpactSite] = []
    errors: list[ImpactError] = []
    stopped = False
    for n, (label, app) in enumerate(items, start=1):
        if should_stop is not None and should_stop():
            stopped = True
            break
        if isinstance(app, Path):
            try:
                app = load_application(app)
            except InputError as exc:
                errors.append(ImpactError(label=label, problem="; ".join(map(str, exc.problems))[:2000]))
                app = None
        if app is not None:
            sites.append(compare_site(label, app, scenario, as_of))
        if progress is not None:
            progress(n, len(items))
    return summarise(sites, scenario, as_of, errors, stopped)


# --- files ---------------------------------------------------------------------------------------------------------
def impact_json(result: ImpactResult) -> bytes:
    return result.model_dump_json(indent=2).encode("utf-8")


def totals_rows(result: ImpactResult) -> list[tuple[str, int]]:
    t = result.totals
    return [("Заявок передано", t.applications), ("Оценено по режимам, которые меняет проект", t.evaluated),
            ("Итог ухудшается", t.worse), ("Итог улучшается", t.better), ("Итог прежний", t.same),
            ("Меняется статус хотя бы одного требования", t.requirements_changed),
            ("Заявки по другим режимам (проект их не касается)", t.not_concerned),
            ("Файлы и заявки с ошибками", t.errors)]


def scenario_rows(result: ImpactResult) -> list[tuple[str, str]]:
    s = result.scenario
    rows = [("Проект", s.title), ("Источник", s.source)]
    if s.description:
        rows.append(("Что меняет", s.description))
    rows += [("Предполагаемая дата вступления в силу", f"{s.effective:%d.%m.%Y}"),
             ("Дата оценки", f"{result.as_of:%d.%m.%Y}")]
    for title, before, after in zip(s.regime_titles, s.catalogs_before, s.catalogs_after):
        rows.append((title, f"было: каталог {before}; стало: каталог {after}"))
    return rows


def _site_regime_rows(result: ImpactResult):
    for site in result.sites:
        for r in site.regimes:
            if not r.error:
                yield site, r


def change_detail(c: RequirementChange) -> str:
    parts = []
    if c.shortfall_before:
        parts.append(f"было: {c.shortfall_before}")
    if c.shortfall_after:
        parts.append(f"стало: {c.shortfall_after}")
    return "; ".join(parts)


def impact_xlsx(result: ImpactResult) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    from .cells import append_row

    fills = {"worse": "FFC7CE", "better": "C6EFCE", "same": "FFFFFF"}
    wb = Workbook()

    def sheet(ws, headers, rows, widths):
        append_row(ws, headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in rows:
            append_row(ws, row)
            for cell in ws[ws.max_row]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        for i, width in enumerate(widths):
            ws.column_dimensions[chr(ord("A") + i)].width = width
        ws.freeze_panes = "A2"
        if ws.max_row > 1:
            ws.auto_filter.ref = ws.dimensions

    ws = wb.active
    ws.title = "Итоги"
    sheet(ws, ["Показатель", "Значение"], [*scenario_rows(result), *totals_rows(result)]
          + [("Примечание", n) for n in result.notes], (52, 90))

    ws = wb.create_sheet("Площадки")
    sheet(ws, ["Заявка", "Площадка", "Регион", "Режим", "Итог сейчас", "Итог по проекту", "Изменение",
               "Требования, статус которых меняется"],
          ([site.label, site.site_name, site.region, r.regime_title, r.verdict_before_text, r.verdict_after_text,
            DIRECTION_RU[r.direction], "\n".join(f"{c.requirement_id}: {c.before_text} → {c.after_text}"
                                                 for c in r.changes)]
           for site, r in _site_regime_rows(result)), (36, 36, 24, 30, 22, 22, 14, 60))
    for row in ws.iter_rows(min_row=2):
        direction = next((k for k, v in DIRECTION_RU.items() if v == row[6].value), "same")
        row[6].fill = PatternFill("solid", fgColor=fills[direction])

    ws = wb.create_sheet("Изменения")
    sheet(ws, ["Заявка", "Площадка", "Регион", "Режим", "Требование", "Название", "Статус сейчас",
               "Статус по проекту", "Что происходит", "Недостаток сейчас", "Недостаток по проекту"],
          ([site.label, site.site_name, site.region, r.regime_title, c.requirement_id, c.title, c.before_text,
            c.after_text, c.change_text, c.shortfall_before, c.shortfall_after]
           for site, r in _site_regime_rows(result) for c in r.changes),
          (30, 30, 22, 26, 14, 30, 20, 20, 26, 40, 40))

    ws = wb.create_sheet("Требования")
    sheet(ws, ["Режим", "Требование", "Название", "Площадок с изменением", "Появляется несоответствие",
               "Несоответствие устраняется", "Иное изменение статуса", "Меняется величина недостатка"],
          ([regime_name(x.regime), x.requirement_id, x.title, x.sites_changed, x.appears, x.vanishes, x.status,
            x.shortfall] for x in result.requirements), (26, 14, 36, 14, 14, 14, 14, 14))

    ws = wb.create_sheet("Переходы итога")
    sheet(ws, ["Режим", "Итог сейчас", "Итог по проекту", "Площадок"],
          ([t.regime_title, t.before_text, t.after_text, t.sites] for t in result.transitions), (30, 26, 26, 12))

    ws = wb.create_sheet("Регионы")
    sheet(ws, ["Регион", "Площадок", "Итог ухудшается", "Итог улучшается", "Итог прежний"],
          ([x.region, x.sites, x.worse, x.better, x.same] for x in result.regions), (36, 12, 14, 14, 14))

    if result.errors:
        ws = wb.create_sheet("Ошибки")
        sheet(ws, ["Заявка", "Ошибка"], ([e.label, e.problem] for e in result.errors), (40, 100))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def impact_docx(result: ImpactResult, organisation=None) -> bytes:
    """The Word brief for a policy letter: the draft, the totals, the verdict transitions, the requirements whose
    status changes, the sites whose verdict changes grouped by region; `organisation` — the issuer
    (compliance.organisation.Issuer) for the letterhead and the signature."""
    from .word import R, TEXT_WIDTH_CM, SMALL_PT, _Doc, _letterhead, _prepared_by

    s = result.scenario
    d = _Doc(f"Оценка последствий проекта изменений: {s.title}", subject=", ".join(s.regime_titles),
             keywords="проект изменений, последствия, площадки", created=result.generated_at)
    _letterhead(d, organisation, TEXT_WIDTH_CM)
    d.title("ОЦЕНКА ПОСЛЕДСТВИЙ ПРОЕКТА ИЗМЕНЕНИЙ", s.title)
    d.kv_table(scenario_rows(result))
    t = result.totals
    d.heading("1. Главное", 1)
    d.para(f"Оценено {plural(t.evaluated, 'заявка', 'заявки', 'заявок')} по режимам, которые меняет проект. Если "
           f"проект примут, итог ухудшится у {plural(t.worse, 'площадки', 'площадок', 'площадок')}, улучшится у "
           f"{plural(t.better, 'площадки', 'площадок', 'площадок')}, останется прежним у "
           f"{plural(t.same, 'площадки', 'площадок', 'площадок')}; статус хотя бы одного требования изменится у "
           f"{plural(t.requirements_changed, 'площадки', 'площадок', 'площадок')}.", align="justify")
    d.table(["Показатель", "Значение"], [12.5, 5.0], ([k, str(v)] for k, v in totals_rows(result)))
    for note in result.notes:
        d.para(note, italic=True)
    d.heading("2. Как меняется итог", 1)
    if result.transitions:
        d.table(["Режим", "Итог сейчас", "Итог по проекту", "Площадок"], [5.0, 4.8, 4.8, 2.9],
                ([x.regime_title, x.before_text, x.after_text, str(x.sites)] for x in result.transitions))
    else:
        d.para("Ни у одной площадки итог не меняется.")
    d.heading("3. Требования, статус которых меняется", 1)
    if result.requirements:
        d.table(["Требование", "Площадок", "Появляется несоответствие", "Несоответствие устраняется",
                 "Иное изменение"], [6.5, 2.2, 3.0, 3.0, 2.8],
                ([[R(x.requirement_id, bold=True), x.title], str(x.sites_changed), str(x.appears), str(x.vanishes),
                  str(x.status + x.shortfall)] for x in result.requirements))
    else:
        d.para("Статус ни одного требования не меняется.")
    d.heading("4. Площадки по регионам", 1)
    changed = [(site, r) for site, r in _site_regime_rows(result) if r.changes or r.direction != "same"]
    unchanged = sum(1 for _ in _site_regime_rows(result)) - len(changed)
    if not changed:
        d.para("Ни у одной площадки ничего не меняется.")
    elif unchanged:
        d.para(f"Ниже — площадки, у которых меняется итог или статус требований; у остальных ("
               f"{plural(unchanged, 'площадка', 'площадки', 'площадок')}) по проекту ничего не меняется.")
    by_region: dict[str, list] = {}
    for site, r in changed:
        by_region.setdefault(site.region, []).append((site, r))
    for region in sorted(by_region):
        d.heading(region, 2)
        d.table(["Площадка", "Итог сейчас → по проекту", "Что меняется"], [5.5, 4.5, 7.5],
                ([[R(site.site_name, bold=True)] + ([R(r.regime_title, size=SMALL_PT)] if len(s.regimes) > 1 else []),
                  f"{r.verdict_before_text} → {r.verdict_after_text}",
                  [f"{c.requirement_id} «{c.title}»: {c.before_text} → {c.after_text}"
                   + (f" ({change_detail(c)})" if change_detail(c) else "") for c in r.changes] or "—"]
                 for site, r in by_region[region]))
    if result.errors:
        d.heading("5. Не оценены", 1)
        d.para(f"{plural(len(result.errors), 'заявка не оценена', 'заявки не оценены', 'заявок не оценено')} из-за "
               "ошибок во входных данных; они не вошли в итоги.")
    d.para("Проект не вступил в силу; оценка показывает, что изменится, если его примут в виде, описанном выше. "
           "Значения, которых нет в проекте, приняты как допущения и названы в сведениях о проекте.",
           size=SMALL_PT, italic=True)
    _prepared_by(d, organisation)
    return d.save()
