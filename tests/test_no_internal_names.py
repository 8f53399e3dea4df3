"""No internal name reaches a person (DEVELOPERS.md): every fixture's report in text and Markdown, the message-like
fields of its JSON, the matrix, the GOST conclusion with the expert's judgements, and the CLI's messages for bad input
are scanned for Latin identifiers (tests/leaks.py: snake_case words, file names, enum codes, parameter ids) with an
explicit allow-list; so is the text of every Word document (gap report per regime, the matrix, the GOST conclusion
with each judgements file, the catalog review of every regime), by the stricter rules of a document an official
reads. A failure names the rendering and the names found."""
from __future__ import annotations

import json
import re
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
from compliance.models import ConformityDecision
from compliance.render import render_markdown, render_matrix_markdown, render_matrix_text, render_text
from leaks import applicant_strings, document_names, explain, human_fields, internal_names
from tests.conftest import FIXTURES
from tests.docxtext import body_lines

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


def _scan(where: str, text: str, allowed, hits: dict[str, list[str]], document: bool = False) -> None:
    for n, line in enumerate(text.splitlines(), start=1):
        found = internal_names(line, allowed, document=document)
        if found:
            hits.setdefault(f"{where}:{n}: {line.strip()[:140]}", found)


def _scan_report(where: str, report, allowed, hits) -> None:
    """The text and Markdown reports are read as documents (no regime codes, no field paths); the JSON's message-like
    fields as messages."""
    _scan(f"{where} (текст)", render_text(report), allowed, hits, document=True)
    _scan(f"{where} (Markdown)", render_markdown(report), allowed, hits, document=True)
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
        _scan(f"{path.name} матрица", render_matrix_text(matrix), allowed, hits, document=True)
        _scan(f"{path.name} матрица (Markdown)", render_matrix_markdown(matrix), allowed, hits, document=True)
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
    assert internal_names("источник: Дайджест 794.md; правило rules/ip794.yaml") == ["Дайджест", "794.md", "rules/ip794.yaml"]
    assert internal_names("укажите adjacency: linear_infrastructure") == ["linear_infrastructure", "adjacency"]
    assert internal_names("вид «coworking» не входит в перечень") == ["coworking"]
    assert internal_names("Подтип «agrobiotech»", allowed=["agrobiotech"]) == []  # only when the caller allows it
    # a field is named by its path only next to its own Russian name
    assert internal_names("Недостаточно данных: здания (buildings); разбивка полезной площади "
                          "(useful_area_breakdown)") == []
    assert internal_names("уточните разбивку по зданиям (useful_area_breakdown)") == ["useful_area_breakdown"]
    assert internal_names("site_name (название площадки (кластера)): обязательное поле не заполнено") == []
    # our working digest is never a source a person reads
    assert internal_names("источник: Дайджест требований ПП № 794; СЗ РФ 2015 № 33") == ["Дайджест"]
    assert internal_names("как во вторичном источнике (в дайджесте — «около 30 дней»)") == ["дайджесте"]


def test_the_document_scanner_is_stricter():
    """In a Word document a regime is named by its title or act, a field by its Russian name alone; short IDs of the
    catalog's examples and the word «IT» pass."""
    assert document_names("ip794 Индустриальные (промышленные) парки") == ["ip794"]
    assert document_names("в заявке нет разделов: кластер (cluster)") == ["cluster"]
    assert document_names("здания (buildings)") == ["buildings"]
    assert document_names("Индустриальные (промышленные) парки (ПП № 794) — в заявке нет разделов: кластер") == []
    assert document_names("«UK-4: УК в банкротстве» — ожидается: не выполнено; DOC-1 … DOC-8; 794-P-1; IT-технопарк") == []
    assert document_names("Минимальная доля (min_production_share_pct); файл decrees/ip794.yaml") == \
        ["decrees/ip794.yaml", "min_production_share_pct"]


def _catalog_texts(regime: str):
    """(where, text) for every catalog text that reaches a report, a page, a message or the expert review of the
    catalog: rule advice and norms (the {param:…}/{fact:…} placeholders are substituted at evaluation and are left
    out here), requirement wording, notes, norm titles, references, sources and notes, the amendments' summaries,
    document kind titles, list items and their notes."""

    cat = load_catalog(regime)
    dec = cat.decree
    yield "decree", dec.title
    yield from ((f"категория {k}", v) for k, v in dec.categories.items())
    yield from ((f"подтип {k}", v) for k, v in dec.subtypes.items())
    yield from ((f"блок {k}", v) for k, v in dec.blocks.items())
    yield from ((f"особый режим {s.code}", s.title) for s in dec.special_regimes)
    for req in dec.requirements:
        for attr in ("clause", "title", "text", "source", "note"):
            if getattr(req, attr):
                yield f"{req.id}.{attr}", getattr(req, attr)
    yield from ((f"редакция «{a.act}»", a.summary) for a in dec.amendments)
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
            yield f"норматив {name} с {v.start}", " ".join(filter(None, [v.reference, v.source, v.note]))
    yield from ((f"вид документа {k}", d.title) for k, d in cat.rulebook.document_kinds.items())
    for role, lst in cat.lists.items():
        yield f"перечень {role}", " ".join([lst.title, lst.act, lst.source])
        yield from ((f"перечень {role}: {i.code}", " ".join(filter(None, [i.name, i.note]))) for i in lst.items)


