"""A script's bearer token, checked with repovizz2 before anything else is done for its request.

Anyone can send ``Authorization: Bearer <anything>``: the token is checked with repovizz2 (who is
it?) before the request's document is looked at or its body read, so a token repovizz2 does not
accept gets its 401 at once. A good answer is remembered briefly, keyed by a hash of the token
(never the token itself), in a cache of bounded size: a script sending many files is checked once.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict

import requests
from flask import current_app

from .repovizz2_client import Repovizz2Client
from .tokens import _connect

# How long a token repovizz2 accepted is taken as good without asking again, and how many are kept.
ACCEPTED_SECONDS = 60.0
ACCEPTED_KEPT = 1024


class AcceptedTokens:
    """Tokens repovizz2 accepted lately, by their SHA-256, with who they are: at most `kept` of them,
    each for `seconds`; the least recently used goes first. Safe to share between threads."""

    def __init__(self, seconds: float = ACCEPTED_SECONDS, kept: int = ACCEPTED_KEPT, clock=time.monotonic):
        self.seconds, self.kept, self.clock = seconds, kept, clock
        self._users: OrderedDict[str, tuple[float, dict]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, token: str) -> dict | None:
        key = self.key(token)
        with self._lock:
            found = self._users.get(key)
            if found is None:
                return None
            if self.clock() >= found[0]:
                del self._users[key]
                return None
            self._users.move_to_end(key)
            return found[1]

    def add(self, token: str, user: dict) -> None:
        with self._lock:
            self._users[self.key(token)] = (self.clock() + self.seconds, user)
            self._users.move_to_end(self.key(token))
            while len(self._users) > self.kept:
                self._users.popitem(last=False)

    def __len__(self) -> int:
        return len(self._users)


def init_app(app) -> None:
    app.extensions["accepted_tokens"] = AcceptedTokens()


def script_user(token: str) -> dict:
    """Who the bearer token belongs to, as repovizz2 says (``{"id", "username", …}``); NotAuthorized
    when repovizz2 refuses it, another Repovizz2Error when it cannot say."""
    accepted: AcceptedTokens = current_app.extensions["accepted_tokens"]
    user = accepted.get(token)
    if user is None:
        config = current_app.config
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        _connect(http, current_app.extensions["repovizz2_adapter"], current_app.extensions["repovizz2_environment"])
        timeout = (config["CONNECT_TIMEOUT"], min(config["READ_TIMEOUT"], 10.0))
        with http:
            user = Repovizz2Client(http, config["REPOVIZZ2_URL"], timeout).user()
        accepted.add(token, user)
    return user
