"""Debian's nginx on a loopback port, in front of a live portal, with the site config of docs/nginx-portal.conf.

Everything nginx writes (pid, logs, temp folders) stays in its own work folder; no root needed, and
nginx runs in the foreground (`daemon off`) as a subprocess that `stop()` ends. `Attacker` is one
slow client (silent, dribbling or stalling its body), for tests/deploy/test_nginx.py and the hostile
run of benchmarks/load.py.
"""
from __future__ import annotations

import datetime
import grp
import ipaddress
import os
import pwd
import re
import select
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE_CONFIG = ROOT / "docs" / "nginx-portal.conf"
TEMP_FOLDERS = ("client_body_temp", "proxy_temp", "fastcgi_temp", "uwsgi_temp", "scgi_temp")


def nginx_binary() -> str | None:
    """Debian installs nginx in /usr/sbin, which is not on every user's PATH."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def replace_once(text: str, old: str, new: str) -> str:
    """`text` with its one occurrence of `old` replaced: fails loudly when the documented config changed."""
    count = text.count(old)
    if count != 1:
        raise AssertionError(f"{SITE_CONFIG.name} has {count} occurrences of {old!r}, expected exactly one")
    return text.replace(old, new)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, valid for a day: (certificate, key) files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "portal.pem", folder / "portal.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


class LiveNginx:
    """nginx serving the documented site config over https on a loopback port, in front of `upstream`.

    `changes` maps a line of docs/nginx-portal.conf to its replacement (each must occur exactly once);
    the listen address, the certificate and the upstream address are always replaced.
    """

    def __init__(self, workdir: Path, port: int, upstream: str, changes: dict[str, str] | None = None):
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (`make test-deps` installs Debian's)")
        self.workdir = Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.url = f"https://127.0.0.1:{port}"
        self.cert, key = self_signed_certificate(self.workdir)
        self.error_log = self.workdir / "error.log"
        self.access_log = self.workdir / "access.log"
        self.body_temp = self.workdir / "client_body_temp"
        for folder in TEMP_FOLDERS:
            (self.workdir / folder).mkdir(exist_ok=True)

        site = SITE_CONFIG.read_text()
        for old, new in {"listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
                         "/etc/ssl/certs/lab.example.org.pem;": f"{self.cert};",
                         "/etc/ssl/private/lab.example.org.key;": f"{key};",
                         "server 127.0.0.1:5000;": f"server {upstream};",
                         **(changes or {})}.items():
            site = replace_once(site, old, new)
        (self.workdir / "portal.conf").write_text(site)

        user = ""
        if os.geteuid() == 0:  # workers would otherwise drop to `nobody`, who cannot enter this folder
            user = f"user {pwd.getpwuid(os.getuid()).pw_name} {grp.getgrgid(os.getgid()).gr_name};"
        temp_paths = "\n".join(f"    {folder}_path {self.workdir / folder};" for folder in TEMP_FOLDERS)
        (self.workdir / "nginx.conf").write_text(f"""{user}
