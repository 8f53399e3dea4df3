"""The application form, generated from the input model: every field of `Application` (walked recursively) becomes an
input with a Russian label, so a new model field shows up in the editor by itself (and `tests/test_web_editor.py`
fails until it has a Russian label).

Three representations of one application:
- the **body** (JSON of the model, as stored);
- the **raw** form state — what the person typed, as strings, in the shape of the model (dict for a model, list of
  dicts for a list of models, list of codes for a checkbox group, {"value", "unit"} for a quantity, text otherwise);
  it survives a failed save or an «Добавить»/«Удалить» press unchanged;
- the **posted form**: flat fields named by their dotted path, e.g. `land_plots.1.area.value`, `regimes` (repeated).

`spec()` walks the model once; `raw_from_body`, `raw_from_form`, `convert` (raw → JSON for `validate`, numbers with a
decimal comma, blank fields and blank rows dropped), `locate` (a validation problem's path → the form field it names)
and `build_view` (raw + messages → nodes the templates render) walk that spec.
"""
from __future__ import annotations

import re
import types
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from compliance import excel
from compliance import units as u
from compliance.formatting import FIELD_LABELS, UTILITY_KIND_RU, plural
from compliance.labels import BUILDING_PURPOSES, HIGH_TECH_FIELDS, SERVICE_OBJECT_KINDS
from compliance.loading import InputError, Problem, validate
from compliance.models import NOT_STATED_MARK, UTILITY_DIMENSIONS, Application, Quantity

from .common import CATEGORY_RU, REGIME_SHORT


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
    "Application.regimes": REGIME_SHORT,
    "ConformityDecision.regime": REGIME_SHORT,
    "Application.category": {"created": "создаваемый", "operating": "действующий"} | CATEGORY_RU,
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

SECTION_TITLES = {
    "management_company": "Управляющая компания", "land_plots": "Земельные участки", "buildings": "Здания",
    "zoning": "Зонирование территории", "utilities": "Инженерная инфраструктура", "road_access": "Подъездная дорога",
    "service_objects": "Объекты сервисной инфраструктуры", "residents": "Резиденты",
    "infrastructure_users": "Пользователи инфраструктуры", "tech_infrastructure": "Технологическая инфраструктура",
    "partnerships": "Партнёрства с вузами и научными организациями", "cluster": "Промышленный кластер",
    "documents": "Документы", "conformity_decisions": "Принятые решения о соответствии",
}
GENERAL_TITLE = "Общие сведения"
# Sections shown open for a regime even when still empty.
SECTION_REGIMES = {"cluster": {"cl779"}}
# Quantities without a dimension of their own: the units offered (the dimension depends on another field).
FREE_UNITS = {"Utility.capacity": tuple(UTILITY_DIMENSIONS.values())}
# Text fields with suggestions (a <datalist>), by "Model.field": the catalogs' list role.
SUGGESTIONS = {"TechObject.type": "tech_object_types"}

BOOL_LABELS = {"": "не указано", "true": "да", "false": "нет"}
# A list where «не указано» and «нет» differ (the model's default is null): with no rows (boxes, lines) typed, a choice
# posted as `<path>._state` tells them apart; «нет» with rows filled in is a mistake shown at the list.
STATE = "._state"
STATE_OPTIONS = (("", "не указано"), ("none", "нет (ни одного)"), ("listed", "указаны ниже"))


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


