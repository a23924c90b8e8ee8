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


def _positive(env: Mapping[str, str], name: str, default, kind=int):
    value = _number(env, name, default, kind)
    if value <= 0:
        raise ConfigError(f"{PREFIX}{name} must be more than 0, not {env.get(PREFIX + name)!r}")
    return value


TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    """A yes/no setting: true/false, yes/no, on/off or 1/0 in any case; anything else refuses to start
    (a typo must not turn a protection off, nor proxy trust on)."""
    raw = env.get(PREFIX + name)
    if raw is None or not raw.strip():
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{PREFIX}{name} must be one of true/false, yes/no, on/off, 1/0, not {raw!r}")


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
        "SESSION_HOURS": _positive(env, "SESSION_HOURS", 12.0, float),
        # Empty means "at REPOVIZZ2_URL" (see `with_derived_urls`): /oauth/revoke and /logout.
        "REVOKE_URL": env.get(PREFIX + "REVOKE_URL", "").rstrip("/"),
        "REPOVIZZ2_LOGOUT_URL": env.get(PREFIX + "REPOVIZZ2_LOGOUT_URL", ""),
        "MAX_ASSET_MB": _number(env, "MAX_ASSET_MB", 4096),
        "MAX_FILES": _number(env, "MAX_FILES", 1000),
        "MAX_JSON_KB": _number(env, "MAX_JSON_KB", 1024),
        "MAX_FORM_MB": _number(env, "MAX_FORM_MB", 8192),
        "PARALLEL_UPLOADS": _number(env, "PARALLEL_UPLOADS", 4),
        "HOME_PAGE_SIZE": _number(env, "HOME_PAGE_SIZE", 50),
        "HOME_FETCHES": _number(env, "HOME_FETCHES", 8),
        "CONNECT_TIMEOUT": _number(env, "CONNECT_TIMEOUT", 5.0, float),
        "READ_TIMEOUT": _number(env, "READ_TIMEOUT", 120.0, float),
        "BODY_READ_TIMEOUT": _number(env, "BODY_READ_TIMEOUT", 60.0, float),  # 0: none (see body_timeout.py)
        "TOKEN_LEEWAY": _number(env, "TOKEN_LEEWAY", 60),
        "BEHIND_PROXY": _flag(env, "BEHIND_PROXY", False),
        "SHOW_API_CALLS": _flag(env, "SHOW_API_CALLS", False),
    }


def with_derived_urls(config: Mapping) -> dict:
    """The repovizz2 URLs that default to a path at REPOVIZZ2_URL, filled in once that is final."""
    base = config["REPOVIZZ2_URL"].rstrip("/")
    return {
        "REVOKE_URL": config.get("REVOKE_URL") or f"{base}/oauth/revoke",
        "REPOVIZZ2_LOGOUT_URL": config.get("REPOVIZZ2_LOGOUT_URL") or f"{base}/logout",
    }


def require_secrets(config: Mapping) -> None:
    """Refuse to run without the secrets a real deployment must set."""
    missing = [PREFIX + key for key in ("SECRET_KEY", "CLIENT_ID", "CLIENT_SECRET") if not config.get(key)]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: the portal will not start "
            "without them (see docs/configuration.md; `make demo` sets them for the sandbox)"
        )
