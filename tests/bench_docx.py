"""Benchmark (not a test: pytest does not collect it): how long a Word gap report of 100 findings takes to build,
next to the JSON rendering of the same report.

    .venv/bin/python tests/bench_docx.py [--findings 100] [--repeat 9]

Prints the median of each and their ratio. No thresholds here: timings depend on the machine.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compliance.evaluate import evaluate  # noqa: E402
from compliance.loading import load_application  # noqa: E402
from compliance.render import render_json  # noqa: E402
from compliance.report import Report, count_statuses  # noqa: E402
from compliance.word import report_docx  # noqa: E402


def report_with(n: int) -> Report:
    """The gaps fixture's report with its findings copied (new IDs) up to ``n`` findings."""
    base = evaluate(load_application(ROOT / "fixtures" / "ip794-created-gaps.yaml"), "ip794")
    findings = []
    copy = 0
    while len(findings) < n:
        for f in base.findings:
            if len(findings) == n:
                break
            findings.append(f.model_copy(update={"requirement_id": f"{f.requirement_id}-{copy}"}))
        copy += 1
    return base.model_copy(update={"findings": findings, "counts": count_statuses(findings)})


def median_seconds(fn, repeat: int) -> float:
    fn()  # warm-up: imports, template loading, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    report = report_with(args.findings)
    size = len(report_docx([report]))
    docx_s = median_seconds(lambda: report_docx([report]), args.repeat)
    json_s = median_seconds(lambda: render_json(report), args.repeat)
    print(f"находок в отчёте: {len(report.findings)}; повторов: {args.repeat}")
    print(f"Word (.docx): медиана {docx_s * 1000:.1f} мс, размер {size / 1024:.0f} КБ")
    print(f"JSON:         медиана {json_s * 1000:.1f} мс")
    print(f"Word медленнее JSON в {docx_s / json_s:.0f} раз" if json_s > 0 else "")


if __name__ == "__main__":
    main()
