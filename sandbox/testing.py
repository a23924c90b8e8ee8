"""`LiveSandbox`: a real sandbox server in a subprocess, for tests, the demo and benchmarks.

    with LiveSandbox(tmp_path / "sandbox", token_expires_in=2) as sandbox:
        sandbox.add_user("alice", "secret")
        token = sandbox.issue_token("alice")
        requests.get(sandbox.url + "/api/v1.0/user", headers={"Authorization": f"Bearer {token}"})
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from . import cli
from .config import DEFAULT_TOKEN_EXPIRES_IN, DEFAULTS, check_variant, parse_origins

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_ATTEMPTS = 3
QUICK_PASSWORD_METHOD = "pbkdf2:sha256:1"


class SandboxFailedToStart(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class LiveSandbox:
    """Runs `python -m sandbox serve` on a free loopback port; user/client/token commands run in-process.

    The real server's variants are keywords, passed to `serve` as its options (see docs/sandbox.md):
    `ids` ("integer" | "uuid"), `upload_answer` ("id" | "result-ok"), `file_ids` ("random" | "content"),
    `unauthorized` ("documented" | "rfc6750"), and `allow_framing_from` (origins). Their defaults are the
    sandbox's, whatever `SANDBOX_*` variables the environment holds. `serve_options` are more options
    for `serve`, passed as given (e.g. the demo's, ``["--login-hint", "demo / demo", …]``).
    """

    def __init__(self, data_dir: str | os.PathLike, token_expires_in: int | None = None,
                 latency_ms: int | None = None, host: str = "127.0.0.1", startup_timeout: float = 20.0, *,
                 ids: str = DEFAULTS["IDS"], upload_answer: str = DEFAULTS["UPLOAD_ANSWER"],
                 file_ids: str = DEFAULTS["FILE_IDS"], unauthorized: str = DEFAULTS["UNAUTHORIZED"],
                 allow_framing_from: list[str] | tuple[str, ...] = (), serve_options: list[str] | tuple[str, ...] = ()):
        self.data_dir = str(Path(data_dir).resolve())
        self.token_expires_in = token_expires_in or DEFAULT_TOKEN_EXPIRES_IN
        self.latency_ms = latency_ms or 0
        self.ids = check_variant("IDS", ids)
        self.upload_answer = check_variant("UPLOAD_ANSWER", upload_answer)
        self.file_ids = check_variant("FILE_IDS", file_ids)
        self.unauthorized = check_variant("UNAUTHORIZED", unauthorized)
        self.allow_framing_from = parse_origins(allow_framing_from)
        self.serve_options = list(serve_options)
        self.host = host
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self.log_path = os.path.join(self.data_dir, "serve.log")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self) -> "LiveSandbox":
        os.makedirs(self.data_dir, exist_ok=True)
        for _attempt in range(START_ATTEMPTS):
            self.port = free_port(self.host)
            self._spawn()
            if self._wait_until_healthy():
                return self
            self._terminate()
        raise SandboxFailedToStart(f"the sandbox did not start; see {self.log_path}:\n{self._log_tail()}")

    def _spawn(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        for name in ("SANDBOX_ALLOW_FRAMING_FROM", "SANDBOX_LOGIN_HINT"):  # the settings not always passed below
            env.pop(name, None)
        command = [
            sys.executable, "-m", "sandbox", "serve",
            "--host", self.host,
            "--port", str(self.port),
            "--data-dir", self.data_dir,
            "--token-expires-in", str(self.token_expires_in),
            "--latency-ms", str(self.latency_ms),
            "--ids", self.ids,
            "--upload-answer", self.upload_answer,
            "--file-ids", self.file_ids,
            "--unauthorized", self.unauthorized,
        ]
        command += [argument for origin in self.allow_framing_from for argument in ("--allow-framing-from", origin)]
        command += self.serve_options
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                            cwd=str(PROJECT_ROOT))

    def _wait_until_healthy(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.05)
        return False

    def _log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                return "".join(log.readlines()[-lines:])
        except FileNotFoundError:
            return ""

    def _terminate(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def stop(self) -> None:
        self._terminate()

    def __enter__(self) -> "LiveSandbox":
        return self.start() if self.process is None else self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def add_user(self, name: str, password: str, email: str = "") -> dict:
        """Add a user (an existing name is accepted as is); returns `{"id", "username"}`, the id as this
        sandbox's API shows it (an integer, or a UUID string with `ids="uuid"`).

        These are throwaway users on loopback, so their password is hashed with one round of PBKDF2
        (QUICK_PASSWORD_METHOD): scrypt's 0.1 s of CPU at each user and each login would be most of a
        short test's work. `python -m sandbox add-user` keeps scrypt."""
        return cli.add_user(self.data_dir, name, password, email, exist_ok=True, ids=self.ids,
                            password_method=QUICK_PASSWORD_METHOD)

    def add_client(self, name: str, redirect_uris: list[str]) -> dict:
        """Register an OAuth2 client; returns `{"client_id", "client_secret"}`."""
        return cli.add_client(self.data_dir, name, list(redirect_uris))

    def issue_token(self, name: str, expires_in: int | None = None) -> str:
        """A fresh access token for user `name`, living as long as this sandbox's tokens unless told."""
        return cli.issue_token(self.data_dir, name, expires_in or self.token_expires_in)
