"""What public sources confirmed in December 2026 is in the catalogs (issue 16, §3): the amending acts of Decree 779
with their exact dates and the norms of its 2021 revision dated by the act (16.11.2021), not by the unsupported
01.01.2022; the values raised to S name their secondary source; the 2024 new-regions regime reaches the document
items; the management-company revenue rule of GOST R 56301 has its own requirement. Everything is read from the
loaded catalogs and from evaluations of the sample applications."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest

from compliance.catalog import load_catalog
from compliance.evaluate import evaluate
from compliance.loading import validate
from tests.conftest import FIXTURES, app_from, finding, statuses

REVISION_1956 = date(2021, 11, 16)
# a secondary source *named*: «изложение по вторичному источнику: <кто, когда> …», not the bare phrase
NAMED = re.compile(r"изложение по вторичному источнику: \S")


def cluster_app(name: str):
    return validate(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))


def test_every_amendment_of_779_has_its_exact_date():
    acts = [a.act for a in load_catalog("cl779").decree.amendments]
    for number, day in [("963", "26.09.2016"), ("905", "02.08.2018"), ("1956", "16.11.2021"), ("2372", "22.12.2022"),
                        ("1585", "28.09.2023"), ("413", "01.04.2024")]:
        assert any(f"от {day} № {number}" in a for a in acts), (number, acts)
    assert not [a for a in acts if "дата не установлена" in a]


@pytest.mark.parametrize("name", ["max_participants_without_output", "min_special_territory_share_pct",
                                  "min_fd_reduced_pct", "decision_validity_years", "revision_2021_since"])
def test_the_2021_revision_of_779_is_dated_by_its_act(name):
    values = load_catalog("cl779").rulebook.parameters[name].values
    assert [v.start for v in values] == [REVISION_1956]
    assert "01.01.2022" not in (values[0].note or "") + str(values[0].value)


def test_a_779_assessment_between_the_act_and_2022_applies_the_2021_revision():
    app = cluster_app("cl779-reduced-threshold")
    before = statuses(evaluate(app, "cl779", date(2021, 11, 15)))
    december = evaluate(app, "cl779", date(2021, 12, 1))
    after = statuses(december)
    assert before["779-C-4"] == "not_applicable" and before["779-C-5"] == "not_met"
    # 10 % when at least 30 % of the participants work in the special territories, three without output at most
    assert after["779-C-4"] == "met" and after["779-C-5"] == "met" and after["779-C-6"] == "informational"
    r4 = finding(december, "779-R-4")
    assert "16.11.2021" in r4.explanation and "01.01.2022" not in r4.explanation


RAISED = {  # regime: requirements and (parameter, value) pairs the December sources confirm
    "ip794": (["794-P-1", "794-UK-9"], [("min_area_ha", 8), ("decision_validity_years", 3)]),
    "cl779": (["779-C-4", "779-C-6"], [("max_participants_without_output", 3), ("min_special_territory_share_pct", 30),
                                      ("min_fd_reduced_pct", 10)]),
    "itp1863": (["1863-T-1", "1863-UK-1", "1863-R-2", "1863-R-3", "1863-R-4", "1863-R-5"],
                [("min_tech_object_types", 2), ("allowed_legal_forms_created", None), ("decision_validity_years", 5)]),
}


@pytest.mark.parametrize("regime", sorted(RAISED))
def test_the_confirmed_norms_are_s_and_name_their_source(regime):
    cat = load_catalog(regime)
    ids, params = RAISED[regime]
    for rid in ids:
        req = cat.requirements[rid]
        assert req.confidence == "S" and NAMED.search(req.source) and "не сверен" in req.source, (rid, req.source)
    for name, value in params:
        v = next(v for v in cat.rulebook.parameters[name].values if value is None or v.value == value)
        assert v.confidence == "S" and NAMED.search(v.source or "") and "не сверен" in v.source, (name, v.source)


def test_the_three_year_validity_of_the_2015_text_names_its_source():
    req = load_catalog("ip794").requirements["794-R-3"]
    assert re.search(r"3 года — изложение по вторичному источнику \(статья на сайте https://\S+", req.source)
    assert req.confidence == "A"  # the 5 years after 2021 remain by analogy: nothing confirmed them for 794


@pytest.mark.parametrize("regime, prefix", [("ip794", "794-DOC-"), ("itp1863", "1863-DOC-"),
                                            ("htp1381", "1381-DOC-")])
def test_the_new_regions_regime_covers_every_document_item(regime, prefix):
    cat = load_catalog(regime)
    regime_ = next(s for s in cat.decree.special_regimes if s.code == "new_regions")
    documents = [r.id for r in cat.decree.requirements if r.id.startswith(prefix)]
    assert documents and set(documents) <= set(regime_.affects)
    assert "состав" in regime_.reference and "документов" in regime_.reference


def test_documents_of_a_park_in_a_new_region_await_the_expert():
    report = evaluate(app_from("ip794-eco-new-region"), "ip794")
    docs = [f for f in report.findings if f.requirement_id.startswith("794-DOC-")]
    applicable = [f for f in docs if f.status != "not_applicable"]  # the business plan is for a created park only
    assert len(docs) == 11 and len(applicable) == 10 and {f.status for f in applicable} == {"manual_review"}
    assert all("Действует особый режим" in f.explanation for f in applicable)
    # the same park in Kaluga region: the document items are checked as usual
    kaluga = evaluate(app_from("ip794-eco-new-region", {"region": "Калужская область"}), "ip794")
    assert "manual_review" not in {f.status for f in kaluga.findings if f.requirement_id.startswith("794-DOC-")}


def test_the_gost_56301_revenue_rule_is_its_own_informational_requirement():
    cat = load_catalog("ip794")
    req = cat.requirements["794-UK-10"]
    assert req.kind == "informational" and req.confidence == "S" and "ГОСТ Р 56301" in req.clause
    assert NAMED.search(req.source) and "не сверен" in req.source
    f = finding(evaluate(app_from("ip794-operating-conforming"), "ip794"), "794-UK-10")
    assert f.status == "informational" and "не менее 80 %" in f.explanation
