"""`make bench`: speed, memory and correctness figures, measured in one run and written to bench/results.json.

BENCH_SCALE (default 1) scales the iteration counts: BENCH_SCALE=0.05 for a quick look. Timing lives here, never in
`make test`. Run from the project root: .venv/bin/python bench/run.py
"""
from __future__ import annotations

import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compliance.catalog import load_catalog  # noqa: E402
from compliance.documents import assess  # noqa: E402
from compliance.engine import get_engine  # noqa: E402
from compliance.evaluate import engine_facts, evaluate  # noqa: E402
from compliance.facts import collections, context, derive  # noqa: E402
from compliance.identifiers import make_inn10  # noqa: E402
from compliance.loading import load_application, validate  # noqa: E402
from compliance.render import render_json  # noqa: E402
from tests.oracle import oracle  # noqa: E402

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
TYPICAL = {"ip794": "ip794-operating-conforming.yaml", "itp1863": "itp1863-operating-occupancy-gap.yaml",
           "htp1381": "htp1381-operating.yaml", "cl779": "cl779-conforming.json", "gost56425": "htp1381-operating.yaml"}


def n(x: int) -> int:
    return max(1, int(x * SCALE))


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def engine_inputs(app, regime):
    """What the engine alone needs for one evaluation (prepared once): the compiled ruleset and the facts."""
    catalog = load_catalog(regime)
    as_of = app.filing_date
    lists = {role: {i.code: i.name for i in lst.items} for role, lst in catalog.lists.items()}
    facts = derive(app, as_of, lists)
    flags = catalog.special_flags(app.region, as_of)
    subtype = app.subtype if app.subtype in catalog.decree.subtypes else "general"
    ctx = context(app, as_of, flags, subtype)
    asserted = engine_facts(facts, ctx, assess(app, catalog, as_of).usable, collections(app, as_of))
    return get_engine().ruleset_for(catalog, as_of), asserted


FIVE = ["ip794", "itp1863", "htp1381", "cl779", "gost56425"]


def five_regime_application():
    """One site with the sections of all five regimes: the high-tech park of fixtures/ with the cluster section of the
    conforming cluster, applying for every regime."""
    import yaml
    data = json.loads(json.dumps(yaml.safe_load((ROOT / "fixtures" / "htp1381-operating.yaml").read_text(
        encoding="utf-8")), default=str))
    data["cluster"] = json.loads((ROOT / "fixtures" / "cl779-conforming.json").read_text(encoding="utf-8"))["cluster"]
    data["regimes"] = FIVE
    return validate(data)


def bench_all_five() -> dict:
    """All five regimes for one application in one call (evaluate_all), wall clock and this process's CPU time (the
    machine may be shared: CPU time is the steadier figure), and the same five regimes evaluated one by one."""
    from compliance.evaluate import evaluate_all
    app = five_regime_application()
    evaluate_all(app, FIVE)  # compile once
    wall, cpu, singles = [], [], []
    for _ in range(n(300)):
        t, c = time.perf_counter(), time.process_time()
        evaluate_all(app, FIVE)
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        t = time.perf_counter()
        for regime in FIVE:
            evaluate(app, regime)
        singles.append(time.perf_counter() - t)
    return {"median_ms": statistics.median(wall) * 1000, "p99_ms": pct(wall, 99) * 1000,
            "cpu_median_ms": statistics.median(cpu) * 1000, "cpu_min_ms": min(cpu) * 1000,
            "one_by_one_median_ms": statistics.median(singles) * 1000}


