"""Russian formatting: numbers with a decimal comma, dates, plural forms, field labels."""
from __future__ import annotations

from datetime import date
from typing import Any

from .units import unit_label

MONTHS_GENITIVE = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
                   "октября", "ноября", "декабря"]


def num(x: float | int, digits: int = 4) -> str:
    """12.5 -> '12,5'; 1234567 -> '1 234 567' (no-break spaces)."""
    if isinstance(x, bool):
        return "да" if x else "нет"
    if float(x).is_integer():
        text = f"{int(round(x)):,}"
    else:
        text = f"{x:,.{digits}f}".rstrip("0").rstrip(".")
    return text.replace(",", "\u00a0").replace(".", ",")


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
        return ", ".join(str(x) for x in v)
    return str(v)


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
    "cluster": "кластер", "participants": "участники", "contracts": "договоры", "purchases": "закупки",
    "specialized_organizations": "специализированная организация", "party_a_inn": "ИНН стороны 1",
    "party_b_inn": "ИНН стороны 2", "participant_inn": "ИНН участника", "total_inputs_rub": "все закупки, руб.",
    "inputs_from_participants_rub": "закупки у участников, руб.", "programme": "программа развития",
    "made_cluster_products_last_period": "выпуск продукции кластера в прошлом периоде", "products": "продукция",
    "special_territory": "особая территория", "reporting_year": "отчётный год", "functions": "функции",
    "tech_infrastructure": "объекты технологической инфраструктуры", "partnerships": "партнёрства",
    "useful_area": "полезная площадь", "useful_area_breakdown": "разбивка полезной площади",
    "leased_to_residents": "площадь, сданная резидентам", "total_area": "общая площадь",
    "as_of": "дата оценки",
}


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
