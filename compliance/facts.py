"""Derived facts: sums, shares and counts computed in Python from the validated application.

Facts are regime-agnostic: a rule in rules/*.yaml names the facts it reads. A fact whose inputs are missing has
value None and lists the missing input fields; it is then not asserted, and the rule reports insufficient_data.
«Not stated» is never read as «none»: a list left out of the application (None), a utility kind without a row and
an unanswered yes/no field give no value; only an explicit statement of absence (an empty list, a utility with
status ``absent``, ``false``) gives a value that can fail. A failing fact names the failing part in ``gaps``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from .dating import DatedApplication, counts_on, on_date, utility_reason
from .formatting import UTILITY_KIND_RU, num
from .labels import BUILDING_PURPOSES, HIGH_TECH_FIELDS, SERVICE_OBJECT_KINDS, SERVICES, SO_FUNCTIONS, names
from .models import UNSTATED_STATUSES, Application, document_usable
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
    gaps: list[str] = field(default_factory=list)  # Russian: which part makes the value fail (e.g. «водоотведение не обеспечено»)
    # a count over items of which some are not stated: ``value`` counts the known ones (a lower bound), ``upper``
    # assumes every unknown item counts, ``unknown`` names their fields; a check is decided only when both agree
    upper: Value = None
    unknown: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FactSpec:
    name: str
    label: str
    unit: str | None
    kind: str  # number | bool | str
    compute: Callable[..., dict[str, Any]]  # the fields of a Fact after its name, label and unit (see _result)
    needs_list: str | None = None  # role of a catalog list (decrees/lists/) the fact is computed against
    calculation: str | None = None  # a calculation shown in the report's calculations section, with this title


REGISTRY: dict[str, FactSpec] = {}


def fact(name: str, label: str, unit: str | None = None, kind: str = "number", needs_list: str | None = None,
         calculation: str | None = None):
    def register(fn):
        REGISTRY[name] = FactSpec(name, label, unit, kind, fn, needs_list, calculation)
        return fn
    return register


def _result(value: Value, sources: list[str], missing: list[str] | None = None, details: list[str] | None = None,
            gaps: list[str] | None = None, unknown: list[str] | None = None) -> dict[str, Any]:
    """A computed fact: no value when inputs are missing. ``unknown`` (a count only): items not stated, each of which
    may count; the value is then a lower bound and ``upper`` the count if all of them did."""
    missing = missing or []
    if missing:
        return dict(value=None, sources=sources, missing=missing, details=details or [])
    unknown = unknown or []
    return dict(value=value, sources=sources, details=details or [], gaps=gaps or [], unknown=unknown,
                upper=value + len(unknown) if unknown else None)


def _unstated(items, path: str) -> list[str]:
    """[path] when a list the fact reads is not stated (None: «не указано»); [] when it is (even when empty)."""
    return [path] if items is None else []


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
    total, missing = _total_land_ha(app)
    if not app.zoning:
        missing.insert(0, "zoning.production_zone_area")
    if missing:
        return _result(None, [], missing)
    zone = app.zoning.production_zone_area.canonical()
    share = 100.0 * zone / total
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
    bad = [f"{label(i)}: права нет" for i, x in enumerate(items) if x.right == "none"]  # on as_of (dating.py)
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


def _of_kinds(path: str, kinds) -> str:
    """A utilities field read for some kinds only, named with them (dating.py matches the kind of what was not
    counted on the as-of date): 'utilities[*].status (газоснабжение, теплоснабжение)'."""
    return f"{path} ({', '.join(ru for k, ru in UTILITY_KIND_RU.items() if k in kinds)})"


def _utilities_without(app, as_of, doc_kinds: tuple[str, ...], what: str):
    """Resources with TU, a contract or a connection need their document; a resource stated as absent needs none.
    No resource stated at all: nothing to check against (no value)."""
    if not any(u.kind in UTILITY_ALIASES and u.status not in UNSTATED_STATUSES for u in app.utilities):
        return _result(None, [], ["utilities"])
    docs = [d for d in app.documents if d.kind in doc_kinds and d.refers_to and document_usable(d, as_of)]
    kinds = list(dict.fromkeys(u.kind for u in app.utilities if u.kind in UTILITY_ALIASES and u.status in _SECURED
                               and not utility_reason(u, as_of)))  # a row not in force on the date needs no paper
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
_STATUS_RU = {"technical_conditions": "ТУ", "connection_contract": "договор на подключение", "connected": "подключено",
              "absent": "нет и не планируется"}


def _stated(app: Application, kind: str) -> list:
    """The rows that say something about a kind (a row «не указано» says nothing)."""
    return [ut for ut in app.utilities if ut.kind == kind and ut.status not in UNSTATED_STATUSES]


def _capacity(app: Application, kind: str, statuses: set[str], as_of: date):
    """Total capacity of a kind in the statuses; a kind without a stated row is missing (not «0»)."""
    used, missing, details, total = [], [], [], 0.0
    if not _stated(app, kind):
        return total, used, [f"utilities.{kind}"], details
    for i, ut in enumerate(app.utilities):
        if ut.kind != kind:
            continue
        if ut.status == "absent":
            details.append(f"{UTILITY_KIND_RU[kind]}: {_STATUS_RU['absent']}")
            continue
        if ut.status not in statuses or utility_reason(ut, as_of):  # not in force on the date: dating.py says why
            continue
        if ut.capacity is None:
            missing.append(f"utilities[{i}].capacity")
            continue
        total += ut.capacity_canonical()
        used.append(f"utilities[{i}].capacity")
        details.append(f"{ut.document or ut.provider or UTILITY_KIND_RU[kind]} ({_STATUS_RU[ut.status]}): "
                       f"{num(ut.capacity.value)} {unit_label(ut.capacity.unit)}")
    return total, used, missing, details


def _power(app, as_of, statuses):
    total, used, missing, details = _capacity(app, "electricity", statuses, as_of)
    return _result(round(total, 6), used or [_of_kinds("utilities", {"electricity"})], missing, details)


@fact("power_mw_secured", "Электрическая мощность по ТУ, договорам и подключениям", "MW")
def _power_secured(app, as_of):
    return _power(app, as_of, _SECURED)


@fact("power_mw_connected", "Подключённая электрическая мощность", "MW")
def _power_connected(app, as_of):
    return _power(app, as_of, {"connected"})


def _total_land_ha(app) -> tuple[float, list[str]]:
    """The territory's area and what is missing to use it as a denominator (no plots, or a zero sum)."""
    if not app.land_plots:
        return 0.0, ["land_plots"]
    area = sum(p.area.canonical() for p in app.land_plots)
    return area, ([] if area else ["land_plots[*].area (сумма площадей равна нулю)"])


