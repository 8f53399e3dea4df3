"""Russian formatting: numbers with a decimal comma, dates, plural forms, field labels."""
from __future__ import annotations

import math
from datetime import date
from functools import lru_cache
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from .units import unit_label

MONTHS_GENITIVE = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
                   "октября", "ноября", "декабря"]


def round_half_up(x: float | int, digits: int = 0) -> Decimal:
    """Russian (commercial) rounding: halves away from zero, on the number as printed — 70.625 -> 70.63, 2.675 -> 2.68,
    although the binary values of these floats lie slightly below the half and `round` or `format` go down."""
    d = Decimal(repr(x)) if isinstance(x, float) else Decimal(x)
    if not d.is_finite():
        raise ValueError(f"not a finite number: {x!r}")
    with localcontext() as ctx:
        ctx.prec = max(28, d.adjusted() + digits + 2)
        return d.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


@lru_cache(maxsize=65536, typed=True)  # a pure function of the number (and its type: True is not 1) and digits
def num(x: float | int, digits: int = 4) -> str:
    """The one way a number is shown to a person: at most `digits` decimals rounded half up, decimal comma, groups of
    thousands split by no-break spaces, no trailing zeros. 12.5 -> '12,5'; 1234567 -> '1 234 567'; num(70.625, 2) ->
    '70,63'."""
    if isinstance(x, bool):
        return "да" if x else "нет"
    if isinstance(x, float) and not math.isfinite(x):
        return "—"
    d = round_half_up(x, digits)
    if d == 0:
        d = abs(d)  # no "-0"
    text = f"{d:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", "\u00a0").replace(".", ",")


def size(n_bytes: int) -> str:
    """A size in bytes for a person: '512 байт', '64 КБ', '12,5 МБ'."""
    if n_bytes < 1024:
        return f"{num(n_bytes)} байт"
    if n_bytes < 2**20:
        return f"{num(n_bytes / 1024, 1)} КБ"
    return f"{num(n_bytes / 2**20, 1)} МБ"


def value(v: Any, unit: str | None = None) -> str:
    if v is None:
        return "нет данных"
    if isinstance(v, bool):
        return "да" if v else "нет"
    if isinstance(v, (int, float)):
        if unit == "years" and float(v).is_integer():
            return plural(int(v), "год", "года", "лет")
        label = unit_label(unit)
        shown = num(v, 2) if unit == "%" else num(v)
        return f"{shown} {label}".strip() if label and unit != "pcs" else shown
    if isinstance(v, list):
        return ", ".join(value(x) for x in v)
    return str(v)


@lru_cache(maxsize=4096)
def day(d: date | None) -> str:
    return d.strftime("%d.%m.%Y") if d else "—"


def day_long(d: date) -> str:
    """«01» апреля 2025 г."""
    return f"«{d.day:02d}» {MONTHS_GENITIVE[d.month - 1]} {d.year} г."


def plural(n: int, one: str, few: str, many: str) -> str:
    """plural(1, 'несоответствие', 'несоответствия', 'несоответствий') -> '1 несоответствие'."""
    n_abs = abs(n)
    if n_abs % 10 == 1 and n_abs % 100 != 11:
        word = one
    elif 2 <= n_abs % 10 <= 4 and not 12 <= n_abs % 100 <= 14:
        word = few
    else:
        word = many
    return f"{n} {word}"


OP_RU = {">=": "не менее", ">": "более", "<=": "не более", "<": "менее", "==": "равно", "!=": "не равно",
         "in": "одно из"}

def norm_phrase(op: str, norm: Any, unit: str | None = None) -> str:
    """A norm as words a person reads, never a bare operator: 'не менее 8 га', 'одно из: ООО, АО'; a comparison with 0
    says what it means — 'ни одного' for a count that must be 0, 'хотя бы один' for one that must be above 0,
    '0 км, больше не допускается' for a measure; yes/no as 'да' or 'нет'; an empty list as 'допустимых значений нет'."""
    if isinstance(norm, bool):
        return "да" if norm == (op == "==") else "нет"
    if isinstance(norm, (list, tuple)):
        if not norm:
            return "допустимых значений нет" if op == "in" else ("ни одного значения" if op == "==" else "любое значение")
        return f"{OP_RU[op]}: {value(list(norm))}" if op in ("in", "==") else f"{OP_RU[op]} {value(list(norm))}"
    if isinstance(norm, (int, float)) and norm == 0:
        count = unit in (None, "", "pcs")
        if op in ("==", "<="):
            return "ни одного" if count else f"{value(0, unit)}, больше не допускается"
        if op in (">", "!="):
            return "хотя бы один" if count else f"больше {value(0, unit)}"
        if op == ">=":
            return "любое значение"
    if isinstance(norm, (int, float)) and norm == 1 and op == "<" and unit in (None, "", "pcs"):
        return "ни одного"
    return f"{OP_RU[op]} {value(norm, unit)}"


UTILITY_KIND_RU = {"electricity": "электроснабжение", "gas": "газоснабжение", "heat": "теплоснабжение",
                   "water": "водоснабжение", "sewage": "водоотведение", "storm_sewage": "ливневая канализация",
                   "communications": "связь"}

