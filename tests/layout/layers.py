"""The import rules of the portal's layers, read from the source: which module imports what, in every
form Python has, and which of those imports its layer forbids.

A module's layer is the package folder it lives in (``portal/rules/…`` is a rule, whatever its name),
so a new module is checked the day it is added. See docs/architecture.md.
"""
from __future__ import annotations

import ast
from pathlib import Path

LAYERS = ("rules", "services", "web", "views")
# What each layer may import of the portal (its own layer included, views apart: see below).
ALLOWED = {
    "rules": {"rules"},
    "services": {"rules", "services"},
    "web": {"rules", "services", "web"},
    "views": {"rules", "services", "web", "views"},
}
# Modules of the web layer that may not import a service either: they only turn failures into pages.
NO_SERVICE = {"portal.web.error_pages"}
# Libraries of the web and of HTTP that a pure rule never imports.
WEB_AND_HTTP = {"flask", "flask_wtf", "flask_session", "werkzeug", "requests", "authlib", "wtforms", "urllib3",
                "gunicorn", "cachelib", "redis", "http", "socket", "ssl"}
IMPORT_FUNCTIONS = {"import_module", "__import__"}


def module_name(path: Path, root: Path) -> str:
    """``portal.rules.links`` for ``<root>/portal/rules/links.py``; a package is named by its folder."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(relative: str, level: int, package: str) -> str:
    """The absolute name of ``from <level dots><relative>`` inside `package`."""
    base = package.split(".")
    base = base[:len(base) - level + 1]
    return ".".join(base + ([relative] if relative else []))


def _literal(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def imported_names(path: Path, root: Path) -> set[str]:
    """Every name `path` imports, in full: ``import a.b`` gives ``a.b``; ``from portal.services import
    tokens`` gives ``portal.services.login``; relative imports are resolved against the module's
    package; ``importlib.import_module("…")`` and ``__import__("…")`` with a literal name count too."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module or "", node.level, package) if node.level else node.module
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call):
            function = node.func
            called = function.id if isinstance(function, ast.Name) else \
                function.attr if isinstance(function, ast.Attribute) else None
            target = _literal(node.args[0]) if called in IMPORT_FUNCTIONS and node.args else None
            if target is None:
                continue
            if target.startswith("."):
                anchor = next((_literal(keyword.value) for keyword in node.keywords if keyword.arg == "package"),
                              _literal(node.args[1]) if len(node.args) > 1 else None) or package
                level = len(target) - len(target.lstrip("."))
                target = _resolve(target.lstrip("."), level, anchor)
            names.add(target)
    return names


# Modules at the top of the package that put the layers together: the app factory and the command.
ENTRY_POINTS = {"portal", "portal.cli"}


def layer_of(name: str) -> str | None:
    """The layer of a portal module's full name (``portal.web.forms.UploadForm`` → ``web``); None for
    names outside the portal. The package itself and the factory (``portal``, ``portal.create_app``)
    are ``portal``: no layer imports them."""
    parts = name.split(".")
    if parts[0] != "portal":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "portal"


def violations(path: Path, root: Path) -> list[str]:
    """What the module at `path` imports that its layer forbids, one sentence each ([] when none)."""
    name = module_name(path, root)
    layer = layer_of(name)
    if layer == "portal":
        if name in ENTRY_POINTS:
            return []  # the factory and the command wire every layer together
        return [f"{name} lives outside the layer packages ({', '.join(f'portal/{each}/' for each in LAYERS)})"]
    found = []
    for imported in sorted(imported_names(path, root)):
        target = layer_of(imported)
        if target is None:
            if layer == "rules" and imported.split(".")[0] in WEB_AND_HTTP:
                found.append(f"{name} (a pure rule) imports {imported}")
            continue
        if target not in ALLOWED[layer]:
            found.append(f"{name} ({layer}) imports {imported} ({target})")
        elif name in NO_SERVICE and target == "services":
            found.append(f"{name} imports {imported}, a service")
        elif layer == "views" and target == "views" and name != "portal.views":
            found.append(f"{name} imports {imported}: a view never imports a view")
    return found