def _per_ha(app, as_of, statuses):
    total, used, missing, details = _capacity(app, "electricity", statuses, as_of)
    area, no_area = _total_land_ha(app)
    missing += no_area
    if missing:
        return _result(None, [], missing)
    value = total / area
    details.append(f"{num(total)} МВт / {num(area)} га = {num(value)} МВт/га")
    return _result(round(value, 6), (used or [_of_kinds("utilities", {"electricity"})]) + ["land_plots[*].area"], [],
                   details)


@fact("power_mw_per_ha_secured", "Электрическая мощность на 1 га (ТУ, договоры, подключения)", "MW/ha", calculation="Электрическая мощность на 1 га (ТУ, договоры, подключения)")
def _per_ha_secured(app, as_of):
    return _per_ha(app, as_of, _SECURED)


@fact("power_mw_per_ha_connected", "Подключённая электрическая мощность на 1 га", "MW/ha", calculation="Подключённая электрическая мощность на 1 га")
def _per_ha_connected(app, as_of):
    return _per_ha(app, as_of, {"connected"})


def _kind_state(app, kind: str, statuses: set[str], as_of: date) -> tuple[bool | None, list[str], str]:
    """(True: a row in one of the statuses and in force; False: stated, and none is; None: not stated),
    the details of the stated rows, and why the kind fails (for the gap)."""
    rows = _stated(app, kind)
    if not rows:
        return None, [f"{UTILITY_KIND_RU[kind]}: не указано"], ""
    details, reasons, dated, ok = [], [], set(), False
    for ut in rows:
        cap = f", {num(ut.capacity.value)} {unit_label(ut.capacity.unit)}" if ut.capacity else ""
        not_in_force = utility_reason(ut, as_of)
        if ut.status in statuses and not not_in_force:
            ok = True
            details.append(f"{UTILITY_KIND_RU[kind]}: {_STATUS_RU[ut.status]}{cap}")
        elif ut.status == "absent":
            reasons.append(_STATUS_RU["absent"])
        elif not_in_force:  # the reason is in the evidence already (dating.py)
            reasons.append(not_in_force)
            dated.add(not_in_force)
        else:
            reasons.append(f"есть только: {_STATUS_RU[ut.status]}")
    reason = "; ".join(dict.fromkeys(reasons))
    undated = [r for r in dict.fromkeys(reasons) if r not in dated]
    if not ok and undated:
        details.append(f"{UTILITY_KIND_RU[kind]}: {'; '.join(undated)}")
    return ok, details, reason