@pytest.mark.parametrize("regime", ALL_REGIMES)
def test_catalog_texts_that_reach_a_person_name_nothing_internal(regime):
    hits = {f"{regime} {where}: {' '.join(text.split())[:140]}": found
            for where, text in _catalog_texts(regime) if (found := internal_names(text))}
    assert not hits, "\n" + explain(hits)


class _VisibleText(HTMLParser):
    """The text a person sees on a page (not scripts, styles or attributes). A command to type (<code class="command">,
    e.g. «compliance catalog verify --regime ip794 …») is not read: the code there is what the user types."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.command = False
        self.lines: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("script", "style")
        if tag == "code" and ("class", "command") in attrs:
            self.hidden, self.command = self.hidden + 1, True

    def handle_endtag(self, tag):
        self.hidden -= tag in ("script", "style")
        if tag == "code" and self.command:
            self.hidden, self.command = self.hidden - 1, False

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
        _scan_page(web, url, allowed + [name], hits)
    assert not hits, "\n" + explain(hits)


def _scan_page(web, url: str, allowed, hits: dict[str, list[str]]) -> None:
    """A page is read as a document: regimes by their names, fields by their Russian names (leaks.document_names)."""
    page = _VisibleText()
    page.feed(web.client.get(url).text)
    for line in page.lines:
        found = document_names(line, allowed)
        if found:
            hits.setdefault(f"{url}: {line[:160]}", found)


def test_catalog_pages_show_no_internal_name(tmp_path):
    """The catalog list and every regime's catalog page (requirements, norms, sources, notes)."""
    from webclient import web_client

    web = web_client(tmp_path)
    hits: dict[str, list[str]] = {}
    for url in ["/catalog"] + [f"/catalog/{code}" for code in ALL_REGIMES]:
        _scan_page(web, url, [], hits)
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


# --- the Word documents an official reads -------------------------------------------------------------------------
def docx_text(data: bytes) -> str:
    """What a person reads in a Word document: every paragraph of the body (tables included), the headers and
    footers, and the document's properties (title, subject, keywords), one paragraph a line."""
    import io

    import docx

    document = docx.Document(io.BytesIO(data))
    lines = body_lines(document)
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header, section.first_page_footer):
            lines += [p.text for p in part.paragraphs]
    props = document.core_properties
    return "\n".join(lines + [props.title or "", props.subject or "", props.keywords or ""])


def _scan_document(where: str, data: bytes, allowed, hits: dict[str, list[str]]) -> None:
    for line in docx_text(data).splitlines():
        found = document_names(line, allowed)
        if found:
            hits.setdefault(f"{where}: {line.strip()[:160]}", found)


@pytest.mark.parametrize("path", APPLICATIONS, ids=lambda p: p.name)
def test_word_gap_reports_and_the_matrix_of_every_fixture_show_no_internal_name(path):
    """The gap report under each regime the fixture carries, and the `--regime all` document (the matrix, then every
    report)."""
    from compliance.word import report_docx

    app, allowed = _loaded(path)
    regimes, _ = regimes_for(app, ALL_REGIMES)
    hits: dict[str, list[str]] = {}
    for regime in regimes:
        _scan_document(f"{path.name} / {regime} (Word)", report_docx([evaluate(app, regime)]), allowed, hits)
    matrix = eligibility(app)  # as `--regime all`: every regime whose input the application carries
    assert matrix.rows
    _scan_document(f"{path.name} / матрица (Word)", report_docx(matrix.reports, matrix), allowed, hits)
    assert not hits, "\n" + explain(hits)


@pytest.mark.parametrize("judgements, application", sorted(JUDGED.items()))
def test_word_gost_conclusion_with_each_judgements_file_shows_no_internal_name(judgements, application):
    from compliance.word import report_docx

    app, allowed = _loaded(FIXTURES / application)
    raw = yaml.safe_load((FIXTURES / judgements).read_text("utf-8"))
    expert_text = [str(v) for item in raw.get("judgements", []) + raw.get("waivers", []) for v in item.values()]
    expert_text += [str(v) for k, v in raw.items() if isinstance(v, str)]
    report = evaluate(app, "gost56425", judgements=load_judgements(FIXTURES / judgements))
    assert report.assessment is not None
    hits: dict[str, list[str]] = {}
    _scan_document(f"{judgements} (Word)", report_docx([report]), allowed + expert_text, hits)
    assert not hits, "\n" + explain(hits)


@pytest.mark.parametrize("regime", ALL_REGIMES)
def test_word_catalog_review_of_every_regime_shows_no_internal_name(regime):
    """The expert review of the catalog: no parameter ids after the norms' titles, no file names, no field keys or
    codes in the notes and advice, no internal source."""
    from compliance.word import catalog_docx

    hits: dict[str, list[str]] = {}
    _scan_document(f"каталог {regime} (Word)", catalog_docx(load_catalog(regime)), [], hits)
    assert not hits, "\n" + explain(hits)


