"""Reports give, per regime, how the regime's norms are confirmed on the report's date: by the text of the act (T), by
secondary sources (S), not confirmed (A, M, U) — counted from the catalog (the values of its dated parameters in force
on that date; the wording of a requirement whose rule cites no parameter in force), in JSON, text, Markdown, Word and
on the check page."""
from __future__ import annotations

import html
import io
import json
from datetime import date

import pytest
from docx import Document
from typer.testing import CliRunner

from compliance.catalog import cited_params, load_catalog
from compliance.cli import app as cli
from compliance.evaluate import evaluate
from compliance.loading import load_application
from tests.conftest import FIXTURES

runner = CliRunner()
CASES = [("ip794-created-gaps.yaml", "ip794"), ("itp1863-created-agrobiotech.yaml", "itp1863"),
         ("htp1381-operating.yaml", "htp1381"), ("cl779-contract-gap.json", "cl779")]


def expected(regime: str, on: date) -> dict[str, int]:
    """The counts from the catalog itself: each parameter's value in force on `on` by its confidence, and each
    requirement none of whose cited parameters is in force by the confidence of its wording."""
    cat = load_catalog(regime)
    codes = []
    in_force = set()
    for name, param in cat.rulebook.parameters.items():
        current = None
        for v in param.values:
            if v.start <= on and (current is None or v.start >= current.start):
                current = v
        if current is not None and current.value is not None:
            codes.append(current.confidence)
            in_force.add(name)
    for req in cat.decree.requirements:
        rule = cat.rules.get(req.id)
        if not (rule and in_force & set(cited_params(rule))):
            codes.append(req.confidence)
    return {"total": len(codes), "text": codes.count("T"), "secondary": codes.count("S"),
            "unconfirmed": sum(codes.count(c) for c in "AMU")}


def sentence(c: dict[str, int]) -> str:
    def pct(n: int) -> str:
        return f"{round(n * 100 / c['total'] + 1e-9)}\u00a0%" if c["total"] else "0\u00a0%"
    return (f"Нормативы режима: по тексту акта — {c['text']} из {c['total']} ({pct(c['text'])}), по вторичным "
            f"источникам — {c['secondary']} ({pct(c['secondary'])}), не подтверждены — {c['unconfirmed']} "
            f"({pct(c['unconfirmed'])})")


def _dated_changes(regime: str) -> list[date]:
    cat = load_catalog(regime)
    return sorted({v.start for p in cat.rulebook.parameters.values() for v in p.values})


@pytest.mark.parametrize("name, regime", CASES)
def test_the_shares_equal_the_counts_from_the_catalog(name, regime):
    app = load_application(FIXTURES / name)
    report = evaluate(app, regime)
    shares = report.norm_shares.model_dump()
    assert shares == expected(regime, report.as_of)
    assert shares["total"] == shares["text"] + shares["secondary"] + shares["unconfirmed"]
    assert shares["total"] >= len(load_catalog(regime).decree.requirements) // 2


def test_the_shares_follow_the_report_date_and_the_confidence():
    """ip794 has dated changes of its norms (a value that starts later, a value whose confidence changes): the
    report on a day before such a change and on the day of it give the catalog's counts of each day, and they
    differ — a computation that ignored the date, or counted values without their confidence, fails here."""
    app = load_application(FIXTURES / "ip794-created-gaps.yaml")
    days = _dated_changes("ip794")
    pairs = [(date.fromordinal(d.toordinal() - 1), d) for d in days[1:]]
    differing = [(a, b) for a, b in pairs if expected("ip794", a) != expected("ip794", b)]
    assert differing, "the ip794 catalog has no dated change of its norms"
    for before, on in differing:
        a = evaluate(app, "ip794", before).norm_shares.model_dump()
        b = evaluate(app, "ip794", on).norm_shares.model_dump()
        assert a == expected("ip794", before) and b == expected("ip794", on) and a != b


@pytest.mark.parametrize("name, regime", CASES[:2])
def test_the_shares_in_json_text_markdown_and_word(name, regime, tmp_path):
    path = str(FIXTURES / name)
    data = json.loads(runner.invoke(cli, ["check", path, "-r", regime, "-f", "json"]).output)
    on = date.fromisoformat(data["as_of"])
    want = expected(regime, on)
    assert data["norm_shares"] == want
    line = sentence(want)
    text = runner.invoke(cli, ["check", path, "-r", regime]).output
    assert line + "." in text
    md = runner.invoke(cli, ["check", path, "-r", regime, "-f", "md"]).output
    assert f"- {line}." in md
    out = tmp_path / "gap.docx"
    runner.invoke(cli, ["check", path, "-r", regime, "-f", "docx", "-o", str(out)])  # exit code: the verdict
    rows = [[c.text for c in row.cells] for row in Document(io.BytesIO(out.read_bytes())).tables[0].rows]
    labels = [r[0] for r in rows]
    assert rows[labels.index("Сверка нормативов") + 1] == ["Нормативы режима",
                                                           line.removeprefix("Нормативы режима: ")]


def test_the_matrix_document_gives_the_shares_of_each_regime(tmp_path):
    out = tmp_path / "matrix.docx"
    path = str(FIXTURES / "ip794-created-gaps.yaml")
    data = json.loads(runner.invoke(cli, ["check", path, "-r", "all", "-f", "json"]).output)
    runner.invoke(cli, ["check", path, "-r", "all", "-f", "docx", "-o", str(out)])
    cells = {c.text for t in Document(io.BytesIO(out.read_bytes())).tables for row in t.rows for c in row.cells}
    for report in data["reports"]:
        want = expected(report["regime"], date.fromisoformat(report["as_of"]))
        assert sentence(want).removeprefix("Нормативы режима: ") in cells, report["regime"]


def test_the_check_page_gives_the_shares(tmp_path):
    from webclient import web_client

    web = web_client(tmp_path)
    app_id = web.upload("ip794-created-gaps.yaml")
    r = web.post(f"/applications/{app_id}/check", {"regime": "", "as_of": ""})
    page = web.client.get(r.headers["location"]).text
    report = web.client.get(f"/api/v1{r.headers['location']}",
                            headers={"Authorization": f"Bearer {web.token}"}).json()["reports"][0]
    want = expected("ip794", date.fromisoformat(report["as_of"]))
    assert report["norm_shares"] == want
    assert f'<p id="norm-shares">{html.escape(sentence(want))}.</p>' in page.replace("&nbsp;", "\u00a0")
