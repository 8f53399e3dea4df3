"""One evaluation date for every dated element: an element not yet signed (issued, registered) on the as-of date, or
expired before it, does not count, and the report says why — per element, on the CLI, the API and the report page,
and as a property over random applications."""
from __future__ import annotations

import html
import json
import subprocess
import sys
from datetime import date, timedelta

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from compliance.cases import apply_patch
from compliance.dating import counts_on, on_date
from compliance.evaluate import evaluate
from compliance.facts import derive
from compliance.loading import validate
from tests.conftest import ROOT, app_from, finding
from tests.strategies import any_regime_application
from webclient import web_client


def _failed_details(f) -> list[str]:
    return [d for c in f.checks if c.outcome == "failed" for d in c.fact.details]


def _all_details(f) -> list[str]:
    return [d for c in f.checks for d in c.fact.details]


# --- the rule ---------------------------------------------------------------------------------------------------------
def test_an_element_counts_from_its_start_day_to_its_end_day_and_an_unknown_date_excludes_nothing():
    d = date(2020, 6, 1)
    assert counts_on(d, date(2021, 6, 1), d) is None and counts_on(date(2019, 1, 1), d, d) is None
    assert counts_on(None, None, d) is None
    assert counts_on(date(2020, 6, 2), None, d) == "от 02.06.2020 — позже даты оценки 01.06.2020"
    assert counts_on(None, date(2020, 5, 31), d) == "срок действия истёк 31.05.2020"
    assert counts_on(date(2020, 6, 2), None, d, not_yet="утверждена {start}") == "утверждена 02.06.2020"


# --- per element: before and after its date ---------------------------------------------------------------------------
def test_residents_with_contracts_signed_after_the_date_are_not_counted():
    """1863-T-7 (at least 3 producing residents): the operating technopark's residents signed in Oct 2024 – Feb 2025."""
    app = app_from("itp1863-operating-occupancy-gap")
    third = app.residents[2]
    assert third.contract_date == date(2024, 12, 2) and third.producing
    reason = (f"резидент {third.name} (ИНН {third.inn}): договор от 02.12.2024 — заключён после даты оценки "
              "01.11.2024, не учтён")
    before = evaluate(app, "itp1863", date(2024, 11, 1))
    t7 = finding(before, "1863-T-7")
    assert t7.status == "not_met" and t7.fact.value == 2
    assert reason in _failed_details(t7) and any(reason in n for n in before.notes)
    after = evaluate(app, "itp1863", date(2024, 12, 2))
    assert finding(after, "1863-T-7").status == "met" and finding(after, "1863-T-7").fact.value == 3
    assert not any(third.name in d and "не учтён" in d for d in _all_details(finding(after, "1863-T-7")))


def test_a_resident_whose_contract_ended_is_not_counted():
    app = app_from("itp1863-operating-occupancy-gap", {"residents.0.contract_end": "2024-12-31"})
    name = app.residents[0].name
    on_end = derive(app, date(2024, 12, 31))["producing_residents_count"]
    after_end = derive(app, date(2025, 1, 1))["producing_residents_count"]
    assert on_end.value == 3 and after_end.value == 2
    assert f"резидент {name} (ИНН {app.residents[0].inn}): договор истёк 31.12.2024, не учтён" in after_end.details


def test_infrastructure_users_count_from_their_contract_date():
    app = app_from("ip794-operating-conforming")  # users signed 01.06.2023 and 10.01.2024
    assert derive(app, date(2023, 5, 31))["infrastructure_users_count"].value == 0
    between = derive(app, date(2023, 6, 1))["infrastructure_users_count"]
    assert between.value == 1
    assert ("пользователь инфраструктуры ООО «Промпит-Калуга» (ИНН 4029116750): договор от 10.01.2024 — заключён "
            "после даты оценки 01.06.2023, не учтён") in between.details


def test_electricity_connected_after_the_date_is_not_counted():
    """794-P-6 for an operating park: the connection act of 17.05.2023 gives the 12 MW."""
    app = app_from("ip794-operating-conforming")
    before = evaluate(app, "ip794", date(2023, 5, 16))
    p6 = finding(before, "794-P-6")
    assert p6.status == "not_met" and p6.fact.value == 0
    assert ("электроснабжение: акт о подключении от 17.05.2023 — позже даты оценки 16.05.2023, не учтено"
            in _failed_details(p6))
    after = evaluate(app, "ip794", date(2023, 5, 17))
    assert finding(after, "794-P-6").status == "met" and finding(after, "794-P-6").fact.value > 0.15


