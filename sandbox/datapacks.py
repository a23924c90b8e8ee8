"""Datapacks in the database: create, rename, replace the structure, list content, point a link at a file."""
from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import Iterator

from .db import transaction
from .storage import FileStore, ReceivedFile

UPLOADED_PREFIX = "repovizz:"


class NameTaken(Exception):
    def __init__(self, name: str, existing_id: str):
        super().__init__(f"Datapack {name} already exists with id ({existing_id})")


class LinkNotFound(Exception):
    pass


@dataclass
class Datapack:
    """`owner` is the owner's own key (users.id); the API shows the owner's public id instead."""

    id: str
    name: str
    owner: str
    structure: dict

    def as_json(self, owner_id: int | str) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "owner": owner_id,
            "folder": None,
            "structure": self.structure,
            "group_edit_permissions": [],
        }


def data_nodes(nodes) -> Iterator[dict]:
    """Every data node of a node array, containers walked depth first, in document order."""
    for node in nodes if isinstance(nodes, list) else []:
        if not isinstance(node, dict):
            continue
        if node.get("class") == "data":
            yield node
        elif node.get("class") == "container":
            yield from data_nodes(node.get("children"))


def node_mime(node: dict) -> str:
    meta = node.get("meta")
    return node.get("mime") or (meta.get("mime", "") if isinstance(meta, dict) else "") or ""


def content_listing(structure: dict) -> dict:
    """The documented content answer: each data node keyed by its current link (first node wins a tie)."""
    listing = {}
    for node in data_nodes(structure.get("children")):
        link = node.get("link")
        if isinstance(link, str) and link not in listing:
            listing[link] = {
                "class": "data",
                "link": link,
                "mime": node_mime(node),
                "name": node.get("name", ""),
                "text": node.get("text", ""),
            }
    return listing


def file_node(structure: dict, file_id: str) -> dict | None:
    link = UPLOADED_PREFIX + file_id
    return next((node for node in data_nodes(structure.get("children")) if node.get("link") == link), None)


def referenced_file_ids(structure: dict) -> set[str]:
    links = (node.get("link") for node in data_nodes(structure.get("children")))
    return {link[len(UPLOADED_PREFIX):] for link in links if isinstance(link, str) and link.startswith(UPLOADED_PREFIX)}


def _datapack_from(row) -> Datapack | None:
    if row is None:
        return None
    return Datapack(row["id"], row["name"], row["owner"], json.loads(row["structure"]))


def get_datapack(db: sqlite3.Connection, datapack_id: str) -> Datapack | None:
    return _datapack_from(db.execute("SELECT * FROM datapacks WHERE id = ?", (datapack_id,)).fetchone())


def datapack_ids_of(db: sqlite3.Connection, owner: str) -> list[str]:
    rows = db.execute("SELECT id FROM datapacks WHERE owner = ? ORDER BY created_at, id", (owner,))
    return [row["id"] for row in rows]


def _name_taken(db: sqlite3.Connection, owner: str, name: str) -> NameTaken:
    row = db.execute("SELECT id FROM datapacks WHERE owner = ? AND name = ?", (owner, name)).fetchone()
    return NameTaken(name, row["id"] if row else "?")


def create_datapack(db: sqlite3.Connection, name: str, owner: str, structure: dict) -> Datapack:
    datapack = Datapack(str(uuid.uuid4()), name, owner, structure)
    try:
        db.execute(
            "INSERT INTO datapacks (id, name, owner, structure, created_at) VALUES (?, ?, ?, ?, ?)",
            (datapack.id, name, owner, json.dumps(structure), time.time()),
        )
    except sqlite3.IntegrityError:
        raise _name_taken(db, owner, name) from None
    return datapack


