"""Industrial-cluster applications (regime cl779) in Excel: a template to fill in and a reader back into the model.

A real cluster has dozens of participants and hundreds of contracts, so the specialized organization prepares them
in a workbook rather than in JSON. The workbook has the sheets «Кластер» (field / value), «Участники», «Договоры»,
«Закупки», «Документы», plus «Инструкция» and a hidden «Списки» that feeds the drop-down lists.

Every problem found while reading is a Problem whose location is Russian — «лист «Участники», строка 7, столбец «ИНН»»;
pydantic's errors are translated through a map from model paths (``cluster.participants[3].inn``) to cells.
"""
from __future__ import annotations

import re
import warnings
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, get_args

from pydantic import ValidationError

from . import labels as code_names
from .cells import append_row, cell_of
from .formatting import field_label, num, size
from .loading import MAX_FILE_BYTES, InputError, InputTooLarge, Problem, problems_from
from .models import Application, LegalForm, _parse_date

REGIME = "cl779"
MAX_DATA_ROWS = 20_000
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
MAX_ZIP_MEMBERS = 10_000
_RATIO_MIN_BYTES = 1024 * 1024  # a small member cannot be a bomb whatever its ratio (XML compresses well)
# Counted in the XML of the whole workbook before openpyxl builds anything (see `_scan_xml`): a workbook of the
# template at its row limit stays far below them, a crafted one is refused after reading at most this much.
MAX_SHEET_ROWS = 50_000  # a row number on any sheet, blank rows included (openpyxl walks every row up to it)
MAX_CELLS = 300_000  # cells of the whole workbook (a sheet of the template full to its row limit has 180 000)
MAX_SHARED_STRINGS = 300_000  # entries of xl/sharedStrings.xml (openpyxl keeps them all in memory) …
MAX_SHARED_STRINGS_BYTES = 40 * 2**20  # … and the unpacked size of that part, which bounds their total length
MAX_XML_ELEMENTS = 3_000_000  # XML elements in all the parts (styles, names, sheets …)


# --- labels: one table, both directions ------------------------------------------------------------------------
def _norm(text: object) -> str:
    return " ".join(str(text).split()).lower().replace("ё", "е")


class Choice:
    """Russian labels of the codes of one enumerated field; reads a label or the code itself."""

    def __init__(self, name: str, title: str, labels: dict[Any, str]):
        self.name = name
        self.title = title
        self.labels = labels
        self._codes = {_norm(label): code for code, label in labels.items()}
        self._codes.update({_norm(code): code for code in labels if isinstance(code, str)})

    def label(self, code: Any) -> str:
        return self.labels[code]

    def code(self, text: object) -> Any:
        """The code for a label (or a code); KeyError when unknown."""
        return self._codes[_norm(text)]

    def allowed(self) -> str:
        return ", ".join(f"«{label}»" for label in self.labels.values())


YES_NO = Choice("yes_no", "Да/нет", {True: "да", False: "нет"})
PARTICIPANT_KIND = Choice("participant_kind", "Вид участника", {
    "industrial": "промышленность", "education": "образование", "science": "наука", "other": "иное"})
PRODUCTS = Choice("products", "Продукция", {"final": "конечная", "intermediate": "промежуточная", "none": "нет"})
SPECIAL_TERRITORY = Choice("special_territory", "Особая территория", {
    "monotown": "моногород", "individual_programme_region": "регион с индивидуальной программой",
    "geostrategic": "геостратегическая территория"})
CONTRACT_TYPE = Choice("contract_type", "Вид договора", {
    "import_substitution_project": "совместный проект по импортозамещающей продукции",
    "cluster_products_supply": "поставка продукции кластера",
    "production_works_services": "работы, услуги производственного характера",
    "special_investment_contract": "специальный инвестиционный контракт",
    "other": "иной договор",
})
COUNTRY = Choice("country", "Страна регистрации", {"RU": "Россия", "other": "другая страна"})
LEGAL_FORM = Choice("legal_form", "ОПФ", {form: form for form in get_args(LegalForm)})
SO_FUNCTIONS = Choice("so_functions", "Функции специализированной организации", code_names.SO_FUNCTIONS)
OWNERSHIP = Choice("ownership", "Форма собственности", {
    "state": "государственная", "municipal": "муниципальная", "private": "частная", "mixed": "смешанная"})
SERVICES = Choice("services", "Услуги участникам", code_names.SERVICES)
FUNCTIONS_DOCUMENTED_IN = Choice("functions_documented_in", "Где закреплены функции", {
    "charter": "устав", "agreement": "соглашение с участниками", "none": "нигде не закреплены"})
# «нет» in a list cell of «Кластер», or alone in the first data row of a table sheet: an explicit «нет» (an empty
# list); a blank cell, or a table sheet with headers only, is «не указано» (the field is left out)
NONE_MARK = "нет"
DOCUMENT_KIND = Choice("document_kind", "Вид документа", code_names.DOCUMENT_KINDS)


# --- layout ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """A column of a table sheet, or a row of the «Кластер» sheet (then ``header`` is the label in column «Поле»)."""

    header: str
    field: str  # table: the field of one row; «Кластер»: the full model path
    kind: str = "text"  # text | id | int | number | date | bool | choice | list
    choice: Choice | None = None
    sep: str = ""  # list: the separator
    required: bool = False
    width: int = 16
    hint: str = ""


@dataclass(frozen=True)
class Table:
    title: str
    path: str  # the model path of the list: cluster.participants
    columns: tuple[Column, ...]
    hint: str = ""
    # the list may be «не указано» (headers only) as well as «нет» (NONE_MARK alone in the first data row)
    statable_none: bool = True


