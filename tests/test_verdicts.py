"""Headline verdicts that do not overstate (issue 13, §5): a report whose automatic checks pass while requirements
await the expert reads «ждёт оценки эксперта» (pending_review, exit code 3), never «соответствует»; the exit code
follows one rule with and without --regime all; the same in text, JSON, Markdown, Word, batch, the API and the pages.
Every expected verdict and count is read from an evaluation, not written into the test."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import docx
import pytest
import yaml
from lxml import html as lhtml
from openpyxl import load_workbook
from typer.testing import CliRunner

from compliance.cli import EXIT_BY_VERDICT, app as cli, exit_code
from compliance.eligibility import VERDICT_RANK, eligibility
from compliance.evaluate import evaluate
from compliance.labels import regime_name
from compliance.judgements import JudgementsFile, application_block
from compliance.report import verdict_text
from tests.conftest import FIXTURES, app_from, finding, raw_fixture
from webclient import web_client

runner = CliRunner()
CONFORMING = "ip794-operating-conforming"
BROWNFIELD = "brownfield-794-1863"
PENDING_HEAD = "выполнены все требования, проверяемые автоматически"
# Russian agreement of «N требований ждут»: the words for the numbers the fixtures give, and for 11, 21, 22
WAITING = {1: "требование ждёт", 2: "требования ждут", 5: "требований ждут", 10: "требований ждут",
           11: "требований ждут", 20: "требований ждут", 21: "требование ждёт", 22: "требования ждут"}


def awaiting(report) -> list:
    return [f for f in report.findings if f.status == "manual_review"]


def pending_text(n: int) -> str:
    return f"{PENDING_HEAD}; {n} {WAITING[n]} оценки эксперта"


def closing(report, name: str = CONFORMING) -> dict:
    """A judgements file closing every requirement of `report` that awaits the expert (each judged met), made on the
    application of fixture `name` (its `application` section binds it to that application)."""
    return {"regime": report.regime, "catalog_version": report.catalog_version, "assessor": "Петрова А. В.",
            "application": application_block(app_from(name)),
            "judgements": [{"requirement_id": f.requirement_id, "verdict": "met", "comment": "Проверено на месте"}
                           for f in awaiting(report)]}


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def docx_text(data: bytes) -> str:
    import io
    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)


# --- the verdict -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, regime", [(CONFORMING, "ip794"), ("itp1863-created-agrobiotech", "itp1863"),
                                          ("htp1381-operating", "htp1381"), ("ip794-eco-new-region", "ip794")])
def test_automatic_checks_passing_with_requirements_for_the_expert_is_pending_review(name, regime):
    report = evaluate(app_from(name), regime)
    n = len(awaiting(report))
    assert n and report.verdict == "pending_review"
    assert not any(f.status in ("not_met", "insufficient_data", "error") for f in report.findings)
    assert report.verdict_text == pending_text(n)


def test_special_regime_reviews_await_the_expert_and_are_blocking():
    report = evaluate(app_from("ip794-eco-new-region"), "ip794")
    assert report.special_regimes
    assert any(f.severity == "blocking" for f in awaiting(report)) and report.verdict == "pending_review"


def test_the_number_awaiting_the_expert_agrees_in_russian():
    base = awaiting(evaluate(app_from(CONFORMING), "ip794"))[0]
    for n in (11, 21, 22):
        assert verdict_text("pending_review", [base] * n) == pending_text(n)


def test_judgements_closing_every_open_requirement_make_it_conform():
    report = evaluate(app_from(CONFORMING), "ip794")
    judged = evaluate(app_from(CONFORMING), "ip794", judgements=JudgementsFile.model_validate(closing(report)))
    assert not awaiting(judged) and judged.verdict == "conforms" and judged.verdict_text == "соответствует требованиям"


def test_precedence_does_not_conform_then_incomplete_then_pending_review():
    raw = raw_fixture(CONFORMING)
    cases = {  # each keeps 794-P-11 awaiting the expert: the verdict above it wins
        "does_not_conform": app_from(CONFORMING, {"road_access.hard_surface": False}),
        "incomplete": app_from(CONFORMING, delete=["zoning"]),
        "incomplete document": app_from(CONFORMING, delete=[
            f"documents.{next(i for i, d in enumerate(raw['documents']) if d['kind'] == 'tax_certificate')}"]),
    }
    for expected, app in cases.items():
        report = evaluate(app, "ip794")
        assert finding(report, "794-P-11").status == "manual_review"
        assert report.verdict == expected.split()[0], expected
    # a recommendation not met (minor) does not stop pending_review, but the words then speak of the blocking ones only
    uk_resident = app_from(CONFORMING, {"residents.0.inn": raw["management_company"]["inn"]})
    report = evaluate(uk_resident, "ip794")
    assert finding(report, "794-UK-9").status == "not_met" and finding(report, "794-UK-9").severity == "minor"
    n = len(awaiting(report))
    assert report.verdict == "pending_review"
    assert report.verdict_text == f"выполнены все критичные требования, проверяемые автоматически; {n} {WAITING[n]} " \
                                  "оценки эксперта"


# --- the command line: formats and exit codes ------------------------------------------------------------------------
def test_cli_pending_review_exits_3_in_every_format_and_closed_by_judgements_exits_0(tmp_path):
    path = str(FIXTURES / f"{CONFORMING}.yaml")
    report = evaluate(app_from(CONFORMING), "ip794")
    n = len(awaiting(report))
    text = runner.invoke(cli, ["check", path])
    assert text.exit_code == 3 and f"ИТОГ: {pending_text(n).upper()}" in text.output
    assert "СООТВЕТСТВУЕТ ТРЕБОВАНИЯМ" not in text.output.split("ИТОГ:")[1]
    as_json = runner.invoke(cli, ["check", path, "-f", "json"])
    data = json.loads(as_json.output)
    assert as_json.exit_code == 3 and data["verdict"] == "pending_review" and data["verdict_text"] == pending_text(n)
    md = runner.invoke(cli, ["check", path, "-f", "md"])
    assert md.exit_code == 3 and f"## Итог\n\n**{pending_text(n).upper()}**" in md.output
    out = tmp_path / "отчёт.docx"
    word = runner.invoke(cli, ["check", path, "-f", "docx", "-o", str(out)])
    body = docx_text(out.read_bytes())
    assert word.exit_code == 3 and pending_text(n).upper() in body and "СООТВЕТСТВУЕТ ТРЕБОВАНИЯМ" not in body

    judgements = write_yaml(tmp_path / "оценки.yaml", closing(report))
    closed = runner.invoke(cli, ["check", path, "--judgements", str(judgements)])
    assert closed.exit_code == 0 and "ИТОГ: СООТВЕТСТВУЕТ ТРЕБОВАНИЯМ" in closed.output
    as_json = json.loads(runner.invoke(cli, ["check", path, "--judgements", str(judgements), "-f", "json"]).output)
    assert as_json["verdict"] == "conforms"


def test_exit_code_is_the_worst_of_the_verdicts():
    assert exit_code(["conforms"]) == 0
    assert exit_code(["conforms", "pending_review"]) == 3
    assert exit_code(["pending_review", "incomplete"]) == 1
    assert exit_code(["does_not_conform", "pending_review", "conforms"]) == 1
    assert exit_code(["pending_review", "invalid"]) == 1  # a batch file that could not be read


def test_brownfield_exits_the_same_with_and_without_regime_all(tmp_path):
    app = app_from(BROWNFIELD)
    applied = {code: evaluate(app, code).verdict for code in app.regimes}
    expected = exit_code(list(applied.values()))
    path = str(FIXTURES / f"{BROWNFIELD}.yaml")
    own = runner.invoke(cli, ["check", path])
    every = runner.invoke(cli, ["check", path, "--regime", "all"])
    assert own.exit_code == every.exit_code == expected == 3, (own.output[-500:], every.output[-500:])
    # --regime all adds regimes the site does not apply for, some worse than its own: they do not change the code
    matrix = eligibility(app)
    others = {r.regime: r.verdict for r in matrix.rows if r.regime not in app.regimes}
    assert "does_not_conform" in others.values()
    assert all(r.applied == (r.regime in app.regimes) for r in matrix.rows)
    assert "Код завершения определяют режимы, на которые подана заявка: Индустриальный парк (ПП № 794); Промышленный технопарк (ПП № 1863);" in " ".join(every.output.split())
    for fmt in ("json", "md"):
        assert runner.invoke(cli, ["check", path, "--regime", "all", "-f", fmt]).exit_code == expected
    for code, verdict in applied.items():  # one regime given: its own code
        assert runner.invoke(cli, ["check", path, "--regime", code]).exit_code == EXIT_BY_VERDICT[verdict]
    # one of the two regimes broken (the technopark's occupancy): the worst code wins, with or without all
    changes = ["--set", "buildings.0.leased_to_residents.value=100", "--set", "buildings.1.leased_to_residents.value=100"]
    own = runner.invoke(cli, ["check", path, *changes, "-f", "json"])
    every = runner.invoke(cli, ["check", path, *changes, "--regime", "all", "-f", "json"])
    verdicts = {r["regime"]: r["verdict"] for r in json.loads(own.output)["reports"]}
    assert verdicts == {"ip794": "pending_review", "itp1863": "does_not_conform"}
    assert own.exit_code == every.exit_code == 1


def test_closest_status_prefers_pending_review_to_incomplete_and_gaps():
    matrix = eligibility(app_from(BROWNFIELD))
    ranks = [VERDICT_RANK[r.verdict] for r in matrix.rows]
    assert ranks == sorted(ranks) and matrix.rows[0].closest and matrix.rows[0].verdict == "pending_review"
    assert VERDICT_RANK["conforms"] < VERDICT_RANK["pending_review"] < VERDICT_RANK["incomplete"] \
        < VERDICT_RANK["does_not_conform"]
    text = runner.invoke(cli, ["check", str(FIXTURES / f"{BROWNFIELD}.yaml"), "--regime", "all"]).output
    closest = next(line for line in text.splitlines() if line.startswith("► "))
    assert closest.startswith(f"► {regime_name(matrix.rows[0].regime)} ") and "ждёт оценки эксперта" in closest


def test_help_documents_the_exit_codes_and_the_rule():
    result = runner.invoke(cli, ["check", "--help"], terminal_width=200)
    shown = " ".join(result.output.split())
    assert "3 — все автоматические проверки пройдены, требования ждут оценки эксперта" in shown
    assert "--regime all добавляет остальные режимы в матрицу для сведения и на код не влияет" in shown
    assert "худший (1, затем 3, затем 0)" in shown


# --- GOST R 56425: the conclusion is kept, the headline does not overstate ---------------------------------------
def test_gost_headline_with_open_criteria_does_not_say_conforms(tmp_path):
    full = yaml.safe_load((FIXTURES / "gost-judgements-htp1381.yaml").read_text(encoding="utf-8"))
    recommended = {"G-INF-3", "G-UK-3"}  # the fixture's judgements of two recommended criteria, left out
    partial = dict(full, judgements=[j for j in full["judgements"] if j["requirement_id"] not in recommended])
    app = app_from("htp1381-operating")
    report = evaluate(app, "gost56425", judgements=JudgementsFile.model_validate(partial))
    assert {f.requirement_id for f in awaiting(report)} == recommended
    assert report.assessment.conclusion == "conforms_with_remarks"  # the four conclusions are kept as computed
    assert report.verdict == "pending_review"
    path = write_yaml(tmp_path / "оценки.yaml", partial)
    args = ["check", str(FIXTURES / "htp1381-operating.yaml"), "--judgements", str(path)]
    text = runner.invoke(cli, args)
    headline = next(line for line in text.output.splitlines() if line.startswith("ИТОГ:"))
    assert text.exit_code == 3 and headline == f"ИТОГ: {pending_text(2).upper()}"
    md = runner.invoke(cli, args + ["-f", "md"]).output
    assert f"## Итог\n\n**{pending_text(2).upper()}**" in md and "Заключение оценки" not in md  # stated once
    out = tmp_path / "заключение.docx"
    runner.invoke(cli, args + ["-f", "docx", "-o", str(out)])
    lines = docx_text(out.read_bytes()).splitlines()
    conclusion = lines[lines.index("1. Заключение") + 1]  # the heading names it; the line states it
    assert conclusion == pending_text(2).upper()
    # every criterion judged: the conclusion is the headline, as before
    whole = runner.invoke(cli, ["check", str(FIXTURES / "htp1381-operating.yaml"), "--judgements",
                                str(FIXTURES / "gost-judgements-htp1381.yaml")])
    assert whole.exit_code == 0 and "ИТОГ: СООТВЕТСТВУЕТ С ЗАМЕЧАНИЯМИ (заключение оценки)" in whole.output


# --- compliance batch ------------------------------------------------------------------------------------------------
def test_batch_counts_pending_review_and_exits_by_the_same_rule(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in (CONFORMING, BROWNFIELD):
        shutil.copy(FIXTURES / f"{name}.yaml", folder / f"{name}.yaml")
    expected = {(name, code): evaluate(app_from(name), code) for name in (CONFORMING, BROWNFIELD)
                for code in app_from(name).regimes}
    out = tmp_path / "сводка.xlsx"
    result = runner.invoke(cli, ["batch", str(folder), "--output", str(out)])
    assert result.exit_code == exit_code([r.verdict for r in expected.values()]) == 3, result.output
    assert f"ждёт оценки эксперта: {len(expected)}" in result.output
    data = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["counts"] == {"pending_review": len(expected)}
    sheet = list(load_workbook(out)["Сводка"].iter_rows(min_row=2, values_only=True))
    for file, _, regime, status, *_ in sheet:
        assert status == expected[(Path(file).stem, regime)].verdict_text  # «… N требований ждут оценки эксперта»
    shutil.copy(FIXTURES / "ip794-created-gaps.yaml", folder / "gaps.yaml")
    assert runner.invoke(cli, ["batch", str(folder), "--output", str(out)]).exit_code == 1


# --- the service: API and pages --------------------------------------------------------------------------------------
def test_api_and_pages_show_pending_review_with_the_number_and_judgements_close_it(tmp_path):
    web = web_client(tmp_path)
    auth = {"Authorization": f"Bearer {web.token}"}
    app_id = web.upload(f"{CONFORMING}.yaml")
    check = web.client.post(f"/api/v1/applications/{app_id}/checks", json={}, headers=auth).json()
    (report,) = check["reports"]
    expected = evaluate(app_from(CONFORMING), "ip794")
    n = len(awaiting(expected))
    assert check["verdicts"] == {"ip794": "pending_review"} and report["verdict_text"] == pending_text(n)
    assert web.client.get(f"/api/v1/checks/{check['id']}", headers=auth).json()["verdicts"] == check["verdicts"]

    page = web.client.get(f"/checks/{check['id']}").text
    badge = re.search(r'<span id="verdict" class="badge big v-(\w+)">([^<]+)</span>', page)
    assert badge and badge.groups() == ("pending_review", pending_text(n))
    listing = lhtml.fromstring(web.client.get("/applications").text)
    (shown,) = listing.xpath(f"//a[@href='/checks/{check['id']}']/span")
    assert shown.get("class") == "badge v-pending_review" and shown.text_content() == "ждёт оценки эксперта"

    closed = web.client.post(f"/api/v1/applications/{app_id}/checks", json={"judgements": closing(expected)},
                             headers=auth).json()
    assert closed["verdicts"] == {"ip794": "conforms"}
    assert closed["reports"][0]["verdict_text"] == "соответствует требованиям"

    r = web.post("/checks/batch", [("ids", app_id), ("regime", ""), ("as_of", "")])
    batch = lhtml.fromstring(web.client.get(r.headers["location"]).text)
    counts = {li.xpath("string(./span)"): int(li.xpath("string(./strong)"))
              for li in batch.xpath("//ul[@class='batch-counts']/li")}
    assert counts == {"ждёт оценки эксперта": 1}


def test_gost_pages_do_not_state_a_conforming_conclusion_while_criteria_await_the_expert(tmp_path):
    web = web_client(tmp_path)
    auth = {"Authorization": f"Bearer {web.token}"}
    app_id = web.upload("htp1381-operating.yaml")
    full = yaml.safe_load((FIXTURES / "gost-judgements-htp1381.yaml").read_text(encoding="utf-8"))
    partial = json.loads(json.dumps(dict(full, judgements=full["judgements"][:-1]), default=str))  # G-UK-3 left open
    check = web.client.post(f"/api/v1/applications/{app_id}/checks", json={"regime": "gost56425", "judgements": partial},
                            headers=auth).json()
    (report,) = check["reports"]
    assert report["assessment"]["conclusion"] == "conforms_with_remarks" and report["verdict"] == "pending_review"
    # G-INF-3 (a recommendation) is judged not met: the words speak of the blocking requirements only
    assert report["verdict_text"] == "выполнены все критичные требования, проверяемые автоматически; 1 требование " \
                                     "ждёт оценки эксперта"
    for url in (f"/checks/{check['id']}", f"/checks/{check['id']}/assessment"):
        badge = lhtml.fromstring(web.client.get(url).text).xpath("//*[@id='conclusion']")[0]
        assert badge.get("class").endswith("c-pending_review") and badge.text_content() == report["verdict_text"], url
    whole = json.loads(json.dumps(full, default=str))
    check = web.client.post(f"/api/v1/applications/{app_id}/checks", json={"regime": "gost56425", "judgements": whole},
                            headers=auth).json()
    badge = lhtml.fromstring(web.client.get(f"/checks/{check['id']}").text).xpath("//*[@id='conclusion']")[0]
    assert badge.text_content() == check["reports"][0]["assessment"]["conclusion_text"] == "соответствует с замечаниями"


def test_matrix_page_marks_the_closest_and_shows_the_verdict_words(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload(f"{BROWNFIELD}.yaml")
    r = web.post(f"/applications/{app_id}/check", {"regime": "all", "as_of": ""})
    check_id = r.headers["location"].rsplit("/", 1)[1]
    stored = web.client.get(f"/api/v1/checks/{check_id}", headers={"Authorization": f"Bearer {web.token}"}).json()
    page = lhtml.fromstring(web.client.get(f"/checks/{check_id}").text)
    closest = [row for row in stored["matrix"] if row["closest"]]
    assert len(closest) == 1 and closest[0]["verdict"] == "pending_review"
    row = page.xpath(f"//tr[@id='matrix-{closest[0]['regime']}']")[0]
    assert "► ближайший к соответствию" in row.text_content()
    assert row.xpath("string(.//td[1]/span)") == closest[0]["verdict_text"]
    assert closest[0]["verdict_text"].startswith(PENDING_HEAD)


def test_a_regime_the_application_applies_for_is_evaluated_in_the_matrix_as_alone():
    # a park that also applies as a technopark but has no buildings: its technopark verdict is computed, not skipped
    app = app_from("ip794-created-gaps", {"regimes": ["ip794", "itp1863"]})
    assert not app.buildings
    alone = {code: evaluate(app, code).verdict for code in app.regimes}
    for wanted in (app.regimes, None):  # its own regimes, and --regime all
        matrix = eligibility(app, regimes=wanted)
        assert {r.regime: r.verdict for r in matrix.rows if r.applied} == alone
        assert not {s.regime for s in matrix.skipped} & set(app.regimes)
    other = eligibility(app_from("ip794-created-gaps"))  # applying as a park only: the technopark is skipped
    assert "itp1863" in {s.regime for s in other.skipped}