def _unwrap(tp: Any) -> Any:
    """The type without Annotated and without None (whether a field may be left blank is its default's business)."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                raise TypeError(f"the form has no input for a union {tp!r}")
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
    tp = _unwrap(info.annotation)
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
        item = _unwrap(get_args(tp)[0])
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
    from compliance.catalog import available_regimes, load_catalog

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


# --- numbers, dates --------------------------------------------------------------------------------------------------
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_SPACES = re.compile(r"[\s\u00a0\u2007\u2009\u202f']")
_RU_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_number(text: str, integer: bool = False) -> float | int:
    """'12 500,5' → 12500.5; ValueError when it is not a number (or not a whole one, for `integer`)."""
    t = _SPACES.sub("", text).replace("\u2212", "-").replace(",", ".")
    if not _NUMBER.match(t):
        raise ValueError(text)
    if integer:
        if re.fullmatch(r"[+-]?\d+", t):
            return int(t)
        x = float(t)
        if not x.is_integer():
            raise ValueError(text)
        return int(x)
    x = float(t)
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError(text)
    return x


def show_number(x: Any) -> str:
    """12500.5 → '12 500,5' (exact: parse_number gives the same float back)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return "" if x is None else str(x)
    if isinstance(x, float):
        text = str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)
    else:
        text = str(x)
    if "e" in text or "n" in text:
        return text.replace(".", ",")
    whole, _, frac = text.partition(".")
    sign, whole = ("-", whole[1:]) if whole.startswith("-") else ("", whole)
    if len(whole) > 4:
        whole = f"{int(whole):,}".replace(",", " ")
    return sign + whole + ("," + frac if frac else "")


def date_value(text: str) -> str | None:
    """The value for <input type=date> (ISO), or None when the text is not a valid date (shown as typed)."""
    t = text.strip()
    m = _RU_DATE.match(t)
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
        if _ISO_DATE.match(t):
            return date.fromisoformat(t).isoformat()
    except ValueError:
        return None
    return None


# --- raw form state --------------------------------------------------------------------------------------------------
def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _show(node: Spec, value: Any) -> str:
    if value is None or value is MISSING:
        return ""
    if node.kind == "bool":
        return "true" if value else "false"
    if node.kind in ("number", "integer"):
        return show_number(value)
    return str(value)


def _state_of(value: Any) -> str:
    """The «не указано» / «нет» / rows choice of a stored list."""
    return "" if value is None or value is MISSING else ("listed" if value else "none")


def blank(node: Spec) -> Any:
    """The raw state of an untouched field (the model's default shown)."""
    if node.kind == "group":
        return {c.name: blank(c) for c in node.children} | {c.name + STATE: "" for c in node.children if c.statable}
    if node.kind in ("list", "checks"):
        return list(node.default) if node.kind == "checks" and isinstance(node.default, list) else []
    if node.kind == "lines":
        return "\n".join(node.default) if isinstance(node.default, list) else ""
    if node.kind == "quantity":
        return {"value": "", "unit": "" if node.free_unit or not node.options else node.options[0][0]}
    return _show(node, node.default)


def raw_from_body(node: Spec, value: Any) -> Any:
    """The raw state of a stored body (a JSON value of the model)."""
    if value is None or value is MISSING:
        return blank(node)
    if node.kind == "group":
        raw = {c.name: raw_from_body(c, value.get(c.name)) for c in node.children}
        raw |= {c.name + STATE: _state_of(value.get(c.name)) for c in node.children if c.statable}
        if node.marker:
            raw["_present"] = True
        return raw
    if node.kind == "list":
        return [raw_from_body(node.children[0], v) for v in value]
    if node.kind == "checks":
        return [str(v) for v in value]
    if node.kind == "lines":
        return "\n".join(str(v) for v in value)
    if node.kind == "quantity":
        return {"value": show_number(value.get("value")), "unit": str(value.get("unit") or "")}
    return _show(node, value)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def is_index(text: str) -> bool:
    """A row number or version in a posted name or value: ASCII digits only (str.isdigit also takes «²», which int()
    refuses), at most 7 of them."""
    return text.isascii() and text.isdigit() and len(text) <= 7


def _row_numbers(form) -> dict[str, list[int]]:
    """For each list path of the posted names, its row numbers: `land_plots.3.area.value` → land_plots: [3]."""
    found: dict[str, set[int]] = {}
    for key in form.keys():
        parts = key.split(".")
        for i, part in enumerate(parts[1:], 1):
            if is_index(part):
                found.setdefault(".".join(parts[:i]), set()).add(int(part))
    return {path: sorted(numbers) for path, numbers in found.items()}