@pytest.mark.parametrize("regime", ALL_REGIMES)
def test_sources_are_cited_as_a_person_cites_them(regime):
    """A requirement's or a norm's source names the act, its publication or the act an analogy comes from, and a
    source whose wording is not confirmed by the text of the act says so plainly; a calque like «сестринский акт»
    does not name the act at all."""
    cat = load_catalog(regime)
    cited = [(r.id, r.confidence, r.source) for r in cat.decree.requirements]
    cited += [(f"{name} с {v.start}", v.confidence, v.source or "") for name, p in cat.rulebook.parameters.items()
              for v in p.values]
    unsaid = [f"{where} [{conf}]: {src}" for where, conf, src in cited if conf != "T" and "не сверен" not in src]
    assert not unsaid, "\n".join(unsaid)
    texts = [t for _, t in _catalog_texts(regime)]
    assert not [t for t in texts if "сестринск" in t.lower()]
    analogies = [src for _, conf, src in cited if conf == "A" and "по аналогии с" in src]
    assert all(re.search(r"по аналогии с (?:постановлени\w+|ПП) №", src) for src in analogies), analogies


def test_a_section_the_regime_requires_is_asked_for_by_the_regimes_name():
    """The message names the regime as a person does — «Индустриальный парк (ПП № 794)» — not by its code."""
    result = runner.invoke(cli, ["check", str(FIXTURES / "cl779-conforming.json"), "--regime", "ip794"])
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert "категория): для режима «Индустриальный парк (ПП № 794)» этот раздел заявки обязателен" in out
    assert "(ip794)" not in out


def test_word_impact_brief_of_the_2025_draft_shows_no_internal_name():
    """The Word brief of `compliance impact` (the 2025 draft for 794 over the fixtures and the scenario's example
    sites): no parameter ids, field keys, regime codes or file names."""
    from compliance.batch import collect
    from compliance.impact import impact_docx, load_scenario, run_impact

    scenario = load_scenario(FIXTURES / "scenarios" / "ip794-draft-2025.yaml")
    files, _ = collect([FIXTURES / "scenarios" / "sites", *APPLICATIONS])
    result = run_impact([(str(f), f) for f in files], scenario)
    assert result.totals.worse and result.totals.better  # the brief has flips both ways to show
    allowed = [s for f in files for s in _loaded(f)[1]]
    hits: dict[str, list[str]] = {}
    _scan_document("справка о последствиях проекта (Word)", impact_docx(result), allowed, hits)
    assert not hits, "\n" + explain(hits)
def test_impact_pages_and_the_services_word_brief_name_nothing_internal(tmp_path):
    """The «Проект изменений» page, the impact job's result page and its Word brief in the service (the 2025 draft for
    794 over the scenario's example sites and the fixtures' parks)."""
    from test_web_impact import DRAFT, FILES, run_impact_job, setup

    web, _ = setup(tmp_path)
    job_url = run_impact_job(web)
    allowed = [s for f in FILES for s in _loaded(f)[1]]
    hits: dict[str, list[str]] = {}
    for url in ("/impact", job_url, f"{job_url}/result"):
        _scan_page(web, url, allowed + [DRAFT.name], hits)
    _scan_document("справка о последствиях проекта из сервиса (Word)", web.client.get(f"{job_url}/impact.docx").content,
                   allowed, hits)
    assert not hits, "\n" + explain(hits)


@pytest.mark.parametrize("path", APPLICATIONS + [FIXTURES / "watch" / "ip794-registered.yaml"], ids=lambda p: p.name)
def test_deadline_texts_and_calendar_name_nothing_internal(path):
    """The deadline watch (`compliance watch`, the «Сроки» page, the .ics calendar): with a decision under each of the
    application's regimes, every text a person reads and the calendar's events."""
    from datetime import date

    from icalendar import Calendar

    from compliance.watch import deadlines, render_text, to_ics

    app, allowed = _loaded(path)
    app = app.model_copy(update={"conformity_decisions": [
        ConformityDecision(regime=r, date=date(2022, 3, 1), in_register=True) for r in app.regimes]})
    items = deadlines(app, date(2026, 12, 6), "заявка")
    hits = {}
    for d in items:
        for name in ("kind_text", "title", "regime", "rule", "element"):
            if found := document_names(getattr(d, name) or "", allowed):
                hits[f"{path.name} {d.kind}.{name}"] = found
    for where, text in [("таблица", render_text(items, date(2026, 12, 6), 90))] + [
            (f"календарь {e['uid']}", f"{e['summary']}\n{e['description']}")
            for e in Calendar.from_ical(to_ics(items, date(2026, 12, 6))).walk("VEVENT")]:
        if found := document_names(text, allowed):
            hits[f"{path.name} {where}"] = found
    assert not hits, "\n" + explain(hits)