def _presence(app, as_of, kinds_groups: list[set[str]], statuses: set[str]):
    """Each group (e.g. {gas, heat}: one of them suffices) is met when a kind of it is in one of the statuses (and
    in force); it fails only when every kind of the group is stated and none is; otherwise it is unknown. Any
    failing group fails the fact; else any unknown group leaves it without a value, naming the kinds to state."""
    verb = "подключено" if statuses == {"connected"} else "обеспечено"
    details, gaps, missing = [], [], []
    for group in kinds_groups:
        kinds = [k for k in UTILITY_KIND_RU if k in group]  # a stable order
        states = {k: _kind_state(app, k, statuses, as_of) for k in kinds}
        for k in kinds:
            details += states[k][1]
        if any(st[0] for st in states.values()):
            continue
        if all(st[0] is False for st in states.values()):
            names = [UTILITY_KIND_RU[k] for k in kinds]
            head = f"{names[0]} не {verb}" if len(names) == 1 else \
                f"ни {', ни '.join(names)} не {verb}"
            why = "; ".join(f"{UTILITY_KIND_RU[k]} — {states[k][2]}" if len(kinds) > 1 else states[k][2] for k in kinds)
            gaps.append(f"{head}: {why}")
        else:
            missing += [f"utilities.{k}" for k in kinds if states[k][0] is None]
    kinds = set().union(*kinds_groups)
    sources = [_of_kinds("utilities[*].kind", kinds), _of_kinds("utilities[*].status", kinds)]
    if gaps:
        return _result(False, sources, details=details, gaps=gaps)
    return _result(True, sources, missing, details)


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
    return _result(ra.hard_surface, ["road_access.hard_surface"], details=details,
                   gaps=[] if ra.hard_surface else ["подъезд без твёрдого покрытия"])


@fact("admin_service_objects_count", "Объектов для размещения УК и оказания услуг резидентам", "pcs")
def _admin(app, as_of):
    if app.service_objects is None:
        return _result(None, [], ["service_objects"])
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
    if app.residents is None:
        return _result(None, [], ["residents"])
    current = [r for r in app.residents if not r.planned]
    return _result(len(current), ["residents"], details=[r.name for r in current])


@fact("producing_residents_count", "Резидентов, ведущих промышленное производство на территории", "pcs")
def _producing(app, as_of):
    if app.residents is None:
        return _result(None, [], ["residents"])
    current = [r for r in app.residents if not r.planned]
    missing = [f"residents[{i}].producing" for i, r in enumerate(app.residents) if not r.planned and r.producing is None]
    good = [r.name for r in current if r.producing]
    return _result(len(good), ["residents[*].producing"], missing, good)


@fact("infrastructure_users_count", "Число пользователей инфраструктуры", "pcs")
def _users(app, as_of):
    if app.infrastructure_users is None:
        return _result(None, [], ["infrastructure_users"])
    return _result(len(app.infrastructure_users), ["infrastructure_users"])


WASTE_OKVED_PREFIXES = ("38.2", "38.3", "39")


