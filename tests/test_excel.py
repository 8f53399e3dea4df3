"""The Excel workbook of an industrial-cluster application: template, round trip, cell-located problems, refusals."""
from __future__ import annotations

import json
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import get_args

import openpyxl
import pytest
from typer.testing import CliRunner

from compliance import excel
from compliance.cli import app as cli_app
from compliance.identifiers import make_inn10, make_ogrn13
from compliance.loading import InputError, load_application
from compliance.models import (Application, ContractType, DocumentKind, LegalForm, Participant,
                               SpecializedOrganization, SpecialTerritory)

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
INNS = [make_inn10(f"16{i:07d}") for i in range(1, 13)]


def cluster_application() -> Application:
    kinds = ["industrial"] * 10 + ["education", "science"]
    participants = []
    for i, inn in enumerate(INNS):
        participants.append({
            "name": f"ООО «Участник {i + 1}»", "inn": inn, "region": "Республика Татарстан" if i % 3 else "Самарская область",
            "kind": kinds[i],
            "products": (["final", "intermediate"][i % 2] if kinds[i] == "industrial" else None),
            "made_cluster_products_last_period": kinds[i] == "industrial" and i != 9,
            "organising_production": i == 9,
            "special_territory": "monotown" if i in (2, 5) else None,
        })
    participants[0]["ogrn"] = make_ogrn13("116000000001")
    types = list(get_args(ContractType))
    contracts = []
    for i in range(len(INNS)):
        contracts.append({
            "number": f"Д-{i + 1}/2024", "party_a_inn": INNS[i], "party_b_inn": INNS[(i + 1) % len(INNS)],
            "type": types[i % len(types)], "amount_rub": 1_000_000.0 + i * 250_000.5,
            "date": date(2024, 1 + i % 12, 10), "valid_until": date(2026, 12, 31) if i % 2 else None,
            "subject": "поставка комплектующих" if i % 3 == 0 else None,
        })
    purchases = [{"participant_inn": INNS[i], "year": 2024, "total_inputs_rub": 50_000_000.0 + i,
                  "inputs_from_participants_rub": 12_500_000.0} for i in range(0, 10, 2)]
    so = {
        "name": "АНО «Центр кластерного развития»", "inn": make_inn10("165000001"), "ogrn": make_ogrn13("116500000001"),
        "legal_form": "АНО", "registration_country": "RU", "registration_date": date(2016, 2, 3),
        "in_liquidation": False, "in_reorganisation": False, "in_bankruptcy": False, "has_overdue_tax_debt": False,
        "website": "https://cluster.example.ru", "functions": ["methodological", "information", "joint_projects"],
        "functions_documented_in": "charter", "ownership": "private", "services": ["consulting", "engineering"],
    }
    return Application.model_validate({
        "regimes": ["cl779"], "site_name": "Камский автомобильный кластер", "region": "Республика Татарстан",
        "filing_date": date(2025, 3, 1), "region_code": "16", "address": "г. Набережные Челны, пр. Автозаводский, 2",
        "cluster": {
            "participants": participants, "contracts": contracts, "purchases": purchases,
            "specialized_organizations": [so], "reporting_year": 2024,
            "programme": {"approved": True, "approved_date": date(2024, 6, 1),
                          "goals": ["рост выпуска", "импортозамещение узлов"], "joint_projects": ["КПП нового поколения"],
                          "import_substituting_products": ["коробка передач", "ступица"], "indicators": ["выручка, млрд руб."]},
        },
        "documents": [
            {"kind": "cluster_programme", "title": "Программа развития кластера на 2024–2028 гг.", "number": "1",
             "date": date(2024, 6, 1)},
            {"kind": "egrul_extract", "date": date(2025, 2, 20), "issuer": "ФНС России", "refers_to": "специализированная организация"},
            {"kind": "cluster_contracts", "valid_until": date(2030, 1, 1)},
        ],
    })


@pytest.fixture
def filled(tmp_path) -> Path:
    path = tmp_path / "cluster.xlsx"
    assert excel.write_template(path, cluster_application()) == []
    return path


def edit(path: Path, sheet: str, cells: dict[str, object]) -> Path:
    wb = openpyxl.load_workbook(path)
    for ref, value in cells.items():
        wb[sheet][ref] = value
    wb.save(path)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InputError) as exc:
        excel.read_workbook(path)
    return [str(p) for p in exc.value.problems]


