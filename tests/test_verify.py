"""`compliance catalog verify`: the made-up test texts of fixtures/acts/ (an imitation of a decree with annexes, an
amendment act, a letter that is not an act) read alike from every format, each planted item gives its outcome, and
`--apply` writes into a copy of the catalog that still passes the catalog check — never into the repository's."""
from __future__ import annotations

import difflib
import hashlib
import io
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from typer.testing import CliRunner

from compliance.acttext import ActTextError, parse, read_lines
from compliance.actmatch import AMBIGUOUS, CONFIRMED, CONTRADICTED, NOT_LOCATED, verify
from compliance.catalog import load_catalog
from compliance.cli import app
from leaks import internal_names
from tests.conftest import FIXTURES, ROOT

ACTS = FIXTURES / "acts"
DECREE = ACTS / "park-decree.txt"
AMENDMENT = ACTS / "park-amendment.txt"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def catalog():
    return load_catalog("ip794")


@pytest.fixture(scope="module")
def decree(catalog):
    return verify(catalog, parse(DECREE))


def _outcomes(v):
    return ([(r.id, r.outcome, [c.clause for c in r.candidates]) for r in v.requirements]
            + [(p.name, p.outcome, p.found.value if p.found else None) for p in v.params])


@pytest.mark.parametrize("name", ["park-decree.docx", "park-decree.html", "park-decree.rtf", "park-decree.pdf",
                                  "park-decree-cp1251.txt"])
def test_every_format_gives_the_tree_and_outcomes_of_the_plain_text(name, catalog, decree):
    act = parse(ACTS / name)
    plain = parse(DECREE)
    assert act.outline() == plain.outline()
    assert [p.title for p in act.parts] == [p.title for p in plain.parts]
    assert act.edition == date(2022, 7, 7) and act.footnotes == plain.footnotes
    assert _outcomes(verify(catalog, act)) == _outcomes(decree)


def test_the_tree_has_the_annexes_points_and_subpoints_with_the_traps_undone():
    act = parse(DECREE)
    assert [p.title for p in act.parts] == [
        "Постановление",
        "Требования к индустриальным (промышленным) паркам и управляющим компаниям индустриальных (промышленных) "
        "парков",
        "Правила подтверждения соответствия индустриального (промышленного) парка и управляющей компании требованиям"]
    labels = {p.label: p.text for p in act.points()}
    area = labels["Требования к индустриальным (промышленным) паркам и управляющим компаниям индустриальных "
                  "(промышленных) парков, подпункт «а» пункта 1"]
    assert area.endswith("составляет не менее восьми гектаров;")  # «гек-» + «таров» joined
    land = labels["Требования к индустриальным (промышленным) паркам и управляющим компаниям индустриальных "
                  "(промышленных) парков, подпункт «д» пункта 1"]
    assert "1434" not in land and "ред." not in land  # the editorial note is taken out of the text…
    assert (date(2021, 8, 28) in [d for d, _ in act.editions])  # …and kept as an edition
    first = labels["Требования к индустриальным (промышленным) паркам и управляющим компаниям индустриальных "
                   "(промышленных) парков, пункт 1"]
    assert first == "Индустриальный (промышленный) парк должен соответствовать следующим требованиям:"  # no «<1>»
    assert "подпункт 5 пункта 4" in " ".join(labels)
    assert not any("Председатель" in t or "УТВЕРЖДЕНЫ" in t for t in labels.values())


