"""`make demo`: start the sandbox and the portal, print the URL, the demo login and the public notebook's
client; Ctrl-C stops both.

The demo teaches repovizz2: the portal's result page lists the calls it made (PORTAL_SHOW_API_CALLS);
the sandbox's login page names the demo login (`--login-hint`); and the public notebook can run
against the sandbox: `set_up_sandbox` registers a client for the public Python client `repovizz2.py`,
with the redirect URI that client hard-codes (its one-shot server on `http://localhost:50009`), and
the sandbox lets the notebook, served by Jupyter at its default address, show its login page in a
frame (`--allow-framing-from`; DEMO_FRAMING_ORIGINS changes the origins, empty turns it off). The
portal's own pages are never framed. tests/integration/test_public_notebook.py sets a sandbox up with
the same functions.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
NOTEBOOK_ORIGINS = "http://127.0.0.1:8888,http://localhost:8888"  # Jupyter's default address
DEMO_LOGIN = ("demo", "demo")
LOGIN_HINT = f"{DEMO_LOGIN[0]} / {DEMO_LOGIN[1]}"
# The public client repovizz2.py hard-codes this redirect URI and runs a one-shot server there.
NOTEBOOK_REDIRECT_URI = "http://localhost:50009"


def wait_for(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not answer within {seconds:.0f} s")
            time.sleep(0.2)


def sandbox_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "sandbox", *args, "--data-dir", str(data_dir)],
                          cwd=ROOT, capture_output=True, text=True)


def sandbox_serve_accepts(option: str) -> bool:
    """Whether this sandbox's `serve` has `option` (older sandboxes have no framing option)."""
    shown = subprocess.run([PYTHON, "-m", "sandbox", "serve", "--help"], cwd=ROOT, capture_output=True, text=True)
    return option in shown.stdout


def registered_client(data_dir: Path, key: str, name: str, redirect_uri: str) -> dict:
    """An OAuth client in the sandbox, registered once per data dir and redirect URI (kept in
    ``<key>-client.json``): ``{"client_id", "client_secret", "redirect_uri"}``."""
    saved = data_dir / f"{key}-client.json"
    if saved.exists():
        client = json.loads(saved.read_text())
        if client.get("redirect_uri") == redirect_uri:
            return client
    made = sandbox_cli("add-client", "--name", name, "--redirect-uri", redirect_uri, data_dir=data_dir)
    if made.returncode:
        raise SystemExit(f"could not register {name!r} in the sandbox:\n{made.stderr}")
    client = {**json.loads(made.stdout), "redirect_uri": redirect_uri}
    saved.write_text(json.dumps(client))
    return client


def set_up_sandbox(data_dir: Path, portal_url: str) -> dict:
    """The demo's sandbox data: the demo user, the portal's client (its callback under `portal_url`)
    and the public notebook's client. Returns ``{"portal": client, "notebook": client}``."""
    username, password = DEMO_LOGIN
    added = sandbox_cli("add-user", username, "--password", password, "--email", "demo@example.org", "--exist-ok",
                        data_dir=data_dir)
    if added.returncode:
        raise SystemExit(f"could not create the demo user:\n{added.stderr}")
    return {
        "portal": registered_client(data_dir, "demo", "repovizz2 portal (demo)", f"{portal_url}/auth/callback"),
        "notebook": registered_client(data_dir, "notebook", "public notebook (repovizz2.py)", NOTEBOOK_REDIRECT_URI),
    }


def sandbox_serve_options(framing: str) -> list[str]:
    """The demo's options for `python -m sandbox serve`: the login hint, and framing by `framing`'s
    origins (a comma list; empty: none), each when this sandbox has the option."""
    options = []
    if sandbox_serve_accepts("--login-hint"):
        options += ["--login-hint", LOGIN_HINT]
    if framing and sandbox_serve_accepts("--allow-framing-from"):
        options += ["--allow-framing-from", framing]
    return options


def stop_like_ctrl_c(*_) -> None:
    """`kill` (SIGTERM) stops the demo as Ctrl-C does, servers included."""
    raise KeyboardInterrupt


def main() -> None:
    host = os.environ.get("DEMO_HOST", "127.0.0.1")
    portal_port = int(os.environ.get("PORTAL_PORT", "5000"))
    sandbox_port = int(os.environ.get("SANDBOX_PORT", "8080"))
    data_dir = Path(os.environ.get("SANDBOX_DATA_DIR", ROOT / "instance" / "sandbox")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    portal_url = f"http://{host}:{portal_port}"
    sandbox_url = f"http://{host}:{sandbox_port}"

    clients = set_up_sandbox(data_dir, portal_url)
    client, notebook_client = clients["portal"], clients["notebook"]
    secret_file = data_dir / "portal-secret-key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_hex(32))

    env = {
        **os.environ,
        "PORTAL_REPOVIZZ2_URL": sandbox_url,
        "PORTAL_CLIENT_ID": client["client_id"],
        "PORTAL_CLIENT_SECRET": client["client_secret"],
        "PORTAL_SECRET_KEY": secret_file.read_text().strip(),
        "PORTAL_SESSION_DIR": os.environ.get("PORTAL_SESSION_DIR", str(ROOT / "instance" / "sessions")),
        "PORTAL_SHOW_API_CALLS": os.environ.get("PORTAL_SHOW_API_CALLS", "1"),
    }
    framing = os.environ.get("DEMO_FRAMING_ORIGINS", NOTEBOOK_ORIGINS).strip()
    sandbox_options = sandbox_serve_options(framing)
    if "--allow-framing-from" not in sandbox_options:
        framing = ""
    signal.signal(signal.SIGTERM, stop_like_ctrl_c)
    children = [
        subprocess.Popen([PYTHON, "-m", "sandbox", "serve", "--host", host, "--port", str(sandbox_port),
                          "--data-dir", str(data_dir), *sandbox_options], cwd=ROOT, env=env),
        subprocess.Popen([PYTHON, "-m", "gunicorn", "--worker-class", "gthread", "--workers", "2", "--threads", "8",
                          "--timeout", "300", "--bind", f"{host}:{portal_port}", "--log-level", "warning",
                          "wsgi:app"], cwd=ROOT, env=env),
    ]
    try:
        wait_for(f"{sandbox_url}/healthz")
        wait_for(f"{portal_url}/healthz")
        framed = f"; the sandbox's login may be framed by {framing}" if framing else ""
        print(f"\n  Portal:   {portal_url}/\n  Log in as {LOGIN_HINT}   (repovizz2 sandbox at {sandbox_url})\n"
              f"  Public notebook (docs/notebook.md): RepoVizzClient(client_id=\"{notebook_client['client_id']}\",\n"
              f"      client_secret=\"{notebook_client['client_secret']}\", repovizz_url=\"{sandbox_url}\")\n"
              f"      redirect URI {NOTEBOOK_REDIRECT_URI} (the client's own one-shot server){framed}\n"
              f"  Ctrl-C stops both.\n", flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        raise SystemExit("the sandbox or the portal stopped; see the messages above")
    except KeyboardInterrupt:
        print("\nstopping…")
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    main()