def refusal(path: Path) -> str:
    # speed is measured by `make bench`, not here; what matters is that nothing is decompressed first
    with pytest.raises(InputError) as exc:
        excel.read_workbook(path)
    assert len(exc.value.problems) == 1
    return str(exc.value.problems[0])


# --- round trip -----------------------------------------------------------------------------------------------
def test_round_trip_gives_the_same_model(filled):
    original = cluster_application()
    back = excel.read_workbook(filled)
    assert back == original
    assert back.model_dump() == original.model_dump()
    assert len(back.cluster.participants) == 12 and len(back.cluster.contracts) == 12


def test_headers_only_is_not_stated_and_none_mark_is_an_explicit_none(tmp_path):
    """A table sheet with headers only is «не указано» (the list is left out); «нет» alone in its first data row is
    an explicit «нет» (an empty list); a list cell on «Кластер» reads «нет» as [] and blank as not stated."""
    data = cluster_application().model_dump()
    data["cluster"]["contracts"] = []  # explicitly none
    data["cluster"]["purchases"] = None  # not stated
    so = data["cluster"]["specialized_organizations"][0]
    so["services"], so["functions"], so["website"], so["has_website"] = [], None, None, False
    data["cluster"]["programme"]["indicators"] = []
    app = Application.model_validate(data)
    path = tmp_path / "none.xlsx"
    excel.write_template(path, app)
    wb = openpyxl.load_workbook(path)
    assert wb["Договоры"]["A2"].value == "нет" and wb["Договоры"].max_row == 2
    assert wb["Закупки"].max_row == 1  # headers only
    values = {r[0]: r[1] for r in wb["Кластер"].iter_rows(min_row=2, values_only=True)}
    assert values["Услуги участникам (через запятую)"] == "нет" and values["Функции (через запятую)"] is None
    assert values["Есть сайт"] == "нет" and values["Показатели (через «;»)"] == "нет"
    back = excel.read_workbook(path)
    assert back == app
    assert back.cluster.contracts == [] and back.cluster.purchases is None
    assert back.cluster.specialized_organizations[0].services == [] and back.cluster.specialized_organizations[0].functions is None
    instruction = " ".join(str(v) for row in wb["Инструкция"].iter_rows(values_only=True) for v in row if v)
    assert "«Не указано» и «нет» — разные ответы" in instruction


def test_none_mark_with_rows_below_is_a_problem(filled):
    wb = openpyxl.load_workbook(filled)
    wb["Договоры"].insert_rows(2)
    wb["Договоры"]["A2"] = "Нет"
    wb.save(filled)
    assert problems_of(filled) == ["лист «Договоры», строка 2: «нет» означает, что строк нет, а ниже на листе есть данные: "
                                   "уберите «нет» или строки"]


def test_a_cleared_contracts_sheet_lacks_data_rather_than_failing(tmp_path):
    """Deleting every contract row leaves the contracts not stated: 779-C-1 lacks data and names the contracts."""
    from compliance.evaluate import evaluate

    data = cluster_application().model_dump()
    data["cluster"]["contracts"] = None
    path = tmp_path / "no-contracts.xlsx"
    excel.write_template(path, Application.model_validate(data))
    finding = next(f for f in evaluate(excel.read_workbook(path), "cl779").findings if f.requirement_id == "779-C-1")
    assert finding.status == "insufficient_data" and finding.missing_inputs == ["cluster.contracts"]
    assert "кластер → договоры" in finding.remedy and "cluster.contracts" not in finding.remedy + finding.explanation


def test_load_application_dispatches_xlsx(filled):
    assert load_application(filled) == cluster_application()


def test_rewriting_a_read_workbook_is_stable(filled, tmp_path):
    again = tmp_path / "again.xlsx"
    excel.write_template(again, excel.read_workbook(filled))
    assert excel.read_workbook(again) == cluster_application()


def test_sections_the_workbook_cannot_carry_are_reported(tmp_path):
    data = cluster_application().model_dump()
    data["regimes"] = ["cl779", "ip794"]
    data["site_type"] = "greenfield"
    data["cluster"]["specialized_organizations"].append(data["cluster"]["specialized_organizations"][0])
    notes = excel.write_template(tmp_path / "x.xlsx", Application.model_validate(data))
    assert any("site_type" in n for n in notes) and any("ip794" in n for n in notes)
    assert any("одна специализированная организация" in n for n in notes)