_INN_HINT = "10 цифр (организация) или 12 цифр (ИП)"
_DATE_HINT = "дата: ДД.ММ.ГГГГ"
_SO = "cluster.specialized_organizations[0]."
_PROG = "cluster.programme."
_LIST_HINT = "через точку с запятой; «нет» — нет ни одного; пусто — не указано"

SHEET_CLUSTER = "Кластер"
SHEET_INSTRUCTION = "Инструкция"
SHEET_LISTS = "Списки"
CLUSTER_HEADERS = ("Поле", "Значение")

# «Кластер»: section headings (str) and one row per field
CLUSTER_ROWS: tuple[str | Column, ...] = (
    "Кластер",
    Column("Название кластера", "site_name", required=True, hint="как в заявлении"),
    Column("Субъект РФ", "region", required=True, hint="например: Республика Татарстан"),
    Column("Дата подачи заявки", "filing_date", "date", required=True, hint=_DATE_HINT),
    Column("Код субъекта РФ", "region_code", hint="две цифры, например 16 или 05"),
    Column("Адрес", "address", hint="адрес специализированной организации или центра кластера"),
    Column("Отчётный год для функциональной зависимости", "cluster.reporting_year", "int",
           hint="год числом; по умолчанию — год, предшествующий дате оценки"),
    "Специализированная организация",
    Column("Наименование специализированной организации", _SO + "name", hint="полное наименование"),
    Column("ИНН специализированной организации", _SO + "inn", "id", hint=_INN_HINT),
    Column("ОГРН специализированной организации", _SO + "ogrn", "id", hint="13 цифр"),
    Column("Организационно-правовая форма (ОПФ)", _SO + "legal_form", "choice", LEGAL_FORM),
    Column("Страна регистрации", _SO + "registration_country", "choice", COUNTRY),
    Column("Дата регистрации", _SO + "registration_date", "date", hint=_DATE_HINT),
    Column("Форма собственности", _SO + "ownership", "choice", OWNERSHIP),
    Column("В процессе ликвидации", _SO + "in_liquidation", "bool", YES_NO),
    Column("В процессе реорганизации", _SO + "in_reorganisation", "bool", YES_NO),
    Column("В процессе банкротства", _SO + "in_bankruptcy", "bool", YES_NO),
    Column("Просроченная налоговая задолженность", _SO + "has_overdue_tax_debt", "bool", YES_NO),
    Column("Сайт", _SO + "website", hint="адрес с http:// или https://"),
    Column("Есть сайт", _SO + "has_website", "bool", YES_NO,
           hint="«нет» — сайта нет; пусто — не указано (если адрес сайта указан, можно не заполнять)"),
    Column("Функции (через запятую)", _SO + "functions", "list", SO_FUNCTIONS, sep=",",
           hint="из перечня на листе «Инструкция», через запятую; «нет» — нет ни одной; пусто — не указано"),
    Column("Где закреплены функции", _SO + "functions_documented_in", "choice", FUNCTIONS_DOCUMENTED_IN),
    Column("Услуги участникам (через запятую)", _SO + "services", "list", SERVICES, sep=",",
           hint="из перечня на листе «Инструкция», через запятую; «нет» — нет ни одной; пусто — не указано"),
    "Программа развития кластера",
    Column("Программа развития утверждена", _PROG + "approved", "bool", YES_NO,
           hint="обязательно, если заполнены другие поля программы"),
    Column("Дата утверждения программы", _PROG + "approved_date", "date", hint=_DATE_HINT),
    Column("Цели (через «;»)", _PROG + "goals", "list", sep=";", hint=_LIST_HINT),
    Column("Совместные проекты (через «;»)", _PROG + "joint_projects", "list", sep=";", hint=_LIST_HINT),
    Column("Импортозамещающая продукция (через «;»)", _PROG + "import_substituting_products", "list", sep=";",
           hint=_LIST_HINT),
    Column("Показатели (через «;»)", _PROG + "indicators", "list", sep=";", hint=_LIST_HINT),
)

PARTICIPANTS = Table("Участники", "cluster.participants", (
    Column("Наименование", "name", required=True, width=40),
    Column("ИНН", "inn", "id", required=True, width=14, hint=_INN_HINT),
    Column("ОГРН", "ogrn", "id", width=16, hint="13 цифр (ОГРНИП — 15)"),
    Column("Субъект РФ", "region", required=True, width=26),
    Column("Вид", "kind", "choice", PARTICIPANT_KIND, required=True, width=16),
    Column("Продукция", "products", "choice", PRODUCTS, width=16, hint="продукция кластера, которую выпускает участник"),
    Column("Выпускал продукцию кластера в прошлом периоде", "made_cluster_products_last_period", "bool", YES_NO, width=22),
    Column("Организует производство", "organising_production", "bool", YES_NO, width=16,
           hint="организует производство продукции кластера (если ещё не выпускал); пусто — нет"),
    Column("Особая территория", "special_territory", "choice", SPECIAL_TERRITORY, width=30,
           hint="моногород, регион с индивидуальной программой развития, геостратегическая территория; иначе пусто"),
), hint="одна строка — один участник кластера")

CONTRACTS = Table("Договоры", "cluster.contracts", (
    Column("Номер", "number", width=14),
    Column("ИНН стороны 1", "party_a_inn", "id", required=True, width=14, hint="ИНН участника с листа «Участники»"),
    Column("ИНН стороны 2", "party_b_inn", "id", required=True, width=14, hint="ИНН участника с листа «Участники»"),
    Column("Вид договора", "type", "choice", CONTRACT_TYPE, required=True, width=40),
    Column("Сумма, руб.", "amount_rub", "number", width=18, hint="число, не текст"),
    Column("Дата", "date", "date", width=13, hint=_DATE_HINT),
    Column("Действует до", "valid_until", "date", width=13, hint=_DATE_HINT),
    Column("Предмет", "subject", width=40),
), hint="одна строка — один договор между двумя участниками")

