"""The installer modules a bundle carries run on a bare python3: standard library only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from installer.bundle import INSTALLER_MODULES

INSTALLER = Path(__file__).resolve().parents[2] / "installer"


def _top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_bundled_installer_modules_import_only_the_standard_library() -> None:
    for name in [*INSTALLER_MODULES, "bundle_entry.py"]:
        imports = _top_level_imports(INSTALLER / name) - {"installer", "__future__"}
        foreign = sorted(i for i in imports if i not in sys.stdlib_module_names)
        assert not foreign, f"installer/{name} imports {foreign}"


def test_every_installer_module_the_installer_imports_is_bundled() -> None:
    for name in INSTALLER_MODULES:
        tree = ast.parse((INSTALLER / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.startswith("installer"):
                modules = [node.module] if node.module != "installer" else \
                    [f"installer.{a.name}" for a in node.names]
                for module in modules:
                    assert f"{module.split('.')[1]}.py" in INSTALLER_MODULES, \
                        f"{name} needs {module}, which the bundle does not carry"