@pytest.mark.parametrize("choice, codes", [
    (excel.PARTICIPANT_KIND, get_args(Participant.model_fields["kind"].annotation)),
    (excel.PRODUCTS, get_args(get_args(Participant.model_fields["products"].annotation)[0])),
    (excel.SPECIAL_TERRITORY, get_args(SpecialTerritory)),
    (excel.CONTRACT_TYPE, get_args(ContractType)),
    (excel.DOCUMENT_KIND, get_args(DocumentKind)),
    (excel.LEGAL_FORM, get_args(LegalForm)),
    (excel.SO_FUNCTIONS, get_args(get_args(get_args(SpecializedOrganization.model_fields["functions"].annotation)[0])[0])),
    (excel.FUNCTIONS_DOCUMENTED_IN,
     get_args(get_args(SpecializedOrganization.model_fields["functions_documented_in"].annotation)[0])),
    (excel.COUNTRY, get_args(get_args(SpecializedOrganization.model_fields["registration_country"].annotation)[0])),
    (excel.OWNERSHIP, get_args(get_args(SpecializedOrganization.model_fields["ownership"].annotation)[0])),
    (excel.SERVICES, get_args(get_args(get_args(SpecializedOrganization.model_fields["services"].annotation)[0])[0])),
])
def test_labels_cover_every_code_of_the_model(choice, codes):
    assert excel.labels_cover(choice, codes)
    assert len(set(map(excel._norm, choice.labels.values()))) == len(choice.labels), "labels must be distinct"
    for code, label in choice.labels.items():
        assert choice.code(label) == code and choice.code(label.upper()) == code


# --- the empty template ---------------------------------------------------------------------------------------
def test_empty_template_has_sheets_headers_and_drop_downs(tmp_path):
    path = tmp_path / "empty.xlsx"
    excel.write_template(path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:6] == ["Инструкция", "Кластер", "Участники", "Договоры", "Закупки", "Документы"]
    assert wb["Списки"].sheet_state == "hidden"
    assert wb.active.title == "Кластер"
    assert [c.value for c in wb["Кластер"][1]] == ["Поле", "Значение"]
    labels = [r[0] for r in wb["Кластер"].iter_rows(min_row=2, values_only=True)]
    for label in ("Название кластера", "Субъект РФ", "Дата подачи заявки", "ИНН специализированной организации",
                  "Функции (через запятую)", "Программа развития утверждена", "Цели (через «;»)"):
        assert label in labels
    assert [c.value for c in wb["Участники"][1]] == [
        "Наименование", "ИНН", "ОГРН", "Субъект РФ", "Вид", "Продукция", "Выпускал продукцию кластера в прошлом периоде",
        "Организует производство", "Особая территория"]
    assert [c.value for c in wb["Договоры"][1]] == [
        "Номер", "ИНН стороны 1", "ИНН стороны 2", "Вид договора", "Сумма, руб.", "Дата", "Действует до", "Предмет"]
    assert [c.value for c in wb["Закупки"][1]] == [
        "ИНН участника", "Год", "Все закупки, руб.", "Закупки у участников, руб."]
    assert [c.value for c in wb["Документы"][1]] == [
        "Вид документа", "Наименование", "Номер", "Дата", "Действует до", "Кем выдан", "К чему относится"]
    for table in excel.TABLES:
        ws = wb[table.title]
        assert ws.freeze_panes == "A2"
        assert all(c.font.b for c in ws[1])
        validated = {str(dv.sqref).split(":")[0].rstrip("0123456789") for dv in ws.data_validations.dataValidation}
        enumerated = {openpyxl.utils.get_column_letter(i) for i, c in enumerate(table.columns, start=1)
                      if c.kind in ("choice", "bool")}
        assert validated == enumerated, table.title
        for dv in ws.data_validations.dataValidation:
            assert dv.type == "list" and dv.formula1.startswith("'Списки'!")
        assert ws.column_dimensions["A"].width >= 14
    cluster_dv = wb["Кластер"].data_validations.dataValidation
    assert sum(len(dv.sqref.ranges) for dv in cluster_dv) == sum(
        1 for c in excel.CLUSTER_ROWS if isinstance(c, excel.Column) and c.kind in ("choice", "bool"))
    instruction = " ".join(str(v) for row in wb["Инструкция"].iter_rows(values_only=True) for v in row if v)
    assert "выпадающим списком" in instruction and "методическое сопровождение" in instruction