def test_a_fact_about_one_utility_names_only_what_was_not_counted_of_that_kind():
    """As of 01.03.2025 the created park's electricity (ТУ of 14.03.2025) and water (03.04.2025) did not count yet."""
    extra = {"kind": "electricity", "capacity": {"value": 0.5, "unit": "MW"}, "status": "technical_conditions",
             "document_date": "2025-01-10"}
    app = app_from("ip794-created-gaps", {"utilities.3": extra})
    facts = derive(app, date(2025, 3, 1))
    electricity = "электроснабжение: ТУ от 14.03.2025 — позже даты оценки 01.03.2025, не учтено"
    water = "водоснабжение: ТУ от 03.04.2025 — позже даты оценки 01.03.2025, не учтено"
    power = facts["power_mw_secured"]
    assert power.value == 0.5 and power.sources == ["utilities[3].capacity"]  # the input's number
    assert electricity in power.details and water not in power.details
    assert water in facts["water_and_sewage_secured"].details
    assert electricity not in facts["water_and_sewage_secured"].details
    gas = facts["gas_or_heat_secured"]
    assert gas.value is True and not any("не учтено" in d for d in gas.details)
    assert {electricity, water} <= set(facts["utilities_without_document_count"].details)  # about every kind


def test_technical_conditions_count_until_their_term_and_a_connection_does_not_expire():
    app = app_from("ip794-created-gaps")  # electricity: ТУ of 14.03.2025 valid until 14.03.2027
    on_term = derive(app, date(2027, 3, 14))["power_mw_secured"]
    past = derive(app, date(2027, 3, 15))["power_mw_secured"]
    assert on_term.value == 0.9 and past.value == 0
    assert "электроснабжение: срок действия ТУ истёк 14.03.2027, не учтено" in past.details
    connected = app_from("ip794-created-gaps", {"utilities.0.status": "connected"})
    assert derive(connected, date(2027, 3, 15))["power_mw_connected"].value == 0.9


def test_a_land_right_not_yet_arisen_or_a_lease_ended_is_no_right():
    """794-P-3: the adjacent plot is leased from its registration on 12.09.2022 until 31.08.2071."""
    app = app_from("ip794-operating-conforming")
    before = evaluate(app, "ip794", date(2022, 9, 11))
    p3 = finding(before, "794-P-3")
    assert p3.status == "not_met"
    assert ("участок 40:22:161201:462: аренда с 12.09.2022 — позже даты оценки 11.09.2022, право не учтено"
            in _failed_details(p3))
    assert finding(evaluate(app, "ip794", date(2022, 9, 12)), "794-P-3").status == "met"
    ended = derive(app, date(2071, 9, 1))["plots_without_right_count"]
    assert ended.value == 1 and "участок 40:22:161201:462: аренда истекла 31.08.2071, право не учтено" in ended.details
    assert derive(app, date(2071, 8, 31))["plots_without_right_count"].value == 0


def test_a_building_right_not_yet_arisen_is_no_right():
    """1381-T-1: the technopark's first building is owned from (say) its registration on 10.02.2025, the filing day."""
    app = app_from("htp1381-operating", {"buildings.0.right_since": "2025-02-10"})
    assert app.buildings[0].right == "ownership"
    before = evaluate(app, "htp1381", date(2025, 2, 9))
    t1 = finding(before, "1381-T-1")
    assert t1.status == "not_met" and t1.checks[1].fact.value == 1
    assert (f"здание {app.buildings[0].cadastral_number}: собственность с 10.02.2025 — позже даты оценки 09.02.2025, "
            "право не учтено") in _failed_details(t1)
    assert finding(evaluate(app, "htp1381"), "1381-T-1").status == "met"


def test_partnerships_count_from_their_agreement_date_to_their_end():
    app = app_from("htp1381-operating", {"partnerships.0.agreement_end": "2024-12-31"})  # 12.09.2022, 28.03.2023
    assert derive(app, date(2022, 9, 11))["research_partnerships_count"].value == 0
    assert derive(app, date(2023, 1, 1))["research_partnerships_count"].value == 1
    assert derive(app, date(2023, 3, 28))["research_partnerships_count"].value == 2
    after = derive(app, date(2025, 1, 1))["research_partnerships_count"]
    assert after.value == 1
    assert f"партнёр {app.partnerships[0].organisation}: соглашение истекло 31.12.2024, не учтено" in after.details
    # «agreements with universities, if any»: before the first agreement there were none, so it does not apply
    old = evaluate(app, "htp1381", date(2022, 9, 11))
    assert finding(old, "1381-DOC-9").status == "not_applicable"


