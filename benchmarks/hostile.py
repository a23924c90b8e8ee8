"""Hostile traffic for `benchmarks/load.py --hostile`: the deployment behind nginx, and its attackers.

Everything runs on loopback against servers started here; every attacker loop is bounded in count
and in time. The slow clients are tests/live_nginx.py's `Attacker`, relaunched as soon as one ends:

- "silent": part of a request header, then nothing (nginx's client_header_timeout ends it);
- "dribble": a request header sent one byte every half second (client_header_timeout again);
- "form body": a logged-in POST /upload announcing 100000 bytes that stalls after its first field;
- "file body": a logged-in file PUT (bearer token) announcing 1 MiB that stalls after 64 KiB
  (these two hold a gunicorn thread each until nginx's client_body_timeout ends them, at most
  `limit_conn portal_bodies` of them per address; over that nginx answers 429 at once).

The anonymous ones (no cookie, no token):

- "page view": GET of /, /upload and a datapack's page, cookies dropped before each, in a tight loop;
- "anonymous POST": a multipart POST /upload announcing 1 GiB, sent as fast as the server takes it;
- "anonymous PUT": a PUT of 1 GiB to a pending file's upload URL, likewise.

And the ones with a login that is not one, or a request built to make a large answer:

- "junk-token PUT": a file PUT with a token repovizz2 never issued, announcing 100000 bytes and
  stalling after 10 (the portal asks repovizz2 about the token before it reads the body: 401 at once);
- "amplification (junk token)": a POST /api/datapacks of about 600 kB whose 3000 links each match
  all of 1000 files with long paths, with a junk token (401 before the document is looked at);
- "amplification (logged in)": the same with mallory's real token (422, its problems bounded).

Slow clients connect from SLOW_ADDRESS, the anonymous ones from ANONYMOUS_ADDRESS, the junk-token and
amplification ones from JUNK_ADDRESS (all loopback).
"""
from __future__ import annotations

import collections
import json
import os
import re
import select
import socket
import ssl
import statistics
import threading
import time
from pathlib import Path

import psutil
import requests

from sandbox.testing import LiveSandbox
from tests.live_nginx import Attacker, LiveNginx, header_and_form_stallers, junk_token_staller
from tests.live_portal import GunicornPortal, free_port, log_in

SLOW_ADDRESS = "127.0.2.1"
ANONYMOUS_ADDRESS = "127.0.2.2"
MALLORY_ADDRESS = "127.0.2.3"
JUNK_ADDRESS = "127.0.2.4"
PREFIX = "/portal"
ANNOUNCED = 1024 * 1024 * 1024  # what an anonymous body claims to be
BODY_SEND_LIMIT = 64 * 1024 * 1024  # bytes an anonymous body sends at most before giving up
BODY_SECONDS = 10  # time an anonymous body is given at most
SLOW_LIFETIME = 45  # seconds a slow client holds on at most: past every nginx timeout of the config
STALLED_FILE_MIB = 1
# gunicorn's own file per worker in TMPDIR (its heartbeat, made at start): not a request's.
GUNICORN_HEARTBEAT = "wgunicorn-"


