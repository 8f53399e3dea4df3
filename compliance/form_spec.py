"""The application form's specification: every field of `Application` (walked recursively) as a tree of `Spec` nodes
with its Russian label, help, unit choices and option names, so a new model field shows up in the web editor
(api/web/forms.py) and in the words of the expert review document (case_text.py) by itself — and
`tests/test_web_editor.py` fails until it has a Russian label. Nothing here knows about HTML or requests."""
from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from . import excel
from . import units as u
from .formatting import FIELD_LABELS, UTILITY_KIND_RU
from .labels import BUILDING_PURPOSES, CATEGORIES, HIGH_TECH_FIELDS, REGIMES, SERVICE_OBJECT_KINDS
from .models import NOT_STATED_MARK, UTILITY_DIMENSIONS, Application, Quantity


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # a blank field: left out of the JSON, the model's default applies

# --- Russian texts --------------------------------------------------------------------------------------------------
# Labels by "Model.field" (looked up along the model's bases), then by field name, then FIELD_LABELS (capitalised).
LABELS = {
    "schema_version": "Версия формата заявки",
    "Application.regimes": "Режимы проверки",
    "Application.category": "Категория площадки",
    "Application.subtype": "Подтип парка (технопарка)",
    "Application.site_type": "Тип площадки",
    "Application.region_code": "Код субъекта РФ",
    "Application.address": "Адрес",
    "Application.filing_date": "Дата подачи заявки",
    "name": "Наименование",
    "ManagementCompany.name": "Полное наименование организации",
    "ManagementCompany.registration_date": "Дата государственной регистрации",
    "ManagementCompany.in_liquidation": "Находится в процессе ликвидации",
    "ManagementCompany.in_reorganisation": "Находится в процессе реорганизации",
    "ManagementCompany.in_bankruptcy": "В отношении организации ведётся дело о банкротстве",
    "ManagementCompany.has_overdue_tax_debt": "Есть просроченная задолженность по налогам и сборам",
    "ManagementCompany.website": "Сайт в интернете",
    "ManagementCompany.has_website": "Есть сайт",
    "ManagementCompany.ownership": "Форма собственности",
    "ManagementCompany.services": "Услуги резидентам",
    "SpecializedOrganization.services": "Услуги участникам кластера",
    "LandPlot.area": "Площадь участка",
    "LandPlot.permitted_use": "Вид разрешённого использования",
    "LandPlot.right": "Право УК на участок",
    "LandPlot.right_holder_inn": "ИНН правообладателя",
    "LandPlot.right_since": "Право возникло (дата регистрации, начала аренды)",
    "Building.name": "Наименование здания",
    "Building.useful_area_breakdown": "Полезная площадь по назначению",
    "Building.purpose": "Назначение здания",
    "Building.right": "Право УК на здание",
    "Building.right_since": "Право возникло (дата регистрации, начала аренды)",
    "Building.commissioned": "Введено в эксплуатацию",
    "UsefulAreaBreakdown.resident_production": "Производственные помещения для резидентов",
    "UsefulAreaBreakdown.resident_laboratory": "Лабораторные помещения для резидентов",
    "UsefulAreaBreakdown.resident_rnd": "Помещения для НИОКР резидентов",
    "UsefulAreaBreakdown.resident_offices": "Офисные помещения для резидентов",
    "UsefulAreaBreakdown.offices": "Офисные помещения УК и иные (не для резидентов)",
    "UsefulAreaBreakdown.shared_use": "Помещения общего пользования и технологической инфраструктуры",
    "UsefulAreaBreakdown.technical": "Технические помещения",
    "TechObject.type": "Вид объекта (код из перечня)",
    "TechObject.name": "Наименование объекта",
    "TechObject.area": "Площадь объекта",
    "TechObject.equipment": "Оборудование",
    "TechObject.available_to_residents": "Доступен резидентам",
    "TechObject.building_cadastral_number": "Кадастровый номер здания",
    "Partnership.organisation": "Организация-партнёр",
    "Partnership.kind": "Вид организации",
    "Partnership.agreement_number": "Номер соглашения",
    "Partnership.agreement_date": "Дата соглашения",
    "Partnership.agreement_end": "Дата окончания соглашения",
    "Partnership.co_located": "Размещена на территории технопарка",
    "Zoning.production_zone_area": "Площадь производственной зоны",
    "Zoning.source_document": "Документ о зонировании",
    "Utility.kind": "Вид ресурса",
    "Utility.capacity": "Мощность (объём)",
    "Utility.provider": "Ресурсоснабжающая организация",
    "Utility.document": "Документ (ТУ, договор, акт)",
    "Utility.document_date": "Дата документа (ТУ, договора, акта)",
    "Utility.valid_until": "Действует до",
    "RoadAccess.hard_surface": "Дорога с твёрдым покрытием",
    "RoadAccess.road_name": "Название дороги",
    "RoadAccess.distance_to_public_road_km": "Расстояние до дороги общего пользования, км",
    "RoadAccess.document": "Документ о подъездной дороге",
    "RoadAccess.rail_siding": "Есть железнодорожный подъездной путь",
    "ServiceObject.kind": "Вид объекта",
    "ServiceObject.area": "Площадь объекта",
    "Resident.name": "Наименование организации",
    "Resident.okved": "Основной код ОКВЭД 2",
    "Resident.activity": "Вид деятельности",
    "Resident.land_area": "Площадь земли",
    "Resident.premises_area": "Площадь помещений",
    "Resident.contract_number": "Номер договора",
    "Resident.contract_date": "Дата договора",
    "Resident.contract_end": "Дата окончания договора",
    "Resident.producing": "Ведёт промышленное производство",
    "Resident.planned": "Планируемый резидент (соглашение о намерениях)",
    "Resident.waste_processing": "Обработка отходов или выпуск продукции из вторичного сырья",
    "Resident.high_tech_fields": "Высокотехнологичные направления",
    "Document.kind": "Вид документа",
    "Document.title": "Название документа",
    "Document.number": "Номер документа",
    "Document.valid_until": "Действует до",
    "Document.issuer": "Кем выдан (утверждён)",
    "Document.refers_to": "К чему относится",
    "Participant.name": "Наименование участника",
    "Participant.kind": "Вид участника",
    "Participant.products": "Продукция кластера",
    "Participant.made_cluster_products_last_period": "Выпускал продукцию кластера в предыдущем отчётном периоде",
    "Participant.organising_production": "Организует производство продукции кластера",
    "Participant.special_territory": "Особая территория",
    "ClusterContract.number": "Номер договора",
    "ClusterContract.type": "Вид договора",
    "ClusterContract.amount_rub": "Сумма договора, руб.",
    "ClusterContract.date": "Дата договора",
    "ClusterContract.valid_until": "Действует до",
    "ClusterContract.subject": "Предмет договора",
    "Purchases.year": "Год",
    "Purchases.inputs_from_participants_rub": "Закупки у участников кластера, руб.",
    "SpecializedOrganization.functions": "Функции специализированной организации",
    "SpecializedOrganization.functions_documented_in": "Где закреплены функции",
    "DevelopmentProgramme.approved": "Программа утверждена",
    "DevelopmentProgramme.approved_date": "Дата утверждения",
    "DevelopmentProgramme.goals": "Цели",
    "DevelopmentProgramme.joint_projects": "Совместные проекты",
    "DevelopmentProgramme.import_substituting_products": "Импортозамещающая продукция",
    "DevelopmentProgramme.indicators": "Целевые показатели",
    "Cluster.participants": "Участники кластера",
    "Cluster.contracts": "Договоры между участниками",
    "Cluster.purchases": "Закупки участников — производителей конечной продукции",
    "Cluster.programme": "Программа развития кластера",
    "ConformityDecision.regime": "Постановление",
    "ConformityDecision.date": "Дата решения (приказа)",
    "ConformityDecision.number": "Номер решения (приказа)",
    "ConformityDecision.in_register": "Внесена в реестр",
    "ConformityDecision.register_date": "Дата внесения в реестр",
    "Quantity.value": "Значение",
    "Quantity.unit": "Единица измерения",
}

