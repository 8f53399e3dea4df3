"""No internal name reaches a person (DEVELOPERS.md): every fixture's report in text and Markdown, the message-like
fields of its JSON, the matrix, the GOST conclusion with the expert's judgements, and the CLI's messages for bad input
are scanned for Latin identifiers (tests/leaks.py: snake_case words, file names, enum codes, parameter ids) with an
explicit allow-list. A failure names the rendering and the names found."""
from __future__ import annotations

import json
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from compliance.catalog import load_catalog
from compliance.cli import app as cli
from compliance.eligibility import eligibility, regimes_for
from compliance.evaluate import evaluate
from compliance.judgements import load_judgements
from compliance.loading import load_application
from compliance.render import render_markdown, render_matrix_markdown, render_matrix_text, render_text
from leaks import applicant_strings, explain, human_fields, internal_names
from tests.conftest import FIXTURES

ALL_REGIMES = ["ip794", "itp1863", "htp1381", "cl779", "gost56425"]
APPLICATIONS = sorted(
    [p for p in list(FIXTURES.glob("*.yaml")) + list(FIXTURES.glob("*.json"))
     if "regimes" in (yaml.safe_load(p.read_text("utf-8")) or {})]
    + [p for p in (FIXTURES / "batch").iterdir() if p.suffix in (".json", ".yaml") and not p.name.startswith("broken-")])
JUDGED = {"gost-judgements-itp1863.yaml": "itp1863-operating-occupancy-gap.yaml",
          "gost-judgements-htp1381.yaml": "htp1381-operating.yaml"}
runner = CliRunner()


@lru_cache(maxsize=None)
def _loaded(path: Path):
    app = load_application(path)
    return app, applicant_strings(app.model_dump(mode="json"))


def _scan(where: str, text: str, allowed, hits: dict[str, list[str]]) -> None:
    for n, line in enumerate(text.splitlines(), start=1):
        found = internal_names(line, allowed)
        if found:
            hits.setdefault(f"{where}:{n}: {line.strip()[:140]}", found)


def _scan_report(where: str, report, allowed, hits) -> None:
    _scan(f"{where} (текст)", render_text(report), allowed, hits)
    _scan(f"{where} (Markdown)", render_markdown(report), allowed, hits)
    for path, text in human_fields(json.loads(report.model_dump_json())):
        found = internal_names(text, allowed)
        if found:
            hits.setdefault(f"{where} (JSON {path}): {text[:140]}", found)


@pytest.mark.parametrize("path", APPLICATIONS, ids=lambda p: p.name)
def test_reports_of_every_fixture_in_every_regime_show_no_internal_name(path):
    app, allowed = _loaded(path)
    regimes, _ = regimes_for(app, ALL_REGIMES)
    assert regimes, "the fixture is evaluated under at least one regime"
    hits: dict[str, list[str]] = {}
    for regime in regimes:
        _scan_report(f"{path.name} / {regime}", evaluate(app, regime), allowed, hits)
        first_day = load_catalog(regime).decree.act.date  # norms introduced by later amendments are «not in force»
        _scan_report(f"{path.name} / {regime} на {first_day}", evaluate(app, regime, first_day), allowed, hits)
    if len(regimes) > 1:
        matrix = eligibility(app, regimes=regimes)
        _scan(f"{path.name} матрица", render_matrix_text(matrix), allowed, hits)
        _scan(f"{path.name} матрица (Markdown)", render_matrix_markdown(matrix), allowed, hits)
    assert not hits, "\n" + explain(hits)


SPARSE = {"service_objects": ["name", "cadastral_number"], "buildings": ["name", "cadastral_number"],
          "utilities": ["document", "provider"], "land_plots": ["cadastral_number"], "tech_infrastructure": []}


@pytest.mark.parametrize("name", ["ip794-created-gaps.yaml", "ip794-operating-conforming.yaml",
                                  "itp1863-operating-occupancy-gap.yaml", "htp1381-operating.yaml"])
def test_reports_without_the_optional_names_fall_back_to_russian_not_to_codes(name):
    """Where the applicant left a name out (a service object, a building, a utility without its document), the report
    names the item by its Russian kind, never by the code."""
    from compliance.loading import validate

    raw = yaml.safe_load((FIXTURES / name).read_text("utf-8"))
    for section, keys in SPARSE.items():
        for item in raw.get(section) or []:
            for key in keys:
                item.pop(key, None)
    app = validate(raw)
    allowed = applicant_strings(app.model_dump(mode="json"))
    hits: dict[str, list[str]] = {}
    for regime in regimes_for(app, ALL_REGIMES)[0]:
        _scan_report(f"{name} без названий / {regime}", evaluate(app, regime), allowed, hits)
    assert not hits, "\n" + explain(hits)