class BehindNginx:
    """The sandbox, the portal under gunicorn with PORTAL_BEHIND_PROXY=1, and nginx with the site
    config of docs/nginx-portal.conf in front of it at https://127.0.0.1:<port>/portal/."""

    def __init__(self, workdir: Path, workers: int, threads: int, client_timeout: int | None = None):
        """`client_timeout`: seconds for nginx's four client timeouts instead of the config's (for a short test)."""
        self.sandbox = LiveSandbox(workdir / "sandbox").start()
        self.gunicorn = self.nginx = None
        try:
            port = free_port()
            client = self.sandbox.add_client(f"nginx-{port}", [f"https://127.0.0.1:{port}{PREFIX}/auth/callback"])
            self.portal_tmp = workdir / "portal-tmp"
            self.portal_tmp.mkdir()
            self.session_dir = workdir / "sessions"
            self.gunicorn = GunicornPortal(self.sandbox, str(self.session_dir), workers, threads, client=client,
                                           env={"PORTAL_BEHIND_PROXY": "1", "TMPDIR": str(self.portal_tmp),
                                                "PORTAL_MAX_FILES": "5000"})
            changes = {
                "client_header_timeout 10s;": f"client_header_timeout {client_timeout}s;",
                "client_body_timeout   30s;": f"client_body_timeout {client_timeout}s;",
                "send_timeout          30s;": f"send_timeout {client_timeout}s;",
                "keepalive_timeout     30s;": f"keepalive_timeout {client_timeout}s;",
            } if client_timeout else None
            self.nginx = LiveNginx(workdir / "nginx", port, self.gunicorn.url.removeprefix("http://"), changes)
        except BaseException:
            self.close()
            raise
        self.origin = self.nginx.url
        self.prefix = PREFIX
        self.portal_url = self.origin + PREFIX
        self.logins: list[str] = []  # every login that completed: each is allowed one session file

    def session_files(self) -> int:
        return sum(1 for entry in self.session_dir.iterdir() if not entry.name.startswith("__wz_cache"))

    def portal_temp_files(self) -> list[str]:
        """Files in the portal's TMPDIR, including unlinked ones its processes still hold open."""
        found = [str(path) for path in self.portal_tmp.rglob("*") if not path.name.startswith(GUNICORN_HEARTBEAT)]
        try:
            processes = [psutil.Process(self.gunicorn.pid), *psutil.Process(self.gunicorn.pid).children()]
        except psutil.NoSuchProcess:
            return found
        for process in processes:
            try:
                for fd in os.scandir(f"/proc/{process.pid}/fd"):
                    target = os.readlink(fd.path)
                    if target.startswith(str(self.portal_tmp)) and not Path(target).name.startswith(GUNICORN_HEARTBEAT):
                        found.append(target)
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                pass
        return found

    def nginx_errors(self) -> collections.Counter:
        """nginx's error log lines at level error or above, counted by message (addresses left out)."""
        found = collections.Counter()
        for line in self.nginx.error_log_text().splitlines():
            match = re.search(r"\[(error|crit|alert|emerg)\] \d+#\d+: (?:\*\d+ )?(.*?)(?:, client: .*)?$", line)
            if match:
                found[re.sub(r"\d+", "N", match.group(2))] += 1
        return found

    def close(self) -> None:
        for server in (self.nginx, self.gunicorn, self.sandbox):
            if server is not None:
                server.stop()


class TempWatch:
    """Samples the temporary files of the portal and of nginx every 50 ms while the load runs."""

    def __init__(self, setup: BehindNginx):
        self.setup = setup
        self.portal: set[str] = set()
        self.nginx: set[str] = set()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.done.is_set():
            self.portal.update(self.setup.portal_temp_files())
            self.nginx.update(self.setup.nginx.body_temp_files())
            self.done.wait(0.05)

    def stop(self) -> None:
        self.done.set()
        self.thread.join(5)
        self.portal.update(self.setup.portal_temp_files())
        self.nginx.update(self.setup.nginx.body_temp_files())


class Tally:
    """What each kind of attacker got: outcome counts, how long the slow ones were held."""

    def __init__(self):
        self.lock = threading.Lock()
        self.outcomes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.held: dict[str, list[float]] = collections.defaultdict(list)
        self.session_cookies = 0
        self.bytes_sent: dict[str, int] = collections.Counter()
        self.largest_answer: dict[str, int] = collections.Counter()  # bytes, per kind

    def answered(self, kind: str, size: int) -> None:
        with self.lock:
            self.largest_answer[kind] = max(self.largest_answer[kind], size)

    def add(self, kind: str, outcome: str, held: float | None = None, sent: int = 0) -> None:
        with self.lock:
            self.outcomes[kind][outcome] += 1
            if held is not None:
                self.held[kind].append(held)
            self.bytes_sent[kind] += sent

    def table(self) -> list[str]:
        kinds = list(self.outcomes)
        if not kinds:
            return ["no attackers (the control run)"]
        columns = sorted({outcome for counts in self.outcomes.values() for outcome in counts},
                         key=lambda o: (not o.isdigit(), o))
        lines = ["| attacker | requests | " + " | ".join(columns) + " | held (median, 429s left out) | bytes sent |",
                 "| --- | --- | " + " | ".join("---" for _ in columns) + " | --- | --- |"]
        for kind in kinds:
            counts = self.outcomes[kind]
            held = f"{statistics.median(self.held[kind]):.1f} s" if self.held[kind] else "-"
            sent = f"{self.bytes_sent[kind] / 1e6:.1f} MB" if self.bytes_sent[kind] else "-"
            lines.append(f"| {kind} | {sum(counts.values())} | "
                         + " | ".join(str(counts.get(c, 0)) for c in columns) + f" | {held} | {sent} |")
        return lines


class Window:
    """When attackers may start: until the honest users are done and at least `seconds` went by,
    never past `seconds + bound`."""

    def __init__(self, seconds: float, bound: float):
        self.started = time.monotonic()
        self.min_end = self.started + seconds
        self.hard_end = self.started + seconds + bound
        self.honest_done = threading.Event()

    def open(self) -> bool:
        now = time.monotonic()
        return now < self.hard_end and (not self.honest_done.is_set() or now < self.min_end)