# Help texts that replace the model's description where it explains JSON codes (nothing English is shown).
HELP = {
    "Application.category": "Создаваемый — парк (технопарк) ещё строится; действующий — уже работает.",
    "Application.regimes": "По каким постановлениям проверять заявку; можно выбрать несколько.",
    "Application.filing_date": "ДД.ММ.ГГГГ. Документы не могут быть датированы позже этой даты.",
    "ManagementCompany.registration_country": "Россия — организация зарегистрирована в Российской Федерации.",
    "LandPlot.adjacency": "Основной участок; смежный с основным; отделён от основного только дорогой или сетями; "
                          "расположен отдельно.",
    "Participant.kind": "Промышленность — субъект деятельности в сфере промышленности; образование — образовательная "
                        "организация (СПО, ВО); наука — научная организация.",
    "Participant.products": "Выпускает конечную или промежуточную продукцию кластера.",
    "SpecializedOrganization.functions_documented_in": "Устав организации или соглашение с участниками кластера.",
    "SpecializedOrganization.services": "Услуги, которые организация оказывает участникам кластера.",
    "TechObject.type": "Код вида объекта из перечня, например shared_equipment_centre; начните вводить — появятся "
                       "подсказки с названиями.",
    "Utility.status": "Технические условия, договор на подключение или подключено; «нет и не планируется» — ресурса "
                      "нет (требование к нему не выполнено); «не указано» — то же, что не указывать ресурс (требование "
                      "получит «недостаточно данных»). При «нет» и «не указано» мощность не указывается.",
    "ManagementCompany.website": "Начинается с http:// или https://. Если сайта нет, выберите «нет» в поле «Есть сайт».",
    "inn": "10 цифр (организация) или 12 цифр (индивидуальный предприниматель).",
    "ogrn": "13 цифр (организация) или 15 цифр (ИП).",
    "cadastral_number": "Вида 50:12:0100101:123.",
    "building_cadastral_number": "Вида 50:12:0100101:123.",
    "website": "Начинается с http:// или https://.",
}