def test_drop_down_lists_hold_the_russian_labels(tmp_path):
    path = tmp_path / "empty.xlsx"
    excel.write_template(path)
    wb = openpyxl.load_workbook(path)
    columns = list(wb["Списки"].iter_cols(values_only=True))
    as_lists = {col[0]: [v for v in col[1:] if v] for col in columns}
    assert as_lists["Вид договора"] == list(excel.CONTRACT_TYPE.labels.values())
    assert as_lists["Да/нет"] == ["да", "нет"]


def test_empty_template_read_back_names_the_required_rows(tmp_path):
    path = tmp_path / "empty.xlsx"
    excel.write_template(path)
    problems = problems_of(path)
    assert problems == [
        "лист «Кластер», строка 3 «Название кластера», столбец «Значение»: обязательное поле не заполнено",
        "лист «Кластер», строка 4 «Субъект РФ», столбец «Значение»: обязательное поле не заполнено",
        "лист «Кластер», строка 5 «Дата подачи заявки», столбец «Значение»: обязательное поле не заполнено",
    ]


# --- cell-located problems --------------------------------------------------------------------------------------
def test_bad_inn_names_sheet_row_and_column(filled):
    bad = INNS[5][:-1] + str((int(INNS[5][-1]) + 1) % 10)
    problems = problems_of(edit(filled, "Участники", {"B7": bad}))
    assert "лист «Участники», строка 7, столбец «ИНН»: неверная контрольная цифра ИНН" in problems
    # the contracts that name the original INN now point outside the cluster: shown at the same time
    assert any(p.startswith("лист «Договоры», строка 6, столбец «ИНН стороны 2»") and "нет среди участников" in p
               for p in problems)


def test_number_typed_as_text_is_refused(filled):
    edit(filled, "Договоры", {"E2": "1500000"})
    edit(filled, "Закупки", {"B3": "2024"})
    problems = problems_of(filled)
    assert any(p.startswith("лист «Договоры», строка 2, столбец «Сумма, руб.»: ожидается число, а записан текст «1500000»")
               for p in problems), problems
    assert any(p.startswith("лист «Закупки», строка 3, столбец «Год»: ожидается число") for p in problems), problems
    assert len(problems) == 2


def test_all_problems_are_collected_with_their_cells(filled):
    edit(filled, "Участники", {"E3": "завод", "G4": "может быть", "D5": None})
    edit(filled, "Договоры", {"C4": INNS[0][:-1] + "0" if INNS[0][-1] != "0" else INNS[0][:-1] + "1"})
    edit(filled, "Закупки", {"D2": 60_000_000})
    edit(filled, "Кластер", {"B5": "31.02.2025"})
    problems = problems_of(filled)
    expected_starts = [
        "лист «Кластер», строка 5 «Дата подачи заявки», столбец «Значение»: «31.02.2025» — не дата",
        "лист «Участники», строка 3, столбец «Вид»: недопустимое значение «завод»; выберите из списка: «промышленность»",
        "лист «Участники», строка 4, столбец «Выпускал продукцию кластера в прошлом периоде»: недопустимое значение «может быть»",
        "лист «Участники», строка 5, столбец «Субъект РФ»: обязательное поле не заполнено",
        "лист «Договоры», строка 4, столбец «ИНН стороны 2»: неверная контрольная цифра ИНН",
        "лист «Договоры», строка 4, столбец «ИНН стороны 2»: ИНН ",  # and so it is not a participant's
        "лист «Закупки», строка 2, столбец «Закупки у участников, руб.»: закупки у участников больше всех закупок",
    ]
    for start in expected_starts:
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert len(problems) == len(expected_starts), problems


def test_contract_party_outside_the_cluster(filled):
    stranger = make_inn10("770000001")
    problems = problems_of(edit(filled, "Договоры", {"B3": stranger}))
    assert problems == [f"лист «Договоры», строка 3, столбец «ИНН стороны 1»: ИНН {stranger} нет среди участников кластера"]


def test_missing_required_column_is_reported_once(filled):
    problems = problems_of(edit(filled, "Участники", {"D1": "Регион"}))
    assert problems == ["лист «Участники», строка 1: нет обязательного столбца «Субъект РФ» в строке заголовков"]


NO_INN = "лист «Участники», строка 1: нет обязательного столбца «ИНН» в строке заголовков"


def test_missing_inn_column_is_one_error_not_a_line_per_reference(filled):
    """Without the participants' INN column nobody is known by INN: every contract and purchase would name an
    «unknown» participant. One error for the column, none for the references that depend on it."""
    problems = problems_of(edit(filled, "Участники", {"B1": "Налоговый номер"}))
    assert problems == [NO_INN]