def test_planted_items_give_each_outcome(decree):
    reqs = {r.id: r for r in decree.requirements}
    params = {p.name: p for p in decree.params}
    assert decree.on == date(2022, 7, 17)  # the 2022 edition, in force from the date the catalog knows
    # confirmed: the number in words, on a line broken inside the word
    assert reqs["794-P-1"].outcome == CONFIRMED
    assert params["min_area_ha"].outcome == CONFIRMED and params["min_area_ha"].found.value == 8
    assert "не менее восьми гектаров" in params["min_area_ha"].sentence
    assert params["min_area_ha"].clause.endswith("подпункт «а» пункта 1")
    # «не менее половины» is 50 %
    assert params["min_production_share_pct"].outcome == CONFIRMED
    assert params["min_production_share_pct"].found.value == 50
    # the 5-year validity of the 2021 edition, in words
    assert params["decision_validity_years"].outcome == CONFIRMED and params["decision_validity_years"].found.value == 5
    # contradicted: the table row says 0,2 MW per hectare, the catalog 0.15
    assert reqs["794-P-6"].outcome == CONTRADICTED
    p = params["min_power_mw_per_ha"]
    assert p.outcome == CONTRADICTED and (p.found.value, p.catalog_value) == (0.2, 0.15)
    assert p.found.unit == "MW/ha" and "0,2 МВт на 1 га" in p.sentence
    # ambiguous: two clauses on the review period, 30 and 15 working days
    assert reqs["794-R-6"].outcome == AMBIGUOUS
    review = params["review_period_working_days"]
    assert review.outcome == AMBIGUOUS
    assert sorted(c.value.value for c in review.candidates) == [15, 30]
    assert [c.clause[-7:] for c in reqs["794-R-6"].candidates] == ["пункт 2", "пункт 3"]
    # not located: the eco-park rules are not in the text
    assert reqs["794-P-13"].outcome == NOT_LOCATED and not reqs["794-P-13"].candidates
    assert params["min_eco_activity_count"].outcome == NOT_LOCATED


def test_amendment_act_proposes_new_dated_values(catalog):
    act = parse(AMENDMENT)
    assert act.is_amendment and act.effective == date(2027, 3, 1)
    v = verify(catalog, act)
    params = {p.name: p for p in v.params}
    area = params["min_area_ha"]
    assert area.outcome == CONTRADICTED and (area.found.value, area.catalog_value) == (5, 8)
    assert params["review_period_working_days"].found.value == 20
    assert params["decision_validity_years"].outcome == CONFIRMED  # 5 years: already in the catalog
    assert params["min_power_mw_per_ha"].outcome == NOT_LOCATED  # not touched
    assert _outcomes(verify(catalog, parse(ACTS / "park-amendment.docx"))) == _outcomes(v)


def test_a_file_that_is_not_an_act_exits_2_with_a_russian_message():
    result = run("catalog", "verify", "-r", "ip794", "-t", str(ACTS / "letter-not-an-act.txt"))
    assert result.exit_code == 2
    assert "не похож на текст нормативного акта" in result.output
    assert "Traceback" not in result.output


def test_damaged_and_unsupported_files_get_a_russian_message(tmp_path):
    broken = tmp_path / "акт.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(ActTextError, match="повреждён или это не файл PDF"):
        parse(broken)
    result = run("catalog", "verify", "-r", "ip794", "-t", str(ROOT / "README.md"))
    assert result.exit_code == 2 and "формат не поддерживается" in result.output


def test_a_text_in_neither_utf8_nor_russian_1251_is_refused_not_read_as_gibberish(tmp_path):
    """The act's text file follows the rule of application files: Windows-1251 only when it reads as Russian text."""
    german = tmp_path / "akt.txt"
    german.write_bytes("Größe der Grundstücke: mindestens 8 Hektar".encode("latin-1"))
    with pytest.raises(ActTextError, match="не в кодировке UTF-8") as caught:
        parse(german)
    assert "akt.txt" in str(caught.value)
    signs = tmp_path / "акт.txt"
    signs.write_bytes("1. Площадь участка — не менее 8 га (±0,5 %), № 794.".encode("cp1251"))
    assert read_lines(signs)[1] == ["1. Площадь участка — не менее 8 га (±0,5 %), № 794."]