OPTIONS: dict[str, dict[str, str]] = {
    "Application.regimes": REGIMES,
    "ConformityDecision.regime": REGIMES,
    "Application.category": CATEGORIES,
    "Application.subtype": {"general": "общий (без специализации)", "agro": "агропромышленный парк",
                            "eco": "экопромышленный парк", "agrobiotech": "агробиотехнопарк"},
    "Application.site_type": {"greenfield": "гринфилд — новая площадка без капитальных строений",
                              "brownfield": "браунфилд — на базе существующих зданий и сооружений"},
    "ManagementCompany.legal_form": excel.LEGAL_FORM.labels,
    "ManagementCompany.registration_country": excel.COUNTRY.labels,
    "ManagementCompany.ownership": excel.OWNERSHIP.labels,
    "ManagementCompany.services": excel.SERVICES.labels,
    "SpecializedOrganization.functions": excel.SO_FUNCTIONS.labels,
    "SpecializedOrganization.functions_documented_in": excel.FUNCTIONS_DOCUMENTED_IN.labels,
    "LandPlot.land_category": {
        "industry": "земли промышленности, энергетики, транспорта, связи и иного специального назначения",
        "settlements": "земли населённых пунктов", "agricultural": "земли сельскохозяйственного назначения",
        "protected": "земли особо охраняемых территорий и объектов", "forest": "земли лесного фонда",
        "water": "земли водного фонда", "reserve": "земли запаса"},
    "right": {"ownership": "собственность", "lease": "аренда", "permanent_use": "постоянное (бессрочное) пользование",
              "free_use": "безвозмездное пользование", "other": "иное право", "none": "прав нет"},
    "LandPlot.adjacency": {"main": "основной участок", "adjacent": "смежный с основным",
                           "linear_infrastructure": "отделён от основного только дорогой или сетями",
                           "separate": "расположен отдельно"},
    "Building.purpose": BUILDING_PURPOSES,
    "Partnership.kind": {"university": "вуз", "research": "научная организация",
                         "development_institution": "институт развития", "other": "иная организация"},
    "Utility.kind": UTILITY_KIND_RU,
    "Utility.status": {"technical_conditions": "получены технические условия",
                       "connection_contract": "заключён договор на подключение", "connected": "подключено",
                       "absent": "нет и не планируется", "not_stated": "не указано"},
    "ServiceObject.kind": SERVICE_OBJECT_KINDS,
    "Resident.high_tech_fields": HIGH_TECH_FIELDS,
    "Document.kind": excel.DOCUMENT_KIND.labels,
    "Participant.kind": excel.PARTICIPANT_KIND.labels,
    "Participant.products": excel.PRODUCTS.labels,
    "Participant.special_territory": excel.SPECIAL_TERRITORY.labels,
    "ClusterContract.type": excel.CONTRACT_TYPE.labels,
}