def test_missing_reference_column_is_one_error(filled):
    problems = problems_of(edit(filled, "Договоры", {"B1": "Сторона"}))
    assert problems == ["лист «Договоры», строка 1: нет обязательного столбца «ИНН стороны 1» в строке заголовков"]


def test_a_blank_participant_inn_reports_the_blank_not_the_references_to_it(filled):
    """The same rule for one cell: the contracts of the participant whose INN is blank are not «outside the cluster»."""
    problems = problems_of(edit(filled, "Участники", {"B3": None}))
    assert problems == ["лист «Участники», строка 3, столбец «ИНН»: обязательное поле не заполнено"]


def test_references_are_still_checked_when_the_participants_are_read_in_full(filled):
    stranger = make_inn10("770000001")
    problems = problems_of(edit(filled, "Закупки", {"A2": stranger}))
    assert problems == [f"лист «Закупки», строка 2, столбец «ИНН участника»: ИНН {stranger} нет среди участников кластера"]


def _without_inn_column(tmp_path) -> Path:
    book = openpyxl.load_workbook(FIXTURES / "cl779-conforming.xlsx")
    sheet = book["Участники"]
    sheet.delete_cols(next(c.column for c in sheet[1] if c.value == "ИНН"))
    path = tmp_path / "без ИНН.xlsx"
    book.save(path)
    return path


def test_cli_api_and_page_show_the_one_error_for_the_missing_inn_column(tmp_path):
    from webclient import web_client

    path = _without_inn_column(tmp_path)
    result = runner.invoke(cli_app, ["check", str(path)])
    assert result.exit_code == 2
    assert [line for line in result.output.splitlines() if line.startswith("  • ")] == [f"  • {NO_INN}"]

    web = web_client(tmp_path)
    r = web.client.post("/api/v1/applications/upload", files={"file": (path.name, path.read_bytes())},
                        headers={"Authorization": f"Bearer {web.token}"})
    assert r.status_code == 422
    assert [p["message"] for p in r.json()["problems"]] == [NO_INN.split(": ", 1)[1]]
    page = web.post("/applications/upload", files={"file": (path.name, path.read_bytes())})
    assert page.status_code == 422 and "нет обязательного столбца «ИНН»" in page.text
    assert "нет среди участников" not in page.text


def test_lenient_forms_are_accepted(filled):
    """Text dates, «Да»/«НЕТ» in any case, codes instead of labels, an INN typed as a number, blank rows."""
    wb = openpyxl.load_workbook(filled)
    ws = wb["Участники"]
    ws["B2"] = int(INNS[0])
    ws["G2"], ws["H2"] = "ДА", "Нет"
    ws["E3"] = "industrial"
    ws.insert_rows(5, amount=2)  # two blank rows in the middle
    wb["Договоры"]["F2"] = "10.01.2024"
    wb["Договоры"]["G3"] = "2026-12-31"
    wb.save(filled)
    assert excel.read_workbook(filled) == cluster_application()


def test_inn_with_a_lost_leading_zero_is_restored(tmp_path):
    inn = make_inn10("010500001")  # Adygea: the INN starts with 0
    data = cluster_application().model_dump()
    data["cluster"]["participants"][0]["inn"] = inn
    for c in data["cluster"]["contracts"]:
        for side in ("party_a_inn", "party_b_inn"):
            c[side] = inn if c[side] == INNS[0] else c[side]
    data["cluster"]["purchases"][0]["participant_inn"] = inn
    path = tmp_path / "zero.xlsx"
    excel.write_template(path, Application.model_validate(data))
    edit(path, "Участники", {"B2": int(inn)})
    assert excel.read_workbook(path).cluster.participants[0].inn == inn


def test_dates_are_written_as_real_excel_dates(filled):
    wb = openpyxl.load_workbook(filled)
    cell = wb["Договоры"]["F2"]
    assert isinstance(cell.value, datetime) and cell.number_format == "DD.MM.YYYY"
    assert wb["Участники"]["B2"].value == INNS[0] and wb["Участники"]["B2"].number_format == "@"


# --- refusals ---------------------------------------------------------------------------------------------------
def test_text_file_renamed_xlsx_is_refused(tmp_path):
    path = tmp_path / "participants.xlsx"
    path.write_text("Наименование;ИНН\nООО «Ромашка»;1600000004\n", encoding="utf-8")
    message = refusal(path)
    assert "не книга Excel .xlsx" in message and "CSV" in message


