"""Residents' offices in the useful-area breakdown (issue 13, 1381-T-3): they count toward the share of area for
residents under Decree 1381 and GOST R 56425 (the digests: «offices, laboratories, production»), not under Decree 1863
(«production, laboratory and R&D premises»); the management company's offices count nowhere. The regime decides in
its rules file which fact it reads — checked here through the engine, the CLI, the API and the pages."""
from __future__ import annotations

import html
import json
import re

import pytest
import yaml
from typer.testing import CliRunner

from compliance.cli import app as cli
from compliance.evaluate import evaluate
from compliance.formatting import field_label, num
from compliance.loading import InputError, validate
from compliance.models import UsefulAreaBreakdown
from tests.conftest import finding, raw_fixture
from webclient import web_client

runner = CliRunner()
MEASURE = {"htp1381": ("1381-T-3", "resident_share_with_offices_pct"),
           "gost56425": ("G-TER-3", "resident_share_with_offices_pct"),
           "itp1863": ("1863-T-5", "resident_useful_share_pct")}


def it_park(resident_offices: float = 5700, offices: float | None = None) -> dict:
    """The high-tech park «Академический» made IT-heavy: its first building's production and laboratories are gone,
    its R&D is 300 m², and the rest of what residents had there are their offices."""
    raw = raw_fixture("htp1381-operating")
    b = raw["buildings"][0]["useful_area_breakdown"]
    del b["resident_production"], b["resident_laboratory"]
    b["resident_rnd"]["value"] = 300
    b["resident_offices"] = {"value": resident_offices, "unit": "m2"}
    if offices is not None:
        b["offices"]["value"] = offices
    return raw


def shares(raw: dict) -> tuple[float, float]:
    """(share without offices, share with residents' offices), in %, from the raw data."""
    useful = with_offices = resident = 0.0
    for b in raw["buildings"]:
        useful += b["useful_area"]["value"]
        parts = b["useful_area_breakdown"]
        resident += sum(parts[k]["value"] for k in ("resident_production", "resident_laboratory", "resident_rnd") if k in parts)
        with_offices += parts.get("resident_offices", {"value": 0})["value"]
    return 100 * resident / useful, 100 * (resident + with_offices) / useful


def test_an_it_heavy_park_is_met_only_thanks_to_its_residents_offices():
    raw = it_park()
    without, with_offices = shares(raw)
    assert without < 50 <= with_offices  # the data really is on both sides of the norm
    app = validate(raw)
    for regime, (rid, fact) in MEASURE.items():
        f = finding(evaluate(app, regime), rid)
        expected = with_offices if fact == "resident_share_with_offices_pct" else without
        assert f.fact.name == fact and f.fact.value == pytest.approx(expected, abs=1e-4)
        assert f.status == ("met" if expected >= 50 else "not_met"), regime
    t3 = finding(evaluate(app, "htp1381"), "1381-T-3")
    assert t3.fact.details == [f"производство, лаборатории и НИОКР резидентов {num(6200)} м² + офисы резидентов "
                               f"{num(5700)} м² = {num(11900)} м² из {num(18100)} м² полезной площади"]
    assert "офисы УК не засчитываются" in t3.norm.text


def test_too_few_residents_offices_is_still_not_met_and_the_management_companys_offices_never_count():
    raw = it_park(resident_offices=1000, offices=5400)
    _, with_offices = shares(raw)
    assert with_offices < 50
    report = evaluate(validate(raw), "htp1381")
    t3 = finding(report, "1381-T-3")
    assert t3.status == "not_met" and t3.fact.value == pytest.approx(with_offices, abs=1e-4)
    assert t3.shortfall.text == f"не хватает {num(50 - t3.fact.value, 2)} п. п."
    assert "офисы, предназначенные резидентам, укажите отдельно от офисов УК" in t3.remedy


def test_the_breakdown_may_not_exceed_the_useful_area_with_the_new_part():
    raw = it_park(resident_offices=99999.5)
    with pytest.raises(InputError) as err:
        validate(raw)
    (problem,) = err.value.problems
    assert problem.message == f"сумма частей ({num(99999.5 + 300 + 700 + 1200 + 300)} м²) больше полезной площади " \
                              f"({num(8200)} м²)"  # the part is summed, and the figures are shown the one way


def test_the_field_is_described_and_labelled_in_russian():
    field = UsefulAreaBreakdown.model_fields["resident_offices"]
    assert field.description.startswith("офисные помещения для резидентов")
    assert "УК" in UsefulAreaBreakdown.model_fields["offices"].description
    assert field_label("buildings[0].useful_area_breakdown.resident_offices") == \
        "здания № 1 → разбивка полезной площади → офисные помещения для резидентов"
    schema = json.loads(runner.invoke(cli, ["schema"]).output)
    text = json.dumps(schema, ensure_ascii=False)
    assert "resident_offices" in text and "офисные помещения для резидентов" in text


def test_cli_reports_the_share_with_offices_and_its_calculation(tmp_path):
    path = tmp_path / "it.yaml"
    path.write_text(yaml.safe_dump(it_park(), allow_unicode=True), encoding="utf-8")
    out = runner.invoke(cli, ["check", str(path), "--regime", "htp1381"]).output
    _, with_offices = shares(it_park())
    assert re.search(r"\[✓\] 1381-T-3 .*— выполнено", out)
    assert f"— {num(with_offices, 2)} %" in out
    assert f"Доля полезной площади для резидентов с их офисами: {num(with_offices, 2)} %" in out  # calculations
    out1863 = runner.invoke(cli, ["check", str(path), "--regime", "itp1863"]).output
    assert re.search(r"\[✗\] 1863-T-5 .*— не выполнено", out1863)


def test_api_and_pages_count_the_residents_offices(tmp_path):
    web = web_client(tmp_path)
    body = yaml.safe_dump(it_park(), allow_unicode=True).encode()
    r = web.post("/applications/upload", files={"file": ("it.yaml", body)})
    assert r.status_code == 303, r.text[:2000]
    app_id = r.headers["location"].split("?")[0].rsplit("/", 1)[1]
    edit = web.client.get(f"/applications/{app_id}/edit").text
    field_id = re.search(r'id="([^"]+)" name="buildings\.0\.useful_area_breakdown\.resident_offices\.value"', edit).group(1)
    assert re.search(rf'<label for="{field_id}"[^>]*>Офисные помещения для резидентов', edit)
    assert re.search(rf'id="{field_id}"[^>]*value="5700"', edit)
    r = web.post(f"/applications/{app_id}/check", {"regime": "htp1381", "as_of": ""})
    check_id = r.headers["location"].rsplit("/", 1)[1]
    api = web.client.get(f"/api/v1/checks/{check_id}", headers={"Authorization": f"Bearer {web.token}"}).json()
    t3 = next(f for f in api["reports"][0]["findings"] if f["requirement_id"] == "1381-T-3")
    assert t3["status"] == "met" and t3["fact"]["name"] == "resident_share_with_offices_pct"
    page = web.client.get(f"/checks/{check_id}").text
    article = page[page.index('id="f-1381-T-3"'):]
    article = article[:article.index("</article>")]
    assert html.escape(t3["fact"]["text"]) in article and html.escape(t3["norm"]["text"]) in article