@pytest.mark.parametrize("judgements, application", sorted(JUDGED.items()))
def test_the_gost_conclusion_with_the_experts_judgements_shows_no_internal_name(judgements, application):
    app, allowed = _loaded(FIXTURES / application)
    jf = load_judgements(FIXTURES / judgements)
    raw = yaml.safe_load((FIXTURES / judgements).read_text("utf-8"))
    expert_text = [item[k] for item in raw.get("judgements", []) + raw.get("waivers", [])
                   for k in ("comment", "evidence", "justification", "approved_by") if item.get(k)]
    expert_text += [raw[k] for k in ("assessor", "organisation") if raw.get(k)]
    report = evaluate(app, "gost56425", judgements=jf)
    assert report.assessment is not None and report.judgements_by
    hits: dict[str, list[str]] = {}
    _scan_report(f"{judgements}", report, allowed + expert_text, hits)
    assert not hits, "\n" + explain(hits)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _write_bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


BAD_INPUTS = {
    "неверный ИНН": lambda tmp: FIXTURES / "batch" / "broken-bad-inn.json",
    "сторона договора не участник": lambda tmp: FIXTURES / "batch" / "broken-unknown-contract-party.json",
    "число в кавычках": lambda tmp: FIXTURES / "batch" / "broken-number-as-string.json",
    "не заявка": lambda tmp: FIXTURES / "batch" / "broken-not-an-application.json",
    "не UTF-8": lambda tmp: _write_bytes(tmp, "заявка.yaml", "site_name: Größe".encode("latin-1")),
    "нет файла": lambda tmp: tmp / "нет-такого.yaml",
    "пустая заявка": lambda tmp: _write(tmp, "пустая.yaml", "regimes: [ip794]\n"),
    "раздела нет для режима": lambda tmp: FIXTURES / "cl779-conforming.json",
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_cli_messages_for_bad_input_show_no_internal_name(case, tmp_path):
    path = BAD_INPUTS[case](tmp_path)
    args = ["check", str(path)] + (["--regime", "ip794"] if case == "раздела нет для режима" else [])
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    hits: dict[str, list[str]] = {}
    _scan(case, result.output, [str(path), path.name], hits)
    assert not hits, "\n" + explain(hits)


def test_the_scanner_finds_what_it_must_and_allows_what_it_may():
    """The allow-list is explicit: requirement IDs, regime codes, confidence letters, URLs, ids, paths into the
    application and the applicant's own text pass; snake_case, file names, enum codes and other Latin words do not."""
    clean = ("794-P-1 и G-TER-3, 779-DOC-5, G-3.1-1: см. https://example.ru/a_b, [достоверность: S], ip794, "
             "контрольная сумма 18772e3db71a, land_plots[0].area.value (земельные участки № 1 → площадь)")
    assert internal_names(clean) == []
    assert internal_names("ООО «Smart Park» — ИНН 7707083893", allowed=["ООО «Smart Park»"]) == []
    assert internal_names("вид документа park_concept") == ["park_concept"]
    assert internal_names("Не применяется: норматив «allowed_legal_forms_created»") == ["allowed_legal_forms_created"]
    assert internal_names("источник: Дайджест 794.md; правило rules/ip794.yaml") == ["794.md", "rules/ip794.yaml"]
    assert internal_names("укажите adjacency: linear_infrastructure") == ["linear_infrastructure", "adjacency"]
    assert internal_names("вид «coworking» не входит в перечень") == ["coworking"]
    assert internal_names("Подтип «agrobiotech»", allowed=["agrobiotech"]) == []  # only when the caller allows it
    # a field is named by its path only next to its own Russian name
    assert internal_names("Недостаточно данных: здания (buildings); разбивка полезной площади "
                          "(useful_area_breakdown)") == []
    assert internal_names("уточните разбивку по зданиям (useful_area_breakdown)") == ["useful_area_breakdown"]
    assert internal_names("site_name (название площадки (кластера)): обязательное поле не заполнено") == []


def _catalog_texts(regime: str):
    """(where, text) for every catalog text that reaches a report, a page or a message: rule advice and norms (the
    {param:…}/{fact:…} placeholders are substituted at evaluation and are left out here), requirement wording,
    norm titles, references and sources, document kind titles, list items. The notes are the catalog editor's
    (shown only in the expert review of the catalog, next to the parameter ids) and are not scanned."""
    import re

    cat = load_catalog(regime)
    dec = cat.decree
    yield "decree", dec.title
    yield from ((f"категория {k}", v) for k, v in dec.categories.items())
    yield from ((f"подтип {k}", v) for k, v in dec.subtypes.items())
    yield from ((f"блок {k}", v) for k, v in dec.blocks.items())
    yield from ((f"особый режим {s.code}", s.title) for s in dec.special_regimes)
    for req in dec.requirements:
        for attr in ("clause", "title", "text", "source"):
            yield f"{req.id}.{attr}", getattr(req, attr)
    for rid, rule in cat.rules.items():
        for attr in ("remedy", "what_to_check", "message"):
            if getattr(rule, attr):
                yield f"{rid}.{attr}", re.sub(r"\{[^{}]*\}", "", getattr(rule, attr))
        for i, v in enumerate(rule.variants):
            for attr in ("label", "norm_text"):
                if getattr(v, attr):
                    yield f"{rid}.variants[{i}].{attr}", re.sub(r"\{[^{}]*\}", "", getattr(v, attr))
            if v.each is not None:
                yield f"{rid}.variants[{i}].each.label", v.each.label
    for name, p in cat.rulebook.parameters.items():
        yield f"норматив {name}.title", p.title
        for v in p.values:
            yield f"норматив {name} с {v.start}", " ".join(filter(None, [v.reference, v.source]))
    yield from ((f"вид документа {k}", d.title) for k, d in cat.rulebook.document_kinds.items())
    for role, lst in cat.lists.items():
        yield f"перечень {role}", " ".join([lst.title, lst.act, lst.source])
        yield from ((f"перечень {role}: {i.code}", i.name) for i in lst.items)


@pytest.mark.parametrize("regime", ALL_REGIMES)
def test_catalog_texts_that_reach_a_person_name_nothing_internal(regime):
    hits = {f"{regime} {where}: {' '.join(text.split())[:140]}": found
            for where, text in _catalog_texts(regime) if (found := internal_names(text))}
    assert not hits, "\n" + explain(hits)


class _VisibleText(HTMLParser):
    """The text a person sees on a page (not scripts, styles or attributes)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.lines: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.hidden -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.lines.append(" ".join(data.split()))


@pytest.mark.parametrize("name, regime", [("ip794-created-gaps.yaml", ""), ("htp1381-operating.yaml", "all"),
                                          ("cl779-contract-gap.json", "")])
def test_pages_of_an_application_and_its_check_show_no_internal_name(tmp_path, name, regime):
    from webclient import web_client

    web = web_client(tmp_path)
    app_id = web.upload(name)
    _, allowed = _loaded(FIXTURES / name)
    r = web.post(f"/applications/{app_id}/check", {"regime": regime, "as_of": ""})
    check = r.headers["location"]
    hits: dict[str, list[str]] = {}
    for url in (f"/applications/{app_id}", f"/applications/{app_id}/edit", check):
        page = _VisibleText()
        page.feed(web.client.get(url).text)
        _scan(url, "\n".join(page.lines), allowed + [name], hits)
    assert not hits, "\n" + explain(hits)


def test_a_norm_not_yet_in_force_is_named_by_its_title_in_the_cli_and_the_api(tmp_path):
    """1863-UK-1 before the 2021 amendment: «норматив «Допустимые организационно-правовые формы …» не действовал»,
    not the parameter id."""
    from webclient import web_client

    title = load_catalog("itp1863").rulebook.parameters["allowed_legal_forms_created"].title
    expected = f"Не применяется: норматив «{title}» не действовал на 01.06.2020."
    out = runner.invoke(cli, ["check", str(FIXTURES / "itp1863-created-agrobiotech.yaml"), "--as-of", "2020-06-01"]).output
    assert expected in out and "allowed_legal_forms_created" not in out
    web = web_client(tmp_path)
    app_id = web.upload("itp1863-created-agrobiotech.yaml")
    r = web.client.post(f"/api/v1/applications/{app_id}/checks", json={"as_of": "2020-06-01"},
                        headers={"Authorization": f"Bearer {web.token}"})
    assert r.status_code == 201, r.text
    uk1 = next(f for f in r.json()["reports"][0]["findings"] if f["requirement_id"] == "1863-UK-1")
    assert uk1["status"] == "not_applicable" and uk1["explanation"] == expected
