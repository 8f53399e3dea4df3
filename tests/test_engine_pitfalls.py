"""One regression test per durable-rules pitfall of ../shared/notes/durable-rules.md, through our adapter."""
from __future__ import annotations

import threading

import pytest

from compliance.catalog import load_catalog
from compliance.compiler import compile_catalog
from compliance.engine import MAX_LIVE_SESSIONS, RulesEngine
from compliance.evaluate import FactTypeError, engine_facts, evaluate
from compliance.facts import derive
from compliance.documents import assess
from compliance.loading import InputError
from tests.conftest import app_from, finding, statuses

CONFORMING = "ip794-operating-conforming"


class ExplodingEngine(RulesEngine):
    """An engine whose action for one requirement raises, as a bug in an action would."""

    def __init__(self, victim: str):
        super().__init__()
        self.victim = victim

    def _action(self, rule_name):
        record = super()._action(rule_name)
        if rule_name.startswith(self.victim + "|"):
            def explode(c):
                raise RuntimeError("сбой в действии правила")
            return explode
        return record


def test_exception_in_action_becomes_error_verdict_not_silence():
    app = app_from(CONFORMING)
    report = evaluate(app, "ip794", engine=ExplodingEngine("794-P-1"))
    assert report.engine_error and "сбой в действии правила" in report.engine_error
    assert finding(report, "794-P-1").status == "error"
    assert report.verdict == "incomplete"
    # the other requirements were still evaluated
    assert finding(report, "794-P-2").status == "met"


def test_trigger_is_a_fact_so_every_rule_waiting_on_it_fires():
    """An event trigger is consumed by the first rule; a trigger fact must release all of them."""
    report = evaluate(app_from(CONFORMING), "ip794")
    catalog = load_catalog("ip794")
    informational = [r for r in catalog.requirements.values() if r.kind == "informational"]
    assert len(informational) == 8  # 794-R-1 … 794-R-7 and 794-UK-10 (GOST R 56301, December 2026)
    assert all(finding(report, r.id).status == "informational" for r in informational)
    assert all(f.rules_fired for f in report.findings), "every requirement must be decided by a fired rule"


def test_none_patterns_come_after_the_trigger():
    compiled = compile_catalog(load_catalog("ip794"), app_from(CONFORMING).filing_date)
    negated = [body for body in compiled.rules.values() if any(k.endswith("$not") for p in body["all"] for k in p)]
    assert negated, "document rules use none()"
    for body in negated:
        keys = [k for p in body["all"] for k in p]
        assert keys[0] == "trg"
        assert keys.index("trg") < min(i for i, k in enumerate(keys) if k.endswith("$not"))


def test_present_document_is_not_reported_missing_whatever_the_assert_order():
    app = app_from(CONFORMING)
    forward = evaluate(app, "ip794")
    backward = evaluate(app, "ip794", fact_order=lambda facts: list(reversed(facts)))
    docs_first = evaluate(app, "ip794", fact_order=lambda facts: sorted(facts, key=lambda f: f["t"] != "doc"))
    for report in (forward, backward, docs_first):
        assert finding(report, "794-DOC-3").status == "met"
        assert statuses(report) == statuses(forward)


def test_missing_attribute_gives_insufficient_data_with_the_missing_field():
    app = app_from(CONFORMING, delete=["zoning"])
    f = finding(evaluate(app, "ip794"), "794-P-2")
    assert f.status == "insufficient_data"
    assert "zoning.production_zone_area" in f.missing_inputs


def test_string_where_a_number_is_due_never_reaches_the_engine(conforming_raw):
    conforming_raw["land_plots"][0]["area"]["value"] = "12"
    from compliance.loading import validate
    with pytest.raises(InputError) as exc:
        validate(conforming_raw)
    assert "land_plots[0].area.value" in str(exc.value)
    # and a derived fact of the wrong type is refused before it is asserted
    app = app_from(CONFORMING)
    facts = derive(app, app.filing_date)
    facts["total_area_ha"].value = "46"
    with pytest.raises(FactTypeError):
        engine_facts(facts, {"category": "operating"}, [])


def test_two_matches_of_one_rule_are_both_recorded_without_a_swallowed_exception():
    app = app_from(CONFORMING)
    egrn = [d for d in app.documents if d.kind == "egrn_extract"]
    assert len(egrn) >= 2
    report = evaluate(app, "ip794")
    f = finding(report, "794-DOC-4")
    assert f.status == "met" and report.engine_error is None
    assert f.rules_fired.count("794-DOC-4|v0|met") == len(egrn) + len([d for d in app.documents if d.kind == "lease_contract"])


