"""Hostile files are refused with a clear Russian message, never a traceback and never by exhausting memory.
(Speed is measured by `make bench`, not here.)"""
from __future__ import annotations

import io
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


def test_non_utf8_text_is_refused():
    with pytest.raises(InputError) as exc:
        parse_document("site_name: Технопарк".encode("cp1251"), "app.yaml")
    assert "UTF-8" in str(exc.value)


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
