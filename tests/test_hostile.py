"""Hostile files are refused with a clear Russian message, never a traceback and never by exhausting memory.
(Speed is measured by `make bench`, not here.)"""
from __future__ import annotations

import io
import random
import shutil
import zipfile
from pathlib import Path

import pytest

from compliance.loading import MAX_FILE_BYTES, InputError, load_application, parse_document
from tests.conftest import FIXTURES


@pytest.mark.parametrize("raw, name", [
    (b"[" * 200_000 + b"]" * 200_000, "deep.json"),
    (b"[" * 20_000 + b"]" * 20_000, "deep.yaml"),
    (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "deep-object.json"),
])
def test_deeply_nested_input_is_refused(raw, name):
    with pytest.raises(InputError) as exc:
        parse_document(raw, name)
    assert "вложен" in str(exc.value)


def test_oversized_json_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.json"
    with path.open("wb") as fh:  # sparse: the size is real, the bytes are never read
        fh.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(InputError) as exc:
        load_application(path)
    assert "слишком велик" in str(exc.value)


def test_text_neither_utf8_nor_windows_1251_cyrillic_is_refused_saying_how_to_convert():
    for raw in ("site_name: Größe".encode("latin-1"), "site_name: Технопарк".encode("utf-16"),
                "site_name: Технопарк".encode("utf-8") + b"\xff", "site_name: Технопарк".encode("koi8-r")):
        with pytest.raises(InputError) as exc:
            parse_document(raw, "app.yaml")
        assert "не в кодировке UTF-8" in str(exc.value) and "«Кодировка» выберите UTF-8" in str(exc.value), raw


def _rewrite_member(src: Path, dst: Path, member: str, transform) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item, transform(data) if item.filename == member else data)


def test_xlsx_with_an_external_xml_entity_is_refused_and_the_entity_is_not_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("СЕКРЕТ-НЕ-ДОЛЖЕН-ПОПАСТЬ-В-ОТЧЁТ", encoding="utf-8")
    src = FIXTURES / "cl779-conforming.xlsx"
    with zipfile.ZipFile(src) as z:
        sheet = next(n for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
    evil = tmp_path / "xxe.xlsx"

    def inject(data: bytes) -> bytes:
        doctype = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>'.encode()
        head, sep, rest = data.partition(b"?>")
        if not sep:
            head, rest = b"", data
        return head + sep + doctype + rest.replace(b"<v>", b"<v>&xxe;", 1).replace(b"<t>", b"<t>&xxe;", 1)
    _rewrite_member(src, evil, sheet, inject)
    with pytest.raises(InputError) as exc:
        load_application(evil)
    assert "СЕКРЕТ" not in str(exc.value)


def test_a_sheet_with_a_million_rows_is_refused(tmp_path):
    src = FIXTURES / "cl779-conforming.xlsx"
    with zipfile.ZipFile(src) as z:
        names = z.namelist()
        target = next(n for n in names if n.startswith("xl/worksheets/sheet2"))
    path = tmp_path / "million.xlsx"
    rows = io.BytesIO()
    rows.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
               b'spreadsheetml/2006/main"><sheetData>')
    for i in range(1, 1_000_001):
        rows.write(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>' % (i, i))
    rows.write(b"</sheetData></worksheet>")
    _rewrite_member(src, path, target, lambda _: rows.getvalue())
    with pytest.raises(InputError) as exc:
        load_application(path)
    assert str(exc.value)  # a Russian reason: too many rows, or a compression ratio typical of a zip bomb


def test_a_docx_or_zip_bomb_disguised_as_an_application_is_refused(tmp_path):
    bomb = tmp_path / "report.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"0" * (50 * 1024 * 1024))
    with pytest.raises(InputError) as exc:
        load_application(bomb)
    assert "формат" in str(exc.value)
    disguised = tmp_path / "cluster.xlsx"
    shutil.copy(bomb, disguised)
    with pytest.raises(InputError):
        load_application(disguised)


# --- workbooks crafted to blow up when read: refused from counts taken while streaming the XML ----------------------
_MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_SST_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


_HEADER = "<row r='1'><c r='A1' t='inlineStr'><is><t>Наименование</t></is></c></row>".encode()


def _sheet_part(rows: bytes) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?><worksheet ' + _MAIN + b"><sheetData>" + rows + \
        b"</sheetData></worksheet>"


def _shared_strings_part(entries: bytes) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?><sst ' + _MAIN + b">" + entries + b"</sst>"


def hostile_workbook(path: Path, sheet_rows: bytes | None = None, shared_strings: bytes | None = None,
                     styles: bytes | None = None) -> Path:
    """The conforming cluster workbook with the «Участники» sheet, the shared strings (declared, so openpyxl reads
    them) or the styles replaced by crafted XML. Every part stays under the compression ratio of a zip bomb."""
    src = FIXTURES / "cl779-conforming.xlsx"
    replace: dict[str, bytes] = {}
    if sheet_rows is not None:
        replace["xl/worksheets/sheet3.xml"] = _sheet_part(sheet_rows)
    if styles is not None:
        replace["xl/styles.xml"] = styles
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = replace.get(item.filename, zin.read(item.filename))
            if item.filename == "[Content_Types].xml" and shared_strings is not None:
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="'
                                    + _SST_TYPE + b'"/></Types>')
            zout.writestr(item, data)
        if shared_strings is not None:
            zout.writestr("xl/sharedStrings.xml", _shared_strings_part(shared_strings))
    return path