def bench_regimes() -> dict:
    out, total_median = {}, 0.0
    for regime, fixture in TYPICAL.items():
        app = load_application(ROOT / "fixtures" / fixture)
        evaluate(app, regime)  # compile once
        compiled, asserted = engine_inputs(app, regime)
        full, engine_only, oracle_only = [], [], []
        for _ in range(n(300)):
            t = time.perf_counter(); evaluate(app, regime); full.append(time.perf_counter() - t)
            t = time.perf_counter(); get_engine().run(compiled, asserted); engine_only.append(time.perf_counter() - t)
            t = time.perf_counter(); oracle(app, regime); oracle_only.append(time.perf_counter() - t)
        med = statistics.median(full)
        total_median += med
        out[regime] = {"check_median_ms": med * 1000, "check_p99_ms": pct(full, 99) * 1000,
                       "engine_only_median_ms": statistics.median(engine_only) * 1000,
                       "oracle_median_ms": statistics.median(oracle_only) * 1000,
                       "check_to_oracle_ratio": med / statistics.median(oracle_only),
                       "engine_to_oracle_ratio": statistics.median(engine_only) / statistics.median(oracle_only)}
    out["all_five_median_ms"] = total_median * 1000
    out["all_five_in_one_call"] = bench_all_five()
    return out


def bench_docx() -> dict:
    try:
        from compliance.word import report_docx
    except ImportError:
        return {"skipped": "compliance.word ещё нет"}
    app = load_application(ROOT / "fixtures" / "cl779-conforming.json")
    reports = [evaluate(load_application(ROOT / "fixtures" / f), r) for r, f in TYPICAL.items()]
    report = reports[0].model_copy(update={"findings": [f for r in reports for f in r.findings][:100]})
    docx_t, json_t = [], []
    for _ in range(n(30)):
        t = time.perf_counter(); report_docx([report]); docx_t.append(time.perf_counter() - t)
        t = time.perf_counter(); render_json(report); json_t.append(time.perf_counter() - t)
    del app
    return {"findings": len(report.findings), "docx_median_ms": statistics.median(docx_t) * 1000,
            "json_median_ms": statistics.median(json_t) * 1000,
            "docx_to_json_ratio": statistics.median(docx_t) / statistics.median(json_t)}


def synthetic_cluster(rnd: random.Random, participants: int = 50) -> dict:
    base = json.loads((ROOT / "fixtures" / "cl779-conforming.json").read_text(encoding="utf-8"))
    template = base["cluster"]["participants"]
    parts = []
    for i in range(participants):
        p = dict(template[i % len(template)])
        p["inn"] = make_inn10(f"63{rnd.randrange(10**7):07d}")
        p["name"] = f"{p['name']} {i + 1}"
        p.pop("ogrn", None)
        parts.append(p)
    inns = [p["inn"] for p in parts]
    if len(set(inns)) != len(inns):
        return synthetic_cluster(rnd, participants)
    contracts = [{"number": f"Д-{i}", "party_a_inn": inns[i], "party_b_inn": inns[(i + 1) % len(inns)],
                  "type": rnd.choice(["cluster_products_supply", "production_works_services", "other"]),
                  "amount_rub": 1_000_000.0, "date": "2024-01-15"} for i in range(len(inns))]
    makers = [p for p in parts if p.get("products") == "final"]
    purchases = [{"participant_inn": p["inn"], "year": 2024, "total_inputs_rub": 1e9,
                  "inputs_from_participants_rub": 1e9 * rnd.uniform(0.05, 0.4)} for p in makers]
    base["cluster"].update(participants=parts, contracts=contracts, purchases=purchases)
    return base


def bench_batch() -> dict:
    from compliance.batch import run_batch
    rnd = random.Random(1)
    count = n(1000)
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(count):
            path = Path(tmp) / f"cluster-{i:04d}.json"
            path.write_text(json.dumps(synthetic_cluster(rnd), ensure_ascii=False), encoding="utf-8")
            files.append(path)
        t = time.perf_counter()
        summary = run_batch(files)
        elapsed = time.perf_counter() - t
    return {"clusters": count, "participants_each": 50, "seconds": elapsed, "per_second_one_core": count / elapsed,
            "counts": summary.counts}