PURCHASES = Table("Закупки", "cluster.purchases", (
    Column("ИНН участника", "participant_inn", "id", required=True, width=14,
           hint="ИНН производителя конечной продукции с листа «Участники»"),
    Column("Год", "year", "int", required=True, width=8, hint="отчётный год числом"),
    Column("Все закупки, руб.", "total_inputs_rub", "number", required=True, width=20,
           hint="все закупки сырья, материалов, работ и услуг за год"),
    Column("Закупки у участников, руб.", "inputs_from_participants_rub", "number", required=True, width=22,
           hint="из них — у других участников кластера"),
), hint="закупки производителей конечной продукции за год (для функциональной зависимости)")

DOCUMENTS = Table("Документы", "documents", (
    Column("Вид документа", "kind", "choice", DOCUMENT_KIND, required=True, width=44),
    Column("Наименование", "title", width=36),
    Column("Номер", "number", width=14),
    Column("Дата", "date", "date", width=13, hint=_DATE_HINT),
    Column("Действует до", "valid_until", "date", width=13, hint=_DATE_HINT),
    Column("Кем выдан", "issuer", width=30),
    Column("К чему относится", "refers_to", width=30),
), hint="документы, прилагаемые к заявке", statable_none=False)

TABLES = (PARTICIPANTS, CONTRACTS, PURCHASES, DOCUMENTS)
REQUIRED_SHEETS = (SHEET_CLUSTER,) + tuple(t.title for t in TABLES)
CHOICES = (YES_NO, PARTICIPANT_KIND, PRODUCTS, SPECIAL_TERRITORY, CONTRACT_TYPE, COUNTRY, LEGAL_FORM, OWNERSHIP,
           SO_FUNCTIONS, FUNCTIONS_DOCUMENTED_IN, SERVICES, DOCUMENT_KIND)
_NUMBER_FORMATS = {"id": "@", "text": "@", "date": "DD.MM.YYYY", "number": "#,##0.00", "int": "0"}


# --- locations and problems --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Location:
    sheet: str
    row: int | None = None
    column: str | None = None
    label: str | None = None  # «Кластер»: the label of the field row

    def __str__(self) -> str:
        if self.label is not None:
            if self.row is None:
                return f"лист «{self.sheet}», поле «{self.label}» (строки с таким полем нет)"
            return f"лист «{self.sheet}», строка {self.row} «{self.label}», столбец «{self.column}»"
        parts = [f"лист «{self.sheet}»"]
        if self.row is not None:
            parts.append(f"строка {self.row}")
        if self.column is not None:
            parts.append(f"столбец «{self.column}»")
        return ", ".join(parts)


@dataclass
class CellProblem(Problem):
    """A problem in a workbook: ``path`` is the Russian location (sheet, row, column), ``field`` the model path."""

    field: str = ""
    location: Location | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def _refuse(message: str) -> InputError:
    return InputError([Problem("", message)])


# --- writing -----------------------------------------------------------------------------------------------------
def _parse_path(path: str) -> list[str | int]:
    tokens: list[str | int] = []
    for part in path.split("."):
        m = re.match(r"^(\w+)((?:\[\d+\])*)$", part)
        assert m, path
        tokens.append(m.group(1))
        tokens += [int(i) for i in re.findall(r"\[(\d+)\]", m.group(2))]
    return tokens


def _get(data: Any, path: str) -> Any:
    for token in _parse_path(path):
        if isinstance(token, int):
            if not isinstance(data, list) or token >= len(data):
                return None
            data = data[token]
        else:
            if not isinstance(data, dict):
                return None
            data = data.get(token)
        if data is None:
            return None
    return data


