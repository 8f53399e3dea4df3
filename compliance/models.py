"""The application: one model for every regime, strictly typed (a number given as a string is an error).

Field names follow the vocabulary of the state registry of industrial sites (ГИСИП card), see README.
"""
from __future__ import annotations

import re
import types
from datetime import date
from functools import lru_cache
from typing import Annotated, ClassVar, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .dating import counts_on
from .identifiers import CADASTRAL_RE, inn_problem, ogrn_problem
from . import settings
from . import units as u
from .formatting import num

RegimeCode = Literal["ip794", "itp1863", "htp1381", "cl779", "gost56425"]
Category = Literal["created", "operating"]
Subtype = Literal["general", "agro", "eco", "agrobiotech"]  # agro: агропромышленный парк; agrobiotech: агробиотехнопарк

_RU_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")


def _parse_date(value: object) -> object:
    """Accept a date, an ISO string (2025-04-01) or a Russian one (01.04.2025); nothing else."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        m = _RU_DATE.match(text)
        try:
            if m:
                return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"«{value}» — не дата; ожидается ГГГГ-ММ-ДД или ДД.ММ.ГГГГ") from None
    raise ValueError("ожидается дата в формате ГГГГ-ММ-ДД или ДД.ММ.ГГГГ")


# Every date of an application lies in this range: nothing real is outside it, and date arithmetic (deadlines in
# years) stays within what Python can represent.
DAY_MIN, DAY_MAX = date(1900, 1, 1), date(2199, 12, 31)
# The evaluation date (--as-of, the API's as_of, the check pages) and the filing date (the default evaluation date).
AS_OF_MIN, AS_OF_MAX = date(2000, 1, 1), date(2100, 12, 31)


def _plausible_day(value: date) -> date:
    if not DAY_MIN <= value <= DAY_MAX:
        raise ValueError(f"дата {value:%d.%m.%Y} вне допустимого диапазона ({DAY_MIN:%d.%m.%Y} — {DAY_MAX:%d.%m.%Y})")
    return value


def check_as_of(value: date) -> date:
    """The evaluation date, refused (ValueError, Russian) outside AS_OF_MIN…AS_OF_MAX."""
    if not AS_OF_MIN <= value <= AS_OF_MAX:
        raise ValueError(f"дата оценки {value:%d.%m.%Y} вне допустимого диапазона "
                         f"({AS_OF_MIN:%d.%m.%Y} — {AS_OF_MAX:%d.%m.%Y})")
    return value


def _filing_day(value: date) -> date:
    """The filing date: not after today, and not before AS_OF_MIN (it is the default evaluation date)."""
    if value < AS_OF_MIN:
        raise ValueError(f"дата подачи {value:%d.%m.%Y} раньше {AS_OF_MIN:%d.%m.%Y}: по ней оценивается заявка, "
                         f"а оценка возможна с {AS_OF_MIN:%d.%m.%Y}")
    today = settings.today()
    if value > today:
        raise ValueError(f"дата подачи {value:%d.%m.%Y} позже сегодняшней ({today:%d.%m.%Y}): заявку нельзя "
                         "подать в будущем")
    return value


Day = Annotated[date, BeforeValidator(_parse_date), AfterValidator(_plausible_day)]


def _inn(value: str) -> str:
    problem = inn_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _ogrn(value: str) -> str:
    problem = ogrn_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _cadastral(value: str) -> str:
    if not CADASTRAL_RE.match(value):
        raise ValueError("кадастровый номер должен иметь вид 50:12:0100101:123")
    return value


def _url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+\.[^\s]+$", value):
        raise ValueError("адрес сайта должен начинаться с http:// или https://")
    return value


Inn = Annotated[str, AfterValidator(_inn)]
Ogrn = Annotated[str, AfterValidator(_ogrn)]
Cadastral = Annotated[str, AfterValidator(_cadastral)]
Url = Annotated[str, AfterValidator(_url)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
MAX_DISTANCE_KM = 20_000.0  # half the Earth's circumference: no two points on the ground are farther apart
MAX_RUB = 1e15  # a quadrillion roubles: several times Russia's yearly GDP
Kilometres = Annotated[float, Field(ge=0, le=MAX_DISTANCE_KM, allow_inf_nan=False,
                                    description="расстояние, км: от 0 до 20 000 (половина окружности Земли)")]
Roubles = Annotated[float, Field(ge=0, le=MAX_RUB, allow_inf_nan=False,
                                 description="сумма, руб.: от 0 до 10¹⁵ (квадриллион — больше ВВП России за несколько лет)")]
Text = Annotated[str, Field(min_length=1)]
SITE_NAME_MAX = 500  # the length of applications.site_name (compliance.storage): PostgreSQL refuses a longer one


# Lists where emptiness could mean «нет» or «не заполнено»: the field left out (null) is «не указано» — the
# requirements that read it get «недостаточно данных»; an empty list [] is an explicit «нет».
NOT_STATED_MARK = ". Поле не указано — «не указано»"
NOT_STATED_NOTE = NOT_STATED_MARK + " (требования, которые его читают, получат «недостаточно данных»); " \
                  "пустой список [] — явное «нет» ({what})"


def statable(description: str, none_means: str):
    """A list field where «не указано» (null, the default) and «нет» ([]) differ; the description says which is which."""
    return Field(None, description=description + NOT_STATED_NOTE.format(what=none_means))


class Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=False)


class Quantity(Model):
    """Величина с единицей измерения, например {"value": 12.5, "unit": "ha"}; значение — конечное неотрицательное
    число, не больше предела величины (после перевода в основную единицу)."""
    # (the docstring is the schema's description; converted to the canonical unit on use)

    value: NonNegative
    unit: Text
    dimension: ClassVar[u.Dimension | None] = None

    @model_validator(mode="after")
    def _unit_fits(self):
        if self.dimension is not None:
            try:
                u.bounded(self.value, self.unit, self.dimension)
            except u.UnitError as exc:
                raise ValueError(str(exc)) from None
        return self

    def canonical(self, dim: u.Dimension | None = None) -> float:
        dim = dim or self.dimension
        assert dim is not None
        return u.to_canonical(self.value, self.unit, dim)


def _limits(*dims: u.Dimension) -> str:
    return "; ".join(f"{d.title} — не больше {d.limit_text}" for d in dims)


class LandArea(Quantity):
    __doc__ = f"Площадь земли: value и unit (ha, m2, km2); {_limits(u.LAND_AREA)}."
    dimension: ClassVar[u.Dimension] = u.LAND_AREA


class FloorArea(Quantity):
    __doc__ = f"Площадь помещений: value и unit (m2); {_limits(u.FLOOR_AREA)}."
    dimension: ClassVar[u.Dimension] = u.FLOOR_AREA


LegalForm = Literal["ООО", "АО", "ПАО", "НАО", "ГУП", "МУП", "АНО", "ФГУП", "ФГБУ", "ГБУ", "ГАУ", "фонд", "ИП", "иное"]


class ManagementCompany(Model):
    name: Text
    inn: Inn
    ogrn: Ogrn | None = None
    legal_form: LegalForm | None = None
    registration_country: Literal["RU", "other"] | None = Field(None, description="RU — зарегистрирована в Российской Федерации")
    registration_date: Day | None = Field(
        None, description="дата государственной регистрации; до неё организации не было: на более раннюю дату оценки "
                          "она не считается зарегистрированным юридическим лицом")
    in_liquidation: bool | None = None
    in_reorganisation: bool | None = None
    in_bankruptcy: bool | None = None
    has_overdue_tax_debt: bool | None = None
    website: Url | None = Field(None, description="адрес сайта; если сайта нет, отметьте это в поле «есть сайт»")
    has_website: bool | None = Field(
        None, description="есть ли сайт: «нет» — сайта нет; не указано — сведений нет (если указан адрес сайта, "
                          "поле можно не заполнять)")
    ownership: Literal["state", "municipal", "private", "mixed"] | None = None
    services: list[Literal["consulting", "ip_support", "engineering", "shared_equipment", "incubation", "prototyping",
                           "certification", "training", "legal", "accounting", "marketing", "logistics", "security",
                           "maintenance", "recruitment", "other"]] | None = statable(
        "услуги УК резидентам: консалтинг, поддержка ИС, инжиниринг, доступ к оборудованию, инкубация …", "услуг нет")

    @model_validator(mode="after")
    def _website_consistent(self):
        if self.website is not None and self.has_website is False:
            raise ValueError(f"has_website: указан адрес сайта ({self.website}), а отмечено, что сайта нет")
        return self


LandCategory = Literal[
    "industry",  # земли промышленности, энергетики, транспорта, связи ... и иного специального назначения
    "settlements",  # земли населённых пунктов
    "agricultural",  # земли сельскохозяйственного назначения
    "protected", "forest", "water", "reserve",
]
Right = Literal["ownership", "lease", "permanent_use", "free_use", "other", "none"]
Adjacency = Literal["main", "adjacent", "linear_infrastructure", "separate"]


class LandPlot(Model):
    cadastral_number: Cadastral | None = None
    area: LandArea
    land_category: LandCategory | None = None
    permitted_use: str | None = Field(None, description="вид разрешённого использования словами, как в выписке ЕГРН")
    permitted_use_code: Annotated[str, Field(pattern=r"^\d{1,2}(\.\d{1,2}){0,2}$")] | None = Field(
        None, description="код ВРИ по классификатору (приказ Росреестра П/0412), например 6.0")
    right: Right | None = None
    right_holder_inn: Inn | None = Field(None, description="ИНН правообладателя, если не УК")
    right_since: Day | None = Field(
        None, description="дата возникновения права УК (регистрации собственности, начала аренды); на более "
                          "раннюю дату оценки права нет")
    lease_end: Day | None = Field(None, description="дата окончания аренды; после неё права нет")
    adjacency: Adjacency | None = Field(None, description="main — основной участок; adjacent — смежный; linear_infrastructure — отделён только дорогой/сетями; separate — отдельно")
    distance_to_main_km: Kilometres | None = None


class UsefulAreaBreakdown(Model):
    """Полезная площадь здания по назначению (м²)."""

    resident_production: FloorArea | None = Field(None, description="производственные помещения для резидентов")
    resident_laboratory: FloorArea | None = Field(None, description="лабораторные помещения для резидентов")
    resident_rnd: FloorArea | None = Field(None, description="помещения для НИОКР резидентов")
    resident_offices: FloorArea | None = Field(None, description="офисные помещения для резидентов (сдаются или "
                                                                 "предназначены резидентам)")
    offices: FloorArea | None = Field(None, description="офисные помещения УК и иные офисы, не предназначенные "
                                                        "резидентам (офисы резидентов — отдельной строкой)")
    shared_use: FloorArea | None = Field(None, description="помещения общего пользования и технологической инфраструктуры")
    technical: FloorArea | None = Field(None, description="технические помещения")

    def resident_area_m2(self) -> float:
        return sum(x.canonical() for x in (self.resident_production, self.resident_laboratory, self.resident_rnd) if x)

    def resident_offices_m2(self) -> float:
        return self.resident_offices.canonical() if self.resident_offices else 0.0


class Building(Model):
    cadastral_number: Cadastral | None = None
    name: str | None = None
    total_area: FloorArea
    useful_area: FloorArea | None = None
    useful_area_breakdown: UsefulAreaBreakdown | None = None
    leased_to_residents: FloorArea | None = Field(None, description="площадь, фактически сданная резидентам по договорам")
    purpose: Literal["production", "warehouse", "office", "laboratory", "administrative", "engineering", "social",
                     "multifunctional", "other"]
    right: Right | None = None
    right_since: Day | None = Field(
        None, description="дата возникновения права УК (регистрации собственности, начала аренды); на более "
                          "раннюю дату оценки права нет")
    lease_end: Day | None = Field(None, description="дата окончания аренды; после неё права нет")
    commissioned: bool | None = None

    @model_validator(mode="after")
    def _breakdown_fits(self):
        b = self.useful_area_breakdown
        if b and self.useful_area:
            parts = sum(x.canonical() for x in (b.resident_production, b.resident_laboratory, b.resident_rnd,
                                                b.resident_offices, b.offices, b.shared_use, b.technical) if x)
            if parts > self.useful_area.canonical() * 1.0001:
                raise ValueError(f"useful_area_breakdown: сумма частей ({num(parts)} м²) больше полезной площади "
                                 f"({num(self.useful_area.canonical())} м²)")
        if self.useful_area and self.useful_area.canonical() > self.total_area.canonical() * 1.0001:
            raise ValueError("useful_area: полезная площадь больше общей площади здания")
        return self


class TechObject(Model):
    """Объект технологической инфраструктуры (вид — код из перечня приказа Минпромторга № 3221)."""

    type: Annotated[str, Field(pattern=r"^[a-z_]+$", description="код вида объекта из перечня (decrees/lists/)")]
    name: Text
    area: FloorArea | None = None
    equipment: list[str] = Field([], description="оборудование объекта (для сведения; проверки его не читают)")
    available_to_residents: bool | None = None
    building_cadastral_number: Cadastral | None = None


class Partnership(Model):
    organisation: Text
    kind: Literal["university", "research", "development_institution", "other"]
    inn: Inn | None = None
    agreement_number: str | None = None
    agreement_date: Day | None = Field(None, description="дата соглашения; на более раннюю дату оценки не учитывается")
    agreement_end: Day | None = Field(None, description="дата окончания соглашения; после неё не учитывается")
    co_located: bool = Field(False, description="организация размещена на территории технопарка")


class Zoning(Model):
    production_zone_area: LandArea
    source_document: str | None = None


UtilityKind = Literal["electricity", "gas", "heat", "water", "sewage", "storm_sewage", "communications"]
UtilityStatus = Literal["technical_conditions", "connection_contract", "connected", "absent", "not_stated"]
UTILITY_STATUS_DESCRIPTION = (
    "technical_conditions — получены ТУ; connection_contract — заключён договор на подключение; connected — подключено; "
    "absent — нет и не планируется (явное «нет»: требование к этому ресурсу не выполнено); not_stated — не указано "
    "(то же, что не указывать ресурс вовсе: требование получит «недостаточно данных»). Для absent и not_stated "
    "мощность не указывается")
UNSTATED_STATUSES = {"not_stated"}  # a row with this status says nothing about the kind

UTILITY_DIMENSIONS: dict[str, u.Dimension] = {
    "electricity": u.ELECTRIC_POWER, "gas": u.GAS_FLOW, "heat": u.HEAT_POWER, "water": u.WATER_FLOW,
    "sewage": u.WATER_FLOW, "storm_sewage": u.WATER_FLOW, "communications": u.DATA_RATE,
}


class Utility(Model):
    """Инженерный ресурс. Ресурсы указываются по видам: вид, которого нет в заявке, — «не указано»."""

    kind: UtilityKind
    capacity: Quantity | None = Field(None, description="мощность (расход) с единицей; пределы после перевода: " + _limits(
        u.ELECTRIC_POWER, u.GAS_FLOW, u.HEAT_POWER, u.WATER_FLOW, u.DATA_RATE))
    status: UtilityStatus = Field(description=UTILITY_STATUS_DESCRIPTION)
    provider: str | None = None
    document: str | None = Field(None, description="реквизиты ТУ, договора или акта о подключении")
    document_date: Day | None = Field(
        None, description="дата ТУ, договора на подключение или акта о подключении (по статусу); на более раннюю дату "
                          "оценки ресурс не учитывается")
    valid_until: Day | None = Field(
        None, description="срок действия ТУ или договора на подключение; после него ресурс не учитывается (у "
                          "подключённого ресурса срока нет)")

    @model_validator(mode="after")
    def _capacity_unit(self):
        if self.capacity is not None and self.status in ("absent", "not_stated"):
            what = "«нет и не планируется»" if self.status == "absent" else "«не указано»"
            raise ValueError(f"capacity: для статуса {what} мощность не указывается — уберите её или укажите статус "
                             "подключения (ТУ, договор, подключено)")
        if self.capacity is not None:
            try:
                u.bounded(self.capacity.value, self.capacity.unit, UTILITY_DIMENSIONS[self.kind])
            except u.UnitError as exc:
                raise ValueError(f"capacity: {exc}") from None
        return self

    def capacity_canonical(self) -> float | None:
        if self.capacity is None:
            return None
        return self.capacity.canonical(UTILITY_DIMENSIONS[self.kind])


class RoadAccess(Model):
    hard_surface: bool
    road_name: str | None = None
    distance_to_public_road_km: Kilometres | None = None
    document: str | None = None
    rail_siding: bool | None = None


class ServiceObject(Model):
    kind: Literal["administrative", "business_center", "conference_hall", "meeting_room", "coworking", "canteen", "medical",
                  "security", "fire_station", "logistics", "customs", "training", "other"]
    name: str | None = None
    area: FloorArea | None = None
    cadastral_number: Cadastral | None = None


Okved = Annotated[str, Field(pattern=r"^\d{2}(\.\d{1,2}){0,2}$")]


class Resident(Model):
    name: Text
    inn: Inn
    okved: Okved | None = Field(None, description="основной код ОКВЭД 2, например 25.11")
    activity: str | None = None
    land_area: LandArea | None = None
    premises_area: FloorArea | None = None
    contract_number: str | None = None
    contract_date: Day | None = Field(
        None, description="дата договора с УК (у планируемого — соглашения о намерениях); на более раннюю дату оценки "
                          "не учитывается")
    contract_end: Day | None = Field(None, description="дата окончания договора; после неё не учитывается")
    producing: bool | None = Field(None, description="ведёт промышленное производство на территории")
    planned: bool = Field(False, description="ещё не резидент: соглашение о намерениях (для создаваемого парка)")
    waste_processing: bool | None = Field(None, description="утилизация, обезвреживание, обработка отходов или выпуск продукции из вторичного сырья")
    high_tech_fields: list[Literal["rnd", "it", "electronics", "biotech", "pharma", "new_materials", "robotics",
                                   "aerospace", "energy_tech", "medtech", "agritech", "other_high_tech"]] | None = statable(
        "высокотехнологичные направления деятельности резидента", "высокотехнологичной деятельности нет")


DocumentKind = Literal[
    "application", "founding_documents", "signatory_authority", "egrul_extract", "egrn_extract", "lease_contract",
    "park_concept", "master_plan", "business_plan", "construction_schedule", "utility_technical_conditions",
    "utility_connection_contract", "utility_connection_act", "road_access_document", "residents_register",
    "model_resident_contract", "services_list", "tax_certificate", "development_programme",
    "tech_infrastructure_description", "construction_permit", "project_documentation", "commissioning_permit",
    "resident_admission_rules", "partnership_agreement", "cluster_participants_register", "cluster_contracts",
    "cluster_programme", "fd_calculation", "participants_output_information", "so_compliance_documents", "other",
]


class Document(Model):
    kind: DocumentKind
    title: str | None = None
    number: str | None = None
    date: Day | None = Field(None, description="дата документа: не позже даты подачи (а она — не позже сегодняшней)")
    valid_until: Day | None = None
    issuer: str | None = None
    refers_to: str | None = Field(None, description="к чему относится: кадастровый номер, вид ресурса и т. п.")


def document_usable(doc: "Document", as_of: date) -> bool:
    """A document counts on a date when it is already issued and not yet expired (the rule of every dated element)."""
    return counts_on(doc.date, doc.valid_until, as_of) is None


# --- industrial clusters (Decree 779) ---------------------------------------------------------------------
ContractType = Literal[
    "import_substitution_project",  # совместный проект по производству импортозамещающей продукции кластера
    "cluster_products_supply",  # поставка продукции кластера
    "production_works_services",  # выполнение работ, оказание услуг производственного характера
    "special_investment_contract",  # участие в специальном инвестиционном контракте (инвестор или привлечённое лицо)
    "other",  # иной договор: не засчитывается
]
SpecialTerritory = Literal["monotown", "individual_programme_region", "geostrategic"]


class Participant(Model):
    name: Text
    inn: Inn
    ogrn: Ogrn | None = None
    region: Text
    kind: Literal["industrial", "education", "science", "other"] = Field(
        description="industrial — субъект деятельности в сфере промышленности; education — образовательная организация "
                    "(СПО, ВО); science — научная организация; other — иное")
    products: Literal["final", "intermediate", "none"] | None = Field(
        None, description="выпускает конечную (final) или промежуточную (intermediate) продукцию кластера")
    made_cluster_products_last_period: bool | None = Field(
        None, description="производил (участвовал в производстве) продукцию кластера в предыдущем отчётном периоде")
    organising_production: bool = Field(False, description="организует производство продукции кластера (если ещё не выпускал)")
    special_territory: SpecialTerritory | None = Field(
        None, description="моногород, регион с индивидуальной программой развития или геостратегическая территория")


class ClusterContract(Model):
    number: str | None = None
    party_a_inn: Inn
    party_b_inn: Inn
    type: ContractType
    amount_rub: Roubles | None = None
    date: Day | None = Field(None, description="дата договора; на более раннюю дату оценки договор не учитывается")
    valid_until: Day | None = Field(None, description="срок действия договора; после него договор не учитывается")
    subject: str | None = None


class Purchases(Model):
    """Закупки участника — производителя конечной продукции за год, руб."""

    participant_inn: Inn
    year: Annotated[int, Field(ge=2000, le=2100)]
    total_inputs_rub: Roubles
    inputs_from_participants_rub: Roubles

    @model_validator(mode="after")
    def _part_of_total(self):
        if self.inputs_from_participants_rub > self.total_inputs_rub:
            raise ValueError("inputs_from_participants_rub: закупки у участников больше всех закупок участника")
        return self


class SpecializedOrganization(ManagementCompany):
    """Специализированная организация промышленного кластера."""

    functions: list[Literal["methodological", "organisational", "expert_analytical", "information",
                            "programme_management", "joint_projects"]] | None = statable(
        "функции: методическое, организационное, экспертно-аналитическое, информационное сопровождение; разработка и "
        "мониторинг программы развития; организация совместных проектов", "функций нет")
    functions_documented_in: Literal["charter", "agreement", "none"] | None = Field(
        None, description="где закреплены функции: устав (charter), соглашение с участниками (agreement) или нигде "
                          "(none — явное «нет»); не указано — «не указано»")


class DevelopmentProgramme(Model):
    approved: bool
    approved_date: Day | None = Field(
        None, description="дата утверждения; на более раннюю дату оценки программа не считается утверждённой")
    goals: list[str] | None = statable("цели программы", "целей нет")
    joint_projects: list[str] | None = statable("совместные проекты участников", "совместных проектов нет")
    import_substituting_products: list[str] | None = statable("импортозамещающая продукция", "такой продукции нет")
    indicators: list[str] | None = statable("целевые показатели программы", "показателей нет")


class Cluster(Model):
    specialized_organizations: list[SpecializedOrganization] | None = statable(
        "специализированная организация кластера (должна быть ровно одна)", "специализированной организации нет")
    participants: list[Participant] | None = statable("участники кластера", "участников нет")
    contracts: list[ClusterContract] | None = statable("договоры между участниками", "договоров между участниками нет")
    purchases: list[Purchases] | None = statable(
        "закупки производителей конечной продукции за год (для функциональной зависимости)", "сведений о закупках нет")
    reporting_year: Annotated[int, Field(ge=2000, le=2100)] | None = Field(
        None, description="отчётный год для функциональной зависимости; по умолчанию — год, предшествующий дате оценки")
    programme: DevelopmentProgramme | None = None

    @model_validator(mode="after")
    def _references(self):
        inns = [p.inn for p in self.participants or []]
        problems = []
        seen = set()
        for i, inn in enumerate(inns):
            if inn in seen:
                problems.append(f"participants[{i}].inn: участник с ИНН {inn} указан дважды")
            seen.add(inn)
        for i, c in enumerate(self.contracts or []):
            for side in ("party_a_inn", "party_b_inn"):
                if getattr(c, side) not in seen:
                    problems.append(f"contracts[{i}].{side}: ИНН {getattr(c, side)} нет среди участников кластера")
            if c.party_a_inn == c.party_b_inn:
                problems.append(f"contracts[{i}].party_b_inn: стороны договора совпадают")
        for i, p in enumerate(self.purchases or []):
            if p.participant_inn not in seen:
                problems.append(f"purchases[{i}].participant_inn: ИНН {p.participant_inn} нет среди участников кластера")
        if problems:
            raise ValueError("\n".join(problems))
        return self


class ConformityDecision(Model):
    """Уже принятое решение Минпромторга о соответствии площадки (кластера) требованиям. По нему считаются сроки:
    окончание действия решения и повторное подтверждение (страница «Сроки»); на проверку требований не влияет."""

    regime: RegimeCode = Field(description="по какому постановлению принято решение")
    date: Day = Field(description="дата решения (приказа) о соответствии; от неё отсчитывается срок его действия")
    number: str | None = Field(None, description="номер решения (приказа)")
    in_register: bool | None = Field(None, description="площадка (кластер) внесена в реестр по этому решению")
    register_date: Day | None = Field(None, description="дата внесения в реестр")


class Application(Model):
    """Заявка: данные о площадке (парк, технопарк) или о кластере, об УК или специализированной организации,
    резидентах (участниках) и документах. Какие разделы нужны режиму — decrees/<режим>.yaml, requires_inputs."""

    schema_version: Literal["1"] = "1"
    regimes: Annotated[list[RegimeCode], Field(min_length=1)]
    site_name: Annotated[str, Field(min_length=1, max_length=SITE_NAME_MAX)] = Field(
        description="название парка, технопарка или кластера")
    category: Category | None = Field(None, description="created — создаваемый, operating — действующий (парки и технопарки)")
    subtype: Subtype = "general"
    site_type: Literal["greenfield", "brownfield"] | None = None
    region: Text
    region_code: Annotated[str, Field(pattern=r"^\d{2}$")] | None = Field(None, description="код субъекта РФ, две цифры")
    address: str | None = None
    filing_date: Annotated[date, BeforeValidator(_parse_date), AfterValidator(_filing_day)] = Field(
        description="дата подачи заявки (по умолчанию — дата оценки): с 01.01.2000 и не позже сегодняшней")
    management_company: ManagementCompany | None = Field(None, description="управляющая компания парка или технопарка")
    land_plots: list[LandPlot] = Field(
        [], description="земельные участки; пустой список — участки не указаны (требования к территории получат "
                        "«недостаточно данных»)")
    buildings: list[Building] = Field(
        [], description="здания и сооружения; пустой список — здания не указаны (требования к зданиям технопарка "
                        "получат «недостаточно данных»)")
    zoning: Zoning | None = None
    utilities: list[Utility] = Field(
        [], description="инженерная инфраструктура — по строке на вид ресурса; вид ресурса, которого нет в списке, — "
                        "«не указано» (требование получит «недостаточно данных»); явное «нет» — строка с состоянием "
                        "«нет и не планируется»")
    road_access: RoadAccess | None = None
    service_objects: list[ServiceObject] | None = statable(
        "объекты сервисной (деловой) инфраструктуры", "таких объектов нет; здания из раздела «здания» учитываются и так")
    residents: list[Resident] | None = statable(
        "резиденты (и планируемые резиденты с соглашениями о намерениях)", "резидентов нет")
    infrastructure_users: list[Resident] | None = statable("пользователи инфраструктуры", "пользователей нет")
    tech_infrastructure: list[TechObject] | None = statable("объекты технологической инфраструктуры", "таких объектов нет")
    partnerships: list[Partnership] | None = statable(
        "соглашения с вузами, научными организациями и институтами развития", "партнёрств нет")
    cluster: Cluster | None = Field(None, description="промышленный кластер: участники, договоры, закупки, специализированная организация")
    documents: list[Document] = Field(
        [], description="прилагаемые документы; документа, которого нет в списке, нет в заявке (пустой список — "
                        "документы не приложены)")
    conformity_decisions: list[ConformityDecision] = Field(
        [], description="уже принятые решения о соответствии (по одному на постановление): по ним считаются сроки "
                        "действия и повторного подтверждения; на проверку требований не влияют")

    @model_validator(mode="after")
    def _dates_not_after_filing(self):
        problems = []
        for i, doc in enumerate(self.documents):
            if doc.date and doc.date > self.filing_date:
                problems.append(f"documents[{i}].date: документ датирован {doc.date:%d.%m.%Y}, позже даты подачи {self.filing_date:%d.%m.%Y}")
            if doc.date and doc.valid_until and doc.valid_until < doc.date:
                problems.append(f"documents[{i}].valid_until: срок действия истекает раньше даты документа")
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _list_or_none(annotation) -> bool:
    if get_origin(annotation) not in (Union, types.UnionType):
        return False
    args = get_args(annotation)
    return type(None) in args and any(get_origin(a) is list for a in args)


@lru_cache(maxsize=None)
def none_statable_lists(model: type[BaseModel] = Application) -> frozenset[str]:
    """Names of the list fields (at any depth) where «не указано» (null) and «нет» ([]) differ."""
    out: set[str] = set()
    todo, seen = [model], set()
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        for name, info in m.model_fields.items():
            if _list_or_none(info.annotation):
                out.add(name)
            stack = [info.annotation]
            while stack:
                tp = stack.pop()
                if isinstance(tp, type) and issubclass(tp, BaseModel):
                    todo.append(tp)
                stack += list(get_args(tp))
    return frozenset(out)