FIELD_LABELS = {
    "land_plots": "земельные участки", "area": "площадь", "cadastral_number": "кадастровый номер",
    "land_category": "категория земель", "permitted_use_code": "код вида разрешённого использования (ВРИ)",
    "right": "право УК на объект", "lease_end": "дата окончания аренды", "adjacency": "расположение относительно основного участка",
    "distance_to_main_km": "расстояние до основного участка, км", "zoning": "зонирование территории",
    "production_zone_area": "площадь производственной зоны", "utilities": "инженерная инфраструктура",
    "capacity": "мощность", "status": "статус подключения", "road_access": "подъездная дорога",
    "hard_surface": "твёрдое покрытие дороги", "management_company": "управляющая компания",
    "registration_country": "страна регистрации", "ogrn": "ОГРН", "inn": "ИНН", "legal_form": "организационно-правовая форма",
    "in_liquidation": "ликвидация", "in_reorganisation": "реорганизация", "in_bankruptcy": "банкротство",
    "has_overdue_tax_debt": "просроченная налоговая задолженность", "website": "сайт", "residents": "резиденты",
    "producing": "ведёт производство", "documents": "документы", "buildings": "здания", "filing_date": "дата подачи",
    "regimes": "режимы", "category": "категория", "subtype": "подтип", "region": "субъект РФ", "value": "значение",
    "unit": "единица измерения", "date": "дата документа", "valid_until": "срок действия", "kind": "вид",
    "okved": "ОКВЭД", "site_name": "название площадки (кластера)", "name": "наименование",
    "conformity_decisions": "принятые решения о соответствии", "in_register": "внесена в реестр",
    "register_date": "дата внесения в реестр",
    "cluster": "кластер", "participants": "участники", "contracts": "договоры", "purchases": "закупки",
    "specialized_organizations": "специализированная организация", "party_a_inn": "ИНН стороны 1",
    "party_b_inn": "ИНН стороны 2", "participant_inn": "ИНН участника", "total_inputs_rub": "все закупки, руб.",
    "inputs_from_participants_rub": "закупки у участников, руб.", "programme": "программа развития",
    "made_cluster_products_last_period": "выпуск продукции кластера в прошлом периоде", "products": "продукция",
    "special_territory": "особая территория", "reporting_year": "отчётный год", "functions": "функции",
    "tech_infrastructure": "объекты технологической инфраструктуры", "partnerships": "партнёрства",
    "useful_area": "полезная площадь", "useful_area_breakdown": "разбивка полезной площади",
    "leased_to_residents": "площадь, сданная резидентам", "total_area": "общая площадь",
    "resident_production": "производственные помещения для резидентов",
    "resident_laboratory": "лабораторные помещения для резидентов", "resident_rnd": "помещения для НИОКР резидентов",
    "resident_offices": "офисные помещения для резидентов", "offices": "офисные помещения УК и иные (не для резидентов)",
    "shared_use": "помещения общего пользования и технологической инфраструктуры", "technical": "технические помещения",
    "activity": "вид деятельности", "address": "адрес", "agreement_date": "дата соглашения",
    "agreement_number": "номер соглашения", "amount_rub": "сумма договора, руб.", "approved": "программа утверждена",
    "approved_date": "дата утверждения", "available_to_residents": "доступен резидентам",
    "building_cadastral_number": "кадастровый номер здания", "co_located": "размещена на территории технопарка",
    "commissioned": "введено в эксплуатацию", "contract_date": "дата договора", "contract_end": "дата окончания договора",
    "contract_number": "номер договора", "distance_to_public_road_km": "расстояние до дороги общего пользования, км",
    "document": "документ", "equipment": "оборудование", "functions_documented_in": "где закреплены функции",
    "goals": "цели", "high_tech_fields": "высокотехнологичные направления",
    "import_substituting_products": "импортозамещающая продукция", "indicators": "целевые показатели",
    "infrastructure_users": "пользователи инфраструктуры", "issuer": "кем выдан (утверждён)",
    "joint_projects": "совместные проекты", "land_area": "площадь земли", "number": "номер",
    "organisation": "организация-партнёр", "organising_production": "организует производство продукции кластера",
    "ownership": "форма собственности", "permitted_use": "вид разрешённого использования",
    "planned": "планируемый резидент", "premises_area": "площадь помещений", "provider": "ресурсоснабжающая организация",
    "purpose": "назначение здания", "rail_siding": "железнодорожный подъездной путь", "refers_to": "к чему относится",
    "region_code": "код субъекта РФ", "registration_date": "дата государственной регистрации",
    "right_holder_inn": "ИНН правообладателя", "road_name": "название дороги", "schema_version": "версия формата заявки",
    "service_objects": "объекты сервисной инфраструктуры", "services": "услуги", "site_type": "тип площадки",
    "source_document": "документ о зонировании", "subject": "предмет договора", "title": "название документа",
    "type": "вид", "waste_processing": "обработка отходов или выпуск продукции из вторичного сырья", "year": "год",
    # kept from the not-stated and dating work (their wording wins where both name a field)
    "has_website": "есть ли сайт", **UTILITY_KIND_RU,  # utilities.gas: the kind of a utility that is not stated
    "right_since": "дата возникновения права", "document_date": "дата ТУ, договора или акта о подключении",
    "agreement_end": "дата окончания соглашения",
    "as_of": "дата оценки",
}


def field_labels(paths: list[str]) -> list[str]:
    """The Russian labels of fields, each once, in order (no internal key reaches a reader)."""
    return list(dict.fromkeys(field_label(p) for p in paths))


def field_label(path: str) -> str:
    """'land_plots[1].adjacency' -> 'земельные участки № 2 → расположение относительно основного участка'."""
    import re
    path, bracket, rest = path.partition(" (")  # 'cluster.purchases (ИНН …, 2025 г.)': only the path is split
    parts = []
    for token in path.split("."):
        m = re.match(r"^(\w+)\[(\d+|\*)\]$", token)
        if m:
            base = FIELD_LABELS.get(m.group(1), m.group(1))
            parts.append(base + (f" № {int(m.group(2)) + 1}" if m.group(2) != "*" else ""))
        else:
            parts.append(FIELD_LABELS.get(token, token))
    return " → ".join(parts) + (bracket + rest if bracket else "")