def test_text_json_and_docx_reports(tmp_path):
    result = run("catalog", "verify", "-r", "ip794", "-t", str(DECREE))
    assert result.exit_code == 0, result.output
    assert "Требования: подтверждено — " in result.output and "✗ расходится с текстом" in result.output
    assert internal_names(result.output, [DECREE.name]) == []
    result = run("catalog", "verify", "-r", "ip794", "-t", str(DECREE), "-f", "json")
    data = json.loads(result.output)
    by_id = {r["id"]: r for r in data["requirements"]}
    assert by_id["794-P-6"]["outcome"] == "contradicted"
    assert by_id["794-P-6"]["parameters"][0]["found_value"] == 0.2
    out = tmp_path / "сверка.docx"
    result = run("catalog", "verify", "-r", "ip794", "-t", str(DECREE), "-f", "docx", "-o", str(out))
    assert result.exit_code == 0, result.output
    doc = Document(io.BytesIO(out.read_bytes()))
    table = doc.tables[1]
    header = [c.text for c in table.rows[0].cells]
    assert header == ["Требование", "Норма каталога", "Что проверяет программа", "Пункт и текст акта", "Итог",
                      "Подтверждение эксперта", "Комментарий"]
    row = next(r for r in table.rows if r.cells[0].text.startswith("794-P-6"))
    cells = [c.text.replace("\u00a0", " ") for c in row.cells]  # numbers and units joined by no-break spaces
    assert "0,15" in cells[1] and "0,2 МВт на 1 га" in cells[3] and cells[4] == "расходится с текстом"
    assert cells[5] == cells[6] == ""
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(c.text for t in doc.tables for r in t.rows
                                                                for c in r.cells)
    assert internal_names(text, [DECREE.name]) == []


