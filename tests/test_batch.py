"""Batch validation: mixed regimes, broken files reported (never fatal), summary as xlsx and JSON."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from compliance.batch import collect, run_batch
from compliance.cli import app as cli
from compliance.evaluate import evaluate
from tests.conftest import FIXTURES, app_from

runner = CliRunner()
PARKS = ["ip794-operating-conforming", "ip794-created-gaps", "itp1863-operating-occupancy-gap", "brownfield-794-1863"]


def make_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    (folder / "nested").mkdir(parents=True)
    for name in PARKS:
        shutil.copy(FIXTURES / f"{name}.yaml", folder / ("nested" if name.startswith("itp") else "") / f"{name}.yaml")
    (folder / "broken-syntax.json").write_text('{"regimes": [', encoding="utf-8")
    (folder / "broken-encoding.yaml").write_bytes("site_name: Größe".encode("latin-1"))  # neither UTF-8 nor Cyrillic
    (folder / "broken-list.json").write_text("[1, 2]", encoding="utf-8")
    (folder / "empty.yaml").write_text("", encoding="utf-8")
    (folder / "notes.txt").write_text("не заявка", encoding="utf-8")
    return folder


def test_batch_checks_everything_and_reports_broken_files(tmp_path):
    folder = make_folder(tmp_path)
    files, missing = collect([folder])
    assert not missing and len(files) == len(PARKS) + 4  # the .txt file is not an application
    summary = run_batch(files)
    by_file = {}
    for row in summary.rows:
        by_file.setdefault(Path(row.file).stem, []).append(row)
    for name in PARKS:  # each regime of each application: same verdict as a single check
        app = app_from(name)
        for regime in app.regimes:
            row = next(r for r in by_file[name] if r.regime == regime)
            assert row.status == evaluate(app, regime).verdict
    assert len(by_file["brownfield-794-1863"]) == 2
    for name in ("broken-syntax", "broken-encoding", "broken-list", "empty"):
        (row,) = by_file[name]
        assert row.status == "invalid" and row.problem
    assert "UTF-8" in by_file["broken-encoding"][0].problem
    assert sum(summary.counts.values()) == len(summary.rows)


def test_batch_command_writes_xlsx_and_json(tmp_path):
    folder = make_folder(tmp_path)
    out = tmp_path / "out" / "summary.xlsx"
    result = runner.invoke(cli, ["batch", str(folder), "--output", str(out)])
    assert result.exit_code == 1, result.output
    assert "broken-syntax.json" in result.output and "ошибка JSON" in result.output
    data = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    ws = load_workbook(out)["Сводка"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("Файл", "Заявка", "Режим", "Итог")
    assert len(rows) - 1 == len(data["rows"])
    invalid = [r for r in rows[1:] if r[3] == "ошибка во входных данных"]
    assert len(invalid) == 4 and all(r[9] for r in invalid)


def test_batch_refuses_nothing_to_do(tmp_path):
    result = runner.invoke(cli, ["batch", str(tmp_path)])
    assert result.exit_code == 2 and "ни одного файла" in result.output
    result = runner.invoke(cli, ["batch", str(tmp_path / "absent")])
    assert result.exit_code == 2 and "не найден" in result.output


def test_regional_batch_folder_gives_every_file_its_intended_outcome(tmp_path):
    """fixtures/batch: generated clusters (and a park) with a file of intended outcomes, broken files included."""
    import csv
    folder = FIXTURES / "batch"
    expected = {row["file"]: row for row in csv.DictReader((folder / "expected.csv").open(encoding="utf-8"))}
    out = tmp_path / "summary.xlsx"
    result = runner.invoke(cli, ["batch", str(folder), "--output", str(out)])
    assert result.exit_code == 1
    data = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["files"] == len(expected) >= 20 + 5
    seen = {}
    for row in data["rows"]:
        seen.setdefault(Path(row["file"]).name, []).append(row)
    assert set(seen) == set(expected)
    for name, want in expected.items():
        (row,) = seen[name]
        assert row["status"] == want["expected"], (name, row)
        if want["gaps"] and row["status"] == "does_not_conform":
            wanted = set(want["gaps"].split(";")) if ";" in want["gaps"] else set(want["gaps"].split())
            report_gaps = {g.split()[0] for g in row["top_gaps"]}
            assert report_gaps & {g.strip() for g in wanted}, (name, row["top_gaps"], wanted)
    broken = [n for n in expected if n.startswith("broken-")]
    assert len(broken) >= 5 and all(seen[n][0]["problem"] for n in broken)
