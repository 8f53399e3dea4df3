"""Units, identifiers and Russian formatting."""
from __future__ import annotations

import pytest

from compliance import units as u
from compliance.formatting import day_long, num, plural
from compliance.identifiers import inn_problem, make_inn10, make_ogrn13, ogrn_problem
from compliance.models import Utility


@pytest.mark.parametrize("value, unit, dim, expected", [
    (25_000, "m2", u.LAND_AREA, 2.5), (1, "км²", u.LAND_AREA, 100), (900, "кВт", u.ELECTRIC_POWER, 0.9),
    (2400, "м³/сут", u.WATER_FLOW, 100), (1, "MW", u.HEAT_POWER, 0.859845),
])
def test_conversion_to_canonical_units(value, unit, dim, expected):
    assert u.to_canonical(value, unit, dim) == pytest.approx(expected)


def test_units_of_the_wrong_kind_are_refused_with_a_reason():
    with pytest.raises(u.UnitError, match="допустимо"):
        u.to_canonical(3, "Гкал/ч", u.ELECTRIC_POWER)
    with pytest.raises(u.UnitError, match="полная мощность"):
        u.to_canonical(3, "кВА", u.ELECTRIC_POWER)


def test_utility_capacity_in_kw_is_converted_for_electricity():
    ut = Utility.model_validate({"kind": "electricity", "status": "connected", "capacity": {"value": 1500, "unit": "kW"}})
    assert ut.capacity_canonical() == pytest.approx(1.5)


def test_inn_and_ogrn_checksums():
    inn = make_inn10("770708389")
    assert inn_problem(inn) is None
    assert inn_problem(inn[:-1] + str((int(inn[-1]) + 1) % 10)) is not None
    assert inn_problem("12345") is not None
    ogrn = make_ogrn13("102770013219")
    assert ogrn_problem(ogrn) is None and ogrn_problem(ogrn[:-1] + str((int(ogrn[-1]) + 1) % 10))


@pytest.mark.parametrize("n, word", [(1, "несоответствие"), (2, "несоответствия"), (5, "несоответствий"),
                                     (11, "несоответствий"), (21, "несоответствие"), (112, "несоответствий")])
def test_plural_forms(n, word):
    assert plural(n, "несоответствие", "несоответствия", "несоответствий") == f"{n} {word}"


def test_numbers_and_dates_in_russian_style():
    from datetime import date
    assert num(0.15) == "0,15" and num(1234567) == "1\u00a0234\u00a0567"
    assert day_long(date(2025, 4, 1)) == "«01» апреля 2025 г."
