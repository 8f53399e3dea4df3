"""load_catalog returns a catalog whose files are unchanged without reading them, and never a stale one: an edit of the
same size within one tick of the file system's clock, or with the old modification time put back, is seen."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from compliance import catalog as catalog_module
from compliance.catalog import load_catalog
from tests.conftest import ROOT

OLD = time.time_ns() - 3600 * 10**9  # an hour ago: older than any racy window


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for folder in ("decrees", "rules"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def same_size_edit(path: Path) -> None:
    """A comment line of the rules file changed in one letter: same size, another content."""
    text = path.read_text(encoding="utf-8")
    edited = text.replace("# ", "#!", 1)
    assert edited != text and len(edited.encode()) == len(text.encode())
    path.write_text(edited, encoding="utf-8")


def test_an_edit_right_after_a_load_is_seen(root):
    first = load_catalog("ip794", root)
    same_size_edit(root / "rules" / "ip794.yaml")  # within the same clock tick as the load, possibly
    second = load_catalog("ip794", root)
    assert second.content_hash != first.content_hash


def test_unchanged_files_are_not_read_and_an_edit_with_the_old_time_put_back_is_seen(root, monkeypatch):
    rules = root / "rules" / "ip794.yaml"
    for path in [*root.rglob("*.yaml")]:
        os.utime(path, ns=(OLD, OLD))
    monkeypatch.setattr(catalog_module, "RACY_NS", 0)  # the files' change times (ctime: now) count as old enough
    first = load_catalog("ip794", root)
    reads = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or original(self))
    assert load_catalog("ip794", root) is first and reads == []
    same_size_edit(rules)
    os.utime(rules, ns=(OLD, OLD))  # the modification time as it was: the change time still moves
    second = load_catalog("ip794", root)
    assert reads and second.content_hash != first.content_hash
    assert second.rules["794-P-1"] is not None


def test_a_removed_catalog_is_refused_not_served_from_memory(root):
    from compliance.catalog import CatalogError
    load_catalog("ip794", root)
    (root / "rules" / "ip794.yaml").unlink()
    with pytest.raises(CatalogError):
        load_catalog("ip794", root)
