"""`python -m sandbox …` as scripts use it, and the small pieces behind it."""
from __future__ import annotations

import json
import os
import re
import time
import uuid

import pytest
import requests

from sandbox import create_app
from sandbox.auth_pages import local_path
from sandbox.config import default_data_dir, settings_from_env
from sandbox.testing import LiveSandbox

from .helpers import API, TIMEOUT, run_cli, run_script, unique


def test_python_m_sandbox_runs_as_a_script(tmp_path):
    result = run_script("add-user", "frank", "--password", "pw", "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"id": 1, "username": "frank"}
    again = run_script("add-user", "frank", "--password", "pw", "--data-dir", str(tmp_path))
    assert again.returncode == 1 and "already exists" in again.stderr


def test_add_user_then_the_same_name_again(tmp_path):
    first = run_cli("add-user", "carol", "--password", "pw", "--email", "carol@example.org",
                    "--data-dir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    user = json.loads(first.stdout)
    assert user == {"id": 1, "username": "carol"}
    again = run_cli("add-user", "carol", "--password", "pw", "--data-dir", str(tmp_path))
    assert again.returncode == 1
    assert "already exists" in again.stderr
    accepted = run_cli("add-user", "carol", "--password", "other", "--exist-ok", "--data-dir", str(tmp_path))
    assert accepted.returncode == 0
    assert json.loads(accepted.stdout) == user
    as_uuid = run_cli("add-user", "carol", "--password", "pw", "--exist-ok", "--ids", "uuid",
                      "--data-dir", str(tmp_path))
    assert uuid.UUID(json.loads(as_uuid.stdout)["id"]).version == 4
    second = run_cli("add-user", "erin", "--password", "pw", "--data-dir", str(tmp_path))
    assert json.loads(second.stdout) == {"id": 2, "username": "erin"}


def test_add_user_hashes_with_scrypt_and_a_live_sandbox_user_logs_in_with_its_quick_hash(tmp_path, sandbox):
    from contextlib import closing

    from sandbox.cli import open_db

    assert run_cli("add-user", "grace", "--password", "pw", "--data-dir", str(tmp_path)).returncode == 0
    sandbox.add_user("quick-hash", "pw")
    hashes = {}
    for folder, name in ((str(tmp_path), "grace"), (sandbox.data_dir, "quick-hash")):
        with closing(open_db(folder)) as db:
            hashes[name] = db.execute("SELECT password_hash FROM users WHERE username = ?", (name,)).fetchone()[0]
    assert hashes["grace"].startswith("scrypt:") and hashes["quick-hash"].startswith("pbkdf2:sha256:1$")
    for password, logged_in in (("not it", False), ("pw", True)):
        browser = requests.Session()
        form = browser.get(f"{sandbox.url}/login", timeout=TIMEOUT).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        answer = browser.post(f"{sandbox.url}/login", timeout=TIMEOUT, allow_redirects=False,
                              data={"csrf_token": csrf, "username": "quick-hash", "password": password})
        assert (answer.status_code == 302) is logged_in
        assert ("Invalid username or password." in answer.text) is not logged_in


def test_add_client_prints_its_credentials_as_json(tmp_path):
    result = run_cli("add-client", "--name", "Portal", "--redirect-uri", "http://localhost:5000/auth/callback",
                     "--redirect-uri", "http://127.0.0.1:5000/auth/callback", "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    client = json.loads(result.stdout)
    assert set(client) == {"client_id", "client_secret"}
    assert all(uuid.UUID(value).version == 4 for value in client.values())


@pytest.mark.parametrize("uri", ["/relative/callback", "ftp://host/x", "http://host/cb#fragment"])
def test_add_client_refuses_unusable_redirect_uris(tmp_path, uri):
    result = run_cli("add-client", "--name", "Portal", "--redirect-uri", uri, "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert "redirect URI" in result.stderr


def test_issue_token_gives_a_token_the_running_sandbox_accepts(sandbox):
    name = unique("scripted")
    sandbox.add_user(name, "pw")
    result = run_cli("issue-token", name, "--data-dir", sandbox.data_dir)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    answer = requests.get(sandbox.url + API + "/user", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    assert answer.status_code == 200
    assert answer.json()["username"] == name


def test_issue_token_for_an_unknown_user_fails(tmp_path):
    result = run_cli("issue-token", "nobody", "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert "no user 'nobody'" in result.stderr


def test_the_data_dir_comes_from_the_environment(tmp_path):
    result = run_cli("add-user", "dave", "--password", "pw", env={"SANDBOX_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "sandbox.db").exists()
    assert default_data_dir({}) == os.path.join("instance", "sandbox")
    assert settings_from_env({"SANDBOX_TOKEN_EXPIRES_IN": "2", "SANDBOX_LATENCY_MS": "5"})["TOKEN_EXPIRES_IN"] == 2


def test_latency_delays_every_answer(tmp_path):
    with LiveSandbox(tmp_path, latency_ms=300) as slow:
        started = time.monotonic()
        assert requests.get(slow.url + "/healthz", timeout=TIMEOUT).status_code == 200
        assert time.monotonic() - started >= 0.3


def test_the_session_key_is_made_once_and_kept(tmp_path):
    first = create_app({"DATA_DIR": str(tmp_path)}).config["SECRET_KEY"]
    assert len(first) >= 32
    assert create_app({"DATA_DIR": str(tmp_path)}).config["SECRET_KEY"] == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("target, expected", [
    ("/oauth/authorize?client_id=x&state=y", "/oauth/authorize?client_id=x&state=y"),
    ("/", "/"),
    ("https://evil.example/", None),
    ("//evil.example/", None),
    ("/\\evil.example", None),
    ("javascript:alert(1)", None),
    ("/x\r\nLocation: https://evil.example", None),
    ("", None),
    (None, None),
])
def test_login_continues_only_to_local_paths(target, expected):
    assert local_path(target) == expected
