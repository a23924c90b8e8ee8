"""The layers, checked from the source (tests/layout/layers.py): rules import only rules and nothing of
Flask or HTTP; services import rules and services; the web wiring imports services and rules (the
error pages no service); views import any of those but never another view. Each kind of import a
module can make is shown to be caught, from a module written to a temporary folder."""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tests.layout.layers import imported_names, violations

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"


def portal_modules() -> list[Path]:
    return sorted(PORTAL.rglob("*.py"))


@pytest.mark.parametrize("path", portal_modules(), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_module_keeps_to_its_layer(path):
    assert violations(path, ROOT) == []


def test_every_layer_has_modules_checked():
    folders = {path.parent.name for path in portal_modules() if path.name != "__init__.py"}
    assert {"rules", "services", "web", "views"} <= folders


TOKEN_TOUCHES = re.compile(r"""session\s*(\[\s*|\.\s*(get|pop|setdefault)\(\s*)["']token["']|script_token""")


@pytest.mark.parametrize("path", portal_modules(), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_only_the_login_touches_the_token(path):
    """``session["token"]`` and a script's bearer token are read and written in services/login.py alone."""
    if path == PORTAL / "services" / "login.py":
        return
    assert not TOKEN_TOUCHES.search(path.read_text())


@pytest.mark.parametrize("path", sorted((PORTAL / "views").glob("*.py")), ids=lambda path: path.name)
def test_views_reach_repovizz2_only_through_the_services(path):
    """No view holds a repovizz2 client: it asks a service, which is given the login."""
    imports = imported_names(path, ROOT)
    assert not {name for name in imports if name.startswith("portal.services.repovizz2_client")}
    assert ".client()" not in path.read_text()


def _module(tmp_path: Path, where: str, source: str) -> Path:
    """A module written at `where` (``portal/rules/new.py``) in a copy of the portal's package folders."""
    path = tmp_path / where
    for folder in [tmp_path / "portal", *(tmp_path / "portal" / layer for layer in ("rules", "services", "web",
                                                                                      "views"))]:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").touch()
    path.write_text(textwrap.dedent(source))
    return path


# (where the module lives, its source, what the violation names)
VIOLATING = {
    "import a service by its full name": ("portal/rules/new.py", "import portal.services.login\n",
                                          "portal.services.login (services)"),
    "import … as": ("portal/rules/new.py", "import portal.web.forms as forms\n", "portal.web.forms (web)"),
    "from the package import a module": ("portal/rules/new.py", "from portal.services import login\n",
                                         "portal.services.login (services)"),
    "from portal import a view, in a view": ("portal/views/new.py", "from portal import views\n",
                                             "imports portal.views"),
    "from portal.views import another view": ("portal/views/new.py", "from portal.views import home\n",
                                              "imports portal.views.home: a view never imports a view"),
    "relative: from . import a sibling view": ("portal/views/new.py", "from . import home\n",
                                               "imports portal.views.home: a view never imports a view"),
    "relative: from .sibling import a name": ("portal/views/new.py", "from .api import bp\n",
                                              "imports portal.views.api.bp: a view never imports a view"),
    "relative: from ..layer import a module": ("portal/rules/new.py", "from ..services import login\n",
                                               "portal.services.login (services)"),
    "relative: from ..layer.module import a name": ("portal/services/new.py", "from ..web.forms import UploadForm\n",
                                                    "portal.web.forms.UploadForm (web)"),
    "importlib.import_module with a full name": (
        "portal/rules/new.py", 'import importlib\nimportlib.import_module("portal.services.login")\n',
        "portal.services.login (services)"),
    "import_module with a relative name": (
        "portal/rules/new.py", 'from importlib import import_module\nimport_module("..web.forms", __package__)\n',
        "portal.web.forms (web)"),
    "__import__": ("portal/views/new.py", '__import__("portal.views.home")\n',
                   "imports portal.views.home: a view never imports a view"),
    "an import inside a function": ("portal/services/new.py", "def late():\n    from portal.views import api\n",
                                    "portal.views.api (views)"),
    "a rule importing Flask": ("portal/rules/new.py", "from flask import session\n", "(a pure rule) imports flask"),
    "a rule importing werkzeug by a submodule": ("portal/rules/new.py", "import werkzeug.exceptions\n",
                                                 "(a pure rule) imports werkzeug.exceptions"),
    "a rule importing requests": ("portal/rules/new.py", "import requests\n", "(a pure rule) imports requests"),
    "a rule importing authlib": ("portal/rules/new.py", "from authlib.integrations import base_client\n",
                                 "(a pure rule) imports authlib.integrations"),
    "a rule importing wtforms": ("portal/rules/new.py", "import wtforms\n", "(a pure rule) imports wtforms"),
    "a service importing the web wiring": ("portal/services/new.py", "from portal.web import forms\n",
                                           "portal.web.forms (web)"),
    "the web wiring importing a view": ("portal/web/new.py", "from ..views import api\n", "portal.views.api (views)"),
    "the error pages importing a service": ("portal/web/error_pages.py", "from ..services import login\n",
                                            "imports portal.services.login, a service"),
    "a layer importing the factory": ("portal/web/new.py", "from portal import create_app\n",
                                      "portal.create_app (portal)"),
    "a module outside the layer packages": ("portal/new.py", "import json\n", "lives outside the layer packages"),
}


@pytest.mark.parametrize("case", sorted(VIOLATING))
def test_a_violating_import_of_each_kind_is_caught(tmp_path, case):
    where, source, expected = VIOLATING[case]
    found = violations(_module(tmp_path, where, source), tmp_path)
    assert any(expected in line for line in found), found


@pytest.mark.parametrize("where, source", [
    ("portal/rules/new.py", "from .links import link_reason\nimport json\n"),
    ("portal/services/new.py", "from ..rules.links import link_reason\nfrom . import login\nimport requests\n"),
    ("portal/web/new.py", "from ..services.login import Login\nfrom ..rules import links\nfrom .forms import X\n"),
    ("portal/web/error_pages.py", "from ..rules.problems import Problem\nfrom .access import login_url\n"),
    ("portal/views/new.py", "from ..services import datapacks\nfrom ..web.access import login_required\n"),
    ("portal/views/__init__.py", "from . import api, home\n"),
])
def test_imports_the_layers_allow_pass(tmp_path, where, source):
    assert violations(_module(tmp_path, where, source), tmp_path) == []


def test_names_are_read_in_full(tmp_path):
    path = _module(tmp_path, "portal/views/new.py", """\
        import portal.rules.links as links
        from portal import services
        from .. import web
        from ..services.login import Login, current_login
        importlib.import_module(".datapacks", package="portal.services")
        """)
    assert {"portal.rules.links", "portal.services", "portal.web", "portal.services.login.Login",
            "portal.services.login.current_login", "portal.services.datapacks"} <= imported_names(path, tmp_path)


def test_architecture_note_describes_every_portal_module():
    note = (ROOT / "docs" / "architecture.md").read_text()
    modules = [path.relative_to(ROOT).as_posix() for path in PORTAL.rglob("*.py")]
    missing = [module for module in modules if f"`{module}`" not in note]
    assert not missing, f"docs/architecture.md does not describe {missing}"


def test_the_readme_layout_links_to_the_architecture_note():
    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout"):].split("\n## ", 1)[0]
    assert "docs/architecture.md" in layout
    for package in ("portal/rules/", "portal/services/", "portal/web/", "portal/views/"):
        assert package in layout
