"""The core package does not depend on the web layer: no module of compliance/ imports api.web (the application form's
specification, which the expert review document also names fields by, lives in compliance/form_spec.py). The only
modules of compliance/ that import the service at all are cli.py (`compliance serve` starts api.app) and the jobs
modules (compliance/jobs*.py run the service's workers)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "compliance"
MAY_IMPORT_THE_SERVICE = ("cli.py", "jobs*.py")


def imported(source: str) -> set[str]:
    """Every module a source imports, anywhere in it (functions included), as a dotted name: `from api.web import
    forms` gives api.web and api.web.forms; a string passed to importlib.import_module or __import__ counts too."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
            out |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) == "import_module" or getattr(node.func, "id", None)
                   in ("import_module", "__import__"))):
            out.add(node.args[0].value)
    return out


def _names(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


def _core_modules() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def test_the_scan_finds_imports_of_the_web_layer_in_every_form():
    source = ("import api.web.forms\nfrom api.web import common\nfrom api import web\n"
              "def f():\n"
              "    from api.web.forms import spec, datalist\n"
              "    return importlib.import_module('api.web.pages')\n"
              "from .catalog import ROOT\nfrom api.app import create_app\n")
    assert _names(imported(source), "api.web") == [
        "api.web", "api.web.common", "api.web.forms", "api.web.forms.datalist", "api.web.forms.spec", "api.web.pages"]
    assert _names(imported("from compliance.form_spec import spec\nimport apiary\n"), "api") == []


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: str(p.relative_to(CORE)))
def test_no_core_module_imports_the_web_layer(path):
    found = _names(imported(path.read_text(encoding="utf-8")), "api.web")
    assert not found, f"compliance/{path.relative_to(CORE)} imports the web layer: {found}"


def test_only_the_command_line_and_the_jobs_import_the_service():
    importing = {str(p.relative_to(CORE)) for p in _core_modules() if _names(imported(p.read_text("utf-8")), "api")}
    assert importing, "cli.py starts the service (compliance serve): the scan must see that"
    assert "cli.py" in importing
    allowed = {str(p.relative_to(CORE)) for pattern in MAY_IMPORT_THE_SERVICE for p in CORE.glob(pattern)}
    assert importing <= allowed, f"these core modules import the service (api): {sorted(importing - allowed)}"
