"""Every catalog test case (rules/cases/<regime>.yaml) as its own pytest item: input, as-of date, expected statuses."""
from __future__ import annotations

import pytest

from compliance.cases import run_case
from compliance.catalog import available_regimes, load_catalog

CASES = [(regime, case) for regime in available_regimes()
         for case in (load_catalog(regime).cases.cases if load_catalog(regime).cases else [])]


@pytest.mark.parametrize("regime, case", CASES, ids=[f"{r}:{c.name}" for r, c in CASES])
def test_catalog_case(regime, case):
    result = run_case(load_catalog(regime), case)
    assert result.ok, result.describe()
