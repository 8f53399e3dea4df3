"""Any real number, and no impossible ones (issue 13, §3): every numeric field of the model takes any magnitude
from 1e-9 to 1e12 in every unit it accepts — the check completes with the statuses of the plain-Python oracle, or the
input is refused with a Russian message at its field; never a crash."""
from __future__ import annotations

import copy
import json
import re
import types
import typing
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from compliance import units as u
from compliance.cases import apply_patch
from compliance.evaluate import evaluate
from compliance.form_spec import unwrap
from compliance.loading import InputError, validate
from compliance.models import UTILITY_DIMENSIONS, Application, Quantity
from tests.conftest import FIXTURES, raw_fixture
from tests.oracle import oracle

PARKS = ["ip794-operating-conforming", "ip794-created-gaps", "ip794-eco-new-region", "itp1863-operating-occupancy-gap",
         "itp1863-created-agrobiotech", "htp1381-operating", "brownfield-794-1863"]
CLUSTERS = ["cl779-conforming", "cl779-contract-gap", "cl779-below-10-industrial", "cl779-reduced-threshold"]
CYRILLIC = re.compile(r"[а-яё]", re.I)


def _raw(name: str) -> dict:
    if name.startswith("cl779"):
        return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return raw_fixture(name)


BASES = {name: _raw(name) for name in PARKS + CLUSTERS}


# --- every numeric field of the model -----------------------------------------------------------------------------
def numeric_fields(model: type[BaseModel] = Application, prefix: str = "") -> list[tuple[str, str]]:
    """(path with [*] for list items, kind) of every number in the model: kind "quantity" (value and unit),
    "float" or "int"."""
    out = []
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        tp = unwrap(info.annotation)
        if typing.get_origin(tp) is list:
            tp, path = unwrap(typing.get_args(tp)[0]), path + "[*]"
        if isinstance(tp, type) and issubclass(tp, Quantity):
            out.append((path, "quantity"))
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            out += numeric_fields(tp, path)
        elif tp is float:
            out.append((path, "float"))
        elif tp is int:
            out.append((path, "int"))
    return out


def _units(dim: u.Dimension) -> list[str]:
    return sorted(dim.factors)


def _dimension_at(data: dict, path: str) -> u.Dimension:
    """The dimension of the quantity at a concrete path (a utility's capacity depends on its kind)."""
    node: Any = data
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    model: Any = Application
    for part in parts:
        if part.startswith("["):
            node = node[int(part[1:-1])]
            continue
        if part == "capacity":
            return UTILITY_DIMENSIONS[node["kind"]]
        model = unwrap(model.model_fields[part].annotation)
        if typing.get_origin(model) is list:
            model = unwrap(typing.get_args(model)[0])
        node = node.get(part) if isinstance(node, dict) else None
    return model.dimension


def _concrete(data: dict, pattern: str) -> list[str]:
    """Concrete paths of a pattern in one application (every list item that exists); dicts on the way may be absent."""
    paths = [""]
    for part in pattern.split("."):
        name, star = (part[:-3], True) if part.endswith("[*]") else (part, False)
        nxt = []
        for p in paths:
            here = f"{p}.{name}" if p else name
            if star:
                items = _get(data, here)
                nxt += [f"{here}[{i}]" for i in range(len(items))] if isinstance(items, list) else []
            else:
                nxt.append(here)
        paths = nxt
    return paths


def _get(data: Any, path: str) -> Any:
    node = data
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if node is None:
            return None
        node = node[int(part[1:-1])] if part.startswith("[") else node.get(part)
    return node


def _slots() -> list[tuple[str, str, str]]:
    """(base fixture, concrete path, kind) for every numeric field, in every base that has the lists it lives in."""
    out = []
    for pattern, kind in numeric_fields():
        for name, data in BASES.items():
            out += [(name, p, kind) for p in _concrete(data, pattern)]
    return out


SLOTS = _slots()


def test_the_property_test_reaches_every_numeric_field_of_the_model():
    """A new numeric field needs a fixture that holds its list, or the property below would not try it."""
    patterns = {pattern for pattern, _ in numeric_fields()}
    reached = {re.sub(r"\[\d+\]", "[*]", path) for _, path, _ in SLOTS}
    assert patterns - reached == set()
    assert {"land_plots[*].area", "utilities[*].capacity", "cluster.purchases[*].total_inputs_rub",
            "land_plots[*].distance_to_main_km", "cluster.contracts[*].amount_rub"} <= patterns