daemon off;
worker_processes 1;
pid {self.workdir / "nginx.pid"};
error_log {self.error_log} info;
events {{ worker_connections 1024; }}
http {{
    log_format portal '$remote_addr "$request" $status $request_time $request_length';
    access_log {self.access_log} portal;
{temp_paths}
    include {self.workdir / "portal.conf"};
}}
""")
        self.process = subprocess.Popen([binary, "-p", str(self.workdir), "-c", str(self.workdir / "nginx.conf"),
                                         "-e", str(self.error_log)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 10
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}:\n{self.error_log_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"nginx did not listen on {self.port}:\n{self.error_log_text()[-2000:]}")
                time.sleep(0.05)

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.cert))
        return context

    def error_log_text(self) -> str:
        return self.error_log.read_text(errors="replace") if self.error_log.exists() else ""

    def access_log_lines(self) -> list[str]:
        return self.access_log.read_text(errors="replace").splitlines() if self.access_log.exists() else []

    def worker_pids(self) -> list[int]:
        import psutil

        return [child.pid for child in psutil.Process(self.process.pid).children()]

    def body_temp_files(self) -> list[str]:
        """Request bodies nginx buffers on disk: its temp files are unlinked at once, so look at its open files."""
        found = [entry.name for entry in self.body_temp.iterdir()]
        for pid in self.worker_pids():
            try:
                for fd in os.scandir(f"/proc/{pid}/fd"):
                    target = os.readlink(fd.path)
                    if target.startswith(str(self.body_temp)):
                        found.append(target)
            except (FileNotFoundError, ProcessLookupError):
                pass
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # nginx's fast shutdown
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@dataclass
class Attacker:
    """One slow client: sends `start`, then `dribble` one byte every `every` seconds, then nothing, and
    records when the server first answered and when it closed the connection."""
    kind: str
    start: bytes
    dribble: bytes = b""
    every: float = 0.5
    opened: float = 0.0
    closed: float | None = None
    answered: float | None = None
    answer: bytes = b""
    sent: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def status(self) -> int | None:
        match = re.match(rb"HTTP/1\.1 (\d{3}) ", self.answer)
        return int(match.group(1)) if match else None

    def run(self, port: int, tls: ssl.SSLContext | None, ready: threading.Barrier, stop_at: float,
            source: str | None = None) -> None:
        """`source`: the loopback address to connect from (nginx limits bodies in flight per address)."""
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=5,
                                            source_address=(source, 0) if source else None)
            if tls:
                conn = tls.wrap_socket(conn, server_hostname="127.0.0.1")
            conn.sendall(self.start)
        except OSError as exc:
            self.errors.append(repr(exc))
            ready.abort()
            return
        self.opened = time.monotonic()
        try:
            ready.wait()
        except threading.BrokenBarrierError:
            conn.close()
            return
        next_byte = time.monotonic() + self.every
        with conn:
            while time.monotonic() < stop_at:
                if self.dribble and self.sent < len(self.dribble) and time.monotonic() >= next_byte:
                    try:
                        conn.sendall(self.dribble[self.sent:self.sent + 1])
                        self.sent += 1
                    except OSError:
                        pass  # closed by nginx: the read below sees it
                    next_byte += self.every
                if tls and conn.pending() or select.select([conn], [], [], 0.05)[0]:
                    try:
                        chunk = conn.recv(4096)
                    except (OSError, ssl.SSLError) as exc:
                        chunk = b""
                        self.errors.append(type(exc).__name__)
                    if not chunk:
                        self.closed = time.monotonic()
                        return
                    self.answered = self.answered or time.monotonic()
                    self.answer += chunk


def header_and_form_stallers(host: str, prefix: str, cookie: str) -> list[Attacker]:
    """Silent after part of the header, header dribbled a byte at a time, and a logged-in form POST
    that announces 100000 bytes and stalls (an anonymous one is refused unread): one of each."""
    return [
        Attacker("silent", f"GET {prefix}/ HTTP/1.1\r\nHost: {host}\r\nUser-Agent: sl".encode()),
        Attacker("dribble", b"G", dribble=f"ET {prefix}/ HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()),
        Attacker("form body", (
            f"POST {prefix}/upload HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            "Content-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
        ).encode()),
    ]


def junk_token_staller(host: str, prefix: str) -> Attacker:
    """A file PUT with a token repovizz2 never issued that announces 100000 bytes and stalls after 10:
    the portal checks the token first and answers 401 without waiting for the body."""
    return Attacker("junk-token PUT", (
        f"PUT {prefix}/datapacks/d-1/assets/a.bin HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer junk-token\r\n"
        "Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n"
    ).encode() + b"x" * 10)


def answer_in_time(attacker: Attacker, port: int, tls: ssl.SSLContext | None, seconds: float = 5) -> Attacker:
    """Run one attacker alone until the server closes its connection (at most `seconds`)."""
    attacker.run(port, tls, threading.Barrier(1), time.monotonic() + seconds)
    return attacker
