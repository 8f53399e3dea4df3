"""Explicit units: every quantity in an application carries its unit; values are converted to a canonical unit."""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Dimension:
    code: str
    title: str  # Russian, for messages
    canonical: str
    factors: dict[str, float]  # unit -> multiplier to the canonical unit
    hint: dict[str, str]  # units that are refused, with the reason
    limit: float = math.inf  # the largest plausible value, in the canonical unit (no real site comes near it)
    limit_text: str = ""  # the limit in Russian, with why it is impossible beyond it


def _aliases(mapping: dict[str, float], aliases: dict[str, str]) -> dict[str, float]:
    out = dict(mapping)
    for alias, target in aliases.items():
        out[alias] = mapping[target]
    return out


LAND_AREA = Dimension(
    "land_area", "площадь земельного участка", "ha",
    _aliases({"ha": 1.0, "m2": 1e-4, "km2": 100.0}, {"га": "ha", "м2": "m2", "м²": "m2", "m²": "m2", "км2": "km2", "км²": "km2"}),
    {"сот": "сотки не принимаются: укажите площадь в га или м²"},
    1.72e9, "1,72 млрд га (это больше площади всей России, ≈ 1,71 млрд га)",
)
FLOOR_AREA = Dimension(
    "floor_area", "площадь помещений", "m2",
    _aliases({"m2": 1.0}, {"м2": "m2", "м²": "m2", "m²": "m2", "кв.м": "m2", "кв. м": "m2"}),
    {}, 1e8, "100 млн м² (в десятки раз больше крупнейших зданий мира)",
)
ELECTRIC_POWER = Dimension(
    "electric_power", "электрическая мощность", "MW",
    _aliases({"MW": 1.0, "kW": 1e-3}, {"МВт": "MW", "кВт": "kW", "mw": "MW", "kw": "kW"}),
    {
        "kVA": "кВА — полная мощность; укажите разрешённую активную мощность в кВт или МВт из технических условий",
        "кВА": "кВА — полная мощность; укажите разрешённую активную мощность в кВт или МВт из технических условий",
        "MVA": "МВА — полная мощность; укажите активную мощность в МВт",
        "МВА": "МВА — полная мощность; укажите активную мощность в МВт",
    },
    1e5, "100 000 МВт (больше мощности любой электростанции мира)",
)
HEAT_POWER = Dimension(
    "heat_power", "тепловая мощность", "Gcal/h",
    _aliases({"Gcal/h": 1.0, "MW": 0.859845}, {"Гкал/ч": "Gcal/h", "МВт": "MW"}),
    {}, 1e5, "100 000 Гкал/ч (больше мощности любой теплоэлектростанции мира)",
)
GAS_FLOW = Dimension(
    "gas_flow", "расход газа", "m3/h",
    _aliases({"m3/h": 1.0, "m3/day": 1 / 24}, {"м3/ч": "m3/h", "м³/ч": "m3/h", "м3/сут": "m3/day", "м³/сут": "m3/day"}),
    {}, 1e7, "10 млн м³/ч (около 90 млрд м³ в год — как потребление газа крупной страны)",
)
WATER_FLOW = Dimension(
    "water_flow", "расход воды (стоков)", "m3/h",
    _aliases({"m3/h": 1.0, "m3/day": 1 / 24}, {"м3/ч": "m3/h", "м³/ч": "m3/h", "м3/сут": "m3/day", "м³/сут": "m3/day"}),
    {}, 1e7, "10 млн м³/ч (это сток крупной реки)",
)
DATA_RATE = Dimension("data_rate", "пропускная способность", "Mbit/s", _aliases({"Mbit/s": 1.0, "Gbit/s": 1000.0}, {"Мбит/с": "Mbit/s", "Гбит/с": "Gbit/s"}), {},
                      1e9, "1 млрд Мбит/с, или 1 Пбит/с (больше пропускной способности магистральных сетей страны)")

UNIT_LABELS_RU = {
    "ha": "га", "m2": "м²", "km2": "км²", "MW": "МВт", "kW": "кВт", "Gcal/h": "Гкал/ч", "m3/h": "м³/ч",
    "m3/day": "м³/сут", "Mbit/s": "Мбит/с", "Gbit/s": "Гбит/с", "%": "%", "km": "км", "MW/ha": "МВт/га",
    "pcs": "шт.", "years": "лет",
}


def unit_label(unit: str | None) -> str:
    return UNIT_LABELS_RU.get(unit or "", unit or "")


class UnitError(ValueError):
    pass


def to_canonical(value: float, unit: str, dim: Dimension) -> float:
    unit = unit.strip()
    if unit in dim.factors:
        return value * dim.factors[unit]
    if unit in dim.hint:
        raise UnitError(dim.hint[unit])
    allowed = sorted({u for u in dim.factors if u.isascii()})
    raise UnitError(
        f"единица «{unit}» не подходит для величины «{dim.title}»; допустимо: " + ", ".join(allowed)
    )


def bounded(value: float, unit: str, dim: Dimension) -> float:
    """The value in the canonical unit; UnitError when the unit does not fit or the value exceeds the dimension's
    physical limit (checked after conversion, so 1e12 m² and 1e8 ha are judged alike)."""
    canonical = to_canonical(value, unit, dim)
    if not canonical <= dim.limit:  # also refuses an infinity reached by conversion
        raise UnitError(f"{dim.title} не может превышать {dim.limit_text}: проверьте число и единицу измерения")
    return canonical