def synthetic_park(base: dict, rnd: random.Random, i: int) -> dict:
    """An operating industrial park from the 794 fixture: its third plot contiguous or 1–15 km away, 0–7 producing
    residents, one of five regions — so the 2025 draft flips verdicts both ways."""
    data = json.loads(json.dumps(base, default=str))
    data["site_name"] = f"Индустриальный парк № {i}"
    data["region"] = rnd.choice(["Калужская область", "Тульская область", "Липецкая область", "Республика Татарстан",
                                 "Свердловская область"])
    if rnd.random() < 0.5:
        data["land_plots"][2].update(adjacency="separate", distance_to_main_km=round(rnd.uniform(1, 15), 1))
    producing = rnd.randint(0, len(data["residents"]))
    for k, resident in enumerate(data["residents"]):
        resident["producing"] = k < producing
    return data


def bench_impact() -> dict:
    """The 2025 draft for 794 (fixtures/scenarios) over 1,000 synthetic parks, each evaluated under the current
    catalog and under the draft, files read included, on one core."""
    import yaml

    from compliance.impact import load_scenario, run_impact
    rnd = random.Random(7)
    count = n(1000)
    base = yaml.safe_load((ROOT / "fixtures" / "ip794-operating-conforming.yaml").read_text(encoding="utf-8"))
    scenario = load_scenario(ROOT / "fixtures" / "scenarios" / "ip794-draft-2025.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        items = []
        for i in range(count):
            path = Path(tmp) / f"park-{i:04d}.json"
            path.write_text(json.dumps(synthetic_park(base, rnd, i), ensure_ascii=False), encoding="utf-8")
            items.append((path.name, path))
        t = time.perf_counter()
        result = run_impact(items, scenario)
        elapsed = time.perf_counter() - t
    totals = result.totals
    return {"applications": count, "catalogs": 2, "seconds": elapsed, "per_second_one_core": count / elapsed,
            "worse": totals.worse, "better": totals.better, "same": totals.same, "errors": totals.errors}
def bench_watch() -> dict:
    """The deadline watch over 1,000 synthetic applications (the typical fixtures of the four regimes with random
    conformity decisions and leases): validation of the stored JSON and the watch, as the «Сроки» page does (goal ≤ 1 s)."""
    from datetime import date, timedelta

    from compliance.watch import deadlines, order, within

    rnd = random.Random(7)
    count = n(1000)
    bases = {regime: load_application(ROOT / "fixtures" / name).model_dump(mode="json")
             for regime, name in TYPICAL.items() if regime != "gost56425"}
    bodies = []
    for i in range(count):
        regime = list(bases)[i % len(bases)]
        body = json.loads(json.dumps(bases[regime]))
        decided = date(2016, 1, 1) + timedelta(days=rnd.randrange(3650))
        body["conformity_decisions"] = [{"regime": regime, "date": decided.isoformat(), "in_register": rnd.random() < .8}]
        for plot in body["land_plots"]:
            if rnd.random() < .5:
                plot.update(right="lease", lease_end=(date(2026, 1, 1) + timedelta(days=rnd.randrange(2000))).isoformat())
        body["site_name"] = f"{body['site_name']} {i}"
        bodies.append(body)
    as_of = date(2026, 12, 6)
    from compliance.models import Application

    deadlines(validate(bodies[0]), as_of)  # catalogs loaded once, as in a running service
    runs = []
    for _ in range(3):  # the median of three runs: the machine is shared
        t = time.perf_counter()
        apps = [Application.model_validate(b) for b in bodies]  # as the page reads stored applications
        t_valid = time.perf_counter() - t
        t = time.perf_counter()
        items, cache = [], {}
        for i, app in enumerate(apps):
            items += deadlines(app, as_of, f"заявка {i}", cache=cache)
        shown = within(order(items), as_of, 90)
        t_watch = time.perf_counter() - t
        runs.append((t_valid + t_watch, t_valid, t_watch))
    total, t_valid, t_watch = sorted(runs)[1]
    return {"applications": count, "deadlines": len(items), "within_90": len(shown), "validate_seconds": t_valid,
            "watch_seconds": t_watch, "seconds": total}


def _differential_chunk(args) -> dict:
    seed, count = args
    from tests.test_oracle import compare
    rnd = random.Random(seed)
    fixtures = {f: (ROOT / "fixtures" / f).read_text(encoding="utf-8") for f in set(TYPICAL.values())
                | {"ip794-created-gaps.yaml", "ip794-eco-new-region.yaml", "itp1863-created-agrobiotech.yaml",
                   "brownfield-794-1863.yaml", "cl779-contract-gap.json", "cl779-reduced-threshold.json"}}
    import yaml
    parsed = {f: (json.loads(t) if f.endswith(".json") else yaml.safe_load(t)) for f, t in fixtures.items()}
    disagreements, checked, start_rss = [], 0, rss_mb()
    for _ in range(count):
        name = rnd.choice(sorted(parsed))
        data = json.loads(json.dumps(parsed[name], default=str))
        mutate(data, rnd)
        try:
            app = validate(data)
        except Exception:
            continue
        regimes = list(app.regimes) + (["gost56425"] if app.buildings else [])
        regime = rnd.choice(regimes)
        problems = compare(app, regime, rnd)
        checked += 1
        if problems and len(disagreements) < 20:
            disagreements.append({"fixture": name, "regime": regime, "problems": problems})
    return {"checked": checked, "disagreements": disagreements, "rss_start_mb": start_rss, "rss_end_mb": rss_mb(),
            "max_live_sessions": get_engine().max_live_sessions_seen}


def mutate(data: dict, rnd: random.Random) -> None:
    """Random, mostly valid changes: areas, capacities, statuses, flags, documents, contracts, purchases."""
    for plot in data.get("land_plots", []):
        if rnd.random() < 0.3:
            plot["area"]["value"] = round(rnd.uniform(0.5, 30), 3)
    for u in data.get("utilities", []):
        if rnd.random() < 0.3:
            u["status"] = rnd.choice(["technical_conditions", "connection_contract", "connected", "absent", "not_stated"])
            if u["status"] in ("absent", "not_stated"):  # «нет» and «не указано» carry no capacity
                u.pop("capacity", None)
    for name in ("residents", "service_objects", "partnerships"):  # «не указано» or «нет» now and then
        if rnd.random() < 0.05:
            data.pop(name, None)
        elif rnd.random() < 0.05:
            data[name] = []
    for b in data.get("buildings", []):
        if rnd.random() < 0.3:
            b["total_area"]["value"] *= rnd.uniform(0.3, 1.5)
            if b.get("useful_area") and b["useful_area"]["value"] > b["total_area"]["value"]:
                b["total_area"]["value"] = b["useful_area"]["value"]
        if b.get("leased_to_residents") and rnd.random() < 0.3:
            b["leased_to_residents"]["value"] *= rnd.uniform(0, 2)
    if data.get("category") and rnd.random() < 0.3:
        data["category"] = rnd.choice(["created", "operating"])
    if rnd.random() < 0.2:
        data["region"] = rnd.choice(["Запорожская область", "Калужская область", "Донецкая Народная Республика"])
    mc = data.get("management_company")
    if mc and rnd.random() < 0.2:
        mc[rnd.choice(["in_liquidation", "has_overdue_tax_debt", "in_bankruptcy"])] = rnd.choice([True, False, None])
    docs = data.get("documents", [])
    if docs and rnd.random() < 0.4:
        docs.pop(rnd.randrange(len(docs)))
    cl = data.get("cluster")
    if cl:
        for c in cl["contracts"]:
            if rnd.random() < 0.1:
                c["type"] = rnd.choice(["cluster_products_supply", "production_works_services", "other"])
        for row in cl["purchases"]:
            if rnd.random() < 0.5:
                row["inputs_from_participants_rub"] = row["total_inputs_rub"] * rnd.uniform(0, 0.5)
        for p in cl["participants"]:
            if rnd.random() < 0.1:
                p["special_territory"] = rnd.choice([None, "monotown"])


def bench_differential() -> dict:
    total, workers = n(100_000), max(1, min(2, os.cpu_count() or 1))
    t = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(_differential_chunk, [(seed, total // workers) for seed in range(workers)]))
    return {"applications": sum(p["checked"] for p in parts), "processes": workers, "seconds": time.perf_counter() - t,
            "disagreements": sum(len(p["disagreements"]) for p in parts),
            "examples": [d for p in parts for d in p["disagreements"]][:10],
            "worker_rss_mb": [(p["rss_start_mb"], p["rss_end_mb"]) for p in parts]}


def bench_soak() -> dict:
    """RSS of this process over many engine evaluations (the memory risk is in the C engine) and live sessions."""
    prepared = [engine_inputs(load_application(ROOT / "fixtures" / f), r) for r, f in TYPICAL.items()]
    engine = get_engine()
    for compiled, asserted in prepared:  # warm up
        engine.run(compiled, asserted)
    count, samples = n(100_000), []
    start = rss_mb()
    for i in range(count):
        compiled, asserted = prepared[i % len(prepared)]
        engine.run(compiled, asserted)
        if i % max(1, count // 20) == 0:
            samples.append(round(rss_mb(), 2))
    end = rss_mb()
    return {"checks": count, "rss_start_mb": start, "rss_end_mb": end, "rss_growth_mb": end - start,
            "rss_samples_mb": samples, "max_live_sessions": engine.max_live_sessions_seen,
            "live_sessions_now": engine.live_sessions}


def bench_verify() -> dict:
    """`compliance catalog verify`: a whole act (the made-up decree of fixtures/acts) read, matched and reported, per
    format; the first run includes loading the Russian dictionaries (target: under 2 s each)."""
    from compliance.acttext import parse
    from compliance.actmatch import verify
    from compliance.actreport import render_text

    catalog = load_catalog("ip794")
    out: dict = {}
    t = time.perf_counter()
    verify(catalog, parse(ROOT / "fixtures" / "acts" / "park-decree.txt"))
    out["first_run_s"] = time.perf_counter() - t
    for fmt in ("txt", "docx", "html", "rtf", "pdf"):
        times = []
        for _ in range(max(1, n(5))):
            t = time.perf_counter()
            result = verify(catalog, parse(ROOT / "fixtures" / "acts" / f"park-decree.{fmt}"))
            render_text(result, catalog)
            times.append(time.perf_counter() - t)
        out[f"{fmt}_median_s"] = statistics.median(times)
    return out


def main() -> int:
    results = {"generated_at": datetime.now(timezone.utc).isoformat(), "machine": machine(), "scale": SCALE}
    steps = [("regimes", bench_regimes), ("docx", bench_docx), ("verify", bench_verify), ("batch", bench_batch),
             ("impact", bench_impact), ("watch", bench_watch), ("differential", bench_differential),
             ("soak", bench_soak)]
    try:
        from bench.api import bench_api
        steps.insert(3, ("api", bench_api))
    except ImportError:
        results["api"] = {"skipped": "сервис ещё не собран"}
    from bench.hostile import bench_hostile
    steps.insert(4, ("hostile", bench_hostile))
    for name, fn in steps:
        t = time.perf_counter()
        print(f"… {name}", file=sys.stderr, flush=True)
        results[name] = fn()
        results[name]["_step_seconds"] = round(time.perf_counter() - t, 1)
    out = ROOT / "bench" / "results.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print_table(results)
    print(f"\nПодробно: {out}")
    return 1 if results["differential"]["disagreements"] else 0


def print_table(r: dict) -> None:
    m = r["machine"]
    print(f"Машина: {m['cpu']}, ядер: {m['cores']}, Python {m['python']}; масштаб {r['scale']}")
    print(f"\n{'Режим':<10} {'проверка, мс (медиана / p99)':>30} {'движок, мс':>11} {'оракул, мс':>11} {'движок/оракул':>14}")
    for regime in TYPICAL:
        x = r["regimes"][regime]
        print(f"{regime:<10} {x['check_median_ms']:>17.2f} / {x['check_p99_ms']:<10.2f} {x['engine_only_median_ms']:>11.2f}"
              f" {x['oracle_median_ms']:>11.2f} {x['engine_to_oracle_ratio']:>14.1f}")
    print(f"Все пять режимов вместе (сумма медиан): {r['regimes']['all_five_median_ms']:.2f} мс (цель ≤ 5 мс)")
    one = r["regimes"].get("all_five_in_one_call")
    if one:
        met = "достигнута" if one["median_ms"] <= 5 else "не достигнута"
        print(f"Все пять режимов одной заявки одним вызовом: {one['median_ms']:.2f} мс (p99 {one['p99_ms']:.2f}, "
              f"процессорное время {one['cpu_median_ms']:.2f} мс; по одному режиму — {one['one_by_one_median_ms']:.2f} "
              f"мс); цель ≤ 5 мс {met}")
    d = r["docx"]
    if "skipped" in d:
        print(f"Word: пропущено — {d['skipped']}")
    else:
        print(f"Word, отчёт на {d['findings']} находок: {d['docx_median_ms']:.1f} мс (цель ≤ 150 мс), JSON: "
              f"{d['json_median_ms']:.2f} мс, в {d['docx_to_json_ratio']:.0f} раз медленнее")
    v = r.get("verify")
    if v:
        print("Сверка каталога с текстом акта, с: первый запуск (со словарями) "
              f"{v['first_run_s']:.2f}; " + ", ".join(f"{f} {v[f'{f}_median_s']:.2f}" for f in
                                                  ("txt", "docx", "html", "rtf", "pdf")) + " (цель < 2 с)")
    b = r["batch"]
    print(f"Пакет: {b['clusters']} кластеров × {b['participants_each']} участников — {b['seconds']:.1f} с (цель ≤ 30 с), "
          f"{b['per_second_one_core']:.1f} заявок/с на ядро")
    i = r.get("impact")
    if i:
        print(f"Последствия проекта: {i['applications']} заявок × {i['catalogs']} каталога — {i['seconds']:.1f} с "
              f"(цель ≤ 15 с), {i['per_second_one_core']:.1f} заявок/с на ядро; итог хуже у {i['worse']}, лучше у "
              f"{i['better']}")
    w = r.get("watch")
    if w:
        print(f"Сроки: {w['applications']} заявок — {w['seconds']:.2f} с (цель ≤ 1 с; из них проверка данных заявок "
              f"{w['validate_seconds']:.2f} с, расчёт сроков {w['watch_seconds']:.2f} с), сроков {w['deadlines']}, "
              f"на 90 дней вперёд {w['within_90']}")
    a = r.get("api", {})
    if "skipped" in a:
        print(f"API: пропущено — {a['skipped']}")
    elif a:
        print(f"API: {a.get('http_checks_per_second', 0):.1f} проверок/с по HTTP (2 процесса) против "
              f"{a.get('in_process_checks_per_second', 0):.1f} в процессе — {a.get('http_to_in_process_pct', 0):.0f} % "
              f"(цель ≥ 50 %); p99 при {a.get('fixed_rate_rps', 0)} запр./с: {a.get('p99_ms_at_fixed_rate', 0):.1f} мс")
    h = r.get("hostile")
    if h:
        print(f"Враждебные файлы: {len(h['files'])}, все отклонены с 413/422: {'да' if h['all_refused_413_422'] else 'НЕТ'}; "
              f"самый долгий отказ {h['slowest_refusal_s']:.2f} с (цель < 1 с); процесс сервиса: RSS "
              f"{h['web_rss_before_mb']:.0f} → {h['web_rss_after_mb']:.0f} МБ, пик {h['web_peak_rss_mb']:.0f} МБ "
              "(цель < 300 МБ)")
    x = r["differential"]
    print(f"Сравнение с оракулом: {x['applications']} заявок, расхождений: {x['disagreements']} (цель 0), "
          f"{x['seconds']:.0f} с в {x['processes']} процессах")
    s = r["soak"]
    print(f"Выносливость: {s['checks']} проверок, RSS {s['rss_start_mb']:.1f} → {s['rss_end_mb']:.1f} МБ "
          f"(прирост {s['rss_growth_mb']:+.1f} МБ, цель ≤ 5 МБ); максимум живых сессий движка: "
          f"{s['max_live_sessions']} (≤ 1024)")


if __name__ == "__main__":
    sys.exit(main())