# A list's row: its legend (nominative) and the text of its «Добавить» button (accusative).
ROWS = {
    "land_plots": ("Земельный участок", "Добавить земельный участок"),
    "buildings": ("Здание", "Добавить здание"),
    "utilities": ("Инженерная сеть", "Добавить инженерную сеть"),
    "service_objects": ("Объект сервисной инфраструктуры", "Добавить объект сервисной инфраструктуры"),
    "residents": ("Резидент", "Добавить резидента"),
    "infrastructure_users": ("Пользователь инфраструктуры", "Добавить пользователя инфраструктуры"),
    "tech_infrastructure": ("Объект технологической инфраструктуры", "Добавить объект технологической инфраструктуры"),
    "partnerships": ("Партнёрская организация", "Добавить партнёрскую организацию"),
    "specialized_organizations": ("Специализированная организация", "Добавить специализированную организацию"),
    "participants": ("Участник кластера", "Добавить участника кластера"),
    "contracts": ("Договор", "Добавить договор"),
    "purchases": ("Закупки участника", "Добавить закупки участника"),
    "documents": ("Документ", "Добавить документ"),
    "conformity_decisions": ("Решение о соответствии", "Добавить решение о соответствии"),
}

# Quantities without a dimension of their own: the units offered (the dimension depends on another field).
FREE_UNITS = {"Utility.capacity": tuple(UTILITY_DIMENSIONS.values())}
# Text fields with suggestions (a <datalist>), by "Model.field": the catalogs' list role.
SUGGESTIONS = {"TechObject.type": "tech_object_types"}

BOOL_LABELS = {"": "не указано", "true": "да", "false": "нет"}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lookup(table: dict[str, Any], owner: type[BaseModel], name: str) -> Any:
    for cls in owner.__mro__:
        if isinstance(cls, type) and issubclass(cls, BaseModel) and f"{cls.__name__}.{name}" in table:
            return table[f"{cls.__name__}.{name}"]
    return table.get(name)


def field_title(owner: type[BaseModel], name: str) -> str:
    text = _lookup(LABELS, owner, name) or FIELD_LABELS.get(name)
    return _cap(text) if text else name


# --- the spec: the model walked once --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    name: str  # field name ("" for the application)
    kind: str  # text number integer date bool choice fixed checks lines quantity group list
    label: str
    help: str = ""
    required: bool = False
    default: Any = MISSING  # JSON form of the model's default; MISSING when the field is required
    options: tuple[tuple[str, str], ...] = ()  # choice, checks, bool; quantity: its units
    children: tuple["Spec", ...] = ()  # group: its fields; list: (the row,)
    input_type: str = "text"
    marker: bool = False  # group with no required field: a hidden mark keeps a stored empty object
    free_unit: bool = False  # quantity whose dimension depends on another field: no unit preselected
    datalist: str = ""
    row: str = ""  # list: a row's legend
    add: str = ""  # list: the add button's text

    @property
    def statable(self) -> bool:
        """A list whose absence (null) is «не указано» and whose emptiness ([]) is «нет»."""
        return self.kind in ("list", "checks", "lines") and not self.required and self.default is None

    def child(self, name: str) -> "Spec | None":
        return next((c for c in self.children if c.name == name), None)


