"""Where the sandbox keeps its data and how long its tokens live, from the environment or the command line."""
from __future__ import annotations

import os
import secrets
from typing import Mapping

DEFAULT_DATA_DIR = os.path.join("instance", "sandbox")
DEFAULT_TOKEN_EXPIRES_IN = 3600


def default_data_dir(environ: Mapping[str, str] = os.environ) -> str:
    return environ.get("SANDBOX_DATA_DIR") or DEFAULT_DATA_DIR


def settings_from_env(environ: Mapping[str, str] = os.environ) -> dict:
    return {
        "DATA_DIR": default_data_dir(environ),
        "TOKEN_EXPIRES_IN": int(environ.get("SANDBOX_TOKEN_EXPIRES_IN") or DEFAULT_TOKEN_EXPIRES_IN),
        "LATENCY_MS": int(environ.get("SANDBOX_LATENCY_MS") or 0),
    }


def prepare_data_dir(data_dir: str) -> str:
    """Create the data dir (absolute path returned) with its files/ and tmp/ folders."""
    data_dir = os.path.abspath(data_dir)
    for folder in (data_dir, os.path.join(data_dir, "files"), os.path.join(data_dir, "tmp")):
        os.makedirs(folder, exist_ok=True)
    return data_dir


def database_path(data_dir: str) -> str:
    return os.path.join(data_dir, "sandbox.db")


def load_secret_key(data_dir: str) -> str:
    """The login-session key: generated on first start and kept in the data dir, so restarts keep sessions."""
    path = os.path.join(data_dir, "secret_key")
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
