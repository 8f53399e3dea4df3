"""Explicit units: every quantity in an application carries its unit; values are converted to a canonical unit."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dimension:
    code: str
    title: str  # Russian, for messages
    canonical: str
    factors: dict[str, float]  # unit -> multiplier to the canonical unit
    hint: dict[str, str]  # units that are refused, with the reason


def _aliases(mapping: dict[str, float], aliases: dict[str, str]) -> dict[str, float]:
    out = dict(mapping)
    for alias, target in aliases.items():
        out[alias] = mapping[target]
    return out


LAND_AREA = Dimension(
    "land_area", "площадь земельного участка", "ha",
    _aliases({"ha": 1.0, "m2": 1e-4, "km2": 100.0}, {"га": "ha", "м2": "m2", "м²": "m2", "m²": "m2", "км2": "km2", "км²": "km2"}),
    {"сот": "сотки не принимаются: укажите площадь в га или м²"},
)
FLOOR_AREA = Dimension(
    "floor_area", "площадь помещений", "m2",
    _aliases({"m2": 1.0}, {"м2": "m2", "м²": "m2", "m²": "m2", "кв.м": "m2", "кв. м": "m2"}),
    {},
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
)
HEAT_POWER = Dimension(
    "heat_power", "тепловая мощность", "Gcal/h",
    _aliases({"Gcal/h": 1.0, "MW": 0.859845}, {"Гкал/ч": "Gcal/h", "МВт": "MW"}),
    {},
)
GAS_FLOW = Dimension(
    "gas_flow", "расход газа", "m3/h",
    _aliases({"m3/h": 1.0, "m3/day": 1 / 24}, {"м3/ч": "m3/h", "м³/ч": "m3/h", "м3/сут": "m3/day", "м³/сут": "m3/day"}),
    {},
)
WATER_FLOW = Dimension(
    "water_flow", "расход воды (стоков)", "m3/h",
    _aliases({"m3/h": 1.0, "m3/day": 1 / 24}, {"м3/ч": "m3/h", "м³/ч": "m3/h", "м3/сут": "m3/day", "м³/сут": "m3/day"}),
    {},
)
DATA_RATE = Dimension("data_rate", "пропускная способность", "Mbit/s", _aliases({"Mbit/s": 1.0, "Gbit/s": 1000.0}, {"Мбит/с": "Mbit/s", "Гбит/с": "Gbit/s"}), {})

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
