"""The installer modules a bundle carries run on a bare python3: standard library only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from installer.bundle import INSTALLER_MODULES

INSTALLER = Path(__file__).resolve().parents[2] / "installer" / "bootstrap"


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
        assert not foreign, f"installer/bootstrap/{name} imports {foreign}"


def test_every_installer_module_the_installer_imports_is_bundled() -> None:
    for name in INSTALLER_MODULES:
        tree = ast.parse((INSTALLER / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.startswith("installer"):
                modules = [node.module] if node.module != "installer.bootstrap" else \
                    [f"installer.bootstrap.{a.name}" for a in node.names]
                for module in modules:
                    assert module.startswith("installer.bootstrap."), \
                        f"{name} imports {module}, outside the bundled installer"
                    assert f"{module.split('.')[2]}.py" in INSTALLER_MODULES, \
                        f"{name} needs {module}, which the bundle does not carry"


def test_the_installers_copy_of_the_settings_keys_is_the_settings_table() -> None:
    from desktop.app.settings_table import installer_copy

    assert (INSTALLER / "settings_keys.py").read_text(encoding="utf-8") == installer_copy(), \
        "stale: run python -m desktop.app.settings_table"