def outcome_of(one: Attacker) -> str:
    if one.status:
        return str(one.status)
    if one.closed:
        return "closed"
    if not one.opened:
        return "refused"  # could not connect
    return "open at the end"


class Mallory:
    """The logged-in attacker: a session cookie, a bearer token and a datapack with pending files."""

    def __init__(self, setup: BehindNginx, browser, files: int):
        setup.sandbox.add_user("mallory", "pw")
        http = browser(setup, MALLORY_ADDRESS)
        log_in(http, setup.portal_url, "mallory", "pw", next_path=PREFIX + "/")
        setup.logins.append("mallory")
        page = http.get(setup.portal_url + "/upload", timeout=30)
        http.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        size = STALLED_FILE_MIB * 1024 * 1024
        links = [f"f{i}.bin" for i in range(files)]
        document = {"info": {"name": "mallory", "author": "mallory", "description": "", "keywords": []},
                    "children": [{"class": "data", "name": link, "text": "", "link": link} for link in links]}
        answer = http.post(setup.portal_url + "/api/datapacks", timeout=30,
                           json={"document": document, "files": [{"path": link, "size": size} for link in links]})
        answer.raise_for_status()
        self.datapack = answer.json()
        self.cookie = f"portal_session={http.cookies['portal_session']}"
        self.token = setup.sandbox.issue_token("mallory")
        self.size = size


def slow_slot(setup: BehindNginx, mallory: Mallory, kind: int, index: int, window: Window, tally: Tally) -> None:
    """One slow client after another (kind 0 silent, 1 dribble, 2 form body, 3 file body)."""
    host = f"127.0.0.1:{setup.nginx.port}"
    tls = setup.nginx.tls_context()
    while window.open():
        if kind < 3:
            one = header_and_form_stallers(host, PREFIX, mallory.cookie)[kind]
        else:
            upload = mallory.datapack["uploads"][index % len(mallory.datapack["uploads"])]
            one = Attacker("file body", (
                f"PUT {upload['url']} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {mallory.token}\r\n"
                f"Content-Type: application/octet-stream\r\nContent-Length: {mallory.size}\r\n\r\n"
            ).encode() + b"\0" * 65536)
        one.run(setup.nginx.port, tls, threading.Barrier(1), min(time.monotonic() + SLOW_LIFETIME, window.hard_end),
                source=SLOW_ADDRESS)
        ended = one.answered or one.closed or time.monotonic()
        held = ended - one.opened if one.opened else None
        outcome = outcome_of(one)
        tally.add(one.kind, outcome, held if outcome != "429" else None)
        if held is None or held < 1:
            time.sleep(0.5)  # refused at once (429): come back soon, not in a busy loop


def page_viewer(setup: BehindNginx, browser, paths: list[str], window: Window, tally: Tally, limit: int) -> None:
    """Cookieless page views, one after another, at most `limit` of them."""
    http = browser(setup, ANONYMOUS_ADDRESS)
    for count in range(limit):
        if not window.open():
            return
        http.cookies.clear()
        try:
            answer = http.get(setup.portal_url + paths[count % len(paths)], allow_redirects=False, timeout=10)
        except requests.RequestException as error:
            tally.add("page view", type(error).__name__)
            continue
        tally.add("page view", str(answer.status_code))
        if "portal_session" in answer.headers.get("Set-Cookie", ""):
            with tally.lock:
                tally.session_cookies += 1


def send_body(setup: BehindNginx, head: bytes) -> tuple[str, int]:
    """Send `head`, then zeros as fast as the server takes them, until it answers or closes, or
    BODY_SEND_LIMIT bytes or BODY_SECONDS went by. Returns the outcome and the body bytes sent."""
    conn = socket.create_connection(("127.0.0.1", setup.nginx.port), timeout=5, source_address=(ANONYMOUS_ADDRESS, 0))
    conn = setup.nginx.tls_context().wrap_socket(conn, server_hostname="127.0.0.1")
    chunk = b"\0" * 65536
    answer, sent, closed = b"", 0, False
    deadline = time.monotonic() + BODY_SECONDS
    with conn:
        conn.sendall(head)
        sending = True
        while time.monotonic() < deadline:
            readable, writable, _ = select.select([conn], [conn] if sending else [], [], 0.2)
            if readable or conn.pending():
                try:
                    data = conn.recv(65536)
                except (OSError, ssl.SSLError):
                    data = b""
                if not data:
                    closed = True
                    break
                answer += data
                if b"\r\n\r\n" in answer:
                    break  # the status line and headers are in: that is the answer
                continue
            if writable:
                if sent >= BODY_SEND_LIMIT:
                    sending = False
                    continue
                try:
                    sent += conn.send(chunk)
                except (OSError, ssl.SSLError):
                    sending = False  # cut off while sending: read what nginx answered, if anything
    match = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    if match:
        return match.group(1).decode(), sent
    return ("closed" if closed else "gave up"), sent