def raw_from_form(form) -> dict:
    """The raw state of a posted form (a starlette FormData, or anything with get, getlist and keys)."""
    return _raw_from_form(form, _row_numbers(form), spec(), "")


def _raw_from_form(form, rows: dict[str, list[int]], node: Spec, name: str) -> Any:
    if node.kind == "group":
        raw = {c.name: _raw_from_form(form, rows, c, _join(name, c.name)) for c in node.children}
        raw |= {c.name + STATE: _text(form.get(_join(name, c.name) + STATE)) for c in node.children if c.statable}
        if node.marker and form.get(_join(name, "_present")):
            raw["_present"] = True
        return raw
    if node.kind == "list":
        return [_raw_from_form(form, rows, node.children[0], f"{name}.{i}") for i in rows.get(name, [])]
    if node.kind == "checks":
        chosen = list(dict.fromkeys(v for v in form.getlist(name) if isinstance(v, str)))
        order = _text(form.get(f"{name}._order")).split()
        return [v for v in order if v in chosen] + [v for v in chosen if v not in order]
    if node.kind == "quantity":
        return {"value": _text(form.get(f"{name}.value")), "unit": _text(form.get(f"{name}.unit"))}
    return _text(form.get(name))


def _at(raw: Any, node: Spec, path: str) -> tuple[Any, Spec] | None:
    """The raw value and spec at a dotted form path, e.g. `cluster.participants` or `land_plots.2`."""
    for token in path.split(".") if path else []:
        if node.kind == "group" and isinstance(raw, dict) and node.child(token):
            node, raw = node.child(token), raw.get(token)
        elif node.kind == "list" and is_index(token) and isinstance(raw, list) and int(token) < len(raw):
            node, raw = node.children[0], raw[int(token)]
        else:
            return None
    return raw, node


def apply_action(raw: dict, action: str) -> str | None:
    """«add:<list path>» appends a blank row, «remove:<row path>» deletes one; the path to focus afterwards."""
    verb, _, path = action.partition(":")
    if verb == "add":
        found = _at(raw, spec(), path)
        if found and found[1].kind == "list":
            found[0].append(blank(found[1].children[0]))
            return f"{path}.{len(found[0]) - 1}"
    elif verb == "remove" and "." in path:
        parent, _, index = path.rpartition(".")
        found = _at(raw, spec(), parent)
        if found and found[1].kind == "list" and is_index(index) and int(index) < len(found[0]):
            del found[0][int(index)]
            return parent
    return None


# --- raw → JSON --------------------------------------------------------------------------------------------------
@dataclass
class Conversion:
    problems: list[Problem] = field(default_factory=list)  # paths are form paths
    rows: dict[str, list[int]] = field(default_factory=dict)  # list path → the form row of each JSON row


def convert(raw: dict) -> tuple[dict, Conversion]:
    """The JSON to validate: numbers parsed, blank fields, objects and rows left out, defaults left to the model."""
    out = Conversion()
    data = _convert(spec(), raw, "", out)
    return ({} if data is MISSING else data), out


def _convert(node: Spec, raw: Any, name: str, out: Conversion) -> Any:
    kind = node.kind
    if kind == "group":
        raw = raw if isinstance(raw, dict) else {}
        data = {}
        for c in node.children:
            value = _convert(c, raw.get(c.name), _join(name, c.name), out)
            if c.statable:
                value = _stated(value, raw.get(c.name + STATE), _join(name, c.name), out)
            if value is not MISSING and value != c.default:
                data[c.name] = value
        return data if data or (node.marker and raw.get("_present")) else MISSING
    if kind == "list":
        rows, origin = [], []
        for i, row in enumerate(raw if isinstance(raw, list) else []):
            value = _convert(node.children[0], row, f"{name}.{i}", out)
            if value is not MISSING:
                rows.append(value)
                origin.append(i)
        out.rows[name] = origin
        return rows or MISSING
    if kind == "checks":
        return list(raw) if isinstance(raw, list) and raw else MISSING
    if kind == "lines":
        items = [line.strip() for line in _text(raw).splitlines() if line.strip()]
        return items or MISSING
    if kind == "quantity":
        raw = raw if isinstance(raw, dict) else {}
        value = _convert_number(_text(raw.get("value")), f"{name}.value", False, out)
        if value is MISSING:
            return MISSING
        unit = _text(raw.get("unit")).strip()
        return {"value": value, "unit": unit} if unit else {"value": value}
    text = _text(raw).strip()
    if not text:
        return MISSING
    if kind in ("number", "integer"):
        return _convert_number(text, name, kind == "integer", out)
    if kind == "bool":
        if text in ("true", "false"):
            return text == "true"
        out.problems.append(Problem(name, "выберите «да», «нет» или «не указано»"))
        return MISSING
    return text


