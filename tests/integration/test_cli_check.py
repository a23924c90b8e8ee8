"""`repovizz2-portal check` against a live sandbox: all well, then each thing a lab gets wrong, named."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from portal import cli
from portal.rules.datatype_catalog import BUILT_IN_DIR
from tests.live_portal import free_port


@pytest.fixture(scope="module")
def registered(sandbox):
    return sandbox.add_client("check", ["http://127.0.0.1:5000/auth/callback"])


@pytest.fixture
def settings(monkeypatch, tmp_path, sandbox, registered):
    """The variables of a portal that works with the sandbox; a test changes one of them."""
    for name in list(cli.os.environ):
        if name.startswith("PORTAL_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env of the checkout's
    values = {"PORTAL_SECRET_KEY": "check-test", "PORTAL_REPOVIZZ2_URL": sandbox.url,
              "PORTAL_CLIENT_ID": registered["client_id"], "PORTAL_CLIENT_SECRET": registered["client_secret"]}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def run_check(capsys) -> tuple[int, str]:
    status = cli.main(["check"])
    return status, capsys.readouterr().out


def problems(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("PROBLEM")]


def test_all_is_well_against_the_sandbox(settings, capsys, sandbox):
    status, output = run_check(capsys)
    assert status == 0, output
    assert f"ok       repovizz2 API: {sandbox.url}/api/v1.0 answers as repovizz2 does" in output
    assert f"ok       repovizz2 OAuth: {sandbox.url}/oauth/token accepts PORTAL_CLIENT_ID and PORTAL_CLIENT_SECRET" \
           in output
    assert output.rstrip().endswith("All is well.")


@pytest.mark.parametrize("name, value", [("PORTAL_CLIENT_SECRET", "not-the-secret"),
                                         ("PORTAL_CLIENT_ID", "00000000-0000-4000-8000-000000000000")])
def test_a_wrong_client_id_or_secret_is_named(settings, capsys, sandbox, name, value):
    settings.setenv(name, value)
    status, output = run_check(capsys)
    assert status == 1
    assert problems(output) == [
        f"PROBLEM  repovizz2 OAuth: {sandbox.url}/oauth/token refuses the portal's client (invalid_client): "
        "PORTAL_CLIENT_SECRET is wrong, or PORTAL_CLIENT_ID names no client there. Use the id and secret "
        "repovizz2 gave when the portal was registered"]


def test_a_url_where_nothing_listens_is_named(settings, capsys):
    url = f"http://127.0.0.1:{free_port()}"
    settings.setenv("PORTAL_REPOVIZZ2_URL", url)
    status, output = run_check(capsys)
    assert status == 1
    assert problems(output) == [
        f"PROBLEM  repovizz2 API: {url}/api/v1.0/user cannot be reached (Connection refused): "
        f"is PORTAL_REPOVIZZ2_URL ({url}) right, and repovizz2 up?"]
    assert "skipped  repovizz2 OAuth: repovizz2 cannot be reached" in output


def test_a_url_that_answers_but_is_not_repovizz2s_address_is_named(settings, capsys, sandbox):
    url = sandbox.url + "/api/v1.0"  # the API's own address instead of the server's
    settings.setenv("PORTAL_REPOVIZZ2_URL", url)
    status, output = run_check(capsys)
    assert status == 1
    assert problems(output) == [(
        f"PROBLEM  repovizz2 API: {url}/api/v1.0/user answered 404 (application/json) where repovizz2's API "
        f"answers 401 to a call without a login: PORTAL_REPOVIZZ2_URL ({url}) is not repovizz2's address "
        "(it is the address the API's /api/v1.0 and /oauth/ hang from)")]
    assert "skipped  repovizz2 OAuth: PORTAL_REPOVIZZ2_URL must be fixed first" in output


def test_an_address_without_a_scheme_is_named(settings, capsys):
    settings.setenv("PORTAL_REPOVIZZ2_URL", "repovizz2.upf.edu")
    status, output = run_check(capsys)
    assert status == 1
    assert problems(output) == ["PROBLEM  repovizz2: PORTAL_REPOVIZZ2_URL must be an http:// or https:// address, "
                                "not 'repovizz2.upf.edu'"]


def test_a_missing_datatypes_folder_is_named(settings, capsys, tmp_path):
    settings.setenv("PORTAL_DATATYPES_DIR", str(tmp_path / "no-such-folder"))
    status, output = run_check(capsys)
    assert status == 1
    assert problems(output) == [
        f"PROBLEM  datatypes: PORTAL_DATATYPES_DIR: {tmp_path / 'no-such-folder'}: is not a folder of datatype files"]


def test_a_bad_datatype_file_is_named(settings, capsys, tmp_path):
    folder = tmp_path / "datatypes"
    folder.mkdir()
    (folder / "broken.json").write_text("{not json")
    settings.setenv("PORTAL_DATATYPES_DIR", str(folder))
    status, output = run_check(capsys)
    assert status == 1
    (line,) = problems(output)
    assert line.startswith(f"PROBLEM  datatypes: PORTAL_DATATYPES_DIR: {folder / 'broken.json'}: is not valid JSON")


def test_a_good_datatypes_folder_is_counted(settings, capsys, tmp_path):
    folder = tmp_path / "datatypes"
    folder.mkdir()
    datatype = json.loads((Path(BUILT_IN_DIR) / "accelerometer-3-axis.json").read_text())
    datatype.update(datatypeID="0b7f0c8e-5a1e-4c55-9a55-0d4b2f9c1e01", name="The lab's accelerometer")
    (folder / "lab-accelerometer.json").write_text(json.dumps(datatype))
    settings.setenv("PORTAL_DATATYPES_DIR", str(folder))
    status, output = run_check(capsys)
    assert status == 0, output
    assert f"and 1 of the lab's own from {folder}" in output


@pytest.mark.parametrize("unset", ["PORTAL_SECRET_KEY", "PORTAL_CLIENT_SECRET"])
def test_a_missing_secret_is_named(settings, capsys, unset):
    settings.delenv(unset)
    status, output = run_check(capsys)
    assert status == 1
    assert problems(output)[0].startswith(f"PROBLEM  settings: {unset} is not set")


def test_a_setting_that_is_not_a_number_stops_the_rest(settings, capsys):
    settings.setenv("PORTAL_MAX_FILES", "lots")
    status, output = run_check(capsys)
    assert status == 1
    assert problems(output) == ["PROBLEM  settings: PORTAL_MAX_FILES must be a whole number, not 'lots'"]


def test_the_session_folder_is_named(settings, capsys, tmp_path):
    settings.setenv("PORTAL_SESSION_DIR", str(tmp_path / "sessions"))
    status, output = run_check(capsys)
    assert status == 0, output
    assert f"ok       sessions: in files under {tmp_path / 'sessions'} (made at the first login)" in output


def test_a_session_folder_that_cannot_be_made_is_named(settings, capsys, tmp_path):
    (tmp_path / "taken").write_text("a file where the folder should be")
    settings.setenv("PORTAL_SESSION_DIR", str(tmp_path / "taken" / "sessions"))
    status, output = run_check(capsys)
    assert status == 1
    assert problems(output) == [f"PROBLEM  sessions: PORTAL_SESSION_DIR: {tmp_path / 'taken' / 'sessions'} cannot be "
                                f"made: {tmp_path / 'taken'} is a file"]


def test_a_redis_that_does_not_answer_is_named_without_its_password(settings, capsys):
    port = free_port()
    settings.setenv("PORTAL_REDIS_URL", f"redis://:hunter2@127.0.0.1:{port}/0")
    status, output = run_check(capsys)
    assert status == 1
    (line,) = problems(output)
    assert line.startswith(f"PROBLEM  sessions: PORTAL_REDIS_URL: redis://127.0.0.1:{port}/0 cannot be reached (")
    assert "hunter2" not in output
