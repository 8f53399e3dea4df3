"""Hypothesis strategies: random but valid variations of the 794 fixtures."""
from __future__ import annotations

from hypothesis import strategies as st

from compliance.cases import apply_patch
from compliance.loading import validate
from tests.conftest import raw_fixture

BASES = ["ip794-operating-conforming", "ip794-created-gaps", "ip794-eco-new-region", "itp1863-operating-occupancy-gap",
         "itp1863-created-agrobiotech", "htp1381-operating", "brownfield-794-1863"]
area = st.floats(min_value=0.01, max_value=40, allow_nan=False, allow_infinity=False)
STATUSES = ["technical_conditions", "connection_contract", "connected", "absent", "not_stated"]
STATABLE_LISTS = ["residents", "service_objects", "tech_infrastructure", "partnerships", "infrastructure_users"]


@st.composite
def applications(draw):
    data = raw_fixture(draw(st.sampled_from(BASES)))
    changes: dict = {}
    for i in range(len(data["land_plots"])):
        if draw(st.booleans()):
            changes[f"land_plots.{i}.area"] = {"value": draw(area), "unit": "ha"}
    if data.get("zoning") and draw(st.booleans()):
        changes["zoning.production_zone_area"] = {"value": draw(area), "unit": "ha"}
    for i, ut in enumerate(data.get("utilities", [])):
        if draw(st.booleans()):
            status = draw(st.sampled_from(STATUSES))
            changes[f"utilities.{i}.status"] = status
            if status in ("absent", "not_stated"):  # no capacity for «нет» or «не указано»
                changes[f"utilities.{i}.capacity"] = None
    for i, b in enumerate(data.get("buildings", [])):
        if draw(st.booleans()):
            changes[f"buildings.{i}.total_area.value"] = b["total_area"]["value"] * draw(st.floats(1.0, 3.0))
        if b.get("leased_to_residents") and draw(st.booleans()):
            changes[f"buildings.{i}.leased_to_residents.value"] = draw(st.floats(0, b["leased_to_residents"]["value"] * 2))
    changes["category"] = draw(st.sampled_from(["created", "operating"]))
    changes["subtype"] = draw(st.sampled_from(["general", "agro", "eco", "agrobiotech"]))
    changes["region"] = draw(st.sampled_from(["Калужская область", "Запорожская область", "Донецкая Народная Республика"]))
    for flag in ("in_liquidation", "has_overdue_tax_debt"):
        changes[f"management_company.{flag}"] = draw(st.sampled_from([True, False, None]))
    for i, _ in enumerate(data.get("residents") or []):
        if draw(st.integers(0, 4)) == 0:
            changes[f"residents.{i}.waste_processing"] = draw(st.sampled_from([True, False, None]))
    patched = apply_patch(data, changes, [])
    for name in STATABLE_LISTS:  # «не указано» (left out) or «нет» ([]) now and then
        choice = draw(st.integers(0, 5))
        if choice == 0:
            patched.pop(name, None)
        elif choice == 1:
            patched[name] = []
    if patched.get("utilities") and draw(st.integers(0, 3)) == 0:  # a kind not stated
        del patched["utilities"][draw(st.integers(0, len(patched["utilities"]) - 1))]
    keep = draw(st.lists(st.booleans(), min_size=len(patched["documents"]), max_size=len(patched["documents"])))
    patched["documents"] = [d for d, k in zip(patched["documents"], keep) if k]
    return validate(patched)


@st.composite
def applications_with_regime(draw):
    app = draw(applications())
    return app, draw(st.sampled_from(app.regimes))


CLUSTERS = ["cl779-conforming", "cl779-contract-gap", "cl779-below-10-industrial", "cl779-reduced-threshold"]
CONTRACT_TYPES = ["import_substitution_project", "cluster_products_supply", "production_works_services",
                  "special_investment_contract", "other"]


@st.composite
def clusters(draw):
    import json
    from tests.conftest import FIXTURES
    raw = json.loads((FIXTURES / f"{draw(st.sampled_from(CLUSTERS))}.json").read_text(encoding="utf-8"))
    c = raw["cluster"]
    for p in c["participants"]:
        if draw(st.integers(0, 5)) == 0:
            p["kind"] = draw(st.sampled_from(["industrial", "education", "science", "other"]))
        if draw(st.integers(0, 5)) == 0:
            p["special_territory"] = draw(st.sampled_from([None, "monotown", "geostrategic"]))
        if draw(st.integers(0, 6)) == 0:
            p["made_cluster_products_last_period"] = draw(st.sampled_from([True, False, None]))
    for k in c["contracts"]:
        if draw(st.integers(0, 4)) == 0:
            k["type"] = draw(st.sampled_from(CONTRACT_TYPES))
    for row in c["purchases"]:
        if draw(st.booleans()):
            row["inputs_from_participants_rub"] = row["total_inputs_rub"] * draw(st.floats(0, 1))
    if draw(st.integers(0, 5)) == 0:
        raw["region"] = draw(st.sampled_from(["Запорожская область", "Самарская область"]))
    for name in ("contracts", "purchases"):  # «не указано» or «нет» now and then
        choice = draw(st.integers(0, 7))
        if choice == 0:
            del c[name]
        elif choice == 1:
            c[name] = []
    return validate(raw)


@st.composite
def any_regime_application(draw):
    """A random application of any regime, with the regime to check it under (GOST for technoparks too)."""
    if draw(st.integers(0, 3)) == 0:
        return draw(clusters()), "cl779"
    app = draw(applications())
    regimes = list(app.regimes) + (["gost56425"] if app.buildings else [])
    return app, draw(st.sampled_from(regimes))