def _set(data: dict, path: str, value: Any) -> None:
    tokens = _parse_path(path)
    node: Any = data
    for token, nxt in zip(tokens, tokens[1:]):
        empty: Any = [] if isinstance(nxt, int) else {}
        if isinstance(token, int):
            while len(node) <= token:
                node.append(None)
            if node[token] is None:
                node[token] = empty
            node = node[token]
        else:
            node = node.setdefault(token, empty)
    last = tokens[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
    node[last] = value


def _cell_value(col: Column, value: Any) -> Any:
    """Model value -> what goes into the cell."""
    if value is None:
        return None
    if col.kind in ("bool", "choice"):
        return col.choice.label(value) if col.choice else value
    if col.kind == "list":
        items = [col.choice.label(v) if col.choice else v for v in value]
        return (col.sep + " ").join(items) if items else NONE_MARK
    return value


def _not_exported(app: Application) -> list[str]:
    """Russian notes on what of the application the workbook cannot carry."""
    notes = []
    shown = {"schema_version", "regimes", "site_name", "region", "region_code", "address", "filing_date", "cluster",
             "documents"}
    for name, info in Application.model_fields.items():
        if name not in shown and getattr(app, name) != info.get_default(call_default_factory=True):
            notes.append(f"раздел {name} («{field_label(name)}») в шаблон кластера не переносится")
    other = [r for r in app.regimes if r != REGIME]
    if other:
        notes.append(f"в книге указывается только режим {REGIME}; режимы {', '.join(other)} не переносятся")
    if app.cluster:
        sos = app.cluster.specialized_organizations
        if len(sos) > 1:
            notes.append(f"в книге помещается одна специализированная организация; ещё {len(sos) - 1} не перенесены")
        if app.cluster.programme:
            for name in ("goals", "joint_projects", "import_substituting_products", "indicators"):
                if any(";" in item for item in getattr(app.cluster.programme, name) or []):
                    notes.append(f"в пунктах программы развития ({name}) есть «;»: при чтении они разделятся")
    return notes


def write_template(path: str | Path, application: Application | None = None) -> list[str]:
    """Write the cluster workbook (empty, or filled from ``application``). Returns Russian notes on what of the
    application could not be carried into the workbook (other regimes' sections)."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    data = application.model_dump() if application else {}
    notes = _not_exported(application) if application else []
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    section_font = Font(bold=True, size=12)
    wrap = Alignment(wrap_text=True, vertical="top")

    wb = Workbook()
    instruction = wb.active
    instruction.title = SHEET_INSTRUCTION

    # the drop-down lists take their values from the hidden sheet «Списки», one column per choice
    list_refs = {choice.name: f"'{SHEET_LISTS}'!${get_column_letter(i)}$2:${get_column_letter(i)}${len(choice.labels) + 1}"
                 for i, choice in enumerate(CHOICES, start=1)}

    def validation(choice: Choice) -> DataValidation:
        return DataValidation(type="list", formula1=list_refs[choice.name], allow_blank=True, showErrorMessage=True,
                              errorStyle="stop", errorTitle="Недопустимое значение", error="Выберите значение из списка")

    # «Кластер»
    ws = wb.create_sheet(SHEET_CLUSTER, 1)
    append_row(ws, CLUSTER_HEADERS)
    for cell in ws[1]:
        cell.font, cell.fill = bold, header_fill
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 48
    ws.column_dimensions["B"].width = 60
    by_choice: dict[str, DataValidation] = {}
    for item in CLUSTER_ROWS:
        if isinstance(item, str):
            append_row(ws, [item])
            ws.cell(ws.max_row, 1).font = section_font
            continue
        row = ws.max_row + 1
        cell_of(ws, item.header, row, 1)
        value = cell_of(ws, _cell_value(item, _get(data, item.field)), row, 2)
        value.alignment = Alignment(wrap_text=item.kind == "list", vertical="top")
        if item.kind in _NUMBER_FORMATS:
            value.number_format = _NUMBER_FORMATS[item.kind]
        if item.required:
            ws.cell(row, 1).fill = required_fill
        if item.hint:
            ws.cell(row, 1).comment = Comment(item.hint, "compliance")
        if item.kind in ("bool", "choice"):
            dv = by_choice.get(item.choice.name)
            if dv is None:
                dv = by_choice[item.choice.name] = validation(item.choice)
                ws.add_data_validation(dv)
            dv.add(value.coordinate)

    # tables
    last_row = MAX_DATA_ROWS + 1
    for table in TABLES:
        ws = wb.create_sheet(table.title)
        append_row(ws, [c.header for c in table.columns])
        ws.freeze_panes = "A2"
        ws.row_dimensions[1].height = 45
        for i, col in enumerate(table.columns, start=1):
            head = ws.cell(1, i)
            head.font, head.alignment = bold, Alignment(wrap_text=True, vertical="center")
            head.fill = required_fill if col.required else header_fill
            if col.hint:
                head.comment = Comment(col.hint, "compliance")
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = col.width
            if col.kind in _NUMBER_FORMATS:
                ws.column_dimensions[letter].number_format = _NUMBER_FORMATS[col.kind]
            if col.choice is not None:
                dv = validation(col.choice)
                dv.add(f"{letter}2:{letter}{last_row}")
                ws.add_data_validation(dv)
        formats = [(i, _NUMBER_FORMATS[c.kind]) for i, c in enumerate(table.columns, start=1) if c.kind in _NUMBER_FORMATS]
        items = _get(data, table.path)
        if items == [] and table.statable_none:
            cell_of(ws, NONE_MARK, 2, 1)  # an explicit «нет»; no rows at all is «не указано»
        for row, item in enumerate(items or [], start=2):  # (ws.max_row is slow: it scans all cells)
            for i, col in enumerate(table.columns, start=1):
                value = _cell_value(col, item.get(col.field))
                if value is not None:
                    cell_of(ws, value, row, i)
            for i, number_format in formats:
                ws.cell(row, i).number_format = number_format
        ws.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}1"

    lists = wb.create_sheet(SHEET_LISTS)
    for i, choice in enumerate(CHOICES, start=1):
        cell_of(lists, choice.title, 1, i).font = bold
        lists.column_dimensions[get_column_letter(i)].width = 30
        for j, label in enumerate(choice.labels.values(), start=2):
            cell_of(lists, label, j, i)
    lists.sheet_state = "hidden"

    _write_instruction(instruction, bold, section_font, wrap)
    wb.active = 1  # open on «Кластер»
    for i, sheet in enumerate(wb.worksheets):
        sheet.sheet_view.tabSelected = i == 1
    wb.save(str(path))
    return notes


def _write_instruction(ws, bold, section_font, wrap) -> None:
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 46
    ws.column_dimensions["C"].width = 70
    lines = [
        ("Заявка промышленного кластера (постановление Правительства РФ № 779): шаблон для заполнения",),
        ("1. Лист «Кластер»: название, субъект РФ, дата подачи, специализированная организация и программа развития.",),
        ("2. Лист «Участники»: по строке на участника. Лист «Договоры»: договоры между участниками "
         "(стороны — ИНН с листа «Участники»). Лист «Закупки»: закупки производителей конечной продукции за год. "
         "Лист «Документы»: прилагаемые документы.",),
        ("3. В столбцах с выпадающим списком выбирайте значение из списка. Да/нет — «да» или «нет». "
         "Даты — ДД.ММ.ГГГГ. Суммы и годы — числом (не текстом). ИНН и ОГРН — цифрами.",),
        ("4. Обязательные поля и столбцы выделены жёлтым. Пустые строки пропускаются. "
         "Не переименовывайте листы и заголовки столбцов.",),
        ("«Не указано» и «нет» — разные ответы. Пустая ячейка или лист «Участники», «Договоры», «Закупки» только с "
         "заголовками — «не указано»: требования, которые от них зависят, получат «недостаточно данных». "
         f"Чтобы указать, что чего-то нет (например, договоров между участниками нет), напишите «{NONE_MARK}» — "
         "в ячейке списка на листе «Кластер» или в первой ячейке первой строки под заголовками листа. "
         "Лист удалять нельзя: книга без него не читается.",),
        ("5. Проверка: compliance check ФАЙЛ.xlsx — ошибки указываются с листом, строкой и столбцом.",),
        (f"Ограничения: не более {num(MAX_DATA_ROWS)} строк на листе, файл не больше {size(MAX_FILE_BYTES)}.",),
        (),
        ("Лист", "Поле / столбец", "Что вводить"),
    ]
    for line in lines:
        append_row(ws, line)
    ws.cell(1, 1).font = section_font
    ws.cell(ws.max_row, 1).font = ws.cell(ws.max_row, 2).font = ws.cell(ws.max_row, 3).font = bold
    for sheet, cols in [(SHEET_CLUSTER, [c for c in CLUSTER_ROWS if isinstance(c, Column)])] + \
            [(t.title, list(t.columns)) for t in TABLES]:
        for col in cols:
            what = [col.hint] if col.hint else []
            if col.choice is not None:
                what.append(("значения: " if col.kind == "list" else "из списка: ") + col.choice.allowed())
            append_row(ws, [sheet, col.header + (" *" if col.required else ""), "; ".join(what)])
            ws.cell(ws.max_row, 3).alignment = wrap
    ws.append([])
    append_row(ws, ["* — обязательно"])


# --- reading -----------------------------------------------------------------------------------------------------
def _check_container(path: Path) -> None:
    """Refuse what is not a sane .xlsx before openpyxl touches it: size, zip structure, zip bombs."""
    try:
        file_size = path.stat().st_size
    except FileNotFoundError:
        raise _refuse(f"файл не найден: {path}") from None
    if path.is_dir():
        raise _refuse(f"{path} — это папка, а не файл Excel")
    if file_size > MAX_FILE_BYTES:
        raise _refuse(f"файл {path.name} слишком велик ({size(file_size)}; предел {size(MAX_FILE_BYTES)})")
    with path.open("rb") as fh:
        head = fh.read(512)
    if not zipfile.is_zipfile(path):
        raise _refuse(f"файл {path.name} — не книга Excel .xlsx ({_what_is(head)}); сохраните его в Excel "
                      "как «Книга Excel (*.xlsx)»")
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):  # zipfile's English message is not shown
        raise _refuse(f"файл {path.name} повреждён: не удаётся прочитать архив .xlsx") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise _refuse(f"файл {path.name} отклонён: в архиве {num(len(members))} частей (предел {num(MAX_ZIP_MEMBERS)})")
    total = sum(m.file_size for m in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise _refuse(f"файл {path.name} отклонён: в распакованном виде он занимает {size(total)} "
                      f"(предел {size(MAX_UNCOMPRESSED_BYTES)})")
    for m in members:
        if m.file_size > _RATIO_MIN_BYTES and m.file_size > MAX_COMPRESSION_RATIO * max(m.compress_size, 1):
            raise _refuse(f"файл {path.name} отклонён: часть архива {m.filename} сжата в "
                          f"{num(m.file_size / max(m.compress_size, 1), 0)} раз (предел {num(MAX_COMPRESSION_RATIO)}) — "
                          "так выглядит «zip-бомба», а не книга Excel")
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise _refuse(f"файл {path.name} — zip-архив, но не книга Excel .xlsx (возможно, документ Word или другой архив)")
    _scan_xml(path)


_COUNTED = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?(c|si|row)(?=[\s/>])")  # start tags of cells, strings, rows
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?row(?=[\s/>])([^>]*)")
_ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"']\s*(\d+)")
_MAX_TAG_BYTES = 2**20


class _XmlCounts:
    """Streaming counts over the XML parts of a workbook, taken with bytes.count and regular expressions over the
    unpacked bytes in chunks (C speed: a parser's per-element callback takes seconds on the millions of elements of a
    crafted part). Refuses as soon as a limit is passed, so such a part is never read in full and nothing is built
    from it. Markup inside comments or CDATA counts too: the counts can only be too high, never too low."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.elements = self.cells = self.strings = self.strings_bytes = 0
        self.row = 0
        self.part_size = 0
        self.strings_part = False

    def too_large(self, what: str) -> InputTooLarge:
        return InputTooLarge([Problem("", f"файл {self.name} отклонён: {what}")])

    def count(self, data: bytes) -> None:
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            raise _refuse(f"файл {self.name} отклонён: в XML книги есть объявление DOCTYPE или сущности, которых в "
                          "файлах Excel не бывает")
        self.elements += data.count(b"<") - data.count(b"</") - data.count(b"<?") - data.count(b"<!")
        if self.elements > MAX_XML_ELEMENTS:
            raise self.too_large(f"в книге больше {num(MAX_XML_ELEMENTS)} элементов разметки XML — файл испорчен "
                                 "или подделан")
        names = Counter(_COUNTED.findall(data))
        self.cells += names[b"c"]
        if self.cells > MAX_CELLS:
            raise self.too_large(f"в книге больше {num(MAX_CELLS)} ячеек — заявка кластера столько не содержит")
        if names[b"si"] and not self.strings_part:  # the total length of the strings is at most their part's size
            self.strings_part = True
            self.strings_bytes += self.part_size
            if self.strings_bytes > MAX_SHARED_STRINGS_BYTES:
                raise self.too_large(f"таблица общих строк книги занимает {size(self.strings_bytes)} (предел "
                                     f"{size(MAX_SHARED_STRINGS_BYTES)}) — заявка кластера столько текста не содержит")
        self.strings += names[b"si"]
        if self.strings > MAX_SHARED_STRINGS:
            raise self.too_large(f"в таблице общих строк книги больше {num(MAX_SHARED_STRINGS)} значений — заявка "
                                 "кластера столько не содержит")
        if names[b"row"]:
            for m in _ROW_TAG.finditer(data):  # as openpyxl numbers rows: the r attribute, else the next number
                r = _ROW_NUMBER.search(m.group(1))
                self.row = int(r.group(1)) if r else self.row + 1
                if self.row > MAX_SHEET_ROWS:
                    raise self.too_large(f"на листе есть строка с номером {num(self.row)}, а строк на листе может "
                                         f"быть не больше {num(MAX_SHEET_ROWS)} (пустые тоже считаются: удалите "
                                         "лишние строки внизу листа)")

    def feed(self, stream, part_size: int) -> None:
        """One part (`part_size` unpacked bytes, which zipfile never exceeds): chunks cut after the last complete
        tag (an unfinished tag waits for the next chunk)."""
        self.row, self.part_size, self.strings_part = 0, part_size, False
        tail = b""
        while chunk := stream.read(1 << 16):
            data = tail + chunk
            start = data.rfind(b"<")
            cut = len(data) if start == -1 or data.find(b">", start) != -1 else start
            data, tail = data[:cut], data[cut:]
            if len(tail) > _MAX_TAG_BYTES:
                raise _refuse(f"файл {self.name} повреждён: в XML книги тег длиннее {size(_MAX_TAG_BYTES)}")
            self.count(data)
        self.count(tail)


def _scan_xml(path: Path) -> None:
    """Count rows, cells, shared strings, text and elements in every part of the archive before openpyxl reads it."""
    counts = _XmlCounts(path.name)
    try:
        with zipfile.ZipFile(path) as zf:
            for member in zf.infolist():
                if not member.is_dir():
                    with zf.open(member) as stream:
                        counts.feed(stream, member.file_size)
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, RuntimeError, NotImplementedError):
        # zipfile's English message is not shown
        raise _refuse(f"файл {path.name} повреждён: не удаётся прочитать архив .xlsx") from None