def _stated(value: Any, state: Any, name: str, out: Conversion) -> Any:
    """A list with nothing typed: «нет» ([]) or «не указано» (left out); with rows, the rows."""
    if value is MISSING:
        return [] if state == "none" else MISSING
    if state == "none":
        out.problems.append(Problem(name, "выбрано «нет», а ниже есть заполненные строки: удалите их или выберите "
                                          "«указаны ниже»"))
    return value


def _convert_number(text: str, name: str, integer: bool, out: Conversion) -> Any:
    if not text.strip():
        return MISSING
    try:
        return parse_number(text, integer)
    except ValueError:
        what = "ожидается целое число" if integer else "ожидается число"
        out.problems.append(Problem(name, f"«{text.strip()}» — {what}, например {'2025' if integer else '12 500,5'}"))
        return MISSING


# --- a validation problem → the form field it names -------------------------------------------------------------------
_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def locate(path: str, rows: dict[str, list[int]]) -> str:
    """The form path of the deepest form element a model path names: `land_plots[0].area.value` →
    `land_plots.3.area.value` when the first stored row was the form's fourth (blank rows are left out)."""
    path = path.partition(" (")[0]
    node, name = spec(), ""
    for m in _TOKEN.finditer(path):
        index, word = m.group(1), m.group(2)
        if node.kind == "group" and word and node.child(word):
            node, name = node.child(word), _join(name, word)
        elif node.kind == "list" and index is not None:
            origin = rows.get(name, [])
            i = int(index)
            name = f"{name}.{origin[i] if i < len(origin) else i}"
            node = node.children[0]
        elif node.kind == "quantity" and word in ("value", "unit"):
            return f"{name}.{word}"
        else:
            break
    return name


# --- the view: nodes the templates render ------------------------------------------------------------------------
def field_id(name: str) -> str:
    return "f-" + name.replace(".", "-") if name else "f-application"


@dataclass
class Node:
    kind: str
    name: str
    id: str
    label: str
    crumb: str
    help: str = ""
    required: bool = False
    value: str = ""
    input_type: str = "text"
    inputmode: str = ""
    options: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    children: list["Node"] = field(default_factory=list)
    unit: "Node | None" = None
    order: str = ""  # checks: the hidden order of the chosen codes
    present: bool = False  # group: the hidden mark of a stored empty object
    datalist: str = ""
    rows: int = 0
    add_action: str = ""
    add_text: str = ""
    remove_action: str = ""
    remove_text: str = ""
    autofocus: bool = False
    anchor: str = ""  # where a link to this element's message goes
    lines: int = 3
    state: dict | None = None  # a list where «не указано» and «нет» differ: the choice between them (see STATE)

    @property
    def described_by(self) -> str:
        ids = ([f"{self.id}-error"] if self.errors else []) + ([f"{self.id}-help"] if self.help else [])
        return " ".join(ids)

    @property
    def invalid(self) -> bool:
        return bool(self.errors) or any(c.invalid for c in self.children) or bool(self.unit and self.unit.errors)

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass
class Section:
    id: str
    title: str
    node: Node | None  # a group or list section; None for the general one
    fields: list[Node]  # the general section's fields
    open: bool
    count: int | None = None  # rows of a list section
    parts: list[Node] = field(default_factory=list)  # sub-sections (lists inside a group) for the contents

    @property
    def invalid(self) -> bool:
        return any(f.invalid for f in self.fields) or bool(self.node and self.node.invalid)


