"""Users, OAuth2 clients, authorization codes and tokens, as Authlib expects them."""
from __future__ import annotations

import json
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin
from werkzeug.security import check_password_hash, generate_password_hash

SCOPE = "basic"
AUTHORIZATION_CODE_LIFETIME = 600
TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class UserExists(ValueError):
    pass


@dataclass
class User:
    """`id` is the sandbox's own key (a UUID string, what tokens and datapacks refer to); `number` is the
    integer the API shows instead when the sandbox runs with `--ids integer`."""

    id: str
    number: int
    username: str
    email: str
    password_hash: str

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def public_id(self, ids: str) -> int | str:
        """The user id as the API shows it: the integer (`ids="integer"`) or the UUID string (`"uuid"`)."""
        return self.number if ids == "integer" else self.id


def create_user(db: sqlite3.Connection, username: str, password: str, email: str = "",
                password_method: str = "scrypt") -> User:
    """A new user, numbered 1, 2, 3… in the order they were added (one statement: no two get one number).

    `password_method` is werkzeug's hashing method; the stored hash names it, so checking needs nothing else."""
    user_id = str(uuid.uuid4())
    try:
        db.execute(
            "INSERT INTO users (id, number, username, email, password_hash, created_at)"
            " SELECT ?, COALESCE(MAX(number), 0) + 1, ?, ?, ?, ? FROM users",
            (user_id, username, email, generate_password_hash(password, password_method), time.time()),
        )
    except sqlite3.IntegrityError:
        raise UserExists(f"user {username!r} already exists") from None
    return user_by_id(db, user_id)


def _user_from(row) -> User | None:
    return User(row["id"], row["number"], row["username"], row["email"], row["password_hash"]) if row else None


def user_by_id(db: sqlite3.Connection, user_id: str) -> User | None:
    return _user_from(db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone())


def user_by_name(db: sqlite3.Connection, username: str) -> User | None:
    return _user_from(db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone())


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    name: str
    redirect_uris: list[str]

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        """Only a client with a single registered redirect URI may leave it out of the request."""
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope):
        requested = (scope or SCOPE).split()
        return SCOPE if SCOPE in requested else None

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(self.client_secret.encode(), (client_secret or "").encode())

    def check_endpoint_auth_method(self, method, endpoint):
        return endpoint not in ("token", "revocation") or method in TOKEN_ENDPOINT_AUTH_METHODS

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in ("authorization_code", "refresh_token")


def create_client(db: sqlite3.Connection, name: str, redirect_uris: list[str]) -> Client:
    client = Client(str(uuid.uuid4()), str(uuid.uuid4()), name, list(redirect_uris))
    db.execute(
        "INSERT INTO clients (client_id, client_secret, name, redirect_uris, created_at) VALUES (?, ?, ?, ?, ?)",
        (client.client_id, client.client_secret, client.name, json.dumps(client.redirect_uris), time.time()),
    )
    return client


def client_by_id(db: sqlite3.Connection, client_id: str) -> Client | None:
    row = db.execute("SELECT * FROM clients WHERE client_id = ?", (client_id,)).fetchone()
    if row is None:
        return None
    return Client(row["client_id"], row["client_secret"], row["name"], json.loads(row["redirect_uris"]))


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    user_id: str
    redirect_uri: str | None
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope


def save_authorization_code(db: sqlite3.Connection, code: AuthorizationCode) -> None:
    db.execute(
        "INSERT INTO authorization_codes (code, client_id, user_id, redirect_uri, scope, code_challenge,"
        " code_challenge_method, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            code.code,
            code.client_id,
            code.user_id,
            code.redirect_uri,
            code.scope,
            code.code_challenge,
            code.code_challenge_method,
            time.time() + AUTHORIZATION_CODE_LIFETIME,
        ),
    )


def claim_authorization_code(db: sqlite3.Connection, code: str, client_id: str) -> AuthorizationCode | None:
    """Take a code out of the store in one statement, so it can be exchanged at most once."""
    row = db.execute(
        "DELETE FROM authorization_codes WHERE code = ? AND client_id = ? RETURNING *", (code, client_id)
    ).fetchone()
    if row is None or row["expires_at"] < time.time():
        return None
    return AuthorizationCode(
        row["code"],
        row["client_id"],
        row["user_id"],
        row["redirect_uri"],
        row["scope"],
        row["code_challenge"],
        row["code_challenge_method"],
    )


@dataclass
class Token(TokenMixin):
    access_token: str
    refresh_token: str | None
    client_id: str | None
    user_id: str
    scope: str
    issued_at: float
    expires_in: int
    refresh_revoked: bool = False
    revoked: bool = False
    grant_id: str | None = None  # shared by the tokens of one authorization, through every refresh

    def check_client(self, client):
        return self.client_id == client.get_client_id()

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in

    def is_expired(self):
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self):
        return self.revoked


def save_token(db: sqlite3.Connection, token: dict, client_id: str | None, user_id: str,
               grant_id: str | None = None) -> None:
    """Store a token response (the dict Authlib generates) issued to `client_id` for `user_id`; a refreshed
    token passes on the `grant_id` of the token it was refreshed from."""
    db.execute(
        "INSERT INTO tokens (access_token, refresh_token, client_id, user_id, scope, issued_at, expires_in,"
        " grant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            token["access_token"],
            token.get("refresh_token"),
            client_id,
            user_id,
            token.get("scope") or SCOPE,
            time.time(),
            int(token["expires_in"]),
            grant_id or str(uuid.uuid4()),
        ),
    )


def issue_token(db: sqlite3.Connection, user_id: str, expires_in: int) -> str:
    """An access token with no client and no refresh token, for scripts and tests."""
    access_token = secrets.token_urlsafe(32)
    save_token(db, {"access_token": access_token, "expires_in": expires_in, "scope": SCOPE}, None, user_id)
    return access_token


def _token_from(row) -> Token | None:
    if row is None:
        return None
    return Token(
        row["access_token"],
        row["refresh_token"],
        row["client_id"],
        row["user_id"],
        row["scope"],
        row["issued_at"],
        row["expires_in"],
        bool(row["refresh_revoked"]),
        bool(row["revoked"]),
        row["grant_id"],
    )


def token_by_access_token(db: sqlite3.Connection, access_token: str) -> Token | None:
    return _token_from(db.execute("SELECT * FROM tokens WHERE access_token = ?", (access_token,)).fetchone())


def claim_refresh_token(db: sqlite3.Connection, refresh_token: str) -> Token | None:
    """Mark a refresh token used and return its token, in one statement: each one works once."""
    row = db.execute(
        "UPDATE tokens SET refresh_revoked = 1 WHERE refresh_token = ? AND refresh_revoked = 0 AND revoked = 0"
        " RETURNING *",
        (refresh_token,),
    ).fetchone()
    return _token_from(row)


def token_by_refresh_token(db: sqlite3.Connection, refresh_token: str) -> Token | None:
    return _token_from(db.execute("SELECT * FROM tokens WHERE refresh_token = ?", (refresh_token,)).fetchone())


def revoke_grant(db: sqlite3.Connection, token: Token) -> None:
    """Revoke `token` and every token of the same authorization (earlier ones of its refresh chain, and any
    refreshed from it): access tokens are refused from now on, refresh tokens no longer work."""
    if token.grant_id:
        db.execute("UPDATE tokens SET revoked = 1, refresh_revoked = 1 WHERE grant_id = ?", (token.grant_id,))
    else:
        db.execute("UPDATE tokens SET revoked = 1, refresh_revoked = 1 WHERE access_token = ?", (token.access_token,))