@fact("eco_activity_count", "Резидентов (в т. ч. планируемых) с деятельностью по обращению с отходами или вторичным сырьём", "pcs")
def _eco(app, as_of):
    if app.residents is None:
        return _result(None, [], ["residents"])

    def eco_okved(r):
        return bool(r.okved and r.okved.startswith(WASTE_OKVED_PREFIXES))
    good = [r for r in app.residents if r.waste_processing or eco_okved(r)]
    unknown = [f"residents[{i}].waste_processing" for i, r in enumerate(app.residents)
               if r.waste_processing is None and not eco_okved(r)]
    return _result(len(good), ["residents[*].waste_processing", "residents[*].okved"], unknown=unknown,
                   details=[f"{r.name} ({r.okved or 'ОКВЭД не указан'}{', планируется' if r.planned else ''})" for r in good])


# --- the applicant organisation: management company (УК) or the cluster's specialized organization (СО) -------
def _register_organisation_facts(prefix: str, who: str, path: str, get) -> None:
    """Registers {prefix}_registered_in_rf, _legal_form, _not_in_liquidation, _no_tax_debt, _website_present for the
    organisation that ``get(app)`` returns (None when the application has none: the facts then lack data)."""

    def absent(app):
        return get(app) is None

    def registered(app, as_of):
        org = get(app)
        if org is not None and counts_on(org.registration_date, None, as_of):  # did not exist yet (dating.py)
            return _result(False, [f"{path}.registration_date"])
        if org is None or (org.registration_country is None and org.ogrn is None):
            return _result(None, [], [path] if org is None else [f"{path}.registration_country", f"{path}.ogrn"])
        is_rf = org.registration_country == "RU" or (org.registration_country is None and org.ogrn is not None)
        is_entity = org.legal_form != "ИП" and len(org.inn) == 10
        details = [f"ИНН {org.inn}"] + ([f"ОГРН {org.ogrn}"] if org.ogrn else [])
        gaps = ([] if is_rf else ["зарегистрирована не в Российской Федерации"]) + \
               ([] if is_entity else ["не юридическое лицо (индивидуальный предприниматель)"])
        return _result(is_rf and is_entity, [f"{path}.registration_country", f"{path}.ogrn", f"{path}.inn"],
                       details=details, gaps=gaps)

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
            return _result(not bad, [f"{path}.{f}" for f in fields], missing, bad,
                           gaps=[f"{who}: " + ", ".join(bad)] if bad else [])
        return status

    def tax(app, as_of):
        debt = None if absent(app) else get(app).has_overdue_tax_debt
        return _result(None if debt is None else not debt, [f"{path}.has_overdue_tax_debt"],
                       [f"{path}.has_overdue_tax_debt"] if debt is None else [],
                       gaps=["есть просроченная задолженность по налогам и сборам"] if debt else [])

    def website(app, as_of):
        if absent(app):
            return _result(None, [], [path])
        org = get(app)
        if org.website is not None:
            return _result(True, [f"{path}.website"], details=[org.website])
        if org.has_website is None:
            return _result(None, [], [f"{path}.website"])
        return _result(org.has_website, [f"{path}.has_website"],
                       details=["адрес сайта не указан"] if org.has_website else [],
                       gaps=[] if org.has_website else ["сайта нет"])

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
    if app.residents is None:
        return _result(None, [], ["residents"])
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
    if not useful:
        return _result(None, [], ["buildings[*].useful_area (сумма полезной площади равна нулю)"])
    share = 100.0 * resident / useful
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
    elif app.residents == []:  # explicitly no residents: nothing is leased to residents
        leased, sources = 0.0, ["residents"]
    else:
        current = [r for r in app.residents or [] if not r.planned and r.premises_area is not None]
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
    if app.service_objects is None:
        return _result(None, [], ["service_objects"])
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
    if app.tech_infrastructure is None:
        return _result(None, [], ["tech_infrastructure"])
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


def _has_tech(code: str, gap: str):
    def compute(app, as_of):
        if app.tech_infrastructure is None:
            return _result(None, [], ["tech_infrastructure"])
        hit = [t.name for t in app.tech_infrastructure if t.type == code and t.available_to_residents is not False]
        return _result(bool(hit), ["tech_infrastructure[*].type"], details=hit, gaps=[] if hit else [gap])
    return compute


fact("has_shared_equipment_centre", "Есть центр коллективного пользования оборудованием (ЦКП)", None, "bool")(
    _has_tech("shared_equipment_centre", "ЦКП, доступного резидентам, нет"))
