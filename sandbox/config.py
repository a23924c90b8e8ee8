"""Where the sandbox keeps its data and how long its tokens live, from the environment or the command line."""
from __future__ import annotations

import os
import re
import secrets
from typing import Iterable, Mapping

DEFAULT_DATA_DIR = os.path.join("instance", "sandbox")
DEFAULT_TOKEN_EXPIRES_IN = 3600

# The real server's variants: setting → its allowed values, the first being the default.
VARIANTS = {
    "IDS": ("integer", "uuid"),  # user and owner ids: 2, as the public notebooks show, or UUID strings
    "UPLOAD_ANSWER": ("id", "result-ok"),  # an upload answers {"id": "<40 hex>"} or only {"result": "OK"}
    "FILE_IDS": ("random", "content"),  # fresh random file ids, or ids derived from the bytes
    "UNAUTHORIZED": ("documented", "rfc6750"),  # the documented 401 body, or RFC 6750's error shape
}
DEFAULTS = {name: values[0] for name, values in VARIANTS.items()}
_ORIGIN = re.compile(r"^https?://(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$")


def default_data_dir(environ: Mapping[str, str] = os.environ) -> str:
    return environ.get("SANDBOX_DATA_DIR") or DEFAULT_DATA_DIR


def settings_from_env(environ: Mapping[str, str] = os.environ) -> dict:
    """The settings from `SANDBOX_*` variables, defaults for the ones not set. Raises ValueError for a bad value."""
    settings = {
        "DATA_DIR": default_data_dir(environ),
        "TOKEN_EXPIRES_IN": int(environ.get("SANDBOX_TOKEN_EXPIRES_IN") or DEFAULT_TOKEN_EXPIRES_IN),
        "LATENCY_MS": int(environ.get("SANDBOX_LATENCY_MS") or 0),
        "ALLOW_FRAMING_FROM": parse_origins([environ.get("SANDBOX_ALLOW_FRAMING_FROM") or ""]),
        "LOGIN_HINT": check_login_hint(environ.get("SANDBOX_LOGIN_HINT") or ""),
    }
    for name in VARIANTS:
        settings[name] = check_variant(name, environ.get(f"SANDBOX_{name}") or DEFAULTS[name])
    return settings


def check_variant(name: str, value: str) -> str:
    """`value` if it is one of the variant's allowed values, else ValueError naming them."""
    if value not in VARIANTS[name]:
        allowed = " or ".join(VARIANTS[name])
        raise ValueError(f"{name.lower().replace('_', '-')} must be {allowed}, not {value!r}")
    return value


MAX_LOGIN_HINT = 200


def check_login_hint(hint: str) -> str:
    """The login page's hint (a demo's own login, e.g. "demo / demo"): one line of printable text, at
    most MAX_LOGIN_HINT characters, else ValueError. Empty: the page shows none, as the real server."""
    hint = " ".join(hint.split())
    if len(hint) > MAX_LOGIN_HINT or any(not char.isprintable() for char in hint):
        raise ValueError(f"login-hint must be one line of at most {MAX_LOGIN_HINT} printable characters")
    return hint


def parse_origins(values: Iterable[str]) -> list[str]:
    """Origins (`scheme://host[:port]`, lowercased, without a trailing slash) from values that may each be a
    comma-separated list. Raises ValueError for anything that is not an http(s) origin."""
    origins: list[str] = []
    for value in values:
        for item in value.split(","):
            origin = item.strip().lower().removesuffix("/")
            if not origin:
                continue
            if not _ORIGIN.match(origin):
                raise ValueError(f"{item.strip()!r} is not an origin like http://localhost:8888 (scheme, host, port)")
            if origin not in origins:
                origins.append(origin)
    return origins


def check_settings(settings: dict) -> None:
    """Refuse unknown variant values, bad framing origins and an unusable login hint (ValueError), so a typo cannot start a server."""
    for name in VARIANTS:
        check_variant(name, settings[name])
    settings["ALLOW_FRAMING_FROM"] = parse_origins(settings.get("ALLOW_FRAMING_FROM") or [])
    settings["LOGIN_HINT"] = check_login_hint(settings.get("LOGIN_HINT") or "")


def prepare_data_dir(data_dir: str) -> str:
    """Create the data dir (absolute path returned) with its files/ and tmp/ folders."""
    data_dir = os.path.abspath(data_dir)
    for folder in (data_dir, os.path.join(data_dir, "files"), os.path.join(data_dir, "tmp")):
        os.makedirs(folder, exist_ok=True)
    return data_dir


def database_path(data_dir: str) -> str:
    return os.path.join(data_dir, "sandbox.db")


def load_secret_key(data_dir: str, name: str = "secret_key") -> str:
    """A secret kept in the data dir under `name`, generated on first use (mode 0600), so restarts keep it:
    the login-session key (`secret_key`) and the salt of content-derived file ids (`file_id_salt`)."""
    path = os.path.join(data_dir, name)
    try:
        with open(path, encoding="ascii") as key_file:
            key = key_file.read().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as key_file:
        key_file.write(key)
    return key
