"""SQLite storage: one connection per request (or per CLI command), WAL mode, schema created on first use."""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from typing import Iterator

from flask import current_app, g

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    number INTEGER,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS clients (
    client_id TEXT PRIMARY KEY,
    client_secret TEXT NOT NULL,
    name TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS authorization_codes (
    code TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT,
    scope TEXT NOT NULL,
    code_challenge TEXT,
    code_challenge_method TEXT,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    access_token TEXT PRIMARY KEY,
    refresh_token TEXT UNIQUE,
    client_id TEXT,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    issued_at REAL NOT NULL,
    expires_in INTEGER NOT NULL,
    refresh_revoked INTEGER NOT NULL DEFAULT 0,
    revoked INTEGER NOT NULL DEFAULT 0,
    grant_id TEXT
);
CREATE TABLE IF NOT EXISTS datapacks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    owner TEXT NOT NULL,
    structure TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (owner, name)
);
CREATE TABLE IF NOT EXISTS file_records (
    datapack_id TEXT NOT NULL,
    file_id TEXT NOT NULL,
    uploaded_as TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (datapack_id, file_id)
);
CREATE INDEX IF NOT EXISTS file_records_by_file ON file_records (file_id);
"""

# Data dirs made by earlier versions of the sandbox: columns added since, and the old `files` table (one
# datapack per file id) folded into `file_records` (one row per datapack that received the file).
MIGRATIONS = [
    ("users", "number", "ALTER TABLE users ADD COLUMN number INTEGER"),
    ("tokens", "revoked", "ALTER TABLE tokens ADD COLUMN revoked INTEGER NOT NULL DEFAULT 0"),
    ("tokens", "grant_id", "ALTER TABLE tokens ADD COLUMN grant_id TEXT"),
]


def connect(path: str) -> sqlite3.Connection:
    """A connection in autocommit mode: writes that must be atomic use `transaction()`."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def init_db(path: str) -> None:
    connection = connect(path)
    try:
        connection.executescript(SCHEMA)
        with transaction(connection):
            _migrate(connection)
    finally:
        connection.close()


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row["name"] for row in connection.execute(f"PRAGMA table_info({table})")}


def _migrate(connection: sqlite3.Connection) -> None:
    for table, column, statement in MIGRATIONS:
        if column not in _columns(connection, table):
            connection.execute(statement)
    connection.execute("UPDATE users SET number = rowid WHERE number IS NULL")
    connection.execute("CREATE UNIQUE INDEX IF NOT EXISTS users_by_number ON users (number)")
    if connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'files'").fetchone():
        connection.execute("INSERT OR IGNORE INTO file_records (datapack_id, file_id, uploaded_as, size, created_at)"
                           " SELECT datapack_id, id, uploaded_as, size, created_at FROM files")
        connection.execute("DROP TABLE files")


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE takes the write lock up front, so read-modify-write cycles cannot interleave."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def get_db() -> sqlite3.Connection:
    """The current request's connection, opened on first use and closed at teardown."""
    if "sandbox_db" not in g:
        g.sandbox_db = connect(current_app.config["DATABASE"])
    return g.sandbox_db


def close_db(_exception: BaseException | None = None) -> None:
    connection = g.pop("sandbox_db", None)
    if connection is not None:
        connection.close()
