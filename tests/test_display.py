"""How numbers and gaps read to a person: one rounding (half up, Russian style) everywhere a number is shown; the
shortfall of an «exactly N» norm as a Russian sentence; a requirement with several checks (779-C-5) showing each
checked fact with the norm it was held to — in the text report (CLI), the JSON (API) and the pages."""
from __future__ import annotations

import html
import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from compliance.cli import app as cli
from compliance.evaluate import evaluate
from compliance.formatting import num, size, value
from compliance.loading import load_application
from tests.conftest import FIXTURES, app_from, finding, raw_fixture
from webclient import web_client

runner = CliRunner()
NBSP = "\u00a0"


# --- one rounding: half up on the number as written ------------------------------------------------------------
@pytest.mark.parametrize("x, digits, shown", [
    (70.625, 2, "70,63"), (2.675, 2, "2,68"), (1.005, 2, "1,01"), (0.125, 2, "0,13"), (1.115, 2, "1,12"),
    (-0.125, 2, "-0,13"), (8.345, 2, "8,35"), (0.00005, 4, "0,0001"), (2.5, 0, "3"), (1234567.125, 2, f"1{NBSP}234{NBSP}567,13"),
    (12.5, 4, "12,5"), (-0.001, 2, "0"), (1e16, 4, f"10{NBSP}000{NBSP}000{NBSP}000{NBSP}000{NBSP}000"),
])
def test_num_rounds_half_up_where_float_formatting_goes_down(x, digits, shown):
    assert num(x, digits) == shown


def test_the_halves_here_are_ones_that_python_rounds_down():
    """The cases above are real traps: the built-in formatting of these floats gives the lower neighbour."""
    assert [f"{x:.2f}" for x in (70.625, 2.675, 1.005, 0.125)] == ["70.62", "2.67", "1.00", "0.12"]


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=4))
def test_every_half_rounds_up(k, digits):
    """x = (10k + 5) / 10^(digits+1): exactly half-way at `digits` decimals when written in decimal. Expected value
    from integer arithmetic, not from the function under test."""
    x = float(Fraction(10 * k + 5, 10 ** (digits + 1)))
    up = k + 1  # in units of 10^-digits
    whole, frac = divmod(up, 10 ** digits)
    expected = f"{whole:,}".replace(",", NBSP) + ("," + f"{frac:0{digits}d}".rstrip("0") if frac else "")
    assert num(x, digits) == expected


def test_percent_values_and_sizes_use_the_same_rounding():
    assert value(70.625, "%") == "70,63 %"
    assert value(2.675, "ha") == "2,675 га"
    assert size(10 * 2**20) == "10 МБ" and size(int(2.25 * 2**20)) == "2,3 МБ" and size(512) == "512 байт"


def _park(zone_ha: float) -> dict:
    """The created park with gaps, its plots made 8 ha in total and its production zone `zone_ha`: the zone's share
    is zone / 8 × 100 %, a half at the second decimal for 3.55 ha (44.375 %) and 3.65 ha (45.625 %)."""
    raw = raw_fixture("ip794-created-gaps")
    raw["land_plots"][0]["area"] = {"value": 5.2, "unit": "ha"}
    raw["land_plots"][1]["area"] = {"value": 2.8, "unit": "ha"}
    raw["land_plots"] = raw["land_plots"][:2]
    raw["zoning"]["production_zone_area"] = {"value": zone_ha, "unit": "ha"}
    return raw