def test_a_cluster_contract_signed_after_the_date_leaves_its_participant_without_one():
    app = validate(json.loads((ROOT / "fixtures" / "cl779-conforming.json").read_text(encoding="utf-8")))
    before = evaluate(app, "cl779", date(2025, 4, 11))
    c1 = finding(before, "779-C-1")
    assert c1.status == "not_met"
    late = next(c for c in app.cluster.contracts if c.date == date(2025, 4, 12))
    assert (f"договор {late.number} (ИНН {late.party_a_inn} — ИНН {late.party_b_inn}): заключён 12.04.2025 — после "
            "даты оценки 11.04.2025, не учтён") in _failed_details(c1)
    assert finding(evaluate(app, "cl779", date(2025, 4, 12)), "779-C-1").status == "met"


def test_a_programme_approved_after_the_date_is_not_approved_on_it():
    app = validate(json.loads((ROOT / "fixtures" / "cl779-conforming.json").read_text(encoding="utf-8")))
    approved = app.cluster.programme.approved_date
    c8 = finding(evaluate(app, "cl779", approved - timedelta(days=1)), "779-C-8")
    assert c8.status == "not_met" and c8.fact.value is False
    assert (f"программа развития кластера: утверждена {approved:%d.%m.%Y} — позже даты оценки "
            f"{approved - timedelta(days=1):%d.%m.%Y}, не учтена") in c8.fact.details
    assert "не утверждена" in c8.fact.details
    assert finding(evaluate(app, "cl779", approved), "779-C-8").status == "met"


def test_an_organisation_registered_after_the_date_did_not_exist_on_it():
    """The management company (and the cluster's specialised organisation) is named by the application, but on a
    date before its registration it was no registered legal entity: «registered in the RF» is false, with why."""
    app = app_from("ip794-operating-conforming")  # registered 18.05.2016
    before = evaluate(app, "ip794", date(2016, 5, 17))
    uk1 = finding(before, "794-UK-1")
    assert uk1.status == "not_met"
    reason = (f"управляющая компания {app.management_company.name} (ИНН 4027098150): зарегистрирована 18.05.2016 — "
              "позже даты оценки 17.05.2016, на дату оценки не существовала")
    assert reason in _failed_details(uk1)
    assert reason in finding(before, "794-UK-4").fact.details  # every fact about the company says it
    assert finding(evaluate(app, "ip794", date(2016, 5, 18)), "794-UK-1").status == "met"

    cluster = validate(json.loads((ROOT / "fixtures" / "cl779-conforming.json").read_text(encoding="utf-8")))
    so = cluster.cluster.specialized_organizations[0]
    so1 = finding(evaluate(cluster, "cl779", so.registration_date - timedelta(days=1)), "779-SO-1")
    assert so1.status == "not_met" and any("на дату оценки не существовала" in d for d in so1.fact.details)
    assert finding(evaluate(cluster, "cl779", so.registration_date), "779-SO-1").status == "met"


def test_documents_use_the_same_rule():
    app = app_from("ip794-operating-conforming", {"documents.10.valid_until": "2025-03-01"})  # the lease contract
    as_of = date(2025, 3, 4)
    problems = [d.problem for d in evaluate(app, "ip794", as_of).documents.not_counted]
    later = [d for d in app.documents if d.date and d.date > as_of]
    assert later and problems.count("датирован позже даты оценки 04.03.2025") == len(later)
    assert "срок действия истёк 01.03.2025" in problems and len(problems) == len(later) + 1


def test_input_numbers_name_the_fields_after_elements_were_left_out():
    """Leaving out a resident renumbers the copy; facts still name fields by the input's numbers."""
    app = app_from("itp1863-operating-occupancy-gap", {"residents.0.contract_date": "2025-04-01",
                                                        "residents.2.producing": None})  # signed 02.12.2024
    dated = on_date(app, date(2025, 2, 1))
    assert [e.path for e in dated.exclusions] == ["residents[0]", "residents[3]"]  # 01.04.2025 and 17.02.2025
    assert dated.kept["residents"] == [1, 2]
    fact = derive(dated, date(2025, 2, 1))["producing_residents_count"]
    assert fact.missing == ["residents[2].producing"] and fact.value is None


