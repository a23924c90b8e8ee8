"""The layering docs/architecture.md's Layout section promises, checked from the source: views never import
views, the pure rules import nothing of Flask or of the services."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"
# Pure modules: rules and data shapes, no Flask, no HTTP, no repovizz2.
PURE = {path.stem for path in (PORTAL / "rules").glob("*.py") if path.name != "__init__.py"}
WEB_OR_SERVICE = ("flask", "flask_wtf", "flask_session", "werkzeug", "requests", "authlib", "wtforms")


def imported_modules(path: Path) -> set[str]:
    """Absolute names of what `path` imports (relative imports resolved against its package)."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.add(module)
            if not node.module:  # from . import x
                names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def view_modules() -> list[Path]:
    return sorted(path for path in (PORTAL / "views").glob("*.py") if path.name != "__init__.py")


@pytest.mark.parametrize("path", view_modules(), ids=lambda path: path.stem)
def test_views_never_import_views(path):
    views = {f"portal.views.{other.stem}" for other in view_modules()} | {"portal.views"}
    assert not imported_modules(path) & views


@pytest.mark.parametrize("name", sorted(PURE))
def test_pure_modules_import_no_flask_and_no_service(name):
    imports = imported_modules(PORTAL / "rules" / f"{name}.py")
    web = {module for module in imports if module.split(".")[0] in WEB_OR_SERVICE}
    portal = {module for module in imports if module.startswith("portal.")}
    assert not web, f"{name} imports {web}"
    allowed = {"portal.rules"} | {f"portal.rules.{pure}" for pure in PURE}
    assert portal <= allowed, f"{name} imports {portal - allowed}"


@pytest.mark.parametrize("path", sorted((PORTAL / "rules").glob("*.py")), ids=lambda path: path.stem)
def test_the_rules_package_imports_no_flask_no_service_and_no_other_layer(path):
    imports = imported_modules(path)
    web = {module for module in imports if module.split(".")[0] in WEB_OR_SERVICE}
    portal = {module for module in imports if module.startswith("portal.") and not module.startswith("portal.rules")}
    assert not web and not portal, f"{path.name} imports {web | portal}"


def test_every_portal_module_is_described_in_the_architecture_page():
    page = (ROOT / "docs" / "architecture.md").read_text()
    layout = page[page.index("## Layout"):]
    modules = [path.relative_to(ROOT).as_posix() for path in PORTAL.rglob("*.py")]
    missing = [module for module in modules if f"`{module}`" not in layout]
    assert not missing, f"docs/architecture.md's Layout section does not describe {missing}"