def update_datapack(db: sqlite3.Connection, store: FileStore, datapack_id: str, name: str | None = None,
                    structure: dict | None = None) -> None:
    """Rename and/or replace the structure; files the new structure no longer uses are forgotten (and their
    bytes deleted when no other datapack still has them)."""
    with transaction(db):
        datapack = get_datapack(db, datapack_id)
        if name is not None and name != datapack.name:
            try:
                db.execute("UPDATE datapacks SET name = ? WHERE id = ?", (name, datapack_id))
            except sqlite3.IntegrityError:
                raise _name_taken(db, datapack.owner, name) from None
        if structure is None:
            return
        db.execute("UPDATE datapacks SET structure = ? WHERE id = ?", (json.dumps(structure), datapack_id))
        _forget_unreferenced_files(db, store, datapack_id, referenced_file_ids(structure))


def _forget_unreferenced_files(db: sqlite3.Connection, store: FileStore, datapack_id: str, keep: set[str]) -> None:
    """Drop the datapack's records of files its structure no longer points at, then delete the bytes of
    those no record points at any more. Runs inside the caller's transaction: with content-derived ids an
    upload elsewhere may be storing the same bytes, and the write lock keeps the two in order."""
    rows = db.execute("SELECT file_id FROM file_records WHERE datapack_id = ?", (datapack_id,)).fetchall()
    dropped = [row["file_id"] for row in rows if row["file_id"] not in keep]
    db.executemany("DELETE FROM file_records WHERE datapack_id = ? AND file_id = ?",
                   [(datapack_id, file_id) for file_id in dropped])
    _delete_unreferenced_bytes(db, store, dropped)


def _delete_unreferenced_bytes(db: sqlite3.Connection, store: FileStore, file_ids) -> None:
    for file_id in file_ids:
        if db.execute("SELECT 1 FROM file_records WHERE file_id = ? LIMIT 1", (file_id,)).fetchone() is None:
            store.delete(file_id)


def delete_bytes_if_unreferenced(db: sqlite3.Connection, store: FileStore, file_id: str) -> None:
    """After a failed attach: remove the bytes it stored, unless a datapack has them."""
    with transaction(db):
        _delete_unreferenced_bytes(db, store, [file_id])


def attach_file(db: sqlite3.Connection, store: FileStore, datapack_id: str, link: str, file_id: str,
                received: ReceivedFile) -> None:
    """Store the received bytes as `file_id` and point the first data node whose link is `link` at them.

    The file this superseded is forgotten, its bytes deleted unless another node (of any datapack that
    received them) still points at them. Raises LinkNotFound, storing nothing, when no data node has that
    link (any more).
    """
    with transaction(db):
        datapack = get_datapack(db, datapack_id)
        if datapack is None:
            raise LinkNotFound(link)
        node = next((node for node in data_nodes(datapack.structure.get("children")) if node.get("link") == link),
                    None)
        if node is None:
            raise LinkNotFound(link)
        store.store(received, file_id)
        node["link"] = UPLOADED_PREFIX + file_id
        uploaded_as = _original_name(db, datapack_id, link)
        db.execute("UPDATE datapacks SET structure = ? WHERE id = ?", (json.dumps(datapack.structure), datapack_id))
        db.execute(
            "INSERT OR IGNORE INTO file_records (datapack_id, file_id, uploaded_as, size, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (datapack_id, file_id, uploaded_as, received.size, time.time()),
        )
        _forget_unreferenced_files(db, store, datapack_id, referenced_file_ids(datapack.structure))


def _original_name(db: sqlite3.Connection, datapack_id: str, link: str) -> str:
    """The link a file was first uploaded under, kept across replacements (for Content-Type and file name)."""
    if link.startswith(UPLOADED_PREFIX):
        replaced = file_record(db, datapack_id, link[len(UPLOADED_PREFIX):])
        if replaced is not None:
            return replaced["uploaded_as"]
    return link


def file_record(db: sqlite3.Connection, datapack_id: str, file_id: str):
    """The datapack's record of a file it received (`uploaded_as`, `size`), or None."""
    return db.execute("SELECT * FROM file_records WHERE datapack_id = ? AND file_id = ?",
                      (datapack_id, file_id)).fetchone()


def has_link(structure: dict, link: str) -> bool:
    return any(node.get("link") == link for node in data_nodes(structure.get("children")))