def test_old_xls_renamed_is_refused(tmp_path):
    path = tmp_path / "old.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000))
    assert ".xls" in refusal(path)


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "не книга")
    assert "zip-архив, но не книга Excel" in refusal(path)


def test_a_broken_workbook_is_refused(tmp_path):
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<это не xml")
    assert "не удалось открыть книгу Excel" in refusal(path)


def test_missing_sheet_is_refused(filled):
    wb = openpyxl.load_workbook(filled)
    del wb["Закупки"]
    wb.save(filled)
    message = refusal(filled)
    assert "нет листов: «Закупки»" in message


def test_oversized_file_is_refused(tmp_path):
    path = tmp_path / "huge.xlsx"
    with path.open("wb") as fh:
        fh.truncate(21 * 1024 * 1024)
    assert "слишком велик" in refusal(path)


def test_sheet_with_too_many_rows_is_refused(tmp_path):
    path = tmp_path / "rows.xlsx"
    wb = openpyxl.Workbook(write_only=True)
    for title in excel.REQUIRED_SHEETS:
        ws = wb.create_sheet(title)
        if title == "Участники":
            ws.append([c.header for c in excel.PARTICIPANTS.columns])
            for i in range(excel.MAX_DATA_ROWS + 1):
                ws.append([f"участник {i}"])
    wb.save(path)
    message = refusal(path)
    assert message == "лист «Участники»: больше 20\u00a0000 строк с данными; разделите заявку или удалите лишние строки"


def _zip_of_zeros(path: Path, megabytes: int) -> Path:
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as member:
            for _ in range(megabytes):
                member.write(chunk)
    return path


def test_zip_bomb_is_refused_before_unpacking(tmp_path, monkeypatch):
    path = _zip_of_zeros(tmp_path / "bomb.xlsx", 300)
    assert path.stat().st_size < 2 * 1024 * 1024
    import openpyxl

    def must_not_open(*args, **kwargs):
        raise AssertionError("openpyxl must not be reached for a zip bomb")
    monkeypatch.setattr(openpyxl, "load_workbook", must_not_open)
    message = refusal(path)
    assert "в распакованном виде он занимает 300 МБ (предел 200 МБ)" in message


def test_highly_compressed_member_is_refused(tmp_path):
    message = refusal(_zip_of_zeros(tmp_path / "ratio.xlsx", 20))
    assert "zip-бомб" in message and "предел 100" in message


# --- command line -----------------------------------------------------------------------------------------------
def test_cli_writes_the_empty_template(tmp_path):
    out = tmp_path / "cluster.xlsx"
    result = runner.invoke(cli_app, ["template", "cl779", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Шаблон записан" in result.output
    assert openpyxl.load_workbook(out, read_only=True).sheetnames[:6] == [
        "Инструкция", "Кластер", "Участники", "Договоры", "Закупки", "Документы"]


def test_cli_template_from_json_round_trips(tmp_path):
    source = tmp_path / "application.json"
    source.write_text(json.dumps(cluster_application().model_dump(mode="json"), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "filled.xlsx"
    result = runner.invoke(cli_app, ["template", "cl779", "-o", str(out), "--from", str(source)])
    assert result.exit_code == 0, result.output
    assert load_application(out) == load_application(source)


def test_cli_unknown_regime_exits_2(tmp_path):
    result = runner.invoke(cli_app, ["template", "ip794", "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2
    assert "только для cl779" in result.output
    assert not (tmp_path / "x.xlsx").exists()


def test_cli_template_wants_an_xlsx_name(tmp_path):
    result = runner.invoke(cli_app, ["template", "cl779", "-o", str(tmp_path / "x.xls")])
    assert result.exit_code == 2 and ".xlsx" in result.output


def test_cli_check_of_a_broken_workbook_exits_2(tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    result = runner.invoke(cli_app, ["check", str(path)])
    assert result.exit_code == 2 and "не книга Excel .xlsx" in result.output


def test_layout_labels_are_unambiguous():
    rows = [c for c in excel.CLUSTER_ROWS if isinstance(c, excel.Column)]
    headings = [c for c in excel.CLUSTER_ROWS if isinstance(c, str)]
    labels = [excel._norm(c.header) for c in rows] + [excel._norm(h) for h in headings]
    assert len(labels) == len(set(labels))
    for table in excel.TABLES:
        assert len({excel._norm(c.header) for c in table.columns}) == len(table.columns)
    for col in rows:
        if col.kind == "list" and col.choice:
            assert not any(col.sep in label for label in col.choice.labels.values()), col.header