def _write(tmp_path: Path, raw: dict, name: str = "app.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_share_and_gap_halves_round_up_in_every_rendering(tmp_path):
    path = _write(tmp_path, _park(3.55))
    report = evaluate(load_application(path), "ip794")
    p2 = finding(report, "794-P-2")
    assert p2.fact.value == pytest.approx(44.375) and p2.norm.value == 50
    assert p2.fact.text == "44,38 %" and p2.shortfall.text == "не хватает 5,63 п. п."  # 5.625 → 5,63, not 5,62
    text = runner.invoke(cli, ["check", str(path)]).output
    assert "Факт: Доля производственной зоны в площади территории — 44,38 %" in text
    assert "Разрыв: не хватает 5,63 п. п." in text and "5,62" not in text
    md = runner.invoke(cli, ["check", str(path), "--format", "md"]).output
    assert "44,38 %" in md and "не хватает 5,63 п. п." in md
    calc = next(c for c in report.calculations if c.fact == "production_zone_share_pct")
    assert calc.text == "44,38 %"

    met = evaluate(load_application(_write(tmp_path, _park(3.65), "b.yaml")), "ip794")
    assert finding(met, "794-P-2").fact.text == "45,63 %"  # 45.625: the float's own formatting gives 45.62


def test_the_api_and_the_page_show_the_same_rounded_figures(tmp_path):
    web = web_client(tmp_path)
    body = yaml.safe_dump(_park(3.55), allow_unicode=True).encode()
    r = web.post("/applications/upload", files={"file": ("park.yaml", body)})
    assert r.status_code == 303, r.text[:2000]
    app_id = r.headers["location"].split("?")[0].rsplit("/", 1)[1]
    r = web.post(f"/applications/{app_id}/check", {"regime": "ip794", "as_of": ""})
    check_id = r.headers["location"].rsplit("/", 1)[1]
    stored = web.client.get(f"/api/v1/checks/{check_id}", headers={"Authorization": f"Bearer {web.token}"}).json()
    p2 = next(f for f in stored["reports"][0]["findings"] if f["requirement_id"] == "794-P-2")
    assert (p2["fact"]["text"], p2["shortfall"]["text"]) == ("44,38 %", "не хватает 5,63 п. п.")
    page = web.client.get(f"/checks/{check_id}").text
    article = page[page.index('id="f-794-P-2"'):]
    article = article[:article.index("</article>")]
    assert "44,38 %" in article and "не хватает 5,63 п. п." in article and "5,62" not in article


# --- «exactly one» and «none allowed» gaps -----------------------------------------------------------------------
def _cluster(name: str) -> Path:
    return FIXTURES / "batch" / name


def test_no_specialised_organisation_reads_as_required_exactly_one():
    report = evaluate(load_application(_cluster("cluster-23-no-so.json")), "cl779")
    c9 = finding(report, "779-C-9")
    assert (c9.status, c9.fact.value, c9.norm.value) == ("not_met", 0, 1)
    assert c9.shortfall.text == "требуется ровно 1, указано 0"
    out = runner.invoke(cli, ["check", str(_cluster("cluster-23-no-so.json"))]).output
    assert "779-C-9 Одна специализированная организация — требуется ровно 1, указано 0" in out
    assert "допустимо 1" not in out


def test_two_specialised_organisations_and_a_zero_norm_read_naturally():
    two = finding(evaluate(load_application(_cluster("cluster-16-two-so.json")), "cl779"), "779-C-9")
    assert (two.fact.value, two.shortfall.text) == (2, "требуется ровно 1, указано 2")
    p3 = finding(evaluate(app_from("ip794-created-gaps"), "ip794"), "794-P-3")  # a count that must be 0
    assert p3.norm.value == 0 and p3.shortfall.text == f"выявлено {p3.fact.value}, допустимо 0"


# --- a requirement with several checks: 779-C-5 shows the FD and the threshold applied -------------------------------
def test_reduced_threshold_shows_the_fd_the_threshold_and_why():
    path = FIXTURES / "cl779-reduced-threshold.json"
    report = evaluate(load_application(path), "cl779")
    c5 = finding(report, "779-C-5")
    fd = next(c for c in c5.checks if c.fact.name == "fd_pct")
    share = next(c for c in c5.checks if c.fact.name == "special_territory_share_pct")
    assert c5.status == "met" and c5.condition == "пониженный порог для особых территорий"
    assert c5.fact.name == "fd_pct"  # the requirement's measure, not the share that selects the threshold
    assert fd.norm.value == 10 and share.fact.value >= share.norm.value  # the reduced threshold applies, and why
    out = runner.invoke(cli, ["check", str(path)]).output
    block = out[out.index("[✓] 779-C-5"):]
    block = block[:block.index("\n[", 1)]
    assert "Выполнено условие: «пониженный порог для особых территорий»" in block
    assert f"Факт: {fd.fact.label} — {fd.fact.text} (норматив — {fd.norm.text})" in block
    assert f"Факт: {share.fact.label} — {share.fact.text} (норматив — {share.norm.text})" in block
    md = runner.invoke(cli, ["check", str(path), "--format", "md"]).output
    row = next(line for line in md.splitlines() if line.startswith("| 779-C-5 "))
    assert fd.fact.text in row and share.fact.text in row


def test_fd_below_the_reduced_threshold_measures_the_gap_to_it():
    """All participants on a geostrategic territory, FD 8.5 %: the threshold that applies is the reduced one, so the
    gap is to 10 %, not to 20 %."""
    report = evaluate(load_application(_cluster("cluster-11-geostrategic-fd-below-10.json")), "cl779")
    c5 = finding(report, "779-C-5")
    fd = next(c for c in c5.checks if c.fact.name == "fd_pct")
    assert c5.status == "not_met" and c5.condition == "пониженный порог для особых территорий"
    assert c5.fact.name == "fd_pct" and c5.shortfall.value == pytest.approx(fd.norm.value - fd.fact.value)
    assert fd.norm.value == 10 and c5.shortfall.text == f"не хватает {num(10 - fd.fact.value, 2)} п. п."


def test_general_threshold_when_the_special_share_is_too_low():
    report = evaluate(load_application(_cluster("cluster-10-special-25-fd-14.json")), "cl779")
    c5 = finding(report, "779-C-5")
    assert c5.condition == "общий порог" and c5.norm.text.startswith("функциональная зависимость — не менее 20")
    assert c5.shortfall.text == f"не хватает {num(20 - c5.fact.value, 2)} п. п."
    (other,) = c5.alternatives  # why the general threshold: the share of special territories is below its norm
    assert other.startswith("«пониженный порог для особых территорий» — не выполнено") and "25 %" in other
    out = runner.invoke(cli, ["check", str(_cluster("cluster-10-special-25-fd-14.json"))]).output
    assert "Оценено по условию: «общий порог»" in out and f"Другие условия: {other}" in out


def test_the_page_shows_every_checked_fact_of_the_fd_requirement(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload("cl779-reduced-threshold.json")
    r = web.post(f"/applications/{app_id}/check", {"regime": "", "as_of": ""})
    check_id = r.headers["location"].rsplit("/", 1)[1]
    stored = web.client.get(f"/api/v1/checks/{check_id}", headers={"Authorization": f"Bearer {web.token}"}).json()
    c5 = next(f for f in stored["reports"][0]["findings"] if f["requirement_id"] == "779-C-5")
    assert c5["fact"]["name"] == "fd_pct" and c5["condition"] == "пониженный порог для особых территорий"
    page = web.client.get(f"/checks/{check_id}").text
    article = page[page.index('id="f-779-C-5"'):]
    article = article[:article.index("<details")]
    assert "Выполнено условие" in article
    for c in c5["checks"]:
        assert html.escape(f'{c["fact"]["label"]} — {c["fact"]["text"]} (норматив — {c["norm"]["text"]})') in article


def test_word_report_shows_the_fd_with_its_threshold(tmp_path):
    from docx import Document

    out = tmp_path / "r.docx"
    result = runner.invoke(cli, ["check", str(FIXTURES / "cl779-reduced-threshold.json"), "--format", "docx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    # no-break spaces (Word typography: «14 %») read as spaces
    text = "\n".join(c.text for t in Document(str(out)).tables for row in t.rows for c in row.cells).replace("\u00a0", " ")
    report = json.loads(runner.invoke(cli, ["check", str(FIXTURES / "cl779-reduced-threshold.json"), "--format", "json"]).output)
    c5 = next(f for f in report["findings"] if f["requirement_id"] == "779-C-5")
    fd = next(c for c in c5["checks"] if c["fact"]["name"] == "fd_pct")
    assert re.search(re.escape(f'{fd["fact"]["label"]} — {fd["fact"]["text"]} (норматив — {fd["norm"]["text"]})'), text)