# --- the property ------------------------------------------------------------------------------------------------
magnitudes = st.builds(lambda m, e: m * 10.0 ** e, st.floats(1, 10, exclude_max=True), st.integers(-9, 11)) | \
    st.sampled_from([1e-9, 1e-6, 1e-5, 1e-4, 1e15, 1e16, 1e12, 0.0, -0.0])


def _dotted(path: str) -> str:
    return re.sub(r"\[(\d+)\]", r".\1", path)


@st.composite
def changed_applications(draw):
    name, path, kind = draw(st.sampled_from(SLOTS))
    data = copy.deepcopy(BASES[name])
    changes: dict[str, Any] = {}
    for _ in range(draw(st.integers(1, 3))):
        if changes:
            _, path, kind = draw(st.sampled_from([s for s in SLOTS if s[0] == name]))
        x = draw(magnitudes)
        if kind == "quantity":
            unit = draw(st.sampled_from(_units(_dimension_at(data, path))))
            changes[_dotted(path)] = {"value": x, "unit": unit}
        elif kind == "int":
            changes[_dotted(path)] = int(x)
        else:
            changes[_dotted(path)] = x
    return name, apply_patch(data, changes, []), sorted(changes)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=changed_applications())
def test_any_magnitude_in_any_unit_is_checked_as_the_oracle_or_refused_at_its_field(case):
    name, data, changed = case
    try:
        app = validate(data)
    except InputError as exc:
        for p in exc.problems:
            assert p.path, f"a refusal without a field: {p}"
            assert CYRILLIC.search(p.message) and "Input should" not in p.message, p.message
        sections = {c.split(".")[0] for c in changed}  # only the changed fields (or their objects) are refused
        assert all(re.split(r"[.\[]", p.path)[0] in sections for p in exc.problems), (changed, exc.value.problems)
        return
    regimes = list(app.regimes) + (["gost56425"] if app.buildings else [])
    for regime in regimes:
        report = evaluate(app, regime)
        assert report.engine_error is None
        expected = oracle(app, regime)
        assert {f.requirement_id: f.status for f in report.findings} == \
            {rid: o.status for rid, o in expected.items()}, (name, changed, regime)


# --- the physical bounds, in the canonical unit, after conversion --------------------------------------------------
@pytest.mark.parametrize("dim", [u.LAND_AREA, u.FLOOR_AREA, u.ELECTRIC_POWER, u.HEAT_POWER, u.GAS_FLOW, u.WATER_FLOW,
                                 u.DATA_RATE], ids=lambda d: d.code)
def test_every_dimension_has_a_documented_bound_applied_after_conversion(dim):
    assert dim.limit < float("inf") and CYRILLIC.search(dim.limit_text)
    for unit, factor in dim.factors.items():
        assert u.bounded(dim.limit / factor, unit, dim) == pytest.approx(dim.limit)
        with pytest.raises(u.UnitError, match="не может превышать"):
            u.bounded(dim.limit / factor * 1.001, unit, dim)


@pytest.mark.parametrize("path, value, words", [
    ("land_plots.0.area", {"value": 1.8e9, "unit": "ha"}, "площади всей России"),
    ("land_plots.0.area", {"value": 1.8e7, "unit": "km2"}, "площади всей России"),  # 1,8 млрд га in km²
    ("buildings.0.total_area", {"value": 2e8, "unit": "m2"}, "крупнейших зданий"),
    ("utilities.0.capacity", {"value": 2e8, "unit": "kW"}, "электростанции"),
    ("road_access.distance_to_public_road_km", 25000, "не больше 20\u00a0000"),
    ("land_plots.0.area", {"value": float("nan"), "unit": "ha"}, "не число"),
    ("land_plots.0.area", {"value": float("inf"), "unit": "ha"}, "слишком велико"),
    ("land_plots.0.area", {"value": 10 ** 400, "unit": "ha"}, "слишком велико"),
])
def test_impossible_values_are_refused_at_their_field(path, value, words):
    data = apply_patch(raw_fixture("brownfield-794-1863"), {path: value}, [])
    with pytest.raises(InputError) as exc:
        validate(data)
    (problem,) = exc.value.problems
    assert problem.path.startswith(re.sub(r"\.(\d+)", r"[\1]", path)) and words in problem.message


def test_amounts_in_roubles_are_bounded():
    data = _raw("cl779-conforming")
    data["cluster"]["purchases"][0]["total_inputs_rub"] = 2e15
    with pytest.raises(InputError) as exc:
        validate(data)
    assert [p.path for p in exc.value.problems] == ["cluster.purchases[0].total_inputs_rub"]
    assert exc.value.problems[0].message.replace("\u00a0", " ") == \
        "значение 2 000 000 000 000 000 больше допустимого: не больше 1 000 000 000 000 000"
