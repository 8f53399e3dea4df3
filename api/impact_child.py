"""The process that evaluates the items of one impact job (api/impact.py `_Evaluator` starts it:
`python -m api.impact_child IDLE_SECONDS`). It reads one JSON request a line on stdin — the first names the scenario
(its text, name and digest), each one application (label, body, as-of date) — and answers one JSON line each: the
`ImpactSite` ({"site": …}) or the Russian error ({"error": …}). The scenario's rulesets are compiled here and die with
this process: it exits at the end of its input (its parent closed the pipe, or died) and after IDLE_SECONDS without a
request. Only this module's answers go to the real stdout: whatever a library prints is sent to stderr."""
from __future__ import annotations

import json
import os
import select
import sys
import traceback
from datetime import date
from typing import Any


def compare(scenario: Any, request: dict[str, Any]) -> dict[str, Any]:
    from compliance.impact import compare_site
    from compliance.loading import InputError, validate

    if os.environ.get("COMPLIANCE_TEST_CRASH") == "1" and request["body"].get("site_name") == CRASH_SITE_NAME:
        os._exit(70)  # test-only, as api/workers.py: a crash of the rules engine on this application
    try:
        app = validate(request["body"])
    except InputError as exc:
        return {"error": "; ".join(map(str, exc.problems))[:2000]}
    as_of = date.fromisoformat(request["as_of"]) if request.get("as_of") else None
    return {"site": compare_site(request["label"], app, scenario, as_of).model_dump(mode="json")}


CRASH_SITE_NAME = "__compliance_test_crash__"  # api/workers.py's (not imported: this process stays small)
INTERNAL = "заявка не оценена из-за внутренней ошибки (подробности — в журнале обработчика заданий)"


def main(idle: float) -> None:
    from compliance.catalog import CatalogError
    from compliance.scenario import load_scenario_bytes

    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # prints of libraries (also from C) go to stderr, never into the answers
    requests = sys.stdin
    scenario, refused = None, ""
    while True:
        ready, _, _ = select.select([requests], [], [], idle)
        if not ready:
            return  # idle: the job was cancelled or interrupted
        line = requests.readline()
        if not line:
            return  # the parent closed the pipe or is gone
        request = json.loads(line)
        if "scenario" in request:
            s = request["scenario"]
            try:
                scenario = load_scenario_bytes(s["text"].encode("utf-8"), s["name"])
            except CatalogError as exc:  # the catalog on disk changed since the upload: the scenario no longer applies
                scenario = None
                refused = "сценарий больше не применяется к текущему каталогу: " + "; ".join(str(exc).splitlines())
            answers.write(json.dumps({"ready": s["digest"]}) + "\n")
        elif scenario is None:
            answers.write(json.dumps({"error": refused[:2000]}) + "\n")
        else:
            try:
                answer = compare(scenario, request)
            except Exception:  # noqa: BLE001 — one application must not stop the job; the trace goes to the log
                traceback.print_exc()
                answer = {"error": INTERNAL}
            answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    main(float(sys.argv[1]))