def _what_is(head: bytes) -> str:
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "похоже на старый формат Excel .xls"
    if head.startswith(b"%PDF"):
        return "это PDF"
    try:
        head.decode("utf-8")
        return "это текстовый файл, например CSV"
    except UnicodeDecodeError:
        pass
    try:
        head.decode("cp1251")
        if not any(b < 9 for b in head):
            return "это текстовый файл, например CSV"
    except UnicodeDecodeError:
        pass
    return "это не zip-архив"


def _open(path: Path):
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except MemoryError:
        raise  # not a broken file: the caller's memory limit decides (the service answers 413)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds on a broken file, with English messages
        raise _refuse(f"не удалось открыть книгу Excel {path.name}: файл повреждён или это не .xlsx") from None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _CellError(ValueError):
    pass


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    return str(value).strip()


def _convert(col: Column, value: Any) -> Any:
    """A non-blank cell value -> the model value; _CellError with a Russian message when it does not fit."""
    kind = col.kind
    if kind == "text":
        return _as_text(value)
    if kind == "id":
        if isinstance(value, bool) or isinstance(value, (datetime, date)):
            raise _CellError("ожидаются цифры")
        if isinstance(value, (int, float)):
            if isinstance(value, float) and not value.is_integer():
                raise _CellError(f"«{value}» — не номер: ожидаются только цифры")
            digits = str(int(value))
            # a number-formatted cell loses the leading zero of an INN (regions 01-09)
            return digits.zfill(len(digits) + 1) if len(digits) in (9, 11) else digits
        return "".join(str(value).split())
    if kind in ("int", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            shown = f" «{value}»" if isinstance(value, str) else ""
            raise _CellError(f"ожидается число, а записан текст{shown}: введите число (формат ячейки — числовой)")
        if kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise _CellError(f"ожидается целое число, а записано {value}")
            return int(value)
        return float(value)
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return _parse_date(value)
            except ValueError as exc:
                raise _CellError(str(exc)) from None
        raise _CellError(f"ожидается дата ДД.ММ.ГГГГ, а записано {_as_text(value)}")
    if kind in ("bool", "choice"):
        if kind == "bool" and isinstance(value, bool):
            return value
        try:
            return col.choice.code(_as_text(value))
        except KeyError:
            raise _CellError(f"недопустимое значение «{_as_text(value)}»; выберите из списка: "
                             f"{col.choice.allowed()}") from None
    if kind == "list":
        if _norm(_as_text(value)) == NONE_MARK:
            return []
        items = [item.strip() for item in _as_text(value).split(col.sep) if item.strip()]
        if col.choice is None:
            return items
        out, bad = [], []
        for item in items:
            try:
                out.append(col.choice.code(item))
            except KeyError:
                bad.append(item)
        if bad:
            raise _CellError(f"неизвестные значения: {', '.join(f'«{b}»' for b in bad)}; допустимо: "
                             f"{col.choice.allowed()}")
        return out
    raise AssertionError(kind)


@dataclass
class _Reader:
    problems: list[CellProblem] = field(default_factory=list)
    missing_columns: set[str] = field(default_factory=set)  # "cluster.participants.inn": no such column on the sheet
    bad_cells: set[str] = field(default_factory=set)  # model paths of cells that could not be converted
    locations: dict[str, Location] = field(default_factory=dict)
    data: dict = field(default_factory=dict)

    def problem(self, location: Location, message: str, model_path: str = "") -> None:
        self.problems.append(CellProblem(str(location), message, field=model_path, location=location))

    def cell(self, col: Column, value: Any, model_path: str, location: Location) -> tuple[bool, Any]:
        self.locations[model_path] = location
        if _blank(value):
            return False, None
        try:
            return True, _convert(col, value)
        except _CellError as exc:
            self.problem(location, str(exc), model_path)
            self.bad_cells.add(model_path)
            return False, None

    # «Кластер»
    def read_cluster(self, ws) -> None:
        by_label = {_norm(c.header): c for c in CLUSTER_ROWS if isinstance(c, Column)}
        headings = {_norm(c) for c in CLUSTER_ROWS if isinstance(c, str)} | {_norm(CLUSTER_HEADERS[0])}
        seen: set[str] = set()
        for row, (label, value) in enumerate(ws.iter_rows(min_row=1, max_col=2, values_only=True), start=1):
            if row > MAX_DATA_ROWS:
                raise _refuse(f"лист «{SHEET_CLUSTER}»: больше {num(MAX_DATA_ROWS)} строк")
            if _blank(label):
                if not _blank(value):
                    self.problem(Location(SHEET_CLUSTER, row, CLUSTER_HEADERS[1]),
                                 "значение без названия поля в столбце «Поле»")
                continue
            col = by_label.get(_norm(label))
            if col is None:
                if _norm(label) not in headings and not _blank(value):
                    self.problem(Location(SHEET_CLUSTER, row, CLUSTER_HEADERS[0]),
                                 f"неизвестное поле «{_as_text(label)}» (проверьте написание; поля — на листе «Инструкция»)")
                continue
            if col.field in seen:
                self.problem(Location(SHEET_CLUSTER, row, CLUSTER_HEADERS[0]), f"поле «{col.header}» указано дважды")
                continue
            seen.add(col.field)
            loc = Location(SHEET_CLUSTER, row, CLUSTER_HEADERS[1], col.header)
            ok, converted = self.cell(col, value, col.field, loc)
            if ok:
                _set(self.data, col.field, converted)
        for col in CLUSTER_ROWS:
            if isinstance(col, Column) and col.field not in seen:
                self.locations[col.field] = Location(SHEET_CLUSTER, None, None, col.header)
        # containers: the specialized organization and the programme, for errors on them as a whole
        self.locations[_SO.rstrip(".")] = self.locations[_SO + "name"]
        self.locations[_PROG.rstrip(".")] = self.locations[_PROG + "approved"]

    # table sheets
    def read_table(self, ws, table: Table) -> list[dict] | None:
        """The rows of a table sheet; None when the sheet has none (headers only: «не указано»), [] when its first
        data row says «нет» and nothing else."""
        header = next(ws.iter_rows(min_row=1, max_row=1, max_col=64, values_only=True), ())
        index: dict[str, int] = {}
        for i, text in enumerate(header):
            if not _blank(text):
                index.setdefault(_norm(text), i)
        cols: list[tuple[Column, int]] = []
        for col in table.columns:
            i = index.get(_norm(col.header))
            if i is None:
                if col.required:
                    self.problem(Location(table.title, 1), f"нет обязательного столбца «{col.header}» в строке заголовков")
                    self.missing_columns.add(f"{table.path}.{col.field}")
                continue
            cols.append((col, i))
        if not cols:
            return None
        width = max(i for _, i in cols) + 1
        rows: list[dict] = []
        stated_none: int | None = None  # the row that says «нет»
        for row_no, values in enumerate(ws.iter_rows(min_row=2, max_col=width, values_only=True), start=2):
            if all(_blank(values[i]) for _, i in cols):
                continue
            filled = [values[i] for _, i in cols if not _blank(values[i])]
            if table.statable_none and len(filled) == 1 and _norm(_as_text(filled[0])) == NONE_MARK \
                    and not rows and stated_none is None:
                stated_none = row_no
                continue
            if stated_none is not None:
                self.problem(Location(table.title, stated_none),
                             f"«{NONE_MARK}» означает, что строк нет, а ниже на листе есть данные: уберите «{NONE_MARK}» "
                             "или строки")
                stated_none = None
            if len(rows) >= MAX_DATA_ROWS:
                raise _refuse(f"лист «{table.title}»: больше {num(MAX_DATA_ROWS)} строк с данными; "
                              "разделите заявку или удалите лишние строки")
            n = len(rows)
            prefix = f"{table.path}[{n}]"
            self.locations[prefix] = Location(table.title, row_no)
            item: dict[str, Any] = {}
            for col, i in cols:
                ok, converted = self.cell(col, values[i], f"{prefix}.{col.field}", Location(table.title, row_no, col.header))
                if ok:
                    item[col.field] = converted
            for col in table.columns:  # a column absent from the sheet: errors on it point to the row
                self.locations.setdefault(f"{prefix}.{col.field}", Location(table.title, row_no))
            rows.append(item)
        if stated_none is not None:
            return []
        return rows if rows or not table.statable_none else None

    def check_references(self) -> None:
        """Cross-sheet references, checked on the raw values so they show together with cell errors. A reference is
        checked only against a column read in full: when the referenced column is missing from its sheet, or one of
        its cells is blank or unreadable, that problem is reported once and the references are not (every one of
        them would otherwise read as «нет среди участников»)."""
        cluster = self.data.get("cluster", {})
        known: set[str] = set()
        for i, p in enumerate(cluster.get("participants", [])):
            inn = p.get("inn")
            if inn is None:
                continue
            if inn in known:
                self._ref(f"cluster.participants[{i}].inn", f"участник с ИНН {inn} указан дважды")
            known.add(inn)
        complete = self.column_complete("cluster.participants", "inn")
        for i, c in enumerate(cluster.get("contracts", [])):
            for side in ("party_a_inn", "party_b_inn"):
                inn = c.get(side)
                if complete and inn is not None and inn not in known:
                    self._ref(f"cluster.contracts[{i}].{side}", f"ИНН {inn} нет среди участников кластера")
            if c.get("party_a_inn") is not None and c.get("party_a_inn") == c.get("party_b_inn"):
                self._ref(f"cluster.contracts[{i}].party_b_inn", "стороны договора совпадают")
        for i, p in enumerate(cluster.get("purchases", [])):
            inn = p.get("participant_inn")
            if complete and inn is not None and inn not in known:
                self._ref(f"cluster.purchases[{i}].participant_inn", f"ИНН {inn} нет среди участников кластера")

    def column_complete(self, table_path: str, name: str) -> bool:
        """Every row of the table has a readable value in this column (and the column is on its sheet)."""
        if f"{table_path}.{name}" in self.missing_columns:
            return False
        return all(row.get(name) is not None for row in _get(self.data, table_path) or [])

    def _ref(self, model_path: str, message: str) -> None:
        self.problem(self.locations[model_path], message, model_path)

    def locate(self, model_path: str) -> Location | None:
        """The cell of a model path, or of its nearest mapped parent (a row, a list field)."""
        path = model_path
        while path:
            if path in self.locations:
                return self.locations[path]
            m = re.match(r"^(.*?)(\[\d+\]|\.[^.\[\]]+)$", path)
            if not m:
                return None
            path = m.group(1)
        return None

    def translate(self, exc: ValidationError) -> None:
        reported = {(p.field, p.message) for p in self.problems}
        for p in problems_from(exc):
            if p.path in self.bad_cells or (p.path, p.message) in reported:
                continue  # the cell's own problem is already reported (a bad value leaves the field out: "missing")
            if re.sub(r"\[\d+\]", "", p.path) in self.missing_columns:
                continue  # reported once for the whole column
            loc = self.locate(p.path)
            if loc is None:
                self.problems.append(CellProblem(f"{p.path} ({field_label(p.path)})" if p.path else "", p.message,
                                                 field=p.path))
            else:
                self.problem(loc, p.message, p.path)
            reported.add((p.path, p.message))


def read_workbook(path: str | Path) -> Application:
    """Read a cluster workbook (see ``write_template``) into a validated Application with regimes ["cl779"];
    every problem becomes a Russian CellProblem with the sheet, row and column; raises InputError with all of them."""
    path = Path(path)
    _check_container(path)
    wb = _open(path)
    reader = _Reader()
    try:
        sheets = {_norm(name): name for name in wb.sheetnames}
        missing = [s for s in REQUIRED_SHEETS if _norm(s) not in sheets]
        if missing:
            raise _refuse(f"в книге {path.name} нет листов: {', '.join(f'«{s}»' for s in missing)}; "
                          f"нужны листы {', '.join(f'«{s}»' for s in REQUIRED_SHEETS)} "
                          f"(шаблон: compliance template {REGIME} -o кластер.xlsx)")
        reader.data = {"regimes": [REGIME], "cluster": {}}
        reader.read_cluster(_sheet(wb, sheets[_norm(SHEET_CLUSTER)]))
        for table in TABLES:
            rows = reader.read_table(_sheet(wb, sheets[_norm(table.title)]), table)
            if rows is not None:  # a sheet with headers only: the list is not stated
                _set(reader.data, table.path, rows)
    except (InputError, MemoryError):
        raise
    except Exception:  # noqa: BLE001 - a malformed sheet XML (or a number openpyxl cannot convert) surfaces only
        # while iterating; openpyxl's English message and exception name are not shown
        raise _refuse(f"не удалось прочитать книгу Excel {path.name}: файл повреждён (ячейка или лист не "
                      "читаются)") from None
    finally:
        wb.close()
    reader.check_references()
    try:
        app = Application.model_validate(reader.data)
    except ValidationError as exc:
        reader.translate(exc)
        app = None
    if reader.problems:
        raise InputError(sorted(reader.problems, key=_order))
    assert app is not None
    return app


def _order(p: CellProblem) -> tuple:
    """Problems in the order of the workbook: sheet, row, column."""
    loc = p.location
    if loc is None:
        return (len(REQUIRED_SHEETS), 0, 0)
    columns = next((t.columns for t in TABLES if t.title == loc.sheet), ())
    col = next((i for i, c in enumerate(columns) if c.header == loc.column), 0)
    return (REQUIRED_SHEETS.index(loc.sheet), loc.row or 0, col)


def _sheet(wb, name: str):
    ws = wb[name]
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()  # the stored dimension may be wrong: read every row there is
    return ws


def labels_cover(choice: Choice, codes: Iterable[Any]) -> bool:
    """True when the labels cover exactly these codes (used by the tests to keep the table in step with the model)."""
    return set(choice.labels) == set(codes)
