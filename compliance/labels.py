"""Russian names of the application's codes that reports, the Excel template and the web form all show: one table
per field, so a code never reaches a person as such (DEVELOPERS.md: no internal names)."""
from __future__ import annotations

SERVICES = {
    "consulting": "консалтинг", "ip_support": "поддержка интеллектуальной собственности", "engineering": "инжиниринг",
    "shared_equipment": "доступ к оборудованию", "incubation": "инкубация", "prototyping": "прототипирование",
    "certification": "сертификация", "training": "обучение", "legal": "юридические услуги",
    "accounting": "бухгалтерские услуги", "marketing": "маркетинг", "logistics": "логистика", "security": "охрана",
    "maintenance": "техническое обслуживание", "recruitment": "подбор персонала", "other": "иные услуги",
}
SO_FUNCTIONS = {
    "methodological": "методическое сопровождение", "organisational": "организационное сопровождение",
    "expert_analytical": "экспертно-аналитическое сопровождение", "information": "информационное сопровождение",
    "programme_management": "разработка и мониторинг программы развития", "joint_projects": "организация совместных проектов",
}
HIGH_TECH_FIELDS = {
    "rnd": "исследования и разработки", "it": "информационные технологии", "electronics": "электроника",
    "biotech": "биотехнологии", "pharma": "фармацевтика", "new_materials": "новые материалы",
    "robotics": "робототехника", "aerospace": "авиационная и космическая техника",
    "energy_tech": "энергетические технологии", "medtech": "медицинская техника", "agritech": "агротехнологии",
    "other_high_tech": "иное высокотехнологичное направление"}
SERVICE_OBJECT_KINDS = {
    "administrative": "административное здание", "business_center": "бизнес-центр", "conference_hall": "конференц-зал",
    "meeting_room": "переговорная", "coworking": "коворкинг", "canteen": "столовая", "medical": "медицинский пункт",
    "security": "пост охраны", "fire_station": "пожарное депо", "logistics": "логистический центр",
    "customs": "таможенный пост", "training": "учебный центр", "other": "иной объект"}
BUILDING_PURPOSES = {
    "production": "производственное", "warehouse": "складское", "office": "офисное", "laboratory": "лабораторное",
    "administrative": "административное", "engineering": "инженерное сооружение", "social": "социальное",
    "multifunctional": "многофункциональное", "other": "иное"}
DOCUMENT_KINDS = {
    "application": "Заявление",
    "founding_documents": "Учредительные документы",
    "signatory_authority": "Документ о полномочиях подписанта",
    "egrul_extract": "Выписка из ЕГРЮЛ",
    "egrn_extract": "Выписка из ЕГРН",
    "lease_contract": "Договор аренды",
    "park_concept": "Концепция парка (технопарка)",
    "master_plan": "Мастер-план",
    "business_plan": "Бизнес-план (финансовая модель)",
    "construction_schedule": "График создания инфраструктуры",
    "utility_technical_conditions": "Технические условия на подключение",
    "utility_connection_contract": "Договор на технологическое подключение",
    "utility_connection_act": "Акт о подключении (технологическом присоединении)",
    "road_access_document": "Документ о подъездной дороге",
    "residents_register": "Реестр резидентов и пользователей инфраструктуры",
    "model_resident_contract": "Типовой договор с резидентом",
    "services_list": "Перечень услуг УК резидентам",
    "tax_certificate": "Справка об отсутствии задолженности по налогам и сборам",
    "development_programme": "Программа развития (технопарка)",
    "tech_infrastructure_description": "Описание объектов технологической инфраструктуры",
    "construction_permit": "Разрешение на строительство",
    "project_documentation": "Проектная документация",
    "commissioning_permit": "Разрешение на ввод объекта в эксплуатацию",
    "resident_admission_rules": "Правила приёма (отбора) резидентов",
    "partnership_agreement": "Соглашение с вузом или научной организацией",
    "cluster_participants_register": "Реестр участников кластера",
    "cluster_contracts": "Договоры между участниками кластера",
    "cluster_programme": "Программа развития кластера",
    "fd_calculation": "Расчёт функциональной зависимости",
    "participants_output_information": "Сведения о выпуске продукции кластера участниками",
    "so_compliance_documents": "Документы о соответствии специализированной организации требованиям",
    "other": "Иной документ",
}


CATEGORIES = {"created": "создаваемый", "operating": "действующий"}  # Application.category


REGIMES = {"ip794": "Индустриальный парк (ПП № 794)", "itp1863": "Промышленный технопарк (ПП № 1863)",
           "htp1381": "Технопарк в сфере высоких технологий (ПП № 1381)",
           "cl779": "Промышленный кластер (ПП № 779)", "gost56425": "Технопарк по ГОСТ Р 56425"}


def regime_name(code: str) -> str:
    """A regime as a person names it in a short line: the status and the act, «Индустриальный парк (ПП № 794)». The
    documents, the matrix, the pages and the form print this (or the regime's title from its catalog), never the code;
    the code is only what `--regime` takes. A regime without a short name here is named by its catalog's title."""
    if code in REGIMES:
        return REGIMES[code]
    from .catalog import CatalogError, available_regimes, load_catalog

    try:
        return load_catalog(code).decree.title if code in available_regimes() else code
    except CatalogError:
        return code


def names(table: dict[str, str], codes) -> list[str]:
    """The Russian names of codes (a code without a name is shown as it is: a gap in the table, caught by tests)."""
    return [table.get(c, c) for c in codes]