def body_sender(setup: BehindNginx, kind: str, head: bytes, window: Window, tally: Tally, limit: int) -> None:
    """Anonymous large bodies, one after another, at most `limit` of them."""
    for _ in range(limit):
        if not window.open():
            return
        started = time.monotonic()
        try:
            outcome, sent = send_body(setup, head)
        except (OSError, ssl.SSLError) as error:
            outcome, sent = type(error).__name__, 0
        tally.add(kind, outcome, time.monotonic() - started, sent)


def anonymous_heads(setup: BehindNginx, mallory: Mallory) -> dict[str, bytes]:
    host = f"127.0.0.1:{setup.nginx.port}"
    upload = mallory.datapack["uploads"][0]
    return {
        "anonymous POST": (
            f"POST {PREFIX}/upload HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {ANNOUNCED}\r\n\r\n"
            "--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode(),
        "anonymous PUT": (
            f"PUT {upload['url']} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {ANNOUNCED}\r\n\r\n").encode(),
    }


def junk_token_slot(setup: BehindNginx, window: Window, tally: Tally, limit: int) -> None:
    """Junk-token PUTs stalled after 10 bytes, one after another, at most `limit` of them."""
    for _ in range(limit):
        if not window.open():
            return
        one = junk_token_staller(f"127.0.0.1:{setup.nginx.port}", PREFIX)
        one.run(setup.nginx.port, setup.nginx.tls_context(), threading.Barrier(1),
                min(time.monotonic() + SLOW_LIFETIME, window.hard_end), source=JUNK_ADDRESS)
        ended = one.answered or one.closed or time.monotonic()
        tally.add(one.kind, outcome_of(one), ended - one.opened if one.opened else None)


def amplifying_body(files: int = 1000, links: int = 3000) -> bytes:
    """A create call whose every link matches every file (by name, in folders with long names)."""
    folder = "f" * 400
    document = {"info": {"name": "amplified", "author": "x", "description": "", "keywords": []},
                "children": [{"class": "data", "name": f"n{i}", "text": "", "link": f"x{i}/data.bin"}
                             for i in range(links)]}
    return json.dumps({"document": document,
                       "files": [{"path": f"{folder}{i}/data.bin", "size": 1} for i in range(files)]}).encode()


def amplifier(setup: BehindNginx, browser, mallory: Mallory, window: Window, tally: Tally, limit: int) -> None:
    """The amplification request, with a junk token and with mallory's own, at most `limit` of each."""
    http = browser(setup, JUNK_ADDRESS)
    body = amplifying_body()
    for count in range(limit):
        if not window.open():
            return
        for kind, token in (("amplification (junk token)", f"junk-{count}"), ("amplification (logged in)", mallory.token)):
            try:
                answer = http.post(setup.portal_url + "/api/datapacks", data=body, timeout=60,
                                   headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            except requests.RequestException as error:
                tally.add(kind, type(error).__name__)
                continue
            tally.add(kind, str(answer.status_code), sent=len(body))
            tally.answered(kind, len(answer.content))


def start_attack(setup: BehindNginx, browser, window: Window, tally: Tally, slow_per_kind: int,
                 anonymous_threads: int, page_views: int, anonymous_bodies: int,
                 amplifications: int = 10) -> list[threading.Thread]:
    mallory = Mallory(setup, browser, max(1, slow_per_kind))
    pages = ["/", "/upload", f"/datapacks/{mallory.datapack['datapack_id']}"]
    jobs = [(slow_slot, (setup, mallory, kind, index, window, tally))
            for index in range(slow_per_kind) for kind in range(4)]
    for _ in range(anonymous_threads):
        jobs.append((page_viewer, (setup, browser, pages, window, tally, page_views // max(1, anonymous_threads))))
        for kind, head in anonymous_heads(setup, mallory).items():
            jobs.append((body_sender, (setup, kind, head, window, tally,
                                       anonymous_bodies // max(1, anonymous_threads))))
        jobs.append((junk_token_slot, (setup, window, tally, anonymous_bodies // max(1, anonymous_threads))))
        jobs.append((amplifier, (setup, browser, mallory, window, tally, amplifications // max(1, anonymous_threads))))
    threads = [threading.Thread(target=target, args=args, daemon=True) for target, args in jobs]
    for thread in threads:
        thread.start()
    return threads