def _conforming_facts(engine: RulesEngine):
    """The compiled 794 ruleset and the engine facts of the conforming park."""
    app = app_from(CONFORMING)
    catalog = load_catalog("ip794")
    compiled = engine.ruleset_for(catalog, app.filing_date)
    facts = engine_facts(derive(app, app.filing_date), {"t": "ctx", "category": "operating", "subtype": "general",
                                                        "has_residents": True, "sr_new_regions": False},
                         assess(app, catalog, app.filing_date).usable)
    return compiled, facts


def test_sessions_are_deleted_so_the_1024_limit_is_never_reached():
    engine = RulesEngine()
    compiled, facts = _conforming_facts(engine)
    for _ in range(MAX_LIVE_SESSIONS + 200):
        result = engine.run(compiled, facts)
        assert result.exception is None
    assert engine.live_sessions == 0
    assert engine.max_live_sessions_seen == 1


def test_concurrent_evaluations_equal_sequential_ones():
    names = ["ip794-operating-conforming", "ip794-created-gaps", "ip794-eco-new-region"]
    apps = [app_from(n) for n in names]
    expected = [statuses(evaluate(a, "ip794")) for a in apps]
    results: list = [None] * 24
    errors = []

    def work(i):
        try:
            results[i] = statuses(evaluate(apps[i % 3], "ip794"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(results[i] == expected[i % 3] for i in range(24))


def _cluster(name: str) -> dict:
    import json
    from tests.conftest import FIXTURES
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


QUALIFYING = {"import_substitution_project", "cluster_products_supply", "production_works_services",
              "special_investment_contract"}


def _without_contract(data: dict, as_of) -> set[str]:
    """Plain-Python answer: participants with no qualifying contract in force with another participant."""
    from datetime import date
    as_of = as_of or date.fromisoformat(data["filing_date"])
    linked = set()
    for c in data["cluster"]["contracts"]:
        started = not c.get("date") or date.fromisoformat(c["date"]) <= as_of
        ends = not c.get("valid_until") or date.fromisoformat(c["valid_until"]) >= as_of
        if c["type"] in QUALIFYING and started and ends:
            linked |= {c["party_a_inn"], c["party_b_inn"]}
    return {p["inn"] for p in data["cluster"]["participants"]} - linked


def test_join_is_not_dropped_when_the_related_item_is_filtered_by_several_values():
    """durable-rules drops a join placed after an $or filter: then ANY qualifying contract satisfies every
    participant. A participant whose only contract is of a non-qualifying type must still be named."""
    from compliance.loading import validate
    data = _cluster("cl779-conforming")
    victim = data["cluster"]["participants"][3]["inn"]
    for c in data["cluster"]["contracts"]:
        if victim in (c["party_a_inn"], c["party_b_inn"]):
            c["type"] = "other"
    expected = _without_contract(data, None)  # the victim, and any counterparty left without a contract
    assert victim in expected
    report = evaluate(validate(data), "cl779")
    f = finding(report, "779-C-1")
    assert f.status == "not_met"
    (check,) = f.checks
    assert check.fact.value == len(expected)
    assert {d.split("ИНН ")[1].rstrip(")") for d in check.fact.details if d.endswith(")")} == expected  # then why
    # contracts were not counted on the as-of date: «договор … (ИНН … — ИНН …): истёк …, не учтён»


# --- numbers: the engine reads an exponent only after a fraction, and 64-bit integers only -----------------------
# A probe runs in a subprocess: a number the engine cannot read used to crash the process (exit 139), which would
# kill pytest instead of failing the test.
MAGNITUDES = [1e-9, 3.7e-9, 1e-8, 1e-7, 1e-6, 1e-05, 5.5e-05, 1e-4, 0.1, 1.0, 8, 7.99, 0.30000000000000004,
              123456.789, 1e15, 1e16, 1.5e16, 1e17, 1e20, 9.87654321e22, 1e300, 2 ** 53 + 1, 2 ** 63 - 1, 2 ** 63,
              2 ** 64, 10 ** 30, -1e-06, -1e16, -0.0, 0.0, 0]

_PROBE = r"""
import json, math, sys
from compliance.engine import _QuietHost, engine_json
values = json.loads(sys.stdin.read())
host, fired, out = _QuietHost(), [], []
def record(op):
    return lambda c: fired.append(op)
for i, (norm, value) in enumerate(values):
    rules = {op: {"all": [{"f": {"$and": [{"t": "fact"}, cond]}}], "run": record(op)}
             for op, cond in (("ge", {"$gte": {"value": norm}}), ("lt", {"$lt": {"value": norm}}),
                              ("eq", {"value": norm}), ("gt", {"$gt": {"value": norm}}))}
    host.set_rulesets({f"probe{i}": rules})
    fired.clear()
    host.assert_text(f"probe{i}", engine_json({"sid": "s", "id": "f", "t": "fact", "value": value}))
    host.delete_state(f"probe{i}", "s")
    out.append(sorted(fired))
print(json.dumps(out))
"""


def _probe(pairs: list[tuple]) -> list[list[str]]:
    """For each (norm, value): which of the rules value >= norm, < norm, == norm, > norm fired in the engine."""
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT
    text = json.dumps([[n, v] for n, v in pairs])
    done = subprocess.run([sys.executable, "-c", _PROBE], input=text, capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, f"the engine probe ended with {done.returncode}: {done.stderr[-2000:]}"
    return json.loads(done.stdout)


def _python(norm, value) -> list[str]:
    return sorted(op for op, holds in (("ge", value >= norm), ("lt", value < norm), ("eq", value == norm),
                                       ("gt", value > norm)) if holds)


@pytest.mark.parametrize("magnitude", MAGNITUDES, ids=repr)
def test_every_magnitude_compares_in_the_engine_as_in_python(magnitude):
    """Equal stays equal and the next double up or down stays on its side: the number reaches the engine exactly,
    as a fact value and as a norm in a rule, whether Python prints it with an exponent or not."""
    import math
    x = float(magnitude)
    neighbours = [math.nextafter(x, math.inf), math.nextafter(x, -math.inf)]
    pairs = [(magnitude, magnitude)] + [(magnitude, n) for n in neighbours] + [(n, magnitude) for n in neighbours]
    expected = [_python(float(n), float(v)) for n, v in pairs]
    if isinstance(magnitude, int) and abs(magnitude) >= 2 ** 63:  # beyond 64 bits: the engine sees the nearest double
        expected[0] = ["eq", "ge"]
    assert _probe(pairs) == expected


def test_engine_json_writes_every_number_in_a_form_the_c_reader_takes():
    from compliance.engine import engine_json, engine_number
    assert [engine_number(x) for x in (1e-06, 1e+16, -1e-9, 1.5e-07, 0.1, 8, -0.0, 2 ** 64)] == \
        ["1.0e-06", "1.0e+16", "-1.0e-09", "1.5e-07", "0.1", "8", "-0.0", "1.8446744073709552e+19"]
    assert engine_json({"a": [1e-05, True, None, "1e-05"], "b": {"c": 1e20}}) == \
        '{"a":[1.0e-05,true,null,"1e-05"],"b":{"c":1.0e+20}}'


def test_python_json_numbers_are_what_the_plain_host_refuses():
    """The pitfall itself, measured: durable's own host serialises 1e-06 as Python prints it and the engine refuses
    it (error 204); if an upgrade of durable-rules fixes its reader, this test says the workaround may go."""
    import subprocess
    import sys

    from tests.conftest import ROOT
    probe = ("from durable import engine as d\n"
             "class H(d.Host):\n    def _run(self): pass\n"
             "h = H(); h.set_rulesets({'rs': {'r': {'all': [{'f': {'$gte': {'value': 0.5}}}], 'run': lambda c: None}}})\n"
             "try:\n    h.assert_fact('rs', {'sid': 's', 'id': 'a', 'value': 1e-06}); print('accepted')\n"
             "except Exception as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "error code: 204" in done.stdout, done.stdout + done.stderr


def test_a_non_finite_fact_is_refused_before_a_session_exists():
    from compliance.engine import EngineValueError
    engine = RulesEngine()
    compiled, facts = _conforming_facts(engine)
    with pytest.raises(EngineValueError):
        engine.run(compiled, facts + [{"t": "fact", "name": "total_area_ha", "value": float("nan")}])
    assert engine.live_sessions == 0
    tiny = [dict(f, value=1e-9) if f.get("name") == "total_area_ha" else f for f in facts]
    result = engine.run(compiled, tiny)
    assert result.exception is None and "794-P-1|v0|not_met|c0" in result.fired


def test_a_non_finite_norm_is_a_catalog_error():
    from compliance.catalog import Check
    from compliance.compiler import CompileError, validate_check
    with pytest.raises(CompileError, match="не конечное"):
        validate_check("794-P-1", Check(fact="total_area_ha", op=">=", value=float("inf")), float("inf"))


@pytest.mark.parametrize("change", ["land_plots.0.area.value=100000", "utilities.0.capacity.value=0.05",
                                    "land_plots.0.area.value=1e9", "utilities.0.capacity.value=1e-9"])
def test_cli_check_that_crashed_the_process_now_agrees_with_the_oracle(change):
    """These what-if values ended in a segmentation fault (exit 139): the first plot at 100 000 ha, 0.05 kW."""
    import json
    import subprocess
    import sys

    from compliance.whatif import apply_changes, parse_assignment
    from tests.conftest import FIXTURES, ROOT
    from tests.oracle import oracle
    done = subprocess.run([sys.executable, "-m", "compliance.cli", "check", str(FIXTURES / "ip794-created-gaps.yaml"),
                           "--set", change, "--format", "json"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]
    report = json.loads(done.stdout)["report"]
    assert report["engine_error"] is None
    app = apply_changes(app_from("ip794-created-gaps"), [parse_assignment(change)])
    expected = {rid: o.status for rid, o in oracle(app, "ip794").items()}
    assert {f["requirement_id"]: f["status"] for f in report["findings"]} == expected


_IDS_PROBE = r"""
import sys
import durable_rules_engine
from compliance.engine import _QuietHost
host = _QuietHost()
host.set_rulesets({"ids": {"r": {"all": [{"f": {"t": "fact"}}, {"g": {"t": "never"}}], "run": lambda c: None}}})
handle = host.get_ruleset("ids")._handle
codes = [durable_rules_engine.assert_fact(handle, '{"sid":"s","id":"%s","t":"fact"}' % x)[0]
         for x in [str(i) for i in range(int(sys.argv[1]))] + ["trigger", "0"]]
print(",".join(map(str, codes)))
"""


def test_session_fact_ids_never_clash_in_the_engine():
    """session_text gives the facts of every session the ids "0", "1", … and "trigger": the engine tells facts apart
    by a 32-bit hash of the id, and a clash would drop a fact (a batch reports it only if it is the last message).
    None of the first MAX_SESSION_FACTS ids clash (a larger session is refused); the same id again is seen as a
    duplicate (code 2), so the probe can fail.
    (In a separate process: deleting a session of thousands of facts is not what this test is about.)"""
    import subprocess
    import sys

    from compliance.engine import MAX_SESSION_FACTS
    from tests.conftest import ROOT
    done = subprocess.run([sys.executable, "-c", _IDS_PROBE, str(MAX_SESSION_FACTS)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    codes = done.stdout.strip().split(",")
    assert codes[:-1] == ["0"] * (MAX_SESSION_FACTS + 1) and codes[-1] == "2"


def test_a_session_over_the_checked_number_of_facts_is_refused_in_russian(monkeypatch):
    """More facts than the ids checked not to clash: the evaluation is refused (InputError, Russian), not risked."""
    from compliance import engine as engine_module
    from compliance.loading import load_application
    from tests.conftest import FIXTURES

    app = load_application(FIXTURES / "cl779-conforming.json")
    monkeypatch.setattr(engine_module, "MAX_SESSION_FACTS", 10)
    with pytest.raises(InputError, match="слишком много элементов для одной проверки"):
        evaluate(app, "cl779", engine=RulesEngine())


def test_facts_no_rule_reads_are_not_asserted_and_change_nothing():
    """RulesEngine.run asserts only facts some pattern may match: an extra fact of an unread name, an unread document
    kind and an unknown fact type leave the fired rules as they were."""
    engine = RulesEngine()
    compiled, facts = _conforming_facts(engine)
    extra = [{"t": "fact", "name": "cluster_regions_count", "value": 3}, {"t": "doc", "kind": "no_such_kind"},
             {"t": "other", "x": 1}]
    assert not any(compiled.reads(f) for f in extra)
    assert all(compiled.reads(f) for f in facts if f["t"] in ("ctx", "doc")
               or f.get("name") in ("total_area_ha", "production_zone_share_pct"))
    assert sorted(engine.run(compiled, facts + extra).fired) == sorted(engine.run(compiled, facts).fired)
    mixed = extra[:1] + facts + extra[1:]  # the one-pass filter keeps exactly what reads() keeps, in order
    assert compiled.read(mixed) == [f for f in mixed if compiled.reads(f)] and len(compiled.read(mixed)) < len(mixed)