def _digest(*paths: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()


@pytest.fixture
def catalog_copy(tmp_path):
    for name in ("decrees", "rules", "fixtures"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("acts"))
    return tmp_path


def test_apply_writes_confirmed_items_into_a_copy_keeping_comments_and_the_check_passes(catalog_copy):
    repo = _digest(ROOT / "decrees" / "ip794.yaml", ROOT / "rules" / "ip794.yaml")
    before = (catalog_copy / "decrees" / "ip794.yaml").read_text(encoding="utf-8").splitlines()
    result = run("catalog", "verify", "-r", "ip794", "-t", str(DECREE), "--apply", "--catalog", str(catalog_copy))
    assert result.exit_code == 0, result.output
    assert "Каталог проверен: ошибок нет" in result.output
    assert _digest(ROOT / "decrees" / "ip794.yaml", ROOT / "rules" / "ip794.yaml") == repo
    after = (catalog_copy / "decrees" / "ip794.yaml").read_text(encoding="utf-8").splitlines()
    assert [l for l in before if l.lstrip().startswith("#")] == [l for l in after if l.lstrip().startswith("#")]
    # fields rewritten in place, nothing else touched: every changed line is a clause, confidence or source (a value
    # folded over several lines becomes one line — its continuation lines go, nothing else does)
    fields = ("    clause", "    confidence", "    source")
    removed, added = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += before[i1:i2]
            added += after[j1:j2]
    assert added and all(a.split(":")[0] in fields for a in added)
    assert all(b.split(":")[0] in fields or b.startswith("      ") for b in removed)
    cat = load_catalog("ip794", catalog_copy)
    p1 = cat.requirements["794-P-1"]
    assert (p1.confidence, p1.clause.endswith("подпункт «а» пункта 1")) == ("T", True)
    assert p1.source.startswith("текст акта в редакции от 07.07.2022, файл «park-decree.txt» получен ")
    assert cat.requirements["794-R-6"].confidence == "M"  # ambiguous: untouched
    assert cat.requirements["794-P-6"].confidence == "M"  # contradicted: untouched without --apply-contradicted
    area = cat.rulebook.parameters["min_area_ha"].values[0]
    assert area.confidence == "T" and area.value == 8
    power = cat.rulebook.parameters["min_power_mw_per_ha"]
    assert [v.value for v in power.values] == [0.15]


def test_apply_contradicted_needs_from_and_adds_a_dated_value(catalog_copy):
    result = run("catalog", "verify", "-r", "ip794", "-t", str(DECREE), "--apply-contradicted",
                 "--catalog", str(catalog_copy))
    assert result.exit_code == 2 and "укажите дату, с которой действуют новые значения" in result.output
    result = run("catalog", "verify", "-r", "ip794", "-t", str(DECREE), "--apply", "--apply-contradicted",
                 "--from", "01.01.2030", "--catalog", str(catalog_copy))
    assert result.exit_code == 0, result.output
    power = load_catalog("ip794", catalog_copy).rulebook.parameters["min_power_mw_per_ha"]
    assert [(v.start, v.value, v.confidence) for v in power.values] == [
        (date(2015, 8, 4), 0.15, "M"), (date(2030, 1, 1), 0.2, "T")]
    assert power.at(date(2029, 12, 31)).value == 0.15  # the old value stays for checks before the change


def test_apply_reports_the_cases_that_now_disagree(catalog_copy):
    # the amendment lowers the minimum area to 5 ha; taken from a date already past, a test case of a 7.5 ha park
    # expected to fail the area requirement now passes it — the command names it and exits 1
    result = run("catalog", "verify", "-r", "ip794", "-t", str(AMENDMENT), "--apply-contradicted",
                 "--from", "01.01.2020", "--catalog", str(catalog_copy))
    assert result.exit_code == 1, result.output
    assert "После изменений каталог не проходит проверку" in result.output
    assert "794-P-1" in result.output
    area = load_catalog("ip794", catalog_copy).rulebook.parameters["min_area_ha"].values
    assert (area[-1].start, area[-1].value) == (date(2020, 1, 1), 5)
    assert area[-1].reference.startswith("постановление Правительства Российской Федерации от 20.01.2027 № 55, ")
    assert area[0].confidence == "S"  # the value the amendment replaces keeps its own basis


def test_the_text_of_another_act_is_reported_and_never_applied(catalog_copy):
    before = _digest(catalog_copy / "decrees" / "itp1863.yaml", catalog_copy / "rules" / "itp1863.yaml")
    result = run("catalog", "verify", "-r", "itp1863", "-t", str(DECREE), "--apply", "--catalog", str(catalog_copy))
    assert result.exit_code == 2
    assert "в тексте акт № 794, а каталог составлен по акту № 1863" in result.output
    assert "Каталог не изменён" in result.output
    assert _digest(catalog_copy / "decrees" / "itp1863.yaml", catalog_copy / "rules" / "itp1863.yaml") == before
    result = run("catalog", "verify", "-r", "cl779", "-t", str(AMENDMENT))
    assert result.exit_code == 0 and "изменения вносятся не в акт № 779" in result.output


@pytest.mark.parametrize("suffix", [".txt", ".docx", ".html", ".rtf", ".pdf"])
def test_technopark_text_numbers_in_words_thousands_and_square_metres(suffix):
    v = verify(load_catalog("itp1863"), parse(ACTS / f"technopark-decree{suffix}"))
    assert v.on == date(2021, 9, 9)  # «(в ред. … от 28.08.2021 № 1435)», in force from the catalog's date
    params = {p.name: (p.outcome, p.found.value if p.found else None, p.catalog_value) for p in v.params}
    assert params["min_buildings_area_m2"] == (CONFIRMED, 5000, 5000)  # «не менее пяти тысяч квадратных метров»
    assert params["min_tech_object_types"] == (CONFIRMED, 2, 2)  # «не менее двух разных видов»
    assert params["min_producing_residents"] == (CONFIRMED, 3, 3)  # «не менее трех резидентов»
    assert params["min_resident_useful_share_pct"] == (CONTRADICTED, 60, 50)
    assert params["min_occupancy_pct"] == (CONFIRMED, 50, 50)
    reqs = {r.id: r for r in v.requirements}
    assert reqs["1863-T-3"].best.clause.endswith("подпункт 2 пункта 1")  # «Пункт 1.» numbering, «2)» subpoints
    assert reqs["1863-T-5"].outcome == CONTRADICTED