fact("has_business_incubator", "Есть бизнес-инкубатор", None, "bool")(
    _has_tech("business_incubator", "бизнес-инкубатора, доступного резидентам, нет"))


@fact("high_tech_residents_count", "Резидентов с высокотехнологичными направлениями деятельности", "pcs")
def _high_tech(app, as_of):
    if app.residents is None:
        return _result(None, [], ["residents"])
    good = [r for r in app.residents if not r.planned and r.high_tech_fields]
    unknown = [f"residents[{i}].high_tech_fields" for i, r in enumerate(app.residents)
               if not r.planned and r.high_tech_fields is None]
    return _result(len(good), ["residents[*].high_tech_fields"], unknown=unknown,
                   details=[f"{r.name}: {', '.join(names(HIGH_TECH_FIELDS, r.high_tech_fields))}" for r in good])


@fact("research_partnerships_count", "Соглашений с вузами и научными организациями", "pcs")
def _partners(app, as_of):
    if app.partnerships is None:
        return _result(None, [], ["partnerships"])
    good = [p for p in app.partnerships if p.kind in ("university", "research")]
    return _result(len(good), ["partnerships"], details=[p.organisation for p in good])


@fact("uk_services_count", "Видов услуг УК резидентам", "pcs")
def _services(app, as_of):
    if app.management_company is None:
        return _result(None, [], ["management_company"])
    services = app.management_company.services
    if services is None:
        return _result(None, [], ["management_company.services"])
    return _result(len(set(services)), ["management_company.services"], details=names(SERVICES, sorted(set(services))))


# --- industrial clusters ---------------------------------------------------------------------------------------
def _participants(app):
    return (app.cluster.participants or []) if app.cluster else []


def _cluster_missing(app, part: str = "participants"):
    """What is missing to read a cluster list: the cluster itself, or the list not stated."""
    if app.cluster is None:
        return ["cluster"]
    return _unstated(getattr(app.cluster, part), f"cluster.{part}")


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
    if app.cluster.purchases is None:
        return _result(None, [], ["cluster.purchases"])
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
    if _cluster_missing(app, "specialized_organizations"):
        return _result(None, [], _cluster_missing(app, "specialized_organizations"))
    orgs = app.cluster.specialized_organizations
    return _result(len(orgs), ["cluster.specialized_organizations"], details=[f"{o.name} (ИНН {o.inn})" for o in orgs])


@fact("so_functions_count", "Функций специализированной организации из перечня", "pcs")
def _so_functions(app, as_of):
    so = first_specialized_organization(app)
    if so is None:
        return _result(None, [], ["cluster.specialized_organizations"])
    if so.functions is None:
        return _result(None, [], ["cluster.specialized_organizations[0].functions"])
    return _result(len(set(so.functions)), ["cluster.specialized_organizations[0].functions"],
                   details=names(SO_FUNCTIONS, sorted(set(so.functions))))


@fact("so_functions_documented", "Функции специализированной организации закреплены в уставе или соглашении", None, "bool")
def _so_functions_doc(app, as_of):
    so = first_specialized_organization(app)
    if so is None:
        return _result(None, [], ["cluster.specialized_organizations"])
    where = {"charter": "устав", "agreement": "соглашение с участниками"}
    doc = so.functions_documented_in
    path = "cluster.specialized_organizations[0].functions_documented_in"
    if doc is None:
        return _result(None, [], [path])
    return _result(doc != "none", [path], details=[where[doc]] if doc in where else [],
                   gaps=["функции нигде не закреплены"] if doc == "none" else [])