def _too_many_shared_strings() -> dict:
    from compliance import excel
    return {"shared_strings": b"".join(b"<si><t>%d</t></si>" % i for i in range(excel.MAX_SHARED_STRINGS + 1))}


def _too_much_text() -> dict:
    from compliance import excel
    rnd = random.Random(14)  # a random number in each string keeps the part under the ratio of a zip bomb
    piece = b"<si><t>" + "Текст".encode() * 60 + b"%d</t></si>"  # 600 bytes of text and a number
    return {"shared_strings": b"".join(piece % rnd.randrange(10**9) for _ in range(excel.MAX_SHARED_STRINGS_BYTES // 600 + 1))}


def _dense_blank_rows() -> dict:  # a million empty rows, as the attack had them
    return {"sheet_rows": _HEADER + b"".join(b'<row r="%d"/>' % i for i in range(2, 1_000_001))}


def _one_far_row() -> dict:  # one row numbered a million: openpyxl yields every row before it
    return {"sheet_rows": _HEADER + b'<row r="1000000"><c r="A1000000"><v>1</v></c></row>'}


def _too_many_cells() -> dict:
    from compliance import excel
    per_row = 26
    rows = excel.MAX_CELLS // per_row + 1
    return {"sheet_rows": b"".join(b'<row r="%d">' % r + b"".join(b"<c><v>%d</v></c>" % (r * per_row + j)
                                                                  for j in range(per_row)) + b"</row>"
                                   for r in range(1, rows + 1))}


HOSTILE_WORKBOOKS = {
    "shared-strings": (_too_many_shared_strings, "общих строк"),
    "text": (_too_much_text, "таблица общих строк книги занимает"),
    "blank-rows": (_dense_blank_rows, "строка с номером"),
    "far-row": (_one_far_row, "строка с номером 1\u00a0000\u00a0000"),
    "cells": (_too_many_cells, "ячеек"),
}


@pytest.mark.parametrize("kind", HOSTILE_WORKBOOKS)
def test_a_workbook_crafted_to_blow_up_is_refused_before_it_is_built(tmp_path, kind):
    from compliance.loading import InputTooLarge
    make, words = HOSTILE_WORKBOOKS[kind]
    path = hostile_workbook(tmp_path / f"{kind}.xlsx", **make())
    assert path.stat().st_size < 3 * 2**20  # small on disk, under every limit of the archive itself
    with pytest.raises(InputTooLarge) as exc:
        load_application(path)
    assert words in str(exc.value) and "отклонён" in str(exc.value)


def test_a_workbook_with_too_many_xml_elements_is_refused(tmp_path, monkeypatch):
    """The element count guards the parts read whole (styles, names): 3 million elements would need a 70 MB part,
    so the limit is lowered here and the same check is driven past it."""
    from compliance import excel
    from compliance.loading import InputTooLarge
    monkeypatch.setattr(excel, "MAX_XML_ELEMENTS", 20_000)
    styles = b"<styleSheet " + _MAIN + b"><cellXfs>" + b"".join(b'<xf numFmtId="%d"/>' % i for i in range(20_001)) \
        + b"</cellXfs></styleSheet>"
    with pytest.raises(InputTooLarge) as exc:
        load_application(hostile_workbook(tmp_path / "styles.xlsx", styles=styles))
    assert "элементов разметки" in str(exc.value)


def test_the_workbook_limits_leave_room_for_a_full_template(tmp_path):
    """A workbook of the template filled to its row limit on one sheet passes the counts (and is refused, as before,
    only for its data rows)."""
    from compliance import excel
    rows = _HEADER + b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>X%d</t></is></c></row>' % (r, r, r)
                             for r in range(2, excel.MAX_DATA_ROWS + 3))
    with pytest.raises(InputError) as exc:
        load_application(hostile_workbook(tmp_path / "full.xlsx", sheet_rows=rows))
    assert "строк с данными" in str(exc.value)


# --- YAML crafted to be slow or to expand: refused from libyaml's events before PyYAML builds anything -------------
def _many_keys() -> bytes:  # 350 000 keys, as the attack had them (3.7 MB)
    return "".join(f"k{i}: 1\n" for i in range(350_000)).encode()


def _laughs(levels: int = 9) -> bytes:  # the «billion laughs»: each level names the previous one nine times
    lines = ['site_name: "Технопарк"', 'l0: &l0 ["ха", "ха", "ха", "ха", "ха", "ха", "ха", "ха", "ха"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return ("\n".join(lines) + f"\ndocuments: *l{levels}\n").encode()


def test_yaml_with_350k_keys_is_refused_as_too_large():
    from compliance.loading import InputTooLarge
    with pytest.raises(InputTooLarge) as exc:
        parse_document(_many_keys(), "app.yaml")
    assert "значений" in str(exc.value) and "отклонён" in str(exc.value)


def test_yaml_aliases_that_expand_are_refused():
    from compliance.loading import InputTooLarge
    raw = _laughs(6)  # 9**6 = 531 441 values once expanded, under 500 bytes on disk
    assert len(raw) < 500
    with pytest.raises(InputTooLarge) as exc:
        parse_document(raw, "app.yaml")
    assert "ссылок" in str(exc.value)


def test_yaml_aliases_that_stay_small_still_work():
    raw = b"defaults: &d {a: 1, b: 2}\nfirst: *d\nsecond: {<<: *d, b: 3}\n"
    assert parse_document(raw, "app.yaml") == {"defaults": {"a": 1, "b": 2}, "first": {"a": 1, "b": 2},
                                                "second": {"a": 1, "b": 3}}


DEEP_YAML = b"- " * 5000 + b"x\n"  # lists 5 000 deep in 10 KB, as the attack had them


@pytest.mark.parametrize("raw", [
    DEEP_YAML,
    "".join(" " * i + "a:\n" for i in range(5000)).encode(),  # block mappings 5 000 deep
    b"[" * 150 + b"]" * 150,  # deeper than the limit, shallow enough for libyaml and PyYAML to read
])
def test_yaml_nested_5k_deep_is_refused(raw):
    with pytest.raises(InputError) as exc:
        parse_document(raw, "app.yaml")
    assert "вложен" in str(exc.value)


@pytest.mark.parametrize("kind", ["far-row", "yaml-laughs", "yaml-deep"])
def test_the_cli_refuses_hostile_files_with_exit_2_and_a_russian_reason(tmp_path, kind):
    from typer.testing import CliRunner

    from compliance.cli import app as cli
    if kind == "far-row":
        make, words = HOSTILE_WORKBOOKS[kind]
        path = hostile_workbook(tmp_path / "кластер.xlsx", **make())
    else:
        path = tmp_path / "заявка.yaml"
        path.write_bytes(_laughs(9) if kind == "yaml-laughs" else DEEP_YAML)
        words = "ссылок" if kind == "yaml-laughs" else "вложен"
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 2, result.output
    assert words in result.output and path.name in result.output and "Traceback" not in result.output
