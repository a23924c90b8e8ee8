"""Settings, read in one place from ``PORTAL_``-prefixed environment variables (and ``.env``)."""
from __future__ import annotations

import os
from typing import Mapping

PREFIX = "PORTAL_"
MIB = 1024 * 1024


class ConfigError(RuntimeError):
    """The portal cannot start with these settings; the message says what to set."""


def _number(env: Mapping[str, str], name: str, default, kind=int):
    raw = env.get(PREFIX + name)
    if raw in (None, ""):
        return default
    try:
        return kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{PREFIX}{name} must be {what}, not {raw!r}") from None


def settings_from_env(env: Mapping[str, str]) -> dict:
    """Flask config keys from the environment; required secrets are checked by `require_secrets`."""
    return {
        "SECRET_KEY": env.get(PREFIX + "SECRET_KEY", ""),
        "REPOVIZZ2_URL": env.get(PREFIX + "REPOVIZZ2_URL", "http://127.0.0.1:8080").rstrip("/"),
        "CLIENT_ID": env.get(PREFIX + "CLIENT_ID", ""),
        "CLIENT_SECRET": env.get(PREFIX + "CLIENT_SECRET", ""),
        "SESSION_DIR": env.get(PREFIX + "SESSION_DIR", os.path.join("instance", "sessions")),
        "REDIS_URL": env.get(PREFIX + "REDIS_URL", ""),
        "DATATYPES_DIR": env.get(PREFIX + "DATATYPES_DIR", ""),
        "MAX_ASSET_MB": _number(env, "MAX_ASSET_MB", 4096),
        "MAX_FILES": _number(env, "MAX_FILES", 1000),
        "MAX_JSON_KB": _number(env, "MAX_JSON_KB", 1024),
        "MAX_FORM_MB": _number(env, "MAX_FORM_MB", 8192),
        "PARALLEL_UPLOADS": _number(env, "PARALLEL_UPLOADS", 4),
        "CONNECT_TIMEOUT": _number(env, "CONNECT_TIMEOUT", 5.0, float),
        "READ_TIMEOUT": _number(env, "READ_TIMEOUT", 120.0, float),
        "TOKEN_LEEWAY": _number(env, "TOKEN_LEEWAY", 60),
        "BEHIND_PROXY": env.get(PREFIX + "BEHIND_PROXY", "") not in ("", "0", "false", "no"),
        "SHOW_API_CALLS": env.get(PREFIX + "SHOW_API_CALLS", "") not in ("", "0", "false", "no"),
    }


def require_secrets(config: Mapping) -> None:
    """Refuse to run without the secrets a real deployment must set."""
    missing = [PREFIX + key for key in ("SECRET_KEY", "CLIENT_ID", "CLIENT_SECRET") if not config.get(key)]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: the portal will not start "
            "without them (see README, 'Configuration'; `make demo` sets them for the sandbox)"
        )