@dataclass
class View:
    sections: list[Section]
    summary: list[dict[str, str]]  # {"href", "label", "message"} in page order
    datalists: dict[str, tuple[tuple[str, str], ...]]

    @property
    def error_count(self) -> int:
        return len(self.summary)

    @property
    def error_title(self) -> str:
        return f"Заявка не сохранена: исправьте {plural(self.error_count, 'ошибку', 'ошибки', 'ошибок')}"


class _Ctx:
    def __init__(self, errors: dict[str, list[str]], focus: str | None):
        self.errors = errors
        self.focus = focus
        self.datalists: dict[str, tuple[tuple[str, str], ...]] = {}


def _crumb(parent: str, label: str) -> str:
    return f"{parent} → {label}" if parent else label


def _node(node: Spec, raw: Any, name: str, crumb: str, ctx: _Ctx, label: str | None = None) -> Node:
    label = label or node.label
    crumb = _crumb(crumb, label)
    v = Node(node.kind, name, field_id(name), label, crumb, help=node.help, required=node.required,
             errors=list(ctx.errors.get(name, [])), input_type=node.input_type)
    v.anchor = v.id
    kind = node.kind
    if kind == "group":
        raw = raw if isinstance(raw, dict) else {}
        v.present = bool(node.marker and raw.get("_present"))
        v.children = [_with_state(_node(c, raw.get(c.name), _join(name, c.name), crumb, ctx), c, raw)
                      for c in node.children]
    elif kind == "list":
        rows = raw if isinstance(raw, list) else []
        v.rows = len(rows)
        v.add_action, v.add_text = f"add:{name}", node.add
        v.autofocus = ctx.focus == name
        for i, row in enumerate(rows):
            legend = f"{node.row} № {i + 1}"
            r = _node(node.children[0], row, f"{name}.{i}", crumb, ctx, label=legend)
            r.kind = "row"
            r.remove_action, r.remove_text = f"remove:{name}.{i}", legend
            if ctx.focus == r.name:
                first = next((n for n in r.walk() if n.kind not in ("row", "group", "fixed")), None)
                if first:
                    first.autofocus = True
            v.children.append(r)
    elif kind in ("choice", "checks", "bool", "fixed"):
        chosen = [x for x in raw if isinstance(x, str)] if kind == "checks" else [_text(raw)]
        options = list(node.options)
        if kind == "choice" and (node.default is MISSING or node.default is None):
            options.insert(0, ("", "— не указано —" if node.default is None else "— выберите —"))
        options += [(c, c) for c in chosen if c and c not in {o[0] for o in options}]  # kept as typed
        v.options = [{"value": val, "label": text, "selected": val in chosen,
                      "id": f"{v.id}-{re.sub(r'[^A-Za-z0-9_-]', '_', val) or 'none'}"} for val, text in options]
        if kind == "checks":
            v.order = " ".join(chosen)
            v.anchor = v.options[0]["id"] if v.options else v.id
        if kind == "fixed":
            v.value = _text(raw)
    elif kind == "quantity":
        raw = raw if isinstance(raw, dict) else {}
        v.id = v.anchor = field_id(f"{name}.value")  # the value input; its unit is `v.unit`
        v.value = _text(raw.get("value"))
        v.inputmode = "decimal"
        v.errors += ctx.errors.get(f"{name}.value", [])
        unit = _text(raw.get("unit"))
        options = list(node.options)
        if node.free_unit:
            options.insert(0, ("", "— единица —"))
        if unit and unit not in {o[0] for o in options}:
            options.append((unit, unit))
        v.unit = Node("unit", f"{name}.unit", field_id(f"{name}.unit"), f"Единица измерения: {label.lower()}",
                      _crumb(crumb, "единица измерения"), errors=list(ctx.errors.get(f"{name}.unit", [])),
                      options=[{"value": val, "label": text, "selected": val == unit} for val, text in options])
        if v.unit.errors and not v.errors:
            v.anchor = v.unit.id
    elif kind == "lines":
        v.value = _text(raw)
        v.lines = max(3, min(12, v.value.count("\n") + 2))
    else:
        v.value = _text(raw)
        if kind == "date":
            iso = date_value(v.value)
            if v.value.strip() and iso is None:
                v.input_type = "text"  # typed by hand and not a date: shown as typed, with its message
            else:
                v.value = iso or ""
        elif kind in ("number", "integer"):
            v.inputmode = "numeric" if kind == "integer" else "decimal"
        if node.datalist:
            v.datalist = f"dl-{node.datalist}"
            ctx.datalists[v.datalist] = datalist(node.datalist)
    return v