def unwrap(tp: Any, refuse_unions: bool = False) -> Any:
    """The type inside Annotated[...] and Optional[...] (whether a field may be left blank is its default's business).
    A union of several types is returned as it is, or, with `refuse_unions` (the form has no input for it), refused
    with TypeError."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                if refuse_unions:
                    raise TypeError(f"the form has no input for a union {tp!r}")
                return tp
            tp = args[0]
        else:
            return tp


def _units(dims) -> tuple[tuple[str, str], ...]:
    codes: list[str] = []
    for dim in dims:
        codes += [dim.canonical] + [c for c in dim.factors if c in u.UNIT_LABELS_RU]
    return tuple((c, u.unit_label(c)) for c in dict.fromkeys(codes))


HELP["Utility.capacity"] = "Единица зависит от вида ресурса: " + "; ".join(
    f"{UTILITY_KIND_RU.get(kind, kind)} — " + " или ".join(label for _, label in _units((dim,)))
    for kind, dim in UTILITY_DIMENSIONS.items()) + "."


def _options(owner: type[BaseModel], name: str, codes) -> tuple[tuple[str, str], ...]:
    labels = _lookup(OPTIONS, owner, name) or {}
    return tuple((str(c), labels.get(c, str(c))) for c in codes)


def _model_spec(model: type[BaseModel], name: str, label: str, **kw: Any) -> Spec:
    children = tuple(_field_spec(model, n, info) for n, info in model.model_fields.items())
    return Spec(name, "group", label, children=children, marker=not any(c.required for c in children), **kw)


def _field_spec(owner: type[BaseModel], name: str, info) -> Spec:
    tp = unwrap(info.annotation, refuse_unions=True)
    required = info.is_required()
    default = MISSING if required else to_jsonable_python(info.get_default(call_default_factory=True))
    label = field_title(owner, name)
    help_text = (_lookup(HELP, owner, name) or info.description or "").split(NOT_STATED_MARK)[0]  # the choice says it
    if help_text.rstrip(".").casefold() == label.casefold():
        help_text = ""
    common = dict(label=label, help=_cap(help_text) if help_text else "", required=required, default=default)
    origin = get_origin(tp)
    if origin is Literal:
        codes = get_args(tp)
        if len(codes) == 1 and not required:
            return Spec(name, "fixed", options=_options(owner, name, codes), **common)
        return Spec(name, "choice", options=_options(owner, name, codes), **common)
    if origin is list:
        item = unwrap(get_args(tp)[0], refuse_unions=True)
        if get_origin(item) is Literal:
            return Spec(name, "checks", options=_options(owner, name, get_args(item)), **common)
        if item is str:
            return Spec(name, "lines", **common)
        if isinstance(item, type) and issubclass(item, BaseModel):
            legend, add = ROWS.get(name, (_cap(label), f"Добавить: {label.lower()}"))
            row = _model_spec(item, "", legend)
            return Spec(name, "list", children=(row,), row=legend, add=add, **common)
        raise TypeError(f"{owner.__name__}.{name}: the form has no input for a list of {item!r}")
    if isinstance(tp, type) and issubclass(tp, Quantity):
        dims = (tp.dimension,) if tp.dimension else FREE_UNITS.get(f"{owner.__name__}.{name}", _ALL_DIMENSIONS)
        return Spec(name, "quantity", options=_units(dims), free_unit=tp.dimension is None, **common)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _model_spec(tp, name, label, help=common["help"], required=required, default=default)
    if tp is bool:
        choices = ("", "true", "false") if default is MISSING or default is None else ("true", "false")
        return Spec(name, "bool", options=tuple((c, BOOL_LABELS[c]) for c in choices), **common)
    if tp is int:
        return Spec(name, "integer", **common)
    if tp is float:
        return Spec(name, "number", **common)
    if tp is date:
        return Spec(name, "date", input_type="date", **common)
    if tp is str:
        return Spec(name, "text", input_type="url" if name == "website" else "text",
                    datalist=SUGGESTIONS.get(f"{owner.__name__}.{name}", ""), **common)
    raise TypeError(f"{owner.__name__}.{name}: the form has no input for {tp!r}")


_ALL_DIMENSIONS = tuple(v for v in vars(u).values() if isinstance(v, u.Dimension))


@lru_cache(maxsize=1)
def spec() -> Spec:
    return _model_spec(Application, "", "Заявка")


@lru_cache(maxsize=None)
def datalist(role: str) -> tuple[tuple[str, str], ...]:
    """Suggestions for a text field: the codes and names of a catalog list (e.g. the kinds of tech objects)."""
    from .catalog import available_regimes, load_catalog

    items: dict[str, str] = {}
    for regime in available_regimes():
        lst = load_catalog(regime).lists.get(role)
        for item in lst.items if lst else ():
            items.setdefault(item.code, item.name)
    return tuple(items.items())


def leaves(node: Spec | None = None, path: str = "") -> list[tuple[str, Spec]]:
    """Every input of the form as (dotted path with `*` for a row, spec) — for the tests of labels."""
    node = node or spec()
    out = []
    for c in node.children:
        p = f"{path}.{c.name}" if path and c.name else (c.name or path)
        if c.kind == "group":
            out += leaves(c, p)
        elif c.kind == "list":
            out += leaves(c.children[0], f"{p}.*")
        else:
            out.append((p, c))
    return out