# --- the CLI, the API and the report page -----------------------------------------------------------------------------
def test_cli_as_of_before_the_connections_names_what_was_not_counted():
    out = subprocess.run([sys.executable, "-m", "compliance.cli", "check", "fixtures/ip794-operating-conforming.yaml",
                          "--as-of", "2019-06-01"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 1, out.stderr
    text = " ".join(out.stdout.split())
    assert "794-P-6" in text and "не выполнено" in text
    assert "электроснабжение: акт о подключении от 17.05.2023 — позже даты оценки 01.06.2019, не учтено" in text
    assert ("резидент ООО «ТермоПласт-Калуга» (ИНН 4028115633): договор от 01.09.2021 — заключён после даты оценки "
            "01.06.2019, не учтён") in text


def test_api_check_with_as_of_and_the_report_page_show_the_reason(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload("ip794-operating-conforming.yaml")
    r = web.client.post(f"/api/v1/applications/{app_id}/checks", json={"regime": "ip794", "as_of": "2022-09-21"},
                        headers={"Authorization": f"Bearer {web.token}"})
    assert r.status_code in (200, 201), r.text
    check = r.json()
    (report,) = check["reports"]
    by_id = {f["requirement_id"]: f for f in report["findings"]}
    power = "электроснабжение: акт о подключении от 17.05.2023 — позже даты оценки 21.09.2022, не учтено"
    p6 = by_id["794-P-6"]  # the connection is stated and not in force on that date: no connected power
    assert p6["status"] == "not_met" and power in [d for c in p6["checks"] for d in c["fact"]["details"]]
    assert p6["fact"]["value"] == 0
    # gas is not connected on that date either, and heat is not stated: gas or heat is unknown, not «no»
    assert by_id["794-P-7"]["status"] == "insufficient_data"
    assert any(power in n for n in report["notes"])
    page = web.client.get(f"/checks/{check['id']}").text
    article = page[page.index('id="f-794-P-6"'):]
    article = article[:article.index("</article>")]
    assert html.escape(power) in article


# --- the property: moving the as-of date before an element's start (or after its end) never makes it count ------------
def _dated_slots(raw: dict) -> list[tuple[str, int, str, str]]:
    """(list path, index, start field, end field) of every element that carries dates; a right counts from
    right_since to lease_end (leases only)."""
    slots = []
    for name, start, end in (("residents", "contract_date", "contract_end"),
                             ("infrastructure_users", "contract_date", "contract_end"),
                             ("utilities", "document_date", "valid_until"),
                             ("partnerships", "agreement_date", "agreement_end"),
                             ("land_plots", "right_since", "lease_end"), ("buildings", "right_since", "lease_end")):
        for i, item in enumerate(raw.get(name) or []):
            if name in ("land_plots", "buildings") and item.get("right") in (None, "none"):
                continue
            if name == "utilities" and item.get("status") in (None, "absent", "not_stated"):
                continue  # no paper, so its dates say nothing
            slots.append((name, i, start, end))
    for i, _ in enumerate((raw.get("cluster") or {}).get("contracts") or []):
        slots.append(("cluster.contracts", i, "date", "valid_until"))
    return slots


def _without(raw: dict, name: str, i: int) -> dict:
    """The application where the element does not count: removed, (a right) no right, or (a utility: the kind stays
    stated) no supply of that kind."""
    if name in ("land_plots", "buildings"):
        return apply_patch(raw, {f"{name}.{i}.right": "none"}, [])
    if name == "utilities":
        return apply_patch(raw, {f"{name}.{i}": {"kind": raw[name][i]["kind"], "status": "absent"}}, [])
    return apply_patch(raw, {}, [f"{name}.{i}"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_an_element_dated_after_the_as_of_date_or_expired_before_it_never_counts(data):
    app, regime = data.draw(any_regime_application())
    raw = app.model_dump(mode="json", exclude_none=True)
    slots = _dated_slots(raw)
    assume(slots)
    name, i, start, end = data.draw(st.sampled_from(slots))
    as_of = data.draw(st.dates(date(2016, 1, 1), date.fromisoformat(raw["filing_date"])))
    node = raw["cluster"]["contracts"][i] if name == "cluster.contracts" else raw[name][i]
    late = data.draw(st.booleans()) or (name == "utilities" and node["status"] == "connected")
    if name in ("land_plots", "buildings") and node["right"] != "lease":
        late = True  # only leases end
    gap = timedelta(days=data.draw(st.integers(1, 3000)))
    if late:
        node[start] = (as_of + gap).isoformat()
        node.pop(end, None)
    else:
        node[end] = (as_of - gap).isoformat()
        node.pop(start, None)
    dated = validate(raw)
    reference = validate(_without(raw, name, i))
    got, want = derive(dated, as_of), derive(reference, as_of)
    assert {k: f.value for k, f in got.items()} == {k: f.value for k, f in want.items()}
    excluded = on_date(dated, as_of).exclusions
    assert any(e.path.startswith(f"{name}[{i}]") for e in excluded)
    statuses = {f.requirement_id: f.status for f in evaluate(dated, regime, as_of).findings}
    assert statuses == {f.requirement_id: f.status for f in evaluate(reference, regime, as_of).findings}