def _with_state(v: Node, node: Spec, parent_raw: dict) -> Node:
    """Attach the «не указано» / «нет» / rows choice to the view of a list where they differ."""
    if node.statable:
        chosen = _text(parent_raw.get(node.name + STATE))
        v.state = {"name": v.name + STATE, "id": field_id(v.name + STATE), "label": f"{v.label}: сведения",
                   "options": [{"value": val, "label": text, "selected": val == chosen} for val, text in STATE_OPTIONS]}
    return v


def _summary(nodes, out: list[dict[str, str]]) -> None:
    for n in nodes:
        messages = list(n.errors) + (list(n.unit.errors) if n.unit else [])
        for text in dict.fromkeys(messages):
            out.append({"href": f"#{n.anchor}", "label": n.crumb, "message": text})
        _summary(n.children, out)


def check(raw: dict) -> tuple[Application | None, list[tuple[str, str]]]:
    """convert + validate: (the model, []) or (None, [(form path or "" when no field fits, message), …])."""
    data, conv = convert(raw)
    try:
        model: Application | None = validate(data)
        model_problems: list[Problem] = []
    except InputError as exc:
        model, model_problems = None, exc.problems
    located = [(p.path, p.message) for p in conv.problems]
    typed = {p.path for p in conv.problems}
    for p in model_problems:
        name = locate(p.path, conv.rows) if p.path else ""
        if name in typed or f"{name}.value" in typed:
            continue  # a number that could not be read was left out: «обязательное поле» about it is not news
        located.append((name, p.message))
    return (None if located else model), located


def build_view(raw: dict, errors: list[tuple[str, str]] = (), focus: str | None = None) -> View:
    """The form's sections with the raw values and each message (located by `check`) at its field."""
    root = spec()
    placed: dict[str, list[str]] = {}
    for name, message in errors:
        placed.setdefault(name, []).append(message)
    ctx = _Ctx(placed, focus)
    regimes = set(raw.get("regimes") or [])
    general = [c for c in root.children if c.kind not in ("group", "list")]
    sections = [Section("sec-general", GENERAL_TITLE, None,
                        [_node(c, raw.get(c.name), c.name, "", ctx) for c in general], True)]
    for c in root.children:
        if c in general:
            continue
        title = SECTION_TITLES.get(c.name, c.label)
        n = _with_state(_node(c, raw.get(c.name), c.name, "", ctx, label=title), c, raw)
        focused = bool(focus) and (focus == c.name or focus.startswith(c.name + "."))
        is_open = (raw.get(c.name) != blank(c) or bool(raw.get(c.name + STATE)) or n.invalid or focused
                   or bool(SECTION_REGIMES.get(c.name, set()) & regimes))
        parts = [x for x in n.children if x.kind in ("list", "group")] if c.kind == "group" else []
        sections.append(Section(f"sec-{c.name}", title, n, [], is_open, n.rows if c.kind == "list" else None, parts))
    summary = [{"href": "", "label": "", "message": m} for m in placed.get("", [])]
    for s in sections:
        _summary(s.fields, summary)
        if s.node:
            _summary([s.node], summary)
    return View(sections, summary, ctx.datalists)
