"""Where the portal finds its templates, static files and datatypes: inside the installed package (a
wheel), else beside it in a checkout; when they are missing, the start says so and blames no setting."""
from __future__ import annotations

import pytest

import portal
from portal import create_app, site_folder
from portal.rules.config import ConfigError

SETTINGS = {"TESTING": True, "SECRET_KEY": "k", "CLIENT_ID": "id", "CLIENT_SECRET": "s"}


def test_a_checkout_serves_the_top_level_folders():
    assert site_folder("templates") == str(portal.CHECKOUT_DIR / "templates")
    assert site_folder("static") == str(portal.CHECKOUT_DIR / "static")


def test_the_folders_inside_the_package_come_first(monkeypatch, tmp_path):
    """As a wheel installs them: portal/templates and portal/static beside portal/__init__.py."""
    package = tmp_path / "site-packages" / "portal"
    for name in ("templates", "static"):
        (package / name).mkdir(parents=True)
    monkeypatch.setattr(portal, "PACKAGE_DIR", package)
    assert site_folder("templates") == str(package / "templates")
    assert site_folder("static") == str(package / "static")


def test_missing_templates_name_the_install(monkeypatch, tmp_path):
    """A package without its folders, and no checkout around it (site-packages holds no pyproject.toml)."""
    monkeypatch.setattr(portal, "PACKAGE_DIR", tmp_path / "site-packages" / "portal")
    monkeypatch.setattr(portal, "CHECKOUT_DIR", tmp_path / "site-packages")
    (tmp_path / "site-packages" / "templates").mkdir(parents=True)  # some other package's, not the portal's
    with pytest.raises(ConfigError) as refused:
        create_app(SETTINGS)
    message = str(refused.value)
    assert message.startswith("the portal's templates/ folder is missing: not in the installed package")
    assert "Reinstall the portal from a wheel built with `pip wheel .` in a full checkout" in message


def test_missing_built_in_datatypes_blame_the_install_not_the_setting(monkeypatch, tmp_path):
    monkeypatch.setattr(portal, "BUILT_IN_DIR", str(tmp_path / "portal" / "datatypes"))
    with pytest.raises(ConfigError) as refused:
        create_app(SETTINGS)
    message = str(refused.value)
    assert message.startswith("the portal's own datatypes, part of its install, cannot be read")
    assert "PORTAL_DATATYPES_DIR" not in message


def test_a_bad_lab_folder_names_the_setting(tmp_path):
    with pytest.raises(ConfigError) as refused:
        create_app({**SETTINGS, "DATATYPES_DIR": str(tmp_path / "missing")})
    assert str(refused.value) == f"PORTAL_DATATYPES_DIR: {tmp_path / 'missing'}: is not a folder of datatype files"