@fact("cluster_programme_approved", "Программа развития кластера утверждена", None, "bool")
def _programme(app, as_of):
    if _cluster_missing(app):
        return _result(None, [], _cluster_missing(app))
    prog = app.cluster.programme
    if prog is None:
        return _result(None, [], ["cluster.programme"])
    ok = prog.approved  # approved after as_of: not approved on that date (dating.py says why)

    def count(items) -> str:
        return "не указано" if items is None else str(len(items))
    details = [f"утверждена {prog.approved_date:%d.%m.%Y}" if ok and prog.approved_date
               else "не утверждена" if not ok else "дата утверждения не указана",
               f"совместных проектов: {count(prog.joint_projects)}", f"показателей: {count(prog.indicators)}"]
    gaps = [] if ok else ["программа не утверждена на дату оценки"]
    return _result(ok, ["cluster.programme"], details=details, gaps=gaps)


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
def collections(app: Application | DatedApplication, as_of: date) -> dict[str, list[dict[str, Any]] | None]:
    """Item sets for per-item rules: every item has a ``key`` (what related facts point at) and a ``label``.
    A set whose list the application does not state is None (not stated), not empty."""
    out: dict[str, list[dict[str, Any]] | None] = {"participant": None, "contract": None}
    view = on_date(app, as_of)
    app = view.app
    if app.cluster and app.cluster.participants is not None:
        out["participant"] = []
        for p in app.cluster.participants:
            out["participant"].append({"key": p.inn, "label": f"{p.name} (ИНН {p.inn})", "kind": p.kind,
                                       "products": p.products or "unknown"})
    if app.cluster and app.cluster.contracts is not None:
        out["contract"] = []
        for i, c in enumerate(app.cluster.contracts):
            active = counts_on(c.date, c.valid_until, as_of) is None  # the dated view keeps only these
            name = c.number or f"договор № {view.original_index('cluster.contracts', i) + 1}"
            out["contract"].append({"key": name, "label": name,
                                    "party_a": c.party_a_inn, "party_b": c.party_b_inn, "type": c.type, "active": active})
    return out


COLLECTION_SOURCES = {"participant": "cluster.participants", "contract": "cluster.contracts"}


# ------------------------------------------------------------------------------------------------------------
def derive(app: Application | DatedApplication, as_of: date,
           lists: dict[str, dict[str, str]] | None = None, known: dict[str, Fact] | None = None) -> dict[str, Fact]:
    """Every registered fact for the application as it stood on the given date (``dating.on_date``): fields are
    named by the input's list numbers, and a fact whose fields touch an element not counted on that date carries
    the reason first in its details. ``lists`` maps a list role to {code: name} of the regime's catalog lists; a
    fact whose list the regime lacks has no value. ``known``: the facts already derived for the same dated view
    with other lists — the facts that read no list are taken from it, not computed again."""
    out: dict[str, Fact] = {}
    lists = lists or {}
    view = on_date(app, as_of)
    app = view.app
    for spec in REGISTRY.values():
        if known is not None and not spec.needs_list and spec.name in known:
            out[spec.name] = known[spec.name]
            continue
        if spec.needs_list:
            if spec.needs_list not in lists:
                out[spec.name] = Fact(spec.name, spec.label, spec.unit, None, [], [f"перечень «{spec.needs_list}» в каталоге"])
                continue
            computed = spec.compute(app, as_of, lists[spec.needs_list])
        else:
            computed = spec.compute(app, as_of)
        if view.exclusions:
            missing = computed.get("missing", [])
            computed["details"] = view.reasons_for(computed["sources"] + missing) + computed["details"]
            computed["sources"] = [view.original_path(p) for p in computed["sources"]]
            if missing:
                computed["missing"] = [view.original_path(p) for p in missing]
        out[spec.name] = Fact(spec.name, spec.label, spec.unit, **computed)
    return out


# The application field each context attribute is read from: an attribute whose field is not stated is None, so
# no variant that depends on it is decided (the requirement lacks data, naming this field) — never «no».
CONTEXT_SOURCES = {"category": "category", "subtype": "subtype", "has_residents": "residents",
                   "has_partnerships": "partnerships"}


def context(app: Application | DatedApplication, as_of: date, special_flags: dict[str, bool],
            subtype: str | None = None) -> dict[str, Any]:
    """Attributes rules may use in `applies`: category, subtype, special-regime flags, presence of residents (and
    partnerships) on the given date. None: not stated (the engine matches a missing attribute with neither a
    condition nor its negation)."""
    app = on_date(app, as_of).app
    ctx: dict[str, Any] = {
        "category": app.category,
        "subtype": subtype or app.subtype,
        "has_residents": None if app.residents is None else any(not r.planned for r in app.residents),
        "has_partnerships": None if app.partnerships is None
        else any(p.kind in ("university", "research") for p in app.partnerships),
    }
    ctx.update(special_flags)
    return ctx
