from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import yaml

from compliance.cases import apply_patch
from compliance.loading import validate

# the tests' own helpers (testdb, browser) by their plain names, also when this file is imported as tests.conftest
# from outside pytest (bench/run.py's differential check imports tests.test_oracle, which imports it)
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import testdb  # noqa: E402

pytest_plugins = ["browser"]  # fixtures of the real-browser tests (tests/browser.py); Chromium starts only when used

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture(autouse=True)
def _drop_postgres_databases():
    """The PostgreSQL databases a test created (tests/testdb.py) are dropped after it; those of wider-scoped fixtures,
    created before this one, at the end of the run."""
    since = len(testdb.created)
    yield
    testdb.drop(since)


def pytest_sessionfinish(session, exitstatus):  # noqa: ANN001
    if testdb.POSTGRES_URL:
        testdb.drop()


def raw_fixture(name: str) -> dict:
    return yaml.safe_load((FIXTURES / f"{name}.yaml").read_text(encoding="utf-8"))


def app_from(name: str, set_: dict | None = None, delete: list[str] | None = None):
    return validate(apply_patch(raw_fixture(name), set_ or {}, delete or []))


@pytest.fixture
def conforming_raw() -> dict:
    return copy.deepcopy(raw_fixture("ip794-operating-conforming"))


def statuses(report) -> dict[str, str]:
    return {f.requirement_id: f.status for f in report.findings}


def finding(report, rid: str):
    return next(f for f in report.findings if f.requirement_id == rid)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter):
    """Where the browser tests (tests/browser.py) saved screenshots in this run, if they took any: printed after the
    short test summary, just above the final counts."""
    result = yield
    browser = sys.modules.get("browser")
    line = browser.summary_line() if browser and hasattr(browser, "summary_line") else None
    if line:
        terminalreporter.write_line(line)
    return result
