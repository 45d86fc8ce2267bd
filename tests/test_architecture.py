"""The house rules import-linter cannot see: no private name imported across modules, no machine path in a test.

(The layer order, "headless commands never import Textual" and "no import cycles" are import-linter contracts in
pyproject.toml, run by ``lint-imports`` in CI.)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("records", "analytics", "sources", "emulator", "widgets", "tui")


def _modules(*roots: str) -> list[Path]:
    return sorted(p for root in roots for p in (REPO / root).rglob("*.py"))


def private_imports(source: str) -> list[str]:
    """``from pkg.mod import _name`` of a project module (a private name reached from another module)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] not in PACKAGES:
                continue
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    return found


def test_the_check_finds_a_private_import() -> None:
    assert private_imports("from tui.views.common import _num\nfrom os import _exit\n") == ["tui.views.common._num"]


def test_no_module_imports_another_modules_private_names() -> None:
    offenders = {
        str(path.relative_to(REPO)): names
        for path in _modules(*PACKAGES, "benchmarks")
        if (names := private_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_no_test_hard_codes_a_machine_path() -> None:
    """Shared data is found relative to the checkout (``tests.conftest.SHARED``), never at an absolute path."""
    pattern = re.compile(r"""["'](/work/|/[^"']*/shared/)""")  # this machine's checkout or the shared data
    this = Path(__file__).resolve()
    offenders = [
        f"{path.relative_to(REPO)}:{number}"
        for path in _modules("tests", "benchmarks")
        if path != this
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert offenders == []
