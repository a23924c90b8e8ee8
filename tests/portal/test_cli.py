"""`repovizz2-portal`'s own arguments: its version, and a serve that refuses plainly before gunicorn starts."""
from __future__ import annotations

from importlib import metadata

import pytest

from portal import cli


@pytest.fixture
def no_settings(monkeypatch, tmp_path):
    for name in list(cli.os.environ):
        if name.startswith("PORTAL_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_version_is_the_installed_distributions(capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"repovizz2-portal {metadata.version('repovizz2-portal')}\n"


def test_serve_without_the_secrets_says_so_and_starts_nothing(no_settings, capsys, monkeypatch):
    monkeypatch.setattr("gunicorn.app.base.BaseApplication.run", lambda self: pytest.fail("gunicorn was started"))
    assert cli.main(["serve"]) == 2
    assert capsys.readouterr().err == (
        "repovizz2-portal: PORTAL_SECRET_KEY, PORTAL_CLIENT_ID, PORTAL_CLIENT_SECRET are not set: the portal will "
        "not start without them (see docs/configuration.md; `make demo` sets them for the sandbox)\n")


def test_serve_with_a_bad_datatypes_folder_names_the_setting(no_settings, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_SECRET_KEY", "k")
    monkeypatch.setenv("PORTAL_CLIENT_ID", "id")
    monkeypatch.setenv("PORTAL_CLIENT_SECRET", "secret")
    monkeypatch.setenv("PORTAL_DATATYPES_DIR", str(tmp_path / "missing"))
    assert cli.main(["serve"]) == 2
    assert capsys.readouterr().err == (
        f"repovizz2-portal: PORTAL_DATATYPES_DIR: {tmp_path / 'missing'}: is not a folder of datatype files\n")


@pytest.mark.parametrize("option, value, message", [
    ("--workers", "0", "argument --workers: must be more than 0, not '0'"),
    ("--threads", "many", "argument --threads: must be a whole number, not 'many'"),
    ("--log-level", "loud", "argument --log-level: invalid choice: 'loud'"),
])
def test_serve_options_are_checked(capsys, option, value, message):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["serve", option, value])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_serve_gives_gunicorn_the_documented_settings(no_settings, monkeypatch):
    """gthread workers and docs/deploy.md's numbers by default; each option changes its own."""
    for name, value in {"PORTAL_SECRET_KEY": "k", "PORTAL_CLIENT_ID": "id", "PORTAL_CLIENT_SECRET": "s"}.items():
        monkeypatch.setenv(name, value)
    seen = {}

    def run(self):
        seen.update({key: self.cfg.settings[key].get() for key in
                     ("bind", "worker_class", "workers", "threads", "timeout", "graceful_timeout", "loglevel")})
        seen["app"] = self.load()

    monkeypatch.setattr("gunicorn.app.base.BaseApplication.run", run)
    assert cli.main(["serve"]) == 0
    assert {key: value for key, value in seen.items() if key != "app"} == {
        "bind": ["127.0.0.1:5000"], "worker_class": "gthread", "workers": 2, "threads": 16, "timeout": 120,
        "graceful_timeout": 120, "loglevel": "info"}
    assert seen["app"].name == "portal"
    assert cli.main(["serve", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "32"]) == 0
    assert (seen["bind"], seen["workers"], seen["threads"]) == (["0.0.0.0:8000"], 4, 32)
