"""Dagster's private packages (``dagster._...``) are imported in one module only: ``resources/dagster_private.py``.

A Dagster upgrade may move or rename private names without notice. These tests make that fail loudly and in one
place: every name the module re-exports is imported from its private path here, with a message that says what to
fix, and any other module (code, tests, benchmarks, scripts) that imports ``dagster._...`` directly fails the suite.
"""

from __future__ import annotations

import ast
import importlib
import os
from pathlib import Path

import dagster

ROOT = Path(__file__).resolve().parents[2]
PRIVATE_MODULE = ROOT / "resources" / "dagster_private.py"
PRIVATE_MODULE_NAME = "resources.dagster_private"
SKIP_DIRS = {"__pycache__", "build", "dist", "node_modules", "site-packages"}


def _python_files() -> list[Path]:
    found: list[Path] = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if not (d.startswith(".") or d in SKIP_DIRS or d.endswith(".egg-info")))
        found.extend(Path(folder) / name for name in sorted(files) if name.endswith(".py"))
    return found


def _private_imports(tree: ast.AST) -> list[tuple[int, str, str]]:
    """(line, module, name) of every import from ``dagster._...`` (``name`` is "" for ``import dagster._x``)."""
    hits: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            hits += [(node.lineno, alias.name, "") for alias in node.names if alias.name.startswith("dagster._")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.startswith("dagster._"):
                hits += [(node.lineno, node.module, alias.name) for alias in node.names]
            elif node.module == "dagster":  # from dagster import _core
                hits += [(node.lineno, "dagster", alias.name) for alias in node.names if alias.name.startswith("_")]
    return hits


def _names_imported_from(tree: ast.AST, module: str) -> set[str]:
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == module
        for alias in node.names
    }


def test_no_private_dagster_import_outside_the_one_module() -> None:
    offenders = []
    for path in _python_files():
        if path == PRIVATE_MODULE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offenders += [
            f"{path.relative_to(ROOT)}:{line}: {module}{'.' + name if name else ''}"
            for line, module, name in _private_imports(tree)
        ]
    assert not offenders, (
        "private Dagster imports outside resources/dagster_private.py; add the name there (with a comment saying "
        "who uses it) and import it from resources.dagster_private instead:\n  " + "\n  ".join(offenders)
    )


def test_every_private_name_still_exists_in_this_dagster() -> None:
    """Each re-exported name is imported from its private path: an upgrade that moved it fails here, by name."""
    tree = ast.parse(PRIVATE_MODULE.read_text(encoding="utf-8"))
    imports = _private_imports(tree)
    assert imports, "resources/dagster_private.py imports nothing from dagster._..."
    missing = []
    for _, module, name in imports:
        try:
            found = importlib.import_module(module)
            if name:
                getattr(found, name)
        except (ImportError, AttributeError) as exc:
            missing.append(f"{module}.{name}: {type(exc).__name__}: {exc}")
    assert not missing, (
        f"Dagster {dagster.__version__} no longer provides these private names where resources/dagster_private.py "
        "imports them; find their new location (or a public replacement) and update that module:\n  "
        + "\n  ".join(missing)
    )
    module = importlib.import_module(PRIVATE_MODULE_NAME)
    for name in module.__all__:
        assert getattr(module, name) is not None, name


def test_the_module_reexports_exactly_what_is_used() -> None:
    module = importlib.import_module(PRIVATE_MODULE_NAME)
    private_tree = ast.parse(PRIVATE_MODULE.read_text(encoding="utf-8"))
    imported = {name for _, _, name in _private_imports(private_tree) if name}
    assert set(module.__all__) == imported, "__all__ must list exactly the names the module imports"
    used: set[str] = set()
    for path in _python_files():
        if path != PRIVATE_MODULE:
            used |= _names_imported_from(ast.parse(path.read_text(encoding="utf-8")), PRIVATE_MODULE_NAME)
    unused = imported - used
    unknown = used - imported
    assert not unused, f"re-exported by resources/dagster_private.py but used nowhere (remove them): {sorted(unused)}"
    assert not unknown, f"imported from resources.dagster_private but not provided by it: {sorted(unknown)}"
