"""Derived facts: sums, shares and counts computed in Python from the validated application.

Facts are regime-agnostic: a rule in rules/*.yaml names the facts it reads. A fact whose inputs are missing has
value None and lists the missing input fields; it is then not asserted, and the rule reports insufficient_data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from .formatting import num
from .labels import BUILDING_PURPOSES, HIGH_TECH_FIELDS, SERVICE_OBJECT_KINDS, SERVICES, SO_FUNCTIONS, names
from .models import Application, document_usable
from .units import unit_label

Value = bool | int | float | str | None


@dataclass
class Fact:
    name: str
    label: str  # Russian
    unit: str | None
    value: Value
    sources: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FactSpec:
    name: str
    label: str
    unit: str | None
    kind: str  # number | bool | str
    compute: Callable[..., tuple[Value, list[str], list[str], list[str]]]
    needs_list: str | None = None  # role of a catalog list (decrees/lists/) the fact is computed against
    calculation: str | None = None  # a calculation shown in the report's calculations section, with this title


REGISTRY: dict[str, FactSpec] = {}


def fact(name: str, label: str, unit: str | None = None, kind: str = "number", needs_list: str | None = None,
         calculation: str | None = None):
    def register(fn):
        REGISTRY[name] = FactSpec(name, label, unit, kind, fn, needs_list, calculation)
        return fn
    return register


def _result(value: Value, sources: list[str], missing: list[str] | None = None, details: list[str] | None = None):
    missing = missing or []
    return (None if missing else value), sources, missing, details or []


def _plot_label(app: Application, i: int) -> str:
    return app.land_plots[i].cadastral_number or f"участок № {i + 1} (без кадастрового номера)"


# --- territory ---------------------------------------------------------------------------------------------
@fact("total_area_ha", "Суммарная площадь земельных участков", "ha")
def _total_area(app, as_of):
    if not app.land_plots:
        return _result(None, [], ["land_plots"])
    total = sum(p.area.canonical() for p in app.land_plots)
    details = [f"{_plot_label(app, i)}: {num(p.area.canonical())} га" for i, p in enumerate(app.land_plots)]
    return _result(round(total, 6), [f"land_plots[{i}].area" for i in range(len(app.land_plots))], details=details)


@fact("plots_count", "Число земельных участков", "pcs")
def _plots_count(app, as_of):
    return _result(len(app.land_plots), ["land_plots"])


@fact("production_zone_share_pct", "Доля производственной зоны в площади территории", "%", calculation="Доля производственной зоны")
def _production_share(app, as_of):
    missing = [] if app.zoning else ["zoning.production_zone_area"]
    if not app.land_plots:
        missing.append("land_plots")
    if missing:
        return _result(None, [], missing)
    total = sum(p.area.canonical() for p in app.land_plots)
    zone = app.zoning.production_zone_area.canonical()
    share = 100.0 * zone / total if total else 0.0
    return _result(round(share, 4), ["zoning.production_zone_area", "land_plots[*].area"],
                   details=[f"производственная зона {num(zone)} га из {num(total)} га"])


@fact("plots_without_cadastral_count", "Участков без кадастрового номера", "pcs")
def _no_cadastral(app, as_of):
    bad = [i for i, p in enumerate(app.land_plots) if not p.cadastral_number]
    if not app.land_plots:
        return _result(None, [], ["land_plots"])
    return _result(len(bad), [f"land_plots[{i}].cadastral_number" for i in range(len(app.land_plots))],
                   details=[f"участок № {i + 1}: нет кадастрового номера" for i in bad])


def _rights(items, prefix: str, label, as_of: date):
    missing = [f"{prefix}[{i}].right" for i, x in enumerate(items) if x.right is None]
    bad = []
    for i, x in enumerate(items):
        if x.right == "none":
            bad.append(f"{label(i)}: права нет")
        elif x.right == "lease" and getattr(x, "lease_end", None) and x.lease_end < as_of:
            bad.append(f"{label(i)}: аренда истекла {x.lease_end:%d.%m.%Y}")
    return _result(len(bad), [f"{prefix}[{i}].right" for i in range(len(items))], missing, bad)


@fact("plots_without_right_count", "Участков, на которые у УК нет действующего права", "pcs")
def _plots_no_right(app, as_of):
    if not app.land_plots:
        return _result(None, [], ["land_plots"])
    return _rights(app.land_plots, "land_plots", lambda i: _plot_label(app, i), as_of)


@fact("buildings_without_right_count", "Зданий (объектов инфраструктуры), на которые у УК нет права", "pcs")
def _buildings_no_right(app, as_of):
    return _rights(app.buildings, "buildings",
                   lambda i: app.buildings[i].cadastral_number or app.buildings[i].name or f"здание № {i + 1}", as_of)


@fact("max_plot_gap_km", "Наибольшее удаление участка от основного участка", "km")
def _max_gap(app, as_of):
    if not app.land_plots:
        return _result(None, [], ["land_plots"])
    if len(app.land_plots) == 1:
        return _result(0.0, ["land_plots"])
    missing, gaps = [], []
    for i, p in enumerate(app.land_plots):
        if p.adjacency is None:
            missing.append(f"land_plots[{i}].adjacency")
        elif p.adjacency == "separate":
            if p.distance_to_main_km is None:
                missing.append(f"land_plots[{i}].distance_to_main_km")
            else:
                gaps.append((p.distance_to_main_km, f"{_plot_label(app, i)}: {num(p.distance_to_main_km)} км"))
    value = max([g for g, _ in gaps], default=0.0)
    return _result(value, [f"land_plots[{i}].adjacency" for i in range(len(app.land_plots))], missing,
                   [d for _, d in gaps])


SUITABLE_LAND_CATEGORIES = {"industry", "settlements"}


@fact("plots_unsuitable_land_count", "Участков с неподходящей категорией земель или ВРИ", "pcs")
def _unsuitable(app, as_of):
    """Production is allowed on industry or settlement land with a production permitted use (ВРИ 6.x; 1.15 —
    storage and processing of agricultural products)."""
    if not app.land_plots:
        return _result(None, [], ["land_plots"])
    missing, bad = [], []
    for i, p in enumerate(app.land_plots):
        if p.land_category is None:
            missing.append(f"land_plots[{i}].land_category")
        if p.permitted_use_code is None:
            missing.append(f"land_plots[{i}].permitted_use_code")
        if p.land_category is None or p.permitted_use_code is None:
            continue
        reasons = []
        if p.land_category not in SUITABLE_LAND_CATEGORIES:
            reasons.append(f"категория земель «{p.land_category}»")
        code = p.permitted_use_code
        if not (code == "6" or code.startswith("6.") or code.startswith("1.15")):
            reasons.append(f"ВРИ {code}")
        if reasons:
            bad.append(f"{_plot_label(app, i)}: " + ", ".join(reasons))
    return _result(len(bad), [f"land_plots[{i}].land_category" for i in range(len(app.land_plots))], missing, bad)


TITLE_DOCUMENTS = ("egrn_extract", "lease_contract")


@fact("objects_without_title_document_count", "Участков и зданий без правоустанавливающего документа в заявке", "pcs")
def _no_title_doc(app, as_of):
    """Each plot and building needs its own ЕГРН extract or lease contract (document refers_to = cadastral number)."""
    docs = [d for d in app.documents if d.kind in TITLE_DOCUMENTS and d.refers_to and document_usable(d, as_of)]
    bad = []
    objects = [(_plot_label(app, i), p.cadastral_number) for i, p in enumerate(app.land_plots)] + \
              [(b.cadastral_number or b.name or f"здание № {i + 1}", b.cadastral_number) for i, b in enumerate(app.buildings)]
    for label, cadastral in objects:
        if not cadastral:
            bad.append(f"{label}: нет кадастрового номера — выписку ЕГРН получить нельзя")
        elif not any(cadastral in d.refers_to for d in docs):
            bad.append(f"{cadastral}: нет выписки ЕГРН или договора аренды с этим номером в поле «к чему относится»")
    return _result(len(bad), ["land_plots[*].cadastral_number", "buildings[*].cadastral_number",
                              "documents[*].refers_to"], details=bad)


UTILITY_ALIASES = {"electricity": ("electricity", "электр"), "gas": ("gas", "газ"), "heat": ("heat", "тепл"),
                   "water": ("water", "водоснаб"), "sewage": ("sewage", "водоотвед", "канализ")}
UTILITY_KIND_RU = {"electricity": "электроснабжение", "gas": "газоснабжение", "heat": "теплоснабжение",
                   "water": "водоснабжение", "sewage": "водоотведение", "storm_sewage": "ливневая канализация",
                   "communications": "связь"}


def _utilities_without(app, as_of, doc_kinds: tuple[str, ...], what: str):
    docs = [d for d in app.documents if d.kind in doc_kinds and d.refers_to and document_usable(d, as_of)]
    kinds = list(dict.fromkeys(u.kind for u in app.utilities if u.kind in UTILITY_ALIASES))
    bad = [f"{UTILITY_KIND_RU[k]}: нет документа ({what})" for k in kinds
           if not any(alias in d.refers_to.lower() for d in docs for alias in UTILITY_ALIASES[k])]
    return _result(len(bad), ["utilities[*].kind", "documents[*].refers_to"], details=bad)


@fact("utilities_without_document_count", "Инженерных ресурсов без ТУ, договора или акта о подключении в заявке", "pcs")
def _utility_docs(app, as_of):
    return _utilities_without(app, as_of, ("utility_technical_conditions", "utility_connection_contract",
                                           "utility_connection_act"), "ТУ, договор или акт о подключении")


@fact("utilities_without_connection_act_count", "Инженерных ресурсов без акта о подключении в заявке", "pcs")
def _utility_acts(app, as_of):
    return _utilities_without(app, as_of, ("utility_connection_act",), "акт о подключении")


# --- utilities ---------------------------------------------------------------------------------------------
_SECURED = {"technical_conditions", "connection_contract", "connected"}
_STATUS_RU = {"technical_conditions": "ТУ", "connection_contract": "договор на подключение", "connected": "подключено"}


def _capacity(app: Application, kind: str, statuses: set[str], as_of: date):
    used, missing, details, total = [], [], [], 0.0
    for i, ut in enumerate(app.utilities):
        if ut.kind != kind or ut.status not in statuses:
            continue
        if ut.valid_until and ut.valid_until < as_of and ut.status != "connected":
            details.append(f"{ut.document or UTILITY_KIND_RU[kind]}: срок действия истёк {ut.valid_until:%d.%m.%Y} — не учтено")
            continue
        if ut.capacity is None:
            missing.append(f"utilities[{i}].capacity")
            continue
        total += ut.capacity_canonical()
        used.append(f"utilities[{i}].capacity")
        details.append(f"{ut.document or ut.provider or UTILITY_KIND_RU[kind]} ({_STATUS_RU[ut.status]}): {num(ut.capacity.value)} {unit_label(ut.capacity.unit)}")
    return total, used, missing, details


def _power(app, as_of, statuses):
    total, used, missing, details = _capacity(app, "electricity", statuses, as_of)
    return _result(round(total, 6), used or ["utilities"], missing, details)


@fact("power_mw_secured", "Электрическая мощность по ТУ, договорам и подключениям", "MW")
def _power_secured(app, as_of):
    return _power(app, as_of, _SECURED)


@fact("power_mw_connected", "Подключённая электрическая мощность", "MW")
def _power_connected(app, as_of):
    return _power(app, as_of, {"connected"})


def _per_ha(app, as_of, statuses):
    total, used, missing, details = _capacity(app, "electricity", statuses, as_of)
    if not app.land_plots:
        missing.append("land_plots")
    if missing:
        return _result(None, [], missing)
    area = sum(p.area.canonical() for p in app.land_plots)
    value = total / area if area else 0.0
    details.append(f"{num(total)} МВт / {num(area)} га = {num(value)} МВт/га")
    return _result(round(value, 6), used + ["land_plots[*].area"], [], details)


@fact("power_mw_per_ha_secured", "Электрическая мощность на 1 га (ТУ, договоры, подключения)", "MW/ha", calculation="Электрическая мощность на 1 га (ТУ, договоры, подключения)")
def _per_ha_secured(app, as_of):
    return _per_ha(app, as_of, _SECURED)


@fact("power_mw_per_ha_connected", "Подключённая электрическая мощность на 1 га", "MW/ha", calculation="Подключённая электрическая мощность на 1 га")
def _per_ha_connected(app, as_of):
    return _per_ha(app, as_of, {"connected"})


def _presence(app, as_of, kinds_groups: list[set[str]], statuses: set[str]):
    """True when each group has at least one utility of its kinds in one of the statuses (and not expired)."""
    details, ok = [], True
    for group in kinds_groups:
        found = [ut for ut in app.utilities if ut.kind in group and ut.status in statuses
                 and not (ut.valid_until and ut.valid_until < as_of and ut.status != "connected")]
        for ut in found:
            cap = f", {num(ut.capacity.value)} {unit_label(ut.capacity.unit)}" if ut.capacity else ""
            details.append(f"{UTILITY_KIND_RU.get(ut.kind, ut.kind)}: {_STATUS_RU[ut.status]}{cap}")
        ok = ok and bool(found)
    return _result(ok, ["utilities[*].kind", "utilities[*].status"], details=details)


@fact("gas_or_heat_secured", "Газо- или теплоснабжение обеспечено (ТУ, договор или подключение)", None, "bool")
def _gh_secured(app, as_of):
    return _presence(app, as_of, [{"gas", "heat"}], _SECURED)


@fact("gas_or_heat_connected", "Газо- или теплоснабжение подключено", None, "bool")
def _gh_connected(app, as_of):
    return _presence(app, as_of, [{"gas", "heat"}], {"connected"})


@fact("water_and_sewage_secured", "Водоснабжение и водоотведение обеспечены (ТУ, договор или подключение)", None, "bool")
def _ws_secured(app, as_of):
    return _presence(app, as_of, [{"water"}, {"sewage"}], _SECURED)


@fact("water_and_sewage_connected", "Водоснабжение и водоотведение подключены", None, "bool")
def _ws_connected(app, as_of):
    return _presence(app, as_of, [{"water"}, {"sewage"}], {"connected"})


@fact("hard_surface_road", "Подъезд по дороге с твёрдым покрытием к сети дорог общего пользования", None, "bool")
def _road(app, as_of):
    if app.road_access is None:
        return _result(None, [], ["road_access"])
    ra = app.road_access
    details = [x for x in (ra.road_name, ra.document) if x]
    return _result(ra.hard_surface, ["road_access.hard_surface"], details=details)


@fact("admin_service_objects_count", "Объектов для размещения УК и оказания услуг резидентам", "pcs")
def _admin(app, as_of):
    objs = [o for o in app.service_objects if o.kind in ("administrative", "business_center")]
    listed = {o.cadastral_number for o in objs if o.cadastral_number}
    objs_b = [b for b in app.buildings if b.purpose == "administrative"
              and not (b.cadastral_number and b.cadastral_number in listed)]  # one building, counted once
    details = [o.name or SERVICE_OBJECT_KINDS[o.kind] for o in objs] + \
        [b.name or b.cadastral_number or "административное здание" for b in objs_b]
    return _result(len(objs) + len(objs_b), ["service_objects[*].kind", "buildings[*].purpose"], details=details)


# --- residents ---------------------------------------------------------------------------------------------
@fact("residents_count", "Число резидентов (по договорам с УК)", "pcs")
def _residents(app, as_of):
    current = [r for r in app.residents if not r.planned]
    return _result(len(current), ["residents"], details=[r.name for r in current])


@fact("producing_residents_count", "Резидентов, ведущих промышленное производство на территории", "pcs")
def _producing(app, as_of):
    current = [r for r in app.residents if not r.planned]
    missing = [f"residents[{i}].producing" for i, r in enumerate(app.residents) if not r.planned and r.producing is None]
    good = [r.name for r in current if r.producing]
    return _result(len(good), ["residents[*].producing"], missing, good)


@fact("infrastructure_users_count", "Число пользователей инфраструктуры", "pcs")
def _users(app, as_of):
    return _result(len(app.infrastructure_users), ["infrastructure_users"])


WASTE_OKVED_PREFIXES = ("38.2", "38.3", "39")


@fact("eco_activity_count", "Резидентов (в т. ч. планируемых) с деятельностью по обращению с отходами или вторичным сырьём", "pcs")
def _eco(app, as_of):
    good = [r for r in app.residents
            if r.waste_processing or (r.okved and r.okved.startswith(WASTE_OKVED_PREFIXES))]
    return _result(len(good), ["residents[*].waste_processing", "residents[*].okved"],
                   details=[f"{r.name} ({r.okved or 'ОКВЭД не указан'}{', планируется' if r.planned else ''})" for r in good])


# --- the applicant organisation: management company (УК) or the cluster's specialized organization (СО) -------
def _register_organisation_facts(prefix: str, who: str, path: str, get) -> None:
    """Registers {prefix}_registered_in_rf, _legal_form, _not_in_liquidation, _no_tax_debt, _website_present for the
    organisation that ``get(app)`` returns (None when the application has none: the facts then lack data)."""

    def absent(app):
        return get(app) is None

    def registered(app, as_of):
        org = get(app)
        if org is None or (org.registration_country is None and org.ogrn is None):
            return _result(None, [], [path] if org is None else [f"{path}.registration_country", f"{path}.ogrn"])
        is_rf = org.registration_country == "RU" or (org.registration_country is None and org.ogrn is not None)
        is_entity = org.legal_form != "ИП" and len(org.inn) == 10
        details = [f"ИНН {org.inn}"] + ([f"ОГРН {org.ogrn}"] if org.ogrn else [])
        return _result(is_rf and is_entity, [f"{path}.registration_country", f"{path}.ogrn", f"{path}.inn"],
                       details=details)

    def legal_form(app, as_of):
        form = None if absent(app) else get(app).legal_form
        return _result(form, [f"{path}.legal_form"], [] if form else [f"{path}.legal_form"])

    def status_of(fields: dict[str, str]):
        def status(app, as_of):
            if absent(app):
                return _result(None, [], [path])
            org = get(app)
            missing = [f"{path}.{f}" for f in fields if getattr(org, f) is None]
            bad = [ru for f, ru in fields.items() if getattr(org, f)]
            return _result(not bad, [f"{path}.{f}" for f in fields], missing, bad)
        return status

    def tax(app, as_of):
        debt = None if absent(app) else get(app).has_overdue_tax_debt
        return _result(None if debt is None else not debt, [f"{path}.has_overdue_tax_debt"],
                       [f"{path}.has_overdue_tax_debt"] if debt is None else [])

    def website(app, as_of):
        if absent(app):
            return _result(None, [], [path])
        site = get(app).website
        return _result(site is not None, [f"{path}.website"], details=[site] if site else [])

    fact(f"{prefix}_registered_in_rf", f"{who} — юридическое лицо, зарегистрированное в Российской Федерации", None, "bool")(registered)
    fact(f"{prefix}_legal_form", f"Организационно-правовая форма: {who}", None, "str")(legal_form)
    liquidation, bankruptcy = {"in_liquidation": "ликвидация"}, {"in_bankruptcy": "банкротство"}
    fact(f"{prefix}_not_in_liquidation", f"{who} не находится в ликвидации, реорганизации или банкротстве", None, "bool")(
        status_of({**liquidation, "in_reorganisation": "реорганизация", **bankruptcy}))
    fact(f"{prefix}_not_in_liquidation_or_bankruptcy", f"{who} не находится в ликвидации или банкротстве", None, "bool")(
        status_of({**liquidation, **bankruptcy}))
    fact(f"{prefix}_no_tax_debt", f"{who}: нет просроченной задолженности по налогам и сборам", None, "bool")(tax)
    fact(f"{prefix}_website_present", f"{who}: есть сайт с информацией о площадке (кластере)", None, "bool")(website)


def first_specialized_organization(app):
    return app.cluster.specialized_organizations[0] if app.cluster and app.cluster.specialized_organizations else None


_register_organisation_facts("uk", "УК", "management_company", lambda app: app.management_company)
_register_organisation_facts("so", "Специализированная организация", "cluster.specialized_organizations[0]", first_specialized_organization)


@fact("uk_is_resident", "УК сама является резидентом парка", None, "bool")
def _uk_resident(app, as_of):
    if app.management_company is None:
        return _result(None, [], ["management_company"])
    inn = app.management_company.inn
    same = [r.name for r in app.residents if r.inn == inn and not r.planned]
    return _result(bool(same), ["management_company.inn", "residents[*].inn"], details=same)


# --- technoparks: buildings, useful area, occupancy, technological infrastructure ---------------------------
@fact("buildings_total_area_m2", "Общая площадь зданий", "m2")
def _buildings_area(app, as_of):
    if not app.buildings:
        return _result(None, [], ["buildings"])
    total = sum(b.total_area.canonical() for b in app.buildings)
    return _result(round(total, 3), [f"buildings[{i}].total_area" for i in range(len(app.buildings))],
                   details=[f"{b.name or b.cadastral_number or f'здание № {i + 1}'}: {num(b.total_area.canonical())} м²"
                            for i, b in enumerate(app.buildings)])


def _useful_parts(app):
    missing, useful, resident = [], 0.0, 0.0
    for i, b in enumerate(app.buildings):
        if b.useful_area is None:
            missing.append(f"buildings[{i}].useful_area")
        if b.useful_area_breakdown is None:
            missing.append(f"buildings[{i}].useful_area_breakdown")
        if b.useful_area is None or b.useful_area_breakdown is None:
            continue
        useful += b.useful_area.canonical()
        resident += b.useful_area_breakdown.resident_area_m2()
    if not app.buildings:
        missing.append("buildings")
    return useful, resident, missing


@fact("useful_area_m2", "Полезная площадь зданий", "m2")
def _useful(app, as_of):
    useful, _, missing = _useful_parts(app)
    return _result(round(useful, 3), ["buildings[*].useful_area"], missing)


@fact("resident_area_m2", "Полезная площадь для производства, лабораторий и НИОКР резидентов", "m2")
def _resident_area(app, as_of):
    _, resident, missing = _useful_parts(app)
    return _result(round(resident, 3), ["buildings[*].useful_area_breakdown"], missing)


@fact("resident_useful_share_pct", "Доля полезной площади для производства, лабораторий и НИОКР резидентов", "%", calculation="Доля полезной площади для резидентов")
def _resident_share(app, as_of):
    useful, resident, missing = _useful_parts(app)
    if missing:
        return _result(None, [], missing)
    share = 100.0 * resident / useful if useful else 0.0
    return _result(round(share, 4), ["buildings[*].useful_area", "buildings[*].useful_area_breakdown"],
                   details=[f"{num(resident)} м² из {num(useful)} м² полезной площади"])


@fact("resident_share_with_offices_pct", "Доля полезной площади для резидентов: производство, лаборатории, НИОКР и "
      "офисы резидентов", "%", calculation="Доля полезной площади для резидентов с их офисами")
def _resident_share_with_offices(app, as_of):
    useful, resident, missing = _useful_parts(app)
    if missing:
        return _result(None, [], missing)
    offices = sum(b.useful_area_breakdown.resident_offices_m2() for b in app.buildings)
    share = 100.0 * (resident + offices) / useful if useful else 0.0
    return _result(round(share, 4), ["buildings[*].useful_area", "buildings[*].useful_area_breakdown"],
                   details=[f"производство, лаборатории и НИОКР резидентов {num(resident)} м² + офисы резидентов "
                            f"{num(offices)} м² = {num(resident + offices)} м² из {num(useful)} м² полезной площади"])


@fact("occupancy_pct", "Заполняемость: доля площади для резидентов, сданной резидентам", "%", calculation="Заполняемость технопарка")
def _occupancy(app, as_of):
    _, resident, missing = _useful_parts(app)
    given = [b.leased_to_residents for b in app.buildings if b.leased_to_residents is not None]
    if given:
        leased = sum(x.canonical() for x in given)
        sources = ["buildings[*].leased_to_residents"]
    else:
        current = [r for r in app.residents if not r.planned and r.premises_area is not None]
        if not current:
            missing.append("buildings[*].leased_to_residents")
        leased = sum(r.premises_area.canonical() for r in current)
        sources = ["residents[*].premises_area"]
    if missing:
        return _result(None, [], missing)
    if not resident:
        return _result(None, [], ["buildings[*].useful_area_breakdown"])
    share = 100.0 * leased / resident
    return _result(round(share, 4), sources + ["buildings[*].useful_area_breakdown"],
                   details=[f"сдано {num(leased)} м² из {num(resident)} м² площади для резидентов"])


_CORE_UTILITIES = [{"electricity"}, {"heat"}, {"water"}, {"sewage"}]


@fact("core_utilities_secured", "Электро-, тепло-, водоснабжение и водоотведение обеспечены (ТУ, договор или подключение)", None, "bool")
def _core_secured(app, as_of):
    return _presence(app, as_of, _CORE_UTILITIES, _SECURED)


@fact("core_utilities_connected", "Электро-, тепло-, водоснабжение и водоотведение подключены", None, "bool")
def _core_connected(app, as_of):
    return _presence(app, as_of, _CORE_UTILITIES, {"connected"})


@fact("broadband_available", "Есть широкополосная связь (каналы связи)", None, "bool")
def _broadband(app, as_of):
    return _presence(app, as_of, [{"communications"}], _SECURED)


_OFFICE_KINDS = ("administrative", "business_center", "conference_hall", "meeting_room", "coworking")


@fact("office_premises_count", "Офисных и деловых объектов (переговорные, конференц-залы) для УК и резидентов", "pcs")
def _offices(app, as_of):
    objs = [o for o in app.service_objects if o.kind in _OFFICE_KINDS]
    listed = {o.cadastral_number for o in objs if o.cadastral_number}
    bld = [b for b in app.buildings if b.purpose in ("office", "administrative")
           and not (b.cadastral_number and b.cadastral_number in listed)]
    return _result(len(objs) + len(bld), ["service_objects[*].kind", "buildings[*].purpose"],
                   details=[o.name or SERVICE_OBJECT_KINDS[o.kind] for o in objs]
                   + [b.name or b.cadastral_number or f"{BUILDING_PURPOSES[b.purpose]} здание" for b in bld])


@fact("tech_object_listed_types_count", "Видов объектов технологической инфраструктуры из перечня", "pcs",
      needs_list="tech_object_types")
def _tech_types(app, as_of, listed: dict[str, str]):
    found, details = set(), []
    for i, t in enumerate(app.tech_infrastructure):
        if t.type not in listed:
            details.append(f"{t.name}: вид «{t.type}» не входит в перечень — не учтён")
        elif t.available_to_residents is False:
            details.append(f"{t.name}: недоступен резидентам — не учтён")
        else:
            found.add(t.type)
            details.append(f"{t.name}: {listed[t.type]}")
    return _result(len(found), ["tech_infrastructure[*].type"], details=details)


def _has_tech(code: str):
    def compute(app, as_of):
        hit = [t.name for t in app.tech_infrastructure if t.type == code and t.available_to_residents is not False]
        return _result(bool(hit), ["tech_infrastructure[*].type"], details=hit)
    return compute


fact("has_shared_equipment_centre", "Есть центр коллективного пользования оборудованием (ЦКП)", None, "bool")(
    _has_tech("shared_equipment_centre"))
fact("has_business_incubator", "Есть бизнес-инкубатор", None, "bool")(_has_tech("business_incubator"))


@fact("high_tech_residents_count", "Резидентов с высокотехнологичными направлениями деятельности", "pcs")
def _high_tech(app, as_of):
    good = [r for r in app.residents if not r.planned and r.high_tech_fields]
    return _result(len(good), ["residents[*].high_tech_fields"],
                   details=[f"{r.name}: {', '.join(names(HIGH_TECH_FIELDS, r.high_tech_fields))}" for r in good])


@fact("research_partnerships_count", "Соглашений с вузами и научными организациями", "pcs")
def _partners(app, as_of):
    good = [p for p in app.partnerships if p.kind in ("university", "research")]
    return _result(len(good), ["partnerships"], details=[p.organisation for p in good])


@fact("uk_services_count", "Видов услуг УК резидентам", "pcs")
def _services(app, as_of):
    if app.management_company is None:
        return _result(None, [], ["management_company"])
    services = app.management_company.services
    return _result(len(set(services)), ["management_company.services"], details=names(SERVICES, sorted(set(services))))


# --- industrial clusters ---------------------------------------------------------------------------------------
def _participants(app):
    return app.cluster.participants if app.cluster else []


def _cluster_missing(app):
    return [] if app.cluster else ["cluster"]


def _count_participants(predicate, label_of=lambda p: f"{p.name} (ИНН {p.inn})"):
    def compute(app, as_of):
        if _cluster_missing(app):
            return _result(None, [], _cluster_missing(app))
        hit = [p for p in _participants(app) if predicate(p)]
        return _result(len(hit), ["cluster.participants"], details=[label_of(p) for p in hit])
    return compute


fact("participants_count", "Число участников кластера", "pcs")(_count_participants(lambda p: True))
fact("industrial_participants_count", "Участников — субъектов деятельности в сфере промышленности", "pcs")(
    _count_participants(lambda p: p.kind == "industrial"))
fact("education_science_participants_count", "Участников — образовательных и научных организаций", "pcs")(
    _count_participants(lambda p: p.kind in ("education", "science")))


def _without_output(app, as_of, only_not_organising: bool):
    if _cluster_missing(app):
        return _result(None, [], _cluster_missing(app))
    missing = [f"cluster.participants[{i}].made_cluster_products_last_period"
               for i, p in enumerate(_participants(app)) if p.made_cluster_products_last_period is None]
    hit = [p for p in _participants(app) if p.made_cluster_products_last_period is False
           and (not only_not_organising or not p.organising_production)]
    details = [f"{p.name} (ИНН {p.inn})" + ("" if p.organising_production else ": не организует производство")
               for p in hit]
    return _result(len(hit), ["cluster.participants[*].made_cluster_products_last_period"], missing, details)


@fact("participants_without_output_count", "Участников, не выпускавших продукцию кластера в прошлом периоде", "pcs")
def _no_output(app, as_of):
    return _without_output(app, as_of, False)


@fact("participants_without_output_not_organising_count",
      "Участников без выпуска продукции кластера, которые и не организуют её производство", "pcs")
def _no_output_idle(app, as_of):
    return _without_output(app, as_of, True)


@fact("special_territory_share_pct", "Доля участников в моногородах, регионах с индивидуальной программой развития "
      "и геостратегических территориях", "%", calculation="Доля участников на особых территориях")
def _special_share(app, as_of):
    parts = _participants(app)
    if not parts:
        return _result(None, [], _cluster_missing(app) or ["cluster.participants"])
    names = {"monotown": "моногород", "individual_programme_region": "регион с индивидуальной программой развития",
             "geostrategic": "геостратегическая территория"}
    hit = [p for p in parts if p.special_territory]
    share = 100.0 * len(hit) / len(parts)
    details = [f"{p.name} (ИНН {p.inn}): {names[p.special_territory]}" for p in hit]
    details.append(f"{len(hit)} из {len(parts)} участников = {num(share, 2)} %")
    return _result(round(share, 4), ["cluster.participants[*].special_territory"], details=details)


def reporting_year(app, as_of: date) -> int:
    return app.cluster.reporting_year if app.cluster and app.cluster.reporting_year else as_of.year - 1


@fact("fd_pct", "Функциональная зависимость (ФЗ) участников кластера", "%",
      calculation="Расчёт функциональной зависимости (ФЗ)")
def _fd(app, as_of):
    """FD = Σ inputs that final-product makers bought from other participants ÷ Σ all their inputs, reporting year."""
    if _cluster_missing(app):
        return _result(None, [], _cluster_missing(app))
    year = reporting_year(app, as_of)
    makers = [p for p in _participants(app) if p.products == "final"]
    missing = [f"cluster.participants[{i}].products" for i, p in enumerate(_participants(app)) if p.products is None]
    if not makers:
        return _result(None, [], missing or ["cluster.participants[*].products (нет производителей конечной продукции)"])
    by_inn = {(x.participant_inn, x.year): x for x in app.cluster.purchases}
    details = [f"Отчётный год: {year}; производителей конечной продукции: {len(makers)}",
               "ФЗ = Σ закупок производителей конечной продукции у других участников ÷ Σ всех их закупок × 100 %"]
    numerator = denominator = 0.0
    for p in makers:
        row = by_inn.get((p.inn, year))
        if row is None:
            missing.append(f"cluster.purchases (ИНН {p.inn}, {year} г.)")
            continue
        numerator += row.inputs_from_participants_rub
        denominator += row.total_inputs_rub
        own = f" ({num(100.0 * row.inputs_from_participants_rub / row.total_inputs_rub, 2)} %)" if row.total_inputs_rub else ""
        details.append(f"{p.name} (ИНН {p.inn}): все закупки {num(row.total_inputs_rub)} ₽, у участников "
                       f"{num(row.inputs_from_participants_rub)} ₽{own}")
    if missing:
        return _result(None, [], missing, details)
    if denominator == 0:
        return _result(None, [], ["cluster.purchases[*].total_inputs_rub (сумма закупок равна нулю — ФЗ не определена)"],
                       details)
    fd = 100.0 * numerator / denominator
    details += [f"Числитель: {num(numerator)} ₽", f"Знаменатель: {num(denominator)} ₽",
                f"ФЗ = {num(numerator)} / {num(denominator)} × 100 % = {num(fd, 2)} %"]
    return _result(round(fd, 4), ["cluster.purchases", "cluster.participants[*].products"], details=details)


@fact("so_count", "Число специализированных организаций кластера", "pcs")
def _so_count(app, as_of):
    if _cluster_missing(app):
        return _result(None, [], _cluster_missing(app))
    orgs = app.cluster.specialized_organizations
    return _result(len(orgs), ["cluster.specialized_organizations"], details=[f"{o.name} (ИНН {o.inn})" for o in orgs])


@fact("so_functions_count", "Функций специализированной организации из перечня", "pcs")
def _so_functions(app, as_of):
    so = first_specialized_organization(app)
    if so is None:
        return _result(None, [], ["cluster.specialized_organizations"])
    return _result(len(set(so.functions)), ["cluster.specialized_organizations[0].functions"],
                   details=names(SO_FUNCTIONS, sorted(set(so.functions))))


@fact("so_functions_documented", "Функции специализированной организации закреплены в уставе или соглашении", None, "bool")
def _so_functions_doc(app, as_of):
    so = first_specialized_organization(app)
    if so is None:
        return _result(None, [], ["cluster.specialized_organizations"])
    where = {"charter": "устав", "agreement": "соглашение с участниками"}
    return _result(so.functions_documented_in is not None, ["cluster.specialized_organizations[0].functions_documented_in"],
                   details=[where[so.functions_documented_in]] if so.functions_documented_in else [])


@fact("cluster_programme_approved", "Программа развития кластера утверждена", None, "bool")
def _programme(app, as_of):
    if _cluster_missing(app):
        return _result(None, [], _cluster_missing(app))
    prog = app.cluster.programme
    if prog is None:
        return _result(False, ["cluster.programme"], details=["программа не указана"])
    ok = prog.approved and (prog.approved_date is None or prog.approved_date <= as_of)
    details = [f"утверждена {prog.approved_date:%d.%m.%Y}" if prog.approved_date else "дата утверждения не указана",
               f"совместных проектов: {len(prog.joint_projects)}", f"показателей: {len(prog.indicators)}"]
    return _result(ok, ["cluster.programme"], details=details)


@fact("cluster_regions", "Субъекты РФ, в которых находятся участники", None, "str")
def _regions(app, as_of):
    parts = _participants(app)
    if not parts:
        return _result(None, [], _cluster_missing(app) or ["cluster.participants"])
    regions = sorted({p.region for p in parts})
    return _result(", ".join(regions), ["cluster.participants[*].region"], details=regions)


@fact("cluster_regions_count", "Число субъектов РФ, в которых находятся участники", "pcs")
def _regions_count(app, as_of):
    parts = _participants(app)
    if not parts:
        return _result(None, [], _cluster_missing(app) or ["cluster.participants"])
    return _result(len({p.region for p in parts}), ["cluster.participants[*].region"])


# --- collections: items that per-item rules (``each``) join in the engine ------------------------------------------
def collections(app: Application, as_of: date) -> dict[str, list[dict[str, Any]]]:
    """Item sets for per-item rules: every item has a ``key`` (what related facts point at) and a ``label``."""
    out: dict[str, list[dict[str, Any]]] = {"participant": [], "contract": []}
    if app.cluster:
        for p in app.cluster.participants:
            out["participant"].append({"key": p.inn, "label": f"{p.name} (ИНН {p.inn})", "kind": p.kind,
                                       "products": p.products or "unknown"})
        for i, c in enumerate(app.cluster.contracts):
            active = not (c.date and c.date > as_of) and not (c.valid_until and c.valid_until < as_of)
            out["contract"].append({"key": c.number or f"договор № {i + 1}", "label": c.number or f"договор № {i + 1}",
                                    "party_a": c.party_a_inn, "party_b": c.party_b_inn, "type": c.type, "active": active})
    return out


COLLECTION_SOURCES = {"participant": "cluster.participants", "contract": "cluster.contracts"}


# ------------------------------------------------------------------------------------------------------------
def derive(app: Application, as_of: date, lists: dict[str, dict[str, str]] | None = None) -> dict[str, Fact]:
    """Every registered fact for the application, as of the given date. ``lists`` maps a list role to
    {code: name} of the regime's catalog lists; a fact whose list the regime lacks has no value."""
    out: dict[str, Fact] = {}
    lists = lists or {}
    for spec in REGISTRY.values():
        if spec.needs_list:
            if spec.needs_list not in lists:
                out[spec.name] = Fact(spec.name, spec.label, spec.unit, None, [], [f"перечень «{spec.needs_list}» в каталоге"])
                continue
            value, sources, missing, details = spec.compute(app, as_of, lists[spec.needs_list])
        else:
            value, sources, missing, details = spec.compute(app, as_of)
        out[spec.name] = Fact(spec.name, spec.label, spec.unit, value, sources, missing, details)
    return out


def context(app: Application, as_of: date, special_flags: dict[str, bool], subtype: str | None = None) -> dict[str, Any]:
    """Attributes rules may use in `applies`: category, subtype, special-regime flags, presence of residents."""
    ctx: dict[str, Any] = {
        "category": app.category,
        "subtype": subtype or app.subtype,
        "has_residents": any(not r.planned for r in app.residents),
        "has_partnerships": any(p.kind in ("university", "research") for p in app.partnerships),
    }
    ctx.update(special_flags)
    return ctx
